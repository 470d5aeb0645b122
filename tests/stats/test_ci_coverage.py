"""The coverage simulation: its truth, its BCa against scipy, its intervals = the report's."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.bootstrap import ClusteredResampler
from fairmedia.stats.ci_coverage import MEASURES, Model, bca_interval, coverage, one_data_set


def test_closed_form_truth_matches_a_large_population():
    model = Model()
    pop = model.sample(np.random.default_rng(0), 200_000)
    truth = model.truth()
    f = pop[pop["sex"] == "F"]
    m = pop[pop["sex"] == "M"]
    assert roc_auc_score(pop["y"], pop["score"]) == pytest.approx(truth["overall AUC"], abs=3e-3)
    auc_gap = abs(roc_auc_score(f["y"], f["score"]) - roc_auc_score(m["y"], m["score"]))
    assert auc_gap == pytest.approx(truth["AUC gap (sex)"], abs=4e-3)
    tpr_f = f.loc[f["y"] == 1, "decision"].mean()
    assert tpr_f == pytest.approx(truth["TPR of F"], abs=3e-3)


def test_bca_matches_scipy_on_iid_data():
    x = np.random.default_rng(1).exponential(size=40)  # skewed: BCa moves away from percentile
    n_boot = 20_000
    weights = np.concatenate(list(ClusteredResampler(np.zeros(40)).blocks(n_boot, seed=2)), axis=1)
    boot = weights.T @ x / 40
    jack = (x.sum() - x) / 39
    ours = bca_interval(x.mean(), boot, jack)
    ref = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=n_boot,
                          rng=np.random.default_rng(3)).confidence_interval
    percentile = np.quantile(boot, [0.025, 0.975])
    assert ours == pytest.approx((ref.low, ref.high), abs=0.01)
    assert abs(percentile[0] - ref.low) > 0.02 or abs(percentile[1] - ref.high) > 0.02


def test_simulated_intervals_are_the_reports_and_coverage_table_is_complete():
    model = Model()
    run = one_data_set(model, seed=5, n_patients=120, n_boot=100)
    df = model.sample(np.random.default_rng([5, 1]), 120)
    report = evaluate_predictions(df, ["sex"], bootstrap=100, seed=5)
    for name, path in MEASURES.items():
        node = report["ci"]
        for key in path:
            node = node[key]
        assert run[name]["percentile"] == pytest.approx(tuple(node), abs=1e-12)
    table = coverage(model, sims=3, n_patients=80, n_boot=50)
    for row in table.values():
        for method in ("percentile", "basic", "BCa"):
            assert 0 <= row[method]["coverage"] <= 1 and row[method]["mean_width"] > 0
