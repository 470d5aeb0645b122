"""Each synthetic preset moves ERM's per-group results the way datasets/synthetic.yaml says.

Tiny runs (1,500 images of 24×24, 5 epochs, seed 0; bit-identical on CPU), evaluated on the test
split with the threshold fitted on validation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fairmedia.data.synthetic import write_synthetic
from fairmedia.evaluation.run_evaluation import evaluate_run
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run


def _erm_report(tmp: Path, preset: str) -> tuple[dict, pd.DataFrame]:
    prep = write_synthetic(tmp / "prep", preset, n=1500, size=24, seed=0)
    train_run(TrainConfig(prepared=str(prep), out=str(tmp / "run"), epochs=5, batch_size=32,
                          seed=0, threads=1), log=lambda _: None)
    report = evaluate_run(tmp / "run", "sex", "overall", tmp / "eval")
    return report, pd.read_csv(tmp / "run" / "history.csv")


def _groups(report: dict) -> dict:
    return report["attributes"]["sex"]["groups"]


@pytest.mark.slow
def test_none_shows_no_gap(tmp_path):
    g = _groups(_erm_report(tmp_path, "none")[0])
    assert abs(g["F"]["auc"] - g["M"]["auc"]) < 0.06


@pytest.mark.slow
def test_representation_lowers_the_minority_auc(tmp_path):
    g = _groups(_erm_report(tmp_path, "representation")[0])
    assert g["F"]["auc"] < g["M"]["auc"] - 0.15


@pytest.mark.slow
def test_prevalence_lowers_selection_rate_and_tpr_not_auc_as_much(tmp_path):
    g = _groups(_erm_report(tmp_path, "prevalence")[0])
    assert g["F"]["selection_rate"] < g["M"]["selection_rate"] - 0.25
    assert g["F"]["tpr"] < g["M"]["tpr"] - 0.2
    assert g["M"]["auc"] - g["F"]["auc"] < g["M"]["tpr"] - g["F"]["tpr"]


@pytest.mark.slow
def test_difficulty_lowers_the_harder_group_auc(tmp_path):
    g = _groups(_erm_report(tmp_path, "difficulty")[0])
    assert g["F"]["auc"] < g["M"]["auc"] - 0.1


@pytest.mark.slow
def test_shortcut_looks_fine_on_val_and_fails_group_f_at_test(tmp_path):
    report, history = _erm_report(tmp_path, "shortcut")
    g = _groups(report)
    assert history["val_auc_sex=F"].iloc[-1] > 0.9
    assert g["F"]["auc"] < 0.6 < g["M"]["auc"]


@pytest.mark.slow
def test_underdiagnosis_lowers_tpr_against_clean_test_labels(tmp_path):
    g = _groups(_erm_report(tmp_path, "underdiagnosis")[0])
    assert g["F"]["tpr"] < g["M"]["tpr"] - 0.15
    assert abs(g["F"]["auc"] - g["M"]["auc"]) < 0.08  # ranking survives; the threshold does not


@pytest.mark.slow
def test_mixed_puts_worst_group_auc_clearly_below_overall(tmp_path):
    report, _ = _erm_report(tmp_path, "mixed")
    auc = report["attributes"]["sex"]["disparity"]["auc"]
    assert auc["worst"] < report["overall"]["auc"] - 0.1
