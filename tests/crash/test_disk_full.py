"""A full disk during training is a one-line UserError naming the file, never a traceback or a
half file: the ``.partial`` is removed, the file it would have replaced is untouched, and the
rerun resumes from the last checkpoint to the same result as an uninterrupted run.

The real ENOSPC comes from /dev/full (a ``.partial`` path linked there); the training-loop cases
make ``torch.save`` / ``to_parquet`` raise the same OSError."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pandas as pd
import pytest
import torch

from fairmedia.errors import UserError
from fairmedia.training import outputs
from fairmedia.training.checkpoint import load_checkpoint, save_atomic
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


def _cfg(prepared, out) -> TrainConfig:
    return TrainConfig(prepared=str(prepared), out=str(out), method="erm", seed=3, batch_size=32,
                       threads=1, epochs=2, max_steps_per_epoch=3)


def _full_disk_at(path: Path) -> None:
    """Every write to ``path.partial`` now fails with ENOSPC, as on a full disk."""
    os.symlink("/dev/full", path.with_name(path.name + ".partial"))


def _disk_full_message(path: Path) -> str:
    return f"could not write {path}: the disk is full (No space left on device)"


@needs_dev_full
@pytest.mark.parametrize("writer", ["checkpoint", "parquet", "text"])
def test_full_disk_keeps_the_previous_file_and_removes_the_partial(tmp_path, writer):
    path = tmp_path / {"checkpoint": "checkpoint.pt", "parquet": "p.parquet", "text": "run.json"}[writer]
    old = {"checkpoint": lambda: save_atomic({"epoch": 0, "w": torch.zeros(3)}, path),
           "parquet": lambda: outputs.atomic_parquet(pd.DataFrame({"a": [1]}), path),
           "text": lambda: outputs.atomic_text("old", path)}
    new = {"checkpoint": lambda: save_atomic({"epoch": 1, "w": torch.zeros(300_000)}, path),
           "parquet": lambda: outputs.atomic_parquet(pd.DataFrame({"a": range(300_000)}), path),
           "text": lambda: outputs.atomic_text("new" * 100_000, path)}
    old[writer]()
    before = path.read_bytes()
    _full_disk_at(path)
    with pytest.raises(UserError) as info:
        new[writer]()
    assert str(info.value).startswith(_disk_full_message(path))
    assert "rerun" in str(info.value)
    assert path.read_bytes() == before
    assert not os.path.lexists(path.with_name(path.name + ".partial"))


def test_other_write_errors_name_what_failed(tmp_path, monkeypatch):
    def broken(obj, fh):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(torch, "save", broken)
    with pytest.raises(UserError, match=r"could not write .*ckpt\.pt: the write failed "
                                        r"\(Input/output error\)"):
        save_atomic({}, tmp_path / "ckpt.pt")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_mid_training_loses_nothing_and_the_rerun_resumes(tmp_path, tiny_prepared,
                                                                    monkeypatch):
    ref = train_run(_cfg(tiny_prepared, tmp_path / "ref"), log=lambda m: None)
    run = tmp_path / "run"
    real_save = torch.save
    written: list[str] = []

    def fills_up(obj, fh):
        written.append(Path(fh.name).name)
        if written.count("checkpoint.pt.partial") == 2:  # the disk fills during epoch 2's checkpoint
            fh.write(b"some bytes first")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(obj, fh)

    monkeypatch.setattr(torch, "save", fills_up)
    with pytest.raises(UserError) as info:
        train_run(_cfg(tiny_prepared, run), log=lambda m: None)
    assert str(info.value).startswith(_disk_full_message(run / "checkpoint.pt"))
    assert not list(run.rglob("*.partial"))
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 0  # epoch 1's work is kept
    monkeypatch.undo()

    messages: list[str] = []
    train_run(_cfg(tiny_prepared, run), log=messages.append)
    assert f"resuming {run} after epoch 1/2" in messages
    for name in ("predictions.parquet", "epoch_scores.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(ref / name), pd.read_parquet(run / name),
                                      check_exact=True)


def test_disk_full_writing_predictions_is_a_user_error(tmp_path, tiny_prepared, monkeypatch):
    def full(self, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "Error writing bytes to file")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    run = tmp_path / "run"
    with pytest.raises(UserError, match=r"could not write .*epoch_scores\.parquet: the disk is full"):
        train_run(_cfg(tiny_prepared, run), log=lambda m: None)
    assert not list(run.rglob("*.partial"))
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1  # all training is kept
