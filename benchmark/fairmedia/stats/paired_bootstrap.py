"""Paired patient-level bootstrap of the test-set difference between each method and the baseline.

Within one block (dataset, attribute, arch, selection) every run scored the same test set. One
set of resamples is drawn per block and applied to the method's and the baseline's predictions
alike (paired): patients drawn within their group × label stratum by the evaluation's
``ClusteredResampler``. Seed s of a method is paired with seed s of the baseline, over the seeds
both have, so the observed difference is the leaderboard's Δ: D = mean_s (method_s − baseline_s),
and each replicate recomputes D on the resampled rows. The CI is the percentile interval of the
replicate D; the two-sided p is 2·min(P(D ≤ 0), P(D ≥ 0)) with the (count + 1)/(B + 1) correction,
capped at 1 (Davison & Hinkley 1997, §4.4) — identical predictions give D ≡ 0 and p = 1.

Every metric is recomputed with the evaluation's own definitions, so the test is about the number
the cell prints: groups by ``metrics.groups.attribute_grouping`` of scored.parquet's ``group``
column (the evaluation's group names, null where missing), AUC by ``metrics.auc.GroupedAUC``,
worst/best/gap/ratio/… by ``metrics.disparity`` over the groups with n ≥ ``min_group_size`` — the
value the runs' evaluation used (``metrics.json``), passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fairmedia.metrics.auc import GroupedAUC
from fairmedia.metrics.bootstrap import ClusteredResampler
from fairmedia.metrics.disparity import MEASURES, disparity
from fairmedia.metrics.groups import attribute_grouping

BOOTSTRAP_METRICS = ("auc", *(f"auc_{measure}" for measure in MEASURES))


def auc_metrics(overall: np.ndarray, per_group: np.ndarray, eligible: np.ndarray
                ) -> dict[str, np.ndarray]:
    """``auc`` and ``auc_<measure>`` as metrics.json defines them, from the overall AUC (B,) and
    the per-group AUC (B, G); ``eligible`` (G,) marks the groups with n ≥ min_group_size."""
    measures = disparity(per_group, eligible, "auc")
    return {"auc": overall, **{f"auc_{name}": v for name, v in measures.items()}}


class RunAUC:
    """One run's AUC metrics under any weights: one AUC kernel (groups + overall), sorted once."""

    def __init__(self, y: np.ndarray, score: np.ndarray, codes: np.ndarray, n_groups: int,
                 eligible: np.ndarray):
        self.kernel = GroupedAUC(y, score, codes, n_groups, overall=True)
        self.eligible = eligible

    def aucs(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(B, G + 1): per-group AUCs, then the overall AUC."""
        return self.kernel(weights)

    def metrics(self, aucs: np.ndarray) -> dict[str, np.ndarray]:
        return auc_metrics(aucs[:, -1], aucs[:, :-1], self.eligible)

    def __call__(self, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
        return self.metrics(self.aucs(weights))


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
        return frame["score"].to_numpy(dtype=float)
    position = pd.Index(ids).get_indexer(ref_ids)
    if len(ids) != len(ref_ids) or (position < 0).any():
        return None
    return frame["score"].to_numpy(dtype=float)[position]


def bootstrap_block(scored: Mapping[tuple[str, int], pd.DataFrame], baseline: str,
                    metrics: list[str], *, min_group_size: int, n_boot: int = 1000,
                    seed: int | list[int] = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Paired bootstrap for one block. ``scored`` maps (method, seed) → test rows with columns
    ``sample_id, patient_id, y, score, group``; ``min_group_size`` is the evaluation's. Returns one
    row per method ≠ baseline and metric: ``method, metric, delta, ci_low, ci_high, p, n_boot,
    n_paired, note`` (``delta``: the observed paired difference the replicates are centred on,
    over the ``n_paired`` seeds both have with the metric defined).
    """
    wanted = [m for m in metrics if m in BOOTSTRAP_METRICS]
    base_keys = sorted(k for k in scored if k[0] == baseline)
    methods = sorted({k[0] for k in scored} - {baseline})
    if not wanted or not base_keys:
        note = "no baseline runs" if not base_keys else "metric not bootstrapped"
        return pd.DataFrame([{"method": m, "metric": k, "note": note}
                             for m in methods for k in metrics])
    ref = scored[base_keys[0]].reset_index(drop=True)
    ref_ids = ref["sample_id"].to_numpy()
    y = ref["y"].to_numpy().astype(int)
    grouping = attribute_grouping(ref, "group", None, "scored.parquet")
    codes = grouping.codes
    sizes = np.bincount(codes[codes >= 0], minlength=len(grouping.keys))
    eligible = sizes >= min_group_size
    resampler = ClusteredResampler(codes * 2 + y, ref["patient_id"].to_numpy())

    base_seeds = {s for _, s in base_keys}
    method_seeds = {s for m, s in scored if m != baseline}
    needed = sorted(k for k in scored if k[1] in (method_seeds if k[0] == baseline else base_seeds))
    runs: dict[tuple[str, int], RunAUC] = {}
    notes: dict[str, list[str]] = {}
    for key in needed:
        score = _aligned_scores(scored[key], ref_ids)
        if score is None:
            whose = [m for m in methods if (m, key[1]) in scored] if key[0] == baseline else [key[0]]
            for method in whose:
                notes.setdefault(method, []).append(
                    f"{key[0]} seed {key[1]}: test set differs from the reference run's "
                    f"({base_keys[0][0]} seed {base_keys[0][1]}), not paired, skipped")
            continue
        runs[key] = RunAUC(y, score, codes, len(grouping.keys), eligible)
    observed = {key: {k: v[0] for k, v in run().items()} for key, run in runs.items()}
    replicates: dict[tuple[str, int], list[np.ndarray]] = {key: [] for key in runs}
    for weights in resampler.blocks(n_boot, seed):
        for key, run in runs.items():
            replicates[key].append(run.aucs(weights))
    reps = {key: runs[key].metrics(np.concatenate(blocks)) for key, blocks in replicates.items()}

    rows: list[dict] = []
    for method in methods:
        seeds = sorted(s for m, s in runs if m == method and (baseline, s) in runs)
        for metric in metrics:
            row = {"method": method, "metric": metric, "n_boot": n_boot}
            note = list(notes.get(method, []))
            if metric not in wanted:
                rows.append({**row, "note": "metric not bootstrapped"})
                continue
            paired = [s for s in seeds if np.isfinite(observed[(method, s)][metric])
                      and np.isfinite(observed[(baseline, s)][metric])]
            if not paired:
                rows.append({**row, "n_paired": 0, "note": "; ".join(
                    note + ["no seed with a defined value in both the method and the baseline"])})
                continue
            diff = np.mean([reps[(method, s)][metric] - reps[(baseline, s)][metric]
                            for s in paired], axis=0)
            delta = float(np.mean([observed[(method, s)][metric] - observed[(baseline, s)][metric]
                                   for s in paired]))
            low, high, p = _percentile_test(diff, confidence)
            rows.append({**row, "delta": delta, "ci_low": low, "ci_high": high, "p": p,
                         "n_paired": len(paired), "note": "; ".join(note)})
    return pd.DataFrame(rows)
