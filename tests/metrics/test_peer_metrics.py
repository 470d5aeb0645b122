"""Peer metrics (AIF360, Fairlearn, MEDFAIR) against their published definitions, hand-computed
here, and against sklearn / fairlearn / scipy where those implement them."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
)

from fairmedia.errors import UserError
from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.ranking_metrics import sensitivity_at_specificity

T = 0.5


def _three_groups() -> pd.DataFrame:
    """A fixed table: group a (6 rows), b (5 rows), c (4 rows)."""
    rows = [  # (group, y, score)
        ("a", 1, .9), ("a", 1, .8), ("a", 1, .3), ("a", 0, .6), ("a", 0, .2), ("a", 0, .1),
        ("b", 1, .7), ("b", 1, .4), ("b", 0, .55), ("b", 0, .52), ("b", 0, .3),
        ("c", 1, .95), ("c", 0, .9), ("c", 0, .2), ("c", 1, .1),
    ]
    return pd.DataFrame(rows, columns=["grp", "y", "score"])


def _rates(part: pd.DataFrame) -> tuple[float, float, float]:
    d = part["score"] >= T
    y = part["y"] == 1
    return d[y].mean(), d[~y].mean(), d.mean()  # TPR, FPR, selection rate


def test_confusion_rates_match_sklearn_and_counts():
    df = _three_groups()
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0)
    for key, part in df.groupby("grp"):
        row = report["attributes"]["grp"]["groups"][key]
        y, d = part["y"].to_numpy(), (part["score"] >= T).astype(int).to_numpy()
        tp, fp = int(((d == 1) & (y == 1)).sum()), int(((d == 1) & (y == 0)).sum())
        fn, tn = int(((d == 0) & (y == 1)).sum()), int(((d == 0) & (y == 0)).sum())
        assert row["npv"] == pytest.approx(precision_score(1 - y, 1 - d, zero_division=np.nan))
        assert row["npv"] == pytest.approx(tn / (tn + fn))
        assert row["for"] == pytest.approx(fn / (tn + fn))
        assert row["fdr"] == pytest.approx(1 - precision_score(y, d))
        assert row["fdr"] == pytest.approx(fp / (tp + fp))
        assert row["balanced_acc"] == pytest.approx(balanced_accuracy_score(y, d))
        assert row["f1"] == pytest.approx(f1_score(y, d))


def test_aif360_differences_against_the_privileged_group_hand_computed():
    df = _three_groups()
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0,
                                  privileged={"grp": "b"})
    block = report["attributes"]["grp"]["privileged"]
    assert block["group"] == "b" and block["chosen_by"] == "given"
    tpr_p, fpr_p, sr_p = _rates(df[df["grp"] == "b"])
    # AIF360: unprivileged = rows of any unprivileged group, pooled
    tpr_u, fpr_u, sr_u = _rates(df[df["grp"] != "b"])
    rest = block["vs_rest"]
    assert rest["true_positive_rate_difference"] == pytest.approx(tpr_u - tpr_p)
    assert rest["false_positive_rate_difference"] == pytest.approx(fpr_u - fpr_p)
    assert rest["statistical_parity_difference"] == pytest.approx(sr_u - sr_p)
    assert rest["average_odds_difference"] == pytest.approx(((fpr_u - fpr_p) + (tpr_u - tpr_p)) / 2)
    assert rest["average_abs_odds_difference"] == pytest.approx(
        (abs(fpr_u - fpr_p) + abs(tpr_u - tpr_p)) / 2)
    tpr_a, fpr_a, _ = _rates(df[df["grp"] == "a"])
    assert block["vs_group"]["a"]["average_odds_difference"] == pytest.approx(
        ((fpr_a - fpr_p) + (tpr_a - tpr_p)) / 2)
    assert set(block["vs_group"]) == {"a", "c"}


def test_two_groups_agree_with_fairlearn():
    df = _three_groups()
    df = df[df["grp"] != "c"]
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0,
                                  privileged={"grp": "a"})
    rest = report["attributes"]["grp"]["privileged"]["vs_rest"]
    d, sf = (df["score"] >= T).astype(int), df["grp"]
    # for two groups the mean of the two absolute gaps is fairlearn's agg="mean"
    assert rest["average_abs_odds_difference"] == pytest.approx(
        equalized_odds_difference(df["y"], d, sensitive_features=sf, agg="mean"))
    assert abs(rest["statistical_parity_difference"]) == pytest.approx(
        demographic_parity_difference(df["y"], d, sensitive_features=sf))


def _between_group_ge(df: pd.DataFrame, groups: pd.Series, alpha: float) -> float:
    """AIF360's definition row by row: b_i = ŷ_i − y_i + 1, replaced by its group's mean."""
    b = (df["score"] >= T).astype(float) - df["y"] + 1
    b = b.groupby(groups).transform("mean").to_numpy()
    mu = b.mean()
    if alpha == 1:
        return float(np.mean(b / mu * np.log(b / mu)))
    return float(np.sum((b / mu) ** alpha - 1) / (len(b) * alpha * (alpha - 1)))


def test_between_all_groups_entropy_indices_hand_computed():
    df = _three_groups()
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0)
    crit = report["attributes"]["grp"]["criteria"]
    assert report["generalized_entropy_alpha"] == 2
    assert crit["between_all_groups_generalized_entropy"] == pytest.approx(
        _between_group_ge(df, df["grp"], 2))
    assert crit["between_all_groups_theil"] == pytest.approx(_between_group_ge(df, df["grp"], 1))
    assert crit["between_all_groups_theil"] > 0
    # small groups are left out, as for the other criteria: c (4 rows) with min_group_size=5
    small = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=5)
    rest = df[df["grp"] != "c"]
    assert small["attributes"]["grp"]["criteria"]["between_all_groups_theil"] == pytest.approx(
        _between_group_ge(rest, rest["grp"], 1))


def test_between_group_entropy_of_privileged_vs_the_pooled_rest_hand_computed():
    # AIF360's between_group_* index: the privileged and the unprivileged rows, two groups
    df = _three_groups()
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0,
                                  privileged={"grp": "a"})
    block = report["attributes"]["grp"]["privileged"]
    two = df["grp"] == "a"
    assert block["vs_rest"]["between_group_generalized_entropy"] == pytest.approx(
        _between_group_ge(df, two, 2))
    assert block["vs_rest"]["between_group_theil"] == pytest.approx(_between_group_ge(df, two, 1))
    pair = df[df["grp"] != "c"]
    assert block["vs_group"]["b"]["between_group_theil"] == pytest.approx(
        _between_group_ge(pair, pair["grp"], 1))


def _best_tpr_by_brute_force(y, score, specificity):
    """Highest TPR over every threshold whose specificity is >= s, counted directly."""
    best = 0.0
    for t in np.r_[np.unique(score), np.inf]:
        d = score >= t
        if (~d[y == 0]).mean() >= specificity - 1e-12:
            best = max(best, d[y == 1].mean())
    return best


def test_sensitivity_at_specificity_is_the_best_tpr_at_that_specificity_without_ties():
    # Without tied scores the ROC is a staircase, and its interpolation at a specificity is the
    # most sensitive threshold with at least that specificity. (MEDFAIR's interp1d(1 - FPR, TPR)
    # is ambiguous here: every vertical step repeats a 1 - FPR value; docs/metrics.md.)
    rng = np.random.default_rng(3)
    y = np.r_[np.ones(40), np.zeros(60)].astype(int)
    score = np.r_[rng.normal(1, 1, 40), rng.normal(0, 1, 60)]
    for s in (0.77, 0.8, 0.93, 0.5):
        assert sensitivity_at_specificity(y, score, s) == pytest.approx(
            _best_tpr_by_brute_force(y, score, s))


def test_sensitivity_at_specificity_on_vertical_and_tied_roc_segments():
    # sorted by score: P .7, P .6, N .5, N .4, P .35, N .3, N .2, N .1; ROC vertices (fpr, tpr):
    # (0, 0) (0, 1/3) (0, 2/3) (.2, 2/3) (.4, 2/3) (.4, 1) (.6, 1) ...
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    score = np.array([.1, .2, .3, .4, .5, .6, .7, .35])
    assert sensitivity_at_specificity(y, score, 0.6) == pytest.approx(1.0)  # top of vertical
    assert sensitivity_at_specificity(y, score, 1.0) == pytest.approx(2 / 3)  # top at fpr 0
    assert sensitivity_at_specificity(y, score, 0.7) == pytest.approx(2 / 3)  # horizontal
    # a tie between a positive and a negative makes a diagonal segment (0, .5) -> (.5, 1)
    tied = sensitivity_at_specificity(np.array([1, 0, 1, 0]), np.array([.5, .5, .9, .1]), 0.75)
    assert tied == pytest.approx(0.75)


def test_ranking_metrics_per_group_and_the_global_val_threshold():
    df = _three_groups().assign(split="test")
    val = pd.DataFrame({"grp": "a", "y": [0, 0, 0, 0, 0, 1, 1],
                        "score": [.1, .2, .3, .4, .45, .42, .9], "split": "val"})
    report = evaluate_predictions(pd.concat([df, val], ignore_index=True), ["grp"],
                                  threshold="youden", min_group_size=0, target_specificity=0.8)
    point = report["specificity_operating_point"]
    # specificity >= 0.8 on the 5 val negatives .1 .2 .3 .4 .45: at most one predicted 1; the
    # most sensitive such threshold takes both positives (.42, .9): t = .42
    assert point["fitted_on"] == "val" and point["threshold"] == pytest.approx(0.42)
    for key, part in df.groupby("grp"):
        row = report["attributes"]["grp"]["groups"][key]
        assert row["average_precision"] == pytest.approx(
            average_precision_score(part["y"], part["score"]))
        assert row["tpr_at_val_specificity"] == pytest.approx(
            (part.loc[part["y"] == 1, "score"] >= 0.42).mean())
        assert row["sensitivity_at_specificity"] == pytest.approx(
            sensitivity_at_specificity(part["y"].to_numpy(), part["score"].to_numpy(), 0.8))


def test_worst_group_is_named_beside_its_value():
    df = _three_groups()
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0)
    section = report["attributes"]["grp"]
    tprs = {k: _rates(p)[0] for k, p in df.groupby("grp")}
    fprs = {k: _rates(p)[1] for k, p in df.groupby("grp")}
    assert section["worst_group"]["tpr"] == min(tprs, key=tprs.get)  # higher is better
    assert section["worst_group"]["fpr"] == max(fprs, key=fprs.get)  # lower is better
    worst = section["worst_group"]["auc"]
    assert section["groups"][worst]["auc"] == section["disparity"]["auc"]["worst"]
    # a group below min_group_size is never the worst
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=5)
    assert report["attributes"]["grp"]["worst_group"]["tpr"] != "c"


def test_three_way_intersection_groups_and_counts():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                       "sex": rng.choice(["F", "M"], n), "age": rng.choice(["old", "young"], n),
                       "site": rng.choice(["s1", "s2", "s3"], n)})
    df.loc[:4, "site"] = None  # missing in one part: in no intersection group
    report = evaluate_predictions(df, ["sex", "age", "site"], threshold=f"fixed:{T}",
                                  intersect=True, intersect_order=3, min_group_size=0)
    names = list(report["attributes"])
    # the pairs keep their names and order; the triple follows
    assert names == ["sex", "age", "site", "sex__x__age", "sex__x__site", "age__x__site",
                     "sex__x__age__x__site"]
    groups = report["attributes"]["sex__x__age__x__site"]["groups"]
    expected = df.dropna().groupby(["sex", "age", "site"]).size()
    assert {k: v["n"] for k, v in groups.items()} == {
        "&".join(k): int(v) for k, v in expected.items()}
    assert report["attributes"]["sex__x__age__x__site"]["n_missing"] == 5
    pairs_only = evaluate_predictions(df, ["sex", "age", "site"], threshold=f"fixed:{T}",
                                      intersect=True, min_group_size=0)
    assert list(pairs_only["attributes"]) == names[:-1]


def test_default_privileged_group_is_the_largest_train_group():
    df = _three_groups().assign(split="test")
    train = pd.DataFrame({"grp": ["c"] * 5 + ["a"] * 3, "y": 0, "score": 0.5, "split": "train"})
    report = evaluate_predictions(pd.concat([df, train], ignore_index=True), ["grp"],
                                  threshold=f"fixed:{T}", min_group_size=0)
    block = report["attributes"]["grp"]["privileged"]
    assert block["group"] == "c" and block["chosen_by"] == "largest group of the train rows (n=5)"
    no_train = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0)
    assert no_train["attributes"]["grp"]["privileged"]["group"] == "a"  # 6 evaluated rows


@pytest.mark.parametrize("given, message", [
    ({"grp": "z"}, "privileged group 'z' of 'grp' is not among its evaluated groups"),
    ({"sex": "M"}, "privileged group given for ['sex'], which are not evaluated"),
])
def test_a_bad_privileged_group_is_a_user_error(given, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        evaluate_predictions(_three_groups(), ["grp"], threshold=f"fixed:{T}", privileged=given)


def test_privileged_differences_and_entropy_have_bootstrap_intervals():
    df = _three_groups()
    df = pd.concat([df] * 4, ignore_index=True).assign(patient_id=lambda d: np.arange(len(d)))
    report = evaluate_predictions(df, ["grp"], threshold=f"fixed:{T}", min_group_size=0,
                                  bootstrap=40, privileged={"grp": "a"})
    ci = report["ci"]["attributes"]["grp"]
    low, high = ci["privileged"]["vs_rest"]["average_odds_difference"]
    assert low <= high and high - low > 0
    assert len(ci["criteria"]["between_all_groups_theil"]) == 2
    assert len(ci["privileged"]["vs_rest"]["between_group_theil"]) == 2
    assert len(ci["groups"]["a"]["f1"]) == 2


def test_fairness_report_tables_carry_the_privileged_differences_and_worst_group_names():
    from fairmedia.metrics import FairnessReport
    from fairmedia.metrics.render import render_markdown

    df = _three_groups()
    rep = FairnessReport(df["y"], df["score"], {"grp": df["grp"]}, threshold=f"fixed:{T}",
                         min_group_size=0, privileged={"grp": "c"})
    table = rep.privileged.set_index(["versus", "measure"])
    report = rep.to_dict()["attributes"]["grp"]
    assert table.loc[("rest", "average_odds_difference"), "value"] == pytest.approx(
        report["privileged"]["vs_rest"]["average_odds_difference"])
    assert set(table.index.get_level_values("versus")) == {"rest", "a", "b"}
    assert (table["privileged"] == "c").all()
    worst = rep.disparities.set_index("metric").loc["tpr", "worst_group"]
    assert worst == report["worst_group"]["tpr"]
    line = next(x for x in render_markdown(rep.to_dict()).splitlines() if x.startswith("| tpr |"))
    assert line.endswith(f"| {worst} |")
    page = rep.to_html()
    assert "Against the privileged group c" in page and "<th>worst group</th>" in page
    assert f"<td>{worst}</td></tr>" in page
