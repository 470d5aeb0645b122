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
every other per-group metric (TPR, FPR, accuracy, selection rate, ECE, …) by
``metrics.group_table.metrics_from_sums`` of the weighted per-row terms, worst/best/gap/ratio/… by
``metrics.disparity`` and the criteria (equalized odds, equal opportunity, demographic and accuracy
parity, ES-AUC) by ``metrics.criteria``, over the groups with n ≥ ``min_group_size`` — the value
the runs' evaluation used (``metrics.json``), passed in by the caller.

Threshold-dependent metrics use each run's own test decisions (scored.parquet's ``decision``: the
run's score at the threshold its evaluation fitted on validation rows, or a post-processor's
per-row decision); the threshold is held fixed and only the test rows are resampled, as in the
evaluation's own CIs. A weighted count (resample weight × row term) per group gives every
replicate's TP/FP/… at once: B × n weights times n × K terms, no loop over replicates.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fairmedia.metrics.auc import GroupedAUC
from fairmedia.metrics.bootstrap import ClusteredResampler
from fairmedia.metrics.calibration import N_BINS
from fairmedia.metrics.criteria import CRITERIA, criteria
from fairmedia.metrics.disparity import MEASURES, disparity
from fairmedia.metrics.group_table import N_TERMS, RATE_COLUMNS, metrics_from_sums, row_terms
from fairmedia.metrics.groups import attribute_grouping

AUC_METRICS = ("auc", *(f"auc_{measure}" for measure in MEASURES))
# Metrics that need more than the scores' ranks: per-row terms (decisions, calibration residuals).
TERM_METRICS = tuple(
    [m for m in RATE_COLUMNS if m != "auc"]
    + [f"{m}_{measure}" for m in RATE_COLUMNS if m != "auc" for measure in MEASURES]
    + list(CRITERIA))
BOOTSTRAP_METRICS = AUC_METRICS + TERM_METRICS
N_TERMS_NO_BINS = N_TERMS - N_BINS  # row_terms' columns before the ECE bins


def auc_metrics(overall: np.ndarray, per_group: np.ndarray, eligible: np.ndarray
                ) -> dict[str, np.ndarray]:
    """``auc`` and ``auc_<measure>`` as metrics.json defines them, from the overall AUC (B,) and
    the per-group AUC (B, G); ``eligible`` (G,) marks the groups with n ≥ min_group_size."""
    measures = disparity(per_group, eligible, "auc")
    return {"auc": overall, **{f"auc_{name}": v for name, v in measures.items()}}


def term_metrics(overall_sums: np.ndarray, group_sums: np.ndarray, overall_auc: np.ndarray,
                 group_auc: np.ndarray, eligible: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of ``TERM_METRICS`` as metrics.json defines it (``report_numbers``), from the
    summed row terms overall (B, K) and per group (B, G, K) and the AUCs (B,) and (B, G)."""
    overall = metrics_from_sums(overall_sums, overall_auc)
    table = metrics_from_sums(group_sums, group_auc)
    disparities = {m: disparity(table[m], eligible, m) for m in RATE_COLUMNS}
    out = {m: overall[m] for m in RATE_COLUMNS if m != "auc"}
    for m, measures in disparities.items():
        if m != "auc":
            out.update({f"{m}_{measure}": v for measure, v in measures.items()})
    out.update(criteria(disparities, table["auc"], overall["auc"], eligible, table))
    return out


class GroupSlices:
    """A block's rows sorted by group code (missing first), so a group's rows are one slice: the
    weighted sums of a group are one (B × n_g) @ (n_g × K) product."""

    def __init__(self, codes: np.ndarray, n_groups: int):
        self.order = np.argsort(codes, kind="stable")
        self.bounds = np.searchsorted(codes[self.order], np.arange(-1, n_groups + 1))

    def sums(self, terms: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Overall (B, K) and per-group (B, G, K) sums; ``terms`` and ``weights`` (n, B) in the
        sorted order."""
        b = self.bounds
        missing = weights[:b[1]].T @ terms[:b[1]]  # rows without a group count overall only
        if len(b) < 3:  # no group at all: every row's attribute is missing
            return missing, np.zeros((weights.shape[1], 0, terms.shape[1]))
        groups = np.stack([weights[lo:hi].T @ terms[lo:hi] for lo, hi in zip(b[1:-1], b[2:])],
                          axis=1)
        return missing + groups.sum(axis=1), groups


class RunAUC:
    """One run's metrics under any weights: one AUC kernel (groups + overall), sorted once, and —
    when ``decision`` is given — its per-row terms in the block's group order (``slices``).
    ``calibration=False`` leaves out the ECE bin terms (10 of the 16 columns) and the ``ece*``
    metrics, for callers that do not rank them."""

    def __init__(self, y: np.ndarray, score: np.ndarray, codes: np.ndarray, n_groups: int,
                 eligible: np.ndarray, decision: np.ndarray | None = None,
                 slices: GroupSlices | None = None, calibration: bool = True):
        self.kernel = GroupedAUC(y, score, codes, n_groups, overall=True)
        self.eligible = eligible
        self.slices = slices if decision is not None else None
        self.calibration = calibration
        if self.slices is not None:
            order = self.slices.order
            terms = row_terms(np.asarray(y)[order], np.asarray(score, float)[order],
                              np.asarray(decision)[order])
            self.terms = terms if calibration else np.ascontiguousarray(terms[:, :N_TERMS_NO_BINS])

    def aucs(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(B, G + 1): per-group AUCs, then the overall AUC."""
        return self.kernel(weights)

    def metrics(self, aucs: np.ndarray, sorted_weights: np.ndarray | None = None
                ) -> dict[str, np.ndarray]:
        """AUC metrics and, with per-row terms, every term metric; ``sorted_weights`` (n, B) in
        the slices' order (None: the observed rows, weight 1 each)."""
        out = auc_metrics(aucs[:, -1], aucs[:, :-1], self.eligible)
        if self.slices is not None:
            w = np.ones((len(self.terms), 1)) if sorted_weights is None else sorted_weights
            overall, groups = self.slices.sums(self.terms, w)
            terms = term_metrics(overall, groups, aucs[:, -1], aucs[:, :-1], self.eligible)
            if not self.calibration:  # ECE from no bins would read 0: not a value, left out
                terms = {k: v for k, v in terms.items() if not k.startswith("ece")}
            out.update(terms)
        return out

    def __call__(self, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
        sorted_weights = None
        if weights is not None and self.slices is not None:
            sorted_weights = weights[self.slices.order]
        return self.metrics(self.aucs(weights), sorted_weights)


def _percentile_test(diff: np.ndarray, confidence: float) -> tuple[float, float, float]:
    d = diff[np.isfinite(diff)]
    if d.size == 0:
        return np.nan, np.nan, np.nan
    low, high = np.quantile(d, [(1 - confidence) / 2, (1 + confidence) / 2])
    p = 2 * min(np.sum(d <= 0) + 1, np.sum(d >= 0) + 1) / (d.size + 1)
    return float(low), float(high), float(min(1.0, p))


def _aligned(frame: pd.DataFrame, ref_ids: np.ndarray, column: str) -> np.ndarray | None:
    """The run's ``column`` in the reference row order, or None when its test set differs."""
    ids = frame["sample_id"].to_numpy()
    values = frame[column].to_numpy(dtype=float)
    if len(ids) == len(ref_ids) and np.array_equal(ids, ref_ids):
        return values
    position = pd.Index(ids).get_indexer(ref_ids)
    if len(ids) != len(ref_ids) or (position < 0).any():
        return None
    return values[position]


def bootstrap_block(scored: Mapping[tuple[str, int], pd.DataFrame], baseline: str,
                    metrics: list[str], *, min_group_size: int, n_boot: int = 1000,
                    seed: int | list[int] = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Paired bootstrap for one block. ``scored`` maps (method, seed) → test rows with columns
    ``sample_id, patient_id, y, score, group`` and, for the threshold metrics (``TERM_METRICS``),
    ``decision`` (0/1 at the run's validation-fitted threshold, or its post-processor's decision);
    ``min_group_size`` is the evaluation's. Returns one row per method ≠ baseline and metric:
    ``method, metric, delta, ci_low, ci_high, p, n_boot, n_paired, note`` (``delta``: the observed
    paired difference the replicates are centred on, over the ``n_paired`` seeds both have with the
    metric defined).
    """
    wanted = [m for m in metrics if m in BOOTSTRAP_METRICS]
    need_terms = any(m in TERM_METRICS for m in wanted)
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
    n_groups = len(grouping.keys)
    sizes = np.bincount(codes[codes >= 0], minlength=n_groups)
    eligible = sizes >= min_group_size
    resampler = ClusteredResampler(codes * 2 + y, ref["patient_id"].to_numpy())
    slices = GroupSlices(codes, n_groups) if need_terms else None

    base_seeds = {s for _, s in base_keys}
    method_seeds = {s for m, s in scored if m != baseline}
    needed = sorted(k for k in scored if k[1] in (method_seeds if k[0] == baseline else base_seeds))
    runs: dict[tuple[str, int], RunAUC] = {}
    notes: dict[str, list[str]] = {}
    undecided: set[tuple[str, int]] = set()  # runs whose scored.parquet has no decision column

    def note_for(key: tuple[str, int], text: str) -> None:
        whose = [m for m in methods if (m, key[1]) in scored] if key[0] == baseline else [key[0]]
        for method in whose:
            notes.setdefault(method, []).append(f"{key[0]} seed {key[1]}: {text}")

    for key in needed:
        score = _aligned(scored[key], ref_ids, "score")
        if score is None:
            note_for(key, f"test set differs from the reference run's ({base_keys[0][0]} seed "
                          f"{base_keys[0][1]}), not paired, skipped")
            continue
        decision = None
        if need_terms:
            if "decision" in scored[key]:
                decision = _aligned(scored[key], ref_ids, "decision")
            else:
                undecided.add(key)
        runs[key] = RunAUC(y, score, codes, n_groups, eligible, decision, slices,
                           calibration=any(m.startswith("ece") for m in wanted))
    keep = set(wanted)
    observed = {key: {k: float(v[0]) for k, v in run().items() if k in keep}
                for key, run in runs.items()}
    replicates: dict[tuple[str, int], list[dict[str, np.ndarray]]] = {key: [] for key in runs}
    for weights in resampler.blocks(n_boot, seed):
        # One permutation of the block's weights serves every run's grouped sums.
        sorted_weights = weights[slices.order] if slices is not None else None
        for key, run in runs.items():
            values = run.metrics(run.aucs(weights), sorted_weights)
            replicates[key].append({k: v for k, v in values.items() if k in keep})
    reps = {key: {m: np.concatenate([b[m] for b in blocks]) for m in observed[key]}
            for key, blocks in replicates.items()}

    rows: list[dict] = []
    for method in methods:
        seeds = sorted(s for m, s in runs if m == method and (baseline, s) in runs)
        for metric in metrics:
            row = {"method": method, "metric": metric, "n_boot": n_boot}
            note = list(notes.get(method, []))
            if metric not in wanted:
                rows.append({**row, "note": "metric not bootstrapped"})
                continue
            lacking = [f"{m} seed {s}" for s in seeds for m in (method, baseline)
                       if (m, s) in undecided]
            if metric in TERM_METRICS and lacking:
                note.append(f"no per-row decision in scored.parquet of {', '.join(lacking)}: "
                            "re-run the evaluation")
            paired = [s for s in seeds
                      if np.isfinite(observed[(method, s)].get(metric, np.nan))
                      and np.isfinite(observed[(baseline, s)].get(metric, np.nan))]
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
