"""MIMIC-CXR-JPG 2.x (Johnson et al., 2019): the metadata, CheXpert-labeler and split CSVs, with
sex, age and race from MIMIC-IV ``patients`` and ``admissions``. See ``datasets/mimic-cxr.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from fairmedia.data.adapters._attribute_rules import parse_numbers
from fairmedia.data.adapters._common import (
    finish,
    hash_sources,
    locate,
    read_table,
    require_columns,
    uncertain_label,
)
from fairmedia.errors import UserError

OFFICIAL = {"train": "train", "validate": "val", "test": "test"}


def subject_race(admissions: pd.DataFrame, column: str, unknown: list[str], conflict: str) -> pd.Series:
    """One race per subject: the only known value across admissions; subjects whose admissions
    disagree get ``unknown`` (``conflict: unknown``) or their latest admission's value."""
    folded = {u.casefold() for u in unknown}
    known = admissions[~admissions[column].astype(str).str.strip().str.casefold().isin(folded)
                       & admissions[column].notna()]
    if conflict == "most_recent":
        return known.sort_values("admittime").groupby("subject_id")[column].last()
    if conflict != "unknown":
        raise UserError(f"mimic-cxr: race_conflict must be unknown or most_recent, got {conflict!r}")
    values = known.groupby("subject_id")[column].agg(lambda s: s.iloc[0] if s.nunique() == 1 else None)
    return values.dropna()


def prepare(root: Path, out: Path, *, card: dict[str, Any], metadata_only: bool = False,
            workers: int = 2, seed: int | None = None) -> Path:
    files = {k: locate(root, card, k) for k in ("metadata", "chexpert", "split", "patients", "admissions")}
    meta = read_table(files["metadata"], card, "metadata")
    labels = read_table(files["chexpert"], card, "chexpert")
    split = read_table(files["split"], card, "split")
    patients = read_table(files["patients"], card, "patients")
    admissions = read_table(files["admissions"], card, "admissions")
    race_col = next((c for c in ("race", "ethnicity") if c in admissions.columns), None)
    require_columns(admissions, [race_col or "race"], files["admissions"])

    label = card["label"]
    labels["y"] = uncertain_label(labels[label["column"]], label["uncertain_policy"],
                                  str(files["chexpert"]), label["column"])
    df = meta.merge(split[["dicom_id", "split"]], on="dicom_id", how="left", validate="one_to_one")
    df = df.merge(labels[["subject_id", "study_id", "y"]], on=["subject_id", "study_id"], how="left")
    demographics = patients[["subject_id", "gender", "anchor_age", "anchor_year"]]
    df = df.merge(demographics, on="subject_id", how="left")
    if df["split"].isna().any():
        row = int(df["split"].isna().to_numpy().argmax())
        raise UserError(f"{files['split']}: dicom_id {df['dicom_id'].iloc[row]!r} has no split row")
    views = card.get("views")
    if views:
        df = df[df["ViewPosition"].isin(views)].reset_index(drop=True)
    study_year = parse_numbers(df["StudyDate"], str(files["metadata"]), "StudyDate") // 10000
    anchor_age = parse_numbers(df["anchor_age"], str(files["patients"]), "anchor_age")
    anchor_year = parse_numbers(df["anchor_year"], str(files["patients"]), "anchor_year")
    race_rule = card["attribute_rules"]["race"]
    race = subject_race(admissions, race_col, race_rule.get("unknown_values", []),
                        card.get("race_conflict", "unknown"))
    subject, study = df["subject_id"].astype(str), df["study_id"].astype(str)
    raw = pd.DataFrame({
        "sample_id": df["dicom_id"].astype(str), "patient_id": subject,
        "path": "files/p" + subject.str[:2] + "/p" + subject + "/s" + study + "/"
        + df["dicom_id"].astype(str) + ".jpg",
        "y": df["y"], "official_split": df["split"].map(OFFICIAL),
        "gender": df["gender"], "age_at_study": anchor_age + (study_year - anchor_year),
        "race_mimic_iv": df["subject_id"].map(race), "view": df["ViewPosition"],
    })
    if raw["official_split"].isna().any():
        row = int(raw["official_split"].isna().to_numpy().argmax())
        raise UserError(f"{files['split']}: split {df['split'].iloc[row]!r} is not train, validate or test")
    return finish(raw, root, out, card=card, sources=hash_sources(root, list(files.values())),
                  metadata_only=metadata_only, workers=workers, seed=seed)
