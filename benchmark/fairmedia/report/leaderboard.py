"""Summarise a long run table into the leaderboard: one row per cell × method × metric.

A *block* is (dataset, attribute, arch, selection); a *table* is a block × metric, and multiple
testing is corrected across the methods of a table. Every method seen anywhere is given a row in
every block, so a missing run shows up as an empty cell (``—``) instead of vanishing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairmedia.errors import UserError
from fairmedia.metrics.directions import direction, known_metric, metric_names_help
from fairmedia.stats.multiple_testing import adjust
from fairmedia.stats.paired_by_seed import paired_by_seed

BLOCK = ["dataset", "attribute", "arch", "selection"]
TABLE = BLOCK + ["metric"]
ROW = TABLE + ["method"]
# AUC metrics beside the seed review's Table-1 criteria at the validation-fitted threshold, so
# decision-changing post-processing is visible in every table.
DEFAULT_METRICS = ["auc", "auc_worst", "auc_gap", "tpr_worst", "equalized_odds", "equal_opportunity",
                   "demographic_parity", "accuracy_parity"]

SUMMARY_COLUMNS = BLOCK + [
    "method", "metric", "direction", "mean", "std", "n_seeds", "n_expected", "delta", "n_paired",
    "delta_ci_low", "delta_ci_high", "p_ttest", "p_ttest_adj", "p_boot", "p_boot_adj",
    "boot_ci_low", "boot_ci_high", "test", "p", "p_adj", "note", "run_dirs", "cohens_dz",
]
# The bootstrap's observed Δ (recomputed from scored.parquet) and the cell's Δ (from metrics.json)
# are the same number computed twice; more than rounding apart, the two files disagree.
DELTA_TOLERANCE = 1e-9


def order_methods(methods: list[str], baseline: str) -> list[str]:
    """Baseline first, then the others alphabetically."""
    rest = sorted(m for m in set(methods) if m != baseline)
    return ([baseline] if baseline in methods else []) + rest


def check_metrics(metrics: list[str]) -> None:
    unknown = [name for name in metrics if not known_metric(name)]
    if unknown:
        raise UserError(f"--metrics: unknown metric(s) {unknown}; {metric_names_help()}")


def summarise(long: pd.DataFrame, metrics: list[str] | None = None, baseline: str = "erm",
              correction: str = "holm", bootstrap: pd.DataFrame | None = None) -> pd.DataFrame:
    """Leaderboard rows (``SUMMARY_COLUMNS``) from a collected long table.

    ``delta`` is the paired mean difference ``mean_s (method_s − baseline_s)`` over the seeds both
    have a finite value for (``n_paired`` of them) — the difference the seed t-test and the
    bootstrap test — while ``mean`` and ``std`` are over all of the method's seeds.

    ``bootstrap`` (optional) has columns ``BLOCK + [method, metric, delta, ci_low, ci_high, p,
    n_paired, note]`` from ``fairmedia.stats.paired_bootstrap``; when given it is the primary
    test of the table, and its observed Δ must equal the cell's wherever it paired the same seeds.
    """
    metrics = list(metrics or DEFAULT_METRICS)
    check_metrics(metrics)
    if long.empty:
        raise UserError("no evaluated runs found (no metrics.json under the runs folder)")
    data = long[long["metric"].isin(metrics)]
    methods = order_methods(list(long["method"].unique()), baseline)
    rows: list[dict] = []
    for block_key, block in long.groupby(BLOCK, sort=True):
        expected = int(block["seed"].nunique())
        block_data = data.merge(pd.DataFrame([block_key], columns=BLOCK), on=BLOCK)
        per_metric = {m: g for m, g in block_data.groupby("metric")}
        for metric in metrics:
            frame = per_metric.get(metric, pd.DataFrame(columns=data.columns))
            by_method = {m: g for m, g in frame.groupby("method")}
            base = by_method.get(baseline)
            base_vals = dict(zip(base["seed"], base["value"])) if base is not None else {}
            for method in methods:
                g = by_method.get(method)
                vals = dict(zip(g["seed"], g["value"])) if g is not None else {}
                finite = np.array([v for v in vals.values() if np.isfinite(v)])
                mean = float(finite.mean()) if finite.size else np.nan
                std = float(finite.std(ddof=1)) if finite.size > 1 else np.nan
                row = dict(zip(BLOCK, block_key), method=method, metric=metric,
                           direction=direction(metric), mean=mean, std=std,
                           n_seeds=int(finite.size), n_expected=expected,
                           run_dirs=";".join(sorted(set(g["run_dir"]))) if g is not None else "")
                notes = []
                if finite.size < len(vals):
                    notes.append(f"{len(vals) - finite.size} seed(s) with undefined value")
                if method != baseline:
                    paired = paired_by_seed(vals, base_vals)
                    row.update(delta=paired.mean_diff, n_paired=paired.n,
                               delta_ci_low=paired.ci_low, delta_ci_high=paired.ci_high,
                               p_ttest=paired.p, cohens_dz=paired.cohens_dz)
                    if paired.note:
                        notes.append(paired.note)
                    if 0 < paired.n < finite.size:
                        notes.append(f"Δ over the {paired.n} of {finite.size} seeds with a "
                                     f"{baseline} value")
                row["note"] = "; ".join(notes)
                rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
    if bootstrap is not None and not bootstrap.empty:
        table = _merge_bootstrap(table, bootstrap)
    return add_corrections(table, baseline, correction)


def _merge_bootstrap(table: pd.DataFrame, bootstrap: pd.DataFrame) -> pd.DataFrame:
    boot = bootstrap.reindex(columns=ROW + ["delta", "n_paired", "p", "ci_low", "ci_high", "note"])
    boot = boot.rename(columns={"delta": "boot_delta", "n_paired": "boot_n_paired", "p": "p_boot",
                                "ci_low": "boot_ci_low", "ci_high": "boot_ci_high",
                                "note": "boot_note"})
    merged = table.drop(columns=["p_boot", "boot_ci_low", "boot_ci_high"]).merge(
        boot, on=ROW, how="left")
    same_seeds = merged["boot_n_paired"] == merged["n_paired"]
    off = same_seeds & ((merged["boot_delta"] - merged["delta"]).abs() > DELTA_TOLERANCE)
    if off.any():
        r = merged[off].iloc[0]
        raise UserError(
            f"{'/'.join(str(r[c]) for c in BLOCK)}, {r['method']}, {r['metric']}: the bootstrap "
            f"recomputed Δ = {r['boot_delta']:.6g} from the runs' scored.parquet, but their "
            f"metrics.json give Δ = {r['delta']:.6g} ({int(off.sum())} cell(s) disagree); the two "
            "files of a run were not written by the same evaluation. Re-run the evaluation "
            "(fairmedia evaluate-run) of these runs"
        )
    boot_note = merged["boot_note"].fillna("").astype(str)
    boot_note = boot_note.where(~boot_note.isin(["", "metric not bootstrapped"]), "")
    note = merged["note"].fillna("").astype(str)
    merged["note"] = [("; ".join(x for x in (a, f"bootstrap: {b}" if b else "") if x))
                      for a, b in zip(note, boot_note)]
    return merged.reindex(columns=SUMMARY_COLUMNS)


def add_corrections(table: pd.DataFrame, baseline: str, correction: str) -> pd.DataFrame:
    """Adjust p-values across the methods of each table and pick the primary test."""
    table = table.copy()
    for column in ("p_ttest", "p_boot"):
        table[column] = table[column].astype(float)
        adjusted = table.groupby(TABLE, sort=False)[column].transform(
            lambda p: pd.Series(adjust(p.to_numpy(), correction), index=p.index))
        table[f"{column}_adj"] = adjusted
    use_boot = table["p_boot"].notna().groupby([table[c] for c in TABLE]).transform("any")
    table["test"] = np.where(use_boot, "paired patient bootstrap", "paired t over seeds")
    table.loc[table["method"] == baseline, "test"] = ""
    table["p"] = np.where(use_boot, table["p_boot"], table["p_ttest"])
    table["p_adj"] = np.where(use_boot, table["p_boot_adj"], table["p_ttest_adj"])
    return table
