"""Per-group ROC AUC for many bootstrap weight vectors at once.

AUC is the Mann-Whitney probability P(s+ > s-) + 0.5 P(s+ = s-) (Hanley & McNeil, Radiology 1982).
With row weights w (a bootstrap resample is a vector of draw counts) it is

    sum_{pos i} w_i * (W-(s < s_i) + 0.5 * W-(s = s_i)) / (W+ * W-),

where W- sums negative weights. Rows are sorted once by (group, score); each resample then costs
a few cumulative sums over a (resamples x rows) array, instead of a sort per resample and group as
``sklearn.metrics.roc_auc_score`` in a loop would need. Hand-written for that reason; tests check
it against scikit-learn.
"""

from __future__ import annotations

import numpy as np


class GroupedAUC:
    """AUC of each group (codes 0..G-1; -1 rows ignored) for a block of weight vectors."""

    def __init__(self, y: np.ndarray, score: np.ndarray, codes: np.ndarray, n_groups: int):
        idx = np.flatnonzero(codes >= 0)
        order = idx[np.lexsort((score[idx], codes[idx]))]
        c, s = codes[order], score[order]
        self.n_groups = n_groups
        self.order = order
        self.y = np.asarray(y, dtype=float)[order]
        if len(order) == 0:
            self.tie_starts = self.group_starts = self.groups_present = np.zeros(0, np.int64)
            self.blocks_per_group = np.zeros(0, np.int64)
            return
        # a tie block: same group and same score
        self.tie_starts = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (s[1:] != s[:-1])])
        block_code = c[self.tie_starts]
        self.group_starts = np.flatnonzero(np.r_[True, block_code[1:] != block_code[:-1]])
        self.groups_present = block_code[self.group_starts]
        self.blocks_per_group = np.diff(np.r_[self.group_starts, len(self.tie_starts)])

    def __call__(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(B, G) AUCs for weights of shape (B, N) over the rows given at construction."""
        n_boot = 1 if weights is None else weights.shape[0]
        out = np.full((n_boot, self.n_groups), np.nan)
        if len(self.order) == 0:
            return out
        w = np.ones((1, len(self.order))) if weights is None else weights[:, self.order]
        pos = w * self.y
        neg_blocks = np.add.reduceat(w - pos, self.tie_starts, axis=1)
        pos_blocks = np.add.reduceat(pos, self.tie_starts, axis=1)
        cum_neg = np.cumsum(neg_blocks, axis=1)
        # negatives below a block, counted from its group's start
        before_group = np.zeros((n_boot, len(self.group_starts)))
        before_group[:, 1:] = cum_neg[:, self.group_starts[1:] - 1]
        below = cum_neg - neg_blocks - np.repeat(before_group, self.blocks_per_group, axis=1)
        num = np.add.reduceat(pos_blocks * (below + 0.5 * neg_blocks), self.group_starts, axis=1)
        n_pos = np.add.reduceat(pos_blocks, self.group_starts, axis=1)
        n_neg = np.add.reduceat(neg_blocks, self.group_starts, axis=1)
        denom = n_pos * n_neg
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, self.groups_present] = np.where(denom > 0, num / denom, np.nan)
        return out
