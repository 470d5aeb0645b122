"""``fairmedia uncertainty PRED --attr A --out DIR``: conformal coverage, deferral, calibration
per group (docs/diagnostics.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fairmedia.commands._args import add_column_arguments, check_output_dir

NAME = "uncertainty"
HELP = ("per-group split-conformal coverage and set size, selective prediction (deferral) and "
        "reliability diagrams of predictions with val and test rows")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("predictions", metavar="PRED",
                   help="CSV or Parquet with a 0/1 label, a score (probability of class 1), a "
                        "split column with val and test rows, and the attribute column")
    p.add_argument("--attr", required=True, metavar="COL", help="sensitive attribute column")
    p.add_argument("--alpha", type=float, default=0.1,
                   help="miscoverage of the conformal sets (default: %(default)s)")
    p.add_argument("--threshold", default="youden",
                   help="operating point fitted on val: youden, f1, fixed:<t>, specificity:<s> "
                        "(default youden)")
    add_column_arguments(p, patient=False, split_optional=False)
    p.add_argument("--min-group-size", type=int, default=20, metavar="N",
                   help="groups with fewer test rows are reported but left out of the gaps")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="folder for uncertainty.json, uncertainty.md and the figures")


def run(args: argparse.Namespace) -> int:
    from fairmedia.commands.evaluate import read_predictions
    from fairmedia.diagnostics.uncertainty import uncertainty_report
    from fairmedia.diagnostics.uncertainty_render import (
        reliability_figure,
        render_markdown,
        selective_figure,
    )

    check_output_dir(args.out, "--out")  # before any work
    path = Path(args.predictions)
    report = uncertainty_report(
        read_predictions(path), args.attr, alpha=args.alpha, threshold=args.threshold,
        label_col=args.label_col, score_col=args.score_col, split_col=args.split_col,
        min_group_size=args.min_group_size, source=str(path))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "uncertainty.json").write_text(json.dumps(report, indent=1, allow_nan=False))
    markdown = render_markdown(report)
    (args.out / "uncertainty.md").write_text(markdown)
    written = [*reliability_figure(report, args.out / "reliability"),
               *selective_figure(report, args.out / "selective")]
    print(markdown)
    for target in [args.out / "uncertainty.json", args.out / "uncertainty.md", *written]:
        print(f"wrote {target}")
    return 0
