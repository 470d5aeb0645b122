"""``fairmedia prepare`` stops with a message, not a traceback, and keeps its work (issue 12, item
9): an --out that is a file, rules that drop every row, duplicate ids (found before decoding),
symbolic links leading out of --root, a full disk."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairmedia.cli import main
from fairmedia.data.adapters import _common
from fairmedia.data.adapters import _image_decode as image_decode
from fairmedia.data.prepared import load_prepared

CARD = "name: isic2020\nimage: {size: 16, channels: 3, max_bad_fraction: 0.01}\n"


def _isic(root: Path, n: int = 20, **overrides) -> pd.DataFrame:
    table = pd.DataFrame({"image_name": [f"ISIC_{i}" for i in range(n)],
                          "patient_id": [f"IP_{i // 2}" for i in range(n)],
                          "sex": ["male", "female"] * (n // 2), "age_approx": 50.0,
                          "anatom_site_general_challenge": "torso", "diagnosis": "nevus",
                          "benign_malignant": "benign", "target": [0, 1] * (n // 2)})
    for k, v in overrides.items():
        table[k] = v
    root.mkdir(parents=True, exist_ok=True)
    table.to_csv(root / "ISIC_2020_Training_GroundTruth.csv", index=False)
    return table


def _images(root: Path, table: pd.DataFrame, phantom) -> None:
    for i, name in enumerate(table["image_name"]):
        phantom(root / "train" / f"{name}.jpg", 10 * (i % 25), mode="RGB")


def _prepare(tmp_path: Path, root: Path, out: Path, *extra: str) -> int:
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    return main(["prepare", "isic2020", "--root", str(root), "--out", str(out), "--card",
                 str(card), *extra])


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    _isic(tmp_path / "raw")
    out = tmp_path / "prepared.txt"
    out.write_text("keep me")
    assert _prepare(tmp_path, tmp_path / "raw", out, "--metadata-only") == 2
    err = _error(capsys)
    assert f"--out {out}: is a file, not a folder" in err
    assert out.read_text() == "keep me"


def test_no_rows_left_names_the_rule_that_dropped_them(tmp_path, capsys):
    _isic(tmp_path / "raw", sex="")  # every sex blank; the card's sex rule says unknown: drop
    assert _prepare(tmp_path, tmp_path / "raw", tmp_path / "out", "--metadata-only") == 2
    err = _error(capsys)
    assert "no rows left to prepare; attribute rule 'sex' removed the last of them" in err
    assert "20 rows read" in err and "dropped unlabelled or uncertain rows: 0, leaving 20" in err
    assert "(column 'sex_raw', unknown: drop) dropped rows with an unknown value: 20, leaving 0" in err
    assert "unknown: keep" in err and "--card" in err


def test_duplicate_ids_are_found_before_any_image_is_decoded(tmp_path, capsys, phantom, monkeypatch):
    names = [f"ISIC_{i}" for i in range(20)]
    names[9] = "ISIC_3"
    root = tmp_path / "raw"
    table = _isic(root, image_name=names)
    _images(root, table, phantom)
    decoded = []
    monkeypatch.setattr(_common, "decode_images", lambda *a, **k: decoded.append(1) or [])
    assert _prepare(tmp_path, root, tmp_path / "out") == 2
    err = _error(capsys)
    assert "1 sample_id(s) appear on more than one row: 'ISIC_3' (rows 4, 10)" in err
    assert not decoded, "images were decoded before the duplicate ids were reported"


def test_symlink_leading_outside_the_root_is_refused(tmp_path, capsys, phantom):
    root = tmp_path / "raw"
    table = _isic(root)
    _images(root, table, phantom)
    secret = tmp_path / "elsewhere" / "secret.jpg"
    phantom(secret, 200, mode="RGB")  # a readable image: only the check can stop it
    link = root / "train" / "ISIC_3.jpg"
    link.unlink()
    link.symlink_to(secret)
    assert _prepare(tmp_path, root, tmp_path / "out") == 2
    err = _error(capsys)
    assert "row 4 names image 'train/ISIC_3.jpg'" in err and str(secret) in err
    assert "outside the dataset root" in err
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_symlinks_inside_the_root_and_a_linked_root_are_accepted(tmp_path, capsys, phantom):
    real = tmp_path / "raw"
    table = _isic(real)
    _images(real, table, phantom)
    (real / "train" / "ISIC_3.jpg").unlink()
    (real / "train" / "ISIC_3.jpg").symlink_to(real / "train" / "ISIC_4.jpg")
    linked_root = tmp_path / "raw-link"
    linked_root.symlink_to(real)
    assert _prepare(tmp_path, linked_root, tmp_path / "out") == 0
    assert len(load_prepared(tmp_path / "out").metadata) == 20


def _disk_full_while_saving_progress(monkeypatch, out: Path) -> None:
    def full(path, *args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(image_decode, "_save_progress", full)


def _disk_reported_full(monkeypatch, out: Path) -> None:
    real = image_decode.shutil.disk_usage
    monkeypatch.setattr(image_decode.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=0))


@pytest.mark.parametrize("fill", [_disk_full_while_saving_progress, _disk_reported_full])
def test_disk_full_is_a_message_and_keeps_the_partial_array(tmp_path, capsys, phantom,
                                                            monkeypatch, fill):
    root, out = tmp_path / "raw", tmp_path / "out"
    table = _isic(root)
    _images(root, table, phantom)
    with monkeypatch.context() as patch:
        fill(patch, out)
        assert _prepare(tmp_path, root, out) == 2
    err = _error(capsys)
    assert "no space left on the device while writing" in err and str(out) in err
    assert "images.npy.partial" in err and "resumes" in err
    assert (out / "images.npy.partial").exists() and not (out / "manifest.json").exists()
    # Space freed: the same command finishes.
    assert _prepare(tmp_path, root, out) == 0
    ds = load_prepared(out)
    assert len(ds.metadata) == 20 and np.asarray(ds.images).shape == (20, 3, 16, 16)
