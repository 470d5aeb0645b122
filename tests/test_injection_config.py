"""The workflow's `inject:` section: every mistake is one line naming the config field at planning
time (grid.check_config, and `snakemake -n`), and a derived key is planned as a dataset of its
own, prepared by `fairmedia inject` from its base through the prepare rule."""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from fairmedia import grid, layout
from fairmedia.errors import UserError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "injection-example.yaml"
CHANGE = {"kind": "underdiagnosis", "attribute": "sex", "group": "F", "fraction": 0.25,
          "splits": ["train", "val"]}


def _config(**change) -> dict:
    config = yaml.safe_load(EXAMPLE.read_text())
    config["inject"]["synth-ud25"]["changes"] = [{**CHANGE, **change}]
    return config


def _error(config: dict) -> str:
    with pytest.raises(UserError) as err:
        grid.check_config(config)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_the_example_config_passes_and_fraction_one_is_allowed():
    grid.check_config(_config())
    grid.check_config(_config(fraction=1))


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "flip"}, "config inject.synth-ud25.changes[0].kind: unknown kind 'flip'; valid: "
                       "underdiagnosis, subsample, subsample_positives"),
    ({"attribute": "race"}, "config inject.synth-ud25.changes[0].attribute: 'race' is not an "
                            "attribute of the base dataset; its attributes: ['sex']"),
    ({"group": "X"}, "config inject.synth-ud25.changes[0].group: 'X' is not a group of 'sex'; "
                     "declared groups: ['M', 'F']"),
    ({"fraction": 0}, "config inject.synth-ud25.changes[0].fraction: expected a number in (0, 1]"),
    ({"fraction": 1.5}, "config inject.synth-ud25.changes[0].fraction: expected a number in (0, 1]"),
    ({"splits": ["train", "test"]}, "config inject.synth-ud25.changes[0].splits: 'test' is "
                                    "refused; test labels and rows are never touched"),
    ({"splits": ["training"]}, "config inject.synth-ud25.changes[0].splits: unknown split(s) "
                               "['training']; valid: train, val"),
])
def test_a_bad_change_names_its_field(change, message):
    assert _error(_config(**change)).startswith(message)


def test_a_base_must_be_a_dataset_key_and_not_itself_derived():
    config = _config()
    config["inject"]["synth-ud25"]["from"] = "synth-typo"
    assert _error(config) == ("config inject.synth-ud25.from: 'synth-typo' is not a key of "
                              "datasets:; valid: synth")
    config = _config()
    config["inject"]["synth-twice"] = {"from": "synth-ud25", "changes": [CHANGE]}
    assert _error(config).startswith("config inject.synth-twice.from: 'synth-ud25' is itself an "
                                      "inject: entry")
    config = _config()
    config["inject"]["synth"] = {"from": "synth", "changes": [CHANGE]}
    assert _error(config).startswith("config inject.synth: the name is already a key of datasets:")


def test_a_derived_key_is_a_dataset_prepared_from_its_base_by_fairmedia_inject():
    config = _config()
    grid.check_config(config)
    grid.merge_injections(config)
    entry = config["datasets"]["synth-ud25"]
    assert entry["card"] == "synthetic" and entry["attributes"] == ["sex"]
    assert {r.dataset for r in grid.runs(config)} == {"synth", "synth-ud25"}
    assert grid.prepare_inputs(config, "synth-ud25") == [f"{layout.prepared_dir('synth')}/manifest.json"]
    assert grid.prepare_inputs(config, "synth") == []
    words = shlex.split(grid.prepare_command(config, "synth-ud25", "results/prepared/synth-ud25"))
    assert words[:3] == ["inject", "--prepared", layout.prepared_dir("synth")]
    assert json.loads(words[words.index("--spec") + 1]) == {"seed": 0, "changes": [CHANGE]}
    assert words[-2:] == ["--out", "results/prepared/synth-ud25"]
    assert grid.prepare_command(config, "synth", "x").startswith("synth --preset none")


def test_a_derived_key_can_be_a_transfer_source():
    config = _config()
    config["transfer"] = [{"source": "synth-ud25", "targets": ["synth"]}]
    grid.check_config(copy.deepcopy(config))  # checked before the merge, as the workflow does
    grid.merge_injections(config)
    assert grid.transfer_pairs(config) == {("synth-ud25", "synth"): {"sex": "sex"}}


def test_dry_run_plans_the_derived_prepare_and_refuses_a_test_split(tmp_path, snakemake):
    res = snakemake(tmp_path, "-n", "-p", "--configfile", str(EXAMPLE))
    assert res.returncode == 0, res.stderr
    assert re.search(r"^prepare\s+2$", res.stdout, re.M)
    assert re.search(r"^train\s+12$", res.stdout, re.M)  # 2 seeds × (erm + 2 methods × sex) × 2
    assert "-m fairmedia.cli inject --prepared results/prepared/synth --spec" in res.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_config(splits=["test"])))
    res = snakemake(tmp_path, "-n", "--configfile", str(bad))
    assert res.returncode != 0
    assert "config inject.synth-ud25.changes[0].splits: 'test' is refused" in res.stdout + res.stderr
    assert not (tmp_path / "results").exists()
