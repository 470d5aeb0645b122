"""Segmentation phantoms: the mask is the lesion drawn, and each bias knob acts on it as stated
in datasets/synthetic.yaml (group F's lesions smaller, fainter, or their masks eroded/missed in
train/val only)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from fairmedia.data.prepared import load_prepared
from fairmedia.data.synthetic import generate, spec_from_preset, write_synthetic
from fairmedia.data.synthetic_masks import SEG_PREVALENCE
from fairmedia.errors import UserError

N, SIZE = 300, 48


def _gen(preset: str, **kw):
    return generate(spec_from_preset(preset, n=N, size=SIZE, **kw))


def _areas(masks):
    return masks.reshape(len(masks), -1).sum(axis=1)


def test_mask_marks_the_drawn_lesion_and_is_empty_iff_no_lesion():
    meta, images, masks = _gen("seg-none", noise=0.02)
    lesion = meta["y_clean"].to_numpy() == 1
    assert np.array_equal(_areas(masks) > 0, lesion)
    # Each lesion's mask is brighter than the rest of its image, and brighter than the same
    # place in an image without a lesion — the mask sits on the drawn blob.
    inside = np.array([images[i, 0][masks[i] > 0].mean() for i in np.flatnonzero(lesion)])
    outside = np.array([images[i, 0][masks[i] == 0].mean() for i in np.flatnonzero(lesion)])
    assert (inside > outside).mean() > 0.95
    # Each mask is one connected disc (scipy's labelling, an independent check of the shape).
    counts = [ndimage.label(masks[i])[1] for i in np.flatnonzero(lesion)]
    assert set(counts) == {1}
    assert abs(lesion.mean() - SEG_PREVALENCE[0]) < 0.07  # lesion probability p as stated


def test_images_and_labels_are_those_of_the_same_knobs_without_masks():
    meta, images, _ = _gen("seg-contrast")
    plain_meta, plain_images = generate(spec_from_preset("seg-contrast", n=N, size=SIZE,
                                                         task="classification"))
    assert np.array_equal(images, plain_images)
    assert plain_meta["y_clean"].equals(meta["y_clean"]) and plain_meta["split"].equals(meta["split"])


def test_size_knob_shrinks_group_f_masks_only():
    meta, _, base = _gen("seg-none")
    _, _, small = _gen("seg-size")
    f = meta["sex"].to_numpy() == "F"
    lesion = meta["y_clean"].to_numpy() == 1
    ratio_f = _areas(small)[f & lesion].mean() / _areas(base)[f & lesion].mean()
    assert 0.6**2 - 0.12 < ratio_f < 0.6**2 + 0.12  # area scales with the radius squared
    assert np.array_equal(small[~f], base[~f])


def test_contrast_knob_makes_group_f_lesions_fainter():
    def lesion_contrast(preset):
        meta, images, masks = _gen(preset, noise=0.02)
        f = meta["sex"].to_numpy() == "F"
        rows = np.flatnonzero(_areas(masks) > 0)
        diff = np.array([images[i, 0][masks[i] > 0].mean() - images[i, 0][masks[i] == 0].mean()
                         for i in rows], dtype=float)
        return diff[f[rows]].mean(), diff[~f[rows]].mean()

    f_base, m_base = lesion_contrast("seg-none")
    f_faint, m_faint = lesion_contrast("seg-contrast")
    assert f_faint < f_base - 10 and abs(m_faint - m_base) < 1e-9


def test_noise_erodes_group_f_train_val_masks_and_leaves_test_clean():
    meta, images, noisy = _gen("seg-noise")
    clean_meta, clean_images, clean = generate(spec_from_preset("seg-noise", n=N, size=SIZE),
                                               clean_masks=True)
    assert np.array_equal(images, clean_images)
    test = meta["split"].to_numpy() == "test"
    f = meta["sex"].to_numpy() == "F"
    assert np.array_equal(noisy[test], clean[test])
    assert np.array_equal(noisy[~f], clean[~f])
    dev_f = ~test & f & (_areas(clean) > 0)
    assert dev_f.sum() > 20
    assert (noisy[dev_f] <= clean[dev_f]).all()  # eroded masks lie inside the drawn ones
    assert (_areas(noisy)[dev_f] < _areas(clean)[dev_f]).all()
    assert set(meta.loc[dev_f, "mask_noise"]) <= {"eroded", "missed"}
    assert set(meta.loc[test, "mask_noise"]) == {"none"}
    assert np.array_equal(meta["y"].to_numpy(), (_areas(noisy) > 0).astype(int))


def test_missed_masks_are_empty_for_underdiagnosed_f_in_train_val_only():
    meta, images, masks = _gen("seg-missed")
    missed = meta["mask_noise"].to_numpy() == "missed"
    assert missed.sum() > 10
    assert set(meta.loc[missed, "sex"]) == {"F"} and "test" not in set(meta.loc[missed, "split"])
    assert (_areas(masks)[missed] == 0).all() and (meta.loc[missed, "y_clean"] == 1).all()
    test = meta["split"].to_numpy() == "test"
    assert np.array_equal(_areas(masks)[test] > 0, meta["y_clean"].to_numpy()[test] == 1)


def test_3d_phantoms_have_3d_masks_on_the_drawn_lesion(tmp_path):
    write_synthetic(tmp_path, "seg-none", n=30, size=20, dims=3, noise=0.02)
    prep = load_prepared(tmp_path)
    assert prep.images.shape == (30, 1, 20, 20, 20) and prep.masks.shape == (30, 20, 20, 20)
    lesion = prep.metadata["y_clean"].to_numpy() == 1
    assert np.array_equal(_areas(prep.masks) > 0, lesion)
    rows = np.flatnonzero(lesion)
    inside = [prep.images[i, 0][prep.masks[i] > 0].mean() > prep.images[i, 0][prep.masks[i] == 0].mean()
              for i in rows]
    assert np.mean(inside) > 0.9
    assert prep.task == "segmentation" and prep.classes == {"background": 0, "lesion": 1}


def test_bad_segmentation_knobs_are_clear_errors():
    with pytest.raises(UserError, match="'task' must be one of classification, segmentation"):
        spec_from_preset("none", task="detection")
    with pytest.raises(UserError, match="'mask_erosion' acts on masks"):
        spec_from_preset("none", mask_erosion=[0, 1])
    with pytest.raises(UserError, match="whole numbers"):
        spec_from_preset("seg-none", mask_erosion=[0, 1.5])
    with pytest.raises(UserError, match="'lesion_size' must be two positive"):
        spec_from_preset("seg-none", lesion_size=[1, 0])
