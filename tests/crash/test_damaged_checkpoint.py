"""A damaged checkpoint (empty, cut short) never blocks a run or crashes the error handler: loading
it is a UserError naming the file and the remedy; the training loop moves it aside to
checkpoint.pt.corrupt, says so and starts afresh. A checkpoint holding foreign objects is still
refused, with the remedy named."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from fairmedia.cli import main
from fairmedia.errors import UserError
from fairmedia.training.checkpoint import DamagedCheckpoint, load_checkpoint, save_atomic
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run


def _cfg(prepared, out) -> TrainConfig:
    return TrainConfig(prepared=str(prepared), out=str(out), method="erm", seed=3, batch_size=32,
                       threads=1, epochs=2, max_steps_per_epoch=3)


def _damage(path, how: str) -> bytes:
    data = path.read_bytes()
    damaged = b"" if how == "empty" else data[: len(data) // 2]
    path.write_bytes(damaged)
    return damaged


@pytest.mark.parametrize("how, what", [("empty", "an empty file"),
                                       ("truncated", "bytes, not an intact archive")])
def test_loading_a_damaged_checkpoint_names_the_file_and_the_remedy(tmp_path, how, what):
    path = tmp_path / "checkpoint.pt"
    save_atomic({"epoch": 1, "method": {"w": torch.arange(50_000.0)}}, path)
    _damage(path, how)
    with pytest.raises(DamagedCheckpoint) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert isinstance(info.value, UserError)
    assert message.startswith(f"{path}: refused to load — the file is damaged (")
    assert what in message
    assert message.endswith(f"delete {path} to restart this run from scratch")


@pytest.mark.parametrize("how", ["empty", "truncated"])
def test_run_with_a_damaged_checkpoint_moves_it_aside_and_starts_afresh(tmp_path, tiny_prepared, how):
    ref = train_run(_cfg(tiny_prepared, tmp_path / "ref"), log=lambda m: None)
    run = train_run(_cfg(tiny_prepared, tmp_path / "run"), log=lambda m: None)
    damaged = _damage(run / "checkpoint.pt", how)
    messages: list[str] = []
    train_run(_cfg(tiny_prepared, run), log=messages.append)
    aside = run / "checkpoint.pt.corrupt"
    assert any(m.startswith(f"{run / 'checkpoint.pt'}: checkpoint is damaged (")
               and m.endswith(f"moved it to {aside} and starting afresh") for m in messages)
    assert not any("resuming" in m for m in messages)
    assert aside.read_bytes() == damaged  # kept for inspection, out of the way
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1
    for name in ("predictions.parquet", "epoch_scores.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(ref / name), pd.read_parquet(run / name),
                                      check_exact=True)


def test_cli_rerun_over_an_empty_checkpoint_succeeds(tmp_path, tiny_prepared, capsys):
    out = tmp_path / "r"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"")
    args = ["train", "--prepared", str(tiny_prepared), "--out", str(out), "--epochs", "1",
            "--batch-size", "32", "--threads", "1", "--max-steps-per-epoch", "2"]
    assert main(args) == 0
    assert "checkpoint is damaged (an empty file" in capsys.readouterr().out
    assert (out / "predictions.parquet").exists()


class _Note:
    def __init__(self):
        self.text = "not a tensor"


def test_run_with_a_foreign_checkpoint_is_refused_with_the_remedy(tmp_path, tiny_prepared):
    out = tmp_path / "r"
    out.mkdir()
    torch.save({"epoch": 0, "history": [_Note()]}, out / "checkpoint.pt")
    with pytest.raises(UserError) as info:
        train_run(_cfg(tiny_prepared, out), log=lambda m: None)
    message = str(info.value)
    assert "refused to load — not a plain checkpoint of tensors and containers" in message
    assert message.endswith(f"delete {out / 'checkpoint.pt'} to restart this run from scratch")
    assert not isinstance(info.value, DamagedCheckpoint)
    assert (out / "checkpoint.pt").exists() and not (out / "checkpoint.pt.corrupt").exists()
