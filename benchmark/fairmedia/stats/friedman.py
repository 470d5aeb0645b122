"""Average ranks over blocks and the Friedman / Iman–Davenport tests (Demšar 2006, §3.2.2).

Input is a blocks × methods table of one metric (a block is a dataset × attribute cell). Rank 1 is
the best method in a block, using the metric's declared direction; ties get the average rank.
Blocks missing any method are dropped (and listed) because Friedman needs complete blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats


@dataclass
class FriedmanResult:
    k: int
    n_blocks: int
    avg_ranks: pd.Series
    chi2: float
    p_chi2: float
    iman_davenport: float
    p_iman_davenport: float
    dropped_blocks: list[str] = field(default_factory=list)
    note: str = ""


def complete_blocks(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Rows with a finite value for every method, and the names of the dropped rows."""
    ok = table.notna().all(axis=1)
    return table[ok], [str(i) for i in table.index[~ok]]


def rank_blocks(table: pd.DataFrame, higher_is_better: bool) -> pd.DataFrame:
    """Per-block ranks (1 = best, ties averaged) via scipy's rankdata."""
    values = -table.to_numpy(float) if higher_is_better else table.to_numpy(float)
    ranks = stats.rankdata(values, axis=1, method="average")
    return pd.DataFrame(ranks, index=table.index, columns=table.columns)


def iman_davenport(chi2: float, n_blocks: int, k: int) -> tuple[float, float]:
    """F_F = (N−1)χ² / (N(k−1) − χ²) with (k−1, (k−1)(N−1)) degrees of freedom."""
    denom = n_blocks * (k - 1) - chi2
    if denom <= 0:
        return np.inf, 0.0
    f = (n_blocks - 1) * chi2 / denom
    return float(f), float(stats.f.sf(f, k - 1, (k - 1) * (n_blocks - 1)))


def friedman_from_ranks(avg_ranks: np.ndarray, n_blocks: int) -> tuple[float, float]:
    """χ²_F from average ranks alone (no tie correction): what a paper's table allows."""
    r = np.asarray(avg_ranks, dtype=float)
    k = len(r)
    chi2 = 12 * n_blocks / (k * (k + 1)) * (np.sum(r**2) - k * (k + 1) ** 2 / 4)
    return float(chi2), float(stats.chi2.sf(chi2, k - 1))


def friedman(table: pd.DataFrame, higher_is_better: bool) -> FriedmanResult:
    """Average ranks, Friedman χ² (scipy, tie-corrected) and Iman–Davenport F on complete blocks."""
    full, dropped = complete_blocks(table)
    k, n = full.shape[1], full.shape[0]
    avg = rank_blocks(full, higher_is_better).mean(axis=0) if n else pd.Series(
        np.nan, index=table.columns)
    if k < 3 or n < 2:
        note = f"Friedman needs k ≥ 3 methods and N ≥ 2 complete blocks (k = {k}, N = {n})"
        return FriedmanResult(k, n, avg, np.nan, np.nan, np.nan, np.nan, dropped, note)
    ranks = rank_blocks(full, higher_is_better).to_numpy()
    if np.all(ranks == ranks[:, :1]):  # every block a full tie: no evidence either way
        return FriedmanResult(k, n, avg, 0.0, 1.0, 0.0, 1.0, dropped, "all methods tied")
    res = stats.friedmanchisquare(*full.to_numpy(float).T)
    f, p_f = iman_davenport(float(res.statistic), n, k)
    return FriedmanResult(k, n, avg, float(res.statistic), float(res.pvalue), f, p_f, dropped)
