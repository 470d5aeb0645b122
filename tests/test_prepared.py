"""The prepared-dataset contract: what is written, and clear errors for what is wrong."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.data.prepared import ImageArrayWriter, load_prepared, write_prepared
from fairmedia.data.splits import patient_split
from fairmedia.errors import UserError


def _meta(n=6):
    return pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)], "patient_id": [f"p{i // 2}" for i in range(n)],
        "split": ["train", "train", "val", "val", "test", "test"][:n], "y": [0, 1] * (n // 2),
        "sex": ["M", "F", "M", "F", "M", "F"][:n],
    })


def test_round_trip_is_memory_mapped(tmp_path):
    imgs = np.arange(6 * 4 * 4, dtype=np.uint8).reshape(6, 1, 4, 4)
    write_prepared(tmp_path, _meta(), imgs, dataset="t", card_version=1, attributes=["sex"])
    prep = load_prepared(tmp_path)
    assert isinstance(prep.images, np.memmap)
    assert np.array_equal(np.asarray(prep.images), imgs)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["counts"]["val"]["sex"] == {"F": {"0": 0, "1": 1}, "M": {"0": 1, "1": 0}}
    assert not list(tmp_path.glob("*.partial"))


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(UserError, match=r"missing metadata.parquet, images.npy, manifest.json.*fairmedia"):
        load_prepared(tmp_path)


def test_patient_in_two_splits_is_refused(tmp_path):
    meta = _meta()
    meta.loc[2, "patient_id"] = "p0"  # p0 is also in train
    with pytest.raises(UserError, match="patient 'p0' appears in several splits"):
        write_prepared(tmp_path, meta, None, dataset="t", card_version=1, attributes=["sex"])


def test_bad_label_names_the_row(tmp_path):
    meta = _meta()
    meta.loc[3, "y"] = 2
    with pytest.raises(UserError, match="row 3 has y=2"):
        write_prepared(tmp_path, meta, None, dataset="t", card_version=1, attributes=["sex"])


def test_unknown_attribute_lists_the_available_ones(tiny_prepared):
    prep = load_prepared(tiny_prepared)
    with pytest.raises(UserError, match=r"'race' is not in .*available attributes: \['sex', 'age_group'\]"):
        prep.check_attribute("race")


def test_image_writer_resumes_a_partial_array(tmp_path):
    w = ImageArrayWriter(tmp_path, 4, (1, 2, 2))
    w.array[0] = 7
    del w  # simulated crash before finalize
    w2 = ImageArrayWriter(tmp_path, 4, (1, 2, 2))
    assert (w2.array[0] == 7).all()
    w2.array[1:] = 9
    w2.finalize()
    arr = np.load(tmp_path / "images.npy")
    assert arr[0, 0, 0, 0] == 7 and arr[3, 0, 1, 1] == 9


def test_patient_split_is_deterministic_and_patient_level():
    pids = np.repeat(np.arange(300), 2).astype(str)
    a = patient_split(pids, seed=1)
    b = patient_split(pids[::-1], seed=1)[::-1]  # row order does not matter
    assert np.array_equal(a, b)
    df = pd.DataFrame({"p": pids, "s": a})
    assert df.groupby("p").s.nunique().max() == 1
    assert df.drop_duplicates("p").s.value_counts().to_dict() == {"train": 180, "val": 60, "test": 60}
