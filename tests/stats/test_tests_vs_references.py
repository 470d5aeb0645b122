"""Statistics against scipy/statsmodels and Demšar (2006)'s worked example."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from fairmedia.stats.friedman import friedman, friedman_from_ranks, iman_davenport, rank_blocks
from fairmedia.stats.multiple_testing import adjust
from fairmedia.stats.nemenyi import critical_difference
from fairmedia.stats.paired_by_seed import paired_by_seed
from fairmedia.stats.wilcoxon_holm import wilcoxon_vs_baseline


def test_demsar_worked_example():
    # Demšar (2006), §3.2.2: C4.5, C4.5+m, C4.5+cf, C4.5+m+cf on 14 data sets.
    chi2, _ = friedman_from_ranks([3.143, 2.000, 2.893, 1.964], 14)
    f, _ = iman_davenport(chi2, 14, 4)
    assert chi2 == pytest.approx(9.28, abs=0.01)
    assert f == pytest.approx(3.69, abs=0.01)
    assert critical_difference(4, 14, 0.05) == pytest.approx(1.25, abs=0.005)
    # Demšar's Table 5: q_0.10 for k = 4 is 2.291.
    assert critical_difference(4, 14, 0.10) == pytest.approx(2.291 * np.sqrt(20 / 84), abs=1e-3)


def test_friedman_matches_scipy_and_ranks_follow_direction():
    rng = np.random.default_rng(1)
    table = pd.DataFrame(rng.random((9, 4)), columns=list("abcd"))
    table.iloc[0, :2] = 0.5  # a tie inside a block
    res = friedman(table, higher_is_better=True)
    ref = stats.friedmanchisquare(*table.to_numpy().T)
    assert res.chi2 == pytest.approx(ref.statistic)
    assert res.p_chi2 == pytest.approx(ref.pvalue)
    expected = stats.rankdata(-table.to_numpy(), axis=1).mean(axis=0)
    np.testing.assert_allclose(res.avg_ranks.to_numpy(), expected)
    lower = rank_blocks(table, higher_is_better=False).mean().to_numpy()
    np.testing.assert_allclose(lower, 5 - expected)  # reversing direction mirrors the ranks


def test_friedman_drops_and_lists_incomplete_blocks():
    table = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 3, np.nan, 1], "c": [3.0, 1, 2, 2]},
                         index=["x", "y", "z", "w"])
    res = friedman(table, higher_is_better=True)
    assert res.dropped_blocks == ["z"] and res.n_blocks == 3 and res.k == 3
    ref = stats.friedmanchisquare(*table.drop("z").to_numpy().T)
    assert res.chi2 == pytest.approx(ref.statistic)


def test_wilcoxon_holm_matches_scipy_and_statsmodels():
    rng = np.random.default_rng(2)
    table = pd.DataFrame(rng.random((12, 3)), columns=["erm", "m1", "m2"])
    table["m1"] += 0.3
    out = wilcoxon_vs_baseline(table, "erm").set_index("method")
    p = [stats.wilcoxon(table[m] - table["erm"]).pvalue for m in ("m1", "m2")]
    np.testing.assert_allclose(out.loc[["m1", "m2"], "wilcoxon_p"], p)
    np.testing.assert_allclose(out.loc[["m1", "m2"], "holm_p"],
                               multipletests(p, method="holm")[1])


def test_adjust_passes_method_and_keeps_nan():
    p = np.array([0.01, np.nan, 0.04, 0.03])
    got = adjust(p, "holm")
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2, 3]], multipletests(p[[0, 2, 3]], method="holm")[1])
    # Holm differs from statsmodels' default Holm–Šidák on this family.
    assert not np.allclose(got[[0, 2, 3]], multipletests(p[[0, 2, 3]])[1])
    np.testing.assert_allclose(adjust(p, "fdr_bh")[[0, 2, 3]],
                               multipletests(p[[0, 2, 3]], method="fdr_bh")[1])


def test_paired_by_seed_matches_scipy_ttest_rel():
    m = {0: 0.81, 1: 0.83, 2: 0.80, 3: 0.85}
    b = {0: 0.80, 1: 0.80, 2: 0.79, 3: 0.81}
    res = paired_by_seed(m, b)
    ref = stats.ttest_rel(list(m.values()), list(b.values()))
    assert res.p == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval()
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high))


def test_paired_by_seed_identical_is_zero_with_p_one():
    vals = {0: 0.8, 1: 0.7, 2: 0.9}
    res = paired_by_seed(vals, dict(vals))
    assert (res.mean_diff, res.ci_low, res.ci_high, res.p) == (0.0, 0.0, 0.0, 1.0)
    assert "identical" in res.note
