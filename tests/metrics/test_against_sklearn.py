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


@pytest.mark.parametrize("n_weights", [6, 300])  # 300: the wide-block running sum
@pytest.mark.parametrize("counts", [True, False])  # bootstrap draw counts, or any weights
@pytest.mark.parametrize("n_groups", [2, 3])  # + missing: overall from the same pass, or not
def test_weighted_auc_matches_sklearn_sample_weight(n_weights, counts, n_groups):
    """The one AUC kernel (evaluation and leaderboard bootstrap) is sklearn's weighted AUC."""
    rng = np.random.default_rng(5)
    n = 400
    y = rng.integers(0, 2, n)
    score = np.round(rng.uniform(size=n), 2)  # ties
    codes = rng.integers(-1, n_groups, n)  # -1: missing group, ignored
    if counts:
        weights = rng.integers(0, 4, size=(n, n_weights)).astype(float)
    else:
        weights = rng.exponential(size=(n, n_weights))
    got = GroupedAUC(y, score, codes, n_groups)(weights)
    with_overall = GroupedAUC(y, score, codes, n_groups, overall=True)
    assert with_overall.cross == (n_groups == 2)
    both = with_overall(weights)
    single = GroupedAUC(y, score, np.zeros(n, np.int64), 1)(weights)[:, 0]
    assert np.array_equal(both[:, :-1], got, equal_nan=True) if counts else np.allclose(
        both[:, :-1], got, rtol=0, atol=1e-12)
    for b in range(0, n_weights, max(1, n_weights // 12)):
        expected = roc_auc_score(y, score, sample_weight=weights[:, b])
        assert single[b] == pytest.approx(expected, abs=1e-12)
        assert both[b, -1] == pytest.approx(expected, abs=1e-12)
        for g in range(n_groups):
            rows = codes == g
            expected = roc_auc_score(y[rows], score[rows], sample_weight=weights[rows, b])
            assert got[b, g] == pytest.approx(expected, abs=1e-12)
    unweighted = GroupedAUC(y, score, codes, n_groups, overall=True)()[0]
    assert unweighted[-1] == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    for g in range(n_groups):
        rows = codes == g
        assert unweighted[g] == pytest.approx(roc_auc_score(y[rows], score[rows]), abs=1e-12)


def test_weighted_auc_small_and_degenerate_cases_match_sklearn():
    """Tiny groups, single-class resamples (NaN), 1-5 groups, with and without missing rows."""
    rng = np.random.default_rng(1)
    for trial in range(30):
        n = int(rng.integers(5, 120))
        y = rng.integers(0, 2, n)
        score = np.round(rng.random(n), int(rng.integers(1, 4)))
        n_groups = int(rng.integers(1, 6))
        codes = rng.integers(-1 if trial % 2 else 0, n_groups, n)
        weights = rng.integers(0, 4, (n, 5)).astype(float)
        got = GroupedAUC(y, score, codes, n_groups, overall=True)(weights)
        for b in range(5):
            cells = [(g, codes == g) for g in range(n_groups)] + [(-1, np.ones(n, bool))]
            for column, rows in cells:
                w = weights[rows, b]
                defined = len(np.unique(y[rows][w > 0])) == 2
                expected = (roc_auc_score(y[rows], score[rows], sample_weight=w) if defined
                            else np.nan)
                assert got[b, column] == pytest.approx(expected, abs=1e-12, nan_ok=True)
