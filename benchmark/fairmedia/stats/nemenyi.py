"""Nemenyi critical difference of average ranks (Demšar 2006, §3.2.2).

CD = q_α √(k(k+1) / (6N)), where q_α is the studentized range quantile for k means and infinite
degrees of freedom divided by √2 (Demšar's Table 5), taken from scipy instead of a printed table.
"""

from __future__ import annotations

import math

from scipy.stats import studentized_range


def q_alpha(k: int, alpha: float) -> float:
    return float(studentized_range.ppf(1 - alpha, k, math.inf) / math.sqrt(2))


def critical_difference(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Two average ranks differing by more than this are significantly different (Nemenyi)."""
    if k < 2 or n_blocks < 1:
        return math.nan
    return q_alpha(k, alpha) * math.sqrt(k * (k + 1) / (6 * n_blocks))
