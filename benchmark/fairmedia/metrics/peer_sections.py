"""The parts of a report added for parity with peer toolkits (AIF360, Fairlearn, MEDFAIR).

``evaluate_predictions`` calls these after its own sections: the ranking metrics per group (and
their disparities; point estimates), the specificity operating point they use, each disparity
metric's worst group *by name*, and the differences against the privileged group. All are
additive keys of metrics.json (docs/metrics.md, "Peer metrics").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairmedia.metrics.directions import higher_is_better
from fairmedia.metrics.disparity import disparity, disparity_reasons
from fairmedia.metrics.groups import Grouping, build_groupings
from fairmedia.metrics.privileged import MEASURES as PRIVILEGED_MEASURES
from fairmedia.metrics.ranking_metrics import RANKING_METRICS, ranking_metrics, ranking_reasons
from fairmedia.metrics.thresholds import ThresholdRule, choose_threshold


def _json(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def specificity_point(y: np.ndarray, score: np.ndarray, fit: np.ndarray | None,
                      specificity: float, fitted_on: str) -> dict:
    """``report["specificity_operating_point"]``: the global threshold giving ``specificity``
    on the ``fit`` rows (None: no rows to fit on; then ``threshold`` is null with a reason)."""
    record: dict = {"specificity": float(specificity), "threshold": None, "fitted_on": fitted_on}
    if fit is None or not fit.any():
        record["reason"] = "no validation rows (and the threshold was not fitted on the " \
                           "evaluated rows)"
        return record
    y_fit = y[fit]
    record["n_fit"] = int(fit.sum())
    if y_fit.min() == y_fit.max():
        record["reason"] = f"the {fitted_on} rows hold one class only"
        return record
    record["threshold"] = choose_threshold(y_fit, score[fit],
                                           ThresholdRule("specificity", specificity))
    return record


def add_ranking_metrics(report: dict, groupings: list[Grouping], y: np.ndarray,
                        score: np.ndarray, eligible: dict[str, np.ndarray]) -> None:
    """Per-group (and overall) ranking metrics, their disparity measures, into ``report``."""
    point = report["specificity_operating_point"]
    t, s = point["threshold"], point["specificity"]
    overall = ranking_metrics(y, score, t, s)
    _merge(report["overall"], overall, int(y.sum()), int(len(y) - y.sum()), t is not None)
    for g in groupings:
        section = report["attributes"][g.name]
        values = {m: np.full(len(g.keys), np.nan) for m in RANKING_METRICS}
        for j, key in enumerate(g.keys):
            rows = g.codes == j
            row = ranking_metrics(y[rows], score[rows], t, s)
            for m in RANKING_METRICS:
                values[m][j] = row[m]
            n_pos = int(y[rows].sum())
            _merge(section["groups"][key], row, n_pos, int(rows.sum()) - n_pos, t is not None)
        for m in RANKING_METRICS:
            measures = {k: float(v) for k, v in disparity(values[m], eligible[g.name], m).items()}
            defined = int((eligible[g.name] & ~np.isnan(values[m])).sum())
            reasons = disparity_reasons(measures, defined, m)
            section["disparity"][m] = {k: _json(v) for k, v in measures.items()}
            if reasons:
                section["disparity"][m]["reason"] = reasons


def _merge(target: dict, values: dict[str, float], n_pos: int, n_neg: int,
           has_threshold: bool) -> None:
    target.update({k: _json(v) for k, v in values.items()})
    reasons = ranking_reasons(values, n_pos, n_neg, has_threshold)
    if reasons:
        target.setdefault("reason", {}).update(reasons)


def add_worst_groups(report: dict, groupings: list[Grouping], eligible: dict[str, np.ndarray]
                     ) -> None:
    """``section["worst_group"][metric]``: the name of the group whose value is the disparity's
    ``worst`` (lowest for a higher-is-better metric), among eligible groups with it defined; the
    first in display order on a tie; null when no group qualifies."""
    for g in groupings:
        section = report["attributes"][g.name]
        names: dict[str, str | None] = {}
        for metric in section["disparity"]:
            values = np.array([_value(section["groups"][k].get(metric)) for k in g.keys])
            values = np.where(eligible[g.name], values, np.nan)
            if np.isnan(values).all():
                names[metric] = None
                continue
            pick = np.nanargmin if higher_is_better(metric) else np.nanargmax
            names[metric] = g.keys[int(pick(values))]  # the first of tied groups
        section["worst_group"] = names


def _value(v: float | None) -> float:
    return np.nan if v is None else float(v)


def reference_groupings(reference: pd.DataFrame | None, attributes: list[str], *, intersect: bool,
                        intersect_order: int, bins, source: str) -> list[Grouping] | None:
    """The report's groupings over the reference rows (None: no reference rows)."""
    if reference is None or reference.empty:
        return None
    return build_groupings(reference, attributes, intersect_pairs=intersect, bins=bins,
                           source=source, intersect_order=intersect_order)


def add_privileged(report: dict, point: dict[tuple, float], choice: dict[str, dict]) -> None:
    """``section["privileged"]``: the group, how it was chosen, and its ``vs_rest`` /
    ``vs_group`` differences (``metrics/privileged.py``)."""
    for name, info in choice.items():
        prefix = ("attributes", name, "privileged")
        block: dict = {"group": info["group"], "chosen_by": info["chosen_by"],
                       "vs_rest": {m: _json(point[(*prefix, "vs_rest", m)])
                                   for m in PRIVILEGED_MEASURES},
                       "vs_group": {}}
        for path, value in point.items():
            if path[:4] == (*prefix, "vs_group"):
                block["vs_group"].setdefault(path[4], {})[path[5]] = _json(value)
        report["attributes"][name]["privileged"] = block
