"""ODIR-5K (Peking University International Competition on Ocular Disease Intelligent
Recognition, 2019): the training annotation workbook (one row per patient, both eyes) and the
fundus images ``<ID>_left.jpg`` / ``<ID>_right.jpg``. One image per eye; the label comes from that
eye's diagnostic keywords. See ``datasets/odir5k.yaml``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._common import finish, hash_sources, image_paths, locate, read_table
from fairmedia.errors import UserError

KEY = "annotations"


def keyword_sets(values: pd.Series, path: Path, column: str) -> pd.Series:
    """Keywords are separated by a comma, full-width (，) in the original workbook."""
    def split(row: int, text: object) -> set[str]:
        if pd.isna(text) or not str(text).strip():
            raise UserError(f"{path}: row {row + 1} has a blank {column!r}; expected diagnostic keywords")
        return {k.strip().casefold() for k in re.split(r"[,，]", str(text)) if k.strip()}
    return pd.Series([split(i, t) for i, t in enumerate(values)], index=values.index, dtype=object)


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    path = locate(root, card, KEY)
    table = read_table(path, card, KEY)
    normal = card["label"]["keyword"].casefold()
    parts = []
    for side, prefix in (("left", "Left"), ("right", "Right")):
        words = keyword_sets(table[f"{prefix}-Diagnostic Keywords"], path, f"{prefix}-Diagnostic Keywords")
        names = table[f"{prefix}-Fundus"].astype(str)
        parts.append(pd.DataFrame({
            "sample_id": names.str.replace(r"\.\w+$", "", regex=True),
            "patient_id": table["ID"].astype(str), "eye": side,
            "path": image_paths(root, names, card["image_dirs"], metadata_only),
            "y": words.map(lambda w: float(normal in w)),
            "keywords": words.map(lambda w: "; ".join(sorted(w))),
            "Patient Sex": table["Patient Sex"], "Patient Age": table["Patient Age"],
        }))
    raw = pd.concat(parts, ignore_index=True)
    return finish(raw, root, out, card=card, sources=hash_sources(root, [path]),
                  metadata_only=metadata_only, workers=workers, seed=seed)
