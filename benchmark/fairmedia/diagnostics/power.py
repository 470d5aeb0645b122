"""Power of a leaderboard cell: the smallest Δ vs the baseline it could detect.

Two estimates per cell (block × selection × method × metric), two-sided at ``alpha``, ``power``:

- *seed*: the paired t-test over seeds the leaderboard runs. statsmodels' ``TTestPower`` (the
  one-sample/paired t power function) solves for the standardised effect ``d`` at ``nobs = n``
  paired seeds; the minimum detectable Δ is ``d · SD`` of the paired differences.
- *boot*: the paired patient bootstrap. Its 95 % percentile CI gives a standard error
  ``SE ≈ (high − low) / (2 · 1.96)``; under a normal approximation the detectable Δ is
  ``(z_{1−α/2} + z_{power}) · SE``.

``alpha_adjust="holm"`` uses ``alpha / m`` (``m`` = methods compared with the baseline in that
table), the threshold of Holm's first, strictest step — what a cell needs to be significant for
sure after the leaderboard's correction; ``"none"`` uses ``alpha`` as is.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.power import TTestPower

from fairmedia.errors import UserError
from fairmedia.stats.paired_by_seed import paired_by_seed

TABLE = ["dataset", "attribute", "arch", "selection", "metric"]
COLUMNS = TABLE + ["method", "n_paired", "sd_diff", "alpha_used", "power", "d_min", "mdd_seed",
                   "boot_se", "mdd_boot", "effect", "detectable_seed", "detectable_boot",
                   "detectable", "note"]
CI_Z = norm.ppf(0.975)  # the leaderboard's bootstrap CIs are 95 % percentile intervals


def min_effect_t(n: int, alpha: float, power: float) -> float:
    """Standardised effect ``d`` a two-sided paired t-test on ``n`` pairs detects with ``power``."""
    if n < 2:
        return np.nan
    with warnings.catch_warnings():  # statsmodels warns on its root-finder's fallback; result checked
        warnings.simplefilter("ignore")
        d = TTestPower().solve_power(effect_size=None, nobs=n, alpha=alpha, power=power,
                                     alternative="two-sided")
    return float(np.squeeze(d))


def mdd_z(se: float, alpha: float, power: float) -> float:
    """Minimum detectable Δ of a two-sided z-test with standard error ``se``."""
    return float((norm.ppf(1 - alpha / 2) + norm.ppf(power)) * se)


def boot_se(ci_low: float, ci_high: float) -> float:
    """Standard error implied by a 95 % CI, assuming normality."""
    return float((ci_high - ci_low) / (2 * CI_Z))


def power_table(rows: pd.DataFrame, metric: str, baseline: str = "erm",
                significance: pd.DataFrame | None = None, alpha: float = 0.05,
                power: float = 0.8, effect: float = 0.02,
                alpha_adjust: str = "none") -> pd.DataFrame:
    """``COLUMNS`` per cell of ``metric`` (``rows``: the long table's rows of that metric).

    ``detectable`` follows the leaderboard's primary test: the bootstrap where the cell has one,
    else the seed t-test.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise UserError(f"--alpha and --power must lie in (0, 1); got {alpha}, {power}")
    if alpha_adjust not in ("none", "holm"):
        raise UserError(f"--alpha-adjust must be none or holm, got {alpha_adjust!r}")
    if baseline not in set(rows["method"]):
        raise UserError(f"baseline {baseline!r} has no runs with {metric!r}; methods: "
                        f"{', '.join(sorted(rows['method'].unique()))}")
    boot = _boot_lookup(significance, metric)
    out = []
    for key, table in rows.groupby(TABLE[:4], sort=True):
        per = {m: dict(zip(g["seed"], g["value"])) for m, g in table.groupby("method")}
        base = per.get(baseline, {})
        others = sorted(m for m in per if m != baseline)
        a = alpha / len(others) if alpha_adjust == "holm" and others else alpha
        for method in others:
            paired = paired_by_seed(per[method], base)
            d = min_effect_t(paired.n, a, power)
            mdd_seed = d * paired.std_diff
            low, high = boot.get((*key, method), (np.nan, np.nan))
            se = boot_se(low, high)
            mdd_boot = mdd_z(se, a, power)
            notes = [] if paired.n >= 2 else [f"{paired.n} paired seed(s): no seed estimate"]
            # A zero spread (e.g. post-processing that leaves AUC as the baseline's) gives
            # MDΔ = 0, which would call any effect "detectable"; it is no estimate at all.
            if paired.std_diff == 0:
                mdd_seed, notes = np.nan, notes + ["paired differences constant: no seed estimate"]
            if se == 0:
                mdd_boot, notes = np.nan, notes + ["bootstrap CI of zero width: no estimate"]
            note = "; ".join(notes)
            det_seed = bool(abs(effect) >= mdd_seed) if np.isfinite(mdd_seed) else None
            det_boot = bool(abs(effect) >= mdd_boot) if np.isfinite(mdd_boot) else None
            out.append(dict(zip(TABLE[:4], key), metric=metric, method=method, n_paired=paired.n,
                            sd_diff=paired.std_diff, alpha_used=a, power=power, d_min=d,
                            mdd_seed=mdd_seed, boot_se=se, mdd_boot=mdd_boot, effect=effect,
                            detectable_seed=det_seed, detectable_boot=det_boot,
                            detectable=det_boot if det_boot is not None else det_seed, note=note))
    return pd.DataFrame(out, columns=COLUMNS)


def _boot_lookup(significance: pd.DataFrame | None, metric: str) -> dict[tuple, tuple]:
    if significance is None or significance.empty:
        return {}
    need = set(TABLE) | {"method", "boot_ci_low", "boot_ci_high"}
    missing = need - set(significance.columns)
    if missing:
        raise UserError(f"significance table lacks column(s) {', '.join(sorted(missing))} "
                        "(expected a leaderboard's significance.csv)")
    part = significance[significance["metric"] == metric]
    return {(r.dataset, r.attribute, r.arch, r.selection, r.method): (r.boot_ci_low, r.boot_ci_high)
            for r in part.itertuples(index=False)}


def underpowered(long: pd.DataFrame, significance: pd.DataFrame, baseline: str, effect: float,
                 alpha: float = 0.05, power: float = 0.8) -> pd.DataFrame:
    """Per leaderboard cell (``TABLE`` + method): the minimum detectable Δ (``mdd``, by the
    bootstrap SE where the cell has one, else by the seed SD) and ``underpowered``: True when it
    exceeds ``effect``, None where no estimate exists. Unadjusted ``alpha``, so a marked cell
    could not detect ``effect`` even before the correction across methods."""
    frames = [power_table(rows, metric, baseline, significance, alpha, power, effect)
              for metric, rows in long.groupby("metric", sort=False)
              if baseline in set(rows["method"])]
    cols = TABLE + ["method", "mdd", "underpowered"]
    if not frames:
        return pd.DataFrame(columns=cols)
    table = pd.concat(frames, ignore_index=True)
    table["mdd"] = table["mdd_boot"].where(table["mdd_boot"].notna(), table["mdd_seed"])
    table["underpowered"] = [None if d is None else not d for d in table["detectable"]]
    return table[cols]
