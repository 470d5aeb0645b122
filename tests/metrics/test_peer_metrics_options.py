"""The peer-metric options through the CLI and the workflow config."""

import json
import shlex

import numpy as np
import pandas as pd
import pytest

from fairmedia import grid
from fairmedia.cli import main
from fairmedia.config_checks import check_privileged
from fairmedia.errors import UserError


def _predictions(tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n),
                       "sex": rng.choice(["F", "M"], n), "age": rng.choice(["old", "young"], n),
                       "site": rng.choice(["s1", "s2"], n),
                       "split": np.where(np.arange(n) % 2 == 0, "val", "test")})
    path = tmp_path / "pred.csv"
    df.to_csv(path, index=False)
    return path, df


def test_evaluate_cli_takes_privileged_order_and_specificity(tmp_path, capsys):
    path, df = _predictions(tmp_path)
    out = tmp_path / "metrics.json"
    code = main(["evaluate", str(path), "--attr", "sex", "--attr", "age", "--attr", "site",
                 "--intersect", "--intersect-order", "3", "--privileged", "sex=F",
                 "--target-specificity", "0.9", "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert "sex__x__age__x__site" in report["attributes"]
    assert report["attributes"]["sex"]["privileged"]["group"] == "F"
    assert report["attributes"]["sex"]["privileged"]["chosen_by"] == "given"
    val = df[df["split"] == "val"]
    largest = val["age"].value_counts().sort_index().idxmax()  # ties: first in order
    assert report["attributes"]["age"]["privileged"]["group"] == largest
    assert report["specificity_operating_point"]["specificity"] == 0.9


@pytest.mark.parametrize("args, message", [
    (["--privileged", "sex"], "--privileged expects COL=GROUP"),
    (["--intersect", "--intersect-order", "4"], "between 2 and the number of attributes"),
    (["--target-specificity", "1.5"], "must be in [0, 1]"),
])
def test_bad_options_are_user_errors(tmp_path, capsys, args, message):
    path, _ = _predictions(tmp_path)
    code = main(["evaluate", str(path), "--attr", "sex", "--attr", "age", *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err


def test_config_privileged_becomes_quoted_evaluate_arguments():
    config = {"evaluation": {"privileged": {"sex": "M", "age": "60 and over"},
                             "target_specificity": 0.9}}
    words = shlex.split(grid.evaluation_args(config))
    assert words[-6:] == ["--target-specificity", "0.9", "--privileged", "age=60 and over",
                          "--privileged", "sex=M"]
    # without them the arguments (a rerun trigger) are unchanged
    assert "--privileged" not in grid.evaluation_args({"evaluation": {}})
    assert "--target-specificity" not in grid.evaluation_args({"evaluation": {}})


def test_config_privileged_must_name_an_attribute():
    config = {"datasets": {"d": {"attributes": ["sex", "age"]}},
              "evaluation": {"privileged": {"sex__x__age": "F&old", "sexx": "M"}}}
    with pytest.raises(UserError, match=r"\['sexx'\] name no dataset attribute"):
        check_privileged(config)


def test_config_intersect_order_adds_the_k_way_evaluation_attribute():
    config = {"datasets": {"d": {"card": "synthetic", "attributes": ["sex", "age", "site"]}},
              "archs": ["cnn-small"], "methods": ["erm"], "seeds": [0],
              "evaluation": {"intersect": True, "intersect_order": 3}}
    run = grid.runs(config)[0]
    assert grid.eval_attributes(config, run) == ["sex", "age", "site", "sex__x__age",
                                                 "sex__x__age__x__site"]
    config["evaluation"].pop("intersect_order")  # default: the pair only, as before
    assert grid.eval_attributes(config, run)[-1] == "sex__x__age"
