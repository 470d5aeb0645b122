"""``fairmedia separability``: how well the sensitive attribute can be predicted from the image."""

from __future__ import annotations

import argparse
from pathlib import Path

from fairmedia.commands._args import check_output_file
from fairmedia.errors import UserError

NAME = "separability"
HELP = "train an attribute classifier and report the attribute's test AUC (subgroup separability)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prepared", required=True, help="prepared dataset folder")
    p.add_argument("--attribute", required=True, help="sensitive attribute to predict")
    p.add_argument("--arch", default="cnn-small", help="architecture from `fairmedia models`")
    p.add_argument("--epochs", type=int, default=5, help="training epochs (best val AUC kept)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the CI")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--out", required=True, help="output JSON (scores go to FILE.scores.parquet)")


def run(args: argparse.Namespace) -> int:
    from fairmedia.diagnostics.separability import run_separability

    if args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {args.epochs}")
    if args.bootstrap < 0:
        raise UserError(f"--bootstrap must be 0 or more, got {args.bootstrap}")
    out = Path(args.out)
    check_output_file(out, "--out")
    run_separability(args.prepared, args.attribute, out, arch=args.arch, epochs=args.epochs,
                     seed=args.seed, bootstrap=args.bootstrap, device=args.device)
    return 0
