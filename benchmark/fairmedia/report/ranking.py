"""Cross-cell analysis of one metric: ranks, Friedman/Iman–Davenport, Nemenyi CD, Wilcoxon–Holm.

Works on any long table with a per-cell value (our leaderboard's ``mean`` or an imported published
table): each distinct combination of the block columns is one block.
"""

from __future__ import annotations

import math

import pandas as pd

from fairmedia.errors import UserError
from fairmedia.stats.friedman import friedman
from fairmedia.stats.nemenyi import critical_difference
from fairmedia.stats.wilcoxon_holm import wilcoxon_vs_baseline

BLOCK_CANDIDATES = ["dataset", "attribute", "arch"]


def block_table(long: pd.DataFrame, metric: str, value: str = "mean") -> pd.DataFrame:
    """Blocks × methods pivot of ``value`` for ``metric`` (index: ``dataset/attribute[/arch]``)."""
    rows = long[long["metric"] == metric]
    if rows.empty:
        known = ", ".join(sorted(long["metric"].unique())[:40])
        raise UserError(f"metric {metric!r} not in the table; metrics present: {known}")
    cols = [c for c in BLOCK_CANDIDATES if c in rows.columns]
    key = rows[cols].astype(str).agg("/".join, axis=1)
    table = rows.assign(block=key).pivot_table(index="block", columns="method", values=value,
                                               aggfunc="mean", dropna=False)
    # pivot_table drops all-NaN rows/columns; put every block and method back so they are listed.
    blocks = sorted(key.unique())
    methods = sorted(long["method"].unique())
    return table.reindex(index=blocks, columns=methods)


def cross_cell(table: pd.DataFrame, higher_is_better: bool, baseline: str = "erm",
               correction: str = "holm") -> dict:
    """The ``fairmedia rank --json`` dictionary for one blocks × methods table."""
    if baseline not in table.columns:
        raise UserError(f"baseline {baseline!r} not among the methods: {', '.join(table.columns)}")
    fr = friedman(table, higher_is_better)
    vs = wilcoxon_vs_baseline(table, baseline, correction)

    def num(x: float) -> float | None:
        return None if x is None or not math.isfinite(x) else float(x)

    return {
        "k": fr.k,
        "n_blocks": fr.n_blocks,
        "dropped_blocks": fr.dropped_blocks,
        "avg_ranks": {m: num(r) for m, r in fr.avg_ranks.sort_values().items()},
        "friedman": {"statistic": num(fr.chi2), "p": num(fr.p_chi2)},
        "iman_davenport": {"statistic": num(fr.iman_davenport), "p": num(fr.p_iman_davenport)},
        "cd": {"0.05": num(critical_difference(fr.k, fr.n_blocks, 0.05)),
               "0.1": num(critical_difference(fr.k, fr.n_blocks, 0.10))},
        "vs_baseline": {r.method: {"wilcoxon_p": num(r.wilcoxon_p), "holm_p": num(r.holm_p),
                                   "n_pairs": int(r.n_pairs), "median_diff": num(r.median_diff)}
                        for r in vs.itertuples()},
        "higher_is_better": higher_is_better,
        "baseline": baseline,
        "correction": correction,
        "note": fr.note,
    }


def ranks_rows(result: dict, metric: str, selection: str) -> pd.DataFrame:
    """Flatten one ``cross_cell`` result into ``ranks.csv`` rows (one per method)."""
    rows = []
    for method, rank in result["avg_ranks"].items():
        vs = result["vs_baseline"].get(method, {})
        rows.append({
            "selection": selection, "metric": metric, "method": method, "avg_rank": rank,
            "k": result["k"], "n_blocks": result["n_blocks"],
            "dropped_blocks": ";".join(result["dropped_blocks"]),
            "friedman_chi2": result["friedman"]["statistic"], "friedman_p": result["friedman"]["p"],
            "iman_davenport_F": result["iman_davenport"]["statistic"],
            "iman_davenport_p": result["iman_davenport"]["p"],
            "cd_0.05": result["cd"]["0.05"], "cd_0.10": result["cd"]["0.1"],
            "wilcoxon_p": vs.get("wilcoxon_p"), "wilcoxon_holm_p": vs.get("holm_p"),
            "wilcoxon_n_pairs": vs.get("n_pairs"),
        })
    return pd.DataFrame(rows)
