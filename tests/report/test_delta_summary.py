"""``fairmedia summarize``: the README's Δ table read from a leaderboard.csv built by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from fairmedia.cli import main as cli
from fairmedia.errors import UserError
from fairmedia.report.delta_summary import delta_summary, load_leaderboard

BOOT, TT = "paired patient bootstrap", "paired t over seeds"


def _table() -> pd.DataFrame:
    rows = [
        # method, dataset, metric, delta, p_adj, test
        ("erm", "a", "auc_worst", None, None, ""),
        ("m", "a", "auc_worst", 0.10, 0.01, BOOT),     # significant, higher is better -> better
        ("m", "b", "auc_worst", -0.02, 0.40, BOOT),    # not significant
        ("m", "a", "equalized_odds", 0.05, 0.02, TT),  # significant, lower is better -> worse
        ("m", "b", "equalized_odds", -0.07, 0.03, BOOT),  # significant -> better
    ]
    return pd.DataFrame(rows, columns=["method", "dataset", "metric", "delta", "p_adj", "test"])


def test_cells_mark_significance_test_and_direction():
    header, rows = delta_summary(_table(), ["auc_worst", "equalized_odds"])
    assert header[1].startswith("Δ auc_worst: a / b")
    assert rows == [["m", "+0.100*b / -0.020b (+0.040)", "1 / 0",
                     "+0.050*t / -0.070*b (-0.010)", "1 / 1"]]


def test_unknown_metric_and_bad_file_are_named(tmp_path):
    with pytest.raises(UserError, match="tpr_worst"):
        delta_summary(_table(), ["tpr_worst"])
    bad = tmp_path / "leaderboard.csv"
    bad.write_text("method,metric\nm,auc\n")
    with pytest.raises(UserError, match=r"missing column\(s\).*delta"):
        load_leaderboard(tmp_path)


def test_command_prints_the_table(tmp_path, capsys):
    _table().to_csv(tmp_path / "leaderboard.csv", index=False)
    assert cli(["summarize", str(tmp_path), "--metrics", "auc_worst"]) == 0
    out = capsys.readouterr().out
    assert "| m | +0.100*b / -0.020b (+0.040) | 1 / 0 |" in out
    assert "b = paired patient-level bootstrap" in out
