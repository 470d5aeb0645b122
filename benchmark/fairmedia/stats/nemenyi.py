"""Nemenyi critical difference of average ranks (Demšar 2006, §3.2.2).

CD = q_α √(k(k+1) / (6N)), where q_α is the studentized range quantile for k means and infinite
degrees of freedom divided by √2 (Demšar's Table 5), taken from scipy instead of a printed table.

``nemenyi_pvalues``: the pairwise p-value of every two methods, from scikit-posthocs'
``posthoc_nemenyi_friedman`` (maintained; the same test whose threshold the CD is) on the
complete blocks.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import studentized_range

from fairmedia.stats.friedman import complete_blocks


def q_alpha(k: int, alpha: float) -> float:
    return float(studentized_range.ppf(1 - alpha, k, math.inf) / math.sqrt(2))


def critical_difference(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Two average ranks differing by more than this are significantly different (Nemenyi)."""
    if k < 2 or n_blocks < 1:
        return math.nan
    return q_alpha(k, alpha) * math.sqrt(k * (k + 1) / (6 * n_blocks))


def nemenyi_pvalues(table: pd.DataFrame) -> pd.DataFrame | None:
    """Methods × methods Nemenyi p-values of a blocks × methods table (complete blocks only), or
    None with fewer than 2 methods or 2 complete blocks. Ranking by |R_i − R_j| is symmetric, so
    the metric's direction does not change the p-values."""
    import scikit_posthocs as sp  # heavy; only the leaderboard needs it

    full, _ = complete_blocks(table)
    if full.shape[1] < 2 or full.shape[0] < 2:
        return None
    matrix = sp.posthoc_nemenyi_friedman(full.to_numpy(float))
    matrix.index = matrix.columns = list(full.columns)
    return matrix
