"""Size-stratified Dice on a constructed case: group b's lesions are smaller, the model treats
every size the same in both groups, so the stratified and standardised Dice show no gap."""

import numpy as np
import pandas as pd
import pytest

from fairmedia.segmentation.size_strata import stratified_dice


def test_smaller_lesions_are_not_mistaken_for_unfairness():
    # Dice depends on the lesion size only: small (10 voxels) 0.5, large (100 voxels) 0.9
    sizes = {"a": [100] * 6 + [10] * 2, "b": [100] * 2 + [10] * 6}
    rows = [{"class": "lesion", "site": g, "ref_volume": v, "dice": 0.9 if v == 100 else 0.5}
            for g, vs in sizes.items() for v in vs]
    table = pd.DataFrame(rows)
    raw = table.groupby("site")["dice"].mean()
    assert raw["a"] - raw["b"] == pytest.approx(0.2)  # the naive gap
    out = stratified_dice(table, "site", n_strata=2)["lesion"]
    assert len(out["strata"]) == 2
    for group in out["groups"]:
        assert [c["dice"] for c in group["strata"]] == pytest.approx([0.5, 0.9])
        assert group["standardised_dice"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.9)
    assert out["standardised_gap"] == pytest.approx(0.0)
    counts = {g["group"]: [c["n"] for c in g["strata"]] for g in out["groups"]}
    assert counts == {"a": [2, 6], "b": [6, 2]}  # edges fixed on all cases, not per group


def test_empty_references_form_their_own_stratum():
    table = pd.DataFrame({"class": "x", "site": ["a", "a", "b", "b"],
                          "ref_volume": [0, 5, 0, 9], "dice": [1.0, 0.5, 0.0, 0.7]})
    out = stratified_dice(table, "site", n_strata=1)["x"]
    assert out["strata"][-1] == "empty"
    b = next(g for g in out["groups"] if g["group"] == "b")
    assert {c["stratum"]: c["dice"] for c in b["strata"]}["empty"] == 0.0
    assert np.isfinite(out["standardised_gap"])


def test_strata_edges_are_fixed_on_all_cases():
    # b's lesions are all smaller than a's: on edges fixed on all cases they share one stratum;
    # edges fitted within b alone would split them in two and compare unlike sizes
    table = pd.DataFrame({"class": "x", "site": ["a"] * 4 + ["b"] * 4,
                          "ref_volume": [50, 60, 70, 80, 5, 6, 7, 8],
                          "dice": [0.9] * 4 + [0.5] * 4})
    joint = stratified_dice(table, "site", n_strata=2)["x"]
    b = next(g for g in joint["groups"] if g["group"] == "b")
    assert [c["n"] for c in b["strata"]] == [4]
    assert b["standardised_dice"] is None  # b has no case in a's stratum: not comparable
    alone = stratified_dice(table[table["site"] == "b"], "site", n_strata=2)["x"]
    assert [c["n"] for c in alone["groups"][0]["strata"]] == [2, 2]


def test_equal_sizes_make_one_stratum():
    table = pd.DataFrame({"class": "x", "site": ["a", "b"], "ref_volume": [7, 7],
                          "dice": [0.4, 0.8]})
    out = stratified_dice(table, "site", n_strata=3)["x"]
    assert out["strata"] == ["[7, 7]"]
    assert out["standardised_gap"] == pytest.approx(0.4)
