"""Per-group AUC, accuracy and Brier score against scikit-learn, with and without weights."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

from fairmedia.metrics import group_table
from fairmedia.metrics.auc import GroupedAUC


@pytest.mark.parametrize("n_groups", [2, 4])
@pytest.mark.parametrize("rounded", [False, True])  # rounded scores create many ties
def test_group_table_matches_sklearn(predictions_factory, n_groups, rounded):
    df = predictions_factory(2000, n_groups, seed=3)
    if rounded:
        df["score"] = df["score"].round(1)
    decision = (df["score"] >= 0.4).astype(int).to_numpy()
    table = group_table(df["y"], df["score"], decision, df["grp"])
    for group, rows in df.groupby("grp"):
        row = table.loc[str(group)]
        d = decision[rows.index]
        assert row["auc"] == pytest.approx(roc_auc_score(rows["y"], rows["score"]), abs=1e-12)
        assert row["acc"] == pytest.approx(accuracy_score(rows["y"], d), abs=1e-12)
        assert row["brier"] == pytest.approx(brier_score_loss(rows["y"], rows["score"]), abs=1e-12)
        assert row["bce"] == pytest.approx(log_loss(rows["y"], rows["score"]), rel=1e-6)
        assert row["n"] == len(rows) and row["n_pos"] == rows["y"].sum()
        assert row["tp"] + row["fp"] + row["fn"] + row["tn"] == row["n"]


def test_weighted_auc_matches_sklearn_sample_weight():
    rng = np.random.default_rng(5)
    n = 400
    y = rng.integers(0, 2, n)
    score = np.round(rng.uniform(size=n), 2)  # ties
    codes = rng.integers(-1, 3, n)  # -1: missing group, ignored
    weights = rng.integers(0, 4, size=(n, 6)).astype(float)
    got = GroupedAUC(y, score, codes, 3)(weights)
    for b in range(weights.shape[1]):
        for g in range(3):
            rows = codes == g
            expected = roc_auc_score(y[rows], score[rows], sample_weight=weights[rows, b])
            assert got[b, g] == pytest.approx(expected, abs=1e-12)
