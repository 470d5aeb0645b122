"""Inputs are data, never code: checkpoints holding pickled objects are refused, image paths from
metadata never leave the dataset root, the prepared array never unpickles, YAML loads safely."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fairmedia.data.adapters._image_decode import check_relative_paths
from fairmedia.data.prepared import load_prepared
from fairmedia.errors import UserError
from fairmedia.training.checkpoint import load_checkpoint, save_atomic


class _Payload:
    """Unpickling this runs a command: what a malicious checkpoint would carry."""

    def __reduce__(self):
        return (subprocess.call, (["touch", os.environ["PWNED_MARKER"]],))


def test_checkpoint_with_a_pickled_object_is_refused_and_never_executed(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("PWNED_MARKER", str(marker))
    path = tmp_path / "checkpoint.pt"
    torch.save({"epoch": 1, "method": {"w": torch.zeros(2)}, "extra": _Payload()}, path)
    with pytest.raises(UserError, match="refused to load"):
        load_checkpoint(path)
    assert not marker.exists(), "the pickled payload ran"


class _Note:
    """A harmless object, but still a class the checkpoint would have to import."""

    def __init__(self):
        self.text = "hello"


def test_checkpoint_with_a_foreign_class_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"history": [_Note()]}, path)
    with pytest.raises(UserError, match=r"checkpoint\.pt: refused to load"):
        load_checkpoint(path)


def test_plain_checkpoint_round_trips_and_a_truncated_one_is_refused(tmp_path):
    path = tmp_path / "checkpoint.pt"
    state = {"epoch": 3, "method": {"w": torch.arange(4.0)}, "history": [{"loss": 0.5}]}
    save_atomic(state, path)
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 3 and torch.equal(loaded["method"]["w"], state["method"]["w"])
    assert not list(tmp_path.glob("*.partial"))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # a half-written file
    with pytest.raises(UserError, match="refused to load"):
        load_checkpoint(path)


@pytest.mark.parametrize("bad", ["../secret.png", "img/../../etc/passwd", "/etc/passwd",
                                 "..\\..\\boot.ini", "C:/Windows/x.png"])
def test_image_paths_escaping_the_dataset_root_are_refused(tmp_path, bad):
    paths = pd.Series(["img/ok_1.png", bad])
    with pytest.raises(UserError, match=r"row 2 names image .* escapes the dataset root"):
        check_relative_paths(paths, tmp_path, "metadata.csv")


def test_image_paths_inside_the_root_are_accepted(tmp_path):
    check_relative_paths(pd.Series(["a/b.png", "a/./c.png", "a/x/../d.png"]), tmp_path, "m.csv")


def test_prepared_array_holding_objects_is_refused(tiny_prepared, tmp_path):
    """images.npy is read with allow_pickle=False: an object array (pickled) is an error."""
    copy = tmp_path / "prepared"
    copy.mkdir()
    for name in ("metadata.parquet", "manifest.json"):
        (copy / name).write_bytes((Path(tiny_prepared) / name).read_bytes())
    np.save(copy / "images.npy", np.array([{"a": 1}] * 3, dtype=object), allow_pickle=True)
    with pytest.raises((UserError, ValueError)):
        load_prepared(copy)


def test_dataset_cards_are_loaded_with_a_safe_yaml_loader(tmp_path, monkeypatch):
    from fairmedia.data import cards

    (tmp_path / "evil.yaml").write_text("name: !!python/object/apply:os.system ['true']\n")
    monkeypatch.setattr(cards, "CARDS_DIR", tmp_path)
    with pytest.raises(UserError):
        cards.load_card("evil")
