"""Operating-point rules: ``youden``, ``f1``, ``fixed:<t>``, ``specificity:<s>``.

A row is predicted positive when ``score >= t``. Rules that are fitted choose ``t`` among the
observed scores (the candidate thresholds of scikit-learn's ROC / precision-recall curves), on the
validation rows; the caller applies it to the test rows. Ties in the objective go to the higher
threshold (fewer positives), which is what ``argmax`` over sklearn's decreasing thresholds gives.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from fairmedia.errors import UserError
from fairmedia.metrics.threshold_rules import RULES, ThresholdRule, parse_rule

__all__ = ["RULES", "ThresholdRule", "apply_threshold", "choose_threshold", "parse_rule"]

def _need_both_classes(y: np.ndarray, rule: ThresholdRule) -> None:
    if y.min() == y.max():
        raise UserError(
            f"threshold rule {rule} needs both classes in the rows it is fitted on; "
            f"they all have y={int(y[0])} (use fixed:<t>)"
        )


def choose_threshold(y: np.ndarray, score: np.ndarray, rule: str | ThresholdRule) -> float:
    """The threshold ``t`` (predict 1 when ``score >= t``) chosen by ``rule`` on these rows."""
    rule = parse_rule(rule) if isinstance(rule, str) else rule
    if rule.kind == "fixed":
        return float(rule.value)
    y = np.asarray(y)
    score = np.asarray(score, dtype=float)
    if len(y) == 0:
        raise UserError(f"threshold rule {rule} has no rows to be fitted on")
    _need_both_classes(y, rule)
    if rule.kind == "f1":
        precision, recall, thresholds = precision_recall_curve(y, score)
        # the last (precision=1, recall=0) point has no threshold
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = 2 * precision[:-1] * recall[:-1] / (precision[:-1] + recall[:-1])
        f1 = np.nan_to_num(f1, nan=0.0)
        # thresholds increase here; take the highest among ties, as for the ROC rules
        best = len(f1) - 1 - int(np.argmax(f1[::-1]))
        return float(thresholds[best])
    fpr, tpr, thresholds = roc_curve(y, score, drop_intermediate=False)
    # the first point is (0, 0) at threshold +inf: "predict nothing", not a usable operating point
    fpr, tpr, thresholds = fpr[1:], tpr[1:], thresholds[1:]
    if rule.kind == "youden":
        return float(thresholds[int(np.argmax(tpr - fpr))])
    # specificity:s -> the most sensitive threshold whose specificity on these rows is >= s
    allowed = (1.0 - fpr) >= rule.value - 1e-12
    if not allowed.any():
        return float(np.nextafter(score.max(), np.inf))
    best = int(np.argmax(np.where(allowed, tpr, -1.0)))
    return float(thresholds[best])


def apply_threshold(score: np.ndarray, threshold: float) -> np.ndarray:
    return (np.asarray(score) >= threshold).astype(np.int8)
