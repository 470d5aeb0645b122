"""The HTML leaderboard: one self-contained page over every ``<selection>/leaderboard.csv`` of a
leaderboard folder (a workflow run's ``results/leaderboard/`` or a published result).

Cells are formatted by report/tables.py (the Markdown's ``mean ± std (Δ*)``), with the CI of Δ
from the test that gave its p below; the legend is the Markdown's. Figures are the folder's PNGs,
embedded as data URIs, with the PDF beside them linked when present.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.errors import UserError
from fairmedia.report.figures import safe_name
from fairmedia.report.leaderboard import BLOCK
from fairmedia.report.pipeline import ranks_note
from fairmedia.report.tables import ARROWS, _order, column_tests, format_cell, legend
from fairmedia.templates import data_uri, render

INDEX = "index.html"
# Diagnostics whose tables the page shows when a selection folder (or the root) has them; the
# page adds a section per file found and invents nothing when none is there.
EXTRA_SECTIONS = {"separability": "Subgroup separability", "power": "Statistical power",
                  "robustness": "Ranking robustness"}
BOOT = "paired patient bootstrap"


def selections(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / "leaderboard.csv").is_file()) \
        if root.is_dir() else []


def _num(x: Any) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return math.nan
    return x


def _ci(row: pd.Series) -> str:
    """``Δ 95% CI [lo, hi]`` from the same test as the cell's p (bootstrap or seed t)."""
    low, high = ("boot_ci_low", "boot_ci_high") if row.get("test") == BOOT else \
        ("delta_ci_low", "delta_ci_high")
    lo, hi = _num(row.get(low)), _num(row.get(high))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"Δ 95% CI [{lo:+.3f}, {hi:+.3f}]"


def _title(row: pd.Series) -> str:
    parts = [f"{k} = {_num(row.get(k)):.3g}" for k in ("p", "p_adj") if math.isfinite(_num(row.get(k)))]
    for k in ("test", "note"):
        if isinstance(row.get(k), str) and row[k]:
            parts.append(str(row[k]))
    return "; ".join(parts)


def _block(key: tuple, block: pd.DataFrame, metrics: list[str], methods: list[str],
           baseline: str, alpha: float) -> dict:
    rows = {(r["method"], r["metric"]): r for _, r in block.iterrows()}
    tests = block.groupby("metric")["test"].agg(lambda t: " / ".join(sorted(set(t.dropna()))))
    directions = dict(zip(block["metric"], block["direction"]))
    out_rows = []
    for method in methods:
        cells = []
        for metric in metrics:
            r = rows.get((method, metric))
            if r is None:
                cells.append({"metric": metric, "text": "—", "value": "", "ci": "", "title": ""})
                continue
            mean = _num(r["mean"])
            cells.append({"metric": metric, "text": format_cell(r, baseline, alpha),
                          "value": repr(mean) if math.isfinite(mean) else "",
                          "ci": _ci(r) if method != baseline else "", "title": _title(r)})
        out_rows.append({"method": method, "baseline": method == baseline, "cells": cells})
    dataset, attribute, arch, _ = key
    return {"dataset": dataset, "attribute": attribute, "arch": arch, "rows": out_rows,
            "metrics": [{"name": m, "arrow": ARROWS.get(directions.get(m, ""), ""),
                         "test": f"test: {tests.get(m) or 'none'}"} for m in metrics]}


def _ranks(path: Path, n_blocks: int) -> tuple[str, list[dict]]:
    """(note, per-metric lines) from ranks.json: its note when there are too few blocks (or the
    reason, for a folder written before ranks.json carried one)."""
    if not path.is_file():
        return "no ranks.json in this folder", []
    data = json.loads(path.read_text())
    if not data or "note" in data:
        return str(data.get("note") or ranks_note(n_blocks)), []
    lines = []
    for metric, res in data.items():
        ranks = ", ".join(f"{m} {r:.2f}" for m, r in res["avg_ranks"].items() if r is not None)
        fr, cd = res["friedman"], res["cd"]["0.05"]
        chi2 = "n/a" if fr["statistic"] is None else f"{fr['statistic']:.2f} (p = {fr['p']:.3g})"
        lines.append({"metric": metric, "text": (
            f"`{metric}` (N = {res['n_blocks']} complete blocks, k = {res['k']}): average ranks "
            f"{ranks}; Friedman χ² = {chi2}; Nemenyi CD(0.05) = "
            f"{'n/a' if cd is None else f'{cd:.2f}'}.")})
    return "", lines


def _figure_attrs(stem: str, datasets: list[str], metrics: list[str]) -> dict[str, str]:
    """Filter attributes of a figure from its file name (cd_<metric>, pareto_<dataset>,
    groups_<dataset>_…): the longest dataset/metric whose safe name matches."""
    attrs = {}
    for m in sorted(metrics, key=len, reverse=True):
        if stem == f"cd_{safe_name(m)}":
            attrs["metric"] = m
            break
    for d in sorted(datasets, key=len, reverse=True):
        if stem == f"pareto_{safe_name(d)}" or stem.startswith(f"groups_{safe_name(d)}_"):
            attrs["dataset"] = d
            break
    return attrs


def _figures(folder: Path, rel: str, datasets: list[str], metrics: list[str]) -> list[dict]:
    out = []
    for png in sorted(folder.glob("*.png")):
        pdf = png.with_suffix(".pdf")
        out.append({"name": png.stem, "uri": data_uri(png.read_bytes()),
                    "pdf": f"{rel}/{pdf.name}" if pdf.is_file() else "",
                    "attrs": _figure_attrs(png.stem, datasets, metrics)})
    return out


def _extras(folders: list[Path]) -> list[dict]:
    out = []
    for name, title in EXTRA_SECTIONS.items():
        for folder in folders:
            path = folder / f"{name}.csv"
            if path.is_file():
                table = pd.read_csv(path)
                rows = [[f"{v:.3g}" if isinstance(v, float) else v for v in r]
                        for r in table.itertuples(index=False)]
                out.append({"title": title, "columns": list(table.columns), "rows": rows})
    return out


def read_summary(path: Path) -> pd.DataFrame:
    try:
        summary = pd.read_csv(path, keep_default_na=True)
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: cannot be read as CSV: {err}") from err
    need = set(BLOCK) | {"method", "metric", "direction", "mean", "std", "n_seeds", "n_expected",
                         "delta", "test", "p_adj"}
    missing = sorted(need - set(summary.columns))
    if missing:
        raise UserError(f"{path}: not a leaderboard.csv (columns {', '.join(missing)} missing)")
    summary["test"] = summary["test"].astype(object).where(summary["test"].notna(), None)
    return summary


def leaderboard_page(root: Path, title: str, baseline: str = "erm", correction: str = "holm",
                     alpha: float = 0.05, provenance: dict | None = None) -> str:
    """The HTML of every selection under ``root`` (a folder of ``<selection>/leaderboard.csv``)."""
    names = selections(root)
    if not names:
        raise UserError(f"{root} holds no <selection>/leaderboard.csv")
    sections, everything = [], []
    for name in names:
        summary = read_summary(root / name / "leaderboard.csv")
        everything.append(summary)
        metrics, methods = _order(summary, baseline)
        datasets = sorted(summary["dataset"].astype(str).unique())
        blocks = [_block(k, b, metrics, methods, baseline, alpha)
                  for k, b in summary.groupby(BLOCK, sort=True)]
        note, ranks = _ranks(root / name / "ranks.json", summary.groupby(BLOCK[:3]).ngroups)
        sections.append({"name": name, "blocks": blocks, "ranks_note": note, "ranks": ranks,
                         "legend": legend(summary, baseline, correction, alpha),
                         "figures": _figures(root / name, name, datasets, metrics),
                         "extras": _extras([root / name])})
    allrows = pd.concat(everything, ignore_index=True)
    filters = {k: sorted(allrows[k].astype(str).unique())
               for k in ("dataset", "attribute", "metric", "selection")}
    n_blocks = allrows.groupby(BLOCK[:3]).ngroups
    summary_line = (f"{n_blocks} block(s) (dataset × attribute × arch), {len(names)} model "
                    f"selection(s), {allrows['method'].nunique()} methods; baseline {baseline}. "
                    "Click a column header to sort; hover a cell for p, adjusted p and the test. "
                    + column_tests(allrows))
    return render("leaderboard.html", title=title, summary_line=summary_line, filters=filters,
                  selections=sections, provenance=provenance)


def write_leaderboard_html(root: str | Path, title: str = "FairMedIA leaderboard",
                           baseline: str = "erm", correction: str = "holm", alpha: float = 0.05,
                           provenance: dict | None = None) -> Path:
    """Write ``root/index.html``; provenance defaults to ``root/provenance.json`` (a published
    result) or this checkout's code commit and package versions (a workflow run)."""
    from fairmedia.provenance import git_commit, package_versions

    root = Path(root)
    if provenance is None:
        stored = root / "provenance.json"
        provenance = json.loads(stored.read_text()) if stored.is_file() else \
            {"code": git_commit(), "packages": package_versions()}
    page = leaderboard_page(root, title, baseline, correction, alpha, provenance)
    out = root / INDEX
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
