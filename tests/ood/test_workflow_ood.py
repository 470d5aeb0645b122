"""The workflow: a bad transfer pair stops the plan; the synthetic-transfer demo runs end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fairmedia.metrics.thresholds import choose_threshold

REPO = Path(__file__).resolve().parents[2]


def _workflow_copy(tmp_path: Path, cfg: dict) -> Path:
    for item in ("Snakefile", "workflow", "config"):
        src = REPO / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / item)
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(cfg))
    return tmp_path


def _snakemake(workdir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "snakemake", "--configfile", "test.yaml", *args],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)


def _demo(**changes) -> dict:
    cfg = yaml.safe_load((REPO / "config" / "synthetic-transfer.yaml").read_text())
    cfg.update(changes)
    return cfg


def test_incompatible_transfer_pair_fails_before_any_job(tmp_path):
    cfg = _demo()
    (tmp_path / "ham").mkdir()  # a root holding the card's file, so the label check is what fails
    (tmp_path / "ham" / "HAM10000_metadata.csv").write_text("")
    cfg["datasets"]["ham"] = {"card": "ham10000", "root": str(tmp_path / "ham"),
                              "attributes": ["sex"]}
    cfg["transfer"] = [{"source": "synth-src", "targets": ["synth-twin", "ham"]}]
    work = _workflow_copy(tmp_path, cfg)
    result = _snakemake(work, "-n")
    assert result.returncode != 0
    assert ("label mismatch — 'synth-src' predicts 'lesion' but 'ham' predicts 'malignant'"
            in result.stdout + result.stderr)
    assert "Job stats" not in result.stdout + result.stderr
    assert not (work / "results").exists()


@pytest.mark.slow
def test_synthetic_transfer_demo_runs_end_to_end(tmp_path):
    cfg = _demo(methods=["erm"], seeds=[0], selections=["overall"])
    cfg["train"]["epochs"] = 2
    cfg["leaderboard"].update(bootstrap=0, figures=False)
    work = _workflow_copy(tmp_path, cfg)
    # Only the transfer table is asked for: the twin's own run and the in-distribution table are
    # the demo's other targets, covered by the workflow's own tests.
    result = _snakemake(work, "--cores", "2", "results/leaderboard/transfer/overall/leaderboard.md")
    assert result.returncode == 0, result.stderr[-3000:]
    base = work / "results" / "transfer"
    run = work / "results/runs/synth-src/cnn-small/erm/any/seed0"
    metrics = json.loads((base / "synth-src__to__synth-twin/cnn-small/erm/any/seed0/eval/sex/overall/"
                                 "metrics.json").read_text())
    preds = pd.read_parquet(run / "predictions.parquet").query("selection == 'overall' and "
                                                               "split == 'val'")
    assert metrics["threshold"]["value"] == choose_threshold(preds["y"], preds["score"], "youden")
    # the aggregate was built, trained on, and evaluated per source
    pool = pd.read_parquet(work / "results/prepared/synth-pool/metadata.parquet")
    assert set(pool["source"]) == {"synth-src", "synth-twin"}
    board = pd.read_csv(work / "results/leaderboard/transfer/overall/leaderboard.csv")
    assert set(board["dataset"]) == {"synth-src__to__synth-twin", "synth-pool__to__synth-src",
                                     "synth-pool__to__synth-twin"}
