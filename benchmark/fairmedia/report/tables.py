"""Render the leaderboard summary as Markdown and LaTeX: methods × metrics per block.

A cell reads ``mean ± std (Δ vs baseline)``; ``*`` marks a corrected p below α; ``—`` is a cell with
no finite value (run missing or failed), never an omitted row; ``(n=2/3)`` flags a mean over fewer
seeds than the block has. Δ is paired: the mean over the seeds both the method and the baseline
have of (method − baseline), which the CI and p test; ``(+0.010; 2 paired)`` says Δ is over fewer
seeds than the mean beside it. ``†`` marks a cell that could not detect the configured effect size
(diagnostics/power.py ``underpowered``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairmedia.metrics.directions import HIGHER
from fairmedia.report.leaderboard import BLOCK

MISSING = "—"
UNDERPOWERED = "†"
ARROWS = {HIGHER: "↑", "lower": "↓"}


def _num(x: float, digits: int) -> str:
    return f"{x:.{digits}f}"


def _signed(x: float, digits: int) -> str:
    return f"{x:+.{digits}f}"


def format_cell(row: pd.Series, baseline: str, alpha: float, digits: int = 3,
                latex: bool = False) -> str:
    """One table cell from one summary row."""
    mean = row["mean"]
    if mean is None or not math.isfinite(mean):
        return "---" if latex else MISSING
    pm = r" $\pm$ " if latex else " ± "
    text = _num(mean, digits)
    if isinstance(row["std"], float) and math.isfinite(row["std"]):
        text += pm + _num(row["std"], digits)
    if row["method"] != baseline and math.isfinite(row.get("delta", math.nan)):
        mark = ""
        p_adj = row.get("p_adj", math.nan)
        if isinstance(p_adj, float) and math.isfinite(p_adj) and p_adj < alpha:
            mark = "$^{*}$" if latex else "*"
        n_paired = row.get("n_paired", math.nan)
        paired = ""
        if math.isfinite(n_paired) and n_paired < row["n_seeds"]:
            paired = f"; {int(n_paired)} paired"
        text += f" ({_signed(row['delta'], digits)}{mark}{paired})"
        flag = row.get("underpowered")  # True / False, or NaN where no estimate exists
        if isinstance(flag, bool | np.bool_) and flag:
            text += r"$^{\dagger}$" if latex else UNDERPOWERED
    if row["n_seeds"] < row["n_expected"]:
        text += f" (n={int(row['n_seeds'])}/{int(row['n_expected'])})"
    return text


def legend(summary: pd.DataFrame, baseline: str, correction: str, alpha: float) -> list[str]:
    """Lines saying what the numbers, the marker and the dash mean, and which test was used."""
    tests = sorted(t for t in summary["test"].dropna().unique() if t)
    test = " / ".join(tests) if tests else "none (baseline missing)"
    names = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni",
             "none": "no"}
    seeds = int(summary["n_expected"].max()) if len(summary) else 0
    lines = [
        f"Cells: mean ± std over seeds (sample std, ddof = 1); in parentheses Δ = mean over the "
        f"seeds both have of (method − {baseline}), the paired difference the test is about; "
        "`k paired`: Δ is over k seeds, fewer than the mean's.",
        f"`*`: {names.get(correction, correction)}-adjusted p < {alpha:g} vs {baseline} "
        f"({test}; two-sided; corrected across the methods of each table).",
        f"`{MISSING}`: no result for that cell (run missing or failed); `(n=a/b)`: mean over a of "
        "the block's b seeds. ↑/↓: higher/lower is better.",
    ]
    lines.append(column_tests(summary))
    lines += power_legend(summary)
    if seeds < 6:
        lines.append(f"No per-cell Wilcoxon signed-rank test: with {seeds} seed{'s' * (seeds != 1)} "
                     "it cannot reach p < 0.05.")
    return lines


def power_legend(summary: pd.DataFrame) -> list[str]:
    """The ``†`` line, when the summary carries the power columns (leaderboard.effect_size)."""
    if "underpowered" not in summary or "effect_size" not in summary:
        return []
    flags = summary["underpowered"]
    marked, judged = int((flags == True).sum()), int(flags.notna().sum())  # noqa: E712 (NaN-safe)
    effect = float(summary["effect_size"].dropna().iloc[0]) if judged else float("nan")
    return [f"`{UNDERPOWERED}`: the cell cannot detect |Δ| = {effect:g} (α = 0.05 before "
            "correction, power 0.8; minimum detectable Δ from the bootstrap SE, or from the "
            f"paired seed SD without a bootstrap — `mdd` in leaderboard.csv): {marked} of "
            f"{judged} cells."]


TEST_NAMES = {
    "paired patient bootstrap": "paired patient-level bootstrap of the test rows (thresholds as "
                                "fitted on each run's validation rows)",
    "paired t over seeds": "paired t-test over seeds",
}


def column_tests(summary: pd.DataFrame) -> str:
    """The legend line naming the test behind each column's p (from ``leaderboard.csv``'s
    ``test``, which is per table: a column can differ between blocks, and then says where)."""
    rows = summary[summary["test"].fillna("").astype(str) != ""]
    n_blocks = summary.groupby(BLOCK).ngroups
    by_test: dict[str, list[str]] = {}
    for metric in dict.fromkeys(summary["metric"]):
        part = rows[rows["metric"] == metric]
        counts = part.drop_duplicates(BLOCK + ["test"])["test"].value_counts().sort_index()
        if counts.empty:
            label = "none (baseline missing)"
        elif len(counts) == 1 and counts.iloc[0] == n_blocks:
            label = str(counts.index[0])
        else:
            label = " / ".join(f"{t} in {int(k)} of {n_blocks} blocks" for t, k in counts.items())
        by_test.setdefault(label, []).append(f"`{metric}`")
    parts = [f"{', '.join(m)}: {TEST_NAMES.get(t, t)}" for t, m in by_test.items()]
    return "Test behind each column's p: " + "; ".join(parts) + "."


def _blocks(summary: pd.DataFrame):
    return summary.groupby(BLOCK, sort=True)


def _wide(block: pd.DataFrame, metrics: list[str], methods: list[str], baseline: str,
          alpha: float, latex: bool) -> list[list[str]]:
    cells = {(r["method"], r["metric"]): format_cell(r, baseline, alpha, latex=latex)
             for _, r in block.iterrows()}
    missing = "---" if latex else MISSING
    return [[m] + [cells.get((m, k), missing) for k in metrics] for m in methods]


def _order(summary: pd.DataFrame, baseline: str) -> tuple[list[str], list[str]]:
    metrics = list(dict.fromkeys(summary["metric"]))
    methods = list(dict.fromkeys(summary["method"]))
    methods = ([baseline] if baseline in methods else []) + [m for m in methods if m != baseline]
    return metrics, methods


def to_markdown(summary: pd.DataFrame, baseline: str = "erm", correction: str = "holm",
                alpha: float = 0.05, title: str = "Leaderboard",
                notes: dict[tuple[str, str], str] | None = None) -> str:
    """Markdown: a heading and a methods × metrics table per block, then the legend.
    ``notes``: a line under the heading of each block of that (dataset, attribute)."""
    metrics, methods = _order(summary, baseline)
    directions = dict(zip(summary["metric"], summary["direction"]))
    out = [f"# {title}", ""]
    for key, block in _blocks(summary):
        dataset, attribute, arch, selection = key
        out += [f"## {dataset} · {attribute} · {arch} · selection: {selection}", ""]
        if (dataset, attribute) in (notes or {}):
            out += [notes[dataset, attribute], ""]
        header = ["method"] + [f"{m} {ARROWS.get(directions[m], '')}" for m in metrics]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + [":---:"] * len(metrics)) + "|")
        for row in _wide(block, metrics, methods, baseline, alpha, latex=False):
            out.append("| " + " | ".join(row) + " |")
        out.append("")
    out += legend(summary, baseline, correction, alpha)
    return "\n".join(out) + "\n"


def _tex(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&") \
        .replace("%", r"\%").replace("#", r"\#")


_LEGEND_TEX = {"±": r"$\pm$", "Δ": r"$\Delta$", "−": "-", "↑": r"$\uparrow$",
               "↓": r"$\downarrow$", "—": "---", "–": "--", "*": r"$^{*}$", " < ": " $<$ ",
               "α": r"$\alpha$", UNDERPOWERED: r"$^{\dagger}$"}


def _legend_tex(line: str) -> str:
    text = _tex(line)
    for plain, tex in _LEGEND_TEX.items():
        text = text.replace(plain, tex)
    return text


def to_latex(summary: pd.DataFrame, baseline: str = "erm", correction: str = "holm",
             alpha: float = 0.05, notes: dict[tuple[str, str], str] | None = None) -> str:
    """LaTeX (booktabs): one tabular per block with the legend as a footnote-size paragraph;
    a block's ``notes`` line ends its caption."""
    metrics, methods = _order(summary, baseline)
    directions = dict(zip(summary["metric"], summary["direction"]))
    arrows = {HIGHER: r"$\uparrow$", "lower": r"$\downarrow$"}
    out = []
    for key, block in _blocks(summary):
        note = (notes or {}).get((key[0], key[1]))
        note = f" {_legend_tex(note)}" if note else ""
        dataset, attribute, arch, selection = (_tex(str(k)) for k in key)
        out += [r"\begin{table}[t]", r"\centering", r"\small",
                rf"\caption{{{dataset}, {attribute}, {arch}; model selection: {selection}.{note}}}",
                r"\begin{tabular}{l" + "c" * len(metrics) + "}", r"\toprule"]
        header = ["method"] + [f"{_tex(m)} {arrows.get(directions[m], '')}" for m in metrics]
        out.append(" & ".join(header) + r" \\")
        out.append(r"\midrule")
        for row in _wide(block, metrics, methods, baseline, alpha, latex=True):
            out.append(" & ".join([_tex(row[0])] + row[1:]) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    lines = [_legend_tex(line.replace("`", "")) for line in legend(summary, baseline, correction,
                                                                    alpha)]
    out += [r"\begin{footnotesize}", *[n + r"\par" for n in lines], r"\end{footnotesize}", ""]
    return "\n".join(out)
