"""Shared fixtures: tiny synthetic prepared datasets written once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Tests share two cores; one torch thread per process keeps them from oversubscribing.
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]

if os.environ.get("FAIRMEDIA_MUTANT"):
    # The mutation check (tests/mutation/run_mutations.py): one method's mechanism removed.
    from mutation.mutants import apply_mutant

    print(f"mutant: {os.environ['FAIRMEDIA_MUTANT']} ({apply_mutant(os.environ['FAIRMEDIA_MUTANT'])})")


@pytest.fixture(scope="session")
def tiny_prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fairmedia.data.synthetic import write_synthetic

    out = tmp_path_factory.mktemp("prepared") / "synth-mixed"
    return write_synthetic(out, "mixed", n=300, size=16, seed=0)


def _snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run this repository's Snakefile with ``workdir`` as the working directory (results/ there)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    exe = str(Path(sys.executable).with_name("snakemake"))
    return subprocess.run([exe, "-s", str(REPO / "Snakefile"), "-d", str(workdir), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def snakemake() -> Callable[..., subprocess.CompletedProcess]:
    return _snakemake
