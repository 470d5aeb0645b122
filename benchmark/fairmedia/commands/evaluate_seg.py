"""``fairmedia evaluate-seg PRED_DIR --reference REF_DIR --metadata CSV --attr COL``: the
segmentation fairness report of a folder of predicted masks (the sibling of ``evaluate``, which
reads a classification predictions table)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fairmedia.commands._args import check_output_dir, check_output_file, parse_assignments
from fairmedia.errors import UserError

NAME = "evaluate-seg"
HELP = "segmentation fairness report (per-group Dice/HD95/NSD, ES scores, region maps) of masks"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("predictions", metavar="PRED_DIR",
                   help="folder of predicted masks, <case>.png|.nii.gz|.nii, integer labels")
    p.add_argument("--reference", required=True, type=Path, metavar="REF_DIR",
                   help="folder of reference masks, named as the predictions")
    p.add_argument("--metadata", required=True, type=Path, metavar="CSV",
                   help="one row per case: case id, patient id, attribute columns")
    p.add_argument("--attr", action="append", required=True, metavar="COL",
                   help="sensitive attribute column (repeat for several)")
    p.add_argument("--class", dest="classes", action="append", metavar="NAME=L[,L]",
                   help="a class and its label(s), e.g. disc=1,2 --class cup=2 (repeat); "
                        "default lesion=1")
    p.add_argument("--case-col", default="case_id", metavar="COL",
                   help="metadata column of case ids = mask file names (default: %(default)s)")
    p.add_argument("--patient-col", default="patient_id", metavar="COL",
                   help="metadata column of patient ids, the bootstrap's unit; 'none' for one "
                        "case a patient (default: %(default)s)")
    p.add_argument("--pixel-spacing", action="store_true",
                   help="distances in pixels even for NIfTI masks (default: header voxel size)")
    p.add_argument("--nsd-tolerance", type=float, default=2.0, metavar="D",
                   help="NSD boundary tolerance, in spacing units (default: %(default)s)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="bootstrap resamples for 95%% CIs (0: none)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--min-group-size", type=int, default=1, metavar="N",
                   help="groups of fewer cases are listed but left out of disparities")
    p.add_argument("--size-strata", type=int, default=3, metavar="K",
                   help="reference-size quantile strata for stratified Dice (default: %(default)s)")
    p.add_argument("--map-grid", metavar="N,N[,N]",
                   help="coarse grid of the region maps (needed when mask shapes differ; "
                        "default: per pixel)")
    p.add_argument("--out", type=Path, help="write the JSON report here")
    p.add_argument("--markdown", type=Path, help="write the Markdown report here")
    p.add_argument("--figures", type=Path, metavar="DIR",
                   help="write the region-map figures (PNG + PDF) here")
    p.add_argument("--cases", type=Path, metavar="CSV", help="write the per-case table here")


def parse_classes(items: list[str] | None) -> dict[str, list[int]]:
    """``["disc=1,2", "cup=2"]`` as ``{"disc": [1, 2], "cup": [2]}``; bad items name the option."""
    out = {}
    for name, text in parse_assignments(items or ["lesion=1"], "--class").items():
        try:
            out[name] = [int(v) for v in text.split(",")]
        except ValueError:
            raise UserError(f"--class {name}={text}: labels must be integers, e.g. "
                            f"--class {name}=1") from None
    return out


def parse_grid(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        grid = [int(v) for v in text.split(",")]
    except ValueError:
        grid = []
    if len(grid) not in (2, 3) or min(grid) < 1:
        raise UserError(f"--map-grid {text!r}: expected 2 or 3 positive integers, e.g. 32,32")
    return grid


def run(args: argparse.Namespace) -> int:
    from fairmedia.segmentation.report import evaluate_mask_folders, render_markdown

    for value, flag in ((args.bootstrap, "--bootstrap"), (args.min_group_size, "--min-group-size")):
        if value < 0:
            raise UserError(f"{flag} must be 0 or more, got {value}")
    if args.size_strata < 1 or not args.nsd_tolerance > 0:
        raise UserError("--size-strata must be at least 1 and --nsd-tolerance positive")
    for target, flag in ((args.out, "--out"), (args.markdown, "--markdown"),
                         (args.cases, "--cases")):
        if target is not None:
            check_output_file(target, flag)
    if args.figures is not None:
        check_output_dir(args.figures, "--figures")
    patient_col = None if args.patient_col == "none" else args.patient_col
    report, cases = evaluate_mask_folders(
        Path(args.predictions), args.reference, args.metadata, args.attr,
        parse_classes(args.classes), case_col=args.case_col, patient_col=patient_col,
        pixel_spacing=args.pixel_spacing, nsd_tolerance=args.nsd_tolerance,
        bootstrap=args.bootstrap, seed=args.seed, min_group_size=args.min_group_size,
        n_strata=args.size_strata, map_grid=parse_grid(args.map_grid), figure_dir=args.figures)
    markdown = render_markdown(report)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, allow_nan=False))
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown)
    if args.cases is not None:
        args.cases.parent.mkdir(parents=True, exist_ok=True)
        cases.to_csv(args.cases, index=False)
    print(markdown, end="")
    return 0
