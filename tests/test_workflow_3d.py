"""An end-to-end workflow run on the synthetic 3D mode with two methods (issue: 3D volumes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_end_to_end_3d_with_two_methods(tmp_path, snakemake):
    config = yaml.safe_load((REPO / "config" / "synthetic-3d.yaml").read_text())
    config["datasets"]["synth3d-mixed"]["options"] = {"n": 160, "size": 12, "seed": 0, "dims": 3}
    config.update(seeds=[0], selections=["overall"], train={**config["train"], "epochs": 2},
                  evaluation={"bootstrap": 0}, leaderboard={"bootstrap": 0, "figures": False})
    path = tmp_path / "tiny3d.yaml"
    path.write_text(yaml.safe_dump(config))
    res = snakemake(tmp_path, "--cores", "2", "--configfile", str(path))
    assert res.returncode == 0, res.stderr[-3000:]
    images = np.load(tmp_path / "results/prepared/synth3d-mixed/images.npy", mmap_mode="r")
    assert images.shape == (160, 1, 12, 12, 12)
    board = pd.read_csv(tmp_path / "results/leaderboard/overall/leaderboard.csv")
    assert set(board["method"]) == {"erm", "resample"}
    assert board[board.metric == "auc"]["mean"].between(0, 1).all()
