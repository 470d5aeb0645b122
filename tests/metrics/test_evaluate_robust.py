"""``fairmedia evaluate`` refuses input it would silently misread and never loses a computed report
to a bad output path or a closed stdout (issue 12, defect 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairmedia.cli import EXIT_BROKEN_PIPE, main

REPO = Path(__file__).resolve().parents[2]


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)],
        "y": rng.integers(0, 2, n),
        "sex": rng.choice(["F", "M"], n),
        "split": np.where(np.arange(n) % 2 == 0, "val", "test"),
        "patient_id": rng.integers(0, 150, n),
    })
    df["score"] = np.clip(0.3 * df["y"] + 0.7 * rng.uniform(size=n), 0, 1)
    return df


def _csv(tmp_path: Path, df: pd.DataFrame) -> Path:
    path = tmp_path / "pred.csv"
    df.to_csv(path, index=False)
    return path


def _fails(capsys, *argv: str) -> str:
    assert main(["evaluate", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_unknown_split_value_is_named_with_its_rows(tmp_path, capsys):
    df = _frame()
    df.loc[[5, 9], "split"] = "validation"
    err = _fails(capsys, str(_csv(tmp_path, df)), "--attr", "sex")
    assert "'validation'" in err and "2 row(s): 5, 9" in err
    assert "train, val, test" in err


def test_duplicate_sample_id_is_an_error_naming_it(tmp_path, capsys):
    df = _frame()
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)  # row 3 again, as row 400
    err = _fails(capsys, str(_csv(tmp_path, df)), "--attr", "sex")
    assert "sample_id 's3'" in err and "2 row(s): 3, 400" in err


def test_identical_rows_without_sample_id_are_an_error_unless_allowed(tmp_path, capsys):
    df = _frame().drop(columns="sample_id")
    twice = pd.concat([df, df], ignore_index=True)  # the whole file concatenated twice
    path = _csv(tmp_path, twice)
    err = _fails(capsys, str(path), "--attr", "sex")
    assert "400 row(s) repeat an earlier row in every column" in err
    assert "--allow-identical-rows" in err and "sample_id" in err
    out = tmp_path / "m.json"
    assert main(["evaluate", str(path), "--attr", "sex", "--allow-identical-rows",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["n_eval"] == 400


def test_bootstrap_with_a_single_patient_refuses_zero_width_cis(tmp_path, capsys):
    df = _frame()
    df["patient_id"] = "P1"
    out = tmp_path / "m.json"
    err = _fails(capsys, str(_csv(tmp_path, df)), "--attr", "sex", "--bootstrap", "20",
                 "--out", str(out))
    assert "--bootstrap" in err and "at least 2 patients" in err and "patient_id" in err
    assert "1 in all" in err
    assert not out.exists()
    # Without --bootstrap the same file is fine.
    assert main(["evaluate", str(tmp_path / "pred.csv"), "--attr", "sex", "--out", str(out)]) == 0


@pytest.mark.parametrize("target", ["folder", "below_a_file"])
def test_bad_out_path_is_refused_before_computing(tmp_path, capsys, monkeypatch, target):
    import fairmedia.metrics

    path = _csv(tmp_path, _frame())
    bad = tmp_path / "reports"
    bad.mkdir()
    if target == "below_a_file":
        (tmp_path / "note.txt").write_text("x")
        bad = tmp_path / "note.txt" / "metrics.json"
    called = []
    monkeypatch.setattr(fairmedia.metrics, "evaluate_predictions",
                        lambda *a, **k: called.append(1) or {})
    err = _fails(capsys, str(path), "--attr", "sex", "--out", str(bad))
    assert f"--out {bad}" in err and ("is a folder" in err or "is a file, not a folder" in err)
    assert not called, "the report was computed although --out could not be written"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_out_folder_is_refused_before_computing(tmp_path, capsys):
    path = _csv(tmp_path, _frame())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        err = _fails(capsys, str(path), "--attr", "sex", "--out", str(locked / "m.json"))
    finally:
        locked.chmod(0o700)
    assert "not writable" in err


def test_closed_stdout_keeps_the_out_file_and_exits_quietly(tmp_path):
    path = _csv(tmp_path, _frame())
    out = tmp_path / "m.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fairmedia.cli", "evaluate", str(path), "--attr", "sex",
         "--bootstrap", "20", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    proc.stdout.close()  # the reader is gone before anything is printed (like `| head -0`)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    report = json.loads(out.read_text())
    assert report["n_eval"] == 200 and "ci" in report


def test_write_failure_after_computing_still_prints_the_report(tmp_path, capsys, monkeypatch):
    import errno

    path = _csv(tmp_path, _frame())
    out = tmp_path / "m.json"
    out.write_text('{"old": true}')
    write_text = Path.write_text

    def full(self, *args, **kwargs):
        if self.name.startswith("m.json"):  # the report or its temporary file: the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    assert main(["evaluate", str(path), "--attr", "sex", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "equalized_odds" in captured.out  # the computed report is not lost
    assert f"--out {out}: could not be written (No space left on device)" in captured.err
    assert json.loads(out.read_text()) == {"old": True}  # the previous report is intact
    assert not list(tmp_path.glob("*.partial"))
