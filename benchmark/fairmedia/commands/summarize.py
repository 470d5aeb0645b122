"""``fairmedia summarize``: each method's Δ vs the baseline per dataset, as a Markdown table."""

from __future__ import annotations

import argparse

from fairmedia.report.delta_summary import load_leaderboard, render

NAME = "summarize"
HELP = "Markdown table of each method's Δ vs the baseline per dataset, with significance"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("leaderboard", help="a <selection>/ folder or its leaderboard.csv")
    p.add_argument("--metrics", nargs="+", default=["auc_worst", "equalized_odds", "tpr_worst"],
                   help="metrics to show (default: %(default)s)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (adjusted p)")


def run(args: argparse.Namespace) -> int:
    print(render(load_leaderboard(args.leaderboard), args.metrics, args.alpha))
    return 0
