"""Disparity measures of one metric across groups.

For values v_g over the eligible groups (n >= min_group_size and the metric defined):

- ``gap``   = max - min
- ``ratio`` = min / max
- ``ser``   skewed error ratio: error of the worst group over error of the best. For a
  higher-is-better metric the error is 1 - v, so (1 - worst) / (1 - best); for a lower-is-better
  metric (an error already) worst / best.
- ``std``   population standard deviation (ddof = 0)
- ``nr``    normalised range = (max - min) / mean
- ``worst``, ``best`` by the metric's declared direction (``fairmedia.metrics.directions``)

Values carry any leading shape (bootstrap resamples); the group axis is last.
"""

from __future__ import annotations

import warnings

import numpy as np

from fairmedia.metrics.directions import higher_is_better

MEASURES = ("gap", "ratio", "ser", "std", "nr", "worst", "best")


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1), np.nan)


def disparity(values: np.ndarray, eligible: np.ndarray, metric: str) -> dict[str, np.ndarray]:
    """Every measure of ``values`` (..., G) over groups where ``eligible`` (G,) is true."""
    v = np.where(np.asarray(eligible, bool), values, np.nan)
    n_defined = (~np.isnan(v)).sum(axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as wanted
        vmax, vmin = np.nanmax(v, axis=-1), np.nanmin(v, axis=-1)
        mean, std = np.nanmean(v, axis=-1), np.nanstd(v, axis=-1, ddof=0)
    higher = higher_is_better(metric)
    worst, best = (vmin, vmax) if higher else (vmax, vmin)
    ser = _div(1 - worst, 1 - best) if higher else _div(worst, best)
    two = n_defined >= 2
    nan = np.full_like(vmax, np.nan)
    return {
        "gap": np.where(two, vmax - vmin, nan),
        "ratio": np.where(two, _div(vmin, vmax), nan),
        "ser": np.where(two, ser, nan),
        "std": np.where(two, std, nan),
        "nr": np.where(two, _div(vmax - vmin, mean), nan),
        "worst": worst,
        "best": best,
    }


def disparity_reasons(
    measures: dict[str, float], n_defined: int, metric: str
) -> dict[str, str]:
    """Why each undefined measure (a point estimate) is undefined."""
    reasons: dict[str, str] = {}
    for name, value in measures.items():
        if not np.isnan(value):
            continue
        if n_defined == 0:
            reasons[name] = f"no group with n >= min_group_size has {metric} defined"
        elif n_defined < 2 and name not in ("worst", "best"):
            reasons[name] = f"fewer than 2 groups with n >= min_group_size and {metric} defined"
        elif name in ("ratio", "ser"):
            reasons[name] = "division by zero (the denominator group has value 0 or error 0)"
        elif name == "nr":
            reasons[name] = "mean over groups is 0"
        else:
            reasons[name] = "undefined"
    return reasons
