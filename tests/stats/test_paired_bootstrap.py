"""Paired patient-level bootstrap: exact AUCs, identical runs, planted effect, false positives."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from fairmedia.stats.paired_bootstrap import bootstrap_block, patient_weights
from fairmedia.stats.weighted_auc import replicate_aucs
from fairmedia.testing.synthetic_runs import make_test_set, score_test_set


def test_replicate_aucs_match_sklearn_with_weights_and_ties():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    scores = np.round(rng.random(n) + 0.3 * y, 1)  # many ties
    group = rng.integers(0, 3, n)
    weights = rng.poisson(1.0, (n, 5)).astype(np.float32)
    overall, per_group = replicate_aucs(scores, y, group, weights)
    for b in range(5):
        assert overall[b] == pytest.approx(roc_auc_score(y, scores, sample_weight=weights[:, b]))
        for g in range(3):
            m = group == g
            assert per_group[b, g] == pytest.approx(
                roc_auc_score(y[m], scores[m], sample_weight=weights[m, b]))


def test_patient_weights_keep_patients_together_and_strata_sizes():
    rng = np.random.default_rng(0)
    patient = np.array(["a", "a", "b", "c", "c", "d", "e", "f"])
    stratum = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    w = patient_weights(patient, stratum, 200, rng)
    assert np.all(w[:, 0] == 1)
    assert np.all(w[0] == w[1]) and np.all(w[3] == w[4])  # same patient, same count
    # Each stratum keeps its number of patients in every replicate: a,b,e in 0; c,d,f in 1.
    assert np.all(w[[0, 2, 6], 1:].sum(0) == 3) and np.all(w[[3, 5, 7], 1:].sum(0) == 3)


def _block(methods: dict[str, float], seeds: int, n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    test = make_test_set(n, rng)
    return {(m, s): test.assign(score=score_test_set(test, 1.0 + eff, 0.3, rng))
            for m, eff in methods.items() for s in range(seeds)}


def test_identical_predictions_give_zero_delta_and_p_one():
    scored = _block({"erm": 0.0}, 3, 300, 0)
    scored.update({("copy", s): f.copy() for (_, s), f in scored.items()})
    out = bootstrap_block(scored, "erm", ["auc", "auc_gap", "ece"], n_boot=200, seed=1)
    row = out.set_index("metric").loc["auc"]
    assert row["delta"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0 and row["p"] == 1
    assert out.set_index("metric").loc["ece", "note"] == "metric not bootstrapped"


def test_planted_improvement_is_detected():
    scored = _block({"erm": 0.0, "better": 0.6}, 3, 2000, 3)
    out = bootstrap_block(scored, "erm", ["auc"], n_boot=300, seed=4).iloc[0]
    assert out["delta"] > 0 and out["ci_low"] > 0 and out["p"] < 0.05


def test_no_effect_false_positive_rate_near_alpha():
    rejections = 0
    repeats = 60
    for r in range(repeats):
        scored = _block({"erm": 0.0, "same": 0.0}, 1, 300, 100 + r)
        out = bootstrap_block(scored, "erm", ["auc"], n_boot=200, seed=r).iloc[0]
        rejections += out["p"] < 0.05
    # Binomial(60, 0.05): P(X ≥ 9) ≈ 0.01; a broken test rejects far more often.
    assert rejections <= 8


def test_unpaired_test_set_is_skipped_with_a_reason():
    scored = _block({"erm": 0.0, "m": 0.1}, 1, 200, 5)
    scored[("m", 0)] = scored[("m", 0)].iloc[:150]
    out = bootstrap_block(scored, "erm", ["auc"], n_boot=50, seed=0).iloc[0]
    assert np.isnan(out.get("p", np.nan)) and "not paired" in out["note"]
    assert isinstance(out, pd.Series)
