"""One run layout: the Snakemake patterns and the paths code reads are the same strings; a
metrics.json path parses back to its run; joined names (intersections, transfer directions) are
shell-safe and parse back; an intersection evaluated by the workflow's command is keyed by the
name its folder carries, so the leaderboard finds its disparities."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from fairmedia import config_checks, layout
from fairmedia.cli import main
from fairmedia.report.collect import flatten_metrics

REPO = Path(__file__).resolve().parents[1]


def test_patterns_are_the_values_with_wildcards():
    assert layout.run_dir() == "results/runs/{dataset}/{arch}/{method}/{attribute}/seed{seed}"
    assert layout.run_dir("d", "a", "m", "sex", 3) == "results/runs/d/a/m/sex/seed3"
    assert layout.eval_dir(layout.run_dir("d", "a", "m", "any", 0), "sex", "overall") == \
        "results/runs/d/a/m/any/seed0/eval/sex/overall"
    assert layout.transfer_dir("s", "t", "a", "m", "any", 1) == "results/transfer/s__to__t/a/m/any/seed1"
    assert str(layout.weights_file("r", 7)) == "r/weights/epoch007.pt"
    assert layout.weights_epoch(layout.weights_file("r", 12)) == 12


def test_no_rule_spells_a_contract_path_itself():
    """The .smk files name paths only through layout (no results/ literal, no seed{ pattern)."""
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        lines = smk.read_text().splitlines()
        code = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
        assert "results/" not in code, smk.name
        assert not re.search(r"seed\{|\.parquet\"|\.json\"", code), smk.name


def test_a_metrics_path_parses_back_to_its_run(tmp_path):
    run = layout.run_dir("synth", "cnn-small", "groupdro@hp2", "sex", 4, root=str(tmp_path))
    path = Path(layout.eval_dir(run, "sex__x__age_group", "worst_group")) / layout.METRICS
    parsed = layout.parse_metrics_path(path, tmp_path)
    assert (parsed.dataset, parsed.arch, parsed.method, parsed.train_attribute, parsed.seed,
            parsed.attribute, parsed.selection) == ("synth", "cnn-small", "groupdro@hp2", "sex", 4,
                                                    "sex__x__age_group", "worst_group")
    assert parsed.run_dir == Path(run)


def test_a_malformed_metrics_path_is_an_error_naming_it(tmp_path):
    bad = tmp_path.joinpath("synth", "cnn-small", "erm", "any", "seedX", "eval", "sex", "overall",
                            "metrics.json")
    with pytest.raises(Exception, match="seedX"):
        layout.parse_metrics_path(bad, tmp_path)


@pytest.mark.parametrize("a, b", [("sex", "age_group"), ("race_binary", "age.5"),
                                  ("synth-src", "synth-twin")])
def test_joined_names_are_shell_safe_and_parse_back(a, b):
    for name in (layout.intersection_name(a, b), layout.pair_name(a, b)):
        assert shlex.quote(name) == name  # nothing a shell would interpret
    assert layout.intersection_parts(layout.intersection_name(a, b)) == [a, b]
    assert layout.pair_parts(layout.pair_name(a, b)) == (a, b)
    # Safe names never hold the double underscore that joins them, so parsing is unambiguous.
    assert re.match(config_checks.SAFE_NAME, a) and "__" not in a


def test_an_intersection_is_keyed_by_its_folder_name(tiny_prepared, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--prepared", str(tiny_prepared), "--out", str(run), "--epochs", "1",
                 "--batch-size", "32", "--max-steps-per-epoch", "2"]) == 0
    attribute = layout.intersection_name("sex", "age_group")
    out = tmp_path / "eval"
    assert main(["evaluate-run", str(run), "--attribute", attribute, "--selection", "overall",
                 "--out-dir", str(out), "--bootstrap", "0", "--min-group-size", "0"]) == 0
    report = json.loads((out / layout.METRICS).read_text())
    assert attribute in report["attributes"]
    assert "auc_gap" in flatten_metrics(report, attribute)
