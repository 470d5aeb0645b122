"""Figures and Markdown of the uncertainty report (``fairmedia uncertainty``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.ticker import PercentFormatter

from fairmedia.report.style import RC, axis_label, group_colors, save


def _groups(report: dict[str, Any]) -> list[str]:
    return list(report["conformal"]["marginal"]["groups"])


def reliability_figure(report: dict[str, Any], stem: Path) -> list[Path]:
    """Observed rate vs mean score per bin, one line per group; bins with no rows are skipped."""
    groups = _groups(report)
    with plt.rc_context(RC):
        fig, ax = plt.subplots(figsize=(3.6, 3.4))
        ax.plot([0, 1], [0, 1], ls="--", lw=0.8, color="0.6", label="perfect calibration")
        for g, color in zip(groups, group_colors(len(groups)), strict=True):
            cal = report["calibration"][g]
            pts = [(m, r) for m, r in zip(cal["mean_score"], cal["rate"], strict=True)
                   if m is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, lw=1.2,
                    color=color, label=f"{g} (n={cal['n']}, ECE {cal['ece']:.3f})")
        ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal",
               xlabel="mean predicted probability (10 bins)", ylabel="observed positive rate",
               title=f"Reliability on test by {report['attribute']}")
        ax.legend(loc="upper left")
        return save(fig, stem)


def selective_figure(report: dict[str, Any], stem: Path) -> list[Path]:
    """Accuracy and AUC of the kept rows, and each group's own kept share, vs the global target
    coverage, one line per group (the third panel shows whether deferral falls on one group)."""
    groups = _groups(report)
    curves = report["selective"]["curves"]
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 2.9))
        for ax, metric in zip(axes, ("acc", "auc", "coverage"), strict=True):
            series = [("overall", "black", "--")] + [
                (g, c, "-") for g, c in zip(groups, group_colors(len(groups)), strict=True)]
            for name, color, ls in series:
                pts = [(p["target_coverage"] * 100, p[metric]) for p in curves[name]
                       if p[metric] is not None]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=2.5, lw=1.2,
                        ls=ls, color=color, label=name)
            ax.axvline(80, color="0.75", lw=0.8, zorder=0)
            ax.set(xlim=(102, 48), xlabel="target coverage (%), most uncertain deferred first")
        axes[0].set(title="Accuracy of kept cases (val threshold)", ylabel=axis_label("acc"))
        axes[1].set(title="AUC of kept cases", ylabel=axis_label("auc"))
        axes[2].set(title="Share of the group kept", ylabel="group coverage kept")
        axes[2].yaxis.set_major_formatter(PercentFormatter(1.0))
        axes[0].text(80, 1.0, " gap at 80 %", transform=axes[0].get_xaxis_transform(),
                     fontsize=6, color="0.4", va="top")
        axes[2].legend(title=report["attribute"], loc="lower left")
        fig.tight_layout()
        return save(fig, stem)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render_markdown(report: dict[str, Any]) -> str:
    conf, sel = report["conformal"], report["selective"]
    alpha = report["alpha"]
    lines = [
        f"# Uncertainty and deferral by {report['attribute']}", "",
        f"Source `{report['source']}`: {report['n_val']} val rows (fit), {report['n_test']} test "
        f"rows (evaluated). Threshold {report['threshold']['rule']} = "
        f"{report['threshold']['value']:.4g}, fitted on val.", "",
        f"## Split-conformal prediction sets (alpha = {alpha}, target coverage {1 - alpha:.0%})",
        "", f"Score {conf['score']}; marginal quantile {conf['marginal']['quantile']:.4f} "
        "(one quantile from all val rows); Mondrian: one quantile per group from its val rows.",
        "", "| group | n test | coverage | mean set size | empty | both classes "
            "| Mondrian coverage | Mondrian set size |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = {"overall": conf["marginal"]["overall"], **conf["marginal"]["groups"]}
    for g, m in rows.items():
        mo = conf["mondrian"]["groups"].get(g, {})
        lines.append(f"| {g} | {m['n']} | {m['coverage']:.3f} | {m['mean_set_size']:.3f} | "
                     f"{m['share_empty']:.3f} | {m['share_both']:.3f} | "
                     f"{_fmt(mo.get('coverage'))} | {_fmt(mo.get('mean_set_size'))} |")
    lines += ["", "## Selective prediction", "",
              f"Uncertainty {sel['uncertainty']}; one global cut over all test rows. Per group: "
              "coverage actually kept, accuracy, AUC.", "",
              "| target | " + " | ".join(sel["curves"]) + " |",
              "|---:|" + "---|" * len(sel["curves"])]
    names = list(sel["curves"])
    for i, point in enumerate(sel["curves"]["overall"]):
        cells = []
        for n in names:
            p = sel["curves"][n][i]
            cells.append(f"{p['coverage']:.0%} · acc {_fmt(p['acc'])} · AUC {_fmt(p['auc'])}")
        lines.append(f"| {point['target_coverage']:.0%} | " + " | ".join(cells) + " |")
    lines += ["", "Area under accuracy–coverage (mean accuracy over 50–100 %): "
              + ", ".join(f"{n} {_fmt(a)}" for n, a in sel["area"].items()), ""]
    for metric, gap in sel["gap_at_80"].items():
        text = (f"{gap['value']:.3f} (worst {gap['worst_group']}, best {gap['best_group']})"
                if gap["value"] is not None else f"– ({gap['reason']})")
        lines.append(f"- worst-group gap in {metric} at 80 % coverage: {text}")
    lines += ["", "## Calibration (test)", "", "| group | n | ECE |", "|---|---:|---:|"]
    lines += [f"| {g} | {c['n']} | {c['ece']:.4f} |" for g, c in report["calibration"].items()]
    lines += ["", "Figures: `reliability.png`, `selective.png` (PDF beside each).", ""]
    return "\n".join(lines + [f"Note: {n}" for n in report["notes"]])
