"""The Nemenyi p-value matrix against scikit-posthocs called directly, and Cohen's d_z vs ERM."""

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs as sp

from fairmedia.report.leaderboard import summarise
from fairmedia.report.pipeline import SIGNIFICANCE_COLUMNS, nemenyi_frame
from fairmedia.stats.nemenyi import nemenyi_pvalues


def _table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(8, 4)) + np.array([0.0, 0.3, 0.8, 1.2])
    return pd.DataFrame(values, index=[f"b{i}" for i in range(8)],
                        columns=["erm", "gdro", "resample", "mixup"])


def test_matrix_matches_scikit_posthocs_on_the_complete_blocks():
    table = _table()
    table.iloc[3, 1] = np.nan  # an incomplete block is dropped, as for Friedman
    ours = nemenyi_pvalues(table)
    full = table.drop(index="b3")
    reference = sp.posthoc_nemenyi_friedman(full.to_numpy())
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy())
    assert list(ours.index) == list(ours.columns) == list(table.columns)
    assert ours.loc["erm", "mixup"] < 0.05 < ours.loc["erm", "gdro"]  # the shifts above


def test_direction_does_not_change_the_p_values():
    table = _table(1)
    np.testing.assert_allclose(nemenyi_pvalues(table).to_numpy(),
                               nemenyi_pvalues(-table).to_numpy())


def test_too_few_blocks_give_no_matrix():
    assert nemenyi_pvalues(_table().iloc[:1]) is None


def test_nemenyi_csv_stacks_one_matrix_per_metric():
    table = _table()
    rows = [{"dataset": b, "attribute": "sex", "arch": "cnn", "selection": "overall",
             "metric": "auc", "method": m, "mean": table.loc[b, m]}
            for b in table.index for m in table.columns]
    frame = nemenyi_frame(pd.DataFrame(rows))
    assert list(frame.columns[:3]) == ["selection", "metric", "method"]
    matrix = frame.set_index("method")[sorted(table.columns)].loc[sorted(table.columns)]
    reference = sp.posthoc_nemenyi_friedman(table[sorted(table.columns)].to_numpy())
    np.testing.assert_allclose(matrix.to_numpy(), reference.to_numpy())


def test_cohens_dz_is_the_mean_over_the_sd_of_the_paired_seed_differences():
    values = {"erm": [0.80, 0.82, 0.81, 0.79], "gdro": [0.83, 0.86, 0.82, 0.83]}
    long = pd.DataFrame([
        {"dataset": "synth", "attribute": "sex", "arch": "cnn", "method": m, "seed": s,
         "selection": "overall", "metric": "auc", "value": v, "run_dir": f"r/{m}/{s}"}
        for m, seeds in values.items() for s, v in enumerate(seeds)])
    row = summarise(long, metrics=["auc"]).set_index("method").loc["gdro"]
    diff = np.subtract(values["gdro"], values["erm"])  # 0.03 0.04 0.01 0.04
    assert row["cohens_dz"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert "cohens_dz" in SIGNIFICANCE_COLUMNS
    assert SIGNIFICANCE_COLUMNS.index("cohens_dz") == len(SIGNIFICANCE_COLUMNS) - 1  # appended
