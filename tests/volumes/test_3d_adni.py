"""ADNI adapter on an IDA-style collection: CSV + ADNI/<Subject>/<Description>/<date>/I<id>/."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.data.adapters import adni
from fairmedia.data.prepared import load_prepared
from fairmedia.errors import UserError

# (Image Data ID, Subject, Group, Sex, Age): 8 subjects, some with two visits; MCI to be dropped.
ROWS = [
    ("I1001", "002_S_0295", "CN", "M", 85), ("I1002", "002_S_0295", "CN", "M", 86),
    ("I1003", "002_S_0413", "AD", "F", 76), ("I1004", "002_S_0413", "AD", "F", 77),
    ("I1005", "002_S_0619", "MCI", "M", 78),
    ("1006", "002_S_0685", "AD", "F", 75),  # older CSVs drop the "I"
    ("I1007", "002_S_0729", "CN", "F", 70), ("I1008", "002_S_0816", "AD", "M", 72),
    ("I1009", "002_S_0938", "CN", "M", 64), ("I1010", "002_S_0954", "MCI", "F", 80),
    ("I1011", "002_S_0954", "MCI", "F", 81),
]
SPACING = (2.0, 1.0, 1.0)


def _collection(tmp_path, writers, rows=ROWS, drop_column=None):
    root = tmp_path / "raw"
    table = pd.DataFrame(rows, columns=["Image Data ID", "Subject", "Group", "Sex", "Age"])
    table["Visit"], table["Modality"], table["Description"] = "sc", "MRI", "MPR; GradWarp; N3"
    if drop_column:
        table = table.drop(columns=[drop_column])
    root.mkdir()
    table.to_csv(root / "ADNI1_Screening_1.5T_7_02_2022.csv", index=False)
    for k, (image_id, subject, *_rest) in enumerate(rows):
        image_id = image_id if image_id.startswith("I") else "I" + image_id
        folder = root / "ADNI" / subject / "MPR__GradWarp__N3" / "2006-04-18_08_20_30.0" / image_id
        vol = writers["phantom"]((8, 16, 16), 200.0 + k, seed=k)
        if k == 2:  # one scan downloaded as DICOM instead of NIfTI
            writers["dicom"](folder, np.rint(vol), SPACING)
        else:
            name = f"ADNI_{subject}_MR_MPR_Br_2007_S1_{image_id}.nii"
            writers["nifti"](folder / name, np.rint(vol), SPACING)
    return root


def test_adni_groups_labels_split_and_volumes(tmp_path, volume_writers):
    root = _collection(tmp_path, volume_writers)
    card = volume_writers["card"]("adni-1.5t", spacing=[4.0, 4.0, 4.0], size=[4, 4, 4])
    out = adni.prepare(root, tmp_path / "out", card=card, workers=1, seed=3)
    p = load_prepared(out)
    meta = p.metadata.set_index("sample_id")
    # MCI (3 images) dropped; AD → 1, CN → 0; the ID without "I" normalised.
    assert len(meta) == 8 and "I1005" not in meta.index and "I1006" in meta.index
    assert meta.loc[["I1003", "I1004", "I1006", "I1008"], "y"].tolist() == [1, 1, 1, 1]
    assert meta.loc[["I1001", "I1002", "I1007", "I1009"], "y"].tolist() == [0, 0, 0, 0]
    # age > 75: 75 stays in the younger group.
    assert meta.loc["I1006", "age_group"] == "0-75" and meta.loc["I1003", "age_group"] == "76+"
    assert meta["sex"].value_counts().to_dict() == {"M": 4, "F": 4}
    assert (p.metadata.groupby("patient_id")["split"].nunique() == 1).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["image_shape"] == [1, 4, 4, 4] and manifest["options"]["skipped_images"] == 0
    assert manifest["options"]["dropped_uncertain_or_unlabelled"] == 3
    counts = manifest["counts"]
    assert sum(counts[s]["age_group"].get("76+", {}).get(y, 0)
               for s in counts for y in ("0", "1")) == 4
    # The DICOM series and the NIfTI files decode to the same orientation: the D gradient and the
    # cube land in the same voxels (values differ only by the per-volume offset and noise).
    dicom_row, nifti_row = p.images[meta.index.get_loc("I1003")], p.images[meta.index.get_loc("I1004")]
    assert np.abs(dicom_row.astype(int) - nifti_row.astype(int)).max() <= 8


def test_adni_metadata_only_and_fingerprint_reuse(tmp_path, volume_writers, capsys):
    root = _collection(tmp_path, volume_writers)
    card = volume_writers["card"]("adni-1.5t", spacing=[4.0, 4.0, 4.0], size=[4, 4, 4])
    out = adni.prepare(root, tmp_path / "out", card=card, metadata_only=True)
    assert not (out / "images.npy").exists()
    assert load_prepared(out, need_images=False).metadata["y"].sum() == 4
    adni.prepare(root, tmp_path / "out", card=card, metadata_only=True)
    assert "nothing to do" in capsys.readouterr().out


def test_adni_missing_csv_column_and_group_are_clear_errors(tmp_path, volume_writers):
    card = volume_writers["card"]("adni-1.5t", size=[4, 4, 4])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"expected a file matching '\*1\.5T\*\.csv'"):
        adni.prepare(tmp_path / "empty", tmp_path / "o1", card=card)
    root = _collection(tmp_path, volume_writers, drop_column="Sex")
    with pytest.raises(UserError, match=r"missing column\(s\) \['Sex'\]"):
        adni.prepare(root, tmp_path / "o2", card=card, metadata_only=True)


def test_adni_unknown_group_names_its_row(tmp_path, volume_writers):
    rows = ROWS[:3] + [("I2000", "099_S_0001", "Dementia", "F", 70)]
    root = _collection(tmp_path, volume_writers, rows=rows)
    card = volume_writers["card"]("adni-1.5t", size=[4, 4, 4])
    with pytest.raises(UserError, match=r"row 4 of column 'Group' holds 'Dementia'"):
        adni.prepare(root, tmp_path / "o", card=card, metadata_only=True)


def test_adni_missing_volume_is_skipped_and_listed(tmp_path, volume_writers):
    root = _collection(tmp_path, volume_writers)
    missing = next(root.glob("ADNI/002_S_0729/*/*/I1007"))
    for f in missing.iterdir():
        f.unlink()
    card = volume_writers["card"]("adni-3t", spacing=[4.0, 4.0, 4.0], size=[4, 4, 4])
    card["files"]["collection.csv"]["candidates"] = ["*.csv"]
    out = adni.prepare(root, tmp_path / "out", card=card, workers=1)
    skipped = pd.read_csv(out / "skipped_images.csv")
    assert skipped["path"].str.contains("I1007").tolist() == [True]
    assert "I1007" not in load_prepared(out).metadata["sample_id"].tolist()
