"""``fairmedia evaluate-run``: metrics.json + scored.parquet for one run × attribute × selection."""

from __future__ import annotations

import argparse

from fairmedia import layout
from fairmedia.commands._args import parse_privileged
from fairmedia.evaluation.run_evaluation import evaluate_run

NAME = "evaluate-run"
HELP = "evaluate a finished run for one attribute and one model-selection criterion"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run folder (holds run.json and predictions)")
    p.add_argument("--attribute", required=True, help="evaluation attribute, or A&B for an intersection")
    p.add_argument("--selection", default="overall",
                   help="overall | worst_group | dto | pareto | min_encoding")
    p.add_argument("--encoding-tolerance", type=float, default=0.01,
                   help="min_encoding: epochs whose val AUC is within this (absolute) of the best "
                        "are eligible (default 0.01)")
    p.add_argument("--out-dir", default=None,
                   help="folder for metrics.json and scored.parquet (default: the run's "
                        "eval/ATTRIBUTE/SELECTION, as the workflow lays it out)")
    p.add_argument("--prepared", default=None, help="prepared dataset (default: the run's own)")
    p.add_argument("--bootstrap", type=int, default=0, help="bootstrap resamples for CIs")
    p.add_argument("--threshold", default="youden", help="operating-point rule, fitted on val")
    p.add_argument("--min-group-size", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--privileged", action="append", default=[], metavar="COL=GROUP",
                   help="privileged group for the AIF360-style differences (default: the "
                        "largest group of the training split)")
    p.add_argument("--target-specificity", type=float, default=0.8, metavar="S",
                   help="specificity of sensitivity_at_specificity (default 0.8, as MEDFAIR)")


def run(args: argparse.Namespace) -> int:
    report = evaluate_run(
        args.run_dir, args.attribute, args.selection,
        args.out_dir or layout.eval_dir(args.run_dir, args.attribute, args.selection),
        prepared_dir=args.prepared,
        bootstrap=args.bootstrap, threshold=args.threshold, min_group_size=args.min_group_size,
        seed=args.seed, encoding_tolerance=args.encoding_tolerance,
        privileged=parse_privileged(args.privileged),
        target_specificity=args.target_specificity,
    )
    attr = report["attributes"][args.attribute]
    auc = attr["disparity"].get("auc", {})
    print(f"{args.run_dir} [{args.attribute}, {args.selection}]: AUC {report['overall']['auc']:.3f}, "
          f"worst-group AUC {auc.get('worst')}, AUC gap {auc.get('gap')}")
    return 0
