"""``fairmedia leaderboard-html``: the self-contained HTML page of a leaderboard folder."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "leaderboard-html"
HELP = "write <folder>/index.html: every <selection>/leaderboard.csv, sortable, with figures"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a leaderboard folder of <selection>/ subfolders, e.g. "
                   "results/leaderboard or results/published/<name>")
    p.add_argument("--title", default="FairMedIA leaderboard", help="page title")
    p.add_argument("--baseline", default="erm", help="baseline method (default: erm)")
    p.add_argument("--correction", default="holm", help="the correction the p were adjusted with "
                   "(named in the legend; default: holm)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the marker")


def run(args: argparse.Namespace) -> int:
    from fairmedia.report.html import write_leaderboard_html

    out = write_leaderboard_html(Path(args.folder), title=args.title, baseline=args.baseline,
                                 correction=args.correction, alpha=args.alpha)
    print(f"wrote {out}")
    return 0
