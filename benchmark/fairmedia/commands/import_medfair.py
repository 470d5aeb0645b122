"""``fairmedia import-medfair``: published MEDFAIR result tables → our long format (CSV)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "import-medfair"
HELP = "read MEDFAIR's published per-dataset tables (mean±std cells) into a long table"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", default=None, metavar="SOURCE",
                   help="folder with MEDFAIR's original <selection>/<Dataset>-<Attribute>.csv files, "
                        "or a long table in the committed format (default: the committed copy, "
                        "fairmedia/report/data/medfair_iclr2023.csv)")
    p.add_argument("--out", required=True, help="long CSV to write")
    p.add_argument("--imaging-only", action="store_true",
                   help="keep the paper's 16 imaging dataset-attribute pairs")


def run(args: argparse.Namespace) -> int:
    from fairmedia.report.medfair_import import MEDFAIR_COMMIT, import_medfair

    table = import_medfair(args.dir, imaging_only=args.imaging_only)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    pairs = table[["dataset", "attribute"]].drop_duplicates()
    source = args.dir or f"the committed copy (MEDFAIR commit {MEDFAIR_COMMIT[:7]})"
    print(f"read {source}")
    print(f"wrote {args.out}: {len(table)} rows, {len(pairs)} dataset-attribute pairs, "
          f"selections {', '.join(sorted(table['selection'].unique()))}, "
          f"{table['method'].nunique()} methods")
    return 0
