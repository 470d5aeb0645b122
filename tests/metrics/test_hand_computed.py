"""SER, STD, NR, ECE and es-AUC on small cases computed by hand in the test."""

import math

import numpy as np
import pytest

from fairmedia.metrics import evaluate_predictions, group_table
from fairmedia.metrics.calibration import ece_from_sums
from fairmedia.metrics.disparity import disparity


def test_measures_of_a_higher_is_better_metric():
    # accuracies 0.9, 0.8, 0.7: errors 0.1, 0.2, 0.3
    m = disparity(np.array([0.9, 0.8, 0.7]), np.array([True, True, True]), "acc")
    assert m["gap"] == pytest.approx(0.2)
    assert m["ratio"] == pytest.approx(0.7 / 0.9)
    assert m["ser"] == pytest.approx(0.3 / 0.1)  # (1 - worst) / (1 - best)
    assert m["std"] == pytest.approx(math.sqrt((0.1**2 + 0 + 0.1**2) / 3))  # ddof = 0
    assert m["nr"] == pytest.approx(0.2 / 0.8)
    assert (m["worst"], m["best"]) == (pytest.approx(0.7), pytest.approx(0.9))


def test_measures_of_a_lower_is_better_metric_and_ineligible_groups():
    # fpr 0.1, 0.4 and a third group that is too small (ignored)
    m = disparity(np.array([0.1, 0.4, 0.9]), np.array([True, True, False]), "fpr")
    assert m["ser"] == pytest.approx(0.4 / 0.1)  # worst / best error
    assert (m["worst"], m["best"], m["gap"]) == (
        pytest.approx(0.4), pytest.approx(0.1), pytest.approx(0.3))
    assert m["std"] == pytest.approx(0.15)
    assert m["nr"] == pytest.approx(0.3 / 0.25)


def test_ece_on_four_rows():
    # bins of width 0.1: {0.05} -> |0 - 0.05|; {0.15, 0.15} -> |(1 + 0) - 0.30|; {0.95} -> 0.05
    y = np.array([0, 1, 0, 1])
    score = np.array([0.05, 0.15, 0.15, 0.95])
    table = group_table(y, score, np.zeros(4, int), np.array(["a"] * 4))
    assert table.loc["a", "ece"] == pytest.approx((0.05 + 0.7 + 0.05) / 4)
    assert ece_from_sums(np.array([0.0, 0.0]), np.array(0.0)) != 0  # empty group: NaN, not 0


def test_counts_and_es_auc_written_out():
    # group a: y 1 1 0 0, scores .9 .4 .6 .1 -> at t=.5: TP=1 FN=1 FP=1 TN=1; AUC = 3/4
    # group b: y 1 0 0 0, scores .8 .7 .2 .3 -> TP=1 FP=1 TN=2; AUC = 1
    import pandas as pd

    df = pd.DataFrame({
        "y": [1, 1, 0, 0, 1, 0, 0, 0],
        "score": [0.9, 0.4, 0.6, 0.1, 0.8, 0.7, 0.2, 0.3],
        "g": list("aaaabbbb"),
    })
    r = evaluate_predictions(df, ["g"], threshold="fixed:0.5", min_group_size=0)
    a, b = r["attributes"]["g"]["groups"]["a"], r["attributes"]["g"]["groups"]["b"]
    assert (a["tp"], a["fn"], a["fp"], a["tn"]) == (1, 1, 1, 1)
    assert (b["tp"], b["fn"], b["fp"], b["tn"]) == (1, 0, 1, 2)
    assert (a["auc"], b["auc"]) == (0.75, 1.0)
    # overall: positives .9 .4 .8 beat 5, 3, 5 of the negatives .6 .1 .7 .2 .3 -> 13 of 15
    overall_auc = 13 / 15
    assert r["overall"]["auc"] == pytest.approx(overall_auc)
    expected = overall_auc / (1 + abs(overall_auc - 0.75) + abs(overall_auc - 1.0))
    crit = r["attributes"]["g"]["criteria"]
    assert crit["es_auc"] == pytest.approx(expected)
    assert crit["equal_opportunity"] == pytest.approx(1.0 - 0.5)
    assert crit["equalized_odds"] == pytest.approx(max(1.0 - 0.5, 0.5 - 1 / 3))
    assert crit["demographic_parity"] == pytest.approx(0.0)
