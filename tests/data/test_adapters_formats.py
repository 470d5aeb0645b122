"""The other adapters on small files with the real column names and formats of each release."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fairmedia.cli import main
from fairmedia.data.prepared import load_prepared


def _prepare(name: str, root: Path, out: Path, *extra: str) -> pd.DataFrame:
    assert main(["prepare", name, "--root", str(root), "--out", str(out), *extra]) == 0
    meta = load_prepared(out, need_images="--metadata-only" not in extra).metadata
    assert (meta.groupby("patient_id")["split"].nunique() == 1).all()
    return meta


def test_ham10000_labels_groups_and_rgb_images(tmp_path: Path, phantom) -> None:
    dx = ["mel", "nv", "bcc", "bkl", "akiec", "df", "vasc", "nv"] * 5
    sex = ["male", "female", "unknown", "male", "female"] * 8
    age = [65.0, 30.0, None, 80.0, 45.0, 5.0, 60.0, 61.0] * 5
    table = pd.DataFrame({"lesion_id": [f"HAM_{i // 2:07d}" for i in range(40)],
                          "image_id": [f"ISIC_{i:07d}" for i in range(40)], "dx": dx,
                          "dx_type": "histo", "age": age, "sex": sex, "localization": "back"})
    table.to_csv(tmp_path / "HAM10000_metadata.csv", index=False)
    for i, img in enumerate(table["image_id"]):
        phantom(tmp_path / f"HAM10000_images_part_{1 + i % 2}" / f"{img}.jpg", 100, mode="RGB")
    meta = _prepare("ham10000", tmp_path, tmp_path / "out", "--workers", "1")
    kept = table[(table["sex"] != "unknown") & table["age"].notna()]
    assert len(meta) == len(kept)
    assert meta["y"].sum() == kept["dx"].isin(["mel", "bcc", "akiec"]).sum()
    assert (meta["age_group"] == "61+").sum() == (kept["age"] > 60).sum()
    ds = load_prepared(tmp_path / "out")
    assert ds.images.shape[1:] == (3, 256, 256) and abs(float(ds.images[:, :, 100, 100].mean()) - 100) < 3


def test_isic2020_blank_sex_dropped_and_age_unknown(tmp_path: Path) -> None:
    table = pd.DataFrame({"image_name": [f"ISIC_{i}" for i in range(12)],
                          "patient_id": [f"IP_{i // 3}" for i in range(12)],
                          "sex": ["male", "female", None] * 4, "age_approx": [45.0, None, 70.0] * 4,
                          "anatom_site_general_challenge": "torso", "diagnosis": "nevus",
                          "benign_malignant": "benign", "target": [0, 1] * 6})
    table.to_csv(tmp_path / "ISIC_2020_Training_GroundTruth.csv", index=False)
    meta = _prepare("isic2020", tmp_path, tmp_path / "out", "--metadata-only")
    assert len(meta) == 8 and set(meta["sex"]) == {"M", "F"}
    assert (meta["age_group"] == "unknown").sum() == 4


def test_fitzpatrick17k_skin_type_groups(tmp_path: Path) -> None:
    scale = [1, 2, 3, 4, 5, 6, -1, 2, 5]
    table = pd.DataFrame({"md5hash": [f"{i:032x}" for i in range(9)], "fitzpatrick_scale": scale,
                          "fitzpatrick_centaur": scale, "label": "psoriasis", "nine_partition_label": "x",
                          "three_partition_label": ["malignant", "benign", "non-neoplastic"] * 3,
                          "qc": None, "url": "u", "url_alphanum": "u"})
    table.to_csv(tmp_path / "fitzpatrick17k.csv", index=False)
    meta = _prepare("fitzpatrick17k", tmp_path, tmp_path / "out", "--metadata-only")
    assert len(meta) == 8  # -1 dropped
    assert meta.set_index("sample_id")["skin_type_group"].to_dict() == {
        f"{i:032x}": "1-3" if s <= 3 else "4-6" for i, s in enumerate(scale) if s > 0}
    assert sorted(meta["skin_type"].unique()) == ["1", "2", "3", "4", "5", "6"]
    kept = table[table["fitzpatrick_scale"] > 0]
    assert meta["y"].sum() == (kept["three_partition_label"] == "malignant").sum()


def test_ddi_bins(tmp_path: Path) -> None:
    table = pd.DataFrame({"DDI_ID": range(1, 7), "DDI_file": [f"{i:06d}.png" for i in range(1, 7)],
                          "skin_tone": [12, 34, 56, 12, 34, 56], "malignant": [True, False] * 3,
                          "disease": "x"})
    table.to_csv(tmp_path / "ddi_metadata.csv")  # the release has an unnamed index column
    meta = _prepare("ddi", tmp_path, tmp_path / "out", "--metadata-only").sort_values("sample_id")
    assert meta["skin_tone"].tolist() == ["I-II", "III-IV", "V-VI"] * 2
    assert meta["skin_type_group"].tolist() == ["I-IV", "I-IV", "V-VI"] * 2
    assert meta["y"].tolist() == [1, 0] * 3


def _papila_sheet(path: Path, rows: list[list]) -> None:
    top = ["ID", "Age", "Gender", "Diagnosis", "Refractive_Defect", None, None, "IOP", None]
    sub = [None, None, None, None, "dioptre_1", "dioptre_2", "astigmatism", "Pneumatic", "Perkins"]
    pd.DataFrame([top, sub, *rows]).to_excel(path, header=False, index=False)


def test_papila_two_row_header_and_suspects(tmp_path: Path) -> None:
    (tmp_path / "ClinicalData").mkdir()
    rows = [["#002", 39, 0, 0, 1, 1, 0, 15, 14], ["#004", 70, 1, 1, 0, 0, 0, 20, 19],
            ["#005", 63, 1, 2, 0, 0, 0, 17, 18]]
    _papila_sheet(tmp_path / "ClinicalData" / "patient_data_od.xlsx", rows)
    _papila_sheet(tmp_path / "ClinicalData" / "patient_data_os.xlsx", rows)
    meta = _prepare("papila", tmp_path, tmp_path / "out", "--metadata-only").sort_values("sample_id")
    assert meta["sample_id"].tolist() == ["RET002OD", "RET002OS", "RET004OD", "RET004OS"]
    assert meta["y"].tolist() == [0, 0, 1, 1] and meta["sex"].tolist() == ["M", "M", "F", "F"]
    assert meta["path"].iloc[0] == "FundusImages/RET002OD.jpg"


def test_odir5k_per_eye_keywords(tmp_path: Path) -> None:
    table = pd.DataFrame({"ID": [0, 1], "Patient Age": [69, 57], "Patient Sex": ["Female", "Male"],
                          "Left-Fundus": ["0_left.jpg", "1_left.jpg"],
                          "Right-Fundus": ["0_right.jpg", "1_right.jpg"],
                          "Left-Diagnostic Keywords": ["cataract", "lens dust，normal fundus"],
                          "Right-Diagnostic Keywords": ["normal fundus", "moderate retinopathy"]})
    table.to_excel(tmp_path / "ODIR-5K_Training_Annotations(Updated)_V2.xlsx", index=False)
    meta = _prepare("odir5k", tmp_path, tmp_path / "out", "--metadata-only")
    expected = {"0_left": 0, "1_left": 1, "0_right": 1, "1_right": 0}
    assert meta.set_index("sample_id")["y"].to_dict() == expected
    assert meta.set_index("sample_id")["age_group"].to_dict()["0_left"] == "61+"


def test_mimic_official_split_age_and_race(tmp_path: Path) -> None:
    meta_csv = pd.DataFrame({"dicom_id": ["d1", "d2", "d3", "d4"],
                             "subject_id": [10000032, 10000032, 11000011, 12000012],
                             "study_id": [50000001, 50000002, 50000003, 50000004],
                             "ViewPosition": ["PA", "LATERAL", "AP", "PA"],
                             "StudyDate": [21800506, 21850101, 21500101, 21200101]})
    meta_csv.to_csv(tmp_path / "mimic-cxr-2.0.0-metadata.csv.gz", index=False)
    labels = pd.DataFrame({"subject_id": meta_csv["subject_id"], "study_id": meta_csv["study_id"],
                           "No Finding": [1.0, None, -1.0, 1.0]})
    labels.to_csv(tmp_path / "mimic-cxr-2.0.0-chexpert.csv.gz", index=False)
    pd.DataFrame({"dicom_id": meta_csv["dicom_id"], "study_id": meta_csv["study_id"],
                  "subject_id": meta_csv["subject_id"], "split": ["train", "train", "validate", "test"]}
                 ).to_csv(tmp_path / "mimic-cxr-2.0.0-split.csv.gz", index=False)
    pd.DataFrame({"subject_id": [10000032, 11000011, 12000012], "gender": ["F", "M", "F"],
                  "anchor_age": [52, 30, 70], "anchor_year": [2180, 2150, 2120]}
                 ).to_csv(tmp_path / "patients.csv.gz", index=False)
    pd.DataFrame({"subject_id": [10000032, 10000032, 11000011, 11000011, 12000012],
                  "admittime": ["2180-01-01"] * 5,
                  "race": ["WHITE", "UNKNOWN", "ASIAN", "BLACK/AFRICAN AMERICAN",
                           "WHITE - OTHER EUROPEAN"]}
                 ).to_csv(tmp_path / "admissions.csv.gz", index=False)
    meta = _prepare("mimic-cxr", tmp_path, tmp_path / "out", "--metadata-only").set_index("sample_id")
    assert meta["split"].to_dict() == {"d1": "train", "d2": "train", "d3": "val", "d4": "test"}
    assert meta["age"].to_dict() == {"d1": 52.0, "d2": 57.0, "d3": 30.0, "d4": 70.0}
    assert meta["y"].to_dict() == {"d1": 1, "d2": 0, "d3": 0, "d4": 1}  # blank and -1 (U-Zeros) are 0
    # conflicting races across admissions -> unknown; "WHITE - OTHER EUROPEAN" is White
    assert meta["race_binary"].to_dict() == {"d1": "White", "d2": "White", "d3": "unknown", "d4": "White"}
    assert meta.loc["d1", "path"] == "files/p10/p10000032/s50000001/d1.jpg"
