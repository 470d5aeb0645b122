"""Shared fixtures: a tiny shortcut-reliant ERM run on synthetic data and its shifted twin."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fairmedia.data.synthetic import write_synthetic
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

# In distribution the corner marker stays correlated with the label at test (group F relies on it);
# the twin is the same seed and patients through another scanner with the marker reversed at test.
SOURCE = {"n": 600, "size": 24, "seed": 0, "shortcut_test": "same"}
TWIN = {"n": 600, "size": 24, "seed": 0, "shift": "scanner+shortcut"}


@pytest.fixture(scope="session")
def ood_data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ood")
    torch.set_num_threads(1)
    src = write_synthetic(root / "src", "shortcut", **SOURCE)
    twin = write_synthetic(root / "twin", "shortcut", **TWIN)
    run = train_run(TrainConfig(prepared=str(src), out=str(root / "run"), epochs=4, batch_size=32,
                                seed=0, threads=1), log=lambda *_: None)
    return {"root": root, "src": src, "twin": twin, "run": run}
