"""Fitzpatrick17k (Groh et al., CVPR Workshops 2021): ``fitzpatrick17k.csv`` and the images named by
their MD5 hash. No patient identifiers exist: each image is its own unit for the split (the card
says so). See ``datasets/fitzpatrick17k.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._common import finish, hash_sources, image_paths, locate, read_table
from fairmedia.errors import UserError

KEY = "fitzpatrick17k.csv"


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    path = locate(root, card, KEY)
    table = read_table(path, card, KEY, dtype={"md5hash": str})  # an all-digit hash is still a name
    label = card["label"]
    partition = table[label["column"]].astype(str).str.strip()
    known = set(label["positive"]) | set(label["negative"])
    bad = ~partition.isin(known)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise UserError(f"{path}: row {row + 1} has {label['column']} {table[label['column']].iloc[row]!r}; "
                        f"expected one of {sorted(known)}")
    md5 = table["md5hash"].astype(str)
    raw = pd.DataFrame({
        "sample_id": md5, "patient_id": md5,
        "path": image_paths(root, md5 + ".jpg", card["image_dirs"], metadata_only),
        "y": partition.isin(label["positive"]).astype(float), "condition": table["label"],
        "fitzpatrick_scale": table["fitzpatrick_scale"],
    })
    return finish(raw, root, out, card=card, sources=hash_sources(root, [path]),
                  metadata_only=metadata_only, workers=workers, seed=seed)
