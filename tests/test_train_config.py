"""Training options: what existing runs depend on stays fixed (the workflow's command line, a
Snakemake rerun trigger; a checkpoint's identity), and the ``train`` command maps its flags onto
TrainConfig as it always did."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from fairmedia import cli, config_checks, grid
from fairmedia.training.config import TrainConfig

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "config" / "config.yaml"

# The command line of every demo run, as it was when this test was written. A change here
# retrains every finished run of every user (Snakemake's `params` rerun trigger).
DEMO_TRAIN_ARGS = "--epochs 8 --batch-size 64 --lr 0.001 --weight-decay 0.0001 --pretrained none --device cpu"
DEMO_EXECUTION = {"torch_threads": 1, "loader_workers": 0, "pin_memory": 0, "torch_compile": 0}


@pytest.mark.parametrize("loaded", ["raw", "validated"])
def test_demo_config_train_command_line_is_unchanged(loaded):
    config = (yaml.safe_load(DEMO.read_text()) if loaded == "raw"
              else config_checks.validate_config_file(DEMO))  # with the schema's defaults filled in
    assert config["methods"] == ["erm", "resample", "groupdro"]
    for method in config["methods"]:
        assert grid.train_args(config, method) == DEMO_TRAIN_ARGS
    assert grid.train_args(config, "groupdro@hp2") == DEMO_TRAIN_ARGS + " --hparam-sample 2"
    assert grid.train_execution(config) == DEMO_EXECUTION


def test_empty_train_section_gives_the_demo_command_line():
    assert grid.train_args({}, "erm") == DEMO_TRAIN_ARGS
    assert grid.train_execution({}) == DEMO_EXECUTION


# Identity hashes computed by the implementation that wrote existing checkpoints: the same
# configuration must keep its identity, or every checkpoint would be refused on resume.
IDENTITY_FIELDS = ["amp", "arch", "attribute", "augment", "batch_size", "channels_last", "epochs",
                   "eval_batch_size", "hparam_sample", "hparams", "lr", "max_steps_per_epoch",
                   "method", "pretrained", "seed", "weight_decay"]


def test_identity_fields_are_unchanged():
    assert sorted(TrainConfig(prepared="p", out="o").identity_fields()) == IDENTITY_FIELDS


@pytest.mark.parametrize("kwargs, plain, data, with_data", [
    ({"epochs": 5}, "bffe78fbad0e1b20", "abc123", "6dc1f5f796a5c101"),  # the old defaults (epochs 5)
    ({"epochs": 8}, "6954546484bae744", "abc123", "4b0d96fdfceaf10b"),
    ({"epochs": 8, "hparams": {"groups": "attribute"}, "hparam_sample": 2, "amp": True,
      "max_steps_per_epoch": 3, "threads": 2, "device": "cuda:1", "seed": 4, "method": "groupdro",
      "attribute": "sex"}, "0d0e23ec1f371c5a", "deadbeef", "93b2d903ecaab0dc"),
])
def test_identity_hashes_are_unchanged(kwargs, plain, data, with_data):
    cfg = TrainConfig(prepared="p", out="o", **kwargs)
    assert cfg.identity() == plain
    assert cfg.identity(data) == with_data


def test_paths_devices_and_speed_settings_stay_out_of_the_identity():
    moved = TrainConfig(prepared="elsewhere", out="x", epochs=5, device="cuda", threads=3,
                        num_workers=2, compile=True, pin_memory=True)
    assert moved.identity() == "bffe78fbad0e1b20"


def _parsed(monkeypatch, argv: list[str]) -> dict:
    import fairmedia.commands.train as train

    got = []
    monkeypatch.setattr(train, "train_run", lambda cfg, log: got.append(cfg))
    monkeypatch.setattr(train, "check_device", lambda name: name)
    assert cli.main(["train", "--prepared", "p", "--out", "o", *argv]) == 0
    return dataclasses.asdict(got[0])


FULL = ["--arch", "resnet18", "--method", "groupdro", "--attribute", "sex", "--seed", "3",
        "--epochs", "2", "--batch-size", "16", "--lr", "0.01", "--weight-decay", "0",
        "--hparam", "groups=attribute", "--hparam", "eta=0.1", "--hparam-sample", "2",
        "--pretrained", "imagenet", "--device", "cuda:1", "--threads", "4", "--num-workers", "3",
        "--pin-memory", "1", "--compile", "0", "--augment", "--amp", "--channels-last",
        "--max-steps-per-epoch", "5"]


def test_every_flag_reaches_its_field(monkeypatch):
    assert _parsed(monkeypatch, FULL) == {
        "prepared": "p", "out": "o", "arch": "resnet18", "method": "groupdro", "attribute": "sex",
        "seed": 3, "epochs": 2, "batch_size": 16, "eval_batch_size": 256, "lr": 0.01,
        "weight_decay": 0.0, "hparams": {"groups": "attribute", "eta": "0.1"}, "hparam_sample": 2,
        "pretrained": "imagenet", "device": "cuda:1", "num_workers": 3, "threads": 4,
        "augment": True, "amp": True, "channels_last": True, "compile": False, "pin_memory": True,
        "max_steps_per_epoch": 5}


@pytest.mark.parametrize("argv, expected", [
    (["--compile", "--pin-memory"], {"compile": True, "pin_memory": True}),
    (["--compile", "1", "--pin-memory", "0"], {"compile": True, "pin_memory": False}),
    # What workflow/rules/train.smk passes from the resources of grid.train_execution.
    (["--threads", "1", "--num-workers", "0", "--pin-memory", "0", "--compile", "0"],
     {"threads": 1, "num_workers": 0, "compile": False, "pin_memory": False}),
])
def test_switches_alone_or_with_0_or_1(monkeypatch, argv, expected):
    got = _parsed(monkeypatch, ["--epochs", "1", *argv])
    assert {k: got[k] for k in expected} == expected


def test_cli_without_options_gives_the_dataclass_defaults(monkeypatch):
    assert _parsed(monkeypatch, []) == dataclasses.asdict(TrainConfig(prepared="p", out="o"))
