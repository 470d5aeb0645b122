"""ADNI structural MRI (Alzheimer's Disease Neuroimaging Initiative) from an IDA image collection:
the collection's CSV (``Image Data ID, Subject, Group, Sex, Age, ...``) and the downloaded
images, NIfTI files or DICOM series in ``ADNI/<Subject>/<Description>/<date>/I<id>/``. The 1.5T
and 3T collections are separate datasets (``datasets/adni-1.5t.yaml``, ``adni-3t.yaml``), as in
MEDFAIR (Zong et al., ICLR 2023): AD vs CN, MCI dropped, age split at 75.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._common import hash_sources, read_table
from fairmedia.data.adapters._volume_io import NIFTI_SUFFIXES
from fairmedia.data.adapters._volume_prepare import category_label, finish_volumes, locate_glob

IMAGE_ID = re.compile(r"I\d+", re.IGNORECASE)
NIFTI_ID = re.compile(r"_(I\d+)\.nii(\.gz)?$", re.IGNORECASE)


def normalise_image_id(value: Any) -> str:
    """IDA writes ``I45108`` in newer CSVs and ``45108`` in older ones."""
    text = str(value).strip()
    return text.upper() if text[:1].upper() == "I" else f"I{text}"


def index_images(root: Path) -> dict[str, str]:
    """Image Data ID → path relative to ``root``: a NIfTI file named ``..._I<id>.nii[.gz]`` or
    lying in a folder ``I<id>``, else a folder ``I<id>`` of DICOM slices. One walk of the tree."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        folder = Path(dirpath)
        folder_id = folder.name.upper() if IMAGE_ID.fullmatch(folder.name) else None
        for f in sorted(filenames):
            if f.lower().endswith(NIFTI_SUFFIXES):
                m = NIFTI_ID.search(f)
                key = m.group(1).upper() if m else folder_id
                if key:
                    found.setdefault(key, (folder / f).relative_to(root).as_posix())
        if folder_id and folder_id not in found and any(f.lower().endswith(".dcm") for f in filenames):
            found[folder_id] = folder.relative_to(root).as_posix()
    return found


def read_raw(root: Path, card: dict[str, Any], metadata_only: bool) -> tuple[pd.DataFrame, Path]:
    path = locate_glob(root, card, "collection.csv")
    t = read_table(path, card, "collection.csv")
    ids = t["Image Data ID"].map(normalise_image_id)
    index = {} if metadata_only else index_images(root)
    raw = pd.DataFrame({
        "sample_id": ids,
        "patient_id": t["Subject"].astype(str).str.strip(),
        # An image missing from the download points at its expected folder, so decoding lists it
        # in skipped_images.csv instead of failing the whole prepare.
        "path": [index.get(i, f"ADNI/{s}/{i}") for i, s in zip(ids, t["Subject"].astype(str))],
        "y": category_label(t["Group"], card["label"], str(path)),
        "group": t["Group"].astype(str).str.strip(),
        "Sex": t["Sex"], "Age": t["Age"],
    })
    for extra in ("Visit", "Description"):
        if extra in t.columns:
            raw[extra.lower()] = t[extra].astype(str)
    return raw, path


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    raw, path = read_raw(root, card, metadata_only)
    duplicated = int(raw["sample_id"].duplicated().sum())
    raw = raw.drop_duplicates("sample_id").reset_index(drop=True)
    return finish_volumes(raw, root, out, card=card, sources=hash_sources(root, [path]),
                          metadata_only=metadata_only, workers=workers, seed=seed,
                          notes={"dropped_duplicate_image_ids": duplicated})
