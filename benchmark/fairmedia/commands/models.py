"""``fairmedia models``: the backbone registry as a table."""

from __future__ import annotations

import argparse

from fairmedia.commands._table import format_table
from fairmedia.models.registry import available_archs

NAME = "models"
HELP = "list the registered network architectures"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--markdown", action="store_true")


def run(args: argparse.Namespace) -> int:
    rows = [[s.name, f"{s.spatial_dims}D", s.family, s.description] for s in available_archs().values()]
    print(format_table(["name", "input", "family", "description"], rows, markdown=args.markdown))
    return 0
