"""NIH ChestX-ray14 (Wang et al., CVPR 2017): ``Data_Entry_2017_v2020.csv`` and the official
patient-wise ``train_val_list.txt`` / ``test_list.txt``. See ``datasets/nih-cxr14.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._common import finish, hash_sources, image_paths, locate, read_table
from fairmedia.errors import UserError


def _read_list(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    entry = locate(root, card, "Data_Entry_2017_v2020.csv")
    table = read_table(entry, card, "Data_Entry_2017_v2020.csv")
    train_list = locate(root, card, "train_val_list.txt")
    test_list = locate(root, card, "test_list.txt")
    test_names, dev_names = _read_list(test_list), _read_list(train_list)
    names = table["Image Index"].astype(str)
    unlisted = ~names.isin(test_names | dev_names)
    if unlisted.any():
        row = int(unlisted.to_numpy().argmax())
        raise UserError(f"{entry}: row {row + 1} image {names.iloc[row]!r} is in neither "
                        f"{train_list.name} nor {test_list.name}")
    finding = card["label"]["finding"]
    labels = table["Finding Labels"].astype(str).str.split("|")
    paths = image_paths(root, names, card.get("image_dirs", ["images"]), metadata_only)
    raw = pd.DataFrame({
        "sample_id": names, "patient_id": table["Patient ID"].astype(str), "path": paths,
        "y": labels.map(lambda ls: float(finding in ls)),
        "official_split": names.isin(test_names).map({True: "test", False: "train"}),
        "Patient Gender": table["Patient Gender"], "Patient Age": table["Patient Age"],
        "view": table["View Position"], "follow_up": table["Follow-up #"],
    })
    views = card.get("views")
    if views:
        raw = raw[raw["view"].isin(views)].reset_index(drop=True)
    return finish(raw, root, out, card=card, sources=hash_sources(root, [entry, train_list, test_list]),
                  metadata_only=metadata_only, workers=workers, seed=seed)
