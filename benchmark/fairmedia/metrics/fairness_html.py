"""The fairness report as HTML (``fairmedia evaluate --html``): one self-contained page from the
Jinja2 templates the leaderboard page uses, with per-group bar charts embedded as PNG.

What the page shows that a bare number would hide: an undefined value says why (the report's
``reason`` entries), groups below ``min_group_size`` are marked (they are reported but left out of
disparities and criteria), bars carry error bars only when there is a CI, and estimates outside
their own interval (``ci_warnings``) are listed with their explanation.
"""

from __future__ import annotations

import io
import math
from typing import Any

from fairmedia.metrics.groups import INTERSECTION_SEP
from fairmedia.metrics.report_columns import CHART_METRICS, MEASURE_ROWS, TABLE_METRICS
from fairmedia.templates import data_uri, render

# Okabe–Ito (report/style.py); TPR and FPR get the blue/orange pair that stays distinct under
# colour-vision deficiencies (not green/red), yellow is left out (too light on white).
METRIC_COLORS = {"auc": "#56B4E9", "acc": "#009E73", "tpr": "#0072B2", "fpr": "#E69F00",
                 "selection_rate": "#CC79A7"}


def display_name(name: str) -> str:
    """``F&a`` → ``F × a``; ``sex__x__site`` → ``sex × site`` (intersections, readable)."""
    return str(name).replace(INTERSECTION_SEP, " × ").replace("__x__", " × ")


def _value(section: dict, key: str, ci: Any = None) -> dict:
    """A table cell: text, CI text, and the reason when the value is undefined."""
    v = section.get(key)
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        reason = (section.get("reason") or {}).get(key, "not computed")
        return {"text": f"undefined: {reason}", "ci": "", "undefined": True}
    text = str(v) if isinstance(v, int) else f"{v:.3f}"
    ok = isinstance(ci, (list, tuple)) and len(ci) == 2 and None not in ci
    return {"text": text, "ci": f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ok else "", "undefined": False}


def _ci(report: dict, *path: str) -> Any:
    node: Any = report.get("ci", {}).get("attributes", {})
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def chart_series(report: dict, attr: str, metric: str) -> tuple[list[float], list | None]:
    """One metric's bar heights over the groups (NaN where undefined) and its error bars
    ([below, above] distances), or None when no group has a CI: then no bar gets a cap."""
    values, err, has_ci = [], [[], []], False
    for g, row in report["attributes"][attr]["groups"].items():
        v = math.nan if row.get(metric) is None else float(row[metric])
        ci = _ci(report, attr, "groups", g, metric)
        ok = isinstance(ci, list) and None not in ci and not math.isnan(v)
        has_ci |= ok
        values.append(v)
        err[0].append(max(v - ci[0], 0.0) if ok else 0.0)
        err[1].append(max(ci[1] - v, 0.0) if ok else 0.0)
    return values, err if has_ci else None


def bar_chart_png(report: dict, attr: str) -> bytes:
    """Grouped bars of CHART_METRICS per group (Okabe–Ito colours, one per metric); error bars
    only where a bootstrap CI exists; groups under min_group_size hatched and starred."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Patch

    from fairmedia.report import style

    section = report["attributes"][attr]
    groups = list(section["groups"])
    small = [section["groups"][g].get("n", 0) < report.get("min_group_size", 0) for g in groups]
    colors = [METRIC_COLORS.get(m, style.OKABE_ITO[0]) for m in CHART_METRICS]
    width = 0.8 / len(CHART_METRICS)
    x = np.arange(len(groups))
    with plt.rc_context(style.RC):
        fig, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(groups) + 3), 3.2))
        for k, metric in enumerate(CHART_METRICS):
            values, err = chart_series(report, attr, metric)
            bars = ax.bar(x + (k - (len(CHART_METRICS) - 1) / 2) * width, values, width,
                          label=metric, color=colors[k], edgecolor="white", linewidth=0.3,
                          yerr=err, capsize=2 if err is not None else 0,
                          error_kw={"elinewidth": 0.8})
            for bar, is_small, v in zip(bars, small, values):
                if is_small:
                    bar.set_hatch("///")
                if np.isnan(v):  # undefined (e.g. no negatives): say so, not an empty slot
                    ax.text(bar.get_x() + bar.get_width() / 2, 0.01, "n/a", rotation=90,
                            ha="center", va="bottom", fontsize=5, color="#555555")
        labels = [f"{display_name(g)}{' *' if s else ''} (n={section['groups'][g].get('n')})"
                  for g, s in zip(groups, small)]
        rotate = len(groups) > 3 or max(len(g) for g in labels) > 16
        ax.set_xticks(x, labels, rotation=30 if rotate else 0, ha="right" if rotate else "center",
                      rotation_mode="anchor")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("value (rates, AUC)")
        ci_note = " — error bars: 95% bootstrap CI" if "ci" in report else " — no CI (no bootstrap)"
        ax.set_title(f"{display_name(attr)}: per-group metrics{ci_note}")
        # Legend right of the axes: it never covers bars or the (rotated) group names. Plain
        # patches, so a hatched (small) first group does not make every key look hatched.
        handles = [Patch(facecolor=c, label=m) for m, c in zip(CHART_METRICS, colors)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="metric")
        if any(small):
            ax.text(1.01, 0.0, f"* hatched: n < {report['min_group_size']}\n(left out of\n"
                    "disparities)", transform=ax.transAxes, fontsize=6, va="bottom")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=style.DPI)
        plt.close(fig)
    return buf.getvalue()


def _attribute(report: dict, attr: str) -> dict:
    section = report["attributes"][attr]
    limit = report.get("min_group_size", 0)
    groups = []
    for g, row in section["groups"].items():
        groups.append({"name": display_name(g), "small": row.get("n", 0) < limit,
                       "cells": [_value(row, m, _ci(report, attr, "groups", g, m))
                                 for m in TABLE_METRICS]})
    crit = section.get("criteria", {})
    criteria = [{"name": c, **_value(crit, c, _ci(report, attr, "criteria", c))}
                for c in crit if c != "reason"]
    worst = section.get("worst_group", {})
    disparity = [{"metric": m, "cells": [_value(meas, k, _ci(report, attr, "disparity", m, k))
                                         for k in MEASURE_ROWS],
                  "worst_group": display_name(worst[m]) if worst.get(m) else "—"}
                 for m, meas in section.get("disparity", {}).items()]
    block = section.get("privileged")
    privileged = None if not block else {
        "group": display_name(block["group"]), "chosen_by": block["chosen_by"],
        "rows": [{"name": m, **_value(block["vs_rest"], m,
                                      _ci(report, attr, "privileged", "vs_rest", m))}
                 for m in block["vs_rest"]]}
    return {"name": display_name(attr), "chart": data_uri(bar_chart_png(report, attr)),
            "groups": groups, "criteria": criteria, "disparity": disparity,
            "privileged": privileged, "flags": section.get("flags", [])}


def _header(report: dict) -> list[str]:
    t = report["threshold"]
    fitted = "" if t["fitted_on"] == "fixed" else f", fitted on {t['fitted_on']}"
    value = "per-row decisions" if t.get("value") is None else f"{t['value']:.3f}"
    lines = [f"Source: {report['source']}; evaluated on {report['evaluated_on']} "
             f"(n = {report['n_eval']}).", f"Threshold: {value} ({t['rule']}{fitted})."]
    if t.get("note"):
        lines.append(f"Note: {t['note']}")
    b = report.get("bootstrap")
    lines.append(f"CIs: {int(b['level'] * 100)}% {b.get('method', 'percentile')} bootstrap, "
                 f"{b['n']} resamples, clustered by {b['cluster']}"
                 + (f", strata: {b['strata']}" if b.get("strata") else "") + "."
                 if b else "No confidence intervals (run with --bootstrap N for them).")
    lines.append(f"Groups with n < {report.get('min_group_size')} are reported but left out of "
                 "disparities and criteria (marked ⚠ below).")
    return lines


def render_html(report: dict) -> str:
    """The fairness report as one self-contained HTML page."""
    overall = report.get("overall", {})
    return render("fairness.html", title="Fairness report", header=_header(report),
                  metrics=TABLE_METRICS, measures=MEASURE_ROWS,
                  overall=[_value(overall, m, (report.get("ci", {}).get("overall") or {}).get(m))
                           for m in TABLE_METRICS],
                  attributes=[_attribute(report, a) for a in report["attributes"]],
                  ci_warnings=report.get("ci_warnings") or [], provenance=None)
