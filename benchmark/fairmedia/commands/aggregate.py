"""``fairmedia aggregate``: pool prepared datasets into one (train on a union of datasets)."""

from __future__ import annotations

import argparse
import json

from fairmedia.commands._args import parse_assignments
from fairmedia.errors import UserError

NAME = "aggregate"
HELP = "pool several prepared datasets (patient ids kept apart, a source column, shared attributes)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="name of the pooled dataset (its manifest's dataset)")
    p.add_argument("--out", required=True, help="output prepared folder")
    p.add_argument("--member", action="append", default=[], metavar="KEY=DIR", required=True,
                   help="a member: its key (the source column's value) and prepared folder")
    p.add_argument("--card", action="append", default=[], metavar="KEY=CARD", required=True,
                   help="the dataset card of each member (label concept, attribute map)")
    p.add_argument("--attribute", action="append", default=[], required=True,
                   help="a shared attribute concept of the cards' attribute_map (repeat)")


def run(args: argparse.Namespace) -> int:
    from fairmedia.data.aggregate import aggregate_prepared
    from fairmedia.data.cards import load_card
    from fairmedia.data.compat import card_attribute_map, card_label_concept

    members, cards = parse_assignments(args.member, "--member"), parse_assignments(args.card, "--card")
    if set(members) != set(cards):
        raise UserError(f"every --member needs a --card: members {sorted(members)}, "
                        f"cards {sorted(cards)}")
    loaded = {k: load_card(cards[k]) for k in members}
    concepts = {k: card_label_concept(c) for k, c in loaded.items()}
    if len(set(concepts.values())) > 1:
        raise UserError(f"label mismatch: the members predict different things {concepts} "
                        "(label_concept in their cards)")
    columns = {}
    for key, card in loaded.items():
        mapping = card_attribute_map(card)
        missing = [a for a in args.attribute if a not in mapping]
        if missing:
            raise UserError(f"member {key!r} (card {cards[key]!r}) has no attribute {missing}; "
                            f"its card maps {sorted(mapping)}")
        columns[key] = {a: mapping[a] for a in args.attribute}
    out = aggregate_prepared(args.out, members, columns, name=args.name,
                             label_concept=next(iter(concepts.values())))
    manifest = json.loads((out / "manifest.json").read_text())
    print(f"wrote {manifest['n']} images {manifest['image_shape']} from {len(members)} datasets "
          f"to {out}")
    return 0
