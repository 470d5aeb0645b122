"""``fairmedia evaluate PRED --attr COL``: the fairness report of any model's predictions."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
from pathlib import Path

import pandas as pd

from fairmedia.commands._args import add_column_arguments, check_output_file, parse_privileged
from fairmedia.errors import UserError

NAME = "evaluate"
HELP = "fairness report (per-group metrics, disparities, criteria, bootstrap CIs) of predictions"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("predictions", metavar="PRED",
                   help="CSV or Parquet with a 0/1 label, a score (probability of class 1), the "
                        "attribute columns, optionally split (train|val|test), patient ids, "
                        "decision; column names as set by the --*-col options")
    add_column_arguments(p, patient=True, split_optional=True)
    p.add_argument("--attr", action="append", required=True, metavar="COL",
                   help="sensitive attribute column (repeat for several)")
    p.add_argument("--intersect", action="store_true",
                   help="also evaluate the intersection of each pair of attributes (a&b)")
    p.add_argument("--intersect-order", type=int, default=2, metavar="K",
                   help="with --intersect, cross every 2..K attributes (default 2: pairs)")
    p.add_argument("--privileged", action="append", default=[], metavar="COL=GROUP",
                   help="privileged group of an attribute for the AIF360-style differences "
                        "(default: its largest group among the train rows, else val, else "
                        "evaluated rows)")
    p.add_argument("--target-specificity", type=float, default=0.8, metavar="S",
                   help="specificity of sensitivity_at_specificity and tpr_at_val_specificity "
                        "(default 0.8, as MEDFAIR)")
    p.add_argument("--threshold", default="youden",
                   help="operating point: youden, f1, fixed:<t>, specificity:<s> (default youden)")
    p.add_argument("--threshold-on-eval", action="store_true",
                   help="allow fitting the threshold on the evaluated rows (reported as such)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="bootstrap resamples for 95%% CIs (0: none)")
    p.add_argument("--min-group-size", type=int, default=20, metavar="N",
                   help="groups smaller than N are reported but left out of disparities")
    p.add_argument("--bins", action="append", default=[], metavar="COL=EDGES",
                   help="group a continuous column by bin edges, e.g. age=0,60,inf")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--allow-identical-rows", action="store_true",
                   help="without a sample_id column, accept rows identical in every column "
                        "(refused by default: usually a file concatenated twice)")
    p.add_argument("--out", type=Path, help="write the JSON report here")
    p.add_argument("--html", type=Path, help="write an HTML report with per-group charts here")
    p.add_argument("--markdown", type=Path, help="write a Markdown report here")


def parse_bins(items: list[str]) -> dict[str, list[float]]:
    bins: dict[str, list[float]] = {}
    for item in items:
        column, sep, edges = item.partition("=")
        try:
            values = [float(e) for e in edges.split(",")]
        except ValueError:
            values = []
        if not sep or not column or len(values) < 2 or any(math.isnan(v) for v in values):
            raise UserError(f"--bins {item!r}: expected COL=EDGE,EDGE[,...] e.g. age=0,60,inf")
        bins[column] = values
    return bins


def read_predictions(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; for a folder of segmentation masks use "
                        f"`fairmedia evaluate-seg {path} --reference REF_DIR --metadata CSV`")
    is_parquet = path.suffix.lower() in (".parquet", ".pq")
    try:
        return pd.read_parquet(path) if is_parquet else pd.read_csv(path)
    except Exception as err:  # pandas/pyarrow raise many types; the user needs the file and why
        kind = "Parquet" if is_parquet else "CSV"
        raise UserError(f"{path}: cannot be read as {kind}: {err}") from err


def run(args: argparse.Namespace) -> int:
    from fairmedia.metrics import evaluate_predictions
    from fairmedia.metrics.render import render_html, render_markdown, render_text

    outputs = [(flag, target) for flag, target in
               (("--out", args.out), ("--html", args.html), ("--markdown", args.markdown))
               if target is not None]
    for flag, target in outputs:  # before any work: a bad path must not cost the computation
        check_output_file(target, flag)
    path = Path(args.predictions)
    df = read_predictions(path)
    report = evaluate_predictions(
        df, args.attr, threshold=args.threshold, threshold_on_eval=args.threshold_on_eval,
        intersect=args.intersect, bootstrap=args.bootstrap, min_group_size=args.min_group_size,
        seed=args.seed, bins=parse_bins(args.bins), source=str(path),
        reject_identical_rows=not args.allow_identical_rows, label_col=args.label_col,
        score_col=args.score_col, patient_col=args.patient_col, split_col=args.split_col,
        intersect_order=args.intersect_order, privileged=parse_privileged(args.privileged),
        target_specificity=args.target_specificity,
    )
    render = {
        "--out": lambda: json.dumps(report, indent=1, allow_nan=False),
        "--html": lambda: render_html(report),
        "--markdown": lambda: render_markdown(report),
    }
    # Files first, then stdout: a closed pipe on stdout (| head) must not lose the report.
    written, failed = [], []
    for flag, target in outputs:
        tmp = target.with_name(target.name + ".partial")  # an old report survives a failure
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(render[flag]())
            os.replace(tmp, target)
            written.append(target)
        except OSError as err:
            failed.append(f"{flag} {target}: could not be written ({err.strerror or err})")
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    print(render_text(report))
    for target in written:
        print(f"wrote {target}")
    if failed:
        raise UserError("; ".join(failed) + " (the report above was computed)")
    return 0
