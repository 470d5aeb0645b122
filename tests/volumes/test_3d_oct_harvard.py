"""Duke OCT (.mat volumes with Age in AMD/ and Control/) and Harvard-GF (data_summary.csv + npz)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairmedia.data.adapters import harvard_gf, oct_duke
from fairmedia.data.prepared import load_prepared
from fairmedia.errors import UserError

OCT = [("AMD", 1001, 75.0), ("AMD", 1002, 70.0), ("AMD", 1003, 82.0), ("Control", 1001, 64.0),
       ("Control", 1002, 71.0)]


def _oct(tmp_path, writers, ages=OCT):
    root = tmp_path / "oct"
    for cls, subject, age in ages:
        # depth × A-scans × B-scans, as in the release; the B-scan index is written into each plane
        # so the transpose to (B-scan, depth, A-scan) can be checked.
        images = np.zeros((12, 10, 4), dtype=np.uint8)
        images[:, :, :] = (np.arange(4) * 60)[None, None, :]
        path = root / cls / f"Farsiu_Ophthalmology_2013_{cls}_Subject_{subject}.mat"
        writers["mat"](path, images, age)
    return root


def test_oct_labels_age_threshold_and_bscan_axis(tmp_path, volume_writers):
    root = _oct(tmp_path, volume_writers)
    card = volume_writers["card"]("oct-duke", size=[4, 6, 5], intensity={"mode": "minmax"})
    p = load_prepared(oct_duke.prepare(root, tmp_path / "out", card=card, workers=1))
    meta = p.metadata.set_index("sample_id")
    assert meta["y"].sum() == 3 and len(meta) == 5
    assert meta["patient_id"].tolist() == ["AMD_1001", "AMD_1002", "AMD_1003", "Control_1001", "Control_1002"]
    groups = dict(zip(meta["patient_id"], meta["age_group"]))
    assert groups == {"AMD_1001": "71+", "AMD_1002": "0-70", "AMD_1003": "71+", "Control_1001": "0-70",
                      "Control_1002": "71+"}
    vol = p.images[0, 0]
    assert vol.shape == (4, 6, 5)
    # B-scans are the first axis: values rise along D and are constant within each plane.
    assert (np.diff(vol.mean(axis=(1, 2))) > 0).all() and (vol.std(axis=(1, 2)) < 1e-6).all()


def test_oct_missing_age_and_folder(tmp_path, volume_writers):
    card = volume_writers["card"]("oct-duke", size=[4, 4, 4])
    root = _oct(tmp_path, volume_writers)
    volume_writers["mat"](root / "AMD" / "Farsiu_Ophthalmology_2013_AMD_Subject_1009.mat",
                          np.zeros((4, 4, 4), np.uint8), None)
    with pytest.raises(UserError, match=r"AMD_Subject_1009\.mat: no scalar variable 'Age'"):
        oct_duke.prepare(root, tmp_path / "o1", card=card, metadata_only=True)
    (root / "AMD" / "Farsiu_Ophthalmology_2013_AMD_Subject_1009.mat").unlink()
    for f in (root / "Control").iterdir():
        f.unlink()
    (root / "Control").rmdir()
    with pytest.raises(UserError, match="expected folder 'Control'"):
        oct_duke.prepare(root, tmp_path / "o2", card=card, metadata_only=True)


def _harvard(tmp_path, n=12, drop_column=None, blank_race=False):
    root = tmp_path / "hgf"
    (root / "Training").mkdir(parents=True)
    rng = np.random.default_rng(0)
    use = ["training"] * 6 + ["validation"] * 2 + ["test"] * (n - 8)
    table = pd.DataFrame({
        "filename": [f"data_{i + 1:04d}.npz" for i in range(n)], "use": use,
        "age": rng.integers(30, 90, n), "gender": [i % 2 for i in range(n)],
        "race": [i % 3 for i in range(n)], "glaucoma": [int(i % 4 == 0) for i in range(n)],
    })
    if blank_race:
        table["race"] = table["race"].astype(float)
        table.loc[5, "race"] = np.nan  # a blank makes the column float: 1.0, 2.0, …
    if drop_column:
        table = table.drop(columns=[drop_column])
    table.to_csv(root / "data_summary.csv", index=False)
    for i in range(n):
        np.savez(root / "Training" / f"data_{i + 1:04d}.npz",
                 oct_bscans=rng.integers(0, 255, (8, 8, 8), dtype=np.uint8), glaucoma=np.array(0))
    return root


def test_harvard_race_codes_official_split_and_volumes(tmp_path, volume_writers):
    root = _harvard(tmp_path, blank_race=True)
    card = volume_writers["card"]("harvard-gf", size=[4, 4, 4])
    p = load_prepared(harvard_gf.prepare(root, tmp_path / "out", card=card, workers=1))
    meta = p.metadata.set_index("sample_id")
    assert len(meta) == 11  # the blank race is unknown and dropped by the card
    # codes 0/1/2 → Asian/Black/White; i % 3 over 0..11 without row 5 (code 2).
    assert meta["race"].value_counts().to_dict() == {"Asian": 4, "Black": 4, "White": 3}
    assert meta.loc["data_0002", "race_code"] == "1" and meta.loc["data_0002", "sex"] == "M"
    assert meta["split"].value_counts().to_dict() == {"train": 5, "test": 4, "val": 2}
    assert meta["y"].sum() == 3 and p.images.shape == (11, 1, 4, 4, 4)


def test_harvard_missing_file_column_and_volume(tmp_path, volume_writers):
    card = volume_writers["card"]("harvard-gf", size=[4, 4, 4])
    (tmp_path / "none").mkdir()
    with pytest.raises(UserError, match="expected file 'data_summary.csv'"):
        harvard_gf.prepare(tmp_path / "none", tmp_path / "o1", card=card)
    root = _harvard(tmp_path / "a", drop_column="race")
    with pytest.raises(UserError, match=r"missing column\(s\) \['race'\]"):
        harvard_gf.prepare(root, tmp_path / "o2", card=card)
    root = _harvard(tmp_path / "b")
    (root / "Training" / "data_0003.npz").unlink()
    card["image"]["max_bad_fraction"] = 0.0
    with pytest.raises(UserError, match=r"1 of 12 volumes could not be read.*data_0003\.npz"):
        harvard_gf.prepare(root, tmp_path / "o3", card=card, workers=1)
