"""The synthetic generator: determinism, each knob's effect on the data, and the card."""

from __future__ import annotations

import numpy as np
import pytest

from fairmedia.data.cards import load_card
from fairmedia.data.prepared import load_prepared
from fairmedia.data.synthetic import PRESETS, generate, generate_metadata, spec_from_preset, write_synthetic
from fairmedia.errors import UserError


def test_deterministic_from_seed():
    a_meta, a_img = generate(spec_from_preset("mixed", n=200, size=16, seed=3))
    b_meta, b_img = generate(spec_from_preset("mixed", n=200, size=16, seed=3))
    c_meta, c_img = generate(spec_from_preset("mixed", n=200, size=16, seed=4))
    assert a_meta.equals(b_meta) and np.array_equal(a_img, b_img)
    assert not np.array_equal(a_img, c_img)


def test_group_share_and_prevalence_knobs():
    meta = generate_metadata(spec_from_preset("none", n=20000, group_share_train=0.1,
                                              prevalence=(0.5, 0.2)))
    train = meta[meta.split == "train"]
    share_f = (train.drop_duplicates("patient_id").sex == "F").mean()
    assert share_f == pytest.approx(0.1, abs=0.015)
    evals = meta[meta.split != "train"].drop_duplicates("patient_id")
    assert (evals.sex == "F").mean() == pytest.approx(0.5, abs=0.03)
    prev = meta.groupby("sex").y_clean.mean()
    assert prev["M"] == pytest.approx(0.5, abs=0.02) and prev["F"] == pytest.approx(0.2, abs=0.02)


def test_underdiagnosis_flips_positives_of_group_f_in_train_val_only():
    meta = generate_metadata(spec_from_preset("underdiagnosis", n=20000))
    flipped = (meta.y_clean == 1) & (meta.y == 0)
    assert not flipped[meta.split == "test"].any()
    assert not flipped[meta.sex == "M"].any()
    pos_f_dev = meta[(meta.sex == "F") & (meta.split != "test") & (meta.y_clean == 1)]
    assert (pos_f_dev.y == 0).mean() == pytest.approx(0.5, abs=0.04)


def test_shortcut_marker_agrees_with_label_then_reverses_at_test():
    meta = generate_metadata(spec_from_preset("shortcut", n=20000))
    f = meta[meta.sex == "F"]
    dev, test = f[f.split != "test"], f[f.split == "test"]
    assert (dev.marker == dev.y).mean() == pytest.approx(0.95, abs=0.02)  # (1 + 0.9) / 2
    assert (test.marker == test.y).mean() == pytest.approx(0.05, abs=0.02)
    removed = generate_metadata(spec_from_preset("shortcut", n=2000, shortcut_test="remove"))
    assert removed[removed.split == "test"].marker.sum() == 0


def test_marker_is_drawn_in_the_corner():
    meta, img = generate(spec_from_preset("none", n=100, size=32, seed=1))
    m = max(2, 32 // 16)
    corner = img[:, 0, 1 : 1 + m, 1 : 1 + m].reshape(len(meta), -1)
    assert (corner[meta.marker.to_numpy() == 1] == 255).all()
    assert (corner[meta.marker.to_numpy() == 0] < 255).any()


def test_visibility_widens_group_f_bodies():
    meta, img = generate(spec_from_preset("none", n=600, size=32, visibility=1.0, noise=0.0))
    row = img[:, 0, 16, :].astype(float)  # a horizontal line through the body centre
    width = (row > 60).sum(axis=1)
    f, m = width[meta.sex.to_numpy() == "F"], width[meta.sex.to_numpy() == "M"]
    assert f.mean() > m.mean() + 2


def test_patients_never_span_splits_and_images_match_contract(tmp_path):
    out = write_synthetic(tmp_path / "d", "mixed", n=500, size=16)
    prep = load_prepared(out)
    assert prep.images.shape == (500, 1, 16, 16) and prep.images.dtype == np.uint8
    assert prep.metadata.groupby("patient_id").split.nunique().max() == 1
    assert set(prep.attributes) == {"sex", "age_group"}
    assert "age" in prep.metadata  # raw value kept next to the grouped one
    counts = prep.manifest["counts"]["train"]["sex"]
    train = prep.metadata[prep.metadata.split == "train"]
    assert counts["F"]["1"] == int(((train.sex == "F") & (train.y == 1)).sum())


def test_card_documents_every_preset_with_the_code_knobs():
    card = load_card("synthetic")
    assert set(card["presets"]) == set(PRESETS)
    for name, knobs in PRESETS.items():
        as_yaml = {k: list(v) if isinstance(v, tuple) else v for k, v in knobs.items()}
        assert card["presets"][name]["knobs"] == as_yaml
        assert card["presets"][name]["expected"]


def test_bad_preset_and_knob_are_clear_errors():
    with pytest.raises(UserError, match="valid: none, representation"):
        spec_from_preset("nope")
    with pytest.raises(UserError, match="unknown synthetic option"):
        spec_from_preset("none", contrastt=1)
