"""Per-group metrics of the score ranking that peers report beside AUC (point estimates only).

- ``average_precision``: area under the precision-recall curve as scikit-learn's
  ``average_precision_score`` (Σ_k (R_k − R_{k−1}) P_k, no interpolation).
- ``sensitivity_at_specificity``: TPR at specificity s on the group's *own* ROC curve, linearly
  interpolated between its vertices, as MEDFAIR (Zong et al., ICLR 2023) reports it with s = 0.8.
  MEDFAIR interpolates ``1 − FPR`` → TPR with scipy's ``interp1d``, which is ambiguous where the
  ROC is vertical at 1 − s; we take the upper end there (the most sensitive point at that
  specificity), and agree with it elsewhere.
- ``tpr_at_val_specificity``: TPR of the group at one *global* threshold, the one giving
  specificity ≥ s on all validation rows (``thresholds.choose_threshold``'s ``specificity:<s>``):
  the operating point a deployment would fix, where the own-ROC value lets each group have its own.

These need each group's ranks, not sums, so they have no bootstrap CI (docs/metrics.md).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_curve

DEFAULT_SPECIFICITY = 0.8
RANKING_METRICS = ("average_precision", "sensitivity_at_specificity", "tpr_at_val_specificity")


def sensitivity_at_specificity(y: np.ndarray, score: np.ndarray, specificity: float) -> float:
    """TPR at ``specificity`` on the linearly interpolated ROC of these rows (NaN: one class)."""
    y = np.asarray(y)
    if len(y) == 0 or y.min() == y.max():
        return float("nan")
    fpr, tpr, _ = roc_curve(y, score, drop_intermediate=False)
    target = 1.0 - specificity
    at_or_below = fpr <= target + 1e-12
    # fpr[0] = 0, so a point exists; the last one at fpr[last] has the highest TPR there
    last = int(np.flatnonzero(at_or_below)[-1])
    if last == len(fpr) - 1 or fpr[last] >= target - 1e-12:
        return float(tpr[last])
    x0, y0, x1, y1 = fpr[last], tpr[last], fpr[last + 1], tpr[last + 1]
    return float(y0 + (y1 - y0) * (target - x0) / (x1 - x0))


def ranking_metrics(y: np.ndarray, score: np.ndarray, val_threshold: float | None,
                    specificity: float) -> dict[str, float]:
    """The three metrics of one set of rows (``val_threshold`` None: the last one is NaN)."""
    y = np.asarray(y)
    score = np.asarray(score, float)
    n_pos = int(y.sum())
    ap = float(average_precision_score(y, score)) if n_pos > 0 else float("nan")
    tpr = (float((score[y == 1] >= val_threshold).mean())
           if n_pos > 0 and val_threshold is not None else float("nan"))
    return {"average_precision": ap,
            "sensitivity_at_specificity": sensitivity_at_specificity(y, score, specificity),
            "tpr_at_val_specificity": tpr}


def ranking_reasons(values: dict[str, float], n_pos: int, n_neg: int,
                    has_threshold: bool) -> dict[str, str]:
    """Why each undefined (NaN) metric of one group is undefined."""
    reasons = {}
    for name, value in values.items():
        if not np.isnan(value):
            continue
        if name == "sensitivity_at_specificity":
            reasons[name] = (f"single class in group (n_pos={n_pos}, n_neg={n_neg}): needs a "
                             "ROC curve")
        elif name == "tpr_at_val_specificity" and not has_threshold:
            reasons[name] = "no validation rows to fit the specificity threshold on"
        else:
            reasons[name] = "no positives (y=1) in group"
    return reasons
