"""Hyperparameter selection across sampled configurations, on validation only.

With ``hparams: {random: N}`` a method trains as ``<method>@hp<k>`` for k < N. For each table block
(dataset, attribute, arch) and method, one configuration is kept and shown under the method's own
name; the test numbers of the others never influence the choice. Candidates are the
configurations; each one's validation numbers (``run.val`` of metrics.json, written by
``evaluate-run`` for the model the epoch-level selection picked) are averaged over seeds, then:

- score-changing methods: the leaderboard's selection rule, applied to the configurations × groups
  table of seed-averaged val AUC with the same functions as across epochs
  (``training/selection.py``): ``overall``, ``worst_group``, ``dto`` (MEDFAIR's), ``pareto``
  (MEDFAIR's minimax Pareto, the group g* fixed once from the baseline's configurations of the
  block, as MEDFAIR fixes it from ERM's);
- decision-changing post-processing methods (their runs carry a ``decision`` column, i.e.
  ``PostProcessor.decides``): every variant has the same val AUC, so the AUC rules cannot choose.
  They are chosen by a decision-based criterion (``DecisionRule``): among the variants whose
  seed-averaged val utility is within ``floor`` of the best variant's, the one with the lowest
  seed-averaged val fairness criterion (default: equalized odds under a 0.02 balanced-accuracy
  floor).

docs/statistics.md ("Model selection") states the formulas.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import layout
from fairmedia.errors import UserError
from fairmedia.training import selection as rules

VARIANT_SEP = "@hp"
KEYS = ["dataset", "attribute", "arch"]
# Lower is better for every decision criterion: they are gaps across groups (metrics/criteria.py).
DECISION_CRITERIA = ("equalized_odds", "equal_opportunity", "demographic_parity", "accuracy_parity")
UTILITIES = ("balanced_accuracy", "acc")
GROUP_PREFIX = "val_auc_group::"
CHOSEN_COLUMNS = [*KEYS, "method", "base", "selection", "criterion", "val_mean", "n_seeds",
                  "worst_group", "on_front", "utility", "val_utility", "floor", "utility_min",
                  "eligible", "chosen", "note"]


@dataclass(frozen=True)
class DecisionRule:
    """How variants of a decision-changing method are chosen: lowest mean val ``criterion`` among
    the variants with mean val ``utility`` >= (best variant's) - ``floor``."""

    criterion: str = "equalized_odds"
    utility: str = "balanced_accuracy"
    floor: float = 0.02

    def __post_init__(self) -> None:
        if self.criterion not in DECISION_CRITERIA:
            raise UserError(f"hparam criterion {self.criterion!r} is not one of "
                            f"{', '.join(DECISION_CRITERIA)}")
        if self.utility not in UTILITIES:
            raise UserError(f"hparam utility {self.utility!r} is not one of {', '.join(UTILITIES)}")
        if not (isinstance(self.floor, (int, float)) and 0 <= self.floor <= 1):
            raise UserError(f"hparam utility floor {self.floor!r} must be a number in [0, 1]")


def base_method(name: str) -> str:
    return name.split(VARIANT_SEP, 1)[0]


def _variant_order(name: str) -> tuple[str, int]:
    """Sort key: base name, then k of ``@hp<k>`` as a number (hp2 before hp10)."""
    m = re.search(re.escape(VARIANT_SEP) + r"(\d+)$", name)
    return base_method(name), int(m.group(1)) if m else -1


def _num(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v


def val_row(report: dict[str, Any]) -> dict[str, Any]:
    """The validation numbers of one metrics.json that hyperparameter choice reads."""
    val = (report.get("run") or {}).get("val") or {}
    source = val.get("decision_source")
    decides = source == "method" if source else (report.get("threshold") or {}).get("rule") == "decision"
    row: dict[str, Any] = {"val_auc": _num(val.get("auc")), "val_auc_worst": _num(val.get("auc_worst")),
                           "decides": bool(decides)}
    for u in UTILITIES:
        row[f"val_{u}"] = _num(val.get(u))
    for c in DECISION_CRITERIA:
        row[f"val_{c}"] = _num((val.get("criteria") or {}).get(c))
    for g, auc in (val.get("auc_groups") or {}).items():
        row[GROUP_PREFIX + str(g)] = _num(auc)
    return row


def val_table(eval_table: pd.DataFrame) -> pd.DataFrame:
    """Validation numbers recorded by ``evaluate-run`` for each evaluated run of ``eval_table``:
    one row per run, with one ``val_auc_group::<name>`` column per group."""
    rows = []
    for rec in eval_table.to_dict("records"):
        report = json.loads((Path(rec["eval_dir"]) / layout.METRICS).read_text())
        rows.append({**{k: rec[k] for k in [*KEYS, "method", "seed"]}, **val_row(report)})
    base = [*KEYS, "method", "seed", "val_auc", "val_auc_worst", "decides",
            *(f"val_{u}" for u in UTILITIES), *(f"val_{c}" for c in DECISION_CRITERIA)]
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=base + sorted(c for c in frame.columns if c not in base))


def _group_matrix(means: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """candidates × groups of seed-averaged val AUC (NaN where undefined) and the group names."""
    cols = [c for c in means.columns if c.startswith(GROUP_PREFIX) and means[c].notna().any()]
    return means[cols].to_numpy(float), [c[len(GROUP_PREFIX):] for c in cols]


def _seed_means(part: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate (in ``_variant_order``): the mean over seeds of every number."""
    numeric = [c for c in part.columns if c.startswith("val_")]
    means = part.groupby("method")[numeric].mean()
    means["n_seeds"] = part.groupby("method")["seed"].nunique()
    decides = part["decides"] if "decides" in part else pd.Series(False, index=part.index)
    means["decides"] = decides.astype(bool).groupby(part["method"]).all()
    return means.loc[sorted(means.index, key=_variant_order)]


def baseline_worst_group(vals: pd.DataFrame, block: tuple, baseline: str) -> str | None:
    """MEDFAIR's g* for a block: argmin_g max_c of the seed-averaged val AUC over the baseline's
    configurations (its ``@hp`` variants, or its single default run); None without them."""
    mask = vals["method"].map(base_method) == baseline
    for k, v in zip(KEYS, block):
        mask &= vals[k] == v
    part = vals[mask]
    if part.empty:
        return None
    aucs, names = _group_matrix(_seed_means(part))
    keep = np.isfinite(aucs).all(axis=0)
    if not keep.any():
        return None
    return [n for n, k in zip(names, keep) if k][rules.minimax_group(aucs[:, keep])]


def _auc_choice(means: pd.DataFrame, selection: str, fixed: str | None) -> tuple[int, dict]:
    """(index of the chosen candidate, per-candidate columns) for the AUC-based rules."""
    overall = means["val_auc"].to_numpy(float)
    aucs, names = _group_matrix(means)
    note = ""
    if not names:  # metrics.json written before run.val had per-group AUCs
        aucs, names = means[["val_auc_worst"]].to_numpy(float), ["(worst group)"]
        note = "no per-group val AUC in metrics.json: val_auc_worst used as the only group"
    keep = np.isfinite(aucs).all(axis=0)
    valid, kept = aucs[:, keep], [n for n, k in zip(names, keep) if k]
    cols: dict[str, Any] = {"criterion": f"val AUC ({selection})", "note": note}
    g_index = names.index(fixed) if fixed in names and keep[names.index(fixed)] else None
    idx = rules.choose(selection, overall, aucs, worst_group=g_index)
    if selection in ("overall", "min_encoding") or not kept:
        cols["val_mean"] = overall
        if selection == "min_encoding":  # no per-configuration encoding is collected
            cols["note"] = "min_encoding chooses across configurations as overall"
        elif selection != "overall":
            cols["note"] = "no group with a defined val AUC in every configuration: overall used"
        return idx, cols
    if selection == "worst_group":
        cols["val_mean"] = rules.worst_group_scores(valid)
    elif selection == "dto":
        cols["val_mean"] = rules.dto_distances(valid)
    else:
        g = kept.index(fixed) if g_index is not None else rules.minimax_group(valid)
        cols.update(val_mean=valid[:, g], on_front=rules.pareto_front(valid),
                    worst_group=f"{kept[g]} ({'baseline' if g_index is not None else 'own'})")
    return idx, cols


def _decision_choice(means: pd.DataFrame, rule: DecisionRule) -> tuple[int, dict] | None:
    """(index, columns) for a decision-changing method; None when no variant has the numbers."""
    crit = means[f"val_{rule.criterion}"].to_numpy(float)
    util = means[f"val_{rule.utility}"].to_numpy(float)
    if not np.isfinite(util).any() and not np.isfinite(crit).any():
        return None
    best = np.nanmax(util) if np.isfinite(util).any() else math.nan
    eligible = util >= best - rule.floor if math.isfinite(best) else np.ones(len(util), bool)
    cols: dict[str, Any] = {"criterion": rule.criterion, "val_mean": crit, "utility": rule.utility,
                            "val_utility": util, "floor": rule.floor, "utility_min": best - rule.floor,
                            "eligible": eligible, "note": ""}
    ok = eligible & np.isfinite(crit)
    if not ok.any():
        cols["note"] = f"{rule.criterion} undefined for every eligible variant: best {rule.utility} kept"
        return int(np.nanargmax(util)), cols
    # Lowest criterion; ties by higher utility, then the earliest variant (lexsort: last key first).
    order = np.lexsort((np.arange(len(crit)), -np.nan_to_num(util, nan=-np.inf),
                        np.where(ok, crit, np.inf)))
    return int(order[0]), cols


def choose(vals: pd.DataFrame, selection: str, *, baseline: str = "erm",
           decision: DecisionRule | None = None) -> pd.DataFrame:
    """One row per (block, method variant): the seed-averaged validation number the rule uses
    (``val_mean``) and whether the variant is kept (``chosen``); columns ``CHOSEN_COLUMNS``."""
    if selection not in rules.SELECTIONS:
        raise UserError(f"unknown selection {selection!r}; valid: {', '.join(rules.SELECTIONS)}")
    decision = decision or DecisionRule()
    vals = vals.copy()
    vals["base"] = vals["method"].map(base_method)
    out = []
    for key, part in vals.groupby([*KEYS, "base"], sort=True):
        block, base = tuple(key[:3]), key[3]
        means = _seed_means(part)
        picked = _decision_choice(means, decision) if means["decides"].all() else None
        if picked is None:
            fixed = baseline_worst_group(vals, block, baseline) if selection == "pareto" else None
            picked = _auc_choice(means, selection, fixed)
        idx, cols = picked
        table = pd.DataFrame({"method": means.index, "n_seeds": means["n_seeds"].to_numpy()})
        for name, value in cols.items():
            table[name] = value
        table["chosen"] = np.arange(len(table)) == idx
        table[KEYS] = list(block)
        table["base"], table["selection"] = base, selection
        out.append(table)
    if not out:
        return pd.DataFrame(columns=CHOSEN_COLUMNS)
    return pd.concat(out, ignore_index=True).reindex(columns=CHOSEN_COLUMNS)


def apply_choice(frame: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """Keep the chosen variant's rows of ``frame`` (which has KEYS and ``method``) under the base
    name; rows of methods without variants pass through."""
    if frame.empty or not frame["method"].str.contains(VARIANT_SEP, regex=False).any():
        return frame
    keep = chosen[chosen["chosen"]][[*KEYS, "method"]]
    is_variant = frame["method"].str.contains(VARIANT_SEP, regex=False)
    kept = frame[is_variant].merge(keep, on=[*KEYS, "method"], how="inner")
    kept["method"] = kept["method"].map(base_method)
    return pd.concat([frame[~is_variant], kept], ignore_index=True)
