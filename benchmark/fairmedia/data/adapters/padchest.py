"""PadChest (Bustos et al., Medical Image Analysis 2020): the labels CSV of the 160K release,
images at ``<ImageDir>/<ImageID>`` (16-bit PNG). See ``datasets/padchest.yaml``."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia.data.adapters._attribute_rules import parse_numbers
from fairmedia.data.adapters._common import finish, hash_sources, locate, read_table
from fairmedia.errors import UserError

KEY = "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv"


def _label_lists(values: pd.Series, source: Path) -> pd.Series:
    """The ``Labels`` column holds Python-style lists (``['normal']``); blank means unlabelled."""
    def parse(row: int, text: object) -> list[str] | None:
        if pd.isna(text):
            return None
        try:
            parsed = ast.literal_eval(str(text))
        except (ValueError, SyntaxError):
            parsed = None
        if not isinstance(parsed, list):
            raise UserError(f"{source}: row {row + 1} has Labels {text!r}; expected a list like ['normal']")
        return [str(s).strip() for s in parsed]
    return pd.Series([parse(i, t) for i, t in enumerate(values)], index=values.index, dtype=object)


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    path = locate(root, card, KEY)
    table = read_table(path, card, KEY)
    views = card.get("views")
    if views:
        table = table[table["Projection"].isin(views)].reset_index(drop=True)
    finding = card["label"]["finding"]
    labels = _label_lists(table["Labels"], path)
    y = labels.map(lambda ls: np.nan if ls is None else float(finding in ls))
    birth = parse_numbers(table["PatientBirth"], str(path), "PatientBirth")
    study = parse_numbers(table["StudyDate_DICOM"], str(path), "StudyDate_DICOM")
    image_dir = table["ImageDir"].astype(str).str.replace(r"\.0$", "", regex=True)
    raw = pd.DataFrame({
        "sample_id": table["ImageID"].astype(str), "patient_id": table["PatientID"].astype(str),
        "path": image_dir + "/" + table["ImageID"].astype(str), "y": y,
        "PatientSex_DICOM": table["PatientSex_DICOM"], "age_at_study": (study // 10000) - birth,
        "view": table["Projection"],
    })
    return finish(raw, root, out, card=card, sources=hash_sources(root, [path]),
                  metadata_only=metadata_only, workers=workers, seed=seed)
