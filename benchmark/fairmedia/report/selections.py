"""Compare model-selection strategies for one method (ERM by default): mean ± std per selection."""

from __future__ import annotations

import pandas as pd

from fairmedia.report.leaderboard import BLOCK
from fairmedia.report.tables import MISSING


def compare_selections(long: pd.DataFrame, metrics: list[str], method: str = "erm") -> pd.DataFrame:
    """Rows: dataset, attribute, arch, metric, selection, mean, std, n_seeds (missing kept)."""
    part = long[(long["method"] == method) & long["metric"].isin(metrics)]
    stats = part.groupby(BLOCK + ["metric"])["value"].agg(["mean", "std", "count"]).rename(
        columns={"count": "n_seeds"})
    blocks = long[BLOCK[:3]].drop_duplicates()
    grid = blocks.merge(pd.DataFrame({"selection": sorted(long["selection"].unique())}),
                        how="cross").merge(pd.DataFrame({"metric": metrics}), how="cross")
    out = grid.merge(stats.reset_index(), on=BLOCK + ["metric"], how="left")
    out["n_seeds"] = out["n_seeds"].fillna(0).astype(int)
    return out


def selections_markdown(table: pd.DataFrame, method: str) -> str:
    """One row per block × selection, one column per metric."""
    metrics = list(dict.fromkeys(table["metric"]))
    lines = [f"# Model selection compared for {method}", "",
             "| dataset | attribute | arch | selection | " + " | ".join(metrics) + " |",
             "|---|---|---|---|" + ":---:|" * len(metrics)]
    for key, block in table.groupby(BLOCK, sort=True):
        cells = dict(zip(block["metric"], zip(block["mean"], block["std"])))
        row = []
        for m in metrics:
            mean, std = cells.get(m, (float("nan"), float("nan")))
            row.append(MISSING if pd.isna(mean) else
                       f"{mean:.3f}" + ("" if pd.isna(std) else f" ± {std:.3f}"))
        lines.append("| " + " | ".join(map(str, key)) + " | " + " | ".join(row) + " |")
    lines += ["", "Cells: mean ± std over seeds (ddof = 1) of the test metric of the model chosen by "
              f"each selection rule; `{MISSING}`: no result."]
    return "\n".join(lines) + "\n"
