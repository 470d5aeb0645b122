"""A schema mismatch in a workflow config is stated in a few lines naming the key path, the
expected type and the allowed values or keys, not jsonschema's dump of schema and instance."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fairmedia.config_checks import validate_config_file
from fairmedia.errors import UserError

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "config" / "config.yaml"
TRAIN_KEYS = ("epochs, batch_size, lr, weight_decay, pretrained, device, threads, num_workers, "
              "augment, amp, channels_last, compile, pin_memory")
CASES = {
    "typo": (("train", "epoch", 8), "train.epoch: unknown key (did you mean 'epochs'?)\n"
             f"  expected: one of the keys {TRAIN_KEYS}"),
    "type": (("train", "epochs", "eight"), "train.epochs: 'eight' is a string\n"
             "  expected: an integer; >= 1"),
    "enum": (("leaderboard", "correction", "bonferroni"),
             "leaderboard.correction: 'bonferroni' is not an allowed value\n"
             "  expected: a string; one of: holm, fdr_bh"),
    # A oneOf states its alternatives, not only the branch jsonschema judged closest.
    "one_of": ((None, "hparams", "randm"), "hparams: 'randm' is not an allowed value\n"
               "  expected: a string; one of: default or a mapping; keys: random"),
    "bound_in_list": ((None, "seeds", [0, -1]), "seeds[1]: -1 is less than the minimum of 0\n"
                      "  expected: an integer; >= 0"),
}


def _config(tmp_path: Path, section: str, key: str, value) -> Path:
    config = yaml.safe_load(DEMO.read_text())
    if key == "epoch":
        del config[section]["epochs"]
    (config[section] if section else config)[key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_schema_error_names_key_type_and_allowed_values(tmp_path, case):
    change, expected = CASES[case]
    path = _config(tmp_path, *change)
    with pytest.raises(UserError) as err:
        validate_config_file(path)
    assert str(err.value) == f"{path}: does not match the config schema:\n{expected}"


def test_the_demo_config_still_validates_with_defaults_filled_in():
    config = validate_config_file(DEMO)
    assert config["hparams"] == "default"  # a schema default the demo does not set


def test_dry_run_prints_the_few_lines_and_no_schema_dump(tmp_path):
    path = _config(tmp_path, "train", "epoch", 8)
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    res = subprocess.run([snakemake, "-n", "--configfile", str(path), "-d", str(tmp_path / "w")],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1
    said = res.stdout + res.stderr
    assert f"invalid config: {CASES['typo'][1]}" in said, said[-3000:]
    assert "Failed validating" not in said and "On instance" not in said, said[-3000:]
    # Snakemake's own framing (profile line, "WorkflowError in file ...", the File line) + ours.
    assert len(said.strip().splitlines()) <= 6, said
