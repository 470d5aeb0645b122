"""Per-group ROC AUC for many bootstrap weight vectors at once.

AUC is the Mann-Whitney probability P(s+ > s-) + 0.5 P(s+ = s-) (Hanley & McNeil, Radiology 1982).
With row weights w (a bootstrap resample is a vector of draw counts) it is

    sum_{pos i} w_i * (W-(s < s_i) + 0.5 * W-(s = s_i)) / (W+ * W-),

where W- sums negative weights within the group. Which negatives lie below (or tie with) each
positive does not depend on the weights, so it is found once by sorting; each resample then costs
one running sum over the negatives' weights and one gather at the positives, instead of a sort per
resample and group as ``sklearn.metrics.roc_auc_score`` in a loop would need. Hand-written for
that reason, and tested against scikit-learn. Weights are laid out (rows, resamples) so every step
walks contiguous memory.
"""

from __future__ import annotations

import numpy as np


class GroupedAUC:
    """AUC of each group (codes 0..G-1; -1 rows ignored) for a block of weight vectors."""

    def __init__(self, y: np.ndarray, score: np.ndarray, codes: np.ndarray, n_groups: int):
        score = np.asarray(score, dtype=float)
        y = np.asarray(y)
        codes = np.asarray(codes)
        self.n_groups = n_groups
        idx = np.flatnonzero(codes >= 0)
        # negatives first among tied scores: a positive's count of earlier negatives includes ties
        order = idx[np.lexsort((y[idx], score[idx], codes[idx]))]
        is_neg = y[order] == 0
        self.neg_rows = order[is_neg]
        self.pos_rows = order[~is_neg]
        negs_before = np.cumsum(is_neg) - is_neg  # negatives strictly earlier in this order
        self.k_high = negs_before[~is_neg]  # negatives with s < s_i or s == s_i
        # positives first among ties: the count then excludes tied negatives
        order_lo = idx[np.lexsort((-y[idx], score[idx], codes[idx]))]
        is_neg_lo = y[order_lo] == 0
        self.k_low = (np.cumsum(is_neg_lo) - is_neg_lo)[~is_neg_lo]
        self.has_ties = not np.array_equal(self.k_low, self.k_high)
        pos_codes = codes[self.pos_rows]
        self.pos_starts = np.flatnonzero(np.r_[True, pos_codes[1:] != pos_codes[:-1]])
        self.pos_groups = pos_codes[self.pos_starts] if len(pos_codes) else np.zeros(0, np.int64)
        # each group's slice of the negatives (in group order)
        neg_codes = codes[self.neg_rows]
        self.neg_start = np.searchsorted(neg_codes, self.pos_groups, side="left")
        self.neg_end = np.searchsorted(neg_codes, self.pos_groups, side="right")

    def __call__(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(B, G) AUCs for weights of shape (N, B) over the rows given at construction."""
        n_boot = 1 if weights is None else weights.shape[1]
        out = np.full((n_boot, self.n_groups), np.nan)
        if len(self.pos_rows) == 0:
            return out
        if weights is None:
            w_neg = np.ones((len(self.neg_rows), 1))
            w_pos = np.ones((len(self.pos_rows), 1))
        else:
            w_neg, w_pos = weights[self.neg_rows], weights[self.pos_rows]
        running = np.empty((len(w_neg) + 1, n_boot))  # exclusive running sum of negative weight
        running[0] = 0.0
        np.cumsum(w_neg, axis=0, out=running[1:])
        if self.has_ties:
            below = 0.5 * (running[self.k_low] + running[self.k_high])
        else:
            below = running[self.k_high]
        n_pos = np.add.reduceat(w_pos, self.pos_starts, axis=0)
        start = running[self.neg_start]
        n_neg = running[self.neg_end] - start
        num = np.add.reduceat(w_pos * below, self.pos_starts, axis=0) - start * n_pos
        denom = n_pos * n_neg
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, self.pos_groups] = np.where(denom > 0, num / denom, np.nan).T
        return out
