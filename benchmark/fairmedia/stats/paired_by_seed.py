"""Method vs ERM within one cell, paired by seed: mean difference, its std, t-based CI, paired t p.

Seed ``s`` of a method is paired with seed ``s`` of the baseline (same split and data order), so
the test sees only the between-method part of the seed-to-seed variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PairedResult:
    n: int
    mean_diff: float
    std_diff: float
    ci_low: float
    ci_high: float
    p: float
    note: str = ""

    @property
    def cohens_dz(self) -> float:
        """Paired Cohen's d_z = mean / SD (ddof 1) of the per-seed differences, signed as
        method − baseline (not by the metric's direction); NaN with < 2 seeds or SD 0."""
        if self.n < 2 or not np.isfinite(self.std_diff) or self.std_diff == 0:
            return float("nan")
        return self.mean_diff / self.std_diff


def paired_by_seed(method: dict[int, float], baseline: dict[int, float],
                   confidence: float = 0.95) -> PairedResult:
    """Paired t-test of ``method - baseline`` over the seeds both have (NaN values skipped)."""
    seeds = sorted(s for s in set(method) & set(baseline)
                   if np.isfinite(method[s]) and np.isfinite(baseline[s]))
    diff = np.array([method[s] - baseline[s] for s in seeds], dtype=float)
    n = len(diff)
    if n == 0:
        return PairedResult(0, np.nan, np.nan, np.nan, np.nan, np.nan, "no paired seeds")
    mean = float(diff.mean())
    if n == 1:
        return PairedResult(1, mean, np.nan, np.nan, np.nan, np.nan, "one paired seed: no test")
    std = float(diff.std(ddof=1))
    if std == 0.0:
        # ttest_rel returns NaN for 0/0; identical runs are "no evidence of a difference".
        if mean == 0.0:
            return PairedResult(n, 0.0, 0.0, 0.0, 0.0, 1.0, "identical to baseline")
        return PairedResult(n, mean, 0.0, mean, mean, 0.0, "constant non-zero difference")
    test = stats.ttest_rel(diff, np.zeros(n))
    half = stats.t.ppf(0.5 + confidence / 2, df=n - 1) * std / np.sqrt(n)
    return PairedResult(n, mean, std, mean - half, mean + half, float(test.pvalue))
