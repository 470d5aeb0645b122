"""HAM10000 (Tschandl et al., Scientific Data 2018): ``HAM10000_metadata.csv`` and the two image
folders. No patient identifiers exist, so the lesion is the grouping unit for the split (all
images of a lesion stay together). See ``datasets/ham10000.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._common import finish, hash_sources, image_paths, locate, read_table
from fairmedia.errors import UserError

KEY = "HAM10000_metadata.csv"


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    path = locate(root, card, KEY)
    table = read_table(path, card, KEY)
    label = card["label"]
    known = set(label["positive"]) | set(label["negative"])
    dx = table["dx"].astype(str).str.strip()
    bad = ~dx.isin(known)
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise UserError(f"{path}: row {row + 1} has dx {table['dx'].iloc[row]!r}; "
                        f"expected one of {sorted(known)}")
    names = table["image_id"].astype(str) + ".jpg"
    raw = pd.DataFrame({
        "sample_id": table["image_id"].astype(str), "patient_id": table["lesion_id"].astype(str),
        "path": image_paths(root, names, card["image_dirs"], metadata_only),
        "y": dx.isin(label["positive"]).astype(float), "dx": dx,
        "sex_raw": table["sex"], "age_raw": table["age"], "localization": table["localization"],
    })
    return finish(raw, root, out, card=card, sources=hash_sources(root, [path]),
                  metadata_only=metadata_only, workers=workers, seed=seed)
