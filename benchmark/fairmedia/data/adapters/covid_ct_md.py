"""COVID-CT-MD (Afshar et al., Scientific Data 2021): chest CT, one DICOM series per patient in
``<diagnosis> Cases/<Folder>/`` and ``Clinical-data.csv`` (``Folder, Diagnosis, Patient Age,
Patient Gender``; ages in DICOM's age format, e.g. ``039Y``). See ``datasets/covid-ct-md.yaml``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia.data.adapters._common import hash_sources, locate, read_table
from fairmedia.data.adapters._volume_prepare import category_label, finish_volumes
from fairmedia.errors import UserError

# DICOM "AS" (age string): three digits and a unit — days, weeks, months or years.
AGE_STRING = re.compile(r"^\s*(\d{1,3})\s*([DWMY]?)\s*$", re.IGNORECASE)
YEARS_PER_UNIT = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0, "": 1.0}


def parse_age_strings(values: pd.Series, source: str, column: str) -> pd.Series:
    """``039Y`` → 39.0 (``006M`` → 0.5); blanks → NaN; anything else is an error naming the row."""
    out = np.full(len(values), np.nan)
    for row, value in enumerate(values):
        if pd.isna(value) or str(value).strip() == "":
            continue
        m = AGE_STRING.match(str(value))
        if not m:
            raise UserError(f"{source}: row {row + 1} of column {column!r} holds {value!r}; "
                            "expected a DICOM age like 039Y (or a number of years)")
        out[row] = int(m.group(1)) * YEARS_PER_UNIT[m.group(2).upper()]
    return pd.Series(out, index=values.index)


def find_case_folders(root: Path, folders: pd.Series, case_dirs: list[str]) -> pd.Series:
    """Each case's DICOM folder: ``<case dir>/<Folder>`` for the first case dir holding it."""
    present: dict[str, str] = {}
    for pattern in case_dirs:
        for parent in sorted(root.glob(pattern)) if pattern not in ("", ".") else [root]:
            if parent.is_dir():
                for entry in sorted(parent.iterdir()):
                    if entry.is_dir():
                        present.setdefault(entry.name, entry.relative_to(root).as_posix())
    return folders.map(lambda f: present.get(f, f))


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    path = locate(root, card, "Clinical-data.csv")
    t = read_table(path, card, "Clinical-data.csv")
    folders = t["Folder"].astype(str).str.strip()
    case_dirs = card.get("case_dirs", ["*Cases", "*"])
    raw = pd.DataFrame({
        "sample_id": folders, "patient_id": folders,
        "path": folders if metadata_only else find_case_folders(root, folders, case_dirs),
        "y": category_label(t["Diagnosis"], card["label"], str(path)),
        "diagnosis": t["Diagnosis"].astype(str).str.strip(),
        "Patient Gender": t["Patient Gender"],
        "age_years": parse_age_strings(t["Patient Age"], str(path), "Patient Age"),
    })
    return finish_volumes(raw, root, out, card=card, sources=hash_sources(root, [path]),
                          metadata_only=metadata_only, workers=workers, seed=seed)
