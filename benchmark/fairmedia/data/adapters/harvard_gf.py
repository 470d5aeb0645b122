"""Harvard-GF (Luo et al., IEEE TMI 2024): ``data_summary.csv`` (one row per patient: file name,
official split in ``use``, age, gender, race coded 0/1/2, glaucoma) and one ``data_XXXX.npz``
per patient holding the OCT B-scans (``oct_bscans``). See ``datasets/harvard-gf.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia.data.adapters._common import hash_sources, image_paths, locate, read_table
from fairmedia.data.adapters._volume_prepare import category_label, finish_volumes
from fairmedia.errors import UserError

SPLIT_NAMES = {"training": "train", "train": "train", "validation": "val", "val": "val",
               "test": "test", "testing": "test"}


def codes_as_text(values: pd.Series) -> pd.Series:
    """Numeric codes as "0", "1", "2" (a column with blanks is read as floats: 1.0 → "1")."""
    numeric = pd.to_numeric(values, errors="coerce")
    whole = numeric.notna() & np.isclose(numeric.fillna(0) % 1, 0)
    text = values.astype("string").str.strip()
    return text.mask(whole, numeric.where(whole).astype("Int64").astype("string"))


def read_raw(root: Path, card: dict[str, Any], metadata_only: bool) -> tuple[pd.DataFrame, Path]:
    path = locate(root, card, "data_summary.csv")
    t = read_table(path, card, "data_summary.csv")
    names = t["filename"].astype(str).str.strip()
    names = names.where(names.str.lower().str.endswith(".npz"), names + ".npz")
    use = t["use"].astype(str).str.strip().str.lower()
    bad = ~use.isin(list(SPLIT_NAMES))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(f"{path}: row {row + 1} of column 'use' holds {t['use'].iloc[row]!r}; "
                        "expected training, validation or test")
    stem = names.str.removesuffix(".npz")
    raw = pd.DataFrame({
        "sample_id": stem, "patient_id": stem,  # one volume per patient in Harvard-GF
        "path": image_paths(root, names, card.get("image_dirs", [""]), metadata_only),
        "official_split": use.map(SPLIT_NAMES),
        "y": category_label(codes_as_text(t["glaucoma"]), card["label"], str(path)),
        "race_code": codes_as_text(t["race"]), "gender": codes_as_text(t["gender"]), "age": t["age"],
    })
    return raw, path


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    raw, path = read_raw(root, card, metadata_only)
    return finish_volumes(raw, root, out, card=card, sources=hash_sources(root, [path]),
                          metadata_only=metadata_only, workers=workers, seed=seed)
