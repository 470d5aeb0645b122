"""The tiny grid through a real SLURM: `snakemake --executor slurm` with the repository's SLURM
profile on the single-node cluster that tests/cluster/setup_slurm.sh starts (called from .ci/run
before the tests). Train jobs request a (fake, count-only) GPU gres, so `gpu: 1` is exercised.
Skipped, with the reason, where SLURM is not installed or not up."""

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

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CONFIG = {
    "datasets": {"tiny": {"card": "synthetic", "preset": "mixed",
                          "options": {"n": 300, "size": 16, "seed": 0}, "attributes": ["sex"]}},
    "archs": ["cnn-small"], "methods": ["erm", "resample"], "seeds": [0],
    "selections": ["overall"], "train": {"epochs": 2, "batch_size": 32},
    "evaluation": {"bootstrap": 20}, "leaderboard": {"bootstrap": 20, "figures": False},
    # One fake GPU per train job, as on a real cluster; small CPU/memory asks fit the test node.
    "resources": {"train": {"gpu": 1, "cpus": 1, "mem_mb": 1000, "runtime": 10},
                  "prepare": {"cpus": 1, "mem_mb": 1000, "runtime": 10}},
}


def _cluster_up() -> str | None:
    """None when a SLURM partition answers with an idle or mixed node; else why not."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "SLURM is not installed (run: bash tests/cluster/setup_slurm.sh)"
    try:
        res = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 20 s"
    states = set(res.stdout.split())
    if res.returncode != 0 or not states & {"idle", "mix", "alloc"}:
        return f"SLURM is not up (sinfo: {res.stdout.strip() or res.stderr.strip()})"
    return None


def test_tiny_grid_runs_through_slurm_and_each_train_job_records_its_job_id(tmp_path):
    reason = _cluster_up()
    if reason:
        pytest.skip(reason)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(tmp_path / "work"),
           "--workflow-profile", str(REPO / "workflow/profiles/slurm"), "--configfile", str(config),
           "--executor", "slurm", "--slurm-status-command", "squeue",
           # A test cluster: no accounts, a small node, and no minute-long waits between checks.
           "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "5",
           "--latency-wait", "5", "--group-components", "evaluate=2", "train=1"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    out = res.stdout + res.stderr
    assert "has been submitted with SLURM jobid" in out

    work = tmp_path / "work"
    board = pd.read_csv(work / "results/leaderboard/overall/leaderboard.csv")
    assert set(board["method"]) == {"erm", "resample"}
    run_jsons = sorted((work / "results/runs").rglob("run.json"))
    assert len(run_jsons) == 2
    job_ids = set()
    for path in run_jsons:
        scheduler = json.loads(path.read_text())["scheduler"]
        assert scheduler.get("SLURM_JOB_ID", "").isdigit(), f"{path}: no SLURM job id: {scheduler}"
        job_ids.add(scheduler["SLURM_JOB_ID"])
    assert len(job_ids) == 2, "each train run is its own SLURM job"
    # The GPU request reached SLURM: the finished train jobs asked for gres gpu:1.
    for job_id in job_ids:
        shown = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True)
        if shown.returncode == 0:  # still known to slurmctld (MinJobAge=3600)
            assert "gres/gpu=1" in shown.stdout or "gpu:1" in shown.stdout, shown.stdout
