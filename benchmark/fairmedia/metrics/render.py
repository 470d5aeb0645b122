"""Human-readable renderings of a report: a terminal table, Markdown, and HTML with bar charts.

The HTML is self-contained (charts embedded as PNG data URIs) so an auditor can mail one file.
"""

from __future__ import annotations

from fairmedia.metrics.report_columns import CHART_METRICS, MEASURE_ROWS, TABLE_METRICS  # noqa: F401


def _fmt(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


def _group_ci(report: dict, attr: str, group: str, metric: str) -> list | None:
    try:
        return report["ci"]["attributes"][attr]["groups"][group][metric]
    except KeyError:
        return None


def _cell(report: dict, attr: str, group: str, metric: str) -> str:
    value = report["attributes"][attr]["groups"][group].get(metric)
    ci = _group_ci(report, attr, group, metric)
    text = _fmt(value)
    if ci and value is not None and ci[0] is not None:
        text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


def _header(report: dict) -> list[str]:
    t = report["threshold"]
    lines = [
        f"source: {report['source']}   evaluated on: {report['evaluated_on']} "
        f"(n={report['n_eval']})",
        f"threshold: {_fmt(t['value'])} ({t['rule']}"
        + (")" if t["fitted_on"] == "fixed" else f", fitted on {t['fitted_on']})"),
    ]
    if "note" in t:
        lines.append(f"NOTE: {t['note']}")
    if "bootstrap" in report:
        b = report["bootstrap"]
        lines.append(f"CIs: {int(b['level'] * 100)}% percentile bootstrap, {b['n']} resamples, "
                     f"clustered by {b['cluster']}")
    o = report["overall"]
    lines.append("overall: " + "  ".join(f"{m}={_fmt(o.get(m))}" for m in TABLE_METRICS))
    return lines


def _rows(report: dict, attr: str) -> list[list[str]]:
    groups = report["attributes"][attr]["groups"]
    return [[g] + [_cell(report, attr, g, m) for m in TABLE_METRICS] for g in groups]


def _criteria(report: dict, attr: str) -> list[tuple[str, str]]:
    crit = report["attributes"][attr]["criteria"]
    ci = report.get("ci", {}).get("attributes", {}).get(attr, {}).get("criteria", {})
    out = []
    for name, value in crit.items():
        if name == "reason":
            continue
        text = _fmt(value)
        if ci.get(name) and ci[name][0] is not None and value is not None:
            text += f" [{ci[name][0]:.3f}, {ci[name][1]:.3f}]"
        out.append((name, text))
    return out


def _privileged_line(section: dict) -> str | None:
    """``privileged: M (largest group of ...); vs rest: average_odds_difference=...``."""
    block = section.get("privileged")
    if not block:
        return None
    values = "  ".join(f"{m}={_fmt(v)}" for m, v in block["vs_rest"].items())
    return f"privileged {block['group']} ({block['chosen_by']}); the others vs it: {values}"


def _ci_warning_lines(report: dict, code: str = "") -> list[str]:
    """One line per estimate outside its own interval (``report["ci_warnings"]``); ``code``
    quotes the measure (Markdown's backtick)."""
    return [f"{code}{w['measure']}{code} = {w['estimate']:.3f} [{w['ci'][0]:.3f}, "
            f"{w['ci'][1]:.3f}]: {w['explanation']}" for w in report.get("ci_warnings", [])]


def render_text(report: dict) -> str:
    lines = _header(report)
    for attr, section in report["attributes"].items():
        head = [attr] + TABLE_METRICS
        rows = _rows(report, attr)
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines += ["", "  ".join(h.ljust(w) for h, w in zip(head, widths))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
        lines += [f"  {name}: {text}" for name, text in _criteria(report, attr)]
        privileged = _privileged_line(section)
        if privileged:
            lines.append(f"  {privileged}")
        lines += [f"  ! {flag}" for flag in section["flags"]]
    warnings = _ci_warning_lines(report)
    if warnings:
        lines += ["", "Estimates outside their own 95% interval:"]
        lines += [f"  ! {w}" for w in warnings]
    return "\n".join(lines)


def render_markdown(report: dict) -> str:
    lines = ["# Fairness report", ""] + [f"- {x}" for x in _header(report)]
    for attr, section in report["attributes"].items():
        lines += ["", f"## {attr}", "", "| group | " + " | ".join(TABLE_METRICS) + " |",
                  "|" + "---|" * (len(TABLE_METRICS) + 1)]
        lines += ["| " + " | ".join(r) + " |" for r in _rows(report, attr)]
        lines += ["", "| criterion | value |", "|---|---|"]
        lines += [f"| {n} | {t} |" for n, t in _criteria(report, attr)]
        lines += ["", "| metric | " + " | ".join(MEASURE_ROWS) + " | worst group |",
                  "|" + "---|" * (len(MEASURE_ROWS) + 2)]
        worst = section.get("worst_group", {})
        for metric, measures in section["disparity"].items():
            lines.append(f"| {metric} | "
                         + " | ".join(_fmt(measures.get(m)) for m in MEASURE_ROWS)
                         + f" | {worst.get(metric) or '—'} |")
        privileged = _privileged_line(section)
        if privileged:
            lines += ["", f"- {privileged}"]
        lines += [f"- flag: {flag}" for flag in section["flags"]]
    warnings = _ci_warning_lines(report, code="`")
    if warnings:
        lines += ["", "## Estimates outside their own interval", ""]
        lines += [f"- {w}" for w in warnings]
    return "\n".join(lines) + "\n"


def bar_chart_png(report: dict, attr: str) -> bytes:
    """Per-group bars of one attribute (PNG); drawn by metrics/fairness_html.py."""
    from fairmedia.metrics import fairness_html

    return fairness_html.bar_chart_png(report, attr)


def render_html(report: dict) -> str:
    """The self-contained HTML page (Jinja2 templates, metrics/fairness_html.py)."""
    from fairmedia.metrics import fairness_html

    return fairness_html.render_html(report)
