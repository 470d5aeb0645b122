"""Pretrained weights load strictly (issue 12, defect 5): a file whose keys or shapes do not match
the backbone is an error naming the file and keys, never a run that silently starts from random
weights; a DataParallel ``module.`` prefix is stripped, and said."""

from __future__ import annotations

import logging

import pytest
import torch
from torchvision import models as tvm

from fairmedia.cli import main
from fairmedia.errors import UserError
from fairmedia.models.registry import build_model


def _resnet18_state(seed: int = 0) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    return tvm.resnet18(weights=None).state_dict()


def test_module_prefixed_resnet18_loads_every_weight(tmp_path, caplog):
    state = _resnet18_state(seed=3)
    path = tmp_path / "ddp.pt"
    torch.save({f"module.{k}": v for k, v in state.items()}, path)
    torch.manual_seed(99)  # the network built below starts from other random weights
    with caplog.at_level(logging.WARNING):
        model = build_model("resnet18", 3, pretrained=str(path))
    loaded = model.encoder.state_dict()
    compared = [k for k in state if not k.startswith("fc.")]
    assert compared and all(torch.equal(loaded[k], state[k]) for k in compared)
    assert "stripped the wrapper prefix 'module.'" in caplog.text and "ddp.pt" in caplog.text


def test_grey_model_adapts_the_loaded_first_conv(tmp_path):
    state = _resnet18_state(seed=4)
    path = tmp_path / "w.pt"
    torch.save(state, path)
    model = build_model("resnet18", 1, pretrained=str(path))
    expected = state["conv1.weight"].mean(dim=1, keepdim=True) * 3
    assert torch.allclose(model.encoder.conv1.weight, expected)


def test_file_with_foreign_keys_is_an_error_naming_the_keys(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"encoder.stem.weight": torch.zeros(3), "head.bias": torch.zeros(1)}, path)
    with pytest.raises(UserError) as info:
        build_model("resnet18", 3, pretrained=str(path))
    message = str(info.value)
    assert str(path) in message and "does not hold resnet18 weights" in message
    assert "'conv1.weight'" in message and "missing" in message  # what the backbone needed
    assert "'encoder.stem.weight'" in message and "'head.bias'" in message  # what it got


def test_partially_matching_file_is_an_error(tmp_path):
    """Half a backbone is no more acceptable than none: the rest would stay random."""
    state = {k: v for k, v in _resnet18_state().items() if not k.startswith("layer4.")}
    path = tmp_path / "half.pt"
    torch.save(state, path)
    with pytest.raises(UserError, match=r"half\.pt: does not hold resnet18 weights: \d+ of the "
                                        r"\d+ entries resnet18 needs are missing \('layer4\."):
        build_model("resnet18", 3, pretrained=str(path))


def test_wrong_shape_is_an_error_naming_key_and_shapes(tmp_path):
    state = _resnet18_state()
    state["layer1.0.conv1.weight"] = torch.zeros(32, 64, 3, 3)
    path = tmp_path / "shape.pt"
    torch.save(state, path)
    with pytest.raises(UserError) as info:
        build_model("resnet18", 3, pretrained=str(path))
    message = str(info.value)
    assert str(path) in message and "'layer1.0.conv1.weight' is [32, 64, 3, 3] in the file but " \
        "[64, 64, 3, 3] in resnet18" in message


def test_densenet_release_layout_keys_are_renamed(tmp_path):
    """torchvision's DenseNet-121 release file names layers 'norm.1' where the model says
    'norm1'; strict loading must map them rather than refuse (or, before, silently skip) them."""
    torch.manual_seed(5)
    state = tvm.densenet121(weights=None).state_dict()
    old = {}
    for key, value in state.items():
        for part in ("norm", "relu", "conv"):
            for i in ("1", "2"):
                key = key.replace(f".{part}{i}.", f".{part}.{i}.") if ".denselayer" in key else key
        old[key] = value
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    path = tmp_path / "densenet121-release.pth"
    torch.save(old, path)
    model = build_model("densenet121", 3, pretrained=str(path))
    key = "features.denseblock1.denselayer1.conv1.weight"
    assert torch.equal(model.encoder.state_dict()[key], state[key])


def test_train_with_foreign_weights_exits_2_before_training(tmp_path, tiny_prepared, capsys):
    path = tmp_path / "foreign.pt"
    torch.save({"foo.weight": torch.zeros(2)}, path)
    out = tmp_path / "run"
    code = main(["train", "--prepared", str(tiny_prepared), "--out", str(out), "--arch",
                 "resnet18", "--pretrained", str(path), "--epochs", "1",
                 "--max-steps-per-epoch", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "does not hold resnet18 weights" in err and "'foo.weight'" in err
    assert not (out / "checkpoint.pt").exists()


def test_3d_file_missing_layers_is_an_error(tmp_path):
    """The 3D loader used to accept any file that matched at least one key."""
    torch.manual_seed(6)
    source = build_model("resnet18-3d", 1, spatial_dims=3)
    state = {k: v for k, v in source.encoder.state_dict().items() if not k.startswith("layer4.")}
    path = tmp_path / "medicalnet-half.pt"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    with pytest.raises(UserError, match=r"medicalnet-half\.pt: does not hold resnet18-3d weights: "
                                        r"\d+ of the \d+ entries resnet18-3d needs are missing "
                                        r"\('layer4\."):
        build_model("resnet18-3d", 1, spatial_dims=3, pretrained=str(path))
