"""The synthetic shifted twin: same patients, another scanner, the marker reversed at test."""

from __future__ import annotations

import numpy as np
import pytest

from fairmedia.data.synthetic import generate, spec_from_preset
from fairmedia.errors import UserError

BASE = {"n": 200, "size": 16, "seed": 3, "shortcut_test": "same"}


def test_no_shift_leaves_the_preset_bit_identical():
    meta, images = generate(spec_from_preset("shortcut", **BASE))
    meta2, images2 = generate(spec_from_preset("shortcut", shift="none", **BASE))
    np.testing.assert_array_equal(images, images2)
    assert meta.equals(meta2)


def test_scanner_gain_and_offset_apply_to_the_stored_grey_levels():
    _, images = generate(spec_from_preset("shortcut", **BASE))
    _, shifted = generate(spec_from_preset("shortcut", intensity_scale=0.8, intensity_offset=0.1,
                                           **BASE))
    expected = np.clip(np.rint(images.astype(np.float64) * 0.8 + 25.5), 0, 255)
    np.testing.assert_array_equal(shifted, expected.astype(np.uint8))


def test_twin_keeps_patients_labels_and_splits_and_reverses_the_marker_at_test():
    meta, _ = generate(spec_from_preset("shortcut", **BASE))
    twin, _ = generate(spec_from_preset("shortcut", shift="scanner+shortcut",
                                        **{k: v for k, v in BASE.items() if k != "shortcut_test"}))
    spec = spec_from_preset("shortcut", shift="scanner+shortcut", n=10)
    assert (spec.intensity_scale, spec.intensity_offset, spec.noise) == (0.8, 0.1, 0.18)
    for col in ("sample_id", "patient_id", "split", "y", "sex"):
        assert (meta[col] == twin[col]).all(), col
    test, dev = meta["split"] == "test", meta["split"] != "test"
    assert (meta.loc[dev, "marker"] == twin.loc[dev, "marker"]).all()
    # at test, every marker of a group with a shortcut (both groups here) is flipped
    assert (meta.loc[test, "marker"] == 1 - twin.loc[test, "marker"]).all()


def test_explicit_options_win_over_the_shift_and_unknown_shifts_are_refused():
    spec = spec_from_preset("shortcut", shift="scanner", noise=0.05)
    assert spec.noise == 0.05 and spec.intensity_scale == 0.8 and spec.shift == "scanner"
    with pytest.raises(UserError, match="unknown synthetic shift 'sideways'; valid: none, scanner"):
        spec_from_preset("shortcut", shift="sideways")
