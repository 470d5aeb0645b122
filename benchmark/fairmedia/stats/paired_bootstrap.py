"""Paired patient-level bootstrap of the test-set difference between each method and the baseline.

Within one block (dataset, attribute, arch, selection) every run scored the same test set. One
set of resamples is drawn per block — patients, stratified by group × label — and applied to the
method's and the baseline's predictions alike (paired). In each replicate a method's metric is
averaged over its seeds before the difference to the baseline is taken. The CI is the percentile
interval of the replicate differences; the two-sided p is 2·min(P(D ≤ 0), P(D ≥ 0)) with the
(count + 1)/(B + 1) correction, capped at 1 (Davison & Hinkley 1997, §4.4) — identical predictions
give D ≡ 0 and p = 1.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fairmedia.stats.weighted_auc import replicate_aucs

BOOTSTRAP_METRICS = ("auc", "auc_worst", "auc_best", "auc_gap", "auc_ratio", "auc_std")
MIN_GROUP_SIZE = 20  # groups smaller than this are left out of worst/gap, as in metrics.json


def patient_weights(patient_id: np.ndarray, stratum: np.ndarray, n_boot: int,
                    rng: np.random.Generator) -> np.ndarray:
    """n × (1 + n_boot) float32 row weights: column 0 is all ones (the observed data), column b
    counts how often row's patient was drawn in replicate b (patients drawn within their stratum).
    """
    patients, row_patient = np.unique(patient_id, return_inverse=True)
    first_row = np.unique(row_patient, return_index=True)[1]
    patient_stratum = np.unique(stratum[first_row], return_inverse=True)[1]
    counts = np.zeros((len(patients), n_boot + 1), dtype=np.float32)
    counts[:, 0] = 1
    for s in range(patient_stratum.max() + 1):
        members = np.flatnonzero(patient_stratum == s)
        draws = rng.integers(0, len(members), size=(n_boot, len(members)))
        flat = (draws + np.arange(n_boot)[:, None] * len(members)).ravel()
        per = np.bincount(flat, minlength=n_boot * len(members)).reshape(n_boot, len(members))
        counts[members, 1:] = per.T
    return counts[row_patient]


def auc_family(overall: np.ndarray, groups: np.ndarray, valid: np.ndarray) -> dict[str, np.ndarray]:
    """Replicate arrays for the AUC metrics; ``valid`` masks groups large enough for worst/gap."""
    g = groups[:, valid]
    worst, best = np.nanmin(g, axis=1), np.nanmax(g, axis=1)
    return {"auc": overall, "auc_worst": worst, "auc_best": best, "auc_gap": best - worst,
            "auc_ratio": worst / best, "auc_std": np.nanstd(g, axis=1)}


def _percentile_test(diff: np.ndarray, confidence: float) -> tuple[float, float, float]:
    d = diff[np.isfinite(diff)]
    if d.size == 0:
        return np.nan, np.nan, np.nan
    low, high = np.quantile(d, [(1 - confidence) / 2, (1 + confidence) / 2])
    p = 2 * min(np.sum(d <= 0) + 1, np.sum(d >= 0) + 1) / (d.size + 1)
    return float(low), float(high), float(min(1.0, p))


def _aligned_scores(frame: pd.DataFrame, ref_ids: np.ndarray) -> np.ndarray | None:
    """The run's scores in the reference row order, or None when its test set differs."""
    ids = frame["sample_id"].to_numpy()
    if len(ids) == len(ref_ids) and np.array_equal(ids, ref_ids):
        return frame["score"].to_numpy()
    position = pd.Index(ids).get_indexer(ref_ids)
    if len(ids) != len(ref_ids) or (position < 0).any():
        return None
    return frame["score"].to_numpy()[position]


def bootstrap_block(scored: Mapping[tuple[str, int], pd.DataFrame], baseline: str,
                    metrics: list[str], n_boot: int = 1000, seed: int = 0,
                    confidence: float = 0.95) -> pd.DataFrame:
    """Paired bootstrap for one block. ``scored`` maps (method, seed) → test rows with columns
    ``sample_id, patient_id, y, score, group``. Returns one row per method ≠ baseline and metric:
    ``method, metric, delta, ci_low, ci_high, p, n_boot, note``.
    """
    wanted = [m for m in metrics if m in BOOTSTRAP_METRICS]
    rows: list[dict] = []
    base_keys = [k for k in scored if k[0] == baseline]
    methods = sorted({k[0] for k in scored} - {baseline})
    if not wanted or not base_keys:
        note = "no baseline runs" if not base_keys else "metric not bootstrapped"
        return pd.DataFrame([{"method": m, "metric": k, "note": note}
                             for m in methods for k in metrics])
    ref = scored[base_keys[0]].reset_index(drop=True)
    ref_ids = ref["sample_id"].to_numpy()
    y = ref["y"].to_numpy().astype(int)
    group_codes, group_names = pd.factorize(ref["group"].astype(str), sort=True)
    valid = np.bincount(group_codes, minlength=len(group_names)) >= MIN_GROUP_SIZE
    if not valid.any():
        valid[:] = True
    stratum = group_codes * 2 + y
    rng = np.random.default_rng(seed)
    weights = patient_weights(ref["patient_id"].astype(str).to_numpy(), stratum, n_boot, rng)

    per_method: dict[str, list[dict[str, np.ndarray]]] = {}
    notes: dict[str, str] = {}
    for (method, _seed), frame in scored.items():
        score = _aligned_scores(frame, ref_ids)
        if score is None:
            notes[method] = "test set differs from the baseline's: not paired, skipped"
            continue
        overall, groups = replicate_aucs(score, y, group_codes, weights)
        per_method.setdefault(method, []).append(auc_family(overall, groups, valid))
    if baseline not in per_method:
        return pd.DataFrame([{"method": m, "metric": k, "note": "baseline not paired"}
                             for m in methods for k in metrics])
    base = {k: np.mean([r[k] for r in per_method[baseline]], axis=0) for k in wanted}
    for method in methods:
        for metric in metrics:
            row = {"method": method, "metric": metric, "n_boot": n_boot}
            if metric not in wanted:
                rows.append({**row, "note": "metric not bootstrapped"})
                continue
            if method not in per_method:
                rows.append({**row, "note": notes.get(method, "no runs")})
                continue
            mean = np.mean([r[metric] for r in per_method[method]], axis=0)
            diff = mean - base[metric]
            low, high, p = _percentile_test(diff[1:], confidence)
            rows.append({**row, "delta": float(diff[0]), "ci_low": low, "ci_high": high, "p": p,
                         "note": notes.get(method, "")})
    return pd.DataFrame(rows)
