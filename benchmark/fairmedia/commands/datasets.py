"""``fairmedia datasets``: the dataset cards as a table."""

from __future__ import annotations

import argparse

from fairmedia.commands._table import format_table
from fairmedia.data.cards import available_datasets, load_card

NAME = "datasets"
HELP = "list the dataset cards (datasets/*.yaml)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--markdown", action="store_true")


def run(args: argparse.Namespace) -> int:
    rows = []
    for name in available_datasets():
        card = load_card(name)
        attrs = card.get("attributes", {})
        attr_names = ", ".join(attrs) if isinstance(attrs, dict) else ", ".join(map(str, attrs))
        access = str(card.get("access", card.get("kind", ""))).split("\n")[0]
        summary = str(card["description"]).split(". ")[0].split("\n")[0]
        rows.append([name, card["kind"], attr_names, access[:40], summary[:70]])
    print(format_table(["name", "kind", "attributes", "access", "description"], rows, markdown=args.markdown))
    return 0
