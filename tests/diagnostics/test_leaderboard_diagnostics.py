"""What the leaderboard shows from the diagnostics: the power mark (†) of each cell and the
subgroup-separability line under each block (docs/diagnostics.md, docs/statistics.md)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy.stats import norm
from snakemake.utils import validate

from fairmedia import layout
from fairmedia.diagnostics import plan
from fairmedia.errors import UserError
from fairmedia.report.pipeline import write_leaderboard
from fairmedia.testing.synthetic_runs import write_runs

REPO = Path(__file__).resolve().parents[2]
METRICS = ["auc", "auc_worst"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    # One method far from ERM (detectable) and one close to it, on a small test set.
    return write_runs(tmp_path_factory.mktemp("runs"), [("synthA", "sex")],
                      {"erm": 0.0, "gdro": 0.6, "resampling": 0.02}, seeds=[0, 1, 2],
                      selections=["overall"], n_test=300)


def _board(runs: Path, out: Path, **kw) -> tuple[pd.DataFrame, str, str]:
    md = write_leaderboard(runs, "overall", out, METRICS, n_boot=200, figures=False, **kw)
    return pd.read_csv(out / "leaderboard.csv"), md, (out / "leaderboard.tex").read_text()


def test_underpowered_cells_are_the_ones_whose_detectable_delta_exceeds_the_effect(runs, tmp_path):
    # 0.05: between the fixture's detectable Δ of overall AUC (~0.04) and of the rest (> 0.05).
    board, md, tex = _board(runs, tmp_path / "lb", effect_size=0.05)
    sig = pd.read_csv(tmp_path / "lb" / "significance.csv")
    cells = board[board["method"] != "erm"].drop(columns=["boot_ci_low", "boot_ci_high"]).merge(
        sig[["metric", "method", "boot_ci_low", "boot_ci_high"]], on=["metric", "method"])
    # Minimum detectable Δ of a two-sided z-test at α 0.05, power 0.8, SE from the 95 % CI.
    se = (cells["boot_ci_high"] - cells["boot_ci_low"]) / (2 * norm.ppf(0.975))
    expected = (norm.ppf(0.975) + norm.ppf(0.8)) * se
    pd.testing.assert_series_equal(cells["mdd"], expected, check_names=False, rtol=1e-9)
    assert (cells["underpowered"] == (expected > 0.05)).all()
    assert board.loc[board["method"] == "erm", "underpowered"].isna().all()
    n_marked = int((expected > 0.05).sum())
    assert 0 < n_marked < len(cells)  # the fixture has both kinds, so the check can fail
    table_rows = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert sum(line.count("†") for line in table_rows) == n_marked
    assert "cannot detect |Δ| = 0.05" in md and f"{n_marked} of {len(cells)} cells" in md
    assert tex.count(r"$^{\dagger}$") == n_marked + 1  # the cells and the legend


def test_no_marks_without_an_effect_size(runs, tmp_path):
    board, md, _ = _board(runs, tmp_path / "lb")
    assert "underpowered" not in board and "†" not in md


def _separability_file(root: Path, dataset: str, attribute: str) -> Path:
    path = root / layout.separability_file(dataset, attribute)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auc": 0.9612, "ci": [0.9401, 0.9788], "arch": "cnn-small",
                                "epochs": 5, "n_per_group": {"test": {"F": 120, "M": 130}}}))
    return path


def test_separability_line_under_its_block(runs, tmp_path):
    files = [_separability_file(tmp_path, "synthA", "sex"),
             _separability_file(tmp_path, "other", "age")]  # no such block: no line, no error
    _, md, tex = _board(runs, tmp_path / "lb", separability=files)
    lines = md.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("## synthA · sex"))
    assert lines[head + 2].startswith("Subgroup separability of sex: test AUC 0.961 "
                                      "[0.940, 0.979] (95 % CI)")
    assert "n = 250" in lines[head + 2] and md.count("Subgroup separability") == 1
    assert "Subgroup separability of sex: test AUC 0.961" in tex


def test_unreadable_separability_file_is_named(runs, tmp_path):
    bad = _separability_file(tmp_path, "synthA", "sex")
    bad.write_text("{not json")
    with pytest.raises(UserError, match=f"{bad}: not a readable"):
        _board(runs, tmp_path / "lb", separability=[bad])
    with pytest.raises(UserError, match="not a separability result path"):
        _board(runs, tmp_path / "lb2", separability=[tmp_path / "x.txt"])


def _demo_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_plan_defaults_equal_the_schema_defaults():
    config = {k: v for k, v in copy.deepcopy(_demo_config()).items() if k != "diagnostics"}
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"), set_default=True)
    assert config["diagnostics"]["separability"] == plan.SEPARABILITY_DEFAULTS
    assert plan.separability_targets(config) == []  # off unless enabled


def test_plan_targets_and_quoted_arguments():
    config = {"datasets": {"a": {"attributes": ["sex", "age"]}, "b": {"attributes": ["race"]}},
              "diagnostics": {"separability": {"enabled": True, "epochs": 2}}}
    assert plan.separability_targets(config) == [
        "results/separability/a/sex.json", "results/separability/a/age.json",
        "results/separability/b/race.json"]
    assert plan.separability_args(config) == "--arch cnn-small --epochs 2 --bootstrap 1000 --seed 0"
    config["diagnostics"]["separability"]["arch"] = "vgg"
    with pytest.raises(UserError, match=r"diagnostics.separability.arch: unknown architecture "
                                        r"'vgg'; valid: .*cnn-small"):
        plan.check_diagnostics(config)


def test_separability_paths_round_trip():
    path = layout.separability_file("synth-mixed", "sex")
    assert layout.parse_separability_file(path) == ("synth-mixed", "sex")
    assert layout.separability_scores(path) == "results/separability/synth-mixed/sex.scores.parquet"
    assert layout.parse_separability_file("results/x.txt") is None
