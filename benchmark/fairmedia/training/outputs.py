"""Writing a run's outputs (data contract 2): epoch scores, predictions per selection, history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import layout
from fairmedia.data.prepared import PreparedDataset
from fairmedia.training.checkpoint import atomic_target
from fairmedia.training.selection import SELECTIONS, select_epoch, val_auc_by_epoch


def atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    """Written beside ``path`` then renamed; a failed write (disk full) is a UserError naming
    ``path``, the partial file removed and any previous ``path`` untouched."""
    with atomic_target(path) as tmp:
        df.to_parquet(tmp, index=False)


def atomic_text(text: str, path: Path) -> None:
    with atomic_target(path) as tmp:
        tmp.write_text(text)


def candidate_epochs(history: list[dict[str, Any]]) -> np.ndarray:
    """The epochs model selection may choose, from the loop's history rows (``candidate``; a row
    without the flag — a run of an older version — is a candidate)."""
    return np.array([int(r["epoch"]) for r in history if bool(r.get("candidate", True))],
                    dtype=np.int64)


def _candidates(candidates: np.ndarray | None, n_epochs: int) -> np.ndarray:
    if candidates is None:
        return np.arange(n_epochs)
    candidates = np.asarray(candidates, dtype=np.int64)
    if len(candidates) == 0 or candidates.min() < 0 or candidates.max() >= n_epochs:
        raise ValueError(f"selection candidates {candidates.tolist()} are not a non-empty subset "
                         f"of the run's {n_epochs} epochs")
    return np.unique(candidates)


def epoch_scores_frame(prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, *,
                       candidates: np.ndarray | None = None) -> pd.DataFrame:
    """Long table: one row per (epoch, val/test image); ``candidate`` says whether model
    selection may choose the epoch (all when ``candidates`` is None)."""
    meta = prepared.metadata.iloc[rows]
    n_epochs = scores.shape[0]
    is_candidate = np.isin(np.arange(n_epochs), _candidates(candidates, n_epochs))
    return pd.DataFrame(
        {
            "epoch": np.repeat(np.arange(n_epochs), len(rows)),
            "sample_id": np.tile(meta["sample_id"].to_numpy(), n_epochs),
            "split": np.tile(meta["split"].to_numpy(), n_epochs),
            "score": scores.reshape(-1).astype(np.float64),
            "candidate": np.repeat(is_candidate, len(rows)),
        }
    )


def selected_epochs(
    prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, attribute: str, *,
    candidates: np.ndarray | None = None,
) -> dict[str, int]:
    """The epoch each criterion of SELECTIONS picks on validation, among ``candidates`` (all
    epochs when None): only the candidates' rows reach ``select_epoch``, so a criterion that
    normalises over epochs (dto) sees only them, and its index is mapped back to the epoch."""
    meta = prepared.metadata.iloc[rows]
    val = (meta["split"] == "val").to_numpy()
    groups = meta[attribute].astype(str).to_numpy()[val] if attribute != "any" else np.zeros(val.sum())
    epochs = _candidates(candidates, scores.shape[0])
    overall, per_group = val_auc_by_epoch(scores[epochs][:, val], meta["y"].to_numpy()[val], groups)
    return {c: int(epochs[select_epoch(c, overall, per_group)]) for c in SELECTIONS}


def predictions_frame(
    prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, attribute: str, *,
    candidates: np.ndarray | None = None,
) -> pd.DataFrame:
    meta = prepared.metadata.iloc[rows]
    parts = []
    picked = selected_epochs(prepared, rows, scores, attribute, candidates=candidates)
    for criterion, epoch in picked.items():
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
    atomic_text(json.dumps(info, indent=2, sort_keys=True, default=str), out / layout.RUN_JSON)


def load_epoch_scores(run_dir: str | Path, prepared: PreparedDataset) -> tuple[np.ndarray, np.ndarray]:
    """Read a finished run's ``epoch_scores.parquet`` back as (row indices into the prepared
    metadata, epochs × rows score matrix) — the inverse of :func:`epoch_scores_frame`."""
    long = pd.read_parquet(Path(run_dir) / layout.EPOCH_SCORES)
    wide = long.pivot(index="sample_id", columns="epoch", values="score")
    position = pd.Series(np.arange(len(prepared.metadata)), index=prepared.metadata["sample_id"])
    first_epoch = long[long["epoch"] == long["epoch"].min()]
    order = first_epoch["sample_id"].to_numpy()  # keep the run's row order (val then test)
    rows = position.loc[order].to_numpy()
    return rows, wide.loc[order].to_numpy().T


def load_candidates(run_dir: str | Path) -> np.ndarray | None:
    """The epochs of a finished run that model selection may choose (``candidate`` in
    ``epoch_scores.parquet``); None — every epoch — for a run written before the column."""
    long = pd.read_parquet(Path(run_dir) / layout.EPOCH_SCORES)
    if "candidate" not in long:
        return None
    return np.sort(long.loc[long["candidate"].astype(bool), "epoch"].unique()).astype(np.int64)
