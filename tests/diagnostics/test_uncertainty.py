"""``fairmedia uncertainty``: conformal sets against a hand-written split-conformal, selective
prediction against sklearn on the kept rows, bad input as UserError."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom
from sklearn.metrics import accuracy_score, roc_auc_score

from fairmedia.cli import main
from fairmedia.diagnostics.uncertainty import uncertainty_report
from fairmedia.errors import UserError
from fairmedia.metrics.thresholds import choose_threshold


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Two groups, B harder (scores less separated and nearer 0.5), half val / half test."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], n, p=[0.6, 0.4])
    y = rng.integers(0, 2, n)
    spread, noise = np.where(group == "A", 0.6, 0.2), np.where(group == "A", 0.2, 0.12)
    score = np.clip(0.5 + (y - 0.5) * spread + rng.normal(0, noise), 0.001, 0.999).round(3)
    return pd.DataFrame({"y": y, "score": score, "grp": group,
                         "split": np.where(np.arange(n) % 2 == 0, "val", "test")})


def _hand_sets(val_y, val_s, test_s, alpha):
    """Split-conformal with LAC by hand: q = the ceil((n+1)(1-alpha))-th smallest val score of
    1 - p(true class); class k is in the set when 1 - p_k <= q."""
    nc = 1.0 - np.where(val_y == 1, val_s, 1.0 - val_s)
    k = math.ceil((len(nc) + 1) * (1 - alpha))
    q = np.sort(nc)[k - 1]
    return np.column_stack([1.0 - (1.0 - test_s) <= q, 1.0 - test_s <= q])


def test_marginal_and_mondrian_sets_match_hand_written_split_conformal():
    df = _frame()
    rep = uncertainty_report(df, "grp", alpha=0.1)
    val, test = df[df.split == "val"], df[df.split == "test"]
    sets = _hand_sets(val.y.to_numpy(), val.score.to_numpy(), test.score.to_numpy(), 0.1)
    ty = test.y.to_numpy()
    for g in ("A", "B"):
        m = (test.grp == g).to_numpy()
        got = rep["conformal"]["marginal"]["groups"][g]
        assert got["n"] == m.sum()
        assert got["coverage"] == pytest.approx(sets[m][np.arange(m.sum()), ty[m]].mean())
        assert got["mean_set_size"] == pytest.approx(sets[m].sum(axis=1).mean())
        gv = val[val.grp == g]
        g_sets = _hand_sets(gv.y.to_numpy(), gv.score.to_numpy(), test.score.to_numpy()[m], 0.1)
        mond = rep["conformal"]["mondrian"]["groups"][g]
        assert mond["coverage"] == pytest.approx(g_sets[np.arange(m.sum()), ty[m]].mean())
        assert mond["mean_set_size"] == pytest.approx(g_sets.sum(axis=1).mean())
    # the harder group gets larger sets under the one marginal quantile
    groups = rep["conformal"]["marginal"]["groups"]
    assert groups["B"]["mean_set_size"] > groups["A"]["mean_set_size"]


def test_marginal_coverage_at_least_one_minus_alpha_on_a_large_iid_sample():
    df = _frame(n=20000, seed=1)
    cov = uncertainty_report(df, "grp", alpha=0.1)["conformal"]["marginal"]["overall"]
    # coverage is >= 0.9 in expectation; the test mean of 10000 rows may fall below by chance:
    # allow the binomial 0.1 % lower quantile
    slack = binom.ppf(0.001, 10000, 0.9) / 10000
    assert cov["coverage"] >= slack
    assert cov["coverage"] <= 0.9 + 0.03  # and not trivially full sets


def test_selective_curve_at_100_and_50_percent_against_sklearn():
    df = _frame()
    rep = uncertainty_report(df, "grp")
    val, test = df[df.split == "val"], df[df.split == "test"].reset_index(drop=True)
    t = choose_threshold(val.y.to_numpy(), val.score.to_numpy(), "youden")
    assert rep["threshold"]["value"] == t
    decision = (test.score >= t).astype(int)
    # at 50 %: keep the 50 % of all test rows farthest from the threshold (stable order)
    order = np.argsort(-np.abs(test.score.to_numpy() - t), kind="stable")
    kept = np.zeros(len(test), bool)
    kept[order[: round(0.5 * len(test))]] = True
    for g in ("A", "B"):
        curve = {p["target_coverage"]: p for p in rep["selective"]["curves"][g]}
        m = (test.grp == g).to_numpy()
        assert curve[1.0]["auc"] == pytest.approx(roc_auc_score(test.y[m], test.score[m]))
        assert curve[1.0]["acc"] == pytest.approx(accuracy_score(test.y[m], decision[m]))
        k = m & kept
        assert curve[0.5]["n_kept"] == k.sum()
        assert curve[0.5]["coverage"] == pytest.approx(k.sum() / m.sum())
        assert curve[0.5]["auc"] == pytest.approx(roc_auc_score(test.y[k], test.score[k]))
        assert curve[0.5]["acc"] == pytest.approx(accuracy_score(test.y[k], decision[k]))
    # the harder group is deferred more: it keeps less than the global 50 %
    assert {p["target_coverage"]: p for p in rep["selective"]["curves"]["B"]}[0.5]["coverage"] < 0.5
    gap = rep["selective"]["gap_at_80"]["acc"]
    at80 = {g: {p["target_coverage"]: p for p in rep["selective"]["curves"][g]}[0.8]["acc"]
            for g in ("A", "B")}
    assert gap["value"] == pytest.approx(abs(at80["A"] - at80["B"]))
    assert gap["worst_group"] == min(at80, key=at80.get)


def test_no_val_rows_is_a_user_error():
    df = _frame().assign(split="test")
    with pytest.raises(UserError, match=r"no 'val' rows in column 'split'"):
        uncertainty_report(df, "grp", source="pred.csv")


def test_unknown_attribute_is_a_user_error():
    with pytest.raises(UserError, match=r"pred.csv: missing column\(s\) 'race'"):
        uncertainty_report(_frame(), "race", source="pred.csv")


def test_command_writes_json_markdown_and_figures(tmp_path, capsys):
    path = tmp_path / "pred.parquet"
    _frame().to_parquet(path)
    assert main(["uncertainty", str(path), "--attr", "grp", "--out", str(tmp_path / "u")]) == 0
    rep = json.loads((tmp_path / "u" / "uncertainty.json").read_text())
    assert set(rep["calibration"]) == {"overall", "A", "B"}
    assert "## Split-conformal" in (tmp_path / "u" / "uncertainty.md").read_text()
    for stem in ("reliability", "selective"):
        for ext in ("png", "pdf"):
            assert (tmp_path / "u" / f"{stem}.{ext}").stat().st_size > 1000
    assert main(["uncertainty", str(path), "--attr", "nope", "--out", str(tmp_path / "u")]) == 2
    assert "missing column(s) 'nope'" in capsys.readouterr().err
