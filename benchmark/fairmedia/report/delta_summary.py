"""Each method's Δ vs the baseline, per dataset, for a few metrics of a leaderboard — the table a
published folder's README quotes, generated so the prose cannot drift from the numbers.

A cell reads ``+0.052*`` (Δ = method − baseline, mean over paired seeds; ``*`` when the
leaderboard's adjusted p of that row is below ``alpha``) with a letter for the test that row used
(``b`` paired patient bootstrap, ``t`` seed t-test), so a reader sees which numbers carry a
patient-level test. "better / worse" counts the significant cells in each direction, read from
the metric's declared direction.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fairmedia.commands._table import format_table
from fairmedia.errors import UserError
from fairmedia.metrics.directions import higher_is_better

TEST_LETTER = {"paired patient bootstrap": "b", "paired t over seeds": "t"}


def _test_letter(test: object) -> str:
    if not isinstance(test, str) or not test:
        return ""
    return TEST_LETTER.get(test, "t" if "paired t" in test else "b" if "bootstrap" in test else "?")


def load_leaderboard(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.is_dir():
        path = path / "leaderboard.csv"
    if not path.exists():
        raise UserError(f"{path}: no leaderboard.csv (make one with the workflow or "
                        "`fairmedia leaderboard`)")
    table = pd.read_csv(path)
    missing = {"dataset", "method", "metric", "delta", "p_adj", "test"} - set(table.columns)
    if missing:
        raise UserError(f"{path}: not a leaderboard.csv; missing column(s) {sorted(missing)}")
    return table


def delta_summary(table: pd.DataFrame, metrics: list[str], alpha: float = 0.05
                  ) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per method, per metric the Δ of each dataset, its mean, and the
    counts of significantly better / worse datasets."""
    unknown = [m for m in metrics if m not in set(table["metric"])]
    if unknown:
        raise UserError(f"metric(s) {unknown} are not in the leaderboard; it has "
                        f"{sorted(set(table['metric']))}")
    rows = table[table["metric"].isin(metrics) & table["delta"].notna()]
    datasets = sorted(rows["dataset"].unique())
    header = ["method"]
    for metric in metrics:
        header += [f"Δ {metric}: " + " / ".join(datasets) + " (mean)", "better / worse"]
    out = []
    for method, block in rows.groupby("method", sort=True):
        line = [method]
        for metric in metrics:
            cells, better, worse, values = [], 0, 0, []
            for dataset in datasets:
                hit = block[(block["metric"] == metric) & (block["dataset"] == dataset)]
                if hit.empty:
                    cells.append("–")
                    continue
                rec = hit.iloc[0]
                sig = pd.notna(rec["p_adj"]) and rec["p_adj"] < alpha
                if sig:
                    improved = (rec["delta"] > 0) == higher_is_better(metric)
                    better += improved
                    worse += not improved
                values.append(rec["delta"])
                cells.append(f"{rec['delta']:+.3f}{'*' if sig else ''}{_test_letter(rec['test'])}")
            mean = f"{sum(values) / len(values):+.3f}" if values else "–"
            line += [" / ".join(cells) + f" ({mean})", f"{better} / {worse}"]
        out.append(line)
    return header, out


def render(table: pd.DataFrame, metrics: list[str], alpha: float = 0.05) -> str:
    header, rows = delta_summary(table, metrics, alpha)
    legend = (f"Δ = method − baseline (mean over paired seeds); * adjusted p < {alpha}; "
              "b = paired patient-level bootstrap, t = paired t-test over seeds.")
    return format_table(header, rows, markdown=True) + "\n\n" + legend
