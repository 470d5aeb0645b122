"""Per-group segmentation metrics, their disparities and equity-scaled scores, with bootstrap CIs.

A group's score is the mean over its cases (one value per case and class, ``case_metrics``).
Disparities: ``gap`` = max − min of the group means, ``ratio`` = min / max, the ``worst`` group
(lowest Dice/NSD, highest HD95) by name, and both equity-scaled variants (``equity_scaled``).

CIs are 95 % percentile intervals of a case bootstrap clustered by patient and stratified by group
(``metrics.bootstrap.ClusteredResampler``): all cases of a drawn patient come together, and each
group keeps its number of patients, so a small group's CI reflects its own size. Every statistic,
the gap and the ES scores included, is recomputed on the same resamples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fairmedia.metrics.bootstrap import ClusteredResampler, percentile_ci
from fairmedia.segmentation.case_metrics import METRICS
from fairmedia.segmentation.equity_scaled import equity_scaled

LOWER_IS_BETTER = {"hd95"}


def _statistics(metric: str, values: np.ndarray, codes: np.ndarray, n_groups: int,
                weights: np.ndarray) -> dict[str, np.ndarray]:
    """All statistics for row ``weights`` (N, B): one value per resample (B,) or (B, G)."""
    onehot = np.eye(n_groups)[codes]  # (N, G)
    sums = weights.T @ (onehot * values[:, None])
    counts = weights.T @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        groups = sums / counts
        overall = (weights.T @ values) / weights.sum(axis=0)
        if n_groups == 0:  # every group under min_group_size: nothing to compare
            high = low = np.full(weights.shape[1], np.nan)
        else:
            high, low = groups.max(axis=1), groups.min(axis=1)
        ratio = low / high
    out = {"overall": overall, "groups": groups, "gap": high - low, "ratio": ratio}
    if n_groups == 0:
        out.update({k: np.full_like(overall, np.nan)
                    for k in equity_scaled(metric, np.zeros(1), np.zeros((1, 1)))})
    else:
        out.update(equity_scaled(metric, overall, groups))
    return out


def group_summary(
    values: np.ndarray,
    groups: np.ndarray,
    *,
    metric: str,
    patients: np.ndarray | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    min_group_size: int = 1,
) -> dict[str, object]:
    """Per-group means and disparities of one metric's per-case ``values`` for group labels
    ``groups`` (one per case). Groups with fewer than ``min_group_size`` cases are listed but
    left out of the disparities and ES scores (``"small": true``)."""
    values = np.asarray(values, dtype=float)
    labels = pd.Series(np.asarray(groups, dtype=object)).astype(str).to_numpy()
    names, codes = np.unique(labels, return_inverse=True)
    sizes = np.bincount(codes, minlength=len(names))
    keep_group = sizes >= min_group_size
    rows = keep_group[codes]
    kept_names = names[keep_group]
    kept_codes = np.searchsorted(kept_names, labels[rows])
    point = _statistics(metric, values[rows], kept_codes, len(kept_names),
                        np.ones((int(rows.sum()), 1)))
    ci: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if bootstrap > 0 and rows.any():
        resampler = ClusteredResampler(kept_codes, None if patients is None
                                       else np.asarray(patients, dtype=object)[rows])
        draws = [_statistics(metric, values[rows], kept_codes, len(kept_names), w)
                 for w in resampler.blocks(bootstrap, seed)]
        ci = {k: percentile_ci(np.concatenate([d[k] for d in draws])) for k in point}

    def value(key: str, index: int | None = None) -> dict[str, object]:
        est = point[key][0] if index is None else point[key][0, index]
        out: dict[str, object] = {"value": float(est) if np.isfinite(est) else None}
        if key in ci:
            low, high = ci[key]
            low, high = (low, high) if index is None else (low[index], high[index])
            # undefined in some resamples only is fine (nanpercentile); in all, no interval
            out["ci"] = ([float(low), float(high)] if np.isfinite([low, high]).all() else None)
        return out

    patient_of = None if patients is None else np.asarray(patients, dtype=object)
    group_rows = []
    for g, name in enumerate(names):
        member = codes == g
        row: dict[str, object] = {"group": str(name), "n_cases": int(sizes[g]),
                                  "small": bool(not keep_group[g])}
        if patient_of is not None:
            row["n_patients"] = int(pd.unique(patient_of[member]).size)
        if keep_group[g]:
            row.update(value("groups", int(np.searchsorted(kept_names, name))))
        else:
            row["value"] = float(values[member].mean())
        group_rows.append(row)
    means = point["groups"][0]
    disparities: dict[str, object] = {"n_groups": int(len(kept_names))}
    if len(kept_names) >= 1:
        order = np.argsort(means)
        worst, best = (order[-1], order[0]) if metric in LOWER_IS_BETTER else (order[0], order[-1])
        disparities.update({"worst": str(kept_names[worst]), "best": str(kept_names[best])})
    for key in point:
        if key not in ("overall", "groups"):
            disparities[key] = value(key)
    return {"metric": metric, "overall": value("overall"), "groups": group_rows,
            "disparities": disparities}


def attribute_report(
    cases: pd.DataFrame,
    attribute: str,
    *,
    metrics: Sequence[str] = METRICS,
    patient_col: str | None = "patient_id",
    bootstrap: int = 0,
    seed: int = 0,
    min_group_size: int = 1,
) -> dict[str, dict[str, dict[str, object]]]:
    """``{class: {metric: group_summary}}`` for one attribute of ``cases`` (the ``cases_table``
    joined with the metadata). Cases whose attribute is missing are left out (counted)."""
    out: dict[str, dict[str, dict[str, object]]] = {}
    for name, table in cases.groupby("class", sort=False):
        known = table[table[attribute].notna()]
        patients = known[patient_col].to_numpy() if patient_col else None
        out[str(name)] = {
            m: {**group_summary(known[m].to_numpy(), known[attribute].to_numpy(), metric=m,
                                patients=patients, bootstrap=bootstrap, seed=seed,
                                min_group_size=min_group_size),
                "n_missing_attribute": int(len(table) - len(known))}
            for m in metrics
        }
    return out
