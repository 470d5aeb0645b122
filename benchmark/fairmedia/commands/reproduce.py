"""``fairmedia reproduce``: re-run one published cell and print published vs reproduced."""

from __future__ import annotations

import argparse
import tempfile

import numpy as np

from fairmedia.report.reproduce import reproduce_cell

NAME = "reproduce"
HELP = "re-run the runs behind one cell of a published table and compare the numbers"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("table", help="a published table folder, e.g. results/published/synthetic")
    p.add_argument("--cell", required=True, help="DATASET/ATTRIBUTE/ARCH/METHOD")
    p.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    p.add_argument("--cores", type=int, default=2)


def run(args: argparse.Namespace) -> int:
    workdir = args.workdir or tempfile.mkdtemp(prefix="fairmedia-reproduce-")
    table = reproduce_cell(args.table, args.cell, workdir, cores=args.cores)
    with np.printoptions(precision=4):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    identical = bool((table["difference"] == 0).all())
    within = bool(table["within_published_std"].all())
    print(f"\n{len(table)} numbers: " + ("all identical (CPU reproduction)" if identical else
          "all within the published std" if within else "some differ by more than the published std"))
    return 0 if within else 1
