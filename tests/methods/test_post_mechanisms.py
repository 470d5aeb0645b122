"""Mechanism tests of the post-processing methods on synthetic validation scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer
from scipy.stats import norm
from sklearn.metrics import roc_auc_score, roc_curve

from fairmedia.methods.eqodds_postprocess import ScoreColumn
from fairmedia.methods.post_base import PostContext
from fairmedia.methods.registry import get_method, resolve_hparams


def _scores(n: int, seed: int) -> pd.DataFrame:
    """Group 1 is under-served: its positives score lower."""
    rng = np.random.default_rng(seed)
    g = (rng.random(n) < 0.4).astype(int)
    y = (rng.random(n) < 0.4).astype(int)
    logit = rng.normal(0, 1, n) + 2.0 * y - 1.0 * y * g
    return pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "y": y,
                         "score": 1 / (1 + np.exp(-logit)), "group": g})


def _processor(name: str, **hp):
    ctx = PostContext(base_run=Path("."), prepared=None, attribute="sex", group_names=["M", "F"],
                      epoch=0, arch="cnn-small", seed=3)
    return get_method(name)(resolve_hparams(name, hp), ctx)


def _tpr(df: pd.DataFrame, decision: np.ndarray, g: int) -> tuple[float, int]:
    rows = (df["group"] == g).to_numpy() & (df["y"] == 1).to_numpy()
    return float(decision[rows].mean()), int(rows.sum())


def _table(n: int, seed: int, *, shift: float = 1.0, separation: tuple[float, float] = (2.0, 2.0),
           prevalence: tuple[float, float] = (0.3, 0.3)) -> pd.DataFrame:
    """A fixed synthetic score table: a binormal logit per group (positives ``separation[g]``
    higher than negatives, unit variance), group 1's scores shifted down by ``shift``. With equal
    separations both groups share one ROC curve, so only the pooled threshold is unfair."""
    rng = np.random.default_rng(seed)
    g = (rng.random(n) < 0.4).astype(int)
    y = (rng.random(n) < np.asarray(prevalence)[g]).astype(int)
    logit = rng.normal(0, 1, n) + np.asarray(separation)[g] * y - shift * g - 1.0
    return pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "y": y,
                         "score": 1 / (1 + np.exp(-logit)), "group": g})


def _rates(df: pd.DataFrame, decision: np.ndarray) -> dict[int, tuple[float, float]]:
    """Each group's (FPR, TPR) of these decisions, counted directly from the rows."""
    out = {}
    for g in sorted(df["group"].unique()):
        rows = (df["group"] == g).to_numpy()
        y = df["y"].to_numpy()[rows]
        d = np.asarray(decision)[rows]
        out[int(g)] = (float(d[y == 0].mean()), float(d[y == 1].mean()))
    return out


def _counts(df: pd.DataFrame, g: int) -> tuple[int, int]:
    rows = df["group"] == g
    return int((df.loc[rows, "y"] == 0).sum()), int((df.loc[rows, "y"] == 1).sum())


def _decisions(name: str, val: pd.DataFrame, **hp) -> np.ndarray:
    proc = _processor(name, **hp)
    proc.fit(val)
    return proc.transform(val)["decision"].to_numpy()


# Groups differ in shift and in separation, so equalising TPR, FPR or both are different rules.
UNEQUAL = {"shift": 1.0, "separation": (2.5, 1.5)}
TARGET_TPR, TARGET_FPR = 0.8, 0.2


@pytest.mark.parametrize("criterion", ["tpr", "fpr", "both"])
def test_group_threshold_variant_meets_its_target_on_val(criterion):
    val = _table(4000, 0, **UNEQUAL)
    d = _decisions("group-threshold", val, criterion=criterion, target_tpr=TARGET_TPR,
                   target_fpr=TARGET_FPR)
    rates = _rates(val, d)
    for g, (fpr, tpr) in rates.items():
        n_neg, n_pos = _counts(val, g)
        rows = (val["group"] == g).to_numpy()
        yg, sg = val["y"].to_numpy()[rows], val["score"].to_numpy()[rows]
        if criterion == "tpr":  # the group's (1 - target) quantile of positive scores
            assert abs(tpr - TARGET_TPR) <= 1 / n_pos
            assert np.mean(sg[yg == 1] >= np.quantile(sg[yg == 1], 1 - TARGET_TPR)) == \
                pytest.approx(tpr, abs=1 / n_pos)
        elif criterion == "fpr":
            assert abs(fpr - TARGET_FPR) <= 1 / n_neg
            assert np.mean(sg[yg == 0] >= np.quantile(sg[yg == 0], 1 - TARGET_FPR)) == \
                pytest.approx(fpr, abs=1 / n_neg)
        else:  # the point of the group's own ROC curve nearest to the target pair
            roc_fpr, roc_tpr, _ = roc_curve(yg, sg, drop_intermediate=False)
            nearest = np.min(np.hypot(roc_tpr[1:] - TARGET_TPR, roc_fpr[1:] - TARGET_FPR))
            assert np.hypot(tpr - TARGET_TPR, fpr - TARGET_FPR) == pytest.approx(nearest, abs=1e-9)
            assert abs(tpr - TARGET_TPR) < 0.15 and abs(fpr - TARGET_FPR) < 0.15
    # the rate a variant does not set is left unequal (the groups' ROC curves differ)
    if criterion == "tpr":
        assert abs(rates[0][0] - rates[1][0]) > 0.05
    if criterion == "fpr":
        assert abs(rates[0][1] - rates[1][1]) > 0.05


def test_group_threshold_variants_decide_differently():
    val = _table(4000, 0, **UNEQUAL)
    hp = {"target_tpr": TARGET_TPR, "target_fpr": TARGET_FPR}
    d = {c: _decisions("group-threshold", val, criterion=c, **hp) for c in ("tpr", "fpr", "both")}
    for a, b in (("tpr", "fpr"), ("tpr", "both"), ("fpr", "both")):
        assert np.mean(d[a] != d[b]) > 0.01, (a, b)
    # each target is read only by the variants it means something to
    assert np.array_equal(d["tpr"], _decisions("group-threshold", val, criterion="tpr",
                                               target_tpr=TARGET_TPR, target_fpr=0.45))
    assert np.array_equal(d["fpr"], _decisions("group-threshold", val, criterion="fpr",
                                               target_tpr=0.55, target_fpr=TARGET_FPR))


def test_group_threshold_both_meets_both_rates_when_groups_share_a_roc_curve():
    """Equal separations, group 1 shifted: one threshold per group reaches any point of the
    common ROC curve, here the binormal curve's TPR at FPR 0.2, in both groups at once."""
    val = _table(6000, 1, shift=1.0, separation=(2.0, 2.0))
    target_tpr = float(norm.cdf(2.0 + norm.ppf(TARGET_FPR)))
    proc = _processor("group-threshold", criterion="both", target_tpr=target_tpr,
                      target_fpr=TARGET_FPR)
    proc.fit(val)
    rates = _rates(val, proc.transform(val)["decision"].to_numpy())
    for fpr, tpr in rates.values():
        assert abs(tpr - target_tpr) < 0.04 and abs(fpr - TARGET_FPR) < 0.04
    pooled = _rates(val, (val["score"] >= proc.default).to_numpy().astype(int))
    assert abs(pooled[0][1] - pooled[1][1]) > 0.1 and abs(pooled[0][0] - pooled[1][0]) > 0.1


def test_group_threshold_default_equalises_tpr_at_the_pooled_youden_rate():
    val = _table(4000, 2, **UNEQUAL)
    proc = _processor("group-threshold")
    proc.fit(val)
    y, s = val["y"].to_numpy(), val["score"].to_numpy()
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    youden = thr[1:][np.argmax(tpr[1:] - fpr[1:])]
    pooled_tpr = float(np.mean(s[y == 1] >= youden))
    rates = _rates(val, proc.transform(val)["decision"].to_numpy())
    for g, (_, tpr_g) in rates.items():
        assert abs(tpr_g - pooled_tpr) <= 1 / _counts(val, g)[1]
    base = _rates(val, (s >= youden).astype(int))
    assert abs(base[0][1] - base[1][1]) > 0.1  # there was a gap to close


@pytest.mark.parametrize("name,hp", [
    ("group-threshold", {"criterion": "tpr"}), ("group-threshold", {"criterion": "fpr"}),
    ("group-threshold", {"criterion": "both"}), ("eqodds-postprocess", {}),
    ("reject-option", {}), ("reject-option", {"criterion": "tpr"}),
])
def test_default_operating_points_are_not_near_chance(name, hp):
    val = _table(4000, 3, **UNEQUAL)
    for fpr, tpr in _rates(val, _decisions(name, val, **hp)).values():
        assert fpr < 0.5 and tpr - fpr > 0.3


def test_sampled_group_threshold_variants_stay_in_their_fpr_range():
    """Random search draws each variant's targets: an FPR target is an FPR in [0.05, 0.5] (the
    old shared `target` in [0.5, 0.95] put both groups at FPR ~0.7)."""
    val = _table(4000, 3, **UNEQUAL)
    seen = set()
    for k in range(12):
        hp = resolve_hparams("group-threshold", sample_seed=k)
        seen.add(hp["criterion"])
        rates = _rates(val, _decisions("group-threshold", val, **hp))
        for g, (fpr, tpr) in rates.items():
            if hp["criterion"] == "fpr":
                assert abs(fpr - hp["target_fpr"]) <= 1 / _counts(val, g)[0]
            if hp["criterion"] == "tpr":
                assert abs(tpr - hp["target_tpr"]) <= 1 / _counts(val, g)[1]
            if hp["criterion"] != "tpr":
                assert fpr < 0.5 + 0.02
    assert seen == {"tpr", "fpr", "both"}


def test_hparam_sampling_keeps_each_target_in_its_range():
    draws = [resolve_hparams("group-threshold", sample_seed=k) for k in range(300)]
    fprs = np.array([d["target_fpr"] for d in draws])
    tprs = np.array([d["target_tpr"] for d in draws])
    assert fprs.min() >= 0.05 and fprs.max() <= 0.5 and fprs.min() < 0.1 and fprs.max() > 0.45
    assert tprs.min() >= 0.5 and tprs.max() <= 0.95 and tprs.min() < 0.55 and tprs.max() > 0.9
    rng = np.random.default_rng(0)
    declared = get_method("group-threshold").hparams["target_fpr"]
    assert all(0.05 <= declared.sample(rng) <= 0.5 for _ in range(200))


def _upper_hull(fpr: np.ndarray, tpr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ROC convex hull (upper hull through (0, 0) and (1, 1)): the operating points a
    randomised mix of thresholds reaches (Hardt et al. 2016, Sec. 4)."""
    pts = sorted(set(zip(np.r_[0.0, fpr, 1.0], np.r_[0.0, tpr, 1.0], strict=True)))
    hull: list[tuple[float, float]] = []
    for p in pts:
        while len(hull) >= 2 and ((hull[-1][0] - hull[-2][0]) * (p[1] - hull[-2][1])
                                  - (hull[-1][1] - hull[-2][1]) * (p[0] - hull[-2][0])) >= 0:
            hull.pop()
        hull.append(p)
    x, y = np.array(hull).T
    return x, y


def _hardt_point(val: pd.DataFrame) -> tuple[float, float]:
    """Hardt et al.'s equalised-odds optimum for the balanced error, computed here on a grid:
    the common (FPR, TPR) under every group's ROC hull maximising TPR − FPR."""
    x = np.linspace(0, 1, 2001)
    curves = []
    for g in sorted(val["group"].unique()):
        block = val[val["group"] == g]
        fpr, tpr, _ = roc_curve(block["y"], block["score"])
        hx, hy = _upper_hull(fpr, tpr)
        curves.append(np.interp(x, hx, hy))
    y_min = np.min(curves, axis=0)
    best = int(np.argmax(y_min - x))
    return float(x[best]), float(y_min[best])


def test_eqodds_postprocess_reaches_hardts_equalised_odds_optimum():
    val = _table(3000, 4, **UNEQUAL)
    x_best, y_best = _hardt_point(val)
    proc = _processor("eqodds-postprocess")
    proc.fit(val)
    # decisions are random per row: many copies of val give the expected rates
    copies = pd.concat([val] * 100, ignore_index=True)
    rates = _rates(copies, proc.transform(copies)["decision"].to_numpy())
    for fpr, tpr in rates.values():
        assert abs(fpr - x_best) < 0.01 and abs(tpr - y_best) < 0.01
    base = _rates(val, (val["score"] >= 0.5).to_numpy().astype(int))
    assert abs(base[0][1] - base[1][1]) > 0.1


def test_eqodds_postprocess_equal_opportunity_variant_decides_differently():
    val = _table(3000, 4, **UNEQUAL)
    copies = pd.concat([val] * 50, ignore_index=True)
    odds = _processor("eqodds-postprocess")
    odds.fit(val)
    opp = _processor("eqodds-postprocess", constraints="true_positive_rate_parity")
    opp.fit(val)
    r_odds = _rates(copies, odds.transform(copies)["decision"].to_numpy())
    r_opp = _rates(copies, opp.transform(copies)["decision"].to_numpy())
    assert abs(r_opp[0][1] - r_opp[1][1]) < 0.01  # TPRs equal ...
    assert abs(r_opp[0][0] - r_opp[1][0]) > 0.02  # ... FPRs free
    assert abs(r_odds[0][0] - r_odds[1][0]) < 0.01
    assert set(get_method("eqodds-postprocess").hparams["constraints"].choices) == {
        "equalized_odds", "true_positive_rate_parity"}


def test_eqodds_postprocess_matches_fairlearn():
    val, test = _scores(600, 1), _scores(400, 2)
    proc = _processor("eqodds-postprocess")
    proc.fit(val)
    ours = proc.transform(test)["decision"].to_numpy()
    ref = ThresholdOptimizer(estimator=ScoreColumn().fit(None), constraints="equalized_odds",
                             objective="balanced_accuracy_score", prefit=True,
                             predict_method="predict")
    ref.fit(val[["score"]].to_numpy(), val["y"].to_numpy(), sensitive_features=val["group"].to_numpy())
    expected = ref.predict(test[["score"]].to_numpy(), sensitive_features=test["group"].to_numpy(),
                           random_state=3)
    assert np.array_equal(ours, expected)


def _reject_option_by_hand(val: pd.DataFrame, criterion: str, bound: float, n_margins: int = 50):
    """Kamiran et al.'s critical region around the threshold, with AIF360's search: margins
    linspace(0, min(t, 1 − t)), the most balanced-accurate one whose gap is within the bound."""
    y, s, g = val["y"].to_numpy(), val["score"].to_numpy(), val["group"].to_numpy()
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    t = thr[1:][np.argmax(tpr[1:] - fpr[1:])]
    rows = (y == 1) if criterion == "tpr" else np.ones(len(y), bool)
    base = s >= t
    rate = lambda d, k: d[rows & (g == k)].mean()  # noqa: E731
    deprived = [k for k in (0, 1) if rate(base, k) < base[rows].mean()]
    best = None
    for m in np.linspace(0, min(t, 1 - t), n_margins):
        band = np.abs(s - t) <= m
        d = np.where(band, np.isin(g, deprived), base).astype(int)
        gap = abs(rate(d, 0) - rate(d, 1))
        acc = 0.5 * (d[y == 1].mean() + 1 - d[y == 0].mean())
        if gap <= bound and (best is None or acc > best[1]):
            best = (m, acc, d)
    return t, deprived, best


@pytest.mark.parametrize("criterion", ["selection", "tpr"])
def test_reject_option_matches_the_critical_region_rule(criterion):
    val = _table(3000, 5, shift=0.8, separation=(2.5, 1.5), prevalence=(0.35, 0.2))
    proc = _processor("reject-option", criterion=criterion)
    info = proc.fit(val)
    d = proc.transform(val)["decision"].to_numpy()
    t, deprived, (margin, acc, expected) = _reject_option_by_hand(val, criterion, 0.05)
    assert np.array_equal(d, expected) and margin > 0
    assert proc.threshold == pytest.approx(t) and info["deprived"] == ["MF"[k] for k in deprived]
    assert proc.margin == pytest.approx(margin)
    s = val["score"].to_numpy()
    changed = d != (s >= t)
    assert changed.any() and np.all(np.abs(s[changed] - t) <= margin)
    assert info["bound_met"] and info["val_gap_after"] <= 0.05 < info["val_gap_before"]


def test_reject_option_variants_equalise_different_rates():
    val = _table(3000, 5, shift=0.8, separation=(2.5, 1.5), prevalence=(0.35, 0.2))
    sel = _decisions("reject-option", val, criterion="selection")
    tpr = _decisions("reject-option", val, criterion="tpr")
    assert np.mean(sel != tpr) > 0.01
    g, y = val["group"].to_numpy(), val["y"].to_numpy()
    assert abs(sel[g == 0].mean() - sel[g == 1].mean()) <= 0.05
    assert abs(tpr[(g == 0) & (y == 1)].mean() - tpr[(g == 1) & (y == 1)].mean()) <= 0.05
    # a looser bound keeps a narrower, more accurate band
    loose = _processor("reject-option", metric_bound=0.1)
    tight = _processor("reject-option", metric_bound=0.01)
    loose.fit(val)
    tight.fit(val)
    assert loose.margin < tight.margin


@pytest.mark.parametrize("kind", ["platt", "isotonic"])
def test_group_calibrate_matches_each_group_mean_on_val(kind):
    val = _scores(600, 5)
    val["score"] = val["score"] ** 4  # miscalibrate
    proc = _processor("group-calibrate", map=kind)
    proc.fit(val)
    cal = proc.transform(val)["score"]
    # Unpenalised logistic regression and isotonic regression both preserve the mean of y.
    for g in (0, 1):
        rows = val["group"] == g
        assert abs(cal[rows].mean() - val.loc[rows, "y"].mean()) < 1e-3
        assert abs(val.loc[rows, "score"].mean() - val.loc[rows, "y"].mean()) > 0.05


@pytest.mark.parametrize("kind", ["platt", "isotonic"])
def test_group_calibrate_leaves_every_groups_ranking_and_auc(kind):
    """Group 1's validation scores rank it backwards (AUC < 0.5): an unconstrained Platt fit has
    a negative slope and would invert its test ranking, raising its AUC; isotonic steps would tie
    scores. Calibration must leave each group's test AUC exactly as it was."""
    val, test = _scores(600, 5), _scores(600, 6)
    for frame in (val, test):
        inverted = frame["group"] == 1
        frame.loc[inverted, "score"] = 1 - frame.loc[inverted, "score"]
    proc = _processor("group-calibrate", map=kind)
    proc.fit(val)
    cal = proc.transform(test)["score"].to_numpy()
    for g in (0, 1):
        rows = (test["group"] == g).to_numpy()
        y = test["y"].to_numpy()[rows]
        assert roc_auc_score(y, cal[rows]) == roc_auc_score(y, test["score"].to_numpy()[rows])
    assert roc_auc_score(test["y"][test["group"] == 1], test["score"][test["group"] == 1]) < 0.5
    val_cal = proc.transform(val)["score"]  # still a calibration: each group's val mean kept
    for g in (0, 1):
        rows = val["group"] == g
        assert abs(val_cal[rows].mean() - val.loc[rows, "y"].mean()) < 1e-3
