"""Duke SD-OCT AMD study (Farsiu et al., Ophthalmology 2014): one MATLAB file per subject,
``AMD/Farsiu_Ophthalmology_2013_AMD_Subject_1001.mat`` and ``Control/..._Control_Subject_...``,
each holding the volume (``images``) and the subject's ``Age``. See ``datasets/oct-duke.yaml``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._volume_io import read_mat_scalar
from fairmedia.data.adapters._volume_prepare import category_label, finish_volumes
from fairmedia.errors import UserError

SUBJECT = re.compile(r"(AMD|Control)_Subject_(\d+)", re.IGNORECASE)

def read_raw(root: Path, card: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, str]]:
    rows, sources = [], {}
    age_key = card.get("age_variable", "Age")
    for label_value, folder in card.get("class_dirs", {"AMD": "AMD", "Control": "Control"}).items():
        class_dir = root / folder
        if not class_dir.is_dir():
            raise UserError(f"{card['name']}: expected folder {folder!r} of .mat volumes under {root}")
        files = sorted(class_dir.glob("*.mat"))
        if not files:
            raise UserError(f"{card['name']}: folder {class_dir} holds no .mat files")
        for f in files:
            try:
                age = read_mat_scalar(f, age_key)
            except ValueError as err:
                raise UserError(f"{err} (every volume's file must record the subject's {age_key})") from None
            m = SUBJECT.search(f.stem)
            subject = f"{m.group(1)}_{m.group(2)}" if m else f.stem
            rel = f.relative_to(root).as_posix()
            # Hashing 50 MB volumes would dominate a metadata-only prepare: size + mtime
            # identify a file's version well enough for the manifest's fingerprint.
            stat = f.stat()
            sources[rel] = f"size={stat.st_size};mtime={int(stat.st_mtime)}"
            rows.append({"sample_id": f.stem, "patient_id": subject, "path": rel,
                         "class_dir": label_value, "Age": age})
    raw = pd.DataFrame(rows)
    raw["y"] = category_label(raw["class_dir"], card["label"], f"{card['name']} folders")
    return raw, sources


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    raw, sources = read_raw(root, card)
    return finish_volumes(raw, root, out, card=card, sources=sources, metadata_only=metadata_only,
                          workers=workers, seed=seed)
