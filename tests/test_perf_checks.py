"""The perf checks' shared interleaving (perf/_interleave.py), with fake measurements: a call
log gives the order, made-up seconds give the medians and the ratio (no wall-clock timing)."""

import statistics

import pytest

from fairmedia.perf._interleave import interleave


def _fake(name, log, values):
    it = iter(values)

    def measure():
        log.append(name)
        return next(it)

    return measure


def test_sides_alternate_with_alternating_start_order_after_the_warmup():
    log = []
    interleave(("a", _fake("a", log, range(100))), ("b", _fake("b", log, range(100))),
               rounds=5, warmup=1)
    assert log == ["a", "b",  # warm-up
                   "a", "b", "b", "a", "a", "b", "b", "a", "a", "b"]


def test_medians_spread_and_median_of_per_round_ratios():
    a_values = [99.0, 2.0, 10.0, 4.0, 3.0, 5.0]  # first is the untimed warm-up
    b_values = [99.0, 1.0, 4.0, 2.0, 3.0, 1.0]
    res = interleave(("a", _fake("a", [], a_values)), ("b", _fake("b", [], b_values)), rounds=5)
    assert res.times == {"a": a_values[1:], "b": b_values[1:]}
    assert res.median("a") == statistics.median(a_values[1:]) == 4.0
    assert res.median("b") == 2.0
    # Per-round ratios 2, 2.5, 2, 1, 5 (round k of a over round k of b), median 2.
    assert res.ratios == [2.0, 2.5, 2.0, 1.0, 5.0]
    assert res.ratio == 2.0
    lines = res.lines()
    assert lines[0] == "  a                           : median     4.000 s (min-max 2.000-10.000, 5 rounds)"
    assert lines[2] == "  median ratio of the measured values, a / b: 2.000 (per-round min-max 1.000-5.000)"


def test_paired_ratio_differs_from_the_ratio_of_medians():
    a_values = [0.0, 1.0, 10.0, 10.0]
    b_values = [0.0, 1.0, 1.0, 10.0]
    res = interleave(("a", _fake("a", [], a_values)), ("b", _fake("b", [], b_values)), rounds=3)
    assert res.median("a") / res.median("b") == 10.0
    assert res.ratio == 1.0  # ratios 1, 10, 1


def test_rounds_must_be_positive():
    with pytest.raises(ValueError, match="rounds must be >= 1"):
        interleave(("a", lambda: 1.0), ("b", lambda: 1.0), rounds=0)


def test_sides_need_distinct_names():
    with pytest.raises(ValueError, match="different names, both are 'erm'"):
        interleave(("erm", lambda: 1.0), ("erm", lambda: 1.0))
