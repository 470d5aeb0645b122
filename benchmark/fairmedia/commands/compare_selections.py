"""``fairmedia compare-selections``: one method's test metrics under each model-selection rule."""

from __future__ import annotations

import argparse
from pathlib import Path

from fairmedia.report.leaderboard import DEFAULT_METRICS

NAME = "compare-selections"
HELP = "compare model-selection strategies (overall, worst_group, dto, pareto) for ERM or another method"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", default="results/runs", help="runs folder (default: results/runs)")
    p.add_argument("--out", required=True, help="folder for selections.csv and selections.md")
    p.add_argument("--method", default="erm", help="method to compare (default: erm)")
    p.add_argument("--metrics", nargs="+", default=DEFAULT_METRICS)


def run(args: argparse.Namespace) -> int:
    from fairmedia.errors import UserError
    from fairmedia.report.collect import collect
    from fairmedia.report.leaderboard import check_metrics
    from fairmedia.report.selections import compare_selections, selections_markdown

    check_metrics(args.metrics)
    long = collect(args.runs)
    if long.empty or args.method not in set(long["method"]):
        raise UserError(f"no evaluated runs of method {args.method!r} under {args.runs}")
    table = compare_selections(long, args.metrics, args.method)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "selections.csv", index=False)
    text = selections_markdown(table, args.method)
    (out / "selections.md").write_text(text)
    print(text, end="")
    return 0
