"""Undefined values, string groups, bad input and the threshold protocol."""

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.errors import UserError
from fairmedia.metrics import choose_threshold, evaluate_predictions


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({
        "y": y, "score": np.clip(0.3 * y + 0.7 * rng.uniform(size=n), 0, 1),
        "sex": rng.choice(["female", "male"], n),
    })


def test_single_class_group_gives_null_auc_with_reason_and_valid_json():
    df = _frame()
    df.loc[df["sex"] == "male", "y"] = 0
    r = evaluate_predictions(df, ["sex"], threshold="fixed:0.5")
    male = r["attributes"]["sex"]["groups"]["male"]
    assert male["auc"] is None and "single class" in male["reason"]["auc"]
    assert male["tpr"] is None and "no positives" in male["reason"]["tpr"]
    assert r["attributes"]["sex"]["groups"]["female"]["auc"] is not None
    # AUC disparity needs 2 defined groups; the worst group is still the one defined
    auc_disp = r["attributes"]["sex"]["disparity"]["auc"]
    assert auc_disp["gap"] is None and "fewer than 2" in auc_disp["reason"]["gap"]
    json.dumps(r, allow_nan=False)


def test_empty_group_after_thresholding():
    df = _frame()
    df.loc[df["sex"] == "male", "score"] = 0.1  # no male predicted positive at t = 0.5
    r = evaluate_predictions(df, ["sex"], threshold="fixed:0.5")
    male = r["attributes"]["sex"]["groups"]["male"]
    assert male["selection_rate"] == 0.0 and male["tpr"] == 0.0 and male["fpr"] == 0.0
    assert male["ppv"] is None and "no predicted positives" in male["reason"]["ppv"]
    json.dumps(r, allow_nan=False)


def test_groups_keep_their_values_as_string_keys():
    df = _frame()
    df["site"] = np.where(df.index % 3 == 0, 7.0, 12.0)  # float column of integer codes
    df["race"] = np.where(df.index % 2 == 0, "Black", "White")
    r = evaluate_predictions(df, ["site", "race"], intersect=True, threshold="fixed:0.5")
    assert set(r["attributes"]["site"]["groups"]) == {"7", "12"}
    assert set(r["attributes"]["race"]["groups"]) == {"Black", "White"}
    assert set(r["attributes"]["site__x__race"]["groups"]) == {
        "7&Black", "7&White", "12&Black", "12&White"}
    cell = df[(df["site"] == 7) & (df["race"] == "Black")]
    assert r["attributes"]["site__x__race"]["groups"]["7&Black"]["n"] == len(cell)


def test_bins_group_a_continuous_attribute():
    df = _frame()
    df["age"] = np.linspace(20, 90, len(df))
    r = evaluate_predictions(df, ["age"], bins={"age": [0, 60, float("inf")]},
                             threshold="fixed:0.5")
    groups = r["attributes"]["age"]["groups"]
    assert set(groups) == {"[0, 60)", "[60, inf)"}
    assert groups["[0, 60)"]["n"] == int((df["age"] < 60).sum())


def test_small_groups_are_reported_flagged_and_left_out_of_gaps():
    df = _frame(300)
    df.loc[:4, "sex"] = "other"  # 5 rows
    r = evaluate_predictions(df, ["sex"], threshold="fixed:0.5", min_group_size=20)
    section = r["attributes"]["sex"]
    assert section["groups"]["other"]["n"] == 5
    assert any("'other'" in f and "n=5" in f for f in section["flags"])
    big = [section["groups"][g]["acc"] for g in ("female", "male")]
    assert section["disparity"]["acc"]["gap"] == pytest.approx(max(big) - min(big))


def test_nan_scores_are_an_error_naming_the_rows():
    df = _frame()
    df.loc[[3, 17], "score"] = np.nan
    with pytest.raises(UserError, match=r"'score'.*2 row\(s\): 3, 17"):
        evaluate_predictions(df, ["sex"], threshold="fixed:0.5", source="p.csv")


def test_scores_outside_unit_interval_are_an_error():
    df = _frame()
    df.loc[5, "score"] = 2.5
    with pytest.raises(UserError, match=r"\[0, 1\].*row\(s\): 5.*logits"):
        evaluate_predictions(df, ["sex"], threshold="fixed:0.5")


def test_missing_attribute_column_lists_the_columns():
    with pytest.raises(UserError, match=r"p.csv: missing column\(s\) 'race'.*y, score, sex"):
        evaluate_predictions(_frame(), ["race"], threshold="fixed:0.5", source="p.csv")


def test_labels_must_be_binary():
    df = _frame()
    df.loc[9, "y"] = 2
    with pytest.raises(UserError, match=r"'y' must be 0 or 1.*row\(s\): 9"):
        evaluate_predictions(df, ["sex"], threshold="fixed:0.5")


def test_fitted_threshold_without_split_needs_explicit_consent():
    df = _frame()
    with pytest.raises(UserError, match="--threshold-on-eval"):
        evaluate_predictions(df, ["sex"])
    r = evaluate_predictions(df, ["sex"], threshold_on_eval=True)
    assert r["threshold"]["fitted_on"] == "eval" and "optimistic" in r["threshold"]["note"]
    assert r["threshold"]["value"] == choose_threshold(df["y"], df["score"], "youden")


def test_threshold_is_fitted_on_val_and_metrics_on_test():
    df = _frame(400)
    df["split"] = np.where(df.index % 2 == 0, "val", "test")
    df.loc[df["split"] == "test", "score"] **= 2  # test scores differ from val scores
    r = evaluate_predictions(df, ["sex"], threshold="f1")
    val, test = df[df["split"] == "val"], df[df["split"] == "test"]
    t = choose_threshold(val["y"], val["score"], "f1")
    assert r["threshold"] == {"value": t, "rule": "f1", "fitted_on": "val", "n_fit": len(val)}
    assert r["overall"]["n"] == len(test) and r["evaluated_on"] == "test"
    assert r["overall"]["selection_rate"] == pytest.approx((test["score"] >= t).mean())


def test_decision_column_overrides_thresholding():
    df = _frame()
    df["decision"] = (df.index % 2).astype(int)
    r = evaluate_predictions(df, ["sex"], threshold="fixed:0.5")
    assert r["threshold"]["fitted_on"] == "method"
    assert r["overall"]["selection_rate"] == pytest.approx(df["decision"].mean())


def test_unknown_threshold_rule_lists_the_valid_ones():
    with pytest.raises(UserError, match="youden, f1, fixed:<t>, specificity:<s>"):
        evaluate_predictions(_frame(), ["sex"], threshold="median")
