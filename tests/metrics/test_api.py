"""``FairnessReport``: its tables against fairlearn/sklearn, its inputs, and docs/api.md run."""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import roc_auc_score

from fairmedia.errors import UserError
from fairmedia.metrics import FairnessReport, evaluate_predictions
from fairmedia.metrics.render import render_html, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
T = 0.5


def _data(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    site = rng.choice(["a", "b", "c"], n, p=[0.5, 0.4, 0.1])
    y = (rng.uniform(size=n) < np.where(sex == "F", 0.3, 0.45)).astype(int)
    logit = 1.6 * y - 0.8 + 0.4 * (site == "b") + rng.normal(size=n)
    return pd.DataFrame({"label": y, "prob": 1 / (1 + np.exp(-logit)), "sex": sex, "site": site,
                         "pid": rng.integers(0, n // 3, n)})


def test_by_group_and_criteria_match_fairlearn_and_sklearn():
    df = _data()
    rep = FairnessReport(df["label"], df["prob"], df[["sex", "site"]],
                         threshold=f"fixed:{T}", min_group_size=0)
    table = rep.by_group.set_index(["attribute", "group"])
    d = (df["prob"] >= T).astype(int)
    for attr in ("sex", "site"):
        frame = MetricFrame(
            metrics={"tpr": true_positive_rate, "fpr": false_positive_rate,
                     "selection_rate": selection_rate},
            y_true=df["label"], y_pred=d, sensitive_features=df[attr],
        )
        # AUC needs the scores, not the decisions: a second MetricFrame with y_pred = scores
        auc = MetricFrame(metrics=roc_auc_score, y_true=df["label"], y_pred=df["prob"],
                          sensitive_features=df[attr]).by_group
        for group, row in frame.by_group.iterrows():
            ours = table.loc[(attr, str(group))]
            for metric in ("tpr", "fpr", "selection_rate"):
                assert ours[metric] == pytest.approx(row[metric], abs=1e-12), (attr, metric)
            assert ours["auc"] == pytest.approx(auc[group], abs=1e-12)
            assert ours["n"] == (df[attr] == group).sum()
        crit = rep.criteria.set_index(["attribute", "criterion"])["value"]
        assert crit[(attr, "equalized_odds")] == pytest.approx(
            equalized_odds_difference(df["label"], d, sensitive_features=df[attr]), abs=1e-12)
        assert crit[(attr, "demographic_parity")] == pytest.approx(
            demographic_parity_difference(df["label"], d, sensitive_features=df[attr]),
            abs=1e-12)
        # MetricFrame.difference()/ratio() over all groups (min_group_size=0 here)
        for metric in ("tpr", "fpr", "selection_rate"):
            assert rep.difference().loc[attr, metric] == pytest.approx(
                frame.difference()[metric], abs=1e-12)
            assert rep.ratio().loc[attr, metric] == pytest.approx(
                frame.ratio()[metric], abs=1e-12)
    assert rep.overall["auc"] == pytest.approx(roc_auc_score(df["label"], df["prob"]))


def test_arrays_and_any_column_names_give_the_same_report():
    df = _data(600)
    df["fold"] = np.where(np.arange(len(df)) % 3 == 0, "val", "test")
    canonical = df.rename(columns={"label": "y", "prob": "score", "pid": "patient_id",
                                   "fold": "split"})
    options = {"attributes": ["sex", "site"], "bootstrap": 30, "seed": 3}
    expected = evaluate_predictions(canonical, **options, source="s")
    framed = FairnessReport.from_frame(df, label="label", score="prob", patient="pid",
                                       split="fold", **options, source="s")
    arrays = FairnessReport(df["label"].to_numpy(), df["prob"].to_numpy(),
                            {"sex": df["sex"], "site": df["site"].to_numpy()},
                            patient_ids=df["pid"], split=df["fold"], bootstrap=30, seed=3,
                            source="s")
    assert framed.to_dict() == expected
    assert arrays.to_dict() == expected
    assert expected["bootstrap"]["cluster"] == "patient_id"


def test_by_group_marks_small_groups_and_carries_the_cis():
    df = _data(600)
    rep = FairnessReport.from_frame(df, label="label", score="prob", attributes="site",
                                    threshold=f"fixed:{T}", bootstrap=20, min_group_size=70)
    report = rep.to_dict()
    table = rep.by_group.set_index("group")
    sizes = df["site"].value_counts()
    assert table["small"].to_dict() == {g: bool(sizes[g] < 70) for g in table.index}
    assert table["small"].any() and not table["small"].all()
    for group in table.index:
        low, high = report["ci"]["attributes"]["site"]["groups"][group]["auc"]
        assert (table.loc[group, "auc_low"], table.loc[group, "auc_high"]) == (low, high)
    ci = rep.ci
    row = ci[(ci.kind == "criterion") & (ci.name == "equalized_odds")].iloc[0]
    assert [row.low, row.high] == report["ci"]["attributes"]["site"]["criteria"]["equalized_odds"]
    assert row.estimate == report["attributes"]["site"]["criteria"]["equalized_odds"]
    # disparities are over the groups that are not small: gap = max - min of those
    big = rep.by_group.query("not small")
    gap = rep.disparities.set_index("metric").loc["tpr", "gap"]
    assert gap == pytest.approx(big["tpr"].max() - big["tpr"].min(), abs=1e-12)


def test_undefined_values_say_why():
    df = _data(400)
    rep = FairnessReport(df["label"], df["prob"], df["sex"], threshold=f"fixed:{T}",
                         min_group_size=10_000)
    crit = rep.criteria
    assert crit["value"].isna().all()
    assert set(crit["note"]) == {"undefined: needs at least 2 groups with n >= min_group_size "
                                 "and the rates defined"}
    one_class = FairnessReport([0, 0, 1, 1], [0.1, 0.6, 0.7, 0.8], ["a", "a", "b", "b"],
                               threshold="fixed:0.5", min_group_size=0)
    row = one_class.by_group.set_index("group").loc["a"]
    assert math.isnan(row["auc"]) and math.isnan(row["tpr"])
    assert "auc: single class in group (n_pos=0, n_neg=2)" in row["undefined"]
    assert "tpr: no positives (y=1) in group" in row["undefined"]


def test_sensitive_feature_forms_and_renderings():
    y, s = [0, 1, 0, 1, 1, 0], [0.2, 0.9, 0.4, 0.7, 0.3, 0.6]
    g = ["a", "a", "a", "b", "b", "b"]
    opts = {"threshold": "fixed:0.5", "min_group_size": 0}
    assert list(FairnessReport(y, s, g, **opts).to_dict()["attributes"]) == ["sensitive_feature_0"]
    assert list(FairnessReport(y, s, pd.Series(g, name="sex"), **opts).to_dict()["attributes"]) \
        == ["sex"]
    two = FairnessReport(y, s, np.array([g, g[::-1]]).T, **opts).to_dict()
    assert list(two["attributes"]) == ["sensitive_feature_0", "sensitive_feature_1"]
    rep = FairnessReport(y, s, {"sex": g}, **opts)
    assert rep.to_markdown() == render_markdown(rep.to_dict())
    assert rep.to_html() == render_html(rep.to_dict()) == rep._repr_html_()
    assert "sex" in str(rep) and "n_eval=6" in repr(rep)
    assert FairnessReport.from_dict(rep.to_dict()).to_dict() == rep.to_dict()


def test_y_pred_replaces_thresholding():
    df = _data(800, seed=4)
    rng = np.random.default_rng(5)
    decisions = rng.integers(0, 2, len(df))  # unrelated to the scores: thresholding would differ
    rep = FairnessReport(df["label"], df["prob"], pd.DataFrame({0: df["sex"]}), y_pred=decisions,
                         min_group_size=0)
    assert rep.to_dict()["threshold"]["rule"] == "decision"
    frame = MetricFrame(metrics=true_positive_rate, y_true=df["label"], y_pred=decisions,
                        sensitive_features=df["sex"])
    table = rep.by_group.set_index("group")
    assert table["attribute"].unique().tolist() == ["0"]
    for group, value in frame.by_group.items():
        assert table.loc[group, "tpr"] == pytest.approx(value, abs=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda df: FairnessReport.from_frame(df, label="lbl", score="prob", attributes=["sex"]),
         "<DataFrame>: missing column(s) 'lbl'; columns present: label, prob, sex, site, "
         "pid"),
        (lambda df: FairnessReport.from_frame(df, label="label", score="prob",
                                              attributes=["sex"], patient="patient"),
         "<DataFrame>: missing column(s) 'patient'; columns present: label, prob, sex, "
         "site, pid"),
        (lambda df: FairnessReport(df["label"], df["prob"][:5], df["sex"]),
         "score: expected 600 values like y_true, got shape (5,)"),
        (lambda df: FairnessReport(df["label"], df["prob"], df["sex"][:5]),
         "sensitive_features has 5 rows, y_true has 600"),
        (lambda df: FairnessReport(df["label"], df["prob"], {"split": df["sex"]},
                                   split=df["site"]),
         "sensitive_features: a feature may not be called 'split'"),
        (lambda df: FairnessReport(df["label"], df["prob"], df["sex"]),
         "has no split column"),
    ],
)
def test_bad_input_is_a_user_error(call, message):
    with pytest.raises(UserError) as err:
        call(_data(600))
    assert message in str(err.value)


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_docs_api_examples_run(tmp_path, monkeypatch):
    """Every ```python block of docs/api.md, in order, in one namespace (so the doc never goes
    stale); the doc makes its own data and writes files only in the working directory."""
    blocks = _python_blocks(DOC.read_text())
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for k, block in enumerate(blocks):
        exec(compile(block, f"{DOC}:block{k}", "exec"), namespace)  # noqa: S102
    report = namespace["report"]
    assert isinstance(report, FairnessReport)
    assert report.to_dict()["threshold"]["fitted_on"] == "val"
    assert (tmp_path / "report.html").exists()
