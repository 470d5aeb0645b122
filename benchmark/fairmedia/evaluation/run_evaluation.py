"""Evaluate one finished run for one evaluation attribute and one model-selection criterion.

The epoch is re-selected from the saved per-epoch val scores *for the evaluation attribute*
(worst-group selection depends on it even when training did not), then the selected val/test
scores go through ``fairmedia.metrics.evaluate_predictions`` (threshold fitted on val, metrics on
test). Post-processing runs, which keep no per-epoch scores, are read from ``predictions.parquet``.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import layout
from fairmedia.data.prepared import PreparedDataset, load_prepared
from fairmedia.diagnostics import encoding
from fairmedia.errors import UserError
from fairmedia.layout import intersection_parts
from fairmedia.metrics import evaluate_predictions
from fairmedia.metrics.groups import Grouping, parts_grouping
from fairmedia.metrics.thresholds import apply_threshold
from fairmedia.training.outputs import (
    atomic_parquet,
    atomic_text,
    load_candidates,
    load_encoding,
    load_epoch_scores,
    predictions_frame,
)
from fairmedia.training.selection import ENCODING_TOLERANCE, SELECTIONS, val_auc_by_epoch


def _read_run_json(run_dir: Path) -> dict[str, Any]:
    path = run_dir / layout.RUN_JSON
    if not path.exists():
        raise UserError(f"{run_dir} is not a finished run: {path.name} is missing")
    return json.loads(path.read_text())


def _with_intersection(prepared: PreparedDataset, attribute: str) -> tuple[PreparedDataset, list[str]]:
    """The dataset with a column ``attribute`` holding the intersection's group names (None where
    a part is missing), as the evaluation groups the rows."""
    parts = intersection_parts(attribute)
    for part in parts:
        prepared.check_attribute(part)
    if len(parts) == 1:
        return prepared, parts
    meta = prepared.metadata.copy()
    meta[attribute] = parts_grouping(meta, parts, str(prepared.root)).row_keys()
    return PreparedDataset(prepared.root, meta, prepared.images, prepared.manifest), parts


def selected_predictions(run_dir: Path, prepared: PreparedDataset, attribute: str, selection: str,
                         *, tolerance: float = ENCODING_TOLERANCE) -> pd.DataFrame:
    """Val and test rows of the model that ``selection`` picks for ``attribute`` (``tolerance``:
    min_encoding's val AUC tolerance)."""
    if selection not in SELECTIONS:
        raise UserError(f"unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}")
    if (run_dir / layout.EPOCH_SCORES).exists():
        rows, scores = load_epoch_scores(run_dir, prepared)
        enc = load_encoding(run_dir)
        if selection == "min_encoding" and not enc:
            raise UserError(f"{run_dir / layout.EPOCH_SCORES} records no per-epoch attribute "
                            "encoding (the run was trained before it was); retrain the run to "
                            "use selection 'min_encoding'")
        preds = predictions_frame(prepared, rows, scores, attribute,
                                  candidates=load_candidates(run_dir), encoding=enc,
                                  tolerance=tolerance)
    else:
        preds = pd.read_parquet(run_dir / layout.PREDICTIONS)
    preds = preds[preds["selection"] == selection]
    if preds.empty:
        raise UserError(f"{run_dir / 'predictions.parquet'} has no rows for selection {selection!r}")
    return preds.reset_index(drop=True)


def scored_frame(test: pd.DataFrame, grouping: Grouping, threshold: float | None = None
                 ) -> pd.DataFrame:
    """``scored.parquet``: the evaluated test rows with each row's group name as the evaluation
    grouped it (null where the attribute is missing), for the leaderboard's paired bootstrap, and
    each row's ``decision``: the post-processor's own when the run has one, else ``score >=
    threshold`` at the threshold the evaluation fitted on validation rows (``metrics.json``'s
    ``threshold.value``), so the bootstrap resamples the decisions the printed numbers used."""
    scored = pd.DataFrame({
        "sample_id": test["sample_id"].to_numpy(), "patient_id": test["patient_id"].to_numpy(),
        "y": test["y"].to_numpy(), "score": test["score"].to_numpy(),
        "group": pd.array(grouping.row_keys(), dtype="string"),
    })
    if "decision" in test:
        scored["decision"] = test["decision"].to_numpy()
    elif threshold is not None:
        scored["decision"] = apply_threshold(test["score"].to_numpy(dtype=float), threshold)
    return scored


def _finite(value: float) -> float | None:
    return float(value) if pd.notna(value) else None


# Per-group rates and criteria of the val block: what a decision-based hyperparameter choice needs.
VAL_GROUP_RATES = ("tpr", "fpr", "acc", "selection_rate")
VAL_CRITERIA = ("equalized_odds", "equal_opportunity", "demographic_parity", "accuracy_parity")


def val_metrics(val: pd.DataFrame, parts: list[str], attribute: str, report: dict[str, Any], *,
                min_group_size: int, source: str) -> dict[str, Any]:
    """Validation numbers of the selected model (``run.val`` of metrics.json), which is all that
    hyperparameter selection may look at (report/hparam_choice.py):

    - ``auc``, ``auc_worst`` (lowest defined per-group AUC), ``auc_groups`` (group name → AUC);
    - at the operating point the test metrics use — the threshold fitted on these val rows, or a
      post-processing method's own ``decision`` column — ``decision_source`` (``threshold`` or
      ``method``), overall ``acc``/``balanced_accuracy``/``tpr``/``fpr``, per-group ``groups``
      (tpr, fpr, acc, selection_rate, n) and ``criteria`` (equalized_odds, equal_opportunity,
      demographic_parity, accuracy_parity), all from ``evaluate_predictions`` on the val rows.
    """
    val_groups = parts_grouping(val, parts, source)
    grouped = val_groups.codes >= 0
    overall, _ = val_auc_by_epoch(val["score"].to_numpy()[None], val["y"].to_numpy(),
                                  np.zeros(len(val)))
    _, per_group = val_auc_by_epoch(val["score"].to_numpy()[grouped][None],
                                    val["y"].to_numpy()[grouped], val_groups.codes[grouped])
    present = np.unique(val_groups.codes[grouped])
    auc_groups = {str(val_groups.keys[c]): _finite(per_group[0][j]) for j, c in enumerate(present)}
    finite = per_group[0][~pd.isna(per_group[0])]
    block: dict[str, Any] = {"auc": _finite(overall[0]),
                             "auc_worst": _finite(finite.min()) if len(finite) else None,
                             "auc_groups": auc_groups}
    frame = val.drop(columns=["split"])
    if "decision" in frame:
        source_kind = "method"
    else:
        t = report["threshold"]["value"]
        frame["decision"] = apply_threshold(frame["score"].to_numpy(), t)
        source_kind = "threshold"
    # The decisions are given, so evaluate_predictions neither fits nor needs a threshold here.
    rep = evaluate_predictions(frame, [attribute], intersect=False, bootstrap=0,
                               min_group_size=min_group_size, source=f"{source} (val rows)")
    ov = rep["overall"]
    tpr, tnr = ov.get("tpr"), ov.get("tnr")
    section = rep["attributes"][attribute]
    block.update({
        "decision_source": source_kind,
        "threshold": report["threshold"].get("value"),
        "acc": ov.get("acc"), "tpr": tpr, "fpr": ov.get("fpr"),
        "balanced_accuracy": None if tpr is None or tnr is None else (tpr + tnr) / 2,
        "groups": {str(k): {m: g.get(m) for m in (*VAL_GROUP_RATES, "n")}
                   for k, g in section["groups"].items()},
        "criteria": {c: section["criteria"].get(c) for c in VAL_CRITERIA},
    })
    return block


def evaluate_run(
    run_dir: str | Path,
    attribute: str,
    selection: str,
    out_dir: str | Path,
    *,
    prepared_dir: str | Path | None = None,
    bootstrap: int = 0,
    threshold: str = "youden",
    min_group_size: int = 20,
    seed: int = 0,
    encoding_tolerance: float = ENCODING_TOLERANCE,
    privileged: dict[str, str] | None = None,
    target_specificity: float = 0.8,
) -> dict[str, Any]:
    """Write metrics.json and scored.parquet (module docstring). An intersection of k attributes
    is evaluated with every 2..k-way intersection of its parts, itself included; the default
    privileged group is the largest of the training split (``privileged`` overrides it)."""
    run_dir, out = Path(run_dir), Path(out_dir)
    info = _read_run_json(run_dir)
    prepared = load_prepared(prepared_dir or info["config"]["prepared"], need_images=False)
    prepared, parts = _with_intersection(prepared, attribute)
    preds = selected_predictions(run_dir, prepared, attribute, selection,
                                 tolerance=encoding_tolerance)
    columns = ["sample_id", *dict.fromkeys([*parts, attribute])]
    df = preds.merge(prepared.metadata[columns], on="sample_id", how="left", validate="many_to_one")
    # The config names privileged groups for every attribute; keep those evaluated here.
    evaluated = {layout.intersection_name(*c) for k in range(1, len(parts) + 1)
                 for c in combinations(parts, k)}
    privileged = {k: v for k, v in (privileged or {}).items() if k in evaluated}
    meta = prepared.metadata
    train_rows = meta.loc[meta["split"] == "train", list(dict.fromkeys(parts))]
    report = evaluate_predictions(
        df, parts, intersect=len(parts) > 1, threshold=threshold, bootstrap=bootstrap,
        min_group_size=min_group_size, seed=seed, source=str(run_dir / layout.PREDICTIONS),
        intersect_order=max(len(parts), 2), privileged=privileged,
        privileged_reference=("the training split", train_rows),
        target_specificity=target_specificity,
    )
    val_block = val_metrics(df[df["split"] == "val"], parts, attribute, report,
                            min_group_size=min_group_size, source=report["source"])
    report["run"] = {
        "run_dir": str(run_dir), "method": info["config"]["method"], "arch": info["config"]["arch"],
        "train_attribute": info["config"]["attribute"], "seed": info["config"]["seed"],
        "selection": selection, "attribute": attribute, "epoch": int(preds["epoch"].iloc[0]),
        "hparams": info.get("hparams", {}),
        # Validation numbers of the selected model: what hyperparameter selection may look at.
        "val": val_block,
    }
    report["attribute_encoding_auc"] = encoding.evaluation_blocks(
        run_dir, df, parts, attribute, int(preds["epoch"].iloc[0]), source=report["source"])
    out.mkdir(parents=True, exist_ok=True)
    test = df[df["split"] == "test"]
    scored = scored_frame(test, parts_grouping(test, parts, report["source"]),
                          report["threshold"]["value"])
    atomic_parquet(scored, out / layout.SCORED)
    atomic_text(json.dumps(report, indent=2, sort_keys=True), out / layout.METRICS)
    return report
