"""Clear errors, skipped corrupt images, resumable and idempotent preparing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from fairmedia.cli import main
from fairmedia.data.adapters import _image_decode as image_decode
from fairmedia.data.prepared import load_prepared

COLUMNS = ["image_name", "patient_id", "sex", "age_approx", "anatom_site_general_challenge",
           "diagnosis", "benign_malignant", "target"]


def _isic(root: Path, n: int = 20, **overrides) -> pd.DataFrame:
    table = pd.DataFrame({"image_name": [f"ISIC_{i}" for i in range(n)],
                          "patient_id": [f"IP_{i // 2}" for i in range(n)],
                          "sex": ["male", "female"] * (n // 2),
                          "age_approx": 50.0, "anatom_site_general_challenge": "torso",
                          "diagnosis": "nevus", "benign_malignant": "benign", "target": [0, 1] * (n // 2)})
    for k, v in overrides.items():
        table[k] = v
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "ISIC_2020_Training_GroundTruth.csv", index=False)
    return table


def _run(root: Path, out: Path, *extra: str) -> int:
    return main(["prepare", "isic2020", "--root", str(root), "--out", str(out), *extra])


def test_missing_file_names_file_and_root(tmp_path: Path, capsys) -> None:
    assert _run(tmp_path, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "ISIC_2020_Training_GroundTruth.csv" in err and str(tmp_path) in err


def test_missing_columns_are_named(tmp_path: Path, capsys) -> None:
    _isic(tmp_path).drop(columns=["sex", "target"]).to_csv(
        tmp_path / "ISIC_2020_Training_GroundTruth.csv", index=False)
    assert _run(tmp_path, tmp_path / "out", "--metadata-only") == 2
    assert "missing column(s) ['sex', 'target']" in capsys.readouterr().err


def test_unparseable_value_names_row_and_value(tmp_path: Path, capsys) -> None:
    ages = [50.0] * 20
    ages[7] = "fifty"
    _isic(tmp_path, age_approx=ages)
    assert _run(tmp_path, tmp_path / "out", "--metadata-only") == 2
    err = capsys.readouterr().err
    assert "row 8" in err and "'fifty'" in err and "age_raw" in err


def test_paths_escaping_root_are_refused(tmp_path: Path, capsys) -> None:
    names = [f"ISIC_{i}" for i in range(20)]
    names[3] = "../../etc/passwd"
    _isic(tmp_path / "raw", image_name=names)
    assert _run(tmp_path / "raw", tmp_path / "out") == 2
    assert "escapes the dataset root" in capsys.readouterr().err
    assert not (tmp_path / "out" / "manifest.json").exists()


def _images(root: Path, table: pd.DataFrame, phantom, corrupt: list[int]) -> None:
    for i, name in enumerate(table["image_name"]):
        path = root / "train" / f"{name}.jpg"
        phantom(path, 10 * (i % 25), mode="RGB")
        if i in corrupt:
            path.write_bytes(b"not a jpeg")


def test_corrupt_images_skipped_with_list(tmp_path: Path, phantom, capsys) -> None:
    root = tmp_path / "raw"
    table = _isic(root, n=200)
    _images(root, table, phantom, corrupt=[5])
    card = tmp_path / "card.yaml"
    card.write_text("name: isic2020\nimage: {size: 16, channels: 3, max_bad_fraction: 0.01}\n")
    assert _run(root, tmp_path / "out", "--card", str(card)) == 0
    ds = load_prepared(tmp_path / "out")
    assert len(ds.metadata) == len(ds.images) == 199 and "ISIC_5" not in set(ds.metadata["sample_id"])
    skipped = pd.read_csv(tmp_path / "out" / "skipped_images.csv")
    assert skipped["path"].tolist() == ["train/ISIC_5.jpg"]
    assert ds.manifest["options"]["skipped_images"] == 1
    row = ds.metadata.index[ds.metadata["sample_id"] == "ISIC_6"][0]
    assert abs(int(ds.images[row, 0, 8, 8]) - 60) <= 2  # rows after the gap moved up intact
    assert "skipped 1 unreadable" in capsys.readouterr().out


def test_too_many_corrupt_images_is_fatal(tmp_path: Path, phantom, capsys) -> None:
    root = tmp_path / "raw"
    table = _isic(root, n=20)
    _images(root, table, phantom, corrupt=[1, 2])
    assert _run(root, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "2 of 20 images could not be read" in err and "ISIC_1.jpg" in err


def test_resume_decodes_only_missing_rows_and_rerun_is_noop(tmp_path: Path, phantom, capsys) -> None:
    root = tmp_path / "raw"
    table = _isic(root, n=20)
    _images(root, table, phantom, corrupt=[])
    card = tmp_path / "card.yaml"
    card.write_text("name: isic2020\nimage: {size: 16, channels: 3, max_bad_fraction: 0.01}\n")
    out = tmp_path / "out"
    assert _run(root, out, "--card", str(card)) == 0
    finished = load_prepared(out)
    expected = np.array(finished.images)
    # Rebuild the state a kill leaves behind: partial array, no manifest, rows 0-7 marked done.
    paths = ("train/" + finished.metadata["sample_id"] + ".jpg").tolist()
    (out / "manifest.json").unlink()
    (out / "images.npy").rename(out / "images.npy.partial")
    partial = np.load(out / "images.npy.partial", mmap_mode="r+")
    partial[8:] = 0
    partial.flush()
    del partial
    done = np.zeros(20, dtype=bool)
    done[:8] = True
    image_decode._save_progress(out / "images.progress.npz", image_decode._fingerprint(paths, 16, 3), done)
    # Were the finished rows decoded again, these now-corrupt files would be skipped.
    for rel in paths[:8]:
        (root / rel).write_bytes(b"garbage")
    assert _run(root, out, "--card", str(card)) == 0
    resumed = load_prepared(out)
    assert len(resumed.metadata) == 20 and resumed.manifest["options"]["skipped_images"] == 0
    np.testing.assert_array_equal(resumed.images, expected)
    assert not (out / "images.progress.npz").exists()
    before = json.loads((out / "manifest.json").read_text())
    capsys.readouterr()
    assert _run(root, out, "--card", str(card)) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert json.loads((out / "manifest.json").read_text()) == before
