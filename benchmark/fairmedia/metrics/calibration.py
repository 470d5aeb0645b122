"""Calibration: expected calibration error (ECE) with fixed equal-width bins.

ECE = sum_b (n_b / n) * |mean(y in b) - mean(score in b)| = (1 / n) * sum_b |sum_{i in b} (y_i - s_i)|,
with ``N_BINS`` = 10 equal-width bins ((m - 1) / M, m / M] on [0, 1] (the first bin also holds
0.0), as in Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, and scikit-learn's
``calibration_curve(strategy="uniform")``: a score on an edge (0.3 saved with two decimals) is in
the lower bin. The second form is a sum of per-row terms
inside each bin, so it is computed from per-group sums like every other metric (and so the
bootstrap stays a matrix product).
"""

from __future__ import annotations

import numpy as np

N_BINS = 10


def bin_index(score: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """Bin of each score, bins (a, b] with 0.0 in the first: the edges are ``np.linspace(0, 1,
    n_bins + 1)`` and a left ``searchsorted`` on the inner edges, as scikit-learn does, so a score
    equal to an edge's float (0.3 vs linspace's 0.30000000000000004) lands where it does there."""
    inner = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    return np.searchsorted(inner, np.asarray(score, dtype=float), side="left").astype(np.int64)


def bin_residuals(y: np.ndarray, score: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """N x n_bins matrix: (y - score) in the row's bin, 0 elsewhere (summed per group later)."""
    out = np.zeros((len(score), n_bins))
    out[np.arange(len(score)), bin_index(score, n_bins)] = np.asarray(y, float) - score
    return out


def ece_from_sums(residual_sums: np.ndarray, n: np.ndarray) -> np.ndarray:
    """ECE from per-bin sums of (y - score) (last axis = bins) and the group size."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(residual_sums).sum(axis=-1) / np.where(n > 0, n, np.nan)


def reliability(y: np.ndarray, score: np.ndarray, n_bins: int = N_BINS) -> dict[str, list]:
    """Per-bin count, mean score and observed rate (for a reliability plot)."""
    b = bin_index(score, n_bins)
    count = np.bincount(b, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.bincount(b, weights=score, minlength=n_bins) / count
        rate = np.bincount(b, weights=np.asarray(y, float), minlength=n_bins) / count
    return {"count": count.tolist(), "mean_score": mean_score.tolist(), "rate": rate.tolist()}
