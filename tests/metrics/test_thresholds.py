"""Operating-point rules against brute force over every candidate threshold."""

import numpy as np
import pytest

from fairmedia.metrics import choose_threshold


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.round(1 / (1 + np.exp(-(y + rng.normal(size=n)))), 3)
    return y, score


def _rates(y, score, t):
    d = score >= t
    return d[y == 1].mean(), d[y == 0].mean(), d


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_youden_maximises_tpr_minus_fpr(seed):
    y, score = _data(seed)
    t = choose_threshold(y, score, "youden")
    best = max(np.subtract(*_rates(y, score, c)[:2]) for c in np.unique(score))
    tpr, fpr, _ = _rates(y, score, t)
    assert tpr - fpr == pytest.approx(best)


@pytest.mark.parametrize("seed", [0, 1])
def test_f1_maximises_f1(seed):
    y, score = _data(seed)

    def f1(c):
        d = score >= c
        tp = (d & (y == 1)).sum()
        return 2 * tp / (d.sum() + (y == 1).sum())

    t = choose_threshold(y, score, "f1")
    assert f1(t) == pytest.approx(max(f1(c) for c in np.unique(score)))


@pytest.mark.parametrize("spec", [0.5, 0.8, 0.95])
def test_specificity_rule_is_the_most_sensitive_threshold_meeting_the_target(spec):
    y, score = _data(4)
    t = choose_threshold(y, score, f"specificity:{spec}")
    tpr, fpr, _ = _rates(y, score, t)
    assert 1 - fpr >= spec
    feasible = [_rates(y, score, c)[0] for c in np.unique(score)
                if 1 - _rates(y, score, c)[1] >= spec]
    assert tpr == pytest.approx(max(feasible))


def test_fixed_is_returned_as_is():
    y, score = _data()
    assert choose_threshold(y, score, "fixed:0.37") == 0.37
