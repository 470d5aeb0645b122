"""Training: a job killed (SIGKILL) after its first epoch and rerun ends bit-identical to an
uninterrupted run; and bad inputs are clear errors with a non-zero exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from fairmedia.cli import main
from fairmedia.training.checkpoint import load_checkpoint


def _train_cmd(prepared: Path, out: Path, epochs: int = 3) -> list[str]:
    return [sys.executable, "-m", "fairmedia.cli", "train", "--prepared", str(prepared), "--out",
            str(out), "--method", "groupdro", "--attribute", "sex", "--seed", "5", "--epochs",
            str(epochs), "--batch-size", "32", "--threads", "1"]


def test_killed_run_resumes_to_identical_predictions(tiny_prepared, tmp_path):
    ref = tmp_path / "uninterrupted"
    subprocess.run(_train_cmd(tiny_prepared, ref), check=True, capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_train_cmd(tiny_prepared, killed), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    ckpt = killed / "checkpoint.pt"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt.exists(), "the job should have checkpointed its first epoch before the kill"
    done_epoch = int(load_checkpoint(ckpt)["epoch"])
    assert done_epoch < 2, "killed before the last epoch, so the rerun has work to do"
    assert not (killed / "run.json").exists()

    rerun = subprocess.run(_train_cmd(tiny_prepared, killed), check=True, capture_output=True, text=True)
    assert f"resuming {killed} after epoch {done_epoch + 1}/3" in rerun.stdout
    a = pd.read_parquet(ref / "predictions.parquet")
    b = pd.read_parquet(killed / "predictions.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(ref / "epoch_scores.parquet"),
                                  pd.read_parquet(killed / "epoch_scores.parquet"), check_exact=True)
    assert not list(killed.rglob("*.partial"))


def test_missing_prepared_files_exit_2_with_the_files_named(tmp_path, capsys):
    code = main(["train", "--prepared", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert "missing metadata.parquet, images.npy, manifest.json" in err
    assert "Traceback" not in err


def test_attribute_not_in_metadata_lists_the_available_ones(tiny_prepared, tmp_path, capsys):
    code = main(["train", "--prepared", str(tiny_prepared), "--out", str(tmp_path / "r"),
                 "--method", "resample", "--attribute", "race", "--epochs", "1"])
    assert code == 2
    assert "available attributes: ['sex', 'age_group']" in capsys.readouterr().err


def test_attribute_method_with_any_is_refused(tiny_prepared, tmp_path, capsys):
    assert main(["train", "--prepared", str(tiny_prepared), "--out", str(tmp_path / "r"),
                 "--method", "groupdro", "--epochs", "1"]) == 2
    assert "trains with the sensitive attribute" in capsys.readouterr().err


@pytest.mark.parametrize("flag, value, expected", [
    ("--method", "fairness-magic", "unknown method 'fairness-magic'; valid: "),
    ("--arch", "vgg", "unknown architecture 'vgg'; valid: "),
    ("--hparam", "nope=1", "has no hyperparameter 'nope'"),
])
def test_unknown_names_list_valid_ones(tiny_prepared, tmp_path, capsys, flag, value, expected):
    assert main(["train", "--prepared", str(tiny_prepared), "--out", str(tmp_path / "r"),
                 "--epochs", "1", flag, value]) == 2
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("epochs", ["0", "-1"])
def test_fewer_than_one_epoch_is_refused(tiny_prepared, tmp_path, capsys, epochs):
    out = tmp_path / "r"
    assert main(["train", "--prepared", str(tiny_prepared), "--out", str(out),
                 "--epochs", epochs]) == 2
    err = capsys.readouterr().err
    assert f"epochs must be a whole number, at least 1 (got {epochs})" in err
    assert "Traceback" not in err
    assert not out.exists()
