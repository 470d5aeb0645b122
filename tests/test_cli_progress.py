"""Long work shows progress as whole lines in a log (no carriage-return counter): prepare's image
and volume decoding, and the leaderboard's bootstrap."""

from __future__ import annotations

import numpy as np
from PIL import Image

from fairmedia.data.adapters._image_decode import decode_images
from fairmedia.report.bootstrap_runs import bootstrap_runs
from fairmedia.report.collect import eval_dirs
from fairmedia.testing.synthetic_runs import write_runs


def _log_lines(err: str) -> list[str]:
    assert "\r" not in err  # stderr is captured (not a terminal): one line per update
    return [line for line in err.splitlines() if line.strip()]


def test_prepare_decoding_reports_whole_lines_with_a_count(tmp_path, capsys):
    root = tmp_path / "raw"
    root.mkdir()
    paths = []
    for i in range(3):
        Image.fromarray(np.full((12, 12), 40 * i, dtype=np.uint8)).save(root / f"{i}.png")
        paths.append(f"{i}.png")
    out = tmp_path / "prepared"
    out.mkdir()
    assert decode_images(root, out, paths, size=8, channels=1, workers=1) == []
    lines = _log_lines(capsys.readouterr().err)
    assert lines[-1].lstrip().startswith("images: 100%")
    assert " 3/3 [" in lines[-1]  # the count, then elapsed<remaining and rate


def test_leaderboard_bootstrap_reports_blocks(tmp_path, capsys):
    runs = write_runs(tmp_path, [("a", "sex"), ("b", "sex")], {"erm": 0.0, "groupdro": 0.3},
                      seeds=[0, 1], selections=["overall"], n_test=120)
    boot = bootstrap_runs(eval_dirs(runs, "overall"), "erm", ["auc"], n_boot=20, seed=0)
    assert set(boot["method"]) == {"groupdro"}
    lines = _log_lines(capsys.readouterr().err)
    assert lines[-1].startswith("bootstrap (20 resamples per block): 100%")
    assert " 2/2 [" in lines[-1]
