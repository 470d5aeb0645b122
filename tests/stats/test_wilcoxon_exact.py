"""Wilcoxon signed-rank p from the exact null distribution, with ties and zeros too."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fairmedia.stats.wilcoxon_holm import wilcoxon_p, wilcoxon_vs_baseline


def _brute_force_p(diff: np.ndarray) -> float:
    """All 2^n sign flips of the non-zero differences, midranks of |d|, two-sided."""
    d = diff[diff != 0]
    ranks = stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    flips = np.array(list(itertools.product([0, 1], repeat=len(d))))
    w = flips @ ranks
    tol = 1e-9
    return min(1.0, 2 * min(np.mean(w <= observed + tol), np.mean(w >= observed - tol)))


@pytest.mark.parametrize("n", [8, 15, 30])
def test_untied_matches_scipy_exact(n):
    d = np.random.default_rng(n).normal(0.4, 1, n)
    p, method = wilcoxon_p(d)
    assert method.startswith("exact")
    assert p == pytest.approx(stats.wilcoxon(d, method="exact").pvalue, rel=1e-10)


def test_tied_and_zero_differences_match_brute_force_enumeration():
    rng = np.random.default_rng(5)
    # 16 non-zero differences on a coarse grid (many ties), plus two zeros (dropped)
    d = np.concatenate([rng.choice([-2, -1, 1, 2, 3, 4, 5], 16) / 100, [0.0, 0.0]])
    assert len(np.unique(np.abs(d[d != 0]))) < 16 and np.count_nonzero(d) == 16
    p, method = wilcoxon_p(d)
    assert p == pytest.approx(_brute_force_p(d), rel=1e-12)
    # scipy's default on these data is the normal approximation (n > 13 with ties)
    assert stats.wilcoxon(d).pvalue != pytest.approx(p, rel=1e-3)


def test_table_uses_the_exact_p():
    rng = np.random.default_rng(9)
    table = pd.DataFrame({"erm": np.round(rng.random(16), 2)})
    table["m1"] = table["erm"] + rng.choice([-2, -1, 1, 2, 3, 4], 16) / 100
    out = wilcoxon_vs_baseline(table, "erm").set_index("method")
    assert out.loc["m1", "wilcoxon_p"] == pytest.approx(
        _brute_force_p((table["m1"] - table["erm"]).to_numpy()), rel=1e-12)
    assert out.loc["m1", "wilcoxon_method"].startswith("exact")
