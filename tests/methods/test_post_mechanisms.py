"""Mechanism tests of the post-processing methods on synthetic validation scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.metrics import roc_auc_score

from fairmedia.methods.eqodds_postprocess import ScoreColumn
from fairmedia.methods.post_base import PostContext
from fairmedia.methods.registry import get_method, resolve_hparams


def _scores(n: int, seed: int) -> pd.DataFrame:
    """Group 1 is under-served: its positives score lower."""
    rng = np.random.default_rng(seed)
    g = (rng.random(n) < 0.4).astype(int)
    y = (rng.random(n) < 0.4).astype(int)
    logit = rng.normal(0, 1, n) + 2.0 * y - 1.0 * y * g
    return pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "y": y,
                         "score": 1 / (1 + np.exp(-logit)), "group": g})


def _processor(name: str, **hp):
    ctx = PostContext(base_run=Path("."), prepared=None, attribute="sex", group_names=["M", "F"],
                      epoch=0, arch="cnn-small", seed=3)
    return get_method(name)(resolve_hparams(name, hp), ctx)


def _tpr(df: pd.DataFrame, decision: np.ndarray, g: int) -> tuple[float, int]:
    rows = (df["group"] == g).to_numpy() & (df["y"] == 1).to_numpy()
    return float(decision[rows].mean()), int(rows.sum())


def test_group_threshold_equalises_tpr_on_val_within_one_sample():
    val = _scores(600, 0)
    proc = _processor("group-threshold")
    proc.fit(val)
    d = proc.transform(val)["decision"].to_numpy()
    (t0, n0), (t1, n1) = _tpr(val, d, 0), _tpr(val, d, 1)
    assert abs(t0 - t1) <= 1 / min(n0, n1)
    base = (val["score"] >= proc.default).to_numpy().astype(int)
    assert abs(_tpr(val, base, 0)[0] - _tpr(val, base, 1)[0]) > 0.1  # there was a gap to close


def test_eqodds_postprocess_matches_fairlearn():
    val, test = _scores(600, 1), _scores(400, 2)
    proc = _processor("eqodds-postprocess")
    proc.fit(val)
    ours = proc.transform(test)["decision"].to_numpy()
    ref = ThresholdOptimizer(estimator=ScoreColumn().fit(None), constraints="equalized_odds",
                             objective="balanced_accuracy_score", prefit=True,
                             predict_method="predict")
    ref.fit(val[["score"]].to_numpy(), val["y"].to_numpy(), sensitive_features=val["group"].to_numpy())
    expected = ref.predict(test[["score"]].to_numpy(), sensitive_features=test["group"].to_numpy(),
                           random_state=3)
    assert np.array_equal(ours, expected)


def test_reject_option_flips_only_in_the_band_and_narrows_the_gap():
    val = _scores(800, 4)
    proc = _processor("reject-option")
    info = proc.fit(val)
    d = proc.transform(val)["decision"].to_numpy()
    base = (val["score"] >= proc.threshold).to_numpy()
    changed = d != base
    assert changed.any() and info["deprived"] == ["F"]
    assert np.all(np.abs(val["score"].to_numpy()[changed] - proc.threshold) <= proc.margin)
    assert info["val_gap_after"] < info["val_gap_before"]
    y = val["y"].to_numpy()
    bal = lambda dec: 0.5 * (dec[y == 1].mean() + 1 - dec[y == 0].mean())  # noqa: E731
    assert bal(d) >= bal(base.astype(int)) - 0.05


@pytest.mark.parametrize("kind", ["platt", "isotonic"])
def test_group_calibrate_matches_each_group_mean_on_val(kind):
    val = _scores(600, 5)
    val["score"] = val["score"] ** 4  # miscalibrate
    proc = _processor("group-calibrate", map=kind)
    proc.fit(val)
    cal = proc.transform(val)["score"]
    # Unpenalised logistic regression and isotonic regression both preserve the mean of y.
    for g in (0, 1):
        rows = val["group"] == g
        assert abs(cal[rows].mean() - val.loc[rows, "y"].mean()) < 1e-3
        assert abs(val.loc[rows, "score"].mean() - val.loc[rows, "y"].mean()) > 0.05


@pytest.mark.parametrize("kind", ["platt", "isotonic"])
def test_group_calibrate_leaves_every_groups_ranking_and_auc(kind):
    """Group 1's validation scores rank it backwards (AUC < 0.5): an unconstrained Platt fit has
    a negative slope and would invert its test ranking, raising its AUC; isotonic steps would tie
    scores. Calibration must leave each group's test AUC exactly as it was."""
    val, test = _scores(600, 5), _scores(600, 6)
    for frame in (val, test):
        inverted = frame["group"] == 1
        frame.loc[inverted, "score"] = 1 - frame.loc[inverted, "score"]
    proc = _processor("group-calibrate", map=kind)
    proc.fit(val)
    cal = proc.transform(test)["score"].to_numpy()
    for g in (0, 1):
        rows = (test["group"] == g).to_numpy()
        y = test["y"].to_numpy()[rows]
        assert roc_auc_score(y, cal[rows]) == roc_auc_score(y, test["score"].to_numpy()[rows])
    assert roc_auc_score(test["y"][test["group"] == 1], test["score"][test["group"] == 1]) < 0.5
    val_cal = proc.transform(val)["score"]  # still a calibration: each group's val mean kept
    for g in (0, 1):
        rows = val["group"] == g
        assert abs(val_cal[rows].mean() - val.loc[rows, "y"].mean()) < 1e-3
