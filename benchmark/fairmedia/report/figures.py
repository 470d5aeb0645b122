"""Leaderboard figures: critical-difference diagram, fairness–utility Pareto scatter, per-group AUC.

The CD diagram follows Demšar (2006, Fig. 1): methods on an axis of average rank (1 = best, left),
a bar of length CD, and a thick line joining methods whose ranks differ by less than CD. It is
drawn here because no maintained library in our environment draws it from precomputed ranks.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fairmedia.metrics.directions import higher_is_better  # noqa: E402
from fairmedia.report.names import safe_name  # noqa: F401 (re-exported)

DPI = 100


def nonsignificant_groups(ranks: pd.Series, cd: float) -> list[tuple[float, float]]:
    """Maximal runs of rank-sorted methods whose rank spread is below CD (Demšar's cliques)."""
    r = np.sort(ranks.to_numpy(float))
    spans = []
    for i in range(len(r)):
        j = int(np.searchsorted(r, r[i] + cd, side="left")) - 1
        if j > i and not any(a <= r[i] and r[j] <= b for a, b in spans):
            spans.append((r[i], r[j]))
    return spans


def cd_diagram(avg_ranks: pd.Series, cd: float, title: str, path: Path) -> Path:
    """Critical-difference diagram of ``avg_ranks`` (method → rank) with Nemenyi ``cd``."""
    ranks = avg_ranks.dropna().sort_values()
    k = len(ranks)
    height = 1.2 + 0.25 * k
    fig, ax = plt.subplots(figsize=(7, height))
    lo, hi = 1, max(k, 2)
    ax.set_xlim(lo - 0.5, hi + 0.5)
    ax.set_ylim(-(k // 2 + 2) * 0.6, 1.6)
    ax.hlines(0, lo, hi, color="black")
    for t in range(lo, hi + 1):
        ax.vlines(t, 0, 0.12, color="black")
        ax.text(t, 0.2, str(t), ha="center", va="bottom", fontsize=8)
    if np.isfinite(cd):
        ax.hlines(1.2, lo, lo + cd, color="black", linewidth=2)
        ax.text(lo + cd / 2, 1.3, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    half = (k + 1) // 2
    for i, (method, rank) in enumerate(ranks.items()):
        left = i < half
        level = -(i if left else k - 1 - i) * 0.6 - 0.6
        x_text = lo - 0.4 if left else hi + 0.4
        ax.plot([rank, rank, x_text], [0, level, level], color="0.3", linewidth=0.8)
        ax.text(x_text, level, f"{method} ({rank:.2f})", ha="right" if left else "left",
                va="center", fontsize=8)
    if np.isfinite(cd):
        for j, (a, b) in enumerate(nonsignificant_groups(ranks, cd)):
            y = -0.15 - 0.12 * j
            ax.hlines(y, a - 0.03, b + 0.03, color="tab:red", linewidth=3)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def pareto_front(x: np.ndarray, y: np.ndarray, x_higher: bool, y_higher: bool) -> np.ndarray:
    """Indices of non-dominated points (no other point at least as good on both and better on one)."""
    xs = x if x_higher else -x
    ys = y if y_higher else -y
    keep = []
    for i in range(len(x)):
        dominated = np.any((xs >= xs[i]) & (ys >= ys[i]) & ((xs > xs[i]) | (ys > ys[i])))
        if not dominated and np.isfinite(xs[i]) and np.isfinite(ys[i]):
            keep.append(i)
    return np.array(keep, dtype=int)


def pareto_plot(means: pd.DataFrame, dataset: str, path: Path, utility: str = "auc",
                fairness: str = "auc_gap", baseline: str = "erm") -> Path | None:
    """Fairness (x) vs utility (y) per method, one panel per attribute, Pareto front drawn."""
    data = means[(means["dataset"] == dataset) & means["metric"].isin([utility, fairness])]
    if data.empty:
        return None
    blocks = sorted(data.groupby(["attribute", "arch"]).groups)
    fig, axes = plt.subplots(1, len(blocks), figsize=(4.2 * len(blocks), 3.6), squeeze=False)
    for ax, (attribute, arch) in zip(axes[0], blocks):
        part = data[(data["attribute"] == attribute) & (data["arch"] == arch)]
        wide = part.pivot_table(index="method", columns="metric", values="value").dropna()
        if not {utility, fairness} <= set(wide.columns) or wide.empty:
            ax.set_title(f"{attribute} ({arch}): no data", fontsize=9)
            continue
        x, y = wide[fairness].to_numpy(), wide[utility].to_numpy()
        front = pareto_front(x, y, higher_is_better(fairness), higher_is_better(utility))
        colors = ["tab:red" if m == baseline else "tab:blue" for m in wide.index]
        ax.scatter(x, y, c=colors, s=18)
        for m, xi, yi in zip(wide.index, x, y):
            ax.annotate(m, (xi, yi), fontsize=7, xytext=(3, 2), textcoords="offset points")
        if len(front):
            order = front[np.argsort(x[front])]
            ax.plot(x[order], y[order], color="tab:green", linewidth=1, drawstyle="steps-post"
                    if not higher_is_better(fairness) else "default", label="Pareto front")
        ax.set_xlabel(fairness)
        ax.set_ylabel(utility)
        ax.set_title(f"{dataset} · {attribute} · {arch}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def group_auc_bars(groups: pd.DataFrame, title: str, path: Path, baseline: str = "erm") -> Path:
    """Per-group AUC (mean ± std over seeds) for each method of one block."""
    stats = groups.groupby(["method", "group"])["auc"].agg(["mean", "std"]).reset_index()
    methods = sorted(stats["method"].unique(), key=lambda m: (m != baseline, m))
    names = sorted(stats["group"].unique())
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(methods) + 1.5), 3.2))
    pos = np.arange(len(methods))
    for j, g in enumerate(names):
        part = stats[stats["group"] == g].set_index("method").reindex(methods)
        ax.bar(pos + (j - (len(names) - 1) / 2) * width, part["mean"], width,
               yerr=part["std"].fillna(0), label=str(g), capsize=2)
    ax.set_xticks(pos, methods, rotation=45, ha="right", fontsize=8)
    finite = stats["mean"][np.isfinite(stats["mean"])]
    if len(finite):
        ax.set_ylim(max(0.0, finite.min() - 0.1), min(1.0, finite.max() + 0.05))
    ax.set_ylabel("test AUC (mean ± std over seeds)")
    ax.set_title(title, fontsize=9)
    ax.legend(title="group", fontsize=7, title_fontsize=7, ncols=min(len(names), 4))
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path
