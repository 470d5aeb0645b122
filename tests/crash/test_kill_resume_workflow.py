"""A real Snakemake run of the tiny grid, SIGKILLed (with every job it started) at a random moment
and rerun, ends with the same leaderboard as an uninterrupted run, and no run folder is left
half-written. The kill point comes from a seeded RNG, so a failure can be replayed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, TINY_CONFIG, run_snakemake, snakemake_command

pytestmark = pytest.mark.slow

KILL_SEED = 9


def _assert_no_half_written_runs(workdir: Path) -> None:
    runs = workdir / "results" / "runs"
    assert not list(runs.rglob("*.partial")), "a .partial file was left behind"
    for run_json in runs.rglob("run.json"):
        json.loads(run_json.read_text())  # complete JSON, not a truncated file
        run = run_json.parent
        for name in ("predictions.parquet", "epoch_scores.parquet"):
            pd.read_parquet(run / name)


def test_killed_workflow_reruns_to_the_same_leaderboard(tmp_path, tiny_config):
    reference = tmp_path / "uninterrupted"
    res = run_snakemake(reference, "--cores", "2", "--configfile", str(tiny_config))
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"Using workflow specific profile {REPO / 'profiles/default'}" in res.stderr

    killed = tmp_path / "killed"
    # A random point of the run, by progress rather than by clock (the machine may be busy): after
    # the k-th epoch has written its weights, plus a random fraction of a second, so the kill
    # lands between epochs, inside one, or inside a write.
    rng = random.Random(KILL_SEED)
    epochs_in_grid = 2 * TINY_CONFIG["train"]["epochs"]  # two runs
    k, extra = rng.randint(1, epochs_in_grid - 1), rng.uniform(0.0, 0.5)
    proc = subprocess.Popen(snakemake_command(killed, "--cores", "2", "--configfile", str(tiny_config)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            cwd=tmp_path)
    deadline = time.monotonic() + 300
    while len(list((killed / "results/runs").glob("**/weights/epoch*.pt"))) < k:
        assert proc.poll() is None, f"the run ended before epoch {k} was written"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(extra)
    assert proc.poll() is None, "the run ended before the kill"
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and every job: a node going away
    proc.wait()
    assert not (killed / "results/leaderboard/overall/leaderboard.csv").exists()

    # What a user does after a crash (docs/cluster.md): release Snakemake's lock, then the plain
    # command again; the default profile's rerun-incomplete resumes the killed jobs.
    res = run_snakemake(killed, "--unlock", "--configfile", str(tiny_config))
    assert res.returncode == 0, res.stderr[-3000:]
    res = run_snakemake(killed, "--cores", "2", "--configfile", str(tiny_config))
    assert res.returncode == 0, res.stderr[-3000:]

    a = pd.read_csv(reference / "results/leaderboard/overall/leaderboard.csv")
    b = pd.read_csv(killed / "results/leaderboard/overall/leaderboard.csv")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for pred in (reference / "results/runs").rglob("predictions.parquet"):
        twin = killed / pred.relative_to(reference)
        pd.testing.assert_frame_equal(pd.read_parquet(pred), pd.read_parquet(twin), check_exact=True)
    _assert_no_half_written_runs(killed)
