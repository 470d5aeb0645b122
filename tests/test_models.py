"""Backbone registry: shapes, grey-input adaptation, offline pretrained weights."""

from __future__ import annotations

import pickle

import pytest
import torch

from fairmedia.errors import UserError
from fairmedia.models.pretrained import adapt_first_conv
from fairmedia.models.registry import available_archs, build_model


@pytest.mark.parametrize("arch", ["cnn-small", "resnet18", "densenet121"])
def test_one_logit_per_image(arch):
    model = build_model(arch, 1).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2,)
    assert model.features(torch.zeros(2, 1, 32, 32)).shape == (2, model.feature_dim)


def test_imagenet_without_weights_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(UserError, match=r"never downloaded.*hub/checkpoints/resnet18-.*\.pth"):
        build_model("resnet18", 3, pretrained="imagenet")


def test_imagenet_weights_load_from_the_hub_cache(tmp_path, monkeypatch):
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    ref = torchvision.models.resnet18(weights=None)
    url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(ref.state_dict(), tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[-1])
    model = build_model("resnet18", 3, pretrained="imagenet")
    assert torch.equal(model.encoder.layer1[0].conv1.weight, ref.layer1[0].conv1.weight)


def test_pickled_object_weights_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        pickle.dump({"x": object()}, fh)
    with pytest.raises(UserError, match="not a plain weights file"):
        build_model("resnet18", 3, pretrained=str(path))


def test_grey_conv_keeps_the_response_to_grey_images():
    conv = torch.nn.Conv2d(3, 4, 3)
    grey = adapt_first_conv(conv, 1)
    x = torch.rand(1, 1, 8, 8)
    assert torch.allclose(grey(x), conv(x.repeat(1, 3, 1, 1)), atol=1e-5)


def test_unknown_arch_lists_valid_names():
    with pytest.raises(UserError, match=r"unknown architecture 'vgg'; valid: .*cnn-small"):
        build_model("vgg", 1)
    assert "resnet18" in available_archs()
