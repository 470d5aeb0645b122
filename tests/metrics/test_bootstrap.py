"""Bootstrap: resampling mechanism, zero-width CI of a null difference, AUC CI coverage."""

import numpy as np
import pandas as pd
from scipy.stats import norm

from fairmedia.metrics import bootstrap_difference, evaluate_predictions
from fairmedia.metrics.auc import GroupedAUC
from fairmedia.metrics.bootstrap import ClusteredResampler, percentile_ci


def test_resamples_keep_stratum_sizes_and_whole_patients():
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(60), 3)  # 3 images per patient
    strata = np.repeat(rng.integers(0, 4, 60), 3)
    resampler = ClusteredResampler(strata, patients)
    weights = np.concatenate(list(resampler.blocks(120, seed=1, block=50)), axis=1)
    assert weights.shape == (180, 120)
    for s in range(4):
        rows = strata == s
        assert np.all(weights[rows].sum(axis=0) == rows.sum())  # stratum size kept
    per_patient = weights.reshape(60, 3, 120)
    assert np.all(per_patient == per_patient[:, :1, :])  # a patient's images move together
    assert weights.std() > 0
    again = np.concatenate(list(resampler.blocks(120, seed=1, block=50)), axis=1)
    assert np.array_equal(weights, again)


def test_identical_predictions_give_zero_width_ci_containing_zero():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    score = rng.uniform(size=300)
    for metric in ("auc", "tpr", "acc"):
        out = bootstrap_difference(y, score, score.copy(), metric=metric, n_boot=200)
        assert out["estimate"] == 0.0 and out["ci"] == [0.0, 0.0]
    different = bootstrap_difference(y, np.clip(score + 0.3 * y, 0, 1), score, n_boot=200)
    assert different["ci"][0] > 0  # a real improvement of a over b is not swallowed


def test_auc_ci_coverage_is_near_nominal():
    # binormal model: AUC = Phi(d / sqrt 2) (Hanley & McNeil 1982); 200 data sets, 95% CIs
    rng = np.random.default_rng(7)
    d, n, n_boot = 1.0, 80, 400
    true_auc = norm.cdf(d / np.sqrt(2))
    y = np.repeat([0, 1], n // 2)
    codes = np.zeros(n, dtype=np.int64)
    resampler = ClusteredResampler(y)
    covered = 0
    for sim in range(200):
        score = 1 / (1 + np.exp(-(rng.normal(size=n) + d * y)))
        weights = next(resampler.blocks(n_boot, seed=sim, block=n_boot))
        low, high = percentile_ci(GroupedAUC(y, score, codes, 1)(weights)[:, 0])
        covered += low <= true_auc <= high
    assert 0.90 <= covered / 200 <= 0.99


def test_report_cis_bracket_the_group_estimates():
    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "sex": rng.choice(["F", "M"], n),
                       "patient_id": rng.integers(0, 250, n)})
    df["score"] = np.clip(0.3 * df["y"] + 0.7 * rng.uniform(size=n), 0, 1)
    r = evaluate_predictions(df, ["sex"], threshold="fixed:0.5", bootstrap=300)
    assert r["bootstrap"]["cluster"] == "patient_id" and r["bootstrap"]["n"] == 300
    for g in ("F", "M"):
        for metric in ("auc", "acc", "tpr", "ece"):
            low, high = r["ci"]["attributes"]["sex"]["groups"][g][metric]
            assert low < r["attributes"]["sex"]["groups"][g][metric] < high
    low, high = r["ci"]["overall"]["auc"]
    assert 0 < high - low < 0.2
    assert set(r["ci"]["attributes"]["sex"]["criteria"]) >= {"equalized_odds", "es_auc"}
    assert r == evaluate_predictions(df, ["sex"], threshold="fixed:0.5", bootstrap=300)
