"""Fixtures for the dataset-adapter tests: the real metadata shipped in torchxrayvision's wheel
(read in place, never copied into the repository) and small phantom images."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def txv_data() -> Path:
    spec = importlib.util.find_spec("torchxrayvision")
    if spec is None or spec.origin is None:
        pytest.skip("torchxrayvision (test dependency) is not installed")
    folder = Path(spec.origin).parent / "data"
    if not (folder / "chexpert_train.csv.gz").exists():
        pytest.skip(f"torchxrayvision has no metadata CSVs in {folder}")
    return folder


def write_phantom(path: Path, value: int, size: tuple[int, int] = (40, 32), mode: str = "L") -> None:
    """A flat image whose grey level encodes the row, so tests can check row order after decoding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    Image.fromarray(np.full(shape, value, dtype=np.uint8), mode=mode).save(path)


@pytest.fixture
def phantom():
    return write_phantom
