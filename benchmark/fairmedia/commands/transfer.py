"""``fairmedia transfer``: evaluate a finished run on another dataset (out of distribution).

``transfer predict`` scores the target's test split with the run's selected checkpoints;
``transfer evaluate`` writes metrics.json + scored.parquet with the threshold fitted on the
source's val split. See docs/ood.md.
"""

from __future__ import annotations

import argparse

from fairmedia import layout
from fairmedia.commands._args import parse_assignments, parse_privileged

NAME = "transfer"
HELP = "run a finished run's selected checkpoints on another dataset's test split and evaluate"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    pred = sub.add_parser("predict", help="score the target's test split")
    pred.add_argument("run_dir", help="finished source run (holds run.json, epoch_scores, weights/)")
    pred.add_argument("--target", required=True, help="target prepared dataset folder")
    pred.add_argument("--out", required=True, help="output folder (predictions.parquet, transfer.json)")
    pred.add_argument("--map", action="append", default=[], metavar="SRC=TGT", required=True,
                      help="an evaluation attribute: source column = target column (repeat)")
    pred.add_argument("--device", default="cpu")
    pred.add_argument("--batch-size", type=int, default=256)
    pred.add_argument("--threads", type=int, default=None)
    ev = sub.add_parser("evaluate", help="metrics of transferred predictions (source-val threshold)")
    ev.add_argument("transfer_dir", help="folder written by `transfer predict`")
    ev.add_argument("--attribute", required=True, help="evaluation attribute (source column name)")
    ev.add_argument("--selection", default="overall", help="overall | worst_group | dto")
    ev.add_argument("--out-dir", default=None,
                    help="folder for metrics.json and scored.parquet (default: the transfer run's "
                         "eval/ATTRIBUTE/SELECTION)")
    ev.add_argument("--threshold", default="youden", help="operating-point rule, fitted on source val")
    ev.add_argument("--bootstrap", type=int, default=0)
    ev.add_argument("--min-group-size", type=int, default=20)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--privileged", action="append", default=[], metavar="COL=GROUP",
                    help="privileged group for the AIF360-style differences (default: the "
                         "largest evaluated group)")
    ev.add_argument("--target-specificity", type=float, default=0.8, metavar="S",
                    help="specificity of sensitivity_at_specificity (default 0.8)")


def run(args: argparse.Namespace) -> int:
    from fairmedia.evaluation.transfer import evaluate_transfer, transfer_predict

    if args.action == "predict":
        column_map = parse_assignments(args.map, "--map", "SOURCE_COLUMN=TARGET_COLUMN")
        out = transfer_predict(args.run_dir, args.target, args.out, column_map,
                               device=args.device, batch_size=args.batch_size, threads=args.threads)
        print(f"{args.run_dir} -> {args.target}: wrote {out / 'predictions.parquet'}")
        return 0
    report = evaluate_transfer(
        args.transfer_dir, args.attribute, args.selection,
        args.out_dir or layout.eval_dir(args.transfer_dir, args.attribute, args.selection),
        threshold=args.threshold,
        bootstrap=args.bootstrap, min_group_size=args.min_group_size, seed=args.seed,
        privileged=parse_privileged(args.privileged), target_specificity=args.target_specificity)
    auc = report["attributes"][args.attribute]["disparity"].get("auc", {})
    print(f"{args.transfer_dir} [{args.attribute}, {args.selection}]: AUC "
          f"{report['overall']['auc']}, worst-group AUC {auc.get('worst')}, AUC gap "
          f"{auc.get('gap')}, threshold {report['threshold']['value']:.4f} (source val)")
    return 0
