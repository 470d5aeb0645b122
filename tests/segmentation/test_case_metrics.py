"""Per-case Dice, HD95 and NSD against MONAI called directly, and the empty-mask conventions."""

import math
import warnings

import numpy as np
import pytest
import torch
from monai.metrics import compute_dice, compute_hausdorff_distance, compute_surface_dice

from fairmedia.errors import UserError
from fairmedia.segmentation.case_metrics import case_metrics

torch.set_num_threads(1)


def _disc(shape, centre, radius):
    grid = np.indices(shape)
    return (sum((g - c) ** 2 for g, c in zip(grid, centre)) <= radius ** 2).astype(np.int64)


def _monai(pred, ref, spacing, tolerance):
    """MONAI's three metrics on one binary pair, (1, 1, *spatial) tensors."""
    p, r = (torch.as_tensor(m.astype(bool))[None, None] for m in (pred, ref))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (float(compute_dice(p, r, include_background=True)),
                float(compute_hausdorff_distance(p, r, include_background=True, percentile=95,
                                                 spacing=list(spacing))),
                float(compute_surface_dice(p, r, [tolerance], include_background=True,
                                           spacing=list(spacing))))


@pytest.mark.parametrize("shape,spacing", [((40, 40), (1.0, 1.0)), ((40, 40), (0.5, 2.0)),
                                           ((12, 20, 20), (3.0, 1.0, 1.0))])
def test_binary_metrics_match_monai(shape, spacing):
    centre = [n // 2 for n in shape]
    ref = _disc(shape, centre, 5)
    pred = _disc(shape, [c + 2 for c in centre], 4)
    (row,) = case_metrics(pred, ref, {"lesion": 1}, spacing=spacing, nsd_tolerance=1.5)
    dice, hd95, nsd = _monai(pred, ref, spacing, 1.5)
    assert row["dice"] == pytest.approx(dice)
    assert row["hd95"] == pytest.approx(hd95)
    assert row["nsd"] == pytest.approx(nsd)
    assert 0 < dice < 1 and hd95 > 0 and 0 < nsd < 1  # a real, non-trivial pair
    assert row["ref_volume"] == pytest.approx(ref.sum() * np.prod(spacing))


def test_multiclass_classes_are_label_sets():
    # FairSeg-like: disc = labels {1, 2} (rim + cup), cup = label 2
    ref = _disc((48, 48), (24, 24), 12) + _disc((48, 48), (24, 24), 5)
    pred = _disc((48, 48), (25, 23), 11) + _disc((48, 48), (26, 23), 6)
    rows = case_metrics(pred, ref, {"disc": (1, 2), "cup": 2})
    for row, labels in zip(rows, ((1, 2), (2,))):
        expected = _monai(np.isin(pred, labels), np.isin(ref, labels), (1, 1), 2.0)
        assert (row["dice"], row["hd95"], row["nsd"]) == pytest.approx(expected)
    assert [r["class"] for r in rows] == ["disc", "cup"]


def test_empty_mask_conventions():
    shape, spacing = (20, 30), (1.0, 2.0)
    empty, some = np.zeros(shape, int), _disc(shape, (10, 15), 3)
    diagonal = math.hypot(19 * 1.0, 29 * 2.0)
    both = case_metrics(empty, empty, {"x": 1}, spacing=spacing)[0]
    assert (both["dice"], both["hd95"], both["nsd"], both["empty"]) == (1.0, 0.0, 1.0, "both")
    for pred, ref, side in ((some, empty, "ref"), (empty, some, "pred")):
        row = case_metrics(pred, ref, {"x": 1}, spacing=spacing)[0]
        assert (row["dice"], row["nsd"], row["empty"]) == (0.0, 0.0, side)
        assert row["hd95"] == pytest.approx(diagonal)
        # what MONAI itself returns here: a NaN distance, replaced by the diagonal
        assert math.isnan(_monai(pred, ref, spacing, 2.0)[1])


def test_shape_mismatch_names_the_case_and_both_shapes():
    with pytest.raises(UserError, match=r"case c7: prediction shape \(4, 5\).*\(4, 4\)"):
        case_metrics(np.zeros((4, 5), int), np.zeros((4, 4), int), {"x": 1}, case_id="c7")


def test_background_label_is_refused():
    with pytest.raises(UserError, match="class 'bg'"):
        case_metrics(np.zeros((4, 4), int), np.zeros((4, 4), int), {"bg": 0})


def test_manifest_classes_drop_the_background():
    from fairmedia.segmentation.case_metrics import classes_from_manifest

    assert classes_from_manifest({"background": 0, "rim": 1, "cup": 2}) == {"rim": (1,),
                                                                            "cup": (2,)}
