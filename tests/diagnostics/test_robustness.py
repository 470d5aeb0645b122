"""Ranking robustness (Kendall τ, top-1 changes, seed bootstrap) and power (minimum detectable Δ)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau
from statsmodels.stats.power import TTestPower

from fairmedia.cli import main
from fairmedia.diagnostics.power import power_table
from fairmedia.diagnostics.robustness import check_long, seed_bootstrap, selection_pairs
from fairmedia.errors import UserError


def long_table(values: dict[tuple[str, str, str], list[float]]) -> pd.DataFrame:
    """Long rows from ``{(dataset, selection, method): [value per seed]}`` for metric auc_worst."""
    rows = [dict(dataset=d, attribute="sex", arch="cnn", method=m, seed=s, selection=sel,
                 metric="auc_worst", value=v, run_dir="")
            for (d, sel, m), vals in values.items() for s, v in enumerate(vals)]
    return pd.DataFrame(rows)


# Block d1: the two rules agree on the best (a); block d2: they differ (c vs a). Ties in d1/worst.
MEANS = {"d1": {"overall": {"a": 0.9, "b": 0.7, "c": 0.8, "d": 0.6},
                "worst_group": {"a": 0.85, "b": 0.6, "c": 0.6, "d": 0.7}},
         "d2": {"overall": {"a": 0.5, "b": 0.6, "c": 0.9, "d": 0.7},
                "worst_group": {"a": 0.8, "b": 0.4, "c": 0.7, "d": 0.3}}}


def fixed_long() -> pd.DataFrame:
    # Seeds mean ± 0.01 around the stated means, so the seed mean is exactly the stated one.
    return long_table({(d, s, m): [v - 0.01, v, v + 0.01]
                       for d, sels in MEANS.items() for s, ms in sels.items()
                       for m, v in ms.items()})


def test_selection_pair_tau_equals_scipy_and_top1_fraction() -> None:
    table = selection_pairs(fixed_long(), "auc_worst", ["overall", "worst_group"])
    per_block = table[table["dataset"] != "mean over blocks"].set_index("dataset")
    for d in ("d1", "d2"):
        methods = sorted(MEANS[d]["overall"])
        ref = kendalltau([MEANS[d]["overall"][m] for m in methods],
                         [MEANS[d]["worst_group"][m] for m in methods])
        assert per_block.loc[d, "tau"] == pytest.approx(ref.statistic, abs=1e-12)
        assert per_block.loc[d, "tau_p"] == pytest.approx(ref.pvalue, abs=1e-12)
    assert per_block.loc["d1", "top_change"] == 0.0 and per_block.loc["d2", "top_change"] == 1.0
    assert (per_block.loc["d2", "top_a"], per_block.loc["d2", "top_b"]) == ("c", "a")
    mean = table[table["dataset"] == "mean over blocks"].iloc[0]
    assert mean["top_change"] == 0.5
    assert mean["tau"] == pytest.approx(per_block["tau"].mean())


def test_seed_bootstrap_top_change_known_probability() -> None:
    # b is constant at 0.5; a's seeds are 0.9, 0.1, 0.1 (mean 0.367: b is top). A resample puts a
    # on top iff ≥ 2 of its 3 draws are 0.9: P = 3·(1/3)²·(2/3) + (1/3)³ = 7/27.
    long = long_table({("d", "overall", "a"): [0.9, 0.1, 0.1],
                       ("d", "overall", "b"): [0.5, 0.5, 0.5]})
    res = seed_bootstrap(long, "auc_worst", ["overall"], n_boot=4000, seed=1).iloc[0]
    assert res["top_a"] == "b"
    assert res["top_change"] == pytest.approx(7 / 27, abs=3 * np.sqrt(7 / 27 * 20 / 27 / 4000))
    # With two methods τ is +1 (same order) or −1 (swapped), so the replicate distribution is
    # exactly the top-change one: median +1 (P(swap) < 1/2) and 2.5 % quantile −1.
    assert (res["tau"], res["tau_low"], res["tau_high"]) == (1.0, -1.0, 1.0)


def test_seed_bootstrap_deterministic_under_seed() -> None:
    rng = np.random.default_rng(0)
    long = long_table({("d", "overall", m): list(rng.normal(0.8, 0.05, 3)) for m in "abcdefgh"})
    one = seed_bootstrap(long, "auc_worst", ["overall"], n_boot=50, seed=3)
    two = seed_bootstrap(long, "auc_worst", ["overall"], n_boot=50, seed=3)
    other = seed_bootstrap(long, "auc_worst", ["overall"], n_boot=50, seed=4)
    pd.testing.assert_frame_equal(one, two)
    assert not one[["tau", "tau_low", "tau_high", "top_change"]].equals(
        other[["tau", "tau_low", "tau_high", "top_change"]])


def power_long() -> pd.DataFrame:
    return long_table({("d", "overall", "erm"): [0.80, 0.82, 0.78, 0.81],
                       ("d", "overall", "a"): [0.83, 0.86, 0.79, 0.85],
                       ("d", "overall", "b"): [0.80, 0.83, 0.80, 0.80]})


def test_power_seed_mdd_matches_statsmodels_power() -> None:
    table = power_table(power_long(), "auc_worst", alpha=0.05, power=0.8).set_index("method")
    diff = np.array([0.83, 0.86, 0.79, 0.85]) - np.array([0.80, 0.82, 0.78, 0.81])
    row = table.loc["a"]
    assert row["n_paired"] == 4
    assert row["sd_diff"] == pytest.approx(diff.std(ddof=1))
    achieved = TTestPower().power(effect_size=row["d_min"], nobs=4, alpha=0.05,
                                  alternative="two-sided")
    assert achieved == pytest.approx(0.8, abs=1e-6)
    assert row["mdd_seed"] == pytest.approx(row["d_min"] * diff.std(ddof=1))
    assert row["detectable_seed"] == (0.02 >= row["mdd_seed"])
    holm = power_table(power_long(), "auc_worst", alpha_adjust="holm").set_index("method")
    assert holm.loc["a", "alpha_used"] == pytest.approx(0.025)  # two methods vs erm
    assert TTestPower().power(effect_size=holm.loc["a", "d_min"], nobs=4, alpha=0.025,
                              alternative="two-sided") == pytest.approx(0.8, abs=1e-6)


def test_power_bootstrap_mdd_hand_formula() -> None:
    sig = pd.DataFrame([dict(dataset="d", attribute="sex", arch="cnn", selection="overall",
                             metric="auc_worst", method=m, boot_ci_low=lo, boot_ci_high=hi)
                        for m, lo, hi in (("a", 0.01, 0.05), ("b", -0.004, 0.006))])
    table = power_table(power_long(), "auc_worst", significance=sig, effect=0.02).set_index("method")
    # z_0.975 = 1.959964, z_0.8 = 0.841621 (normal tables).
    for method, width in (("a", 0.04), ("b", 0.01)):
        se = width / (2 * 1.959964)
        assert table.loc[method, "boot_se"] == pytest.approx(se, rel=1e-6)
        assert table.loc[method, "mdd_boot"] == pytest.approx((1.959964 + 0.841621) * se, rel=1e-6)
    # a: MDΔ 0.0286 > 0.02 (not detectable); b: 0.0071 (detectable); the bootstrap decides.
    assert table["detectable_boot"].to_dict() == {"a": False, "b": True}
    assert table["detectable"].to_dict() == {"a": False, "b": True}


def write_runs(root: Path, selections: list[str]) -> Path:
    for method, base in (("erm", 0.8), ("a", 0.85), ("b", 0.7)):
        for seed in range(3):
            for sel in selections:
                path = root / "d" / "cnn" / method / "any" / f"seed{seed}" / "eval" / "sex" / sel
                path.mkdir(parents=True)
                report = {"overall": {"auc": base + 0.01 * seed},
                          "attributes": {"sex": {"disparity": {"auc": {"worst": base - 0.1}}}}}
                (path / "metrics.json").write_text(json.dumps(report))
    return root


def test_command_writes_outputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    runs = write_runs(tmp_path / "runs", ["overall", "worst_group"])
    out = tmp_path / "out"
    assert main(["robustness", "--runs", str(runs), "--metric", "auc", "--n-boot", "20",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## Between selection rules" in text and "overall vs worst_group" in text
    assert (out / "robustness.md").read_text() == text
    rob = pd.read_csv(out / "robustness.csv")
    assert set(rob["analysis"]) == {"selection_pair", "seed_bootstrap"}
    assert len(pd.read_csv(out / "power.csv")) == 4  # 2 methods × 2 selections


def test_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["robustness", "--runs", str(empty), "--metric", "auc", "--out",
                 str(tmp_path / "o")]) == 2
    assert "no evaluated runs found under" in capsys.readouterr().err
    with pytest.raises(UserError, match="unknown metric 'nonsense'"):
        check_long(fixed_long(), "nonsense")
    with pytest.raises(UserError, match="--metric 'auc_gap': no finite values"):
        check_long(fixed_long(), "auc_gap")
    one = write_runs(tmp_path / "one", ["overall"])
    assert main(["robustness", "--runs", str(one), "--metric", "auc", "--selections", "overall",
                 "--out", str(tmp_path / "o")]) == 2
    assert "selection-rule pairs need ≥ 2 selections; found ['overall']" in capsys.readouterr().err
    # Without --selections, one rule is fine: only the seed bootstrap and power are reported.
    assert main(["robustness", "--runs", str(one), "--metric", "auc", "--n-boot", "5",
                 "--out", str(tmp_path / "o")]) == 0


def test_power_constant_difference_has_no_estimate() -> None:
    long = long_table({("d", "overall", "erm"): [0.80, 0.82, 0.78],
                       ("d", "overall", "same"): [0.80, 0.82, 0.78]})
    sig = pd.DataFrame([dict(dataset="d", attribute="sex", arch="cnn", selection="overall",
                             metric="auc_worst", method="same", boot_ci_low=0.0, boot_ci_high=0.0)])
    row = power_table(long, "auc_worst", significance=sig).iloc[0]
    assert np.isnan(row["mdd_seed"]) and np.isnan(row["mdd_boot"])
    assert row["detectable"] is None
    assert row["note"] == ("paired differences constant: no seed estimate; "
                           "bootstrap CI of zero width: no estimate")
