"""Post-hoc model selection criteria on hand-made per-epoch AUC tables."""

from __future__ import annotations

import numpy as np
import pytest

from fairmedia.training.selection import select_epoch, val_auc_by_epoch


def test_criteria_pick_different_epochs():
    overall = np.array([0.80, 0.90, 0.85])
    per_group = np.array([[0.70, 0.90], [0.60, 0.99], [0.75, 0.88]])
    assert select_epoch("overall", overall, per_group) == 1
    assert select_epoch("worst_group", overall, per_group) == 2
    # dto: normalised per-group AUCs: e0 (0.667, 0.182), e1 (0, 1), e2 (1, 0) -> distances
    # sqrt(0.333²+0.818²)=0.883, 1, 1 -> epoch 0.
    assert select_epoch("dto", overall, per_group) == 0


def test_single_class_group_is_ignored_by_worst_group():
    y = np.array([0, 1, 0, 1, 1, 1])
    g = np.array(["a", "a", "a", "a", "b", "b"])  # group b has one class: AUC undefined
    scores = np.array([[0.1, 0.9, 0.2, 0.8, 0.5, 0.5], [0.9, 0.1, 0.2, 0.8, 0.5, 0.5]])
    overall, per_group = val_auc_by_epoch(scores, y, g)
    assert np.isnan(per_group[:, 1]).all()
    assert per_group[0, 0] == 1.0
    assert select_epoch("worst_group", overall, per_group) == 0


def test_unknown_criterion():
    with pytest.raises(ValueError, match="valid: overall, worst_group, dto"):
        select_epoch("best", np.ones(2), np.ones((2, 2)))
