"""``fairmedia evaluate`` through ``fairmedia.cli.main`` on CSV and Parquet files."""

import json

import numpy as np
import pandas as pd
import pytest

from fairmedia.cli import main


def _write(tmp_path, fmt, **changes):
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({
        "y": rng.integers(0, 2, n),
        "sex": rng.choice(["F", "M"], n),
        "age": rng.uniform(20, 90, n).round(1),
        "split": np.where(np.arange(n) % 2 == 0, "val", "test"),
        "patient_id": rng.integers(0, 150, n),
    })
    df["score"] = np.clip(0.3 * df["y"] + 0.7 * rng.uniform(size=n), 0, 1)
    for column, value in changes.items():
        df[column] = value
    path = tmp_path / f"pred.{fmt}"
    df.to_parquet(path) if fmt == "parquet" else df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_evaluate_writes_the_report(tmp_path, capsys, fmt):
    path = _write(tmp_path, fmt)
    out, page = tmp_path / "m" / "metrics.json", tmp_path / "report.html"
    code = main(["evaluate", str(path), "--attr", "sex", "--attr", "age", "--intersect",
                 "--bins", "age=0,60,inf", "--bootstrap", "50", "--out", str(out),
                 "--html", str(page)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["threshold"]["fitted_on"] == "val"
    assert set(report["attributes"]) == {"sex", "age", "sex__x__age"}
    assert set(report["attributes"]["age"]["groups"]) == {"[0, 60)", "[60, inf)"}
    assert report["overall"]["n"] == 200
    assert "ci" in report and "equalized_odds" in report["attributes"]["sex"]["criteria"]
    assert 'src="data:image/png;base64,' in page.read_text()
    printed = capsys.readouterr().out
    assert "equalized_odds" in printed and "sex__x__age" in printed


@pytest.mark.parametrize(
    ("args", "changes", "message"),
    [
        (["--attr", "race"], {}, "missing column(s) 'race'"),
        (["--attr", "sex"], {"score": np.nan}, "'score' is missing or not a number"),
        (["--attr", "sex"], {"score": 3.0}, "[0, 1]"),
        (["--attr", "sex", "--threshold", "best"], {}, "unknown threshold rule"),
        (["--attr", "sex", "--bins", "age"], {}, "expected COL=EDGE,EDGE"),
        (["--attr", "sex"], {"split": "test"}, "--threshold-on-eval"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, capsys, args, changes, message):
    path = _write(tmp_path, "csv", **changes)
    assert main(["evaluate", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unreadable_file_exits_2(tmp_path, capsys):
    path = tmp_path / "pred.parquet"
    path.write_text("not parquet")
    assert main(["evaluate", str(path), "--attr", "sex"]) == 2
    assert "cannot be read as Parquet" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "none.csv"), "--attr", "sex"]) == 2
    assert "no such file" in capsys.readouterr().err
