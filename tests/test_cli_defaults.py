"""One significance path: `fairmedia leaderboard` run by hand uses the workflow's defaults (the
config schema's leaderboard section), so the same runs give the same significance.csv either way."""

from __future__ import annotations

import copy
import runpy
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from snakemake.utils import validate

from fairmedia.cli import build_parser, main
from fairmedia.commands import leaderboard
from fairmedia.testing.synthetic_runs import write_runs

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SCRIPT = REPO / "workflow" / "scripts" / "leaderboard.py"
METRICS = ["auc", "auc_worst", "tpr_worst", "equalized_odds"]


def schema_leaderboard_defaults() -> dict:
    """The workflow's leaderboard settings for a config that sets none, as Snakemake fills them."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = {k: v for k, v in copy.deepcopy(config).items() if k != "leaderboard"}
    validate(config, str(SCHEMA), set_default=True)
    return config["leaderboard"]


def cli_defaults() -> dict:
    args = build_parser([leaderboard]).parse_args(["leaderboard", "--out", "x"])
    return vars(args)


def test_cli_leaderboard_defaults_equal_the_schema_defaults():
    workflow, cli = schema_leaderboard_defaults(), cli_defaults()
    assert workflow["bootstrap"] > 0  # the bootstrap is on in both
    for key in ("bootstrap", "correction", "metrics", "hparam_criterion", "hparam_utility",
                "hparam_floor", "effect_size"):
        assert cli[key] == workflow[key], key


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return write_runs(tmp_path_factory.mktemp("runs"), [("synthA", "sex")],
                      {"erm": 0.0, "gdro": 0.3, "resampling": 0.1}, seeds=[0, 1, 2],
                      selections=["overall"], n_test=300)


def test_cli_and_workflow_give_the_same_significance(runs, tmp_path):
    by_hand = tmp_path / "cli"
    assert main(["leaderboard", "--runs", str(runs), "--out", str(by_hand), "--metrics", *METRICS,
                 "--no-figures", "--quiet"]) == 0
    # The leaderboard rule's script, given the params leaderboard.smk builds from the config.
    settings = schema_leaderboard_defaults()
    out = tmp_path / "workflow"
    listing = sorted(str(p) for p in runs.rglob("metrics.json"))
    smk = SimpleNamespace(
        input=SimpleNamespace(metrics=listing, separability=[]),
        log=[str(tmp_path / "leaderboard.log")], threads=1,
        wildcards=SimpleNamespace(selection="overall"),
        params=SimpleNamespace(runs=str(runs), out=str(out), metrics=METRICS,
                               bootstrap=settings["bootstrap"], correction=settings["correction"],
                               baseline="erm", hparam_criterion=settings["hparam_criterion"],
                               hparam_utility=settings["hparam_utility"],
                               hparam_floor=settings["hparam_floor"],
                               effect_size=settings["effect_size"], figures="--no-figures"))
    streams = sys.stdout, sys.stderr  # the script points both at its log file
    try:
        with pytest.raises(SystemExit) as done:
            runpy.run_path(str(SCRIPT), init_globals={"snakemake": smk})
    finally:
        sys.stdout, sys.stderr = streams
    assert done.value.code == 0, (tmp_path / "leaderboard.log").read_text()
    cli_sig = pd.read_csv(by_hand / "significance.csv")
    workflow_sig = pd.read_csv(out / "significance.csv")
    pd.testing.assert_frame_equal(cli_sig, workflow_sig, check_exact=True)
    assert (cli_sig["test"] == "paired patient bootstrap").all()
    assert cli_sig["p_boot"].notna().all()
    # The table legend states the test per column, threshold metrics (tpr_worst) included.
    legend = (by_hand / "leaderboard.md").read_text()
    assert ("Test behind each column's p: `auc`, `auc_worst`, `tpr_worst`, `equalized_odds`: "
            "paired patient-level bootstrap") in legend
