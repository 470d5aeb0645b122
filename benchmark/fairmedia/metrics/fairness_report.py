"""``evaluate_predictions``: the fairness report (``metrics.json``) of any model's predictions.

Protocol: with a ``split`` column the operating point is fitted on ``val`` rows and every metric
is computed on ``test`` rows; without one, the user must choose ``fixed:<t>`` or explicitly allow
fitting on the evaluated rows (``threshold_on_eval``, reported as such). A ``decision`` column
(a post-processing method's per-row 0/1 decision) overrides thresholding.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairmedia.errors import UserError
from fairmedia.metrics.bootstrap import percentile_ci
from fairmedia.metrics.calibration import N_BINS
from fairmedia.metrics.ci_warnings import ci_warnings
from fairmedia.metrics.disparity import disparity_reasons
from fairmedia.metrics.entropy import DEFAULT_ALPHA
from fairmedia.metrics.group_table import COUNT_COLUMNS, null_reasons
from fairmedia.metrics.groups import build_groupings
from fairmedia.metrics.inputs import (
    PATIENT,
    SPLIT,
    binary_column,
    optional_column,
    reject_duplicates,
    require_columns,
    score_column,
    split_column,
    with_patient_column,
)
from fairmedia.metrics.peer_sections import (
    add_privileged,
    add_ranking_metrics,
    add_worst_groups,
    reference_groupings,
    specificity_point,
)
from fairmedia.metrics.privileged import choose_privileged
from fairmedia.metrics.ranking_metrics import DEFAULT_SPECIFICITY
from fairmedia.metrics.report_numbers import FairnessStatistics
from fairmedia.metrics.scoped_bootstrap import OVERALL, STRATA, replicates, scope_statistics
from fairmedia.metrics.scoped_bootstrap import resamplers as scoped_resamplers
from fairmedia.metrics.thresholds import apply_threshold, choose_threshold, parse_rule

CI_LEVEL = 0.95

def _json(value: float) -> float | int | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _choose(rule, y, score, split_mask, eval_mask, threshold_on_eval, has_split, source):
    """(threshold record, threshold value) following the protocol in the module docstring."""
    if rule.kind == "fixed":
        return {"value": rule.value, "rule": str(rule), "fitted_on": "fixed"}, rule.value
    if threshold_on_eval:
        t = choose_threshold(y[eval_mask], score[eval_mask], rule)
        return {
            "value": t, "rule": str(rule), "fitted_on": "eval", "n_fit": int(eval_mask.sum()),
            "note": "threshold fitted on the evaluated rows (--threshold-on-eval): "
                    "threshold-dependent metrics are optimistic",
        }, t
    if split_mask is None or not split_mask.any():
        where = "has no 'val' rows in its split column" if has_split else "has no split column"
        raise UserError(
            f"{source}: threshold rule {rule} is fitted on validation rows, but the file {where}. "
            "Add a split column with val and test rows, pass --threshold fixed:<t>, or pass "
            "--threshold-on-eval to fit it on the evaluated rows (optimistic; the report says so)"
        )
    t = choose_threshold(y[split_mask], score[split_mask], rule)
    return {"value": t, "rule": str(rule), "fitted_on": "val", "n_fit": int(split_mask.sum())}, t


def _section(values: dict[str, float], reasons: dict[str, str], counts=()) -> dict:
    out = {k: (int(round(v)) if k in counts else _json(v)) for k, v in values.items()}
    if reasons:
        out["reason"] = reasons
    return out


def _nest(flat: dict[tuple, object]) -> dict:
    root: dict = {}
    for path, value in flat.items():
        node = root
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return root


def evaluate_predictions(
    df: pd.DataFrame,
    attributes: list[str],
    *,
    threshold: str = "youden",
    threshold_on_eval: bool = False,
    intersect: bool = False,
    bootstrap: int = 0,
    min_group_size: int = 20,
    seed: int = 0,
    bins: dict[str, list[float]] | None = None,
    source: str = "<predictions>",
    reject_identical_rows: bool = False,
    label_col: str = "y",
    score_col: str = "score",
    patient_col: str = PATIENT,
    split_col: str = SPLIT,
    intersect_order: int = 2,
    privileged: dict[str, str] | None = None,
    privileged_reference: tuple[str, pd.DataFrame] | None = None,
    target_specificity: float = DEFAULT_SPECIFICITY,
) -> dict:
    """The fairness report of ``df`` (see docs/metrics.md and docs/api.md); a JSON-serialisable
    dict.

    ``label_col``/``score_col`` name the 0/1 label and the score columns; ``patient_col`` and
    ``split_col`` the optional patient-id and train/val/test columns (under their default names
    they may be absent; a name given otherwise must exist). A repeated ``sample_id`` is always an
    error; ``reject_identical_rows`` (what ``fairmedia evaluate`` passes unless
    ``--allow-identical-rows``) also refuses rows identical in every column when there is no
    ``sample_id`` (see ``inputs.reject_duplicates``).

    Peer metrics (docs/metrics.md): ``intersect_order`` k crosses every 2..k attributes (with
    ``intersect``); ``privileged`` names the privileged group per attribute (``{"sex": "M"}``),
    else it is the largest group of ``privileged_reference`` (a description and its rows, e.g.
    the training split), else of the table's train rows, else of its val rows, else of the
    evaluated rows; ``target_specificity`` is the s of ``sensitivity_at_specificity`` and of
    the global val threshold of ``tpr_at_val_specificity``."""
    rule = parse_rule(threshold)
    attributes = [attributes] if isinstance(attributes, str) else list(attributes)
    require_columns(df, [label_col, score_col, *attributes], source)
    if bootstrap < 0 or min_group_size < 0:
        raise UserError("--bootstrap and --min-group-size must be >= 0")
    if not 0.0 <= float(target_specificity) <= 1.0:
        raise UserError(f"--target-specificity must be in [0, 1], got {target_specificity}")
    split_in = optional_column(df, split_col, SPLIT, source)
    patient_in = optional_column(df, patient_col, PATIENT, source)
    reject_duplicates(df, source, allow_identical_rows=not reject_identical_rows)
    # Below, the patient ids are read as 'patient_id' (the bootstrap's cluster column).
    df = with_patient_column(df, patient_in, attributes, source)
    has_split = split_in is not None
    if has_split:
        split = split_column(df, source, split_in)
        eval_mask, fit_mask = split == "test", split == "val"
        if not eval_mask.any():
            raise UserError(f"{source}: no 'test' rows to evaluate; split values found: "
                            f"{sorted(set(split))}")
        used = df.loc[eval_mask | fit_mask]  # other splits (e.g. train) are not checked
    else:
        eval_mask, fit_mask, used = np.ones(len(df), bool), None, df
    y = np.zeros(len(df), np.int8)
    score = np.zeros(len(df))
    used_rows = eval_mask if fit_mask is None else eval_mask | fit_mask
    y[used_rows] = binary_column(used, label_col, source)
    score[used_rows] = score_column(used, source, score_col)
    decision = None
    if "decision" in df.columns:
        decision = np.zeros(len(df), np.int8)
        decision[eval_mask] = binary_column(df.loc[eval_mask], "decision", source)
    if decision is not None:
        record = {"value": None, "rule": "decision", "fitted_on": "method",
                  "reason": "per-row decisions from the predictions' decision column"}
        eval_decision = decision[eval_mask]
    else:
        record, t = _choose(rule, y, score, fit_mask, eval_mask, threshold_on_eval, has_split,
                            source)
        eval_decision = apply_threshold(score[eval_mask], t)

    eval_df = df.loc[eval_mask]
    y_e, s_e = y[eval_mask], score[eval_mask]
    groupings = build_groupings(eval_df, attributes, intersect_pairs=intersect, bins=bins,
                                source=source, intersect_order=intersect_order)
    sizes = {g.name: np.bincount(g.codes[g.codes >= 0], minlength=len(g.keys)) for g in groupings}
    eligible = {name: n >= min_group_size for name, n in sizes.items()}
    # Checked before any statistic is computed, so a doomed bootstrap fails fast.
    resamplers = scoped_resamplers(groupings, y_e, eval_df, source) if bootstrap else None
    if privileged_reference is not None:
        ref_name, ref_rows = privileged_reference
    elif has_split and (split == "train").any():
        ref_name, ref_rows = "the train rows", df.loc[split == "train"]
    elif fit_mask is not None and fit_mask.any():
        ref_name, ref_rows = "the val rows", df.loc[fit_mask]
    else:
        ref_name, ref_rows = "the evaluated rows", None
    reference = reference_groupings(ref_rows, attributes, intersect=intersect,
                                    intersect_order=intersect_order, bins=bins, source=source)
    choice = choose_privileged(groupings, privileged, reference, ref_name)
    priv_index = {name: info["index"] for name, info in choice.items()}
    stats = FairnessStatistics(y_e, s_e, eval_decision, groupings, eligible, priv_index)
    point = {path: float(v[0]) for path, v in stats.compute().items()}

    report: dict = {
        "source": source,
        "threshold": record,
        "evaluated_on": "test" if has_split else "all rows",
        "n_eval": int(eval_mask.sum()),
        "min_group_size": int(min_group_size),
        "calibration_bins": N_BINS,
        "generalized_entropy_alpha": DEFAULT_ALPHA,
        "overall": {},
        "attributes": {},
    }
    overall = {p[1]: v for p, v in point.items() if p[0] == "overall"}
    report["overall"] = _section(overall, null_reasons(overall), COUNT_COLUMNS)
    for g in groupings:
        section: dict = {"groups": {}, "disparity": {}, "criteria": {}, "flags": list(g.notes)}
        prefix = ("attributes", g.name)
        for j, key in enumerate(g.keys):
            row = {p[4]: v for p, v in point.items() if p[:4] == (*prefix, "groups", key)}
            section["groups"][key] = _section(row, null_reasons(row), COUNT_COLUMNS)
            if not eligible[g.name][j]:
                section["flags"].append(
                    f"group {key!r} has n={int(sizes[g.name][j])} < min_group_size="
                    f"{min_group_size}: reported, left out of disparities and criteria"
                )
        for p, v in point.items():
            if p[:3] == (*prefix, "disparity"):
                section["disparity"].setdefault(p[3], {})[p[4]] = v
        for metric, measures in section["disparity"].items():
            defined = sum(
                1 for j, key in enumerate(g.keys)
                if eligible[g.name][j] and not math.isnan(
                    point[(*prefix, "groups", key, metric)])
            )
            section["disparity"][metric] = _section(
                measures, disparity_reasons(measures, defined, metric))
        crit = {p[3]: v for p, v in point.items() if p[:3] == (*prefix, "criteria")}
        crit_reasons = {c: "needs at least 2 groups with n >= min_group_size and the rates "
                           "defined" for c, v in crit.items() if math.isnan(v)}
        section["criteria"] = _section(crit, crit_reasons)
        section["n_missing"] = g.n_missing
        report["attributes"][g.name] = section
        if g.name in choice and not eligible[g.name][choice[g.name]["index"]]:
            section["flags"].append(f"privileged group {choice[g.name]['group']!r} has n < "
                                    f"min_group_size={min_group_size}: its differences are noisy")

    if fit_mask is not None and fit_mask.any():
        spec_fit, spec_on = fit_mask, "val"
    elif threshold_on_eval:
        spec_fit, spec_on = eval_mask, "eval"
    else:
        spec_fit, spec_on = None, "val"
    report["specificity_operating_point"] = specificity_point(y, score, spec_fit,
                                                              target_specificity, spec_on)
    add_ranking_metrics(report, groupings, y_e, s_e, eligible)
    add_worst_groups(report, groupings, eligible)
    add_privileged(report, point, choice)

    if bootstrap:
        cluster = "patient_id" if "patient_id" in eval_df.columns else "row"
        statistics = scope_statistics(groupings, eligible, (y_e, s_e, eval_decision),
                                      priv_index)
        samples = replicates(statistics, resamplers, bootstrap, seed)
        ci = {path: [_json(v) for v in percentile_ci(values, CI_LEVEL)]
              for path, values in samples.items()}
        report["bootstrap"] = {
            "n": int(bootstrap), "seed": int(seed), "level": CI_LEVEL, "method": "percentile",
            "cluster": cluster,
            "n_clusters": int(resamplers[OVERALL].n_clusters),
            "strata": STRATA,
            "threshold": "held fixed across resamples",
        }
        report["ci"] = _nest(ci)
        report["ci_warnings"] = ci_warnings(point, ci)
    return report
