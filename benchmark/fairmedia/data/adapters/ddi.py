"""Diverse Dermatology Images (Daneshjou et al., Science Advances 2022): ``ddi_metadata.csv``
(skin tone in three Fitzpatrick bins: 12, 34, 56) and the PNG images. No patient identifiers are
released, so each image is its own unit for the split. See ``datasets/ddi.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._common import finish, hash_sources, image_paths, locate, read_table
from fairmedia.errors import UserError

KEY = "ddi_metadata.csv"
TRUTH = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    path = locate(root, card, KEY)
    table = read_table(path, card, KEY)
    y = table["malignant"].astype(str).str.strip().str.casefold().map(TRUTH)
    if y.isna().any():
        row = int(y.isna().to_numpy().argmax())
        raise UserError(f"{path}: row {row + 1} has malignant {table['malignant'].iloc[row]!r}; "
                        "expected True or False")
    ids = table["DDI_ID"].astype(str)
    raw = pd.DataFrame({
        "sample_id": ids, "patient_id": ids,
        "path": image_paths(root, table["DDI_file"].astype(str), card["image_dirs"], metadata_only),
        "y": y, "disease": table["disease"], "skin_tone_raw": table["skin_tone"].astype(str),
    })
    return finish(raw, root, out, card=card, sources=hash_sources(root, [path]),
                  metadata_only=metadata_only, workers=workers, seed=seed)
