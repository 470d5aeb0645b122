"""`task:` on a config's dataset entry: checked at planning time (schema, then grid.check_config),
passed to the synthetic generator, and config/synthetic-segmentation.yaml's datasets validate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fairmedia import grid
from fairmedia.config_checks import dataset_task, validate_config_file
from fairmedia.data.cards import load_card
from fairmedia.errors import UserError

REPO = Path(__file__).resolve().parents[2]
SEG_CONFIG = REPO / "config" / "synthetic-segmentation.yaml"
DEMO = REPO / "config" / "config.yaml"


def _write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _seg_config_with_a_registered_arch() -> dict:
    # The `unet` arch is the lead's TODO (the config says so); the dataset part is checked here.
    config = yaml.safe_load(SEG_CONFIG.read_text())
    assert config["archs"] == ["unet"]
    return {**config, "archs": ["cnn-small"]}


def test_segmentation_config_datasets_validate_and_are_segmentation(tmp_path):
    config = validate_config_file(_write(tmp_path, _seg_config_with_a_registered_arch()))
    card = load_card("synthetic")
    assert {dataset_task(e, card) for e in config["datasets"].values()} == {"segmentation"}
    assert {e["preset"] for e in config["datasets"].values()} == {"seg-size", "seg-noise"}


def test_bad_task_value_is_a_schema_error_naming_the_key(tmp_path):
    config = _seg_config_with_a_registered_arch()
    config["datasets"]["synth-seg-size"]["task"] = "segmenation"
    with pytest.raises(UserError) as err:
        validate_config_file(_write(tmp_path, config))
    message = str(err.value)
    assert "datasets.synth-seg-size.task: 'segmenation' is not an allowed value" in message
    assert "classification, segmentation" in message


def test_bad_task_value_is_refused_by_check_config_without_the_schema():
    config = _seg_config_with_a_registered_arch()
    config["datasets"]["synth-seg-size"]["task"] = "detection"
    with pytest.raises(UserError, match="datasets.synth-seg-size.*'detection'"):
        grid.check_config(config)


def test_task_that_disagrees_with_the_data_is_refused(tmp_path):
    config = _seg_config_with_a_registered_arch()
    config["datasets"]["synth-seg-size"]["options"]["task"] = "classification"
    with pytest.raises(UserError, match="datasets.synth-seg-size.task: 'segmentation', but its "
                                        "options.task or preset makes a classification dataset"):
        grid.check_config(config)
    real = yaml.safe_load(DEMO.read_text())
    real["datasets"] = {"ham": {"card": "ham10000", "root": str(tmp_path), "task": "segmentation",
                                "attributes": ["sex"]}}
    with pytest.raises(UserError, match="datasets.ham.task: 'segmentation', but card 'ham10000'"):
        grid.check_config(real)


def test_entry_task_reaches_the_generator_and_classification_commands_are_unchanged():
    config = yaml.safe_load(DEMO.read_text())
    before = grid.prepare_command(config, "synth-mixed", "out")
    assert "task" not in before
    config["datasets"]["synth-mixed"]["task"] = "segmentation"
    after = grid.prepare_command(config, "synth-mixed", "out")
    assert after == before + " --set 'task=\"segmentation\"'"
    assert dataset_task(config["datasets"]["synth-mixed"], load_card("synthetic")) == "segmentation"
