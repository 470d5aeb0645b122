"""Golden-file tests for the Markdown and LaTeX leaderboard on a tiny fixed long table."""

from pathlib import Path

import pandas as pd
import pytest

from fairmedia.report.leaderboard import summarise
from fairmedia.report.tables import MISSING, to_latex, to_markdown

GOLDEN = Path(__file__).parent / "golden"


def tiny_long() -> pd.DataFrame:
    rows = []
    values = {  # method → seed → (auc, auc_gap)
        "erm": {0: (0.80, 0.10), 1: (0.82, 0.12), 2: (0.81, 0.11)},
        "gdro": {0: (0.83, 0.05), 1: (0.86, 0.04), 2: (0.84, 0.06)},
        "resample": {0: (0.79, 0.09), 1: (0.80, 0.10)},  # seed 2 failed
    }
    for method, seeds in values.items():
        for seed, (auc, gap) in seeds.items():
            for metric, v in (("auc", auc), ("auc_gap", gap)):
                rows.append({"dataset": "synth", "attribute": "sex", "arch": "cnn",
                             "method": method, "seed": seed, "selection": "overall",
                             "metric": metric, "value": v, "run_dir": f"r/{method}/{seed}"})
    return pd.DataFrame(rows)


def test_markdown_and_latex_match_golden():
    summary = summarise(tiny_long(), metrics=["auc", "auc_gap", "auc_worst"])
    md, tex = to_markdown(summary), to_latex(summary)
    assert md == (GOLDEN / "tiny.md").read_text()
    assert tex == (GOLDEN / "tiny.tex").read_text()


def test_missing_metric_and_seed_are_visible_not_dropped():
    summary = summarise(tiny_long(), metrics=["auc", "auc_worst"])
    md = to_markdown(summary)
    resample = next(line for line in md.splitlines() if line.startswith("| resample"))
    assert "(n=2/3)" in resample  # mean over 2 of 3 seeds is flagged
    assert resample.rstrip(" |").endswith(MISSING)  # auc_worst never reported → dash
    row = summary.set_index(["method", "metric"]).loc[("resample", "auc")]
    assert row["n_seeds"] == 2 and abs(row["mean"] - 0.795) < 1e-12


def test_delta_is_paired_when_the_method_has_a_seed_the_baseline_lacks():
    values = {"erm": {0: 0.80, 1: 0.82, 2: 0.81}, "m": {0: 0.83, 1: 0.84, 2: 0.82, 3: 0.95}}
    long = pd.DataFrame([
        {"dataset": "synth", "attribute": "sex", "arch": "cnn", "method": method, "seed": seed,
         "selection": "overall", "metric": "auc", "value": v, "run_dir": f"r/{method}/{seed}"}
        for method, seeds in values.items() for seed, v in seeds.items()])
    row = summarise(long, metrics=["auc"]).set_index("method").loc["m"]
    paired = sum(values["m"][s] - values["erm"][s] for s in (0, 1, 2)) / 3  # 0.02
    unpaired = sum(values["m"].values()) / 4 - sum(values["erm"].values()) / 3  # 0.05
    assert row["delta"] == pytest.approx(paired, abs=1e-12)
    assert abs(row["delta"] - unpaired) > 0.02
    assert row["mean"] == pytest.approx(0.86) and row["n_seeds"] == 4 and row["n_paired"] == 3
    assert "Δ over the 3 of 4 seeds" in row["note"]
    lines = to_markdown(summarise(long, metrics=["auc"])).splitlines()
    assert next(x for x in lines if x.startswith("| m ")) == "| m | 0.860 ± 0.061 (+0.020; 3 paired) |"
    assert next(x for x in lines if x.startswith("| erm ")) == "| erm | 0.810 ± 0.010 (n=3/4) |"


def test_legend_names_the_test_of_each_column():
    from fairmedia.report.tables import column_tests

    summary = summarise(tiny_long(), metrics=["auc", "auc_gap"])
    assert column_tests(summary) == ("Test behind each column's p: `auc`, `auc_gap`: paired "
                                     "t-test over seeds.")
    boot = summary["metric"].eq("auc") & summary["method"].ne("erm")
    summary.loc[boot, "test"] = "paired patient bootstrap"
    assert column_tests(summary) == (
        "Test behind each column's p: `auc`: paired patient-level bootstrap of the test rows "
        "(thresholds as fitted on each run's validation rows); `auc_gap`: paired t-test over seeds.")
    other = summarise(tiny_long(), metrics=["auc", "auc_gap"]).assign(dataset="other")
    assert "`auc`: paired patient bootstrap in 1 of 2 blocks / paired t over seeds in 1 of 2 " \
           "blocks" in column_tests(pd.concat([summary, other]))
