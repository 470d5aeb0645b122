"""Column names chosen by the user: ``evaluate_predictions(label_col=...)`` and ``fairmedia
evaluate --label-col/--score-col/--patient-col/--split-col``."""

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.cli import main
from fairmedia.errors import UserError
from fairmedia.metrics import evaluate_predictions

RENAME = {"y": "label", "score": "prob", "patient_id": "pid", "split": "fold"}
FLAGS = ["--label-col", "label", "--score-col", "prob", "--patient-col", "pid",
         "--split-col", "fold"]


def _canonical(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({
        "y": y,
        "score": np.clip(0.3 * y + 0.7 * rng.uniform(size=n), 0, 1),
        "sex": rng.choice(["F", "M"], n),
        "split": np.where(np.arange(n) % 3 == 0, "val", "test"),
        "patient_id": rng.integers(0, 120, n),
    })


def test_custom_names_give_the_canonical_report():
    df = _canonical()
    custom = df.rename(columns=RENAME)
    opts = {"bootstrap": 40, "seed": 1, "source": "s"}
    expected = evaluate_predictions(df, ["sex"], **opts)
    got = evaluate_predictions(custom, ["sex"], label_col="label", score_col="prob",
                               patient_col="pid", split_col="fold", **opts)
    assert got == expected
    # the chosen columns are the ones read: decoys under the canonical names change nothing
    rng = np.random.default_rng(9)
    decoys = custom.assign(y=rng.integers(0, 2, len(df)), score=rng.uniform(size=len(df)),
                           patient_id=np.arange(len(df)), split="test")
    assert evaluate_predictions(decoys, ["sex"], label_col="label", score_col="prob",
                                patient_col="pid", split_col="fold", **opts) == expected
    # and the patient column is what the bootstrap clusters by (rows alone give other CIs)
    rows = evaluate_predictions(df.drop(columns="patient_id"), ["sex"], **opts)
    assert rows["bootstrap"]["cluster"] == "row" and rows["ci"] != expected["ci"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_col": "label"}, "s: missing column(s) 'label'; columns present: y, score, "
                                 "sex, split, patient_id"),
        ({"score_col": "prob"}, "s: missing column(s) 'prob'; columns present: y, score, "
                                "sex, split, patient_id"),
        ({"patient_col": "pid"}, "s: missing column(s) 'pid'; columns present: y, score, "
                                 "sex, split, patient_id"),
        ({"split_col": "fold"}, "s: missing column(s) 'fold'; columns present: y, score, "
                                "sex, split, patient_id"),
    ],
)
def test_a_missing_chosen_column_is_named(kwargs, message):
    with pytest.raises(UserError) as err:
        evaluate_predictions(_canonical(), ["sex"], source="s", **kwargs)
    assert str(err.value) == message


def test_errors_name_the_users_column():
    custom = _canonical().rename(columns=RENAME)
    custom.loc[3, "prob"] = 1.5
    with pytest.raises(UserError, match=r"column 'prob' must be a probability .* 1 row\(s\): 3"):
        evaluate_predictions(custom, ["sex"], label_col="label", score_col="prob",
                             split_col="fold", source="s")
    custom.loc[3, "prob"], custom.loc[4, "fold"] = 0.5, "validation"
    with pytest.raises(UserError, match=r"column 'fold' holds 'validation'"):
        evaluate_predictions(custom, ["sex"], label_col="label", score_col="prob",
                             split_col="fold", source="s")


def test_cli_flags_give_the_canonical_metrics_json(tmp_path, capsys):
    df = _canonical()
    canonical, custom = tmp_path / "canonical.csv", tmp_path / "custom.csv"
    df.to_csv(canonical, index=False)
    df.rename(columns=RENAME).to_csv(custom, index=False)
    common = ["--attr", "sex", "--bootstrap", "40", "--seed", "2"]
    assert main(["evaluate", str(canonical), *common, "--out", str(tmp_path / "a.json")]) == 0
    assert main(["evaluate", str(custom), *common, *FLAGS,
                 "--out", str(tmp_path / "b.json")]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert (a.pop("source"), b.pop("source")) == (str(canonical), str(custom))
    assert a == b
    assert a["threshold"]["fitted_on"] == "val" and a["bootstrap"]["cluster"] == "patient_id"
    # without the flags the custom file is refused with the columns it has
    assert main(["evaluate", str(custom), *common]) == 2
    assert "missing column(s) 'y', 'score'; columns present: label, prob" in \
        capsys.readouterr().err


def test_help_lists_the_column_flags(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag, default in (("--label-col", "y"), ("--score-col", "score"),
                          ("--patient-col", "patient_id"), ("--split-col", "split")):
        assert f"{flag} COL" in text and f"(default: {default})" in text
