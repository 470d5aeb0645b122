"""The Snakemake workflow: dry-run job counts, config errors before any job, and an end-to-end
run of a tiny config that ends with the leaderboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fairmedia import grid, layout
from fairmedia.errors import UserError

REPO = Path(__file__).resolve().parents[1]

def _job_counts(stdout: str) -> dict[str, int]:
    counts, inside = {}, False
    for line in stdout.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            inside = True
        elif inside and len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
            if parts[0] == "total":
                break
    return counts


def test_dry_run_of_the_default_config_plans_the_expected_jobs(tmp_path, snakemake):
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    res = snakemake(tmp_path, "-n", "--configfile", str(REPO / "config" / "config.yaml"))
    assert res.returncode == 0, res.stderr
    # 3 seeds: erm trains once (attribute "any"), resample and groupdro once per attribute (sex);
    # each run is evaluated on sex for 2 selections; one leaderboard per selection; one
    # separability classifier for the dataset's one attribute.
    n_runs = len(config["seeds"]) * len(config["methods"])
    assert n_runs == 9
    assert _job_counts(res.stdout) == {"prepare": 1, "train": 9, "evaluate": 18, "leaderboard": 2,
                                       "leaderboard_html": 1, "separability": 1,
                                       "all": 1, "total": 33}


def test_unknown_method_fails_before_any_job_and_lists_valid_names(tmp_path, snakemake):
    bad = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    bad["methods"] = ["erm", "fairness-magic"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    res = snakemake(tmp_path, "-n", "--configfile", str(path))
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "'fairness-magic' is not one of" in out or "unknown method(s) ['fairness-magic']" in out
    assert "erm" in out and "groupdro" in out
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("key, value, message", [
    ("methods", ["erm", "magic"], "config methods: unknown method(s) ['magic']; valid: "),
    ("archs", ["vgg"], "config archs: unknown architecture(s) ['vgg']; valid: "),
    ("datasets", {"x": {"card": "nope", "attributes": ["sex"]}}, "unknown dataset 'nope'; valid: "),
    ("datasets", {"x": {"card": "synthetic", "attributes": ["race"]}}, "not in card 'synthetic'"),
    ("datasets", {"x": {"card": "chexpert", "attributes": ["sex"]}}, "needs `root:`"),
    ("methods", ["resample"], "must include the baseline 'erm'"),
])
def test_config_name_errors(key, value, message):
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config[key] = value
    with pytest.raises(UserError) as err:
        grid.check_config(config)
    assert message in str(err.value)


def test_attribute_free_methods_train_once_and_are_evaluated_on_every_attribute():
    config = {"datasets": {"d": {"card": "synthetic", "attributes": ["sex", "age_group"]}},
              "archs": ["cnn-small"], "methods": ["erm", "resample"], "seeds": [0],
              "evaluation": {"intersect": True}}
    runs = grid.runs(config)
    assert [(r.method, r.attribute) for r in runs] == [("erm", "any"), ("resample", "sex"),
                                                       ("resample", "age_group")]
    assert grid.eval_attributes(config, runs[0]) == ["sex", "age_group", "sex__x__age_group"]
    assert grid.eval_attributes(config, runs[1]) == ["sex", "sex__x__age_group"]


@pytest.mark.slow
def test_end_to_end_tiny_config_produces_the_leaderboard(tmp_path, snakemake):
    config = {
        "datasets": {"tiny": {"card": "synthetic", "preset": "mixed",
                              "options": {"n": 300, "size": 16, "seed": 0}, "attributes": ["sex"]}},
        "archs": ["cnn-small"], "methods": ["erm", "resample", "groupdro"], "seeds": [0, 1],
        "selections": ["overall"], "train": {"epochs": 2, "batch_size": 32},
        "evaluation": {"bootstrap": 20}, "leaderboard": {"bootstrap": 20},
        "resources": {"train": {"gpu": 0}},
        "diagnostics": {"separability": {"enabled": True, "epochs": 1, "bootstrap": 20}},
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    res = snakemake(tmp_path, "--cores", "2", "--configfile", str(path))
    assert res.returncode == 0, res.stderr[-3000:]
    board = pd.read_csv(tmp_path / "results/leaderboard/overall/leaderboard.csv")
    assert set(board["method"]) == {"erm", "resample", "groupdro"}
    assert set(board["metric"]) >= {"auc", "auc_worst", "auc_gap"}
    assert (board["n_seeds"] == 2).all()
    erm_auc = board[(board.method == "erm") & (board.metric == "auc")]
    assert erm_auc["mean"].between(0, 1).all()
    # The leaderboard is printed at the end of the run, with the attribute's separability
    # under the block (the number the separability rule wrote).
    assert "Leaderboard — selection: overall" in res.stdout
    separability = json.loads((tmp_path / layout.separability_file("tiny", "sex")).read_text())
    assert f"Subgroup separability of sex: test AUC {separability['auc']:.3f}" in res.stdout
    # The Snakemake HTML report holds the tables and the declared figures.
    rep = snakemake(tmp_path, "--configfile", str(path), "--report", str(tmp_path / "report.zip"))
    assert rep.returncode == 0, rep.stderr[-2000:]
    import zipfile

    names = zipfile.ZipFile(tmp_path / "report.zip").namelist()
    assert any(n.endswith("leaderboard.md") for n in names)
    assert any(n.endswith("groups_tiny_sex_cnn-small.png") for n in names)
    assert any(n.endswith("groups_tiny_sex_cnn-small.pdf") for n in names)
    # A rerun has nothing to do: finished runs are never retrained.
    again = snakemake(tmp_path, "--cores", "2", "--configfile", str(path), "-n")
    assert "Nothing to be done" in again.stdout + again.stderr
    # A missing figure (e.g. the PDF beside a PNG of an older version) redraws the leaderboard,
    # and only that: no run is retrained or re-evaluated.
    (tmp_path / "results/leaderboard/overall/groups_tiny_sex_cnn-small.pdf").unlink()
    redraw = snakemake(tmp_path, "--cores", "2", "--configfile", str(path), "-n")
    planned = redraw.stdout + redraw.stderr
    assert re.search(r"^leaderboard\s+1$", planned, flags=re.M), planned[-2000:]
    assert not re.search(r"^(train|evaluate)\s+\d+$", planned, flags=re.M), planned[-2000:]

    # Publishing the table and re-running one of its cells elsewhere gives identical numbers.
    from fairmedia.report.publish import publish
    from fairmedia.report.reproduce import reproduce_cell

    published = publish(path, tmp_path / "results/leaderboard", tmp_path / "published")
    table = reproduce_cell(published, "tiny/sex/cnn-small/groupdro", tmp_path / "again")
    assert set(table["metric"]) >= {"auc", "auc_worst", "auc_gap"}
    assert (table["difference"] == 0).all(), table
