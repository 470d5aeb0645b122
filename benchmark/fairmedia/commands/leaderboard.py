"""``fairmedia leaderboard``: collect evaluated runs into tables, tests, ranks and figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from fairmedia.errors import UserError
from fairmedia.report.leaderboard import DEFAULT_METRICS
from fairmedia.stats.multiple_testing import CORRECTIONS

NAME = "leaderboard"
HELP = "collect evaluated runs into the leaderboard (CSV/Markdown/LaTeX, tests, ranks, figures)"

# One significance path: these equal the workflow's defaults (the config schema's leaderboard
# section; tests/test_cli_defaults.py holds them equal), so a table made by hand and one made by
# `snakemake` mark the same cells significant.
BOOTSTRAP = 1000
CORRECTION = "holm"
SEED = 0
EFFECT_SIZE = 0.02


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", default="results/runs", help="runs folder")
    p.add_argument("--selection", default="overall",
                   help="model selection to tabulate (overall, worst_group, dto, pareto); also the "
                   "rule that picks among @hp variants")
    p.add_argument("--out", required=True, help="output folder, e.g. results/leaderboard/overall")
    p.add_argument("--metrics", nargs="+", default=DEFAULT_METRICS,
                   help="metrics (columns)")
    p.add_argument("--baseline", default="erm", help="baseline method")
    p.add_argument("--correction", default=CORRECTION, choices=CORRECTIONS,
                   help="multiple-testing correction across the methods of a table")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level for the marker")
    p.add_argument("--bootstrap", type=int, default=BOOTSTRAP,
                   help="paired patient-level bootstrap resamples per cell, as the workflow's "
                   "leaderboard.bootstrap; 0: the seed t-test only (runs without scored.parquet)")
    p.add_argument("--seed", type=int, default=SEED, help="bootstrap random seed")
    p.add_argument("--jobs", type=int, default=1, help="worker processes for the bootstrap")
    p.add_argument("--include-from", default=None, metavar="FILE",
                   help="only the metrics.json files listed in FILE, one per line (the workflow's)")
    p.add_argument("--hparam-criterion", default="equalized_odds",
                   help="val criterion (lower is better) choosing among @hp variants of decision-"
                   "changing post-processing methods: equalized_odds, equal_opportunity, "
                   "demographic_parity or accuracy_parity")
    p.add_argument("--hparam-utility", default="balanced_accuracy",
                   help="val utility those variants must keep: balanced_accuracy or acc")
    p.add_argument("--hparam-floor", type=float, default=0.02,
                   help="eligible variants have val utility >= best variant's - this")
    p.add_argument("--effect-size", type=float, default=EFFECT_SIZE,
                   help="mark (†) cells whose minimum detectable Δ vs the baseline (α 0.05, "
                   "power 0.8) exceeds this; 0: no marks")
    p.add_argument("--separability", nargs="*", default=[], metavar="FILE",
                   help="`fairmedia separability` results (results/separability/<dataset>/"
                   "<attribute>.json), one line under each table block they cover")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="do not print the Markdown table")


def run(args: argparse.Namespace) -> int:
    from fairmedia.report.collect import read_include_list
    from fairmedia.report.hparam_choice import DecisionRule
    from fairmedia.report.pipeline import write_leaderboard

    if args.effect_size < 0:
        raise UserError(f"--effect-size must be 0 or more, got {args.effect_size}")
    markdown = write_leaderboard(
        runs=Path(args.runs), selection=args.selection, out=Path(args.out), metrics=args.metrics,
        baseline=args.baseline, correction=args.correction, alpha=args.alpha,
        n_boot=args.bootstrap, seed=args.seed, figures=not args.no_figures,
        jobs=args.jobs,
        decision=DecisionRule(args.hparam_criterion, args.hparam_utility, args.hparam_floor),
        effect_size=args.effect_size or None, separability=[Path(f) for f in args.separability],
        include=read_include_list(args.include_from) if args.include_from else None)
    if not args.quiet:
        print(markdown, end="")
    return 0
