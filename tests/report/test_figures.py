"""Leaderboard figures: files (PDF + PNG ≥ 200 dpi), Pareto front and labels, bars, CD cliques."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import scikit_posthocs as sp  # noqa: E402
from PIL import Image  # noqa: E402

from fairmedia.report import figures, style  # noqa: E402
from fairmedia.stats.friedman import friedman  # noqa: E402
from fairmedia.stats.nemenyi import critical_difference  # noqa: E402

METHODS = ["erm"] + [f"method{i:02d}" for i in range(1, 24)]  # 24 methods as in the benchmark


def pareto_stats(seed: int = 0, spread: float = 0.01) -> pd.DataFrame:
    """Mean/std over 3 seeds of auc and auc_gap for 24 methods crowded in a small region; three
    methods share ERM's point exactly (threshold post-processing keeps the scores)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, m in enumerate(METHODS):
        centre = (0.24, 0.85) if i < 4 else (0.24 + rng.normal(0, spread),
                                             0.85 + rng.normal(0, spread))
        for s in range(3):
            noise = 0 if i < 4 else rng.normal(0, 0.003, 2)
            gap, auc = np.add(centre, noise)
            rows += [{"method": m, "seed": s, "metric": "auc_gap", "value": gap},
                     {"method": m, "seed": s, "metric": "auc", "value": auc}]
    long = pd.DataFrame(rows).assign(dataset="d", attribute="sex", arch="cnn")
    return long.groupby(["dataset", "attribute", "arch", "method", "metric"], as_index=False)[
        "value"].agg(mean="mean", std="std")


def group_frame() -> pd.DataFrame:
    """Per-seed group AUCs: one near 1 with a wide spread (mean + std > 1), some near chance."""
    values = {"zeta": ([0.95, 0.97, 0.99], [0.40, 0.55, 0.70]),
              "erm": ([0.88, 0.90, 0.92], [0.58, 0.60, 0.62]),
              "alpha": ([0.92, 1.00, 1.00], [0.45, 0.52, 0.59])}
    rows = [{"method": m, "seed": s, "group": g, "auc": v}
            for m, per_group in values.items() for g, seeds in zip("FM", per_group)
            for s, v in enumerate(seeds)]
    return pd.DataFrame(rows)


def test_every_figure_writes_a_pdf_and_a_png_of_at_least_200_dpi(tmp_path):
    paths = figures.cd_diagram(pd.Series({"erm": 1.5, "a": 2.0, "b": 2.5}), 1.2, "t",
                               tmp_path / "cd_auc")
    paths += figures.pareto_plot(pareto_stats(), "d", tmp_path / "pareto_d.v2")
    paths += figures.group_auc_bars(group_frame(), "t", tmp_path / "groups_d")
    names = sorted(p.name for p in paths)
    assert names == sorted(f"{s}.{e}" for s in ("cd_auc", "pareto_d.v2", "groups_d")
                           for e in ("png", "pdf"))
    for p in paths:
        if p.suffix == ".pdf":
            assert p.read_bytes()[:5] == b"%PDF-"
        else:
            dpi = Image.open(p).info["dpi"]
            assert min(dpi) >= 199.5, (p.name, dpi)  # PNG stores pixels/metre: 199.9994


def brute_force_front(x, y, x_higher, y_higher) -> set[int]:
    better = [(lambda a, b: a > b) if h else (lambda a, b: a < b) for h in (x_higher, y_higher)]
    front = set()
    for i in range(len(x)):
        dominated = False
        for j in range(len(x)):
            geq = [not better[0](x[i], x[j]), not better[1](y[i], y[j])]  # j at least as good
            strict = [better[0](x[j], x[i]), better[1](y[j], y[i])]
            dominated |= all(geq) and any(strict)
        if not dominated:
            front.add(i)
    return front


@pytest.mark.parametrize("x_higher,y_higher", list(itertools.product([True, False], repeat=2)))
def test_pareto_front_matches_a_brute_force_dominance_check(x_higher, y_higher):
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 6, 40).astype(float), rng.integers(0, 6, 40).astype(float)  # ties
    assert set(figures.pareto_front(x, y, x_higher, y_higher)) == brute_force_front(
        x, y, x_higher, y_higher)


def test_pareto_plot_draws_the_front_erm_and_error_bars_in_the_legend_and_title():
    stats = pareto_stats()
    fig = figures.pareto_figure(stats, "d")
    ax = fig.axes[0]
    wide = stats.pivot_table(index="method", columns="metric", values="mean")
    x, y = wide["auc_gap"].to_numpy(), wide["auc"].to_numpy()
    expected = {(x[i], y[i]) for i in brute_force_front(x, y, False, True)}
    front_lines = [ln for ln in ax.get_lines() if ln.get_color() == style.FRONT_COLOR]
    assert len(front_lines) == 1
    assert set(zip(front_lines[0].get_xdata(), front_lines[0].get_ydata())) == expected
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Pareto front" in legend and "erm (baseline)" in legend
    assert "± 1 SD over seeds" in ax.get_title()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("auc_gap ↓", "auc ↑")
    # Error bars are the std over seeds of each axis, centred on the mean.
    bars = [c for c in ax.collections if type(c).__name__ == "LineCollection"]
    halfwidths = sorted(np.round([abs(seg[1] - seg[0]).max() / 2 for b in bars
                                  for seg in b.get_segments()], 9))
    sd = stats.pivot_table(index="method", columns="metric", values="std").fillna(0)
    assert halfwidths == sorted(np.round(np.r_[sd["auc_gap"], sd["auc"]], 9))
    plt.close(fig)


@pytest.mark.parametrize("seed", [0, 1])
def test_pareto_labels_and_x_ticks_do_not_overlap_with_24_close_methods(seed):
    fig = figures.pareto_figure(pareto_stats(seed), "d")
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_transform() == ax.transData]
    boxes = [t.get_window_extent(renderer) for t in labels]
    clashes = [(labels[i].get_text(), labels[j].get_text()) for i, j in
               itertools.combinations(range(len(boxes)), 2) if boxes[i].overlaps(boxes[j])]
    assert clashes == []
    shown = " ".join(t.get_text() for t in ax.texts)  # names beside points or in the key
    assert all(m in shown for m in METHODS)
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert len(ticks) >= 2
    assert not any(a.overlaps(b) for a, b in itertools.combinations(ticks, 2))
    plt.close(fig)


def test_group_bars_show_every_error_bar_whole_and_the_legend_outside_the_data():
    groups = group_frame()
    fig = figures.group_auc_figure(groups, "t")
    ax = fig.axes[0]
    agg = groups.groupby(["method", "group"])["auc"]
    mean, sd = agg.mean(), agg.std(ddof=1)
    lo, hi = ax.get_ylim()
    assert lo == 0.0 and hi >= 1.0
    assert lo <= (mean - sd).min() and hi >= (mean + sd).max() > 1.0
    renderer = fig.canvas.get_renderer()
    assert not ax.get_legend().get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["erm", "alpha", "zeta"]
    colors = {matplotlib.colors.to_hex(b.get_facecolor()) for b in ax.patches}
    assert colors == {c.lower() for c in style.group_colors(2)}
    assert "± 1 SD over seeds" in ax.get_title() and ax.get_ylabel() == "auc (test) ↑"
    plt.close(fig)


def test_cd_cliques_are_exactly_the_pairs_scikit_posthocs_nemenyi_finds_not_significant():
    rng = np.random.default_rng(7)
    effects = np.array([0.0, 0.2, 0.5, 1.0, 1.6, 2.4])
    table = pd.DataFrame(effects + rng.normal(0, 0.8, (14, 6)),
                         columns=[f"m{i}" for i in range(6)])
    res = friedman(table, higher_is_better=True)
    cd = critical_difference(res.k, res.n_blocks, 0.05)
    p = sp.posthoc_nemenyi_friedman(table)
    methods = list(table.columns)
    not_sig = {frozenset(pair) for pair in itertools.combinations(methods, 2)
               if p.loc[pair[0], pair[1]] >= 0.05}
    assert 0 < len(not_sig) < 15  # the data leave some pairs significant and some not
    fig = figures.cd_figure(res.avg_ranks, cd, "t", baseline="m0")
    ax = fig.axes[0]
    by_rank = {round(r, 9): m for m, r in res.avg_ranks.items()}
    joined = set()
    for line in ax.get_lines():
        if line.get_color() == style.FRONT_COLOR:  # the crossbars
            members = [by_rank[round(x, 9)] for x in line.get_xdata()]
            joined |= {frozenset(pair) for pair in itertools.combinations(members, 2)}
    assert joined == not_sig
    assert any(t.get_text() == f"CD = {cd:.2f}" for t in ax.texts)
    plt.close(fig)


CD_SCRIPT = """
import sys
from pathlib import Path
import pandas as pd
from fairmedia.report import figures
ranks = pd.Series({f"method{i}": r for i, r in enumerate(
    [1.5, 2.0, 2.0, 3.2, 3.3, 4.0, 4.6, 4.6, 5.5, 6.1, 6.9, 7.0])})
figures.cd_diagram(ranks, 1.6, "t", Path(sys.argv[1]))
"""


def test_cd_diagram_is_byte_identical_whatever_python_s_string_hashing(tmp_path):
    outputs = []
    for seed in ("1", "2", "3"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", CD_SCRIPT, str(tmp_path / f"cd{seed}")], env=env,
                       check=True)
        outputs.append(((tmp_path / f"cd{seed}.pdf").read_bytes(),
                        (tmp_path / f"cd{seed}.png").read_bytes()))
    assert outputs[0] == outputs[1] == outputs[2]
