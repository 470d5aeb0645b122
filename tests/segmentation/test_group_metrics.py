"""Per-group Dice, HD95 and NSD of a report against MONAI per case, grouped in the test; the
bootstrap clustered by patient."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from monai.metrics import DiceMetric, HausdorffDistanceMetric, SurfaceDiceMetric

from fairmedia.segmentation.case_metrics import cases_table
from fairmedia.segmentation.group_metrics import attribute_report, group_summary

torch.set_num_threads(1)


def _cases(n=12, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        ref = np.zeros((24, 24), np.int64)
        ref[6:6 + rng.integers(4, 12), 5:15] = 1
        pred = np.roll(ref, int(rng.integers(0, 4)), axis=1)
        out.append((f"c{i}", pred, ref, None))
    return out


def test_group_means_match_monai_per_case():
    cases = _cases()
    groups = ["x", "y", "z"] * 4
    table = cases_table(cases, {"lesion": 1}, nsd_tolerance=1.0)
    table["site"] = groups
    table["patient_id"] = [f"p{i}" for i in range(len(cases))]
    report = attribute_report(table, "site")["lesion"]
    p = torch.as_tensor(np.stack([c[1] for c in cases])[:, None])
    r = torch.as_tensor(np.stack([c[2] for c in cases])[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = {"dice": DiceMetric(include_background=True, reduction="none")(p, r),
                  "hd95": HausdorffDistanceMetric(include_background=True, percentile=95,
                                                  reduction="none")(p, r),
                  "nsd": SurfaceDiceMetric([1.0], include_background=True,
                                           reduction="none")(p, r)}
    for metric, values in direct.items():
        expected = pd.Series(values[:, 0].numpy()).groupby(groups).mean()
        got = {g["group"]: g["value"] for g in report[metric]["groups"]}
        assert got == pytest.approx(expected.to_dict())
        assert report[metric]["overall"]["value"] == pytest.approx(float(values.mean()))


def test_bootstrap_resamples_patients_not_cases():
    # every patient has two identical cases: clustered by patient, the CI equals that of one
    # case per patient; resampling cases independently would give a narrower one
    rng = np.random.default_rng(1)
    one = rng.uniform(0.5, 1.0, 20)
    groups = np.repeat(["a", "b"], 10)
    single = group_summary(one, groups, metric="dice", bootstrap=300, seed=3)
    doubled = group_summary(np.repeat(one, 2), np.repeat(groups, 2), metric="dice",
                            patients=np.repeat(np.arange(20), 2), bootstrap=300, seed=3)
    cases = group_summary(np.repeat(one, 2), np.repeat(groups, 2), metric="dice",
                          bootstrap=300, seed=3)
    assert doubled["disparities"]["gap"]["ci"] == pytest.approx(single["disparities"]["gap"]["ci"])
    width = [np.diff(s["disparities"]["gap"]["ci"])[0] for s in (doubled, cases)]
    assert width[1] < width[0]
    low, high = doubled["groups"][0]["ci"]
    assert low <= doubled["groups"][0]["value"] <= high


def test_small_groups_are_listed_but_not_compared():
    out = group_summary(np.array([0.9, 0.8, 0.1]), np.array(["a", "a", "b"]), metric="dice",
                        min_group_size=2)
    assert [g["small"] for g in out["groups"]] == [False, True]
    assert out["disparities"]["n_groups"] == 1
    assert out["disparities"]["gap"]["value"] == 0.0


def test_all_groups_small_is_no_crash_and_no_disparity():
    out = group_summary(np.array([0.5, 0.6]), np.array(["a", "b"]), metric="dice",
                        min_group_size=5, bootstrap=5)
    assert out["disparities"]["n_groups"] == 0 and out["disparities"]["gap"]["value"] is None
    assert [g["value"] for g in out["groups"]] == [0.5, 0.6]
