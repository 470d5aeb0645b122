"""``fairmedia publish``: commit-ready copy of a leaderboard with its config and code version."""

from __future__ import annotations

import argparse

from fairmedia.report.publish import publish

NAME = "publish"
HELP = "copy a leaderboard with its config and provenance to results/published/<name>"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="the config file the leaderboard was made with")
    p.add_argument("--leaderboard", default="results/leaderboard", help="folder of <selection>/ tables")
    p.add_argument("--out", required=True, help="e.g. results/published/synthetic")


def run(args: argparse.Namespace) -> int:
    print(f"published to {publish(args.config, args.leaderboard, args.out)}")
    return 0
