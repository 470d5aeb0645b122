"""report["ci_warnings"]: every estimate outside its own interval is flagged, and only those."""

import numpy as np
import pandas as pd

from fairmedia.metrics import evaluate_predictions


def _twin_groups(n: int = 2000) -> pd.DataFrame:
    """Groups F and M with identical rows: every gap is exactly 0, every resampled gap is not."""
    rng = np.random.default_rng(3)
    half = pd.DataFrame({"y": rng.integers(0, 2, n)})
    half["score"] = np.clip(0.3 * half["y"] + 0.7 * rng.uniform(size=n), 0, 1)
    return pd.concat([half.assign(sex="F"), half.assign(sex="M")], ignore_index=True)


def _flat(tree: dict, prefix: tuple = ()) -> dict:
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, (*prefix, key)))
        else:
            out[(*prefix, key)] = value
    return out


def test_zero_gap_below_its_interval_is_flagged_with_an_explanation():
    report = evaluate_predictions(_twin_groups(), ["sex"], threshold="fixed:0.5", bootstrap=300)
    warnings = {w["measure"]: w for w in report["ci_warnings"]}
    eo = warnings["attributes.sex.criteria.equal_opportunity"]
    assert eo["estimate"] == report["attributes"]["sex"]["criteria"]["equal_opportunity"] == 0
    assert eo["ci"] == report["ci"]["attributes"]["sex"]["criteria"]["equal_opportunity"]
    assert eo["ci"][0] > 0 and eo["explanation"].startswith("below its interval")
    assert "biased upward" in eo["explanation"]
    assert "attributes.sex.disparity.tpr.gap" in warnings
    # exactly the paths whose estimate is outside [low, high], checked on the nested report
    values, cis = _flat({"overall": report["overall"], "attributes": report["attributes"]}), \
        _flat(report["ci"])
    outside = {".".join(p) for p, (lo, hi) in cis.items()
               if lo is not None and values.get(p) is not None and not lo <= values[p] <= hi}
    assert outside == set(warnings)
    assert set(report["ci_warnings"][0]) == {"measure", "estimate", "ci", "explanation"}


def test_no_warning_when_groups_differ_clearly():
    df = _twin_groups()
    df.loc[df["sex"] == "M", "score"] *= 0.5  # M's TPR far below F's
    report = evaluate_predictions(df, ["sex"], threshold="fixed:0.5", bootstrap=300)
    assert "attributes.sex.criteria.equal_opportunity" not in {
        w["measure"] for w in report["ci_warnings"]}


def test_text_and_markdown_list_the_warnings():
    from fairmedia.metrics.render import render_markdown, render_text

    report = evaluate_predictions(_twin_groups(), ["sex"], threshold="fixed:0.5", bootstrap=300)
    w = next(x for x in report["ci_warnings"]
             if x["measure"] == "attributes.sex.criteria.equal_opportunity")
    line = (f"attributes.sex.criteria.equal_opportunity = 0.000 [{w['ci'][0]:.3f}, "
            f"{w['ci'][1]:.3f}]: {w['explanation']}")
    assert f"  ! {line}" in render_text(report).splitlines()
    md = render_markdown(report)
    assert "## Estimates outside their own interval" in md
    assert f"- `{line.replace(' = ', '` = ', 1)}" in md.splitlines()
