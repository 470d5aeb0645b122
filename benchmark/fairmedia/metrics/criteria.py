"""Group-fairness criteria as differences (and ratios) across groups.

- ``demographic_parity``: gap of selection rate  (fairlearn ``demographic_parity_difference``)
- ``accuracy_parity``:    gap of accuracy
- ``equal_opportunity``:  gap of TPR              (fairlearn ``equal_opportunity_difference``)
- ``equalized_odds``:     max(gap of TPR, gap of FPR), fairlearn's ``agg="worst_case"``
- ``*_ratio``:            the same with min/max ratios (equalized odds: the smaller ratio)
- ``es_auc``:             equity-scaled AUC = AUC / (1 + sum_g |AUC - AUC_g|)
  (Luo et al., "FairVision", ICLR 2024), over the eligible groups with AUC defined.
- ``between_all_groups_generalized_entropy`` (α = 2) and ``between_all_groups_theil``:
  AIF360's between-all-groups inequality of the benefit ŷ − y + 1 (``metrics/entropy.py``); the
  two-group ``between_group_*`` (privileged vs the rest) is in ``metrics/privileged.py``.

All take the disparity measures computed over eligible groups (n >= min_group_size).
"""

from __future__ import annotations

import warnings

import numpy as np

from fairmedia.metrics.entropy import between_group_generalized_entropy, between_group_theil

CRITERIA = (
    "demographic_parity", "accuracy_parity", "equal_opportunity", "equalized_odds", "es_auc",
    "demographic_parity_ratio", "equal_opportunity_ratio", "equalized_odds_ratio",
    "between_all_groups_generalized_entropy", "between_all_groups_theil",
)


def criteria(
    disparities: dict[str, dict[str, np.ndarray]],
    group_auc: np.ndarray,
    overall_auc: np.ndarray,
    eligible: np.ndarray,
    table: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Criteria from ``disparities[metric][measure]``, the per-group AUC (..., G) and the
    per-group table (``group_table.metrics_from_sums``: counts for the entropy indices)."""
    tpr, fpr = disparities["tpr"], disparities["fpr"]
    auc_g = np.where(np.asarray(eligible, bool), group_auc, np.nan)
    counts = (table["n"], table["n_pos"], table["tp"] + table["fp"], eligible)
    deviation = np.abs(np.asarray(overall_auc)[..., None] - auc_g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nansum(deviation, axis=-1)
        any_defined = (~np.isnan(deviation)).any(axis=-1)
        es_auc = np.where(any_defined, overall_auc / (1 + spread), np.nan)
        return {
            "demographic_parity": disparities["selection_rate"]["gap"],
            "accuracy_parity": disparities["acc"]["gap"],
            "equal_opportunity": tpr["gap"],
            "equalized_odds": np.fmax(tpr["gap"], fpr["gap"]) * _both(tpr["gap"], fpr["gap"]),
            "es_auc": es_auc,
            "demographic_parity_ratio": disparities["selection_rate"]["ratio"],
            "equal_opportunity_ratio": tpr["ratio"],
            "equalized_odds_ratio": np.fmin(tpr["ratio"], fpr["ratio"])
            * _both(tpr["ratio"], fpr["ratio"]),
            "between_all_groups_generalized_entropy": between_group_generalized_entropy(*counts),
            "between_all_groups_theil": between_group_theil(*counts),
        }


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 where both are defined, NaN otherwise (a criterion over two rates needs both)."""
    return np.where(np.isnan(a) | np.isnan(b), np.nan, 1.0)
