"""Golden-file tests for the Markdown and LaTeX leaderboard on a tiny fixed long table."""

from pathlib import Path

import pandas as pd

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
