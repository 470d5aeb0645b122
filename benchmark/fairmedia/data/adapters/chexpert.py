"""CheXpert (Irvin et al., AAAI 2019): ``train.csv`` (+ ``valid.csv``) and, when present, the
CHEXPERT DEMO table with self-reported race (Stanford AIMI). See ``datasets/chexpert.yaml``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._common import finish, hash_sources, locate, read_table, uncertain_label
from fairmedia.errors import UserError


def _patient(paths: pd.Series, source: Path) -> pd.Series:
    pid = paths.str.extract(r"(patient\d+)", expand=False)
    if pid.isna().any():
        row = int(pid.isna().to_numpy().argmax())
        raise UserError(f"{source}: row {row + 1} has Path {paths.iloc[row]!r} without a patientNNNNN folder")
    return pid


def read_raw(root: Path, card: dict[str, Any]) -> tuple[pd.DataFrame, list[Path | None]]:
    label = card["label"]
    files = [locate(root, card, "train.csv")]
    if card.get("include_valid", True):
        files.append(locate(root, card, "valid.csv", required=False))
    parts = []
    for path in [f for f in files if f is not None]:
        t = read_table(path, card, "train.csv")
        rel = t["Path"].astype(str).str.replace(card.get("strip_path_prefix", "^$"), "", regex=True)
        parts.append(pd.DataFrame({
            "sample_id": rel, "patient_id": _patient(rel, path), "path": rel,
            "y": uncertain_label(t[label["column"]], label["uncertain_policy"], str(path), label["column"]),
            "Sex": t["Sex"], "Age": t["Age"], "view": t["Frontal/Lateral"],
        }))
    raw = pd.concat(parts, ignore_index=True)
    views = card.get("views")
    if views:
        raw = raw[raw["view"].isin(views)].reset_index(drop=True)
    demo = locate(root, card, "CHEXPERT DEMO.xlsx", required=False)
    if demo is not None:
        d = read_table(demo, card, "CHEXPERT DEMO.xlsx")
        d = d.drop_duplicates("PATIENT").set_index("PATIENT")["PRIMARY_RACE"]
        raw["PRIMARY_RACE"] = raw["patient_id"].map(d)
    else:
        print(f"chexpert: no CHEXPERT DEMO table under {root}; race is unknown for every image",
              file=sys.stderr)
        raw["PRIMARY_RACE"] = pd.NA
    files.append(demo)
    return raw, files


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    raw, files = read_raw(root, card)
    return finish(raw, root, out, card=card, sources=hash_sources(root, files),
                  metadata_only=metadata_only, workers=workers, seed=seed)
