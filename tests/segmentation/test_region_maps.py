"""Per-group error-rate maps against hand-computed pixel counts, per pixel and on a grid."""

import numpy as np
import pytest

from fairmedia.errors import UserError
from fairmedia.segmentation.region_maps import group_error_maps, plot_region_maps


def test_pixel_maps_are_per_group_error_rates():
    ref = np.zeros((4, 4), int)
    ref[1:3, 1:3] = 1
    fp = ref.copy()
    fp[0, 0] = 1  # one false positive
    fn = ref.copy()
    fn[1, 1] = 0  # one false negative
    maps = group_error_maps([("a", fp, ref), ("a", ref, ref), ("b", fn, ref)], [1])
    assert maps["a"]["n"] == 2 and maps["a"]["map"][0, 0] == 0.5
    assert maps["a"]["map"].sum() == 0.5
    assert maps["b"]["map"][1, 1] == 1.0 and maps["b"]["map"].sum() == 1.0


def test_coarse_grid_averages_cases_of_different_shapes(tmp_path):
    small, big = np.zeros((4, 4), int), np.zeros((8, 6), int)
    wrong_small, wrong_big = small.copy(), big.copy()
    wrong_small[0, 0] = 1  # 1 of the 4 pixels of the top-left 2x2 cell
    wrong_big[:4, :3] = 1  # the whole top-left cell
    maps = group_error_maps([("a", wrong_small, small), ("a", wrong_big, big)], [1], grid=(2, 2))
    assert maps["a"]["map"] == pytest.approx(np.array([[(0.25 + 1) / 2, 0], [0, 0]]))
    with pytest.raises(UserError, match="shape"):
        group_error_maps([("a", small, small), ("a", big, big)], [1])
    paths = plot_region_maps({**maps, "b": maps["a"]}, "a", "b", tmp_path / "m", title="t")
    assert [p.suffix for p in paths] == [".png", ".pdf"] and all(p.stat().st_size for p in paths)
