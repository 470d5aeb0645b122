"""Training options: what existing runs depend on stays fixed (the workflow's command line, a
Snakemake rerun trigger; a checkpoint's identity), and the ``train`` command maps its flags onto
TrainConfig as it always did."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml

from fairmedia import cli, config_checks, grid
from fairmedia.training.config import (
    AS_CLI,
    TrainConfig,
    default_of,
    is_required,
    train_options,
    workflow_defaults,
)

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
    # The one intended difference: without train.device the workflow trains with --device auto
    # (issue 15), which reruns, once, the finished runs of configs that omit train.device; every
    # shipped config states its device, so their runs keep their command line.
    assert grid.train_args({}, "erm") == DEMO_TRAIN_ARGS.replace("--device cpu", "--device auto")
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


# -- One declaration: the schema, the workflow and the CLI all state TrainConfig's defaults -------
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA_TYPES = {"integer": int, "number": float, "boolean": bool, "string": str}


def _schema_train() -> dict:
    return yaml.safe_load(SCHEMA.read_text())["properties"]["train"]["properties"]


def test_schema_train_section_states_trainconfig_defaults():
    props = _schema_train()
    assert set(props) == {f.name for f, opt in train_options() if opt.config}
    defaults = workflow_defaults()
    hints = typing.get_type_hints(TrainConfig)
    for name, spec in props.items():
        assert spec["default"] == defaults[name], name
        assert type(spec["default"]) is type(defaults[name]), name  # 8, not 8.0 or "8"
        declared = {a for a in typing.get_args(hints[name]) if a is not type(None)} or {hints[name]}
        assert declared == {SCHEMA_TYPES[spec["type"]]}, name
    device = next(opt for f, opt in train_options() if f.name == "device")
    assert props["device"]["pattern"] == f"^{device.pattern}$"


def test_workflow_defaults_differ_from_the_cli_only_with_a_reason():
    for f, opt in train_options():
        if opt.workflow_default is not AS_CLI:
            assert opt.config and opt.workflow_default_reason, f.name
    assert workflow_defaults()["threads"] == 1 and TrainConfig(prepared="p", out="o").threads is None


def test_option_metadata_is_consistent():
    for f, opt in train_options():
        if opt.speed_only:
            assert not opt.identity, f"{f.name}: a speed-only setting cannot change the identity"
        if opt.resource:
            assert opt.speed_only and opt.config, f"{f.name}: only speed-only config options are resources"
        if opt.test_only:
            assert not opt.config, f"{f.name}: a test-only knob is no workflow option"
    assert [f.name for f, opt in train_options() if not opt.identity] == [
        "prepared", "out", "device", "num_workers", "threads", "compile", "pin_memory"]


def test_a_missing_train_key_takes_the_dataclass_default():
    plain = TrainConfig(prepared="p", out="o")
    assert grid.train_args({}, "erm") == (
        f"--epochs {plain.epochs} --batch-size {plain.batch_size} --lr {plain.lr} "
        f"--weight-decay {plain.weight_decay} --pretrained {plain.pretrained} --device {plain.device}")
    assert grid.train_args({"train": {"epochs": 3, "amp": True, "augment": True, "compile": True}},
                           "erm") == ("--epochs 3 --batch-size 64 --lr 0.001 --weight-decay 0.0001 "
                                      "--pretrained none --device auto --augment --amp")


def _help(capsys, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def _blocks(text: str) -> dict[str, str]:
    """``--flag`` → its help entry, whitespace collapsed (argparse wraps long lines)."""
    out, flag = {}, None
    for line in text.splitlines():
        if line.startswith("  -"):
            flag = line.split()[0].rstrip(",")
            out[flag] = line
        elif flag and line.startswith("   "):
            out[flag] += " " + line
        else:
            flag = None
    return {k: " ".join(v.split()) for k, v in out.items()}


def test_help_shows_every_option_with_its_default(capsys, monkeypatch):
    from fairmedia.commands.train import shown_default

    blocks = _blocks(_help(capsys, monkeypatch))
    for f, opt in train_options():
        block = blocks[opt.cli_flag(f.name)]
        if is_required(f):
            assert "(default:" not in block
        else:
            assert f"(default: {shown_default(default_of(f), opt)})" in block, block
    assert blocks["--epochs"] == "--epochs EPOCHS training epochs (default: 8)"
    assert blocks["--lr"].endswith("(default: 0.001)")
    assert blocks["--threads"].endswith("(default: torch's own choice)")
    assert blocks["--compile"] == "--compile [0|1] torch.compile the network (default: off)"
    assert blocks["--hparam"].startswith("--hparam KEY=VALUE")


@pytest.mark.parametrize("flag", [
    "--prepared", "--out", "--arch", "--method", "--attribute", "--seed", "--epochs", "--batch-size",
    "--lr", "--weight-decay", "--pretrained", "--device", "--threads", "--num-workers",
    "--pin-memory", "--compile", "--augment", "--amp", "--channels-last", "--hparam",
    "--hparam-sample", "--max-steps-per-epoch"])
def test_every_existing_flag_is_still_offered(capsys, monkeypatch, flag):
    assert flag in _blocks(_help(capsys, monkeypatch))


def test_prepared_and_out_stay_required(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "--out", "o"])
    assert stop.value.code == 2
    assert "the following arguments are required: --prepared" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["2", "yes", "true", ""])
def test_a_switch_value_other_than_0_or_1_is_refused(capsys, value):
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "--prepared", "p", "--out", "o", "--compile", value])
    assert stop.value.code == 2
    assert f"expected 0 or 1, got {value!r}" in capsys.readouterr().err


def test_planning_reads_the_options_without_importing_torch():
    code = "import sys, fairmedia.grid, fairmedia.training.config; print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"
