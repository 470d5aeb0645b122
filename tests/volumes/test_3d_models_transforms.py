"""3D backbones (forward shapes, weights, dimensionality errors), augmentation determinism and the
prepare-time intensity scaling against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fairmedia.data.transforms import intensity, train_transform
from fairmedia.errors import UserError
from fairmedia.models.registry import available_archs, build_model


@pytest.mark.parametrize("arch, side, dim", [("cnn-small-3d", 9, 32), ("resnet18-3d", 16, 512),
                                             ("densenet121-3d", 32, 1024)])
def test_3d_backbones_give_one_logit_per_volume(arch, side, dim):
    torch.manual_seed(0)
    model = build_model(arch, 2, spatial_dims=3).eval()
    x = torch.randn(2, 2, side, side + 1, side)
    with torch.no_grad():
        assert model.features(x).shape == (2, dim)
        assert model(x).shape == (2,)


def test_densenet_refuses_volumes_too_small_to_pool():
    model = build_model("densenet121-3d", 1, spatial_dims=3)
    with pytest.raises(UserError, match="at least 32 voxels per side"):
        model(torch.zeros(1, 1, 16, 32, 32))


def test_arch_data_dimensionality_mismatch_names_fitting_archs():
    with pytest.raises(UserError, match=r"takes 2D inputs but the data are 3D.*cnn-small-3d"):
        build_model("resnet18", 1, spatial_dims=3)
    with pytest.raises(UserError, match=r"takes 3D inputs but the data are 2D"):
        build_model("resnet18-3d", 1, spatial_dims=2)
    assert {n for n, s in available_archs().items() if s.spatial_dims == 3} >= {
        "resnet18-3d", "densenet121-3d", "cnn-small-3d"}


def test_pretrained_weights_never_downloaded(tmp_path):
    with pytest.raises(UserError, match="no ImageNet weights"):
        build_model("resnet18-3d", 1, spatial_dims=3, pretrained="imagenet")
    with pytest.raises(UserError, match="does not exist"):
        build_model("densenet121-3d", 1, spatial_dims=3, pretrained=str(tmp_path / "none.pt"))
    foreign = tmp_path / "foreign.pt"
    torch.save({"not.a.layer": torch.zeros(3)}, foreign)
    with pytest.raises(UserError, match="does not hold resnet18-3d weights"):
        build_model("resnet18-3d", 1, spatial_dims=3, pretrained=str(foreign))
    with pytest.raises(UserError, match="no pretrained weights"):
        build_model("cnn-small-3d", 1, spatial_dims=3, pretrained="imagenet")


def test_local_weights_load_into_resnet18_3d(tmp_path):
    torch.manual_seed(1)
    source = build_model("resnet18-3d", 1, spatial_dims=3)
    # A MedicalNet-style checkpoint: DataParallel "module." prefix, a classifier to be dropped.
    state = {f"module.{k}": v for k, v in source.encoder.state_dict().items()}
    state["module.fc.weight"] = torch.zeros(2, 512)
    torch.save({"state_dict": state}, tmp_path / "w.pt")
    torch.manual_seed(2)
    loaded = build_model("resnet18-3d", 1, spatial_dims=3, pretrained=str(tmp_path / "w.pt"))
    assert torch.equal(loaded.encoder.conv1.weight, source.encoder.conv1.weight)


def _augment_twice(seed: int, shape=(1, 12, 14, 16)) -> tuple[torch.Tensor, torch.Tensor]:
    transform = train_transform(3, shape)
    x = torch.arange(int(np.prod(shape)), dtype=torch.float32).reshape(shape) / 1000
    torch.manual_seed(seed)
    return transform(x), transform(x)


def test_augmentation_is_a_function_of_torchs_rng():
    a1, a2 = _augment_twice(0)
    b1, b2 = _augment_twice(0)
    c1, _ = _augment_twice(1)
    assert a1.shape == (1, 12, 14, 16) and type(a1) is torch.Tensor  # plain tensor, not MetaTensor
    assert torch.equal(a1, b1) and torch.equal(a2, b2)  # same torch seed → same augmentation
    assert not torch.equal(a1, a2) and not torch.equal(a1, c1)  # fresh draws per call and per seed


def test_augmentation_keeps_2d_shape_and_flips_left_right_only():
    transform = train_transform(2, (1, 8, 10))
    x = torch.zeros(1, 8, 10)
    x[0, :, :3] = 1.0  # a bright band on one side only
    torch.manual_seed(0)
    outs = [transform(x) for _ in range(40)]
    assert all(o.shape == (1, 8, 10) for o in outs)
    left = [float(o[0, :, :3].mean()) > float(o[0, :, -3:].mean()) for o in outs]
    assert 5 < sum(left) < 35  # sometimes mirrored, sometimes not
    with pytest.raises(UserError, match="C×H×W or C×D×H×W"):
        train_transform(3, (1, 8, 10))


def test_intensity_matches_hand_computed_scaling():
    v = np.array([[[-2000.0, -1000.0], [-300.0, 0.0]], [[400.0, 1200.0], [50.0, -650.0]]])
    window = intensity(v, {"mode": "window", "min": -1000, "max": 400})
    expected = np.rint(np.clip((v + 1000) / 1400, 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(window, expected)
    rng = np.random.default_rng(0)
    w = rng.gamma(2.0, 50.0, size=(10, 10, 10))
    lo, hi = np.percentile(w, [1, 99])
    np.testing.assert_array_equal(
        intensity(w, {"mode": "percentile", "lower": 1, "upper": 99}),
        np.rint(np.clip((w - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8))
    assert intensity(np.full((3, 3, 3), 7.0)).max() == 0  # no range: black, no division by zero
    with pytest.raises(UserError, match="intensity mode 'zscore'"):
        intensity(w, {"mode": "zscore"})
