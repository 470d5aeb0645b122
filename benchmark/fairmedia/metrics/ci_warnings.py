"""``report["ci_warnings"]``: estimates that lie outside their own bootstrap interval.

A percentile interval is made of the resampled statistic, and for a max - min over groups the
resampled value is biased upward (sampling noise widens every resampled gap), so a gap near 0
can sit below its whole interval (``equal_opportunity 0.039 [0.050, 0.174]``). That is not a bug,
but an auditor who is not told reads one; each such estimate gets one line saying why.

Each entry: ``{"measure": dotted path ("attributes.sex.disparity.tpr.gap"), "estimate": float,
"ci": [low, high], "explanation": str}`` (an interface: the HTML report renders it).
"""

from __future__ import annotations

import math

# Measures made of a max/min over groups (disparity measures; the criteria are gaps or ratios
# of them, except es_auc which sums |AUC - AUC_g|): biased under resampling.
SPREAD_MEASURES = {"gap", "std", "nr"}
SHRINK_MEASURES = {"ratio"}
EXTREME_MEASURES = {"worst", "best", "ser"}
GAP_CRITERIA = {"demographic_parity", "accuracy_parity", "equal_opportunity", "equalized_odds",
                # between-group inequality indices (>= 0): biased upward like a spread
                "between_all_groups_generalized_entropy", "between_all_groups_theil",
                "between_group_generalized_entropy", "between_group_theil"}
RATIO_CRITERIA = {"demographic_parity_ratio", "equal_opportunity_ratio", "equalized_odds_ratio"}


def _explanation(path: tuple[str, ...], estimate: float, low: float) -> str:
    side = "below" if estimate < low else "above"  # the line starts "<side> its interval"
    last = path[-1]
    is_disparity = len(path) >= 2 and path[-3:-2] == ("disparity",)
    if (is_disparity and last in SPREAD_MEASURES) or last in GAP_CRITERIA or last == "es_auc":
        return (f"{side} its interval: a spread over groups (max - min) is biased upward "
                "under resampling, so the interval is for the resampled spread; compare methods "
                "with a paired test of the difference")
    if (is_disparity and last in SHRINK_MEASURES) or last in RATIO_CRITERIA:
        return (f"{side} its interval: a min/max ratio over groups is biased downward "
                "under resampling, so the interval is for the resampled ratio")
    if is_disparity and last in EXTREME_MEASURES:
        return (f"{side} its interval: the worst/best group is re-chosen in every "
                "resample, which biases the resampled extreme")
    return (f"{side} its interval: the bootstrap distribution is shifted from the "
            "estimate (a skewed statistic or few patients); read the interval with care")


def ci_warnings(point: dict[tuple[str, ...], float],
                ci: dict[tuple[str, ...], list[float | None]]) -> list[dict]:
    """One warning per path whose point estimate is outside its ``[low, high]``."""
    out = []
    for path, (low, high) in ci.items():
        estimate = point.get(path)
        if low is None or high is None or estimate is None or math.isnan(estimate):
            continue
        if low <= estimate <= high:
            continue
        out.append({"measure": ".".join(path), "estimate": float(estimate),
                    "ci": [float(low), float(high)],
                    "explanation": _explanation(path, estimate, low)})
    return out
