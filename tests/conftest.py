"""Shared fixtures: tiny synthetic prepared datasets written once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests share two cores; one torch thread per process keeps them from oversubscribing.
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from benchmark.data.synthetic import write_synthetic

    out = tmp_path_factory.mktemp("prepared") / "synth-mixed"
    return write_synthetic(out, "mixed", n=300, size=16, seed=0)
