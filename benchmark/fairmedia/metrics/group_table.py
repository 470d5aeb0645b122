"""The one per-group table every fairness number is derived from.

Each group's counts and metrics come from a handful of per-row terms summed over the group
(``row_terms``): size, positives, TP, FP, squared error, log loss and the calibration residual per
score bin. Summing the same terms with bootstrap weights gives every resample's table at once
(``metrics_from_sums`` works on arrays with any leading shape), so point estimates and CIs share
one definition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairmedia.metrics.auc import GroupedAUC
from fairmedia.metrics.calibration import N_BINS, bin_residuals, ece_from_sums
from fairmedia.metrics.groups import attribute_grouping

COUNT_COLUMNS = ["n", "n_pos", "n_neg", "tp", "fp", "fn", "tn"]
RATE_COLUMNS = [
    "auc", "acc", "tpr", "fpr", "fnr", "tnr", "ppv", "selection_rate", "ece", "brier", "bce",
    # confusion-matrix rates peers report (AIF360 ClassificationMetric, Fairlearn, MEDFAIR)
    "npv", "for", "fdr", "balanced_acc", "f1",
]
COLUMNS = COUNT_COLUMNS + RATE_COLUMNS

# Log loss clips scores to [EPS, 1 - EPS] so a confident mistake costs a large finite amount.
BCE_EPS = 1e-7
_N, _POS, _TP, _FP, _SQ, _BCE = range(6)
N_TERMS = 6 + N_BINS


def row_terms(y: np.ndarray, score: np.ndarray, decision: np.ndarray) -> np.ndarray:
    """N x N_TERMS matrix of per-row terms whose group sums determine the table (except AUC)."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    d = np.asarray(decision, dtype=float)
    clipped = np.clip(score, BCE_EPS, 1 - BCE_EPS)
    terms = np.empty((len(y), N_TERMS))
    terms[:, _N] = 1.0
    terms[:, _POS] = y
    terms[:, _TP] = y * d
    terms[:, _FP] = (1 - y) * d
    terms[:, _SQ] = (score - y) ** 2
    terms[:, _BCE] = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
    terms[:, 6:] = bin_residuals(y, score)
    return terms


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def metrics_from_sums(sums: np.ndarray, auc: np.ndarray) -> dict[str, np.ndarray]:
    """Every column of the table from summed terms (last axis = terms) and AUC (same shape)."""
    n, n_pos, tp, fp = sums[..., _N], sums[..., _POS], sums[..., _TP], sums[..., _FP]
    n_neg = n - n_pos
    fn, tn = n_pos - tp, n_neg - fp
    return {
        "n": n, "n_pos": n_pos, "n_neg": n_neg, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "auc": auc,
        "acc": _div(tp + tn, n),
        "tpr": _div(tp, n_pos),
        "fpr": _div(fp, n_neg),
        "fnr": _div(fn, n_pos),
        "tnr": _div(tn, n_neg),
        "ppv": _div(tp, tp + fp),
        "selection_rate": _div(tp + fp, n),
        "ece": ece_from_sums(sums[..., 6:], n),
        "brier": _div(sums[..., _SQ], n),
        "bce": _div(sums[..., _BCE], n),
        "npv": _div(tn, tn + fn),
        "for": _div(fn, tn + fn),  # false omission rate = 1 - NPV
        "fdr": _div(fp, tp + fp),  # false discovery rate = 1 - PPV
        "balanced_acc": (_div(tp, n_pos) + _div(tn, n_neg)) / 2,
        "f1": _div(2 * tp, 2 * tp + fp + fn),
    }


def null_reasons(row: dict[str, float]) -> dict[str, str]:
    """Why each undefined (NaN) metric of one group is undefined."""
    reasons: dict[str, str] = {}
    n, n_pos, n_neg = row["n"], row["n_pos"], row["n_neg"]
    pred_pos = row["tp"] + row["fp"]
    for name in RATE_COLUMNS:
        value = row.get(name)
        if value is None or not np.isnan(value):
            continue
        if n == 0:
            reasons[name] = "empty group"
        elif name == "auc":
            reasons[name] = (
                f"single class in group (n_pos={int(n_pos)}, n_neg={int(n_neg)}): "
                "AUC needs both classes"
            )
        elif name in ("tpr", "fnr"):
            reasons[name] = "no positives (y=1) in group"
        elif name in ("fpr", "tnr"):
            reasons[name] = "no negatives (y=0) in group"
        elif name in ("ppv", "fdr"):
            reasons[name] = f"no predicted positives at the threshold (TP+FP={int(pred_pos)})"
        elif name in ("npv", "for"):
            reasons[name] = "no predicted negatives at the threshold (TN+FN=0)"
        elif name == "balanced_acc":
            reasons[name] = (f"needs both classes in group (n_pos={int(n_pos)}, "
                             f"n_neg={int(n_neg)})")
        elif name == "f1":
            reasons[name] = "no positives and no predicted positives (TP+FP+FN=0)"
        else:
            reasons[name] = "undefined"
    return reasons


def group_table(
    y: np.ndarray, score: np.ndarray, decision: np.ndarray, groups: np.ndarray | pd.Series
) -> pd.DataFrame:
    """Per-group table (index: group key as a string; columns ``COLUMNS``).

    ``decision`` is the 0/1 prediction (e.g. ``score >= threshold``); ``groups`` any labels,
    grouped by the one grouper (``groups.attribute_grouping``): rows whose group is missing (NaN)
    are left out.
    """
    labels = pd.DataFrame({"group": pd.Series(np.asarray(groups, dtype=object))})
    grouping = attribute_grouping(labels, "group", None, "<groups>")
    codes, keys = grouping.codes, grouping.keys
    y = np.asarray(y)
    score = np.asarray(score, dtype=float)
    terms = row_terms(y, score, decision)
    keep = codes >= 0
    sums = np.zeros((len(keys), N_TERMS))
    np.add.at(sums, codes[keep], terms[keep])
    auc = GroupedAUC(y, score, codes, len(keys))()[0]
    table = pd.DataFrame(metrics_from_sums(sums, auc), index=list(keys))
    table[COUNT_COLUMNS] = table[COUNT_COLUMNS].round().astype(np.int64)
    table.index.name = "group"
    return table[COLUMNS]
