"""Bootstrap resamples as weight matrices: clustered by patient, stratified (e.g. by group x label).

A resample is a vector of draw counts, one per row. Patients (``patient_id``; each row its own
cluster when absent) are drawn with replacement *within* their stratum, so every stratum keeps its
number of patients in every resample; a patient's stratum is the group x label of its first row
(images of one patient nearly always share both). The fairness report stratifies each reported
attribute's statistics by label x that attribute only (and the overall ones by label), so a CI
does not depend on which other attributes are evaluated (``fairness_report._resampler``).
Counts are drawn for a block of resamples at once (``rng.integers`` + ``np.bincount``), so the
statistics over a block are matrix products rather than a Python loop over resamples.

CIs are percentile intervals (Efron & Tibshirani, "An Introduction to the Bootstrap", 1993, ch. 13).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

# Resamples per block: bounds memory at rows x BLOCK float64 (40 MB for 100k rows).
BLOCK = 50


class ClusteredResampler:
    """Draws (N, block) weight matrices (rows x resamples) for rows with strata and clusters."""

    def __init__(self, strata: np.ndarray, clusters: np.ndarray | None = None):
        strata = np.asarray(strata)
        n = len(strata)
        if clusters is None:
            cluster_of_row = np.arange(n)
        else:
            cluster_of_row = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)))[0]
        n_clusters = int(cluster_of_row.max()) + 1 if n else 0
        first_row = np.full(n_clusters, n, dtype=np.int64)
        np.minimum.at(first_row, cluster_of_row, np.arange(n))
        cluster_stratum = pd.factorize(pd.Series(strata[first_row]))[0] if n else np.zeros(0)
        self.cluster_of_row = cluster_of_row.astype(np.int64)
        self.n_clusters = n_clusters
        self.members = [np.flatnonzero(cluster_stratum == s) for s in np.unique(cluster_stratum)]

    def cluster_counts(self, rng: np.random.Generator, n_boot: int) -> np.ndarray:
        counts = np.zeros((n_boot, self.n_clusters))
        offsets = np.arange(n_boot)[:, None]
        for members in self.members:
            m = len(members)
            draws = rng.integers(0, m, size=(n_boot, m)) + offsets * m
            counts[:, members] = np.bincount(draws.ravel(), minlength=n_boot * m).reshape(
                n_boot, m
            )
        return counts

    def blocks(self, n_boot: int, seed: int, block: int = BLOCK) -> Iterator[np.ndarray]:
        """Row weights for ``n_boot`` resamples, ``block`` at a time; deterministic from seed."""
        rng = np.random.default_rng(seed)
        done = 0
        while done < n_boot:
            size = min(block, n_boot - done)
            # a contiguous (clusters, B) copy first: gathering rows of the transposed view
            # is twice as slow at 200k rows
            counts = np.ascontiguousarray(self.cluster_counts(rng, size).T)
            yield np.take(counts, self.cluster_of_row, axis=0)
            done += size


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0, ignoring resamples where the statistic is undefined."""
    tail = 100 * (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
    return low, high


def bootstrap_difference(
    y: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    *,
    metric: str = "auc",
    threshold: float = 0.5,
    strata: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, object]:
    """Paired bootstrap of metric(a) - metric(b) over the same resamples (e.g. method vs ERM).

    ``metric`` is any column of the group table; thresholded metrics use ``score >= threshold``.
    Strata default to the label. Returns ``{"estimate", "ci": [low, high], "samples"}``.
    """
    from fairmedia.metrics.auc import GroupedAUC
    from fairmedia.metrics.group_table import metrics_from_sums, row_terms

    y = np.asarray(y)
    codes = np.zeros(len(y), dtype=np.int64)

    def statistic(score: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        terms = row_terms(y, score, (score >= threshold).astype(np.int8))
        sums = terms.sum(axis=0)[None] if weights is None else weights.T @ terms
        auc = GroupedAUC(y, score, codes, 1)(weights)[:, 0] if metric == "auc" else sums[:, 0]
        return metrics_from_sums(sums, auc)[metric]

    a = np.asarray(score_a, dtype=float)
    b = np.asarray(score_b, dtype=float)
    estimate = float((statistic(a, None) - statistic(b, None))[0])
    resampler = ClusteredResampler(y if strata is None else strata, clusters)
    samples = np.concatenate(
        [statistic(a, w) - statistic(b, w) for w in resampler.blocks(n_boot, seed)]
    )
    low, high = percentile_ci(samples, level)
    return {"estimate": estimate, "ci": [float(low), float(high)], "samples": samples}
