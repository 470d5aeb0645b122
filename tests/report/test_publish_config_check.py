"""`fairmedia publish` refuses a config that does not describe the leaderboard's runs (instead of
"published" now and a failing `reproduce` later), copies figures as PNG and PDF and the HTML page,
and records the version of every package that computes a number."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import yaml

from fairmedia.cli import main
from fairmedia.errors import UserError
from fairmedia.provenance import package_versions
from fairmedia.report.publish import publish
from fairmedia.testing.synthetic_runs import write_runs

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "config.yaml"  # synth-mixed · sex · cnn-small · erm/resample/groupdro


@pytest.fixture(scope="module")
def leaderboard(tmp_path_factory) -> Path:
    """The demo config's leaderboard, made from synthetic runs of exactly its grid."""
    root = tmp_path_factory.mktemp("pub")
    runs = write_runs(root / "runs", [("synth-mixed", "sex")],
                      {"erm": 0.0, "resample": 0.2, "groupdro": 0.3}, seeds=[0, 1, 2],
                      selections=["overall", "worst_group"], n_test=200, arch="cnn-small")
    for sel in ("overall", "worst_group"):
        assert main(["leaderboard", "--runs", str(runs), "--selection", sel, "--out",
                     str(root / "lb" / sel), "--bootstrap", "0", "--no-figures", "--quiet"]) == 0
    for name in ("pareto.png", "pareto.pdf", "leaderboard.html", "notes.txt"):
        (root / "lb" / "overall" / name).write_text(name)
    return root / "lb"


def _config(tmp_path: Path, **changes) -> Path:
    config = {**yaml.safe_load(DEMO.read_text()), **changes}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_matching_config_publishes_tables_figures_html_and_provenance(leaderboard, tmp_path):
    out = publish(DEMO, leaderboard, tmp_path / "pub")
    copied = sorted(p.name for p in (out / "overall").iterdir())
    assert copied == sorted(["leaderboard.csv", "leaderboard.md", "leaderboard.tex",
                             "significance.csv", "ranks.csv", "ranks.json", "nemenyi.csv", "pareto.png",
                             "pareto.pdf", "leaderboard.html"])  # not notes.txt
    assert (out / "config.yaml").read_text() == DEMO.read_text()
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["selections"] == ["overall", "worst_group"]
    assert provenance["packages"]["scipy"] is not None


def test_the_benchmark_config_is_refused_for_the_demo_leaderboard(leaderboard, tmp_path):
    config = REPO / "config" / "synthetic-benchmark.yaml"
    with pytest.raises(UserError) as err:
        publish(config, leaderboard, tmp_path / "pub")
    message = str(err.value)
    assert message.startswith(f"{config} does not describe the leaderboard's runs ")
    assert "its grid has no (dataset/attribute/arch/method) synth-mixed/sex/cnn-small/erm" in message
    assert "the leaderboard has no dataset synth-representation" in message
    assert not (tmp_path / "pub").exists()  # refused before anything was written


@pytest.mark.parametrize("changes, expected", [
    ({"methods": ["erm", "resample"]},
     "its grid has no (dataset/attribute/arch/method) synth-mixed/sex/cnn-small/groupdro"),
    ({"methods": ["erm", "resample", "groupdro", "reweight"]},
     "the leaderboard has no method reweight"),
    ({"seeds": [0, 1, 2, 3]}, "the leaderboard has no run with seed 3"),
    ({"seeds": [0, 1]}, "its grid has no run (dataset/arch/method/attribute/seed) "
                        "synth-mixed/cnn-small/erm/any/2"),
    ({"selections": ["overall"]}, "its selections ['overall'] lack ['worst_group']"),
])
def test_each_kind_of_mismatch_is_named(leaderboard, tmp_path, changes, expected):
    with pytest.raises(UserError, match="does not describe the leaderboard") as err:
        publish(_config(tmp_path, **changes), leaderboard, tmp_path / "pub")
    assert expected in str(err.value)


def test_cli_refuses_with_a_one_line_error(leaderboard, tmp_path, capsys):
    config = _config(tmp_path, seeds=[0, 1, 2, 3])
    assert main(["publish", "--config", str(config), "--leaderboard", str(leaderboard), "--out",
                 str(tmp_path / "pub")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"fairmedia publish: error: {config} does not describe")


@pytest.mark.parametrize("distribution, module", [
    ("torch", "torch"), ("numpy", "numpy"), ("scipy", "scipy"), ("statsmodels", "statsmodels"),
    ("scikit-learn", "sklearn"), ("pandas", "pandas"), ("snakemake", "snakemake"),
    ("monai", "monai"), ("fairlearn", "fairlearn"),
])
def test_provenance_records_every_package_that_computes_a_number(distribution, module):
    # The distribution's version, as the module itself states it (minus a local build tag such
    # as torch's "+cu130", which the installed metadata may not carry).
    version = importlib.import_module(module).__version__.split("+")[0]
    assert package_versions()[distribution] == version
