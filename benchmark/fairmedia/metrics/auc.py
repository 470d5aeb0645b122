"""Per-group ROC AUC for many bootstrap weight vectors at once.

AUC is the Mann-Whitney probability P(s+ > s-) + 0.5 P(s+ = s-) (Hanley & McNeil, Radiology 1982).
With row weights w (a bootstrap resample is a vector of draw counts) it is

    sum_{pos i} w_i * (W-(s < s_i) + 0.5 * W-(s = s_i)) / (W+ * W-),

where W- sums negative weights within the group. Which negatives lie below (or tie with) each
positive does not depend on the weights, so it is found once by sorting; each resample then costs
one running sum over the negatives' weights and one gather at the positives, instead of a sort per
resample and group as ``sklearn.metrics.roc_auc_score`` in a loop would need. Hand-written for
that reason, and tested against scikit-learn's weighted ``roc_auc_score`` (ties included). Weights
are laid out (rows, resamples) so every step walks contiguous memory; sums are float64, so integer
draw counts give exact sums.

The project's one AUC kernel: the evaluation's point estimates and CIs (``metrics.json``) and the
leaderboard's paired bootstrap (``stats.paired_bootstrap``) both call it.
"""

from __future__ import annotations

import numpy as np


class GroupedAUC:
    """AUC of each group (codes 0..G-1; -1 rows ignored) for a block of weight vectors.

    With ``overall=True`` a last column holds the AUC over all rows (the -1 rows included), from
    the same sort and running sum: the overall numerator is the sum over pairs of groups (g, h) of
    g's positives ranked against h's negatives. That costs one gather per group, so beyond
    ``CROSS_GROUPS`` groups the overall AUC comes from a second, one-group kernel instead.
    """

    def __init__(self, y: np.ndarray, score: np.ndarray, codes: np.ndarray, n_groups: int,
                 *, overall: bool = False):
        score = np.asarray(score, dtype=float)
        y = np.asarray(y)
        codes = np.asarray(codes)
        self.n_groups = n_groups
        self.overall = overall
        n_internal = n_groups
        if overall and (codes < 0).any():  # rows without a group count for the overall AUC
            codes = np.where(codes < 0, n_groups, codes)
            n_internal += 1
        self.cross = overall and n_internal <= CROSS_GROUPS
        self._overall = (GroupedAUC(y, score, np.zeros(len(y), np.int64), 1)
                         if overall and not self.cross else None)
        idx = np.flatnonzero(codes >= 0)
        # negatives first among tied scores: a positive's count of earlier negatives includes ties
        order = idx[np.lexsort((y[idx], score[idx], codes[idx]))]
        is_neg = y[order] == 0
        self.neg_rows = order[is_neg]
        self.pos_rows = order[~is_neg]
        pos_codes = codes[self.pos_rows]
        self.pos_starts = np.flatnonzero(np.r_[True, pos_codes[1:] != pos_codes[:-1]])
        self.pos_groups = pos_codes[self.pos_starts] if len(pos_codes) else np.zeros(0, np.int64)
        self.pos_ends = np.r_[self.pos_starts[1:], len(pos_codes)]
        # each group's slice of the negatives (in group order)
        neg_codes = codes[self.neg_rows]
        groups = np.arange(n_internal)
        self.neg_start = np.searchsorted(neg_codes, groups, side="left")
        self.neg_end = np.searchsorted(neg_codes, groups, side="right")
        # Where each positive's score falls among a group's negatives, as indices into the running
        # sum over all negatives: below (low) and up to (high) its tied negatives. Targets are the
        # positive's own group, or with ``cross`` every group h in turn.
        neg_scores, pos_scores = score[self.neg_rows], score[self.pos_rows]
        own = pos_codes
        self.targets = list(groups) if self.cross else [None]
        self.k_low, self.k_high = [], []
        for h in self.targets:
            target = own if h is None else np.full(len(own), h)
            low, high = np.empty(len(own), np.int64), np.empty(len(own), np.int64)
            for g in np.unique(target):
                sel = target == g
                a, b = self.neg_start[g], self.neg_end[g]
                low[sel] = a + np.searchsorted(neg_scores[a:b], pos_scores[sel], side="left")
                high[sel] = a + np.searchsorted(neg_scores[a:b], pos_scores[sel], side="right")
            self.k_low.append(low)
            self.k_high.append(high)
        self.has_ties = any(not np.array_equal(lo, hi) for lo, hi in zip(self.k_low, self.k_high))

    def __call__(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(B, G) AUCs — (B, G + 1) with ``overall`` — for weights of shape (N, B) over the rows
        given at construction (None: every row weight 1)."""
        n_boot = 1 if weights is None else weights.shape[1]
        out = np.full((n_boot, self.n_groups + self.overall), np.nan)
        if self._overall is not None:
            out[:, -1] = self._overall(weights)[:, 0]
        if len(self.pos_rows) == 0:
            return out
        if weights is None:
            w_neg = np.ones((len(self.neg_rows), 1))
            w_pos = np.ones((len(self.pos_rows), 1))
        else:
            w_neg = np.take(weights, self.neg_rows, axis=0)
            w_pos = np.take(weights, self.pos_rows, axis=0)
        running = _running_sum(w_neg)  # exclusive running sum of negative weight
        n_pos = np.add.reduceat(w_pos, self.pos_starts, axis=0)  # (P, B): groups with positives
        n_neg = running[self.neg_end] - running[self.neg_start]  # (H, B): every group
        # num[t][p]: positives of group pos_groups[p] ranked against target t's negatives
        num = []
        for h, low, high in zip(self.targets, self.k_low, self.k_high):
            below = 0.5 * (running[low] + running[high]) if self.has_ties else running[high]
            start = running[self.neg_start[self.pos_groups if h is None else h]]
            dot = np.stack([np.einsum("ir,ir->r", w_pos[a:b], below[a:b])
                            for a, b in zip(self.pos_starts, self.pos_ends)])
            num.append(dot - start * n_pos)
        own = num[0]
        if self.cross:  # each group against its own negatives
            own = np.stack([num[h][p] for p, h in enumerate(self.pos_groups)])
        denom = n_pos * n_neg[self.pos_groups]
        keep = self.pos_groups < self.n_groups
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, self.pos_groups[keep]] = np.where(denom > 0, own / denom, np.nan)[keep].T
            if self.cross:
                den_all = n_pos.sum(axis=0) * n_neg.sum(axis=0)
                out[:, -1] = np.where(den_all > 0, sum(num).sum(axis=0) / den_all, np.nan)
        return out


CROSS_GROUPS = 3  # up to this many groups (missing included) the overall AUC shares the pass


def _running_sum(rows: np.ndarray) -> np.ndarray:
    """out[k] = sum of rows[:k] for k = 0..len(rows), in float64, adding row after row.

    ``np.cumsum`` along axis 0 walks each column with a stride, which is slow once rows are wide
    (about 4x at 1000 columns); a loop of whole-row additions then streams memory once. Both add
    in the same order, so the sums are the same to the last bit.
    """
    out = np.empty((rows.shape[0] + 1, rows.shape[1]))
    out[0] = 0.0
    if rows.shape[1] < _WIDE:
        np.cumsum(rows, axis=0, dtype=np.float64, out=out[1:])
        return out
    out[1:] = rows
    for k in range(1, out.shape[0]):
        np.add(out[k], out[k - 1], out=out[k])
    return out


_WIDE = 256  # columns from which the row loop beats np.cumsum (measured on 3k-12k rows)
