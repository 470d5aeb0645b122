"""ISIC 2020 challenge training set (Rotemberg et al., Scientific Data 2021): the ground-truth CSV
and the JPEG images. See ``datasets/isic2020.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._attribute_rules import parse_numbers
from fairmedia.data.adapters._common import finish, hash_sources, image_paths, locate, read_table
from fairmedia.errors import UserError

KEY = "ISIC_2020_Training_GroundTruth.csv"


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    path = locate(root, card, KEY)
    table = read_table(path, card, KEY)
    target = parse_numbers(table["target"], str(path), "target")
    bad = ~target.isin([0.0, 1.0])
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise UserError(f"{path}: row {row + 1} has target {table['target'].iloc[row]!r}; expected 0 or 1")
    names = table["image_name"].astype(str) + ".jpg"
    raw = pd.DataFrame({
        "sample_id": table["image_name"].astype(str), "patient_id": table["patient_id"].astype(str),
        "path": image_paths(root, names, card["image_dirs"], metadata_only), "y": target,
        "sex_raw": table["sex"], "age_raw": table["age_approx"],
        "site": table["anatom_site_general_challenge"], "diagnosis": table["diagnosis"],
    })
    return finish(raw, root, out, card=card, sources=hash_sources(root, [path]),
                  metadata_only=metadata_only, workers=workers, seed=seed)
