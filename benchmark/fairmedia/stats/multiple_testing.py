"""Multiple-testing correction across the methods of one table (statsmodels, method always named).

statsmodels' ``multipletests`` defaults to Holm–Šidák; we always pass the method so the report's
stated correction is the one applied. NaN p-values (no test possible) stay NaN and do not count
toward the family size.
"""

from __future__ import annotations

import gc

import numpy as np
from statsmodels.stats.multitest import multipletests

CORRECTIONS = ("holm", "fdr_bh", "bonferroni", "none")


def adjust(pvalues: np.ndarray | list[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values for one family; ``method`` is a statsmodels name or ``none``."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; valid: {', '.join(CORRECTIONS)}")
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return out
    if method == "none":
        out[ok] = p[ok]
        return out
    # statsmodels' Holm branch calls gc.collect(), which costs ~0.2 s per family once the
    # leaderboard holds thousands of arrays; freezing the current heap makes that collect cheap.
    gc.freeze()
    try:
        out[ok] = multipletests(p[ok], method=method)[1]
    finally:
        gc.unfreeze()
    return out
