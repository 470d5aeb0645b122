"""The paired bootstrap of threshold metrics: the evaluation's numbers, fairlearn's definitions,
no effect → p = 1, and a post-processor's different operating point is detected."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
)
from sklearn.metrics import accuracy_score, recall_score

from fairmedia.evaluation.run_evaluation import scored_frame
from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.groups import attribute_grouping
from fairmedia.stats.paired_bootstrap import GroupSlices, RunAUC, bootstrap_block
from fairmedia.testing.synthetic_runs import make_test_set, score_test_set

CRITERIA = ["equalized_odds", "equal_opportunity", "demographic_parity", "accuracy_parity"]
THRESHOLD_METRICS = CRITERIA + ["tpr_worst"]


def _run_metrics(frame: pd.DataFrame, min_group_size: int, weights=None) -> dict[str, np.ndarray]:
    grouping = attribute_grouping(frame, "group", None, "<test>")
    n_groups = len(grouping.keys)
    sizes = np.bincount(grouping.codes[grouping.codes >= 0], minlength=n_groups)
    run = RunAUC(frame["y"].to_numpy(), frame["score"].to_numpy(), grouping.codes, n_groups,
                 sizes >= min_group_size, frame["decision"].to_numpy(),
                 GroupSlices(grouping.codes, n_groups))
    return run(weights)


def _metrics_json_value(report: dict, metric: str) -> float:
    section = report["attributes"]["sex"]
    if metric == "tpr_worst":
        return section["disparity"]["tpr"]["worst"]
    return section["criteria"][metric]


@pytest.mark.parametrize("post", [False, True])
def test_all_ones_weights_give_the_evaluations_metrics_json_values(post):
    """A run evaluated as evaluate-run does (threshold fitted on val, applied to test; or a
    post-processor's decision column): scored.parquet + all-ones weights → metrics.json's values."""
    rng = np.random.default_rng(3)
    frame = make_test_set(900, rng)
    frame["score"] = score_test_set(frame, 1.2, 0.6, rng)
    frame["split"] = np.where(np.arange(len(frame)) % 3 == 0, "val", "test")
    if post:  # e.g. group thresholds: group "1" decided at a lower cut-off
        cut = np.where(frame["group"] == "1", 0.35, 0.55)
        frame["decision"] = (frame["score"] >= cut).astype(np.int8)
    df = frame.rename(columns={"group": "sex"})
    report = evaluate_predictions(df, ["sex"], threshold="youden", min_group_size=20)
    assert report["threshold"]["fitted_on"] == ("method" if post else "val")
    test = df[df["split"] == "test"]
    scored = scored_frame(test, attribute_grouping(test, "sex", None, "<test>"),
                          report["threshold"]["value"])
    got = _run_metrics(scored, report["min_group_size"], np.ones((len(scored), 1)))
    for metric in THRESHOLD_METRICS:
        assert got[metric][0] == pytest.approx(_metrics_json_value(report, metric), abs=1e-12)
    assert got["auc"][0] == pytest.approx(report["overall"]["auc"], abs=1e-12)


def _hand_table() -> pd.DataFrame:
    # Groups A and B (8 rows each) are eligible at min_group_size=5; C (3 rows) is not.
    y = [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    d = [1, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1]
    g = ["A"] * 8 + ["B"] * 8 + ["C"] * 3
    score = np.linspace(0.05, 0.95, len(y))
    return pd.DataFrame({"y": y, "decision": d, "group": g, "score": score})


def _fairlearn(frame: pd.DataFrame) -> dict[str, float]:
    y, d, g = frame["y"], frame["decision"], frame["group"]
    return {
        "equalized_odds": equalized_odds_difference(y, d, sensitive_features=g),
        "equal_opportunity": equal_opportunity_difference(y, d, sensitive_features=g),
        "demographic_parity": demographic_parity_difference(y, d, sensitive_features=g),
        "accuracy_parity": MetricFrame(metrics=accuracy_score, y_true=y, y_pred=d,
                                       sensitive_features=g).difference(),
        "tpr_worst": MetricFrame(metrics=recall_score, y_true=y, y_pred=d,
                                 sensitive_features=g).group_min(),
    }


def test_criteria_match_fairlearn_on_a_hand_built_table_and_resample_weights():
    """Observed (weights all ones) and a resample's integer weights (= rows repeated) give
    fairlearn's values over the eligible groups only."""
    table = _hand_table()
    weights = np.array([2, 0, 1, 3, 1, 1, 0, 2, 1, 2, 0, 1, 3, 1, 1, 0, 2, 1, 1], float)
    got = _run_metrics(table, 5, np.stack([np.ones(len(table)), weights], axis=1))
    eligible = table[table["group"] != "C"]
    expected_obs = _fairlearn(eligible)
    expanded = table.loc[table.index.repeat(weights.astype(int))]
    expected_rep = _fairlearn(expanded[expanded["group"] != "C"])
    assert expected_obs["equalized_odds"] > 0 and expected_obs != expected_rep
    for metric in THRESHOLD_METRICS:
        assert got[metric][0] == pytest.approx(expected_obs[metric], abs=1e-12), metric
        assert got[metric][1] == pytest.approx(expected_rep[metric], abs=1e-12), metric
    # With C eligible the numbers are fairlearn's over all three groups: C is really left out.
    with_c = _run_metrics(table, 1)
    all_groups = _fairlearn(table)
    assert all_groups["equal_opportunity"] != expected_obs["equal_opportunity"]
    for metric in THRESHOLD_METRICS:
        assert with_c[metric][0] == pytest.approx(all_groups[metric], abs=1e-12), metric


def _runs(seeds: int = 3) -> dict:
    """ERM at one threshold; "post" with the same scores but a lower cut-off for the group the
    model under-diagnoses (a group-threshold post-processor): a different operating point."""
    rng = np.random.default_rng(11)
    test = make_test_set(1500, rng, minority=0.4)
    scored = {}
    for s in range(seeds):
        score = score_test_set(test, 2.0, 1.0, rng) - np.where(test["group"] == "1", 0.15, 0)
        erm = test.assign(score=score, decision=(score >= 0.5).astype(np.int8))
        cut = np.where(test["group"] == "1", 0.3, 0.5)
        scored[("erm", s)] = erm
        scored[("post", s)] = erm.assign(decision=(score >= cut).astype(np.int8))
        scored[("copy", s)] = erm.copy()
    return scored


def test_identical_decisions_give_zero_delta_and_p_one():
    out = bootstrap_block(_runs(2), "erm", THRESHOLD_METRICS, min_group_size=20, n_boot=100,
                          seed=0).set_index(["method", "metric"])
    for metric in THRESHOLD_METRICS:
        row = out.loc[("copy", metric)]
        assert row["delta"] == 0 and row["ci_low"] == 0 and row["ci_high"] == 0, metric
        assert row["p"] == 1 and row["n_paired"] == 2, metric


def test_a_different_operating_point_is_detected_where_auc_sees_nothing():
    metrics = ["auc", "auc_worst", "equal_opportunity", "equalized_odds", "tpr_worst"]
    out = bootstrap_block(_runs(), "erm", metrics, min_group_size=20, n_boot=300,
                          seed=1).set_index(["method", "metric"])
    for metric in ("auc", "auc_worst"):  # same scores: exactly ERM
        assert out.loc[("post", metric), "delta"] == 0 and out.loc[("post", metric), "p"] == 1
    tpr = out.loc[("post", "tpr_worst")]
    assert tpr["delta"] > 0.1 and tpr["ci_low"] > 0 and tpr["p"] < 0.01
    for metric in ("equal_opportunity", "equalized_odds"):
        row = out.loc[("post", metric)]
        assert row["delta"] < 0 and row["ci_high"] < 0 and row["p"] < 0.01, (metric, row)
