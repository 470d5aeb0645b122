"""Writing a run's outputs (data contract 2): epoch scores, predictions per selection, history."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark.data.prepared import PreparedDataset
from benchmark.training.selection import SELECTIONS, select_epoch, val_auc_by_epoch


def atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".partial")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def atomic_text(text: str, path: Path) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text)
    os.replace(tmp, path)


def epoch_scores_frame(prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Long table: one row per (epoch, val/test image)."""
    meta = prepared.metadata.iloc[rows]
    n_epochs = scores.shape[0]
    return pd.DataFrame(
        {
            "epoch": np.repeat(np.arange(n_epochs), len(rows)),
            "sample_id": np.tile(meta["sample_id"].to_numpy(), n_epochs),
            "split": np.tile(meta["split"].to_numpy(), n_epochs),
            "score": scores.reshape(-1).astype(np.float64),
        }
    )


def selected_epochs(
    prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, attribute: str
) -> dict[str, int]:
    meta = prepared.metadata.iloc[rows]
    val = (meta["split"] == "val").to_numpy()
    groups = meta[attribute].astype(str).to_numpy()[val] if attribute != "any" else np.zeros(val.sum())
    overall, per_group = val_auc_by_epoch(scores[:, val], meta["y"].to_numpy()[val], groups)
    return {c: select_epoch(c, overall, per_group) for c in SELECTIONS}


def predictions_frame(
    prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, attribute: str
) -> pd.DataFrame:
    meta = prepared.metadata.iloc[rows]
    parts = []
    for criterion, epoch in selected_epochs(prepared, rows, scores, attribute).items():
        parts.append(
            pd.DataFrame(
                {
                    "sample_id": meta["sample_id"].to_numpy(),
                    "patient_id": meta["patient_id"].to_numpy(),
                    "split": meta["split"].to_numpy(),
                    "y": meta["y"].to_numpy(),
                    "score": scores[epoch].astype(np.float64),
                    "selection": criterion,
                    "epoch": epoch,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def write_run_json(out: Path, info: dict[str, Any]) -> None:
    atomic_text(json.dumps(info, indent=2, sort_keys=True, default=str), out / "run.json")
