"""How robust a method ranking is: to the model-selection rule and to which seeds were run.

A *block* is (dataset, attribute, arch); within a block and selection rule the methods are ranked
by their mean over seeds. Agreement of two rankings is Kendall's τ-b (``scipy.stats.kendalltau``,
which handles ties); τ on the means equals τ on their ranks, so the means are passed directly.
The *top method* is the set of methods sharing the best mean (ties kept, so a tie is no change).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from fairmedia.errors import UserError
from fairmedia.metrics.directions import higher_is_better, known_metric, metric_names_help
from fairmedia.progress import progress

BLOCK = ["dataset", "attribute", "arch"]
COLUMNS = BLOCK + ["analysis", "metric", "selection_a", "selection_b", "n_methods", "n_boot",
                   "tau", "tau_p", "tau_low", "tau_high", "top_a", "top_b", "top_change"]


def check_long(long: pd.DataFrame, metric: str, runs: str = "the runs folder") -> pd.DataFrame:
    """The rows of ``metric`` with a finite value; a clear error when there are none."""
    if long.empty:
        raise UserError(f"no evaluated runs found under {runs} (no metrics.json in "
                        "{dataset}/{arch}/{method}/{attr}/seed{n}/eval/{attr}/{selection}/)")
    if not known_metric(metric):
        raise UserError(f"--metric: unknown metric {metric!r}; {metric_names_help()}")
    rows = long[(long["metric"] == metric) & np.isfinite(long["value"])]
    if rows.empty:
        present = ", ".join(sorted(long["metric"].unique()))
        raise UserError(f"--metric {metric!r}: no finite values in the metrics.json under {runs}; "
                        f"metrics present: {present}")
    return rows


def method_means(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per block × selection × method (column ``mean``)."""
    return rows.groupby(BLOCK + ["selection", "method"], as_index=False)["value"].mean().rename(
        columns={"value": "mean"})


def top_methods(means: pd.Series, higher: bool) -> frozenset[str]:
    """Methods sharing the best mean (``means`` indexed by method)."""
    best = means.max() if higher else means.min()
    return frozenset(means.index[means == best])


def tau(a: pd.Series, b: pd.Series) -> tuple[float, float, int]:
    """Kendall τ-b and its p-value between two rankings (indexed by method) on the common methods."""
    common = a.index.intersection(b.index)
    if len(common) < 2:
        return np.nan, np.nan, len(common)
    res = kendalltau(a[common].to_numpy(), b[common].to_numpy(), variant="b")
    return float(res.statistic), float(res.pvalue), len(common)


def _label(top: frozenset[str]) -> str:
    return "+".join(sorted(top))


def selection_pairs(rows: pd.DataFrame, metric: str, selections: list[str]) -> pd.DataFrame:
    """Per block and pair of selection rules: τ between their rankings and whether top-1 differs;
    plus one ``mean`` row per pair averaging over blocks (τ mean; top_change = fraction of blocks)."""
    if len(selections) < 2:
        raise UserError(f"selection-rule pairs need ≥ 2 selections; found {selections or 'none'} "
                        "(evaluate the runs under another selection, e.g. worst_group, or pass "
                        "--selections with two or more)")
    higher = higher_is_better(metric)
    means = method_means(rows)
    out = []
    for key, block in means.groupby(BLOCK, sort=True):
        by_sel = {s: g.set_index("method")["mean"] for s, g in block.groupby("selection")}
        for sa, sb in itertools.combinations(selections, 2):
            if sa not in by_sel or sb not in by_sel:
                continue
            t, p, n = tau(by_sel[sa], by_sel[sb])
            ta, tb = top_methods(by_sel[sa], higher), top_methods(by_sel[sb], higher)
            out.append(dict(zip(BLOCK, key), analysis="selection_pair", metric=metric,
                            selection_a=sa, selection_b=sb, n_methods=n, tau=t, tau_p=p,
                            top_a=_label(ta), top_b=_label(tb), top_change=float(ta != tb)))
    table = pd.DataFrame(out, columns=COLUMNS)
    if table.empty:
        raise UserError(f"no block has values of {metric!r} under two of the selections "
                        f"{', '.join(selections)}")
    avg = table.groupby(["selection_a", "selection_b"], as_index=False, sort=False).agg(
        tau=("tau", "mean"), top_change=("top_change", "mean"), n_methods=("n_methods", "min"))
    avg = avg.assign(dataset="mean over blocks", attribute="", arch="", analysis="selection_pair",
                     metric=metric)
    return pd.concat([table, avg], ignore_index=True).reindex(columns=COLUMNS)


def resample_means(values: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One bootstrap replicate: per method, its seeds drawn with replacement, then the mean."""
    return np.array([rng.choice(v, size=v.size, replace=True).mean() for v in values])


def _top(means: np.ndarray, higher: bool) -> frozenset[int]:
    best = means.max() if higher else means.min()
    return frozenset(np.flatnonzero(means == best).tolist())


def seed_bootstrap(rows: pd.DataFrame, metric: str, selections: list[str], n_boot: int = 200,
                   seed: int = 0) -> pd.DataFrame:
    """Per block and selection: τ between the full ranking and rankings from seed resamples
    (median, 2.5 and 97.5 % over ``n_boot`` replicates) and the fraction of replicates whose top
    method differs; one ``mean`` row per selection averages over blocks. Deterministic in ``seed``."""
    if n_boot < 1:
        raise UserError(f"--n-boot must be ≥ 1, got {n_boot}")
    higher = higher_is_better(metric)
    rng = np.random.default_rng(seed)
    out = []
    groups = list(rows[rows["selection"].isin(selections)].groupby(BLOCK + ["selection"], sort=True))
    for key, g in progress(groups, total=len(groups), desc="seed bootstrap", unit="block"):
        # Plain arrays in a fixed method order: scipy on arrays is ~5x faster than via Series.
        names, values = zip(*[(m, s["value"].to_numpy(float)) for m, s in g.groupby("method")])
        full = np.array([v.mean() for v in values])
        top = _top(full, higher)
        taus, changed = [], []
        for _ in range(n_boot):
            rep = resample_means(list(values), rng)
            taus.append(kendalltau(full, rep, variant="b").statistic if len(full) > 1 else np.nan)
            changed.append(_top(rep, higher) != top)
        taus_arr = np.asarray(taus)
        finite = taus_arr[np.isfinite(taus_arr)]
        lo, med, hi = (np.quantile(finite, [0.025, 0.5, 0.975]) if finite.size
                       else (np.nan, np.nan, np.nan))
        out.append(dict(zip(BLOCK + ["selection_a"], key), analysis="seed_bootstrap",
                        metric=metric, n_methods=len(values), n_boot=n_boot, tau=med, tau_low=lo,
                        tau_high=hi, top_a=_label(frozenset(names[i] for i in top)),
                        top_change=float(np.mean(changed))))
    table = pd.DataFrame(out, columns=COLUMNS)
    if table.empty:
        return table
    avg = table.groupby("selection_a", as_index=False, sort=False).agg(
        tau=("tau", "mean"), tau_low=("tau_low", "mean"), tau_high=("tau_high", "mean"),
        top_change=("top_change", "mean"), n_methods=("n_methods", "min"))
    avg = avg.assign(dataset="mean over blocks", attribute="", arch="", analysis="seed_bootstrap",
                     metric=metric, n_boot=n_boot)
    return pd.concat([table, avg], ignore_index=True).reindex(columns=COLUMNS)
