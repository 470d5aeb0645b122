"""No config value runs a command, leaves its folder or waits for a job to fail: every field that
reaches a shell or a path is refused by ``snakemake -n`` with a message naming it, a real run of
the same config creates nothing, and ``fairmedia reproduce`` refuses a crafted published folder.
A typo in a prepared dataset's settings fails the plan and leaves its prepared files untouched."""

from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TINY_CONFIG, run_snakemake

MARK = "PWNED"


def _said(res: subprocess.CompletedProcess) -> str:
    """What Snakemake printed: it writes a config error to stdout, its log to stderr."""
    return res.stdout + res.stderr


def _payloads(marker: Path) -> dict[str, str]:
    return {"subst": f"cpu$(touch {marker})", "semicolon": f"x;touch {marker};x",
            "backtick": f"`touch {marker}`", "space": "a b", "dotdot": ".."}


def _set(config: dict, field: str, value: object) -> dict:
    """A copy of ``config`` with one field (``a.b.c``, or ``datasets:key``) set to ``value``."""
    config = copy.deepcopy(config)
    if field == "datasets:key":
        config["datasets"] = {value: config["datasets"]["tiny"]}
        return config
    if field == "aggregate:key":
        config["datasets"]["tiny2"] = config["datasets"]["tiny"]
        config["aggregate"] = {value: {"datasets": ["tiny", "tiny2"], "attributes": ["sex"]}}
        return config
    *parents, leaf = field.split(".")
    node = config
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = [value] if leaf in ("metrics", "attributes", "archs") else value
    return config


FIELDS = ["datasets:key", "aggregate:key", "train.device", "evaluation.threshold",
          "leaderboard.metrics", "datasets.tiny.attributes", "archs", "baseline", "post_base",
          "resources.train.slurm_extra", "resources.train.slurm_partition"]
# Every field with a command substitution; the path-forming names with every payload too.
CASES = ([(f, "subst") for f in FIELDS]
         + [("train.device", "backtick"), ("evaluation.threshold", "semicolon")]
         + [(f, p) for f in ("datasets:key", "datasets.tiny.attributes")
            for p in ("semicolon", "backtick", "space", "dotdot")])


@pytest.mark.parametrize("field, payload", CASES)
def test_payload_is_refused_by_a_dry_run_and_a_real_run_creates_nothing(tmp_path, field, payload):
    marker = tmp_path / MARK
    value = _payloads(marker)[payload]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(_set(TINY_CONFIG, field, value)))
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0, f"{field}={value!r} was accepted"
    message = res.stdout + res.stderr
    assert "Traceback" not in message
    assert "ValidationError" in message or "invalid config" in message, message[-2000:]
    assert repr(value) in message or value in message, f"the message does not name {value!r}"
    if payload not in ("subst", "semicolon", "backtick"):
        return
    res = run_snakemake(tmp_path / "work", "--cores", "1", "--configfile", str(cfg))
    assert res.returncode != 0
    assert not marker.exists(), f"{field}={value!r} ran a command"
    assert not (tmp_path / "work" / "results").exists(), "a job ran although the config is invalid"


def test_a_method_hyperparameter_payload_is_quoted_not_run(tmp_path):
    """Free-form values (a choice hyperparameter here) that pass the plan reach the command as
    one quoted argument: the train job refuses the value, and nothing is executed."""
    marker = tmp_path / MARK
    config = copy.deepcopy(TINY_CONFIG)
    config["methods"] = ["erm", "groupdro"]
    config["method_hparams"] = {"groupdro": {"groups": f"attribute$(touch {marker})"}}
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0 and "method_hparams.groupdro.groups" in _said(res), _said(res)[-2000:]
    assert not marker.exists()


def test_duplicate_keys_are_an_error_naming_both_lines(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(TINY_CONFIG) + "seeds: [1, 2]\n")
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0
    assert "key 'seeds' is given twice" in _said(res) and "first on line" in _said(res)


def test_empty_selections_are_refused(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({**TINY_CONFIG, "selections": []}))
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0 and "should be non-empty" in _said(res)


@pytest.mark.parametrize("base, expected", [
    ("bogus", "post_base: 'bogus' is not a trained method"),
    ("group-threshold", "post_base: 'group-threshold' is not a trained method"),
    ("groupdro", "post_base: 'groupdro' must also be in methods"),
])
def test_post_base_must_be_a_trained_method_of_the_config(tmp_path, base, expected):
    config = {**TINY_CONFIG, "methods": ["erm", "group-threshold"], "post_base": base}
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0 and expected in _said(res), _said(res)[-2000:]


@pytest.mark.parametrize("edit, expected", [
    (("train", "pretrained", "/no/such/weights.pt"), "train.pretrained: '/no/such/weights.pt'"),
    (("evaluation", "threshold", "specificity:2"), "specificity:<value> needs a number in [0, 1]"),
    (("leaderboard", "metrics", ["auc", "aucc_gap"]), "unknown metric(s) ['aucc_gap']"),
    (("method_hparams", "resample", {"by": "age"}), "method_hparams.resample.by: 'age' is not one of"),
    (("method_hparams", "resample", {"rate": 1}), "method_hparams.resample: unknown hyperparameter"),
])
def test_fields_a_job_would_reject_fail_the_plan(tmp_path, edit, expected):
    section, key, value = edit
    config = copy.deepcopy(TINY_CONFIG)
    config.setdefault(section, {})[key] = value
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0 and expected in _said(res), _said(res)[-2000:]


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("typo, expected", [
    ({"preset": "mixd"}, "unknown synthetic preset 'mixd'"),
    ({"options": {"n": 300, "size": 16, "seed": 0, "sizee": 16}}, "unknown synthetic option(s) ['sizee']"),
    ({"card": "chexpert", "root": "/no/such/CheXpert"}, "preset: only the synthetic card"),
])
def test_a_typo_fails_the_plan_and_the_prepared_files_are_untouched(tmp_path, typo, expected):
    work = tmp_path / "work"
    config = copy.deepcopy(TINY_CONFIG)
    config["methods"], config["selections"] = ["erm"], ["overall"]
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    # Targets go before --configfile, which takes several values.
    res = run_snakemake(work, "results/prepared/tiny/manifest.json", "--cores", "1",
                        "--configfile", str(cfg))
    assert res.returncode == 0, _said(res)[-2000:]
    prepared = work / "results/prepared/tiny"
    before = _digest(prepared)
    config["datasets"]["tiny"].update(typo)
    cfg.write_text(yaml.safe_dump(config))
    for args in (["-n"], ["--cores", "1"]):
        res = run_snakemake(work, *args, "--configfile", str(cfg))
        assert res.returncode != 0 and expected in _said(res), _said(res)[-2000:]
    assert _digest(prepared) == before


def test_a_real_dataset_root_must_exist_and_hold_the_cards_files(tmp_path):
    root = tmp_path / "CheXpert-v1.0-small"
    root.mkdir()
    config = copy.deepcopy(TINY_CONFIG)
    config["datasets"] = {"cxp": {"card": "chexpert", "root": str(root) + "x", "attributes": ["sex"]}}
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0 and "datasets.cxp.root" in _said(res) and "is not a folder" in _said(res)
    config["datasets"]["cxp"]["root"] = str(root)
    cfg.write_text(yaml.safe_dump(config))
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode != 0 and "expected file 'train.csv'" in _said(res), _said(res)[-2000:]
    (root / "train.csv").write_text("Path,Sex\n")
    res = run_snakemake(tmp_path / "work", "-n", "--configfile", str(cfg))
    assert res.returncode == 0, _said(res)[-2000:]


def test_reproduce_refuses_a_crafted_published_folder(tmp_path):
    marker = tmp_path / MARK
    published = tmp_path / "published"
    (published / "overall").mkdir(parents=True)
    (published / "overall" / "leaderboard.csv").write_text("dataset,attribute,arch,method,metric,mean,std\n")
    config = copy.deepcopy(TINY_CONFIG)
    config["train"]["device"] = f"cpu$(touch {marker})"
    (published / "config.yaml").write_text(yaml.safe_dump(config))
    res = subprocess.run([sys.executable, "-m", "fairmedia.cli", "reproduce", str(published),
                          "--cell", "tiny/sex/cnn-small/resample", "--workdir", str(tmp_path / "w")],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "does not match the config schema" in res.stderr and "cpu$(touch" in res.stderr
    assert not marker.exists()
    assert not (tmp_path / "w").exists(), "reproduce wrote a workdir before checking the config"
