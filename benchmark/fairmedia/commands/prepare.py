"""``fairmedia prepare NAME --root RAW --out DIR``: turn a local copy of a public dataset into the
prepared-dataset contract (docs/contracts.md, contract 1), then print counts per split × group × label."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from fairmedia.commands._args import check_output_dir
from fairmedia.data.cards import load_card
from fairmedia.errors import UserError

NAME = "prepare"
HELP = "prepare a real dataset from a local copy (metadata table, resized image array, manifest)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="dataset card name, e.g. chexpert (see datasets/*.yaml)")
    p.add_argument("--root", required=True, help="folder holding the dataset as downloaded")
    p.add_argument("--out", required=True, help="output folder, e.g. results/prepared/chexpert")
    p.add_argument("--metadata-only", action="store_true",
                   help="write the metadata table and manifest without decoding images")
    p.add_argument("--workers", type=int, default=2, help="image decoding processes (default 2)")
    p.add_argument("--seed", type=int, default=None, help="split seed (default: the card's)")
    p.add_argument("--card", default=None,
                   help="an edited copy of the card (YAML) to use instead of datasets/NAME.yaml")


def resolve_card(name: str, card_file: str | None) -> dict[str, Any]:
    """The named card, or an edited copy of it; the copy must keep the card's name."""
    if card_file is None:
        return load_card(name)
    path = Path(card_file)
    if not path.is_file():
        raise UserError(f"--card {path}: no such file")
    try:
        card = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UserError(f"--card {path}: not valid YAML: {err}") from None
    base = load_card(name)
    if not isinstance(card, dict) or card.get("name") != name:
        raise UserError(f"--card {path}: expected a mapping with name: {name}")
    return {**base, **card}


def format_counts(counts: dict[str, Any], attributes: list[str]) -> str:
    lines = []
    for attr in attributes:
        lines.append(f"{attr}:")
        lines.append(f"  {'split':6s} {'group':14s} {'n':>8s} {'y=1':>8s} {'prev':>6s}")
        for split in ("train", "val", "test"):
            for group, by_label in sorted(counts.get(split, {}).get(attr, {}).items()):
                n = sum(by_label.values())
                pos = by_label.get("1", 0)
                lines.append(f"  {split:6s} {group:14s} {n:8d} {pos:8d} {pos / n:6.3f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import json

    from fairmedia.data.adapters import get_adapter

    check_output_dir(Path(args.out), "--out")  # before the metadata is read
    card = resolve_card(args.name, args.card)
    root = Path(args.root)
    if not root.is_dir():
        raise UserError(f"--root {root}: no such folder (expected the local copy of {args.name})")
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}")
    adapter = get_adapter(card.get("adapter", args.name))
    out = adapter.prepare(root, Path(args.out), card=card, metadata_only=args.metadata_only,
                          workers=args.workers, seed=args.seed)
    manifest = json.loads((out / "manifest.json").read_text())
    opts = manifest["options"]
    print(f"{args.name}: {manifest['n']} images prepared in {out}"
          f"{' (metadata only)' if manifest['metadata_only'] else ''}; "
          f"dropped {opts.get('dropped_uncertain_or_unlabelled', 0)} unlabelled/uncertain, "
          f"{opts.get('dropped_unknown_attribute', {})} unknown attribute, "
          f"skipped {opts.get('skipped_images', 0)} unreadable images")
    print(format_counts(manifest["counts"], manifest["attributes"]))
    return 0
