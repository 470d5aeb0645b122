"""The leaderboard stage end to end: collect → summarise (+ bootstrap) → tables, ranks, figures."""

from __future__ import annotations

from pathlib import Path

from benchmark.errors import UserError
from benchmark.report.collect import collect
from benchmark.report.leaderboard import summarise
from benchmark.report.tables import to_latex, to_markdown


def write_leaderboard(runs: Path, selection: str, out: Path, metrics: list[str],
                      baseline: str = "erm", correction: str = "holm", alpha: float = 0.05,
                      n_boot: int = 0, seed: int = 0, figures: bool = True) -> str:
    """Write the leaderboard files for one selection into ``out``; return the Markdown."""
    long = collect(runs, selection=selection)
    if long.empty:
        raise UserError(f"no metrics.json for selection {selection!r} under {runs}")
    summary = summarise(long, metrics=metrics, baseline=baseline, correction=correction)
    out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out / "leaderboard.csv", index=False)
    markdown = to_markdown(summary, baseline, correction, alpha,
                           title=f"Leaderboard — selection: {selection}")
    (out / "leaderboard.md").write_text(markdown)
    (out / "leaderboard.tex").write_text(to_latex(summary, baseline, correction, alpha))
    return markdown
