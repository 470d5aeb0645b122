"""Prepare CheXpert, NIH ChestX-ray14 and PadChest from their real metadata (torchxrayvision's
copies), checking counts against pandas on the raw CSV and the real quirks."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairmedia.cli import main
from fairmedia.data.prepared import load_prepared

PADCHEST = "PADCHEST_chest_x_ray_images_labels_160K_01.02.19.csv"


def _gunzip(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)


def _check_patient_disjoint(meta: pd.DataFrame) -> None:
    assert (meta.groupby("patient_id")["split"].nunique() == 1).all()


@pytest.fixture(scope="module")
def chexpert_raw(txv_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chexpert")
    _gunzip(txv_data / "chexpert_train.csv.gz", root / "train.csv")
    return root


def test_chexpert_metadata_only_matches_raw_counts(chexpert_raw: Path, tmp_path: Path, capsys) -> None:
    assert main(["prepare", "chexpert", "--root", str(chexpert_raw), "--out", str(tmp_path),
                 "--metadata-only"]) == 0
    printed = capsys.readouterr().out
    raw = pd.read_csv(chexpert_raw / "train.csv", low_memory=False)
    ds = load_prepared(tmp_path, need_images=False)
    meta = ds.metadata
    # Quirk: exactly one image has Sex "Unknown"; the card drops it.
    assert (raw["Sex"] == "Unknown").sum() == 1
    assert len(meta) == len(raw) - 1
    assert ds.manifest["options"]["dropped_unknown_attribute"] == {"sex": 1}
    assert ds.manifest["metadata_only"] is True
    expected_sex = raw["Sex"].map({"Male": "M", "Female": "F"}).dropna().value_counts()
    assert meta["sex"].value_counts().to_dict() == expected_sex.to_dict()
    # Blank "No Finding" is negative; prevalence equals the share of 1.0 among kept rows.
    kept = raw[raw["Sex"] != "Unknown"]
    assert meta["y"].sum() == (kept["No Finding"] == 1.0).sum()
    # Quirk: ages of 0 are missing values, grouped as "unknown", not as children.
    assert (meta["age_group"] == "unknown").sum() == (kept["Age"] == 0).sum() == 3
    assert ((kept["Age"] > 60).sum()) == (meta["age_group"] == "61+").sum()
    assert (meta["age_5"] == "80+").sum() == (kept["Age"] >= 80).sum()
    # No DEMO table: race is unknown everywhere, never merged into a real group.
    assert set(meta["race_binary"]) == {"unknown"}
    _check_patient_disjoint(meta)
    n_patients = meta["patient_id"].nunique()
    train_share = meta.loc[meta["split"] == "train", "patient_id"].nunique() / n_patients
    assert abs(train_share - 0.8) < 0.001
    counts = ds.manifest["counts"]
    assert counts["test"]["sex"]["F"]["1"] == int(((meta["split"] == "test") & (meta["sex"] == "F")
                                                   & (meta["y"] == 1)).sum())
    assert "train  F" in printed and "age_5:" in printed


def test_chexpert_race_from_demo_table_keeps_unknown(chexpert_raw: Path, tmp_path: Path) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    raw = pd.read_csv(chexpert_raw / "train.csv", low_memory=False).head(400)
    raw.to_csv(root / "train.csv", index=False)
    patients = sorted(raw["Path"].str.extract(r"(patient\d+)", expand=False).unique())
    races = ["White", "Black or African American", "Unknown", "Asian, non-Hispanic", "Patient Refused"]
    demo = pd.DataFrame({"PATIENT": patients, "GENDER": "x", "AGE_AT_CXR": 1,
                         "PRIMARY_RACE": [races[i % 5] for i in range(len(patients))], "ETHNICITY": "x"})
    demo.to_excel(root / "CHEXPERT DEMO.xlsx", index=False)
    assert main(["prepare", "chexpert", "--root", str(root), "--out", str(tmp_path / "out"),
                 "--metadata-only"]) == 0
    meta = load_prepared(tmp_path / "out", need_images=False).metadata
    by_patient = meta.groupby("patient_id")["race_binary"].first()
    expected = {p: ["White", "non-White", "unknown", "non-White", "unknown"][i % 5]
                for i, p in enumerate(patients)}
    assert by_patient.to_dict() == {p: expected[p] for p in by_patient.index}
    assert set(meta["race_group"]) == {"White", "Black", "Asian", "unknown"}


def test_chexpert_images_decoded_in_row_order(chexpert_raw: Path, tmp_path: Path, phantom) -> None:
    root = tmp_path / "raw"
    raw = pd.read_csv(chexpert_raw / "train.csv", low_memory=False).head(300)
    root.mkdir()
    raw.to_csv(root / "train.csv", index=False)
    for i, p in enumerate(raw["Path"]):
        phantom(root / p.removeprefix("CheXpert-v1.0-small/"), value=i % 251)
    card = tmp_path / "card.yaml"
    card.write_text("name: chexpert\nimage: {size: 32, channels: 1, max_bad_fraction: 0.01}\n")
    out = tmp_path / "out"
    assert main(["prepare", "chexpert", "--root", str(root), "--out", str(out), "--card", str(card),
                 "--workers", "2"]) == 0
    ds = load_prepared(out)
    assert ds.images.shape == (300, 1, 32, 32)
    expected = raw["Path"].str.removeprefix("CheXpert-v1.0-small/").map(
        {p.removeprefix("CheXpert-v1.0-small/"): i % 251 for i, p in enumerate(raw["Path"])})
    order = ds.metadata["sample_id"].map(dict(zip(raw["Path"].str.removeprefix("CheXpert-v1.0-small/"),
                                                  expected)))
    np.testing.assert_array_equal(ds.images[:, 0, 16, 16], order.to_numpy())
    assert json.loads((out / "manifest.json").read_text())["image_shape"] == [1, 32, 32]


def test_nih_official_test_list_and_counts(txv_data: Path, tmp_path: Path) -> None:
    root = tmp_path / "raw"
    _gunzip(txv_data / "Data_Entry_2017_v2020.csv.gz", root / "Data_Entry_2017_v2020.csv")
    raw = pd.read_csv(root / "Data_Entry_2017_v2020.csv")
    # Patient-wise lists in the official format (one image name per line); every 5th patient is test.
    is_test = raw["Patient ID"] % 5 == 0
    (root / "test_list.txt").write_text("\n".join(raw.loc[is_test, "Image Index"]) + "\n")
    (root / "train_val_list.txt").write_text("\n".join(raw.loc[~is_test, "Image Index"]) + "\n")
    assert main(["prepare", "nih-cxr14", "--root", str(root), "--out", str(tmp_path / "out"),
                 "--metadata-only"]) == 0
    meta = load_prepared(tmp_path / "out", need_images=False).metadata
    assert len(meta) == len(raw) == 112120
    test_ids = set(meta.loc[meta["split"] == "test", "sample_id"])
    assert test_ids == set(raw.loc[is_test, "Image Index"])
    assert meta["y"].sum() == raw["Finding Labels"].str.split("|").map(lambda s: "No Finding" in s).sum()
    assert meta["sex"].value_counts().to_dict() == {"M": 63340, "F": 48780}
    assert (meta["age_group"] == "61+").sum() == (raw["Patient Age"] > 60).sum()
    _check_patient_disjoint(meta)
    dev = meta[meta["split"] != "test"]
    val_share = dev.loc[dev["split"] == "val", "patient_id"].nunique() / dev["patient_id"].nunique()
    assert abs(val_share - 0.1) < 0.001


def test_padchest_quirks(txv_data: Path, tmp_path: Path) -> None:
    root = tmp_path / "raw"
    root.mkdir()
    shutil.copy(txv_data / f"{PADCHEST}.gz", root / f"{PADCHEST}.gz")
    assert main(["prepare", "padchest", "--root", str(root), "--out", str(tmp_path / "out"),
                 "--metadata-only"]) == 0
    ds = load_prepared(tmp_path / "out", need_images=False)
    meta = ds.metadata
    raw = pd.read_csv(root / f"{PADCHEST}.gz", low_memory=False,
                      usecols=["ImageID", "PatientSex_DICOM", "Projection", "Labels", "PatientBirth",
                               "StudyDate_DICOM"])
    kept = raw[raw["Projection"].isin(["PA", "L", "AP", "AP_horizontal"]) & raw["Labels"].notna()]
    bad_sex = ~kept["PatientSex_DICOM"].isin(["M", "F"])
    assert len(meta) == len(kept) - bad_sex.sum()
    assert ds.manifest["options"]["dropped_unknown_attribute"]["sex"] == bad_sex.sum() > 0
    kept = kept[~bad_sex]
    # Quirk: some labels carry a leading space (' normal'); they still count as normal.
    assert meta["y"].sum() == kept["Labels"].str.contains(r"'\s*normal\s*'", regex=True).sum()
    assert meta["y"].sum() > kept["Labels"].str.contains("'normal'", regex=False).sum()
    age = kept["StudyDate_DICOM"] // 10000 - kept["PatientBirth"]
    assert (meta["age_group"] == "61+").sum() == ((age > 60) & (age <= 120)).sum()
    assert (meta["age_group"] == "unknown").sum() == (age.isna() | (age > 120) | (age < 0)).sum()
    _check_patient_disjoint(meta)
