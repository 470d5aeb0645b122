"""``fairmedia postprocess``: a post-processing run on top of a finished base run (the driver is
``fairmedia.evaluation.postprocess``)."""

from __future__ import annotations

import argparse

from fairmedia.commands._args import parse_assignments

NAME = "postprocess"
HELP = "fit a post-processing method on a base run's validation predictions; apply to val and test"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="finished base run folder (normally ERM)")
    p.add_argument("--method", required=True, help="post-processing method")
    p.add_argument("--attribute", required=True, help="sensitive attribute to post-process for")
    p.add_argument("--prepared", required=True, help="prepared dataset the base run trained on")
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument("--hparam", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--hparam-sample", type=int, default=None,
                   help="use the k-th random hyperparameter configuration instead of the defaults")
    p.add_argument("--seed", type=int, default=0, help="seed of randomised decisions")
    p.add_argument("--device", default="cpu", help="device for methods that run the network")


def run(args: argparse.Namespace) -> int:
    from fairmedia.evaluation.postprocess import postprocess_run

    written = postprocess_run(args.base, args.method, args.attribute, args.prepared, args.out,
                              hparams=parse_assignments(args.hparam, "--hparam"),
                              hparam_sample=args.hparam_sample, seed=args.seed, device=args.device)
    print(f"[{args.method} on {args.base}] {args.attribute}: wrote {written}")
    return 0
