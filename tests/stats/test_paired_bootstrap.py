"""Paired patient-level bootstrap: identical runs, planted effect, false positives, pairing."""

import numpy as np
import pandas as pd
import pytest

from fairmedia.stats.paired_bootstrap import bootstrap_block
from fairmedia.testing.synthetic_runs import make_test_set, score_test_set


def _block(methods: dict[str, float], seeds: int, n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    test = make_test_set(n, rng)
    blocks = {}
    for m, eff in methods.items():
        for s in range(seeds):
            score = score_test_set(test, 1.0 + eff, 0.3, rng)
            blocks[(m, s)] = test.assign(score=score, decision=(score >= 0.5).astype(np.int8))
    return blocks


def test_identical_predictions_give_zero_delta_and_p_one():
    scored = _block({"erm": 0.0}, 3, 300, 0)
    scored.update({("copy", s): f.copy() for (_, s), f in scored.items()})
    metrics = ["auc", "auc_gap", "ece", "equalized_odds", "tpr_worst", "not_a_metric"]
    out = bootstrap_block(scored, "erm", metrics, min_group_size=20, n_boot=200,
                          seed=1).set_index("metric")
    for metric in metrics[:-1]:
        row = out.loc[metric]
        assert row["delta"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0, metric
        assert row["p"] == 1, metric
    assert out.loc["not_a_metric", "note"] == "metric not bootstrapped"


def test_threshold_metrics_without_decisions_say_so():
    scored = {k: f.drop(columns="decision") for k, f in _block({"erm": 0.0, "m": 0.3}, 1, 200,
                                                                 2).items()}
    out = bootstrap_block(scored, "erm", ["auc", "equalized_odds"], min_group_size=20,
                          n_boot=20, seed=0).set_index("metric")
    assert np.isfinite(out.loc["auc", "p"]) and out.loc["auc", "note"] == ""
    assert out.loc["equalized_odds", "n_paired"] == 0
    assert "no per-row decision in scored.parquet of m seed 0, erm seed 0" in \
        out.loc["equalized_odds", "note"]


def test_planted_improvement_is_detected():
    scored = _block({"erm": 0.0, "better": 0.6}, 3, 2000, 3)
    out = bootstrap_block(scored, "erm", ["auc"], min_group_size=20, n_boot=300, seed=4).iloc[0]
    assert out["delta"] > 0 and out["ci_low"] > 0 and out["p"] < 0.05


def test_no_effect_false_positive_rate_near_alpha():
    rejections = 0
    repeats = 60
    for r in range(repeats):
        scored = _block({"erm": 0.0, "same": 0.0}, 1, 300, 100 + r)
        out = bootstrap_block(scored, "erm", ["auc"], min_group_size=20, n_boot=200, seed=r).iloc[0]
        rejections += out["p"] < 0.05
    # Binomial(60, 0.05): P(X ≥ 9) ≈ 0.01; a broken test rejects far more often.
    assert rejections <= 8


def test_unpaired_test_set_is_skipped_with_a_reason():
    scored = _block({"erm": 0.0, "m": 0.1}, 1, 200, 5)
    scored[("m", 0)] = scored[("m", 0)].iloc[:150]
    out = bootstrap_block(scored, "erm", ["auc"], min_group_size=20, n_boot=50, seed=0).iloc[0]
    assert np.isnan(out.get("p", np.nan)) and "not paired" in out["note"]
    assert isinstance(out, pd.Series)


def _value(report: dict, metric: str) -> float:
    section = report["attributes"]["sex"]
    if metric in report["overall"]:
        v = report["overall"][metric]
    elif metric in section["criteria"]:
        v = section["criteria"][metric]
    else:
        base, _, measure = metric.rpartition("_")
        v = section["disparity"][base][measure]
    return np.nan if v is None else v


def test_observed_values_are_the_evaluations_numbers():
    """The run metrics the bootstrap recomputes are metrics.json's, at the min_group_size used:
    every AUC, threshold (decision at 0.5) and calibration metric and every criterion."""
    from fairmedia.metrics import evaluate_predictions
    from fairmedia.stats.paired_bootstrap import BOOTSTRAP_METRICS

    scored = _block({"erm": 0.0, "m": 0.3}, 1, 400, 7)
    frame = scored[("m", 0)]
    small = np.flatnonzero(frame["group"].to_numpy() == "1")[30:]  # leave ~90 rows in group 1
    scored = {k: f.drop(index=small).reset_index(drop=True) for k, f in scored.items()}
    for min_group_size in (20, 100):
        out = bootstrap_block(scored, "erm", list(BOOTSTRAP_METRICS),
                              min_group_size=min_group_size, n_boot=20, seed=0).set_index("metric")
        reports = {k: evaluate_predictions(f.drop(columns="decision").rename(
                       columns={"group": "sex"}), ["sex"], threshold="fixed:0.5",
                       min_group_size=min_group_size)
                   for k, f in scored.items()}

        for metric in BOOTSTRAP_METRICS:
            expected = _value(reports[("m", 0)], metric) - _value(reports[("erm", 0)], metric)
            got = out.loc[metric, "delta"] if "delta" in out else np.nan
            assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected,
                                                                                    abs=1e-12)
    # at 100 only group 0 is eligible: no gap, and the bootstrap says why
    assert out.loc["auc_gap", "n_paired"] == 0 and "no seed" in out.loc["auc_gap", "note"]


def test_seeds_without_a_baseline_run_are_not_in_delta():
    scored = _block({"erm": 0.0, "m": 0.3}, 3, 300, 11)
    extra = _block({"m": 2.0}, 4, 300, 11)[("m", 3)]  # a seed erm lacks, very different
    scored[("m", 3)] = extra
    out = bootstrap_block(scored, "erm", ["auc"], min_group_size=20, n_boot=50, seed=0).iloc[0]
    assert out["n_paired"] == 3
    without = {k: v for k, v in scored.items() if k != ("m", 3)}
    ref = bootstrap_block(without, "erm", ["auc"], min_group_size=20, n_boot=50, seed=0).iloc[0]
    assert out["delta"] == ref["delta"] and out["p"] == ref["p"] and out["ci_low"] == ref["ci_low"]
