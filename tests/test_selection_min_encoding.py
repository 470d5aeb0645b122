"""The min_encoding selection rule (after Yang et al., Nature Medicine 2024) on constructed
epoch tables: the least-encoding epoch within the val AUC tolerance of the best."""

from __future__ import annotations

import numpy as np
import pytest

from fairmedia.training.outputs import attribute_encoding
from fairmedia.training.selection import ENCODING_TOLERANCE, SELECTIONS, choose

# Epoch:             0      1      2      3      4
OVERALL = np.array([0.800, 0.855, 0.860, 0.852, 0.700])
ENCODING = np.array([0.50, 0.90, 0.80, 0.60, 0.40])
NO_GROUPS = np.zeros((5, 0))


def test_picks_the_least_encoding_epoch_within_the_default_tolerance():
    # Within 0.01 of the best 0.860: epochs 1, 2, 3; of those epoch 3 encodes least (0.60).
    # Epochs 0 and 4 encode less but are further than 0.01 below the best AUC.
    assert ENCODING_TOLERANCE == 0.01 and "min_encoding" in SELECTIONS
    assert choose("min_encoding", OVERALL, NO_GROUPS, encoding=ENCODING) == 3


def test_the_tolerance_is_a_setting():
    assert choose("min_encoding", OVERALL, NO_GROUPS, encoding=ENCODING, tolerance=0.07) == 0
    assert choose("min_encoding", OVERALL, NO_GROUPS, encoding=ENCODING, tolerance=0.2) == 4
    assert choose("min_encoding", OVERALL, NO_GROUPS, encoding=ENCODING, tolerance=0.0) == 2


def test_one_epoch_within_tolerance_is_the_best_auc_epoch():
    overall, enc = np.array([0.80, 0.90, 0.70]), np.array([0.50, 0.95, 0.40])
    assert choose("min_encoding", overall, NO_GROUPS[:3], encoding=enc) == 1


def test_undefined_encoding_is_not_eligible_and_no_encoding_means_overall():
    enc = ENCODING.copy()
    enc[3] = np.nan
    assert choose("min_encoding", OVERALL, NO_GROUPS, encoding=enc) == 2
    assert choose("min_encoding", OVERALL, NO_GROUPS, encoding=np.full(5, np.nan)) == 2
    assert choose("min_encoding", OVERALL, NO_GROUPS, encoding=None) == 2


def test_ties_go_to_the_earliest_epoch():
    overall, enc = np.array([0.9, 0.9, 0.9]), np.array([0.7, 0.6, 0.6])
    assert choose("min_encoding", overall, NO_GROUPS[:3], encoding=enc) == 1


def test_an_intersection_uses_the_mean_of_its_parts_and_any_has_none():
    enc = {"sex": np.array([0.9, 0.5]), "age_group": np.array([0.5, 0.7])}
    np.testing.assert_allclose(attribute_encoding(enc, "sex__x__age_group"), [0.7, 0.6])
    np.testing.assert_allclose(attribute_encoding(enc, "sex"), [0.9, 0.5])
    assert attribute_encoding(enc, "any") is None and attribute_encoding({}, "sex") is None


@pytest.mark.parametrize("tolerance", [0.01, 0.05])
def test_chosen_epoch_is_eligible_and_minimal_on_random_tables(tolerance):
    rng = np.random.default_rng(3)
    for _ in range(50):
        overall, enc = rng.uniform(0.6, 0.9, 8), rng.uniform(0.4, 1.0, 8)
        i = choose("min_encoding", overall, np.zeros((8, 0)), encoding=enc, tolerance=tolerance)
        eligible = np.flatnonzero(overall >= overall.max() - tolerance)  # written out here
        assert i == eligible[np.argmin(enc[eligible])]


def test_across_hyperparameter_configurations_min_encoding_is_overall_with_a_note():
    import pandas as pd

    from fairmedia.report.hparam_choice import choose as choose_configuration

    keys = {"dataset": "d", "attribute": "sex", "arch": "a", "decides": False}
    vals = pd.DataFrame([{**keys, "method": f"m@hp{k}", "seed": s, "val_auc": auc,
                          "val_auc_worst": auc - 0.1, "val_auc_group::A": auc - 0.1,
                          "val_auc_group::B": auc}
                         for k, auc in enumerate((0.80, 0.87, 0.82)) for s in (0, 1)])
    chosen = choose_configuration(vals, "min_encoding")
    assert chosen.query("chosen")["method"].tolist() == ["m@hp1"]  # the best val AUC
    assert set(chosen["note"]) == {"min_encoding chooses across configurations as overall"}
