"""Hyperparameter selection across sampled configurations, on validation only.

With ``hparams: {random: N}`` a method trains as ``<method>@hp<k>`` for k < N. For each table
block (dataset, attribute, arch) and method, the configuration with the best validation number of
the selected models, averaged over seeds, is kept and shown under the method's own name; the test
numbers of the others never influence the choice. The criterion follows the model selection:
``worst_group`` uses the worst-group val AUC, the others the overall val AUC.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from fairmedia import layout

VARIANT_SEP = "@hp"
KEYS = ["dataset", "attribute", "arch"]


def base_method(name: str) -> str:
    return name.split(VARIANT_SEP, 1)[0]


def val_table(eval_table: pd.DataFrame) -> pd.DataFrame:
    """Validation numbers recorded by ``evaluate-run`` for each evaluated run of ``eval_table``."""
    rows = []
    for rec in eval_table.to_dict("records"):
        run = json.loads((Path(rec["eval_dir"]) / layout.METRICS).read_text()).get("run", {})
        val = run.get("val") or {}
        rows.append({**{k: rec[k] for k in [*KEYS, "method", "seed"]},
                     "val_auc": val.get("auc"), "val_auc_worst": val.get("auc_worst")})
    return pd.DataFrame(rows, columns=[*KEYS, "method", "seed", "val_auc", "val_auc_worst"])


def choose(vals: pd.DataFrame, selection: str) -> pd.DataFrame:
    """One row per (block, method variant): mean val criterion over seeds and whether it is kept."""
    crit = "val_auc_worst" if selection == "worst_group" else "val_auc"
    table = vals.groupby([*KEYS, "method"], as_index=False)[crit].mean()
    table["base"] = table["method"].map(base_method)
    table["criterion"] = crit
    table = table.sort_values([*KEYS, "base", crit, "method"], ascending=[True] * 4 + [False, True])
    table["chosen"] = ~table.duplicated([*KEYS, "base"])
    return table.rename(columns={crit: "val_mean"}).reset_index(drop=True)


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
