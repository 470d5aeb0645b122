"""``fairmedia rank``: cross-cell ranks, Friedman/Iman–Davenport, Nemenyi CD and Wilcoxon–Holm."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from fairmedia.errors import UserError

NAME = "rank"
HELP = "rank methods across dataset×attribute blocks of a long table (ours or imported)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("table", help="long CSV: leaderboard.csv, a collected table or import-medfair")
    p.add_argument("--metric", required=True, help="metric name as in the table's metric column")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--higher-is-better", dest="higher", action="store_true", default=None)
    way.add_argument("--lower-is-better", dest="higher", action="store_false")
    p.add_argument("--baseline", default="erm", help="baseline method (default: erm)")
    p.add_argument("--selection", help="model selection to analyse when the table has several")
    p.add_argument("--correction", default="holm", choices=["holm", "fdr_bh", "bonferroni"])
    p.add_argument("--out", help="folder for ranks.csv, rank.json and cd_<metric>.png/.pdf")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def load(path: str, selection: str | None) -> pd.DataFrame:
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError) as err:
        raise UserError(f"{path}: cannot read as CSV ({err})") from err
    need = {"dataset", "method", "metric"}
    if not need <= set(table.columns) or not {"mean", "value"} & set(table.columns):
        raise UserError(f"{path}: needs columns dataset, method, metric and mean (or value); "
                        f"has {', '.join(table.columns)}")
    if "mean" not in table.columns:  # a per-seed table: average the seeds first
        keys = [c for c in ("dataset", "attribute", "arch", "selection", "method", "metric")
                if c in table.columns]
        table = table.groupby(keys, as_index=False)["value"].mean().rename(
            columns={"value": "mean"})
    if "selection" in table.columns:
        present = sorted(table["selection"].dropna().unique())
        if selection is None and len(present) > 1:
            raise UserError(f"{path} has several selections ({', '.join(present)}); "
                            "choose one with --selection")
        if selection is not None:
            if selection not in present:
                raise UserError(f"--selection {selection!r} not in {path}: {', '.join(present)}")
            table = table[table["selection"] == selection]
    return table


def run(args: argparse.Namespace) -> int:
    from fairmedia.metrics.directions import higher_is_better
    from fairmedia.report.figures import cd_diagram, safe_name
    from fairmedia.report.ranking import block_table, cross_cell, ranks_rows
    from fairmedia.stats.nemenyi import nemenyi_pvalues

    table = load(args.table, args.selection)
    higher = args.higher
    if higher is None:
        try:
            higher = higher_is_better(args.metric)
        except KeyError as err:
            raise UserError(f"metric {args.metric!r} has no declared direction; pass "
                            "--higher-is-better or --lower-is-better") from err
    blocks = block_table(table, args.metric)
    result = cross_cell(blocks, higher, args.baseline, args.correction)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        ranks_rows(result, args.metric, args.selection or "").to_csv(out / "ranks.csv",
                                                                     index=False)
        (out / "rank.json").write_text(json.dumps(result, indent=1))
        matrix = nemenyi_pvalues(blocks)  # None with < 2 complete blocks
        if matrix is not None:
            matrix.rename_axis("method").to_csv(out / "nemenyi.csv")
        cd = result["cd"]["0.05"]
        cd_diagram(pd.Series(result["avg_ranks"], dtype=float), float("nan") if cd is None else cd,
                   f"{args.metric}: N = {result['n_blocks']} blocks, k = {result['k']}",
                   out / f"cd_{safe_name(args.metric)}", args.baseline)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{args.metric} ({'higher' if higher else 'lower'} is better): "
              f"N = {result['n_blocks']} blocks, k = {result['k']} methods; dropped "
              f"{len(result['dropped_blocks'])}: {', '.join(result['dropped_blocks']) or '-'}")
        for method, rank in result["avg_ranks"].items():
            vs = result["vs_baseline"].get(method)
            extra = "" if not vs else (f"  Wilcoxon vs {args.baseline} p = {vs['wilcoxon_p']}, "
                                       f"Holm p = {vs['holm_p']}")
            print(f"  {method:20s} {rank:.3f}{extra}")
        print(f"Friedman χ² = {result['friedman']}; Iman–Davenport = {result['iman_davenport']};"
              f" CD = {result['cd']}")
    return 0
