"""Every post-processing method runs through ``fairmedia postprocess`` on a real base run: fitted
on val, applied to val and test, outputs in the training run's format."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.commands import postprocess
from fairmedia.errors import UserError
from fairmedia.methods.registry import available_methods
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

POST = [n for n, c in available_methods().items() if c.category == "post"]


@pytest.fixture(scope="module")
def base_run(tiny_prepared, tmp_path_factory):
    out = tmp_path_factory.mktemp("base") / "erm"
    return train_run(TrainConfig(prepared=str(tiny_prepared), out=str(out), method="erm",
                                 attribute="any", epochs=2, batch_size=32, seed=0),
                     log=lambda _: None)


def _args(base, prepared, out, method, hparam=()):
    return argparse.Namespace(base=str(base), method=method, attribute="sex", prepared=str(prepared),
                              out=str(out), hparam=list(hparam), hparam_sample=None, seed=0,
                              device="cpu")


@pytest.mark.parametrize("method", POST)
def test_post_method_fits_on_val_and_transforms_test(method, base_run, tiny_prepared, tmp_path):
    assert postprocess.run(_args(base_run, tiny_prepared, tmp_path, method)) == 0
    preds = pd.read_parquet(tmp_path / "predictions.parquet")
    base = pd.read_parquet(base_run / "predictions.parquet")
    assert list(preds.columns[:7]) == list(base.columns)
    assert set(preds["split"]) == {"val", "test"}
    assert set(preds["selection"]) == set(base["selection"])
    assert np.isfinite(preds["score"]).all()
    if available_methods()[method].decides:
        assert set(preds["decision"].unique()) <= {0, 1}
    else:
        assert "decision" not in preds
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["config"]["method"] == method and info["base_run"]["config"]["method"] == "erm"
    assert set(info["fit"]) == set(base["selection"])
    assert len(pd.read_csv(tmp_path / "history.csv")) == base["selection"].nunique()


def test_fit_uses_val_rows_only(base_run, tiny_prepared, tmp_path, monkeypatch):
    seen = []
    cls = available_methods()["group-threshold"]
    original = cls.fit
    monkeypatch.setattr(cls, "fit", lambda self, val: seen.append(val) or original(self, val))
    postprocess.run(_args(base_run, tiny_prepared, tmp_path, "group-threshold"))
    meta = pd.read_parquet(tiny_prepared / "metadata.parquet").set_index("sample_id")
    assert seen and all((meta.loc[v["sample_id"], "split"] == "val").all() for v in seen)


def test_training_method_is_refused(base_run, tiny_prepared, tmp_path):
    with pytest.raises(UserError, match="training-time method"):
        postprocess.run(_args(base_run, tiny_prepared, tmp_path, "erm"))


def test_unknown_hparam_is_refused(base_run, tiny_prepared, tmp_path):
    with pytest.raises(UserError, match="no hyperparameter 'margin'"):
        postprocess.run(_args(base_run, tiny_prepared, tmp_path, "reject-option", ["margin=1"]))
