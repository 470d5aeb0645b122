"""Leaderboard figures: critical-difference diagram, fairness–utility Pareto plot, per-group AUC.

All three use the house style (``report/style.py``: Okabe–Ito colours, ↑/↓ on axis labels, PDF +
PNG at 200 dpi) and state what their bars mean in the title (``CAPTIONS`` holds the same text for
HTML pages and reports).

CD diagram: drawn by scikit-posthocs (``critical_difference_diagram``, maintained, Demšar 2006's
layout) rather than by hand. We give it our average ranks and a significance matrix that marks a
pair significant exactly when its rank difference exceeds our Nemenyi CD (``stats/nemenyi.py``,
q_α/√2 · √(k(k+1)/6N)); that is the same decision as scikit-posthocs' own
``posthoc_nemenyi_friedman`` at that α (tests/report/test_figures.py checks it), and it needs only
the ranks, so published tables that report average ranks alone (``fairmedia rank``) draw it too.

Pareto labels are placed by adjustText (a fixed number of steps, so the figure is reproducible);
where it cannot separate the names (dense clusters of many methods), the plot numbers the points
and lists the key beside the axes. Numbers are the last resort: if even they overlapped, they would
be drawn as they are (not seen on the synthetic benchmark's 24 methods, nor in the tests).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scikit_posthocs as sp  # noqa: E402
from adjustText import adjust_text  # noqa: E402
from matplotlib.backend_bases import RendererBase  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from fairmedia.metrics.directions import higher_is_better  # noqa: E402
from fairmedia.report import style  # noqa: E402
from fairmedia.report.names import safe_name  # noqa: F401,E402 (re-exported)

CAPTIONS = {
    "cd": "Average rank over blocks (1 = best). Thick bars join methods whose ranks differ by "
          "less than the Nemenyi critical difference (CD, α = 0.05): not significantly different.",
    "pareto": "Mean over seeds; error bars ± 1 SD over seeds. Line: Pareto front (no other method "
              "is at least as good on both axes and better on one).",
    "groups": "Test AUC per group, mean over seeds; error bars ± 1 SD over seeds. Dashed: chance.",
}


def nemenyi_significance(avg_ranks: pd.Series, cd: float) -> pd.DataFrame:
    """p-like matrix for scikit-posthocs: 0 where |rank_i − rank_j| > ``cd`` (significant), else 1."""
    r = avg_ranks.to_numpy(float)
    sig = np.abs(r[:, None] - r[None, :]) > cd
    return pd.DataFrame(np.where(sig, 0.0, 1.0), index=avg_ranks.index, columns=avg_ranks.index)


def _stack_crossbars(ax: plt.Axes, lines: list[Line2D]) -> None:
    """Put the clique bars on levels in a fixed order (by rank span), as scikit-posthocs does but
    without its dependence on set iteration order, which varies with Python's string hashing: the
    same ranks then give the same figure, byte for byte."""
    spans = sorted(lines, key=lambda ln: (min(ln.get_xdata()), max(ln.get_xdata())))
    levels: list[list[tuple[float, float]]] = []
    for line in spans:
        x = sorted(line.get_xdata())
        lo, hi = x[0], x[-1]
        level = next((i for i, used in enumerate(levels)
                      if not any(lo <= b and a <= hi for a, b in used)), len(levels))
        if level == len(levels):
            levels.append([])
        levels[level].append((lo, hi))
        line.remove()
        line.set_data(x, [-level - 1] * len(x))
        ax.add_line(line)  # re-added in span order, so the PDF draws them in a fixed order too


def cd_diagram(avg_ranks: pd.Series, cd: float, title: str, stem: Path,
               baseline: str = "erm") -> list[Path]:
    """``cd_figure`` saved as ``stem.png`` + ``stem.pdf``."""
    return style.save(cd_figure(avg_ranks, cd, title, baseline), stem)


def cd_figure(avg_ranks: pd.Series, cd: float, title: str, baseline: str = "erm") -> plt.Figure:
    """Critical-difference diagram of ``avg_ranks`` (method → rank) with Nemenyi ``cd``."""
    ranks = avg_ranks.dropna().sort_values()
    k = len(ranks)
    with plt.rc_context(style.RC):
        fig, ax = plt.subplots(figsize=(7.0, 1.0 + 0.2 * ((k + 1) // 2)))
        finite = bool(np.isfinite(cd))
        # A non-finite CD (k < 2 or no complete block) joins nothing and draws no CD bar.
        sig = nemenyi_significance(ranks, cd if finite else np.inf)
        colors = {m: style.BASELINE_COLOR if m == baseline else style.METHOD_COLOR for m in ranks.index}
        drawn = sp.critical_difference_diagram(
            ranks, sig, ax=ax, alpha=0.05, color_palette=colors,
            label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
            label_props={"fontsize": 7}, elbow_props={"linewidth": 0.7},
            marker_props={"s": 10}, crossbar_props={"color": style.FRONT_COLOR, "linewidth": 2.5},
            text_h_margin=0.3)
        _stack_crossbars(ax, [line for bar in drawn["crossbars"] for line in bar])
        ax.spines["top"].set_visible(True)  # the rank axis; the house style hides top spines
        if finite:
            # Our own CD bar: scikit-posthocs puts its bar at y = 0.5, among the tick labels.
            ax.plot([1, 1 + cd], [1.6, 1.6], color="black", linewidth=1.5)
            ax.text(1 + cd / 2, 1.75, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=7)
        ax.set_ylim(top=2.4)
        ax.set_xlim(0.5, max(k, 2) + 0.5)
        ax.set_xticks(range(1, max(k, 2) + 1, 1 if k <= 12 else 2))
        ax.set_title(f"{title}\naverage rank (1 = best); bars join methods not significantly "
                     "different (Nemenyi, α = 0.05)", pad=18)
    return fig


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


def overlaps(texts: list[Text], renderer: RendererBase) -> list[tuple[int, int]]:
    """Pairs of ``texts`` whose rendered bounding boxes intersect."""
    boxes = [t.get_window_extent(renderer) for t in texts]
    return [(i, j) for i, a in enumerate(boxes) for j in range(i + 1, len(boxes))
            if a.overlaps(boxes[j])]


# A step count, not adjustText's default time limit: the same data give the same figure however
# loaded the machine is.
ITER_LIM = 300
# Label layouts tried in turn until no two labels overlap: names starting just beside their points
# (clear of the marker) or on them, spread wider, then numbers (with a key beside the axes), which
# are short enough to fit into any cluster adjustText can open. adjustText's force layout is
# chaotic, so several starts are cheaper than one long run.
_ATTEMPTS = [("names", (1.15, 1.4), True), ("names", (1.3, 1.6), False),
             ("names", (1.3, 1.6), True), ("names", (1.15, 1.4), False),
             ("numbers", (1.3, 1.6), True), ("numbers", (1.8, 2.4), True)]


def _label_points(ax: plt.Axes, labels: list[str], x: np.ndarray, y: np.ndarray) -> list[str]:
    """Put ``labels`` beside their points without overlaps; return the key's lines (empty when
    the names themselves are drawn). Points that coincide share one label ("a, b")."""
    renderer = ax.figure.canvas.get_renderer()
    ax.autoscale_view()
    # Start each label 4 pt right of and 3 pt above its point, clear of the marker itself.
    shift = np.array([4.0, 3.0]) * ax.figure.dpi / 72
    tx, ty = ax.transData.inverted().transform(ax.transData.transform(np.c_[x, y]) + shift).T
    for kind, expand, shifted in _ATTEMPTS:
        words = labels if kind == "names" else [str(i + 1) for i in range(len(labels))]
        before = set(ax.get_children())
        starts = zip(tx, ty) if shifted else zip(x, y)
        texts = [ax.text(a, b, w, fontsize=6.5) for w, (a, b) in zip(words, starts)]
        adjust_text(texts, x=x, y=y, target_x=x, target_y=y, ax=ax, expand=expand,
                    iter_lim=ITER_LIM, arrowprops={"arrowstyle": "-", "color": "0.55", "lw": 0.4})
        if not overlaps(texts, renderer) or (kind, expand, shifted) == _ATTEMPTS[-1]:
            return [] if kind == "names" else [f"{w}  {m}" for w, m in zip(words, labels)]
        for artist in set(ax.get_children()) - before:  # the texts and their leader lines
            artist.remove()
    return []


def _merge_coincident(names: list[str], x: np.ndarray, y: np.ndarray, baseline: str
                      ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One label per distinct point: post-processing methods that keep the scores (thresholds)
    sit exactly on their base run for ranking metrics, and stacked labels could not be read."""
    keys: dict[tuple[float, float], list[str]] = {}
    for m, xi, yi in zip(names, x, y):
        keys.setdefault((round(float(xi), 12), round(float(yi), 12)), []).append(m)
    pts = np.array(list(keys), dtype=float).reshape(-1, 2)
    labels = [", ".join(sorted(v, key=lambda m: (m != baseline, m))) for v in keys.values()]
    return labels, pts[:, 0], pts[:, 1]


def pareto_figure(stats: pd.DataFrame, dataset: str, utility: str = "auc",
                  fairness: str = "auc_gap", baseline: str = "erm") -> plt.Figure | None:
    """Fairness (x) vs utility (y) per method, one panel per attribute × arch; Pareto front drawn.

    ``stats``: ``dataset, attribute, arch, method, metric, mean, std`` (std over seeds)."""
    data = stats[(stats["dataset"] == dataset) & stats["metric"].isin([utility, fairness])]
    if data.empty:
        return None
    blocks = sorted(data.groupby(["attribute", "arch"]).groups)
    x_higher, y_higher = higher_is_better(fairness), higher_is_better(utility)
    with plt.rc_context(style.RC):
        fig, axes = plt.subplots(1, len(blocks), figsize=(5.2 * len(blocks), 4.2), squeeze=False)
        for ax, (attribute, arch) in zip(axes[0], blocks):
            part = data[(data["attribute"] == attribute) & (data["arch"] == arch)]
            mean = part.pivot_table(index="method", columns="metric", values="mean")
            std = part.pivot_table(index="method", columns="metric", values="std",
                                   dropna=False).reindex_like(mean)
            ax.set_title(f"{dataset} · {attribute} · {arch}\nmean over seeds, "
                         "error bars ± 1 SD over seeds")
            if not {utility, fairness} <= set(mean.columns):
                ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center")
                continue
            mean = mean[[fairness, utility]].dropna()
            std = std.reindex(mean.index)[[fairness, utility]].fillna(0.0)
            names = list(mean.index)
            x, y = mean[fairness].to_numpy(), mean[utility].to_numpy()
            ax.errorbar(x, y, xerr=std[fairness], yerr=std[utility], fmt="none", ecolor="0.7",
                        elinewidth=0.6, zorder=1)
            is_base = np.array([m == baseline for m in names])
            ax.scatter(x[~is_base], y[~is_base], s=14, color=style.METHOD_COLOR, zorder=3,
                       label="method")
            if is_base.any():
                ax.scatter(x[is_base], y[is_base], s=40, marker="D", color=style.BASELINE_COLOR,
                           zorder=4, label=f"{baseline} (baseline)")
            front = pareto_front(x, y, x_higher, y_higher)
            if len(front):
                order = front[np.argsort(x[front])]
                # Staircase of the dominated region: flat from each front point towards worse x.
                ax.plot(x[order], y[order], color=style.FRONT_COLOR, linewidth=1.2, zorder=2,
                        drawstyle="steps-pre" if x_higher else "steps-post")
                ax.scatter(x[front], y[front], s=60, facecolors="none", zorder=2,
                           edgecolors=style.FRONT_COLOR, linewidths=1.0)
            ax.legend(handles=ax.get_legend_handles_labels()[0] + [Line2D(
                [], [], color=style.FRONT_COLOR, marker="o", markerfacecolor="none",
                linewidth=1.2, label="Pareto front")], loc="upper left", bbox_to_anchor=(0, -0.16),
                ncols=3)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=6))
            ax.set_xlabel(style.axis_label(fairness))
            ax.set_ylabel(style.axis_label(utility))
            key = _label_points(ax, *_merge_coincident(names, x, y, baseline))
            if key:
                ax.text(1.02, 1.0, "\n".join(key), transform=ax.transAxes, va="top", fontsize=6)
    return fig


def pareto_plot(stats: pd.DataFrame, dataset: str, stem: Path, utility: str = "auc",
                fairness: str = "auc_gap", baseline: str = "erm") -> list[Path] | None:
    """``pareto_figure`` saved as ``stem.png`` + ``stem.pdf``; None when there is no data."""
    fig = pareto_figure(stats, dataset, utility, fairness, baseline)
    return None if fig is None else style.save(fig, stem)


def group_auc_bars(groups: pd.DataFrame, title: str, stem: Path,
                   baseline: str = "erm") -> list[Path]:
    """``group_auc_figure`` saved as ``stem.png`` + ``stem.pdf``."""
    return style.save(group_auc_figure(groups, title, baseline), stem)


def group_auc_figure(groups: pd.DataFrame, title: str, baseline: str = "erm") -> plt.Figure:
    """Per-group AUC (mean ± std over seeds) for each method of one block; baseline first."""
    stats = groups.groupby(["method", "group"])["auc"].agg(["mean", "std"]).reset_index()
    methods = sorted(stats["method"].unique(), key=lambda m: (m != baseline, m))
    names = sorted(stats["group"].unique())
    width = 0.8 / max(len(names), 1)
    with plt.rc_context(style.RC):
        # At most 6.5 in wide (plus the legend): a two-column page width, readable unscaled.
        fig, ax = plt.subplots(figsize=(max(3.5, min(6.5, 0.28 * len(methods) + 1.0)), 3.0))
        pos = np.arange(len(methods))
        for j, (g, color) in enumerate(zip(names, style.group_colors(len(names)))):
            part = stats[stats["group"] == g].set_index("method").reindex(methods)
            ax.bar(pos + (j - (len(names) - 1) / 2) * width, part["mean"], width, color=color,
                   yerr=part["std"].fillna(0), label=str(g), capsize=1.5,
                   error_kw={"elinewidth": 0.7, "capthick": 0.7})
        ax.axhline(0.5, color="0.4", linewidth=0.7, linestyle="--", zorder=0)
        top = (stats["mean"] + stats["std"].fillna(0)).max()
        # The full AUC range, widened only if an error bar passes 1, so no bar is ever clipped.
        ax.set_ylim(0.0, max(1.0, float(top) + 0.02) if np.isfinite(top) else 1.0)
        ax.set_xlim(-0.6, len(methods) - 0.4)
        ax.set_xticks(pos, methods, rotation=45, ha="right", rotation_mode="anchor")
        ax.set_ylabel(style.axis_label("auc", "(test)"))
        ax.set_title(f"{title}\nmean over seeds, error bars ± 1 SD over seeds")
        ax.legend(title="group", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
