"""Markdown for ``fairmedia robustness``: the ranking-robustness and power tables."""

from __future__ import annotations

import math

import pandas as pd

from fairmedia.commands._table import format_table


def _f(x: object, digits: int = 3) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _block(r: pd.Series) -> str:
    return "/".join(str(r[c]) for c in ("dataset", "attribute", "arch") if r[c])


def robustness_markdown(pairs: pd.DataFrame | None, boot: pd.DataFrame, metric: str) -> str:
    lines = [f"# Ranking robustness: {metric}", ""]
    if pairs is not None and not pairs.empty:
        rows = [[_block(r), f"{r.selection_a} vs {r.selection_b}", str(int(r.n_methods)),
                 _f(r.tau), "—" if pd.isna(r.tau_p) else f"{r.tau_p:.2g}",
                 "" if pd.isna(r.top_a) else f"{r.top_a} / {r.top_b}",
                 _f(r.top_change, 2)] for _, r in pairs.iterrows()]
        lines += ["## Between selection rules", "",
                  format_table(["block", "selections", "methods", "Kendall τ-b", "p", "top-1",
                                "top-1 changed"], rows, markdown=True), "",
                  "Rankings by the mean over seeds. `mean over blocks`: τ averaged over blocks; "
                  "top-1 changed = fraction of blocks whose best method differs.", ""]
    if not boot.empty:
        n_boot = int(boot["n_boot"].iloc[0])
        rows = [[_block(r), str(r.selection_a), str(int(r.n_methods)), _f(r.tau),
                 f"{_f(r.tau_low)} – {_f(r.tau_high)}", "" if pd.isna(r.top_a) else str(r.top_a),
                 _f(r.top_change, 2)] for _, r in boot.iterrows()]
        lines += ["## Under seed resampling", "",
                  format_table(["block", "selection", "methods", "median τ", "2.5–97.5 %",
                                "top-1 (all seeds)", "top-1 changed"], rows, markdown=True), "",
                  f"{n_boot} replicates; each resamples every method's seeds with replacement, "
                  "re-ranks by the mean and compares with the ranking on all seeds; top-1 changed "
                  "= fraction of replicates whose best method differs.", ""]
    return "\n".join(lines)


def _count(s: pd.Series) -> str:
    """``k/m`` cells detectable among those with an estimate, and how many have none."""
    known = s.dropna().astype(bool)
    rest = len(s) - len(known)
    return f"{int(known.sum())}/{len(known)}" + (f" ({rest} no estimate)" if rest else "")


def power_markdown(power: pd.DataFrame, baseline: str) -> str:
    if power.empty:
        return ""
    a, pw, eff = power["alpha_used"].max(), power["power"].iloc[0], power["effect"].iloc[0]
    lines = [f"# Power: minimum detectable Δ vs {baseline}", ""]
    summary = power.groupby(["dataset", "attribute", "arch", "selection"], sort=True).agg(
        n=("n_paired", "median"), mdd_seed=("mdd_seed", "median"), mdd_boot=("mdd_boot", "median"),
        detectable=("detectable", _count))
    rows = [["/".join(map(str, k)), _f(r.n, 0), _f(r.mdd_seed), _f(r.mdd_boot), r.detectable]
            for k, r in summary.iterrows()]
    lines += [format_table(["block / selection", "paired seeds", "median MDΔ (seed t)",
                            "median MDΔ (bootstrap)", f"cells detecting Δ = ±{eff:g}"], rows,
                           markdown=True), "",
              f"Two-sided, power {pw:g}, α = {a:g} (largest used); per-cell values in power.csv. "
              "Seed: paired t over seeds (statsmodels TTestPower); bootstrap: normal approximation "
              "from the paired patient bootstrap's 95 % CI. A cell whose paired differences "
              "are constant (e.g. post-processing that leaves the AUC as the baseline's) has no "
              "estimate.", ""]
    return "\n".join(lines)
