"""Uncertainty and deferral per group: conformal coverage, selective prediction, calibration.

Three questions a user deferring uncertain cases to a clinician asks, answered per group on the
test rows of a predictions table (``y``, ``score`` = p(class 1), ``split``, the attribute):

- **Conformal prediction sets** (split-conformal, fitted on the val rows at level ``alpha``):
  nonconformity score LAC, ``1 - p(true class)`` with p = (1 - score, score). *Marginal*: one
  quantile from all val rows (the standard method; its guarantee is coverage >= 1 - alpha over
  all rows, not per group), then per-group coverage and mean set size on test. *Mondrian*: one
  quantile per group from that group's val rows (coverage >= 1 - alpha within each group). MAPIE's
  ``SplitConformalClassifier`` (prefit) computes both, around a wrapper returning the given
  probabilities; its quantile is the ceil((n + 1)(1 - alpha)) / n empirical quantile.
- **Selective prediction**: a case's uncertainty is its distance to the val-fitted decision
  threshold, ``|score - t|`` (the smallest distance is deferred first; with t = 0.5 this orders
  cases as ``1 - max(p, 1 - p)`` does). One global cut over all test rows keeps the most certain
  ``round(c * n)`` rows for each coverage c = 100 %, 95 %, ..., 50 % (ties by row order), so
  groups can be deferred at different rates; the coverage each group actually keeps is reported.
- **Reliability** per group: 10 equal-width bins (a, b] (``fairmedia.metrics.calibration``) and ECE.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import trapezoid
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import roc_auc_score

from fairmedia.errors import UserError
from fairmedia.metrics.calibration import bin_residuals, ece_from_sums, reliability
from fairmedia.metrics.groups import attribute_grouping
from fairmedia.metrics.inputs import (
    binary_column,
    require_columns,
    score_column,
    split_column,
)
from fairmedia.metrics.thresholds import apply_threshold, choose_threshold, parse_rule

# 100 % down to 50 % in steps of 5 %, as integers of percent so the keys are exact
COVERAGES = tuple(range(100, 45, -5))
GAP_COVERAGE = 80


class _GivenProbabilities(ClassifierMixin, BaseEstimator):
    """A 'fitted' classifier whose input X is the score column: MAPIE conformalizes the
    probabilities the user's model already produced, with no model of ours in between."""

    def fit(self, X: Any = None, y: Any = None) -> _GivenProbabilities:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        s = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1.0 - s, s])

    def predict(self, X: Any) -> np.ndarray:
        return (np.asarray(X, dtype=float)[:, 0] >= 0.5).astype(int)


def conformal_sets(
    val_y: np.ndarray, val_score: np.ndarray, test_score: np.ndarray, alpha: float
) -> tuple[np.ndarray, float]:
    """Boolean N_test x 2 prediction sets (column k: class k in the set) and the LAC quantile."""
    from mapie.classification import SplitConformalClassifier

    model = SplitConformalClassifier(_GivenProbabilities().fit(), confidence_level=1.0 - alpha,
                                     conformity_score="lac", prefit=True)
    with warnings.catch_warnings():  # MAPIE warns about label encoding of a prefit model
        warnings.simplefilter("ignore")
        model.conformalize(val_score[:, None], val_y)
        _, sets = model.predict_set(test_score[:, None])
    quantile = float(model._mapie_classifier.conformity_score_function_.quantiles_[0])
    return sets[:, :, 0].astype(bool), quantile


def _set_summary(sets: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    size = sets.sum(axis=1)
    return {"n": int(len(y)), "coverage": float(sets[np.arange(len(y)), y].mean()),
            "mean_set_size": float(size.mean()), "share_empty": float((size == 0).mean()),
            "share_both": float((size == 2).mean())}


def _min_val_rows(alpha: float) -> int:
    """MAPIE needs more than 1/alpha and 1/(1 - alpha) calibration rows."""
    return math.floor(max(1.0 / alpha, 1.0 / (1.0 - alpha))) + 1


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    return float(roc_auc_score(y, score)) if len(y) and 0 < y.sum() < len(y) else None


def _accuracy(y: np.ndarray, decision: np.ndarray) -> float | None:
    return float((y == decision).mean()) if len(y) else None


def keep_masks(margin: np.ndarray, coverages: tuple[int, ...] = COVERAGES) -> dict[int, np.ndarray]:
    """For each coverage c (percent), the rows kept: the round(c/100 * n) largest margins, ties
    broken by row order (a stable sort), so the kept count is exactly what was asked."""
    order = np.argsort(-margin, kind="stable")
    out = {}
    for c in coverages:
        keep = np.zeros(len(margin), dtype=bool)
        keep[order[: int(round(c / 100 * len(margin)))]] = True
        out[c] = keep
    return out


def _gap(values: dict[str, float | None], sizes: dict[str, int], min_n: int) -> dict[str, Any]:
    usable = {g: v for g, v in values.items() if v is not None and sizes[g] >= min_n}
    if len(usable) < 2:
        return {"value": None, "reason": f"fewer than 2 groups with >= {min_n} test rows and a "
                                         "defined value"}
    worst, best = min(usable, key=usable.get), max(usable, key=usable.get)
    return {"value": usable[best] - usable[worst], "worst_group": worst, "best_group": best}


def _frame_inputs(df: pd.DataFrame, attribute: str, label_col: str, score_col: str,
                  split_col: str, source: str) -> tuple[pd.DataFrame, np.ndarray]:
    require_columns(df, [label_col, score_col, attribute], source)
    if split_col not in df.columns:
        raise UserError(f"{source}: no {split_col!r} column; the conformal quantile and the "
                        "threshold are fitted on 'val' rows and evaluated on 'test' rows (a "
                        "run's scored.parquet holds test rows only: use its predictions.parquet "
                        "joined with the attribute, see docs/diagnostics.md)")
    split = split_column(df, source, split_col)
    for needed in ("val", "test"):
        if not (split == needed).any():
            raise UserError(f"{source}: no {needed!r} rows in column {split_col!r} (values "
                            f"found: {sorted(set(split))}); the conformal quantile and the "
                            "threshold are fitted on val rows, test rows are evaluated")
    keep = np.isin(split, ("val", "test"))
    return df.loc[keep].reset_index(drop=True), split[keep]


def uncertainty_report(
    df: pd.DataFrame, attribute: str, *, alpha: float = 0.1, threshold: str = "youden",
    label_col: str = "y", score_col: str = "score", split_col: str = "split",
    min_group_size: int = 20, source: str = "<data>",
) -> dict[str, Any]:
    """The JSON-ready report (no NaN: undefined values are None with a reason)."""
    if not 0.0 < alpha < 1.0:
        raise UserError(f"--alpha must be in (0, 1), got {alpha}")
    rule = parse_rule(threshold)
    df, split = _frame_inputs(df, attribute, label_col, score_col, split_col, source)
    y, score = binary_column(df, label_col, source), score_column(df, source, score_col)
    grouping = attribute_grouping(df, attribute, source=source)
    is_val, is_test = split == "val", split == "test"
    codes = grouping.codes
    t = choose_threshold(y[is_val], score[is_val], rule)

    yt, st, ct = y[is_test], score[is_test], codes[is_test]
    sets, q = conformal_sets(y[is_val], score[is_val], st, alpha)
    marginal = {"quantile": q, "overall": _set_summary(sets, yt), "groups": {}}
    mondrian: dict[str, Any] = {"groups": {}}
    need = _min_val_rows(alpha)
    for k, key in enumerate(grouping.keys):
        in_test, in_val = ct == k, is_val & (codes == k)
        if not in_test.any():
            continue
        marginal["groups"][key] = _set_summary(sets[in_test], yt[in_test])
        if in_val.sum() < need:
            mondrian["groups"][key] = {"n": int(in_test.sum()), "reason": f"{int(in_val.sum())} "
                                       f"val rows; MAPIE needs >= {need} at alpha={alpha}"}
            continue
        g_sets, g_q = conformal_sets(y[in_val], score[in_val], st[in_test], alpha)
        mondrian["groups"][key] = {"quantile": g_q, **_set_summary(g_sets, yt[in_test])}

    decision = apply_threshold(st, t)
    masks = keep_masks(np.abs(st - t))
    present = [(k, key) for k, key in enumerate(grouping.keys) if (ct == k).any()]
    rows = {"overall": np.ones(len(yt), dtype=bool), **{key: ct == k for k, key in present}}
    curves: dict[str, list[dict[str, Any]]] = {}
    for name, member in rows.items():
        curve = []
        for c, keep in masks.items():
            kept = member & keep
            curve.append({"target_coverage": c / 100, "n_kept": int(kept.sum()),
                          "coverage": float(kept.sum() / member.sum()),
                          "auc": _auc(yt[kept], st[kept]),
                          "acc": _accuracy(yt[kept], decision[kept])})
        curves[name] = curve
    sizes = {key: int((ct == k).sum()) for k, key in present}
    at_gap = {name: next(p for p in curve if p["target_coverage"] == GAP_COVERAGE / 100)
              for name, curve in curves.items() if name != "overall"}
    selective = {
        "uncertainty": "|score - threshold| (smallest deferred first)",
        "curves": curves,
        # area under accuracy vs target coverage over [0.5, 1], divided by the width 0.5: the
        # mean accuracy over the deferral range, on the same 0-1 scale as accuracy itself
        "area": {name: _area(curve) for name, curve in curves.items()},
        f"gap_at_{GAP_COVERAGE}": {
            m: _gap({g: p[m] for g, p in at_gap.items()}, sizes, min_group_size)
            for m in ("acc", "auc", "coverage")},
    }

    calib = {}
    for name, member in rows.items():
        res = bin_residuals(yt[member], st[member]).sum(axis=0)
        ece = float(ece_from_sums(res, np.array(member.sum())))
        calib[name] = {"n": int(member.sum()), "ece": ece,
                       **_json_safe(reliability(yt[member], st[member]))}
    return {
        "source": source, "attribute": attribute, "alpha": alpha,
        "n_val": int(is_val.sum()), "n_test": int(is_test.sum()),
        "n_test_missing_attribute": int((ct < 0).sum()),
        "threshold": {"rule": str(rule), "value": t, "fitted_on": "val"},
        "conformal": {"score": "LAC: 1 - p(true class)", "library": "MAPIE SplitConformalClassifier",
                      "marginal": marginal, "mondrian": mondrian},
        "selective": selective, "calibration": calib, "min_group_size": min_group_size,
        "notes": grouping.notes,
    }


def _area(curve: list[dict[str, Any]]) -> float | None:
    if any(p["acc"] is None for p in curve):
        return None
    x = np.array([p["target_coverage"] for p in curve])[::-1]
    acc = np.array([p["acc"] for p in curve])[::-1]
    return float(trapezoid(acc, x) / (x[-1] - x[0]))


def _json_safe(table: dict[str, list]) -> dict[str, list]:
    return {k: [None if isinstance(v, float) and math.isnan(v) else v for v in vals]
            for k, vals in table.items()}
