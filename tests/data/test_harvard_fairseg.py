"""The Harvard-FairSeg adapter on small files written with the release's names and formats:
data_XXXXX.npz (keys of the FairSeg README) in Training/ and Test/, and data_summary.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairmedia.data.adapters import get_adapter
from fairmedia.data.cards import load_card
from fairmedia.data.prepared import load_prepared
from fairmedia.errors import UserError

SIDE = 16  # the test card's image size, so a square raw image is stored without resampling
RACE = {0: "Asian", 1: "Black", 2: "White"}


def _raw_mask(i: int, shape=(SIDE + 4, SIDE)) -> np.ndarray:
    """FairSeg's stored convention: 0 background, -1 rim, -2 cup (disc = rim ∪ cup)."""
    mask = np.zeros(shape, np.int8)
    r0 = 2 + i % 5
    mask[r0:r0 + 8, 4:12] = -1
    mask[r0 + 2:r0 + 6, 6:10] = -2
    return mask


def _subject(folder: Path, i: int, pid: str, **keys) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(i)
    values = {"slo_fundus": rng.integers(0, 256, (SIDE + 4, SIDE), dtype=np.uint8),
              "disc_cup_mask": _raw_mask(i), "pid": np.array(pid), "race": np.array(i % 3),
              "gender": np.array(i % 2), "ethnicity": np.array([0, 1, -1][i % 3]),
              "language": np.array([0, 1, 2, -1][i % 4]), "maritalstatus": np.array(i % 5 - 1),
              "age": np.array(40.0 + i), **keys}
    np.savez(folder / f"data_{i:05d}.npz", **values)
    return values


def _dataset(root: Path, n_train_patients: int = 20) -> dict[str, dict]:
    """Two images per training patient, one per test patient, one file outside a split folder."""
    written = {}
    i = 0
    for p in range(n_train_patients):
        for _ in range(2):
            written[f"data_{i:05d}"] = _subject(root / "Training", i, f"P{p:04d}")
            i += 1
    for p in range(8):
        written[f"data_{i:05d}"] = _subject(root / "Test", i, f"T{p:04d}")
        i += 1
    written[f"data_{i:05d}"] = _subject(root, i, "LOOSE")
    (root / "ReadMe").mkdir()
    pd.DataFrame({"filename": list(written), "use": ["training"] * (i) + ["test"],
                  "age": [float(v["age"]) for v in written.values()]}).to_csv(
        root / "ReadMe" / "data_summary.csv", index=False)
    return written


def _card(size: int = SIDE) -> dict:
    card = load_card("harvard-fairseg")
    card["image"] = {**card["image"], "size": size}
    return card


def _prepare(root: Path, out: Path, card: dict | None = None) -> Path:
    return get_adapter("harvard-fairseg").prepare(root, out, card=card or _card())


def test_attributes_classes_masks_and_official_split(tmp_path):
    written = _dataset(tmp_path / "raw")
    prep = load_prepared(_prepare(tmp_path / "raw", tmp_path / "out"))
    meta = prep.metadata.set_index("sample_id")
    assert prep.task == "segmentation"
    assert prep.classes == {"background": 0, "rim": 1, "cup": 2}
    assert len(meta) == len(written)
    for sample, values in written.items():
        i = int(sample.split("_")[1])
        row = meta.loc[sample]
        assert row["race"] == RACE[i % 3] and row["sex"] == ("F" if i % 2 == 0 else "M")
        assert row["ethnicity"] == ["Non-Hispanic", "Hispanic", "unknown"][i % 3]
        assert row["language"] == ["English", "Spanish", "Other", "unknown"][i % 4]
        expected_marital = ["unknown", "Married or Partnered", "Single", "Divorced", "Widowed"][i % 5]
        assert row["marital_status"] == expected_marital
        assert row["age_group"] == ("61+" if 40 + i > 60 else "0-60")
        assert row["patient_id"] == str(values["pid"])
    # Masks: the centre crop of the stored mask with -1 -> 1 (rim) and -2 -> 2 (cup).
    order = list(prep.metadata["sample_id"])
    for sample, values in written.items():
        raw = values["disc_cup_mask"][2:2 + SIDE]  # rows cropped evenly to the square
        expected = np.select([raw == -1, raw == -2], [1, 2], 0).astype(np.uint8)
        assert np.array_equal(prep.masks[order.index(sample)], expected)
        assert np.array_equal(prep.images[order.index(sample), 0], values["slo_fundus"][2:2 + SIDE])
    splits = meta["split"]
    assert set(splits[[s for s in written if written[s]["pid"].item().startswith("T")]]) == {"test"}
    assert splits["data_00048"] == "test"  # outside a split folder: data_summary.csv's `use`
    assert splits["data_00040"] == "test" and splits[[f"data_{i:05d}" for i in range(40)]].isin(
        ["train", "val"]).all()


def test_val_is_carved_from_training_by_patient(tmp_path):
    _dataset(tmp_path / "raw", n_train_patients=30)
    meta = load_prepared(_prepare(tmp_path / "raw", tmp_path / "out")).metadata
    per_patient = meta.groupby("patient_id")["split"].nunique()
    assert (per_patient == 1).all()  # no patient in two splits
    dev = meta[meta["split"] != "test"]
    val_patients = dev.loc[dev["split"] == "val", "patient_id"].nunique()
    assert val_patients == round(0.1 * dev["patient_id"].nunique())  # the card's val_fraction
    assert (dev.groupby("patient_id").size() == 2).all()


def test_age_in_days_is_converted(tmp_path):
    root = tmp_path / "raw"
    for i in range(6):
        _subject(root / ("Training" if i < 4 else "Test"), i, f"P{i}", age=np.array(70 * 365.25))
    meta = load_prepared(_prepare(root, tmp_path / "out")).metadata
    assert np.allclose(meta["age"], 70) and set(meta["age_group"]) == {"61+"}
    manifest = load_prepared(tmp_path / "out").manifest
    assert manifest["options"]["age_unit"] == "days"


def test_loader_spellings_of_the_keys_are_accepted(tmp_path):
    root = tmp_path / "raw"
    for i in range(4):
        values = _subject(root / ("train" if i < 3 else "test"), i, f"P{i}")
        np.savez(root / ("train" if i < 3 else "test") / f"data_{i:05d}.npz",
                 fundus_slo=values["slo_fundus"], disc_cup=values["disc_cup_mask"],
                 hispanic=values["ethnicity"], race=values["race"], gender=values["gender"],
                 age=values["age"])
    meta = load_prepared(_prepare(root, tmp_path / "out")).metadata.set_index("sample_id")
    assert list(meta["ethnicity"].sort_index()) == ["Non-Hispanic", "Hispanic", "unknown",
                                                    "Non-Hispanic"]
    assert set(meta["language"]) == {"unknown"}  # absent key: unknown, not an error


def test_bad_files_are_errors_naming_the_file(tmp_path):
    root = tmp_path / "raw"
    _subject(root / "Training", 0, "P0")
    _subject(root / "Test", 1, "P1", disc_cup_mask=np.full((SIDE + 4, SIDE), 3, np.int8))
    with pytest.raises(UserError, match=r"data_00001.npz: mask values \[3\] are not in the card"):
        _prepare(root, tmp_path / "out")
    loose = tmp_path / "loose"
    _subject(loose, 0, "P0")
    with pytest.raises(UserError, match="data_00000.npz: no official split"):
        _prepare(loose, tmp_path / "out2")
    (root / "Test" / "data_00001.npz").unlink()
    np.savez(root / "Test" / "data_00001.npz", image=np.zeros((4, 4)), disc_cup_mask=np.zeros((4, 4)))
    with pytest.raises(UserError, match=r"data_00001.npz: no image key; expected one of"):
        _prepare(root, tmp_path / "out3")
