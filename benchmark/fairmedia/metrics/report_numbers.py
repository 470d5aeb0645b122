"""Every number of a report, for the observed rows or a block of bootstrap resamples at once.

Rows are sorted by their finest cell (all groupings jointly); a block of weight vectors times the
per-row terms of each cell gives cell sums, and each grouping's group sums are sums of its cells.
So one pass over the rows per block serves the overall table, every attribute and every
intersection. AUC needs ranks and is computed per grouping by ``GroupedAUC``.
"""

from __future__ import annotations

import numpy as np

from fairmedia.metrics.auc import GroupedAUC
from fairmedia.metrics.criteria import criteria
from fairmedia.metrics.disparity import disparity
from fairmedia.metrics.group_table import RATE_COLUMNS, metrics_from_sums, row_terms
from fairmedia.metrics.groups import Grouping, finest_cells
from fairmedia.metrics.privileged import privileged_statistics

Path = tuple[str, ...]


class FairnessStatistics:
    """Computes ``{path: values (B,)}`` for all metrics, disparities, criteria and (for the
    groupings in ``privileged``: name -> index of the privileged group) the differences against
    the privileged group (``metrics/privileged.py``)."""

    def __init__(
        self,
        y: np.ndarray,
        score: np.ndarray,
        decision: np.ndarray,
        groupings: list[Grouping],
        eligible: dict[str, np.ndarray],
        privileged: dict[str, int] | None = None,
    ):
        cell_of_row, cell_codes = finest_cells(groupings)
        order = np.argsort(cell_of_row, kind="stable")
        self.order = order  # callers' weights are in the original row order
        self.groupings = groupings
        self.eligible = eligible
        self.privileged = privileged or {}
        y, score = np.asarray(y)[order], np.asarray(score, float)[order]
        self.terms = row_terms(y, score, np.asarray(decision)[order])
        cells = cell_of_row[order]
        n_cells = len(cell_codes[0])
        self.cell_bounds = np.searchsorted(cells, np.arange(n_cells + 1))
        # cell -> group one-hot per grouping (cells with a missing attribute map to no group)
        self.cell_to_group = []
        for g, codes in zip(groupings, cell_codes):
            onehot = np.zeros((n_cells, len(g.keys)))
            present = codes >= 0
            onehot[np.flatnonzero(present), codes[present]] = 1.0
            self.cell_to_group.append(onehot)
        self.overall_auc = GroupedAUC(y, score, np.zeros(len(y), np.int64), 1)
        self.group_auc = [
            GroupedAUC(y, score, g.codes[order], len(g.keys)) for g in groupings
        ]

    def _cell_sums(self, weights: np.ndarray | None) -> np.ndarray:
        bounds = self.cell_bounds
        if weights is None:
            return np.stack(
                [self.terms[a:b].sum(axis=0) for a, b in zip(bounds[:-1], bounds[1:])]
            )[None]
        return np.stack(
            [weights[a:b].T @ self.terms[a:b] for a, b in zip(bounds[:-1], bounds[1:])], axis=1
        )

    def compute(self, weights: np.ndarray | None = None) -> dict[Path, np.ndarray]:
        """All statistics; ``weights`` (N, B) in the caller's row order, None for the data."""
        w = None if weights is None else weights[self.order]
        cell_sums = self._cell_sums(w)  # (B, C, T)
        out: dict[Path, np.ndarray] = {}
        overall = metrics_from_sums(cell_sums.sum(axis=1), self.overall_auc(w)[:, 0])
        for name, values in overall.items():
            out[("overall", name)] = values
        for g, onehot, auc in zip(self.groupings, self.cell_to_group, self.group_auc):
            sums = np.einsum("bct,cg->bgt", cell_sums, onehot)
            table = metrics_from_sums(sums, auc(w))
            for j, key in enumerate(g.keys):
                for name, values in table.items():
                    out[("attributes", g.name, "groups", key, name)] = values[:, j]
            eligible = self.eligible[g.name]
            disparities = {m: disparity(table[m], eligible, m) for m in RATE_COLUMNS}
            for m, measures in disparities.items():
                for measure, values in measures.items():
                    out[("attributes", g.name, "disparity", m, measure)] = values
            for c, values in criteria(
                disparities, table["auc"], overall["auc"], eligible, table
            ).items():
                out[("attributes", g.name, "criteria", c)] = values
            if g.name in self.privileged:
                for path, values in privileged_statistics(
                        table, g.keys, self.privileged[g.name]).items():
                    out[("attributes", g.name, "privileged", *path)] = values
        return out
