"""The synthetic generator's 3D mode (knobs act as in 2D) and end-to-end training of two methods
on it through the training loop, plus the loop's refusal of methods that cannot run on 3D."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.data.synthetic import generate, spec_from_preset, write_synthetic
from fairmedia.errors import UserError
from fairmedia.methods import registry as methods_registry
from fairmedia.methods.erm import ERM
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run


def _lesion_signal(volumes: np.ndarray, meta: pd.DataFrame, sex: str) -> float:
    """Mean over the body of (positive − negative) mean volumes: the lesion's signed signal."""
    sel = (meta["sex"] == sex).to_numpy()
    pos = volumes[sel & (meta["y_clean"] == 1).to_numpy(), 0].astype(float).mean(0)
    neg = volumes[sel & (meta["y_clean"] == 0).to_numpy(), 0].astype(float).mean(0)
    return float((pos - neg).sum())


def test_synthetic_3d_is_deterministic_and_knobs_act_per_group():
    spec = spec_from_preset("none", dims=3, size=16, n=200, presentation_shift=1.0, visibility=1.0,
                            shortcut=(0.0, 0.9), noise=0.02)
    meta, vols = generate(spec)
    _, again = generate(spec)
    assert vols.shape == (200, 1, 16, 16, 16) and vols.dtype == np.uint8
    np.testing.assert_array_equal(vols, again)
    # presentation_shift=1: M lesions are bright, F lesions dark.
    assert _lesion_signal(vols, meta, "M") > 0 > _lesion_signal(vols, meta, "F")
    # visibility: F bodies are wider (more voxels above the background).
    body = (vols[:, 0] > 60).sum(axis=(1, 2, 3))
    assert body[(meta["sex"] == "F").to_numpy()].mean() > body[(meta["sex"] == "M").to_numpy()].mean()
    # the shortcut marker is a saturated corner cube exactly where marker == 1
    corner = vols[:, 0, 0, 1, 1]
    np.testing.assert_array_equal(corner == 255, meta["marker"].to_numpy() == 1)


@pytest.fixture(scope="module")
def synthetic_3d(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth3d")
    write_synthetic(out, "mixed", dims=3, size=16, n=120, seed=0)
    return out


@pytest.mark.parametrize("method, attribute, augment", [("erm", "any", True),
                                                         ("resample", "sex", False)])
def test_two_methods_train_end_to_end_on_3d(synthetic_3d, tmp_path, method, attribute, augment):
    cfg = TrainConfig(prepared=str(synthetic_3d), out=str(tmp_path / method), arch="cnn-small-3d",
                      method=method, attribute=attribute, epochs=1, batch_size=16, eval_batch_size=64,
                      max_steps_per_epoch=2, augment=augment, threads=1)
    out = train_run(cfg, log=lambda *_: None)
    pred = pd.read_parquet(out / "predictions.parquet")
    meta = pd.read_parquet(synthetic_3d / "metadata.parquet")
    assert set(pred["sample_id"]) == set(meta.loc[meta["split"] != "train", "sample_id"])
    assert pred["score"].between(0, 1).all()
    info = json.loads((out / "run.json").read_text())
    assert info["dataset_manifest"]["image_shape"] == [1, 16, 16, 16]
    assert len(pd.read_csv(out / "history.csv")) == 1


def test_2d_arch_on_3d_data_and_2d_only_method_are_refused(synthetic_3d, tmp_path, monkeypatch):
    cfg = TrainConfig(prepared=str(synthetic_3d), out=str(tmp_path / "r"), arch="cnn-small",
                      epochs=1, max_steps_per_epoch=1)
    with pytest.raises(UserError, match="takes 2D inputs but the data are 3D"):
        train_run(cfg, log=lambda *_: None)

    class PlanarOnly(ERM):
        name = "planar-only"
        supports_3d = False
        unsupported_reason = "its augmentation is defined on 2D images"

    methods_registry._load_all()
    monkeypatch.setitem(methods_registry.METHODS, "planar-only", PlanarOnly)
    cfg = TrainConfig(prepared=str(synthetic_3d), out=str(tmp_path / "p"), arch="cnn-small-3d",
                      method="planar-only", epochs=1, max_steps_per_epoch=1)
    with pytest.raises(UserError, match="does not run on 3D data: its augmentation is defined on 2D"):
        train_run(cfg, log=lambda *_: None)


def test_augmented_3d_cpu_run_repeats_bit_identically(synthetic_3d, tmp_path):
    scores = []
    for run in ("a", "b"):
        cfg = TrainConfig(prepared=str(synthetic_3d), out=str(tmp_path / run), arch="cnn-small-3d",
                          epochs=1, batch_size=16, max_steps_per_epoch=2, augment=True, threads=1)
        scores.append(pd.read_parquet(train_run(cfg, log=lambda *_: None) / "epoch_scores.parquet"))
    pd.testing.assert_frame_equal(scores[0], scores[1])
