"""Post-hoc model selection on validation scores kept for every epoch.

Because the val and test scores of every epoch are saved, a selection criterion is a function of
saved numbers — any criterion, for any evaluation attribute, without retraining.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

SELECTIONS = ("overall", "worst_group", "dto")


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


def val_auc_by_epoch(
    scores: np.ndarray, y: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``scores`` is epochs × val rows. Returns overall AUC per epoch and an epochs × groups
    matrix of per-group AUC (NaN for a group with one class)."""
    names = np.unique(groups)
    overall = np.array([_auc(y, s) for s in scores])
    per_group = np.array([[_auc(y[groups == g], s[groups == g]) for g in names] for s in scores])
    return overall, per_group.reshape(len(scores), len(names))


def select_epoch(criterion: str, overall: np.ndarray, per_group: np.ndarray) -> int:
    """Index of the chosen epoch (the earliest among ties).

    - ``overall``: best overall val AUC;
    - ``worst_group``: best worst-group val AUC;
    - ``dto``: smallest Euclidean distance to the utopia point after min–max normalising each
      group's val AUC over epochs (MEDFAIR's distance-to-optimum; Zong et al. 2023).
    """
    if criterion == "overall":
        return int(np.nanargmax(overall)) if np.isfinite(overall).any() else len(overall) - 1
    valid = per_group[:, np.isfinite(per_group).all(axis=0)]
    if valid.shape[1] == 0:
        return select_epoch("overall", overall, per_group)
    if criterion == "worst_group":
        return int(np.argmax(valid.min(axis=1)))
    if criterion == "dto":
        lo, hi = valid.min(axis=0), valid.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        dist = np.sqrt((((hi - valid) / span) ** 2).sum(axis=1))
        return int(np.argmin(dist))
    raise ValueError(f"unknown selection {criterion!r}; valid: {', '.join(SELECTIONS)}")
