"""``FairnessReport``: the fairness report of predictions as pandas tables, for a notebook.

A thin view of ``evaluate_predictions``' report dict (the ``metrics.json`` of ``fairmedia
evaluate``): every number is read from that dict, none is recomputed here, so the notebook, the
CLI and the workflow cannot disagree. See docs/api.md.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairmedia.errors import UserError
from fairmedia.metrics.criteria import CRITERIA
from fairmedia.metrics.disparity import MEASURES
from fairmedia.metrics.group_table import COLUMNS, COUNT_COLUMNS, RATE_COLUMNS
from fairmedia.metrics.ranking_metrics import RANKING_METRICS

ArrayLike = Sequence[Any] | np.ndarray | pd.Series
Sensitive = Mapping[str, ArrayLike] | pd.DataFrame | pd.Series | ArrayLike


def _sensitive_frame(features: Sensitive, n: int) -> pd.DataFrame:
    """Sensitive features as columns; unnamed ones are called ``sensitive_feature_<k>`` as in
    fairlearn, so names carry over for users who know its ``MetricFrame``."""
    if isinstance(features, pd.DataFrame):
        frame = features.reset_index(drop=True)
    elif isinstance(features, pd.Series):
        frame = pd.DataFrame({features.name or "sensitive_feature_0": features.to_numpy()})
    elif isinstance(features, Mapping):
        frame = pd.DataFrame({str(k): np.asarray(v) for k, v in features.items()})
    else:
        values = np.asarray(features, dtype=object)
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2:
            raise UserError(f"sensitive_features: expected 1 or 2 dimensions, got {values.ndim}")
        frame = pd.DataFrame(values, columns=[f"sensitive_feature_{k}"
                                              for k in range(values.shape[1])])
    if len(frame) != n:
        raise UserError(f"sensitive_features has {len(frame)} rows, y_true has {n}")
    frame.columns = [str(c) for c in frame.columns]  # attribute names are JSON keys
    return frame


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


class FairnessReport:
    """Per-group metrics, disparities, fairness criteria and bootstrap CIs of binary predictions.

    Build it from arrays (``FairnessReport(y_true, y_score, sensitive_features, ...)``) or from a
    table with any column names (``FairnessReport.from_frame(df, label=..., score=...,
    attributes=[...])``). The options are those of ``evaluate_predictions`` (docs/api.md,
    docs/metrics.md): ``threshold`` (``youden``, ``f1``, ``fixed:<t>``, ``specificity:<s>``;
    fitted on ``split == "val"`` rows, metrics on ``split == "test"`` rows), ``bootstrap`` (95 %
    CIs, resampling patients), ``min_group_size``, ``intersect`` (with ``intersect_order``),
    ``bins``, ``privileged`` and ``target_specificity`` (docs/metrics.md, "Peer metrics").

    Like fairlearn's ``MetricFrame`` it has ``overall``, ``by_group``, ``difference()`` and
    ``ratio()``. It differs in that (1) it takes scores, not decisions: the threshold is chosen by
    a rule on validation rows, and AUC, ECE, Brier and log loss are per group too; (2) it
    evaluates several attributes (and their intersections) at once, so ``by_group`` is a tidy
    table with ``attribute`` and ``group`` columns rather than indexed by the feature values;
    (3) differences and ratios are taken over groups with ``n >= min_group_size`` only (the
    others are reported and marked ``small``); (4) a metric that cannot be computed is NaN with
    the reason beside it, not an exception or a silent 0; (5) CIs come from a patient-clustered
    bootstrap of the whole report.
    """

    def __init__(
        self,
        y_true: ArrayLike,
        y_score: ArrayLike,
        sensitive_features: Sensitive,
        *,
        patient_ids: ArrayLike | None = None,
        split: ArrayLike | None = None,
        y_pred: ArrayLike | None = None,
        threshold: str = "youden",
        threshold_on_eval: bool = False,
        intersect: bool = False,
        bootstrap: int = 0,
        min_group_size: int = 20,
        seed: int = 0,
        intersect_order: int = 2,
        privileged: dict[str, str] | None = None,
        target_specificity: float = 0.8,
        bins: dict[str, list[float]] | None = None,
        source: str = "<arrays>",
    ) -> None:
        y = np.asarray(y_true)
        if y.ndim != 1:
            raise UserError(f"y_true must be one-dimensional, got shape {y.shape}")
        frame = _sensitive_frame(sensitive_features, len(y))
        attributes = list(frame.columns)
        # Canonical column names of evaluate_predictions; y_pred is its 'decision' column.
        extra = {"y": y, "score": y_score, "patient_id": patient_ids, "split": split,
                 "decision": y_pred}
        for name, values in extra.items():
            if values is None:
                continue
            if name in frame.columns:
                raise UserError(f"sensitive_features: a feature may not be called {name!r}")
            values = np.asarray(values)
            if values.shape != (len(y),):
                raise UserError(f"{name}: expected {len(y)} values like y_true, got shape "
                                f"{values.shape}")
            frame[name] = values
        from fairmedia.metrics.fairness_report import evaluate_predictions

        self._report = evaluate_predictions(
            frame, attributes, threshold=threshold, threshold_on_eval=threshold_on_eval,
            intersect=intersect, bootstrap=bootstrap, min_group_size=min_group_size, seed=seed,
            bins=bins, source=source, intersect_order=intersect_order, privileged=privileged,
            target_specificity=target_specificity,
        )

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        attributes: str | list[str],
        label: str = "y",
        score: str = "score",
        patient: str = "patient_id",
        split: str = "split",
        threshold: str = "youden",
        threshold_on_eval: bool = False,
        intersect: bool = False,
        bootstrap: int = 0,
        min_group_size: int = 20,
        seed: int = 0,
        intersect_order: int = 2,
        privileged: dict[str, str] | None = None,
        target_specificity: float = 0.8,
        bins: dict[str, list[float]] | None = None,
        source: str = "<DataFrame>",
    ) -> FairnessReport:
        """The report of a predictions table whose columns have any names (as ``fairmedia
        evaluate --label-col/--score-col/--patient-col/--split-col``). ``patient`` and ``split``
        may be absent under their default names; a ``decision`` column replaces thresholding."""
        from fairmedia.metrics.fairness_report import evaluate_predictions

        if not isinstance(df, pd.DataFrame):
            raise UserError(f"from_frame expects a pandas DataFrame, got {type(df).__name__}")
        return cls.from_dict(evaluate_predictions(
            df, attributes, threshold=threshold, threshold_on_eval=threshold_on_eval,
            intersect=intersect, bootstrap=bootstrap, min_group_size=min_group_size, seed=seed,
            bins=bins, source=source, label_col=label, score_col=score, patient_col=patient,
            split_col=split, intersect_order=intersect_order, privileged=privileged,
            target_specificity=target_specificity,
        ))

    @classmethod
    def from_dict(cls, report: dict) -> FairnessReport:
        """Wrap a report dict already computed (``evaluate_predictions``, or a ``metrics.json``
        read with ``json.load``)."""
        self = cls.__new__(cls)
        self._report = report
        return self

    # -- tables ---------------------------------------------------------------------------------

    def _ci(self, *path: str) -> list | None:
        node: Any = self._report.get("ci")
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    @property
    def overall(self) -> pd.Series:
        """Counts and metrics over all evaluated rows (fairlearn: ``MetricFrame.overall``)."""
        row = self._report["overall"]
        return pd.Series({c: _nan(row.get(c)) for c in COLUMNS}, name="overall")

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per (attribute, group): counts, every metric (the ranking metrics of
        ``metrics.ranking_metrics`` too), ``<metric>_low``/``_high`` (95 % CI of the metrics of
        ``group_table``) with ``bootstrap``, ``small`` (n < min_group_size: left out of disparities and
        criteria) and ``undefined`` (why a NaN metric is undefined)."""
        rows = []
        boot = "ci" in self._report
        for attr, section in self._report["attributes"].items():
            for group, values in section["groups"].items():
                row: dict[str, Any] = {"attribute": attr, "group": group}
                row.update({c: _nan(values.get(c)) for c in (*COLUMNS, *RANKING_METRICS)})
                if boot:
                    for metric in RATE_COLUMNS:
                        ci = self._ci("attributes", attr, "groups", group, metric) or [None] * 2
                        row[f"{metric}_low"], row[f"{metric}_high"] = map(_nan, ci)
                row["small"] = values["n"] < self._report["min_group_size"]
                row["undefined"] = "; ".join(f"{m}: {why}"
                                             for m, why in values.get("reason", {}).items())
                rows.append(row)
        table = pd.DataFrame(rows)
        table[COUNT_COLUMNS] = table[COUNT_COLUMNS].astype(np.int64)
        return table

    @property
    def criteria(self) -> pd.DataFrame:
        """One row per (attribute, criterion): ``value``, ``low``/``high`` with ``bootstrap``,
        and ``note`` = ``"undefined: <reason>"`` where the value is NaN."""
        rows = []
        for attr, section in self._report["attributes"].items():
            crit = section["criteria"]
            reasons = crit.get("reason", {})
            for name in CRITERIA:
                row: dict[str, Any] = {"attribute": attr, "criterion": name,
                                       "value": _nan(crit.get(name))}
                if "ci" in self._report:
                    ci = self._ci("attributes", attr, "criteria", name) or [None] * 2
                    row["low"], row["high"] = map(_nan, ci)
                row["note"] = f"undefined: {reasons[name]}" if name in reasons else ""
                rows.append(row)
        return pd.DataFrame(rows)

    @property
    def disparities(self) -> pd.DataFrame:
        """One row per (attribute, metric): gap (max - min), ratio (min / max), ser, std, nr,
        worst, best over the groups with n >= min_group_size (docs/metrics.md), ``worst_group``
        (the name of the group whose value is ``worst``) and ``note`` saying why a measure is
        undefined."""
        rows = []
        for attr, section in self._report["attributes"].items():
            for metric, measures in section["disparity"].items():
                row: dict[str, Any] = {"attribute": attr, "metric": metric}
                row.update({m: _nan(measures.get(m)) for m in MEASURES})
                row["worst_group"] = section.get("worst_group", {}).get(metric)
                row["note"] = "; ".join(f"{m}: {why}"
                                        for m, why in measures.get("reason", {}).items())
                rows.append(row)
        return pd.DataFrame(rows)

    @property
    def privileged(self) -> pd.DataFrame:
        """One row per (attribute, versus, measure): the AIF360-style signed differences
        (unprivileged − privileged, ``metrics/privileged.py``); ``versus`` is ``rest`` (every
        other group pooled) or a group's name; ``privileged`` and ``chosen_by`` say which group
        is privileged and why; ``low``/``high`` with ``bootstrap``."""
        rows = []
        for attr, section in self._report["attributes"].items():
            block = section.get("privileged")
            if not block:
                continue
            versus = [("rest", ("vs_rest",), block["vs_rest"])] + [
                (g, ("vs_group", g), m) for g, m in block["vs_group"].items()]
            for name, path, measures in versus:
                for measure, value in measures.items():
                    row = {"attribute": attr, "privileged": block["group"],
                           "chosen_by": block["chosen_by"], "versus": name, "measure": measure,
                           "value": _nan(value)}
                    if "ci" in self._report:
                        ci = self._ci("attributes", attr, "privileged", *path, measure)
                        row["low"], row["high"] = map(_nan, ci or [None] * 2)
                    rows.append(row)
        return pd.DataFrame(rows)

    @property
    def ci(self) -> pd.DataFrame:
        """Every bootstrap interval, one row each: ``kind`` (overall, group, disparity,
        criterion), ``attribute``, ``group`` (group key, or the metric of a disparity),
        ``name`` (metric, measure or criterion), ``estimate``, ``low``, ``high``. Empty without
        ``bootstrap``."""
        rows = []
        ci = self._report.get("ci", {})
        for metric, (low, high) in ci.get("overall", {}).items():
            rows.append(("overall", None, None, metric,
                         self._report["overall"].get(metric), low, high))
        for attr, parts in ci.get("attributes", {}).items():
            section = self._report["attributes"][attr]
            for group, metrics in parts.get("groups", {}).items():
                rows += [("group", attr, group, m, section["groups"][group].get(m), lo, hi)
                         for m, (lo, hi) in metrics.items()]
            for metric, measures in parts.get("disparity", {}).items():
                rows += [("disparity", attr, metric, m, section["disparity"][metric].get(m),
                          lo, hi) for m, (lo, hi) in measures.items()]
            rows += [("criterion", attr, None, c, section["criteria"].get(c), lo, hi)
                     for c, (lo, hi) in parts.get("criteria", {}).items()]
        table = pd.DataFrame(rows, columns=["kind", "attribute", "group", "name", "estimate",
                                            "low", "high"])
        for column in ("estimate", "low", "high"):
            table[column] = table[column].astype(float)  # None (undefined) -> NaN
        return table

    def difference(self) -> pd.DataFrame:
        """Between-group gap (max - min) per attribute (rows) and metric (columns), like
        ``MetricFrame.difference()`` but over groups with n >= min_group_size."""
        return self._pivot("gap")

    def ratio(self) -> pd.DataFrame:
        """Between-group ratio (min / max), like ``MetricFrame.ratio()``."""
        return self._pivot("ratio")

    def _pivot(self, measure: str) -> pd.DataFrame:
        table = self.disparities
        out = table.pivot(index="attribute", columns="metric", values=measure)
        return out.reindex(index=table["attribute"].unique(), columns=table["metric"].unique())

    # -- renderings -----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The report as ``fairmedia evaluate --out`` writes it (a copy)."""
        return copy.deepcopy(self._report)

    def to_json(self) -> str:
        return json.dumps(self._report, indent=1, allow_nan=False)

    def to_html(self) -> str:
        """The self-contained HTML page of ``fairmedia evaluate --html``."""
        from fairmedia.metrics.render import render_html

        return render_html(self._report)

    def to_markdown(self) -> str:
        """The Markdown of ``fairmedia evaluate --markdown``."""
        from fairmedia.metrics.render import render_markdown

        return render_markdown(self._report)

    def _repr_html_(self) -> str:  # Jupyter shows this
        return self.to_html()

    def __str__(self) -> str:
        from fairmedia.metrics.render import render_text

        return render_text(self._report)

    def __repr__(self) -> str:
        r = self._report
        return (f"<FairnessReport of {r['source']}: n_eval={r['n_eval']}, attributes="
                f"{list(r['attributes'])}, threshold={r['threshold']['value']} "
                f"({r['threshold']['rule']})>")
