"""Both equity-scaled variants against values hand-computed from the papers' formulas."""

import math

import numpy as np
import pytest

from fairmedia.segmentation.equity_scaled import equity_scaled
from fairmedia.segmentation.group_metrics import group_summary

# three groups of different sizes: means 0.9 (n=2), 0.7 (n=1), 0.6 (n=3)
VALUES = np.array([0.8, 1.0, 0.7, 0.5, 0.6, 0.7])
GROUPS = np.array(["a", "a", "b", "c", "c", "c"])
ALL = 4.3 / 6  # the mean over cases, not over group means


def test_fairseg_and_fairmedfm_dice_by_hand():
    means = [0.9, 0.7, 0.6]
    deviation = abs(0.9 - ALL) + abs(0.7 - ALL) + abs(0.6 - ALL)
    grand = sum(means) / 3
    population_std = math.sqrt(sum((m - grand) ** 2 for m in means) / 3)
    out = group_summary(VALUES, GROUPS, metric="dice")["disparities"]
    assert out["es_dice_fairseg"]["value"] == pytest.approx(ALL / (1 + deviation))
    assert out["es_dice_fairmedfm"]["value"] == pytest.approx(ALL / (1 + population_std))
    assert out["gap"]["value"] == pytest.approx(0.3)
    assert out["ratio"]["value"] == pytest.approx(0.6 / 0.9)
    assert (out["worst"], out["best"]) == ("c", "a")


def test_distance_variants_by_hand():
    hd = VALUES * 10  # group means 9, 7, 6; overall 43/6
    overall = 43 / 6
    out = group_summary(hd, GROUPS, metric="hd95")["disparities"]
    deviation = abs(9 - overall) + abs(7 - overall) + abs(6 - overall)
    std = math.sqrt(((9 - 22 / 3) ** 2 + (7 - 22 / 3) ** 2 + (6 - 22 / 3) ** 2) / 3)
    assert out["es_hd95_fairseg"]["value"] == pytest.approx(overall * (1 + deviation / overall))
    assert out["es_hd95_fairmedfm"]["value"] == pytest.approx(overall * (1 + std / overall))
    assert (out["worst"], out["best"]) == ("a", "c")  # the largest distance is the worst


def test_distance_variant_scales_with_the_unit():
    groups = np.array([[9.0, 7.0, 6.0]])
    px = equity_scaled("hd95", np.array([7.0]), groups)
    mm = equity_scaled("hd95", np.array([7.0 * 0.5]), groups * 0.5)
    for key in px:
        assert mm[key][0] == pytest.approx(px[key][0] * 0.5)
