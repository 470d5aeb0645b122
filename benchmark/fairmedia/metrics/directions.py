"""Each metric's direction, declared once: ranks, Δ-vs-ERM signs and Pareto fronts read it here.

Names are the keys used in ``metrics.json`` (per-group metrics) and the long leaderboard table
(``<metric>`` for an overall value, ``<metric>_<measure>`` for a disparity measure, criteria by name).
"""

from __future__ import annotations

HIGHER = "higher"
LOWER = "lower"

# Per-group / overall metrics.
BASE_METRICS: dict[str, str] = {
    "auc": HIGHER,
    "acc": HIGHER,
    "tpr": HIGHER,
    "tnr": HIGHER,
    "ppv": HIGHER,
    "fpr": LOWER,
    "fnr": LOWER,
    "ece": LOWER,
    "bce": LOWER,
    "brier": LOWER,
    "selection_rate": HIGHER,  # not a utility; direction only used for "worst"/"best" picks
    "npv": HIGHER,
    "for": LOWER,
    "fdr": LOWER,
    "balanced_acc": HIGHER,
    "f1": HIGHER,
    # rank-based, point estimates only (metrics/ranking_metrics.py)
    "average_precision": HIGHER,
    "sensitivity_at_specificity": HIGHER,
    "tpr_at_val_specificity": HIGHER,
}

# Disparity measures over groups: direction of the measure itself.
MEASURE_DIRECTIONS: dict[str, str] = {
    "gap": LOWER,
    "std": LOWER,
    "nr": LOWER,
    "ratio": HIGHER,
    "ser": LOWER,
}

CRITERIA: dict[str, str] = {
    "demographic_parity": LOWER,
    "accuracy_parity": LOWER,
    "equal_opportunity": LOWER,
    "equalized_odds": LOWER,
    "es_auc": HIGHER,
    "between_all_groups_generalized_entropy": LOWER,
    "between_all_groups_theil": LOWER,
}


def direction(name: str) -> str:
    """Return ``"higher"`` or ``"lower"`` for a metric name such as ``auc``, ``auc_gap``,
    ``auc_worst``, ``equalized_odds`` or ``worst_group_auc``."""
    if name in BASE_METRICS:
        return BASE_METRICS[name]
    if name in CRITERIA:
        return CRITERIA[name]
    for prefix in ("worst_group_", "best_group_"):
        if name.startswith(prefix):
            return direction(name[len(prefix):])
    base, _, measure = name.rpartition("_")
    if base and measure in ("worst", "best"):
        return direction(base)
    if base and measure in MEASURE_DIRECTIONS:
        return MEASURE_DIRECTIONS[measure]
    raise KeyError(f"metric {name!r} has no declared direction; "
                   "add it to benchmark/fairmedia/metrics/directions.py")


def higher_is_better(name: str) -> bool:
    return direction(name) == HIGHER


def known_metric(name: str) -> bool:
    """True for a name the leaderboard can rank: a base metric, a criterion, ``<base>_worst`` /
    ``_best`` or ``<base>_<measure>``, or ``worst_group_<base>`` / ``best_group_<base>``."""
    if name in BASE_METRICS or name in CRITERIA:
        return True
    for prefix in ("worst_group_", "best_group_"):
        if name.startswith(prefix):
            return name[len(prefix):] in BASE_METRICS
    base, _, measure = name.rpartition("_")
    return base in BASE_METRICS and (measure in ("worst", "best") or measure in MEASURE_DIRECTIONS)


def metric_names_help() -> str:
    return (f"valid: a metric ({', '.join(BASE_METRICS)}), a criterion ({', '.join(CRITERIA)}), "
            f"or <metric>_worst, <metric>_best, <metric>_<measure> with measure one of "
            f"{', '.join(MEASURE_DIRECTIONS)} (e.g. auc_worst, tpr_gap)")
