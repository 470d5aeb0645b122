"""The leaderboard stage end to end: collect → summarise (+ bootstrap) → tables, ranks, figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fairmedia.diagnostics.power import TABLE as POWER_CELL
from fairmedia.diagnostics.power import underpowered
from fairmedia.errors import UserError
from fairmedia.metrics.directions import higher_is_better
from fairmedia.report import figures
from fairmedia.report.bootstrap_runs import bootstrap_runs
from fairmedia.report.collect import collect, collect_group_auc, eval_dirs
from fairmedia.report.hparam_choice import VARIANT_SEP, DecisionRule, apply_choice, choose, val_table
from fairmedia.report.leaderboard import BLOCK, summarise
from fairmedia.report.ranking import block_table, cross_cell, ranks_rows
from fairmedia.report.separability_notes import block_notes, read_separability
from fairmedia.report.tables import to_latex, to_markdown
from fairmedia.stats.nemenyi import nemenyi_pvalues

SIGNIFICANCE_COLUMNS = BLOCK + [
    "metric", "method", "n_seeds", "n_paired", "delta", "delta_ci_low", "delta_ci_high", "p_ttest",
    "p_ttest_adj", "p_boot", "boot_ci_low", "boot_ci_high", "p_boot_adj", "test", "p_adj",
    "significant", "note", "cohens_dz"]
RANKS_COLUMNS = ["selection", "metric", "method", "avg_rank", "k", "n_blocks", "dropped_blocks",
                 "friedman_chi2", "friedman_p", "iman_davenport_F", "iman_davenport_p", "cd_0.05",
                 "cd_0.10", "wilcoxon_p", "wilcoxon_holm_p", "wilcoxon_n_pairs"]


def ranks_note(n_blocks: int) -> str:
    """Why ranks.csv has no rows: Friedman/Nemenyi compare methods across blocks."""
    return ("ranks need ≥ 2 complete blocks (datasets × attributes × archs); this leaderboard "
            f"has {n_blocks}")


def nemenyi_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """``nemenyi.csv``: per selection and metric, the methods × methods Nemenyi p-values over
    the complete blocks (``stats.nemenyi.nemenyi_pvalues``) as rows ``selection, metric, method,
    <one column per method>``; no rows where fewer than 2 blocks are complete."""
    frames = []
    for (selection, metric), part in summary.groupby(["selection", "metric"], sort=False):
        matrix = nemenyi_pvalues(block_table(part, metric))
        if matrix is None:
            continue
        matrix = matrix.rename_axis("method").reset_index()
        matrix.insert(0, "metric", metric)
        matrix.insert(0, "selection", selection)
        frames.append(matrix)
    return (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=["selection", "metric", "method"]))


def rank_section(summary: pd.DataFrame, baseline: str, correction: str) -> tuple[pd.DataFrame,
                                                                                 dict, str]:
    """ranks.csv rows, per-metric cross-cell results, and a Markdown section. With fewer than 2
    blocks the rows are none (ranks.csv keeps its header), the results are empty and the section
    says why (``ranks_note``)."""
    frames, results, lines = [], {}, []
    for (selection, metric), part in summary.groupby(["selection", "metric"], sort=False):
        table = block_table(part, metric)
        if len(table) < 2:
            continue
        res = cross_cell(table, higher_is_better(metric), baseline, correction)
        results[metric] = res
        frames.append(ranks_rows(res, metric, selection))
        ranks = ", ".join(f"{m} {r:.2f}" for m, r in res["avg_ranks"].items() if r is not None)
        fr, cd = res["friedman"], res["cd"]
        chi2 = "n/a" if fr["statistic"] is None else f"{fr['statistic']:.2f} (p = {fr['p']:.3g})"
        cd05 = "n/a" if cd["0.05"] is None else f"{cd['0.05']:.2f}"
        lines += [f"- **{metric}** (N = {res['n_blocks']} complete blocks, k = {res['k']}"
                  + (f"; dropped: {', '.join(res['dropped_blocks'])}" if res["dropped_blocks"]
                     else "") + f"): average ranks {ranks}; Friedman χ² = {chi2}; "
                  f"Nemenyi CD(0.05) = {cd05}."]
    if not lines:
        note = ranks_note(summary.groupby(BLOCK[:3]).ngroups)
        lines = [note[0].upper() + note[1:] + "."]
    text = "\n## Ranks across blocks (1 = best)\n\n" + "\n".join(lines) + "\n"
    ranks = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return ranks.reindex(columns=RANKS_COLUMNS), results, text


def write_figures(out: Path, long: pd.DataFrame, groups: pd.DataFrame, results: dict,
                  selection: str, baseline: str) -> list[Path]:
    """CD diagrams (per ranked metric), one Pareto plot per dataset and per-group AUC bars per
    block, each as ``.png`` and ``.pdf`` (report/figures.py); returns every path written."""
    paths: list[Path] = []
    for metric, res in results.items():
        ranks = pd.Series(res["avg_ranks"], dtype=float)
        cd = res["cd"]["0.05"]
        title = f"{metric} — selection {selection}: N = {res['n_blocks']} blocks, k = {res['k']}"
        paths += figures.cd_diagram(ranks, float("nan") if cd is None else cd, title,
                                    out / f"cd_{figures.safe_name(metric)}", baseline)
    # Per-seed values → mean and std over seeds, so the Pareto plot can draw error bars.
    stats = long.groupby(BLOCK[:3] + ["method", "metric"], as_index=False)["value"].agg(
        mean="mean", std="std")
    for dataset in sorted(stats["dataset"].unique()):
        paths += figures.pareto_plot(stats, dataset, out / f"pareto_{figures.safe_name(dataset)}",
                                     baseline=baseline) or []
    for (dataset, attribute, arch), part in groups.groupby(BLOCK[:3]):
        stem = out / figures.safe_name(f"groups_{dataset}_{attribute}_{arch}")
        paths += figures.group_auc_bars(part, f"{dataset} · {attribute} · {arch} · selection "
                                        f"{selection}", stem, baseline)
    return paths


def write_leaderboard(runs: Path, selection: str, out: Path, metrics: list[str],
                      baseline: str = "erm", correction: str = "holm", alpha: float = 0.05,
                      n_boot: int = 0, seed: int = 0, figures: bool = True,
                      jobs: int = 1, include: set[Path] | None = None,
                      decision: DecisionRule | None = None, effect_size: float | None = None,
                      separability: list[Path] | None = None) -> str:
    """Write the leaderboard files for one selection into ``out``; return the Markdown.
    ``include``: only these metrics.json files (default: every one under ``runs``).
    ``effect_size``: mark cells that cannot detect it (``†``; ``mdd``/``underpowered`` columns).
    ``separability``: ``fairmedia separability`` results, one line under each block they cover.
    ``decision``: how variants of decision-changing post-processing methods are chosen
    (report/hparam_choice.py; default ``DecisionRule()``)."""
    long = collect(runs, selection=selection, include=include)
    if long.empty:
        raise UserError(f"no metrics.json for selection {selection!r} under {runs}")
    evals = eval_dirs(runs, selection, include)
    groups = collect_group_auc(runs, selection, include)
    out.mkdir(parents=True, exist_ok=True)
    if long["method"].str.contains(VARIANT_SEP, regex=False).any():
        chosen = choose(val_table(evals), selection, baseline=baseline, decision=decision)
        chosen.to_csv(out / "hparams_chosen.csv", index=False)
        long, evals, groups = (apply_choice(f, chosen) for f in (long, evals, groups))
    boot = None
    if n_boot > 0:
        boot = bootstrap_runs(evals, baseline, metrics, n_boot, seed, jobs)
    summary = summarise(long, metrics=metrics, baseline=baseline, correction=correction,
                        bootstrap=boot)
    sig = summary[summary["method"] != baseline].copy()
    sig["significant"] = sig["p_adj"] < alpha
    if effect_size:
        marks = underpowered(long[long["metric"].isin(metrics)], sig, baseline, effect_size)
        summary = summary.merge(marks, on=POWER_CELL + ["method"], how="left")
        summary["effect_size"] = effect_size
    summary.to_csv(out / "leaderboard.csv", index=False)
    notes = block_notes(read_separability(separability or []))
    sig.reindex(columns=SIGNIFICANCE_COLUMNS).to_csv(out / "significance.csv", index=False)
    ranks, results, rank_md = rank_section(summary, baseline, correction)
    ranks.to_csv(out / "ranks.csv", index=False)
    nemenyi_frame(summary).to_csv(out / "nemenyi.csv", index=False)
    # An empty {} read as "nothing ranked, no reason given": say why instead.
    stored = results or {"note": ranks_note(summary.groupby(BLOCK[:3]).ngroups)}
    (out / "ranks.json").write_text(json.dumps(stored, indent=1, ensure_ascii=False))
    markdown = to_markdown(summary, baseline, correction, alpha,
                           title=f"Leaderboard — selection: {selection}", notes=notes) + rank_md
    (out / "leaderboard.md").write_text(markdown)
    (out / "leaderboard.tex").write_text(to_latex(summary, baseline, correction, alpha, notes))
    if figures:
        write_figures(out, long, groups, results, selection, baseline)
    return markdown
