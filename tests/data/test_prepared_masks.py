"""Segmentation masks in the prepared-dataset contract: round trip, manifest, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia import layout
from fairmedia.data.prepared import ImageArrayWriter, content_hash, load_prepared, write_prepared
from fairmedia.errors import UserError

CLASSES = {"background": 0, "cup": 1, "rim": 2}


def _meta(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)], "patient_id": [f"p{i // 2}" for i in range(n)],
        "split": ["train", "train", "val", "val", "test", "test"][:n], "y": [1, 1, 0, 1, 1, 0][:n],
        "sex": ["M", "F", "M", "F", "M", "F"][:n],
    })


def _data(shape=(5, 4)):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 1, *shape), dtype=np.uint8)
    masks = rng.integers(0, 3, (6, *shape), dtype=np.uint8)
    return images, masks


def _write(path, images, masks, classes=CLASSES):
    return write_prepared(path, _meta(), images, dataset="seg", card_version=1, attributes=["sex"],
                          task="segmentation", classes=classes, masks=masks)


def test_masks_round_trip_memory_mapped_with_task_and_classes(tmp_path):
    images, masks = _data()
    _write(tmp_path, images, masks)
    prep = load_prepared(tmp_path)
    assert isinstance(prep.masks, np.memmap)
    assert np.array_equal(np.asarray(prep.masks), masks)
    assert prep.task == "segmentation" and prep.classes == CLASSES
    manifest = json.loads((tmp_path / layout.MANIFEST).read_text())
    assert manifest["task"] == "segmentation" and manifest["classes"] == CLASSES
    test_rows = np.flatnonzero(_meta()["split"] == "test")
    assert np.array_equal(prep.split_masks("test"), masks[test_rows])


def test_3d_masks_round_trip(tmp_path):
    images = np.zeros((6, 1, 3, 4, 5), np.uint8)
    masks = np.zeros((6, 3, 4, 5), np.uint8)
    masks[2, 1, 2, 3] = 2
    _write(tmp_path, images, masks)
    assert np.array_equal(np.asarray(load_prepared(tmp_path).masks), masks)


def test_masks_filled_through_the_writer_are_published(tmp_path):
    images, masks = _data()
    writer = ImageArrayWriter(tmp_path, 6, masks.shape[1:], name=layout.MASKS)
    writer.array[:] = masks
    writer.finalize()
    _write(tmp_path, images, None)
    assert np.array_equal(np.asarray(load_prepared(tmp_path).masks), masks)


def test_masks_enter_the_content_hash(tmp_path):
    images, masks = _data()
    _write(tmp_path / "a", images, masks)
    other = masks.copy()
    other[0, 0, 0] = (other[0, 0, 0] + 1) % 3
    _write(tmp_path / "b", images, other)
    assert content_hash(tmp_path / "a", ["sex"]) != content_hash(tmp_path / "b", ["sex"])


def test_classification_dataset_has_no_masks_and_no_task_key(tmp_path):
    images, _ = _data()
    write_prepared(tmp_path, _meta(), images, dataset="c", card_version=1, attributes=["sex"])
    prep = load_prepared(tmp_path)
    assert prep.masks is None and prep.task == "classification" and prep.classes == {}
    assert not (tmp_path / layout.MASKS).exists()
    assert "task" not in json.loads((tmp_path / layout.MANIFEST).read_text())
    with pytest.raises(UserError, match="has no masks"):
        prep.split_masks("train")


def _tamper(root, masks):
    np.save(root / layout.MASKS, masks, allow_pickle=False)


def test_mask_shape_mismatch_names_the_file(tmp_path):
    images, masks = _data()
    _write(tmp_path, images, masks)
    _tamper(tmp_path, masks[:, :4, :3])
    with pytest.raises(UserError, match=r"masks.npy: masks have shape \(6, 4, 3\), expected \(6, 5, 4\)"):
        load_prepared(tmp_path)
    _tamper(tmp_path, masks[:5])
    with pytest.raises(UserError, match=r"masks.npy: .*expected \(6, 5, 4\)"):
        load_prepared(tmp_path)


def test_mask_dtype_and_undeclared_label_name_the_file(tmp_path):
    images, masks = _data()
    _write(tmp_path, images, masks)
    _tamper(tmp_path, masks.astype(np.int16))
    with pytest.raises(UserError, match="masks.npy: masks must be uint8.*int16"):
        load_prepared(tmp_path)
    bad = masks.copy()
    bad[3, 1, 1] = 7
    _tamper(tmp_path, bad)
    with pytest.raises(UserError, match=r"masks.npy: masks hold label\(s\) \[7\]"):
        load_prepared(tmp_path)


def test_missing_masks_file_and_bad_classes_are_clear(tmp_path):
    images, masks = _data()
    _write(tmp_path, images, masks)
    (tmp_path / layout.MASKS).unlink()
    with pytest.raises(UserError, match="segmentation dataset but .*masks.npy is missing"):
        load_prepared(tmp_path)
    with pytest.raises(UserError, match="must map 'background' to 0"):
        _write(tmp_path / "x", images, masks, classes={"lesion": 1})
    with pytest.raises(UserError, match="two classes share a label"):
        _write(tmp_path / "y", images, masks, classes={"background": 0, "a": 1, "b": 1})
    manifest = json.loads((tmp_path / layout.MANIFEST).read_text())
    manifest["task"] = "detection"
    (tmp_path / layout.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="manifest.json: task 'detection' is not one of"):
        load_prepared(tmp_path)


def test_undeclared_label_refused_at_write(tmp_path):
    images, masks = _data()
    with pytest.raises(UserError, match=r"label\(s\) \[2\]"):
        _write(tmp_path, images, masks, classes={"background": 0, "lesion": 1})


def test_pooling_a_segmentation_dataset_is_refused_rather_than_dropping_its_masks(tmp_path):
    from fairmedia.data.aggregate import aggregate_prepared

    images, masks = _data()
    _write(tmp_path / "seg", images, masks)
    write_prepared(tmp_path / "cls", _meta(), images, dataset="c", card_version=1, attributes=["sex"])
    with pytest.raises(UserError, match=r"aggregate: \['seg'\] are segmentation datasets"):
        aggregate_prepared(tmp_path / "pool", {"seg": tmp_path / "seg", "cls": tmp_path / "cls"},
                           {"seg": {"sex": "sex"}, "cls": {"sex": "sex"}}, name="pool")
