"""``fairmedia describe NAME --root RAW`` or ``--prepared DIR``: counts and label prevalence per
group of each attribute, from the raw metadata (nothing is written) or from a prepared folder."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from fairmedia.errors import UserError

NAME = "describe"
HELP = "counts and prevalence per group for a dataset's metadata (raw copy or prepared folder)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="dataset card name (needed with --root)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--root", help="local copy of the dataset (read metadata only; no images)")
    src.add_argument("--prepared", help="a prepared folder (metadata.parquet + manifest.json)")
    p.add_argument("--card", default=None, help="an edited copy of the card to use with --root")
    p.add_argument("--seed", type=int, default=None, help="split seed (default: the card's)")


def group_table(metadata: pd.DataFrame, attributes: list[str]) -> pd.DataFrame:
    """One row per attribute × group × split (plus ``all``): n, positives, prevalence, share."""
    rows = []
    for attr in attributes:
        for split, part in [("all", metadata), *metadata.groupby("split", sort=True)]:
            for group, g in part.groupby(part[attr].astype(str), sort=True):
                rows.append({"attribute": attr, "group": group, "split": split, "n": len(g),
                             "n_pos": int(g["y"].sum()), "prevalence": float(g["y"].mean()),
                             "share": len(g) / len(part)})
    return pd.DataFrame(rows)


def run(args: argparse.Namespace) -> int:
    from fairmedia.data.prepared import load_prepared

    if args.root:
        if not args.name:
            raise UserError("describe --root needs the dataset name, "
                            "e.g. fairmedia describe chexpert --root DIR")
        from fairmedia.commands.prepare import resolve_card
        from fairmedia.data.adapters import get_adapter

        card = resolve_card(args.name, args.card)
        root = Path(args.root)
        if not root.is_dir():
            raise UserError(f"--root {root}: no such folder (expected the local copy of {args.name})")
        with tempfile.TemporaryDirectory(prefix="fairmedia-describe-") as tmp:
            get_adapter(card.get("adapter", args.name)).prepare(root, Path(tmp), card=card,
                                                                metadata_only=True, seed=args.seed)
            prepared = load_prepared(tmp, need_images=False)
    else:
        prepared = load_prepared(args.prepared, need_images=False)
    meta = prepared.metadata
    print(f"{prepared.manifest.get('dataset')}: {len(meta)} images, {meta['patient_id'].nunique()} "
          f"patients, prevalence {meta['y'].mean():.3f}")
    table = group_table(meta, prepared.attributes)
    with pd.option_context("display.max_rows", None, "display.width", 120):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0
