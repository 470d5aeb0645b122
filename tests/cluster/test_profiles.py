"""The SLURM profile's dry run shows the resources each job asks for (per dataset overrides
included); every profile uses the greedy scheduler and the stated rerun triggers; `snakemake
--lint` has nothing to say but the per-rule conda/container advice."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PROFILES = REPO / "workflow" / "profiles"


def _snakemake(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(cwd), *args],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def _job_resources(out: str, rule: str) -> list[dict[str, str]]:
    """Each `rule NAME:` block's `resources:` line of a dry run, parsed into a dict."""
    found = []
    for block in re.split(r"\n\s*rule ", out)[1:]:
        if block.startswith(f"{rule}:"):
            line = re.search(r"resources: (.*)", block).group(1)
            found.append(dict(item.split("=", 1) for item in line.split(", ")))
    return found


def test_slurm_profile_dry_run_shows_each_train_jobs_resources(tmp_path):
    config = {
        "datasets": {
            "small": {"card": "synthetic", "options": {"n": 200, "size": 16}, "attributes": ["sex"]},
            "large": {"card": "synthetic", "options": {"n": 200, "size": 16}, "attributes": ["sex"]},
        },
        "archs": ["cnn-small"], "methods": ["erm", "groupdro"], "seeds": [0],
        "train": {"num_workers": 6, "threads": 2, "pin_memory": True},
        "resources": {"train": {"gpu": 1, "cpus": 8, "mem_mb": 16000, "runtime": 60,
                                "slurm_partition": "gpu",
                                "overrides": {"large": {"runtime": 600, "mem_mb": 48000,
                                                       "gpu_model": "a100"}}}},
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(config))
    res = _snakemake("-n", "--workflow-profile", str(PROFILES / "slurm"), "--configfile", str(path),
                     cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    train = _job_resources(res.stdout, "train")
    assert len(train) == 4  # 2 datasets × (erm on any, groupdro on sex)
    for job in train:
        assert job["gpu"] == "1" and job["cpus_per_task"] == "8"
        assert job["slurm_partition"] == "gpu"
    by_runtime = sorted((int(j["runtime"]), j["mem_mb"], j.get("gpu_model", "")) for j in train)
    assert by_runtime == [(60, "16000", ""), (60, "16000", ""), (600, "48000", "a100"),
                          (600, "48000", "a100")]
    # Speed-only settings are written into the command (no rerun trigger, nothing per job).
    commands = [line for line in res.stdout.splitlines() if " -m fairmedia.cli train " in line]
    assert len(commands) == 4
    for line in commands:
        assert "--num-workers 6" in line and "--threads 2" in line and "--pin-memory 1" in line
    # Evaluations are grouped into SLURM jobs of several.
    assert "Group job evaluate" in res.stdout or "group job evaluate" in res.stdout.lower()


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_every_profile_uses_greedy_and_code_changes_are_no_rerun_trigger(profile):
    settings = yaml.safe_load((PROFILES / profile / "config.yaml").read_text())
    assert settings["scheduler"] == "greedy"
    assert settings["rerun-incomplete"] is True
    assert set(settings["rerun-triggers"]) == {"mtime", "params", "input"}
    assert (REPO / "profiles" / "default").resolve() == (PROFILES / "local").resolve()


def test_slurm_profile_retries_and_requeues():
    settings = yaml.safe_load((PROFILES / "slurm" / "config.yaml").read_text())
    assert settings["executor"] == "slurm"
    assert settings["retries"] >= 1 and settings["slurm-requeue"] is True


def test_plain_snakemake_in_the_repository_loads_the_default_profile():
    """`snakemake --cores 2` from the repository root, no other flag (here a dry run): Snakemake
    looks for profiles/default beside the Snakefile, which is the local profile."""
    res = subprocess.run([SNAKEMAKE, "--cores", "2", "-n"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "Using workflow specific profile profiles/default" in res.stderr
    assert (REPO / "profiles/default").resolve() == PROFILES / "local"


@pytest.mark.slow
def test_a_rule_text_edit_does_not_retrain_finished_runs(tmp_path):
    """The default profile's rerun triggers are in force: after a finished run, a comment added
    to a copy of train.smk plans nothing (with Snakemake's own defaults it would replan)."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("Snakefile", "workflow", "profiles", "config"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, copy / name, symlinks=True)
        else:
            shutil.copy2(src, copy / name)
    config = {"datasets": {"tiny": {"card": "synthetic", "preset": "mixed",
                                    "options": {"n": 200, "size": 16}, "attributes": ["sex"]}},
              "archs": ["cnn-small"], "methods": ["erm"], "seeds": [0], "selections": ["overall"],
              "train": {"epochs": 1, "batch_size": 32}, "evaluation": {"bootstrap": 0},
              "leaderboard": {"bootstrap": 0, "figures": False},
              "resources": {"train": {"gpu": 0, "cpus": 1, "mem_mb": 1000, "runtime": 10}}}
    (copy / "tiny.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([SNAKEMAKE, "--cores", "2", "--configfile", "tiny.yaml"], cwd=copy,
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    with open(copy / "workflow/rules/train.smk", "a") as fh:
        fh.write("\n# an edit that changes no command\n")
    plan = subprocess.run([SNAKEMAKE, "-n", "--configfile", "tiny.yaml"], cwd=copy,
                          capture_output=True, text=True, timeout=300, env=env)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "Nothing to be done" in plan.stdout + plan.stderr, plan.stdout[-3000:]
