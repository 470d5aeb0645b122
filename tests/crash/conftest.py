"""Helpers for the crash-safety tests: the repository's workflow run in a scratch folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))

# The smallest grid that still has every rule: one prepare, an attribute-free and an
# attribute-using run, their evaluations and a leaderboard.
TINY_CONFIG = {
    "datasets": {"tiny": {"card": "synthetic", "preset": "mixed",
                          "options": {"n": 300, "size": 16, "seed": 0}, "attributes": ["sex"]}},
    "archs": ["cnn-small"], "methods": ["erm", "resample"], "seeds": [0],
    "selections": ["overall"], "train": {"epochs": 3, "batch_size": 32},
    "evaluation": {"bootstrap": 20}, "leaderboard": {"bootstrap": 20, "figures": False},
    "resources": {"train": {"gpu": 0, "cpus": 1, "mem_mb": 1000, "runtime": 10}},
}


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    # No --workflow-profile: Snakemake finds profiles/default beside the Snakefile, as it does for
    # the README's plain `snakemake --cores 2`.
    return [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args]


def run_snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(snakemake_command(workdir, *args), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=workdir.parent)


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_CONFIG))
    return path
