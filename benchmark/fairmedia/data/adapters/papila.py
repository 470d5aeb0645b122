"""PAPILA (Kovalyk et al., Scientific Data 2022): one clinical Excel file per eye
(``patient_data_od.xlsx``, ``patient_data_os.xlsx``) with a two-row header, and fundus images
``FundusImages/RET<NNN><OD|OS>.jpg``. See ``datasets/papila.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia.data.adapters._attribute_rules import parse_numbers
from fairmedia.data.adapters._common import finish, hash_sources, locate, require_columns
from fairmedia.errors import UserError


def read_two_row_header(path: Path, columns: list[str]) -> pd.DataFrame:
    """The files' first two rows are the header: row 1 names a column or a group of columns
    (e.g. "IOP" over "Pneumatic"/"Perkins"), row 2 names sub-columns. A column's name is its
    row-2 cell, or its row-1 cell when row 2 is blank."""
    try:
        sheet = pd.read_excel(path, header=None)
    except (ValueError, OSError) as err:
        raise UserError(f"{path}: could not be read as an Excel file: {err}") from None
    if len(sheet) < 2:
        raise UserError(f"{path}: expected a two-row header, found {len(sheet)} row(s)")
    top, sub = sheet.iloc[0], sheet.iloc[1]
    names = [str(s).strip() if pd.notna(s) else str(t).strip() for t, s in zip(top, sub)]
    body = sheet.iloc[2:].reset_index(drop=True)
    body.columns = names
    body = body.dropna(how="all").reset_index(drop=True)
    return require_columns(body, columns, path)


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    label = card["label"]
    parts, files = [], []
    for eye, key in (("OD", "patient_data_od.xlsx"), ("OS", "patient_data_os.xlsx")):
        path = locate(root, card, key)
        files.append(path)
        t = read_two_row_header(path, card["files"][key]["columns"])
        number = t["ID"].astype(str).str.extract(r"(\d+)", expand=False)
        if number.isna().any():
            row = int(number.isna().to_numpy().argmax())
            raise UserError(f"{path}: data row {row + 1} has ID {t['ID'].iloc[row]!r}; expected like #002")
        diagnosis = parse_numbers(t["Diagnosis"], str(path), "Diagnosis")
        bad = ~diagnosis.isin([0.0, 1.0, 2.0])
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise UserError(f"{path}: data row {row + 1} has Diagnosis {t['Diagnosis'].iloc[row]!r}; "
                            "expected 0 (healthy), 1 (glaucoma) or 2 (suspect)")
        y = (diagnosis == 1.0).astype(float)
        y[diagnosis == 2.0] = {"drop": np.nan, "positive": 1.0, "negative": 0.0}[label["suspect_policy"]]
        pid = number.astype(int).map(lambda n: f"{n:03d}")
        parts.append(pd.DataFrame({
            "sample_id": "RET" + pid + eye, "patient_id": pid, "eye": eye,
            "path": card.get("image_dir", "FundusImages") + "/RET" + pid + eye + ".jpg",
            "y": y, "diagnosis": diagnosis,
            "Gender": t["Gender"].astype(str).str.replace(".0", "", regex=False),
            "Age": t["Age"],
        }))
    raw = pd.concat(parts, ignore_index=True)
    return finish(raw, root, out, card=card, sources=hash_sources(root, files),
                  metadata_only=metadata_only, workers=workers, seed=seed)
