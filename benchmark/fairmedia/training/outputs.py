"""Writing a run's outputs (data contract 2): epoch scores, predictions per selection, history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairmedia import layout
from fairmedia.data.prepared import PreparedDataset
from fairmedia.layout import intersection_parts
from fairmedia.training.checkpoint import atomic_target
from fairmedia.training.selection import (
    ENCODING_TOLERANCE,
    SELECTIONS,
    select_epoch,
    val_auc_by_epoch,
)

# Per-epoch val attribute encoding (diagnostics/encoding.py), one column per prepared attribute of
# history.csv and epoch_scores.parquet: what the min_encoding rule selects on.
ENCODING_PREFIX = "val_encoding_auc_"


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


def encoding_by_epoch(history: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Attribute → per-epoch val encoding AUC, from the loop's history rows (NaN where absent)."""
    names = dict.fromkeys(k for r in history for k in r if k.startswith(ENCODING_PREFIX))
    return {k.removeprefix(ENCODING_PREFIX):
            np.array([float(r.get(k, np.nan)) for r in history]) for k in names}


def epoch_scores_frame(prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, *,
                       candidates: np.ndarray | None = None,
                       encoding: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Long table: one row per (epoch, val/test image); ``candidate`` says whether model
    selection may choose the epoch (all when ``candidates`` is None); ``encoding`` adds one
    ``val_encoding_auc_{attribute}`` column (the epoch's value on each of its rows)."""
    meta = prepared.metadata.iloc[rows]
    n_epochs = scores.shape[0]
    is_candidate = np.isin(np.arange(n_epochs), _candidates(candidates, n_epochs))
    frame = pd.DataFrame(
        {
            "epoch": np.repeat(np.arange(n_epochs), len(rows)),
            "sample_id": np.tile(meta["sample_id"].to_numpy(), n_epochs),
            "split": np.tile(meta["split"].to_numpy(), n_epochs),
            "score": scores.reshape(-1).astype(np.float64),
            "candidate": np.repeat(is_candidate, len(rows)),
        }
    )
    for attr, values in (encoding or {}).items():
        frame[f"{ENCODING_PREFIX}{attr}"] = np.repeat(np.asarray(values, dtype=float), len(rows))
    return frame


def attribute_encoding(encoding: dict[str, np.ndarray] | None, attribute: str
                       ) -> np.ndarray | None:
    """Per-epoch encoding min_encoding selects on for ``attribute``: its own column; for an
    intersection the mean of its parts' (none is recorded for the crossed groups); None when a
    run recorded none (trained before the column existed, or ``attribute`` is ``any``)."""
    if not encoding:
        return None
    parts = intersection_parts(attribute)
    if not all(p in encoding for p in parts):
        return None
    return np.mean([encoding[p] for p in parts], axis=0)


def selected_epochs(
    prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, attribute: str, *,
    candidates: np.ndarray | None = None, encoding: dict[str, np.ndarray] | None = None,
    tolerance: float = ENCODING_TOLERANCE,
) -> dict[str, int]:
    """The epoch each criterion of SELECTIONS picks on validation, among ``candidates`` (all
    epochs when None): only the candidates' rows reach ``select_epoch``, so a criterion that
    normalises over epochs (dto) sees only them, and its index is mapped back to the epoch.
    ``min_encoding`` is left out when ``encoding`` holds nothing for ``attribute``."""
    meta = prepared.metadata.iloc[rows]
    val = (meta["split"] == "val").to_numpy()
    groups = meta[attribute].astype(str).to_numpy()[val] if attribute != "any" else np.zeros(val.sum())
    epochs = _candidates(candidates, scores.shape[0])
    overall, per_group = val_auc_by_epoch(scores[epochs][:, val], meta["y"].to_numpy()[val], groups)
    enc = attribute_encoding(encoding, attribute)
    rules = [c for c in SELECTIONS if c != "min_encoding" or enc is not None]
    return {c: int(epochs[select_epoch(c, overall, per_group,
                                       encoding=None if enc is None else enc[epochs],
                                       tolerance=tolerance)])
            for c in rules}


def predictions_frame(
    prepared: PreparedDataset, rows: np.ndarray, scores: np.ndarray, attribute: str, *,
    candidates: np.ndarray | None = None, encoding: dict[str, np.ndarray] | None = None,
    tolerance: float = ENCODING_TOLERANCE,
) -> pd.DataFrame:
    meta = prepared.metadata.iloc[rows]
    parts = []
    picked = selected_epochs(prepared, rows, scores, attribute, candidates=candidates,
                             encoding=encoding, tolerance=tolerance)
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


def load_encoding(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Attribute → per-epoch val encoding AUC of a finished run's ``epoch_scores.parquet``
    (epochs in order); empty for a run trained before the columns existed."""
    long = pd.read_parquet(Path(run_dir) / layout.EPOCH_SCORES)
    columns = [c for c in long.columns if c.startswith(ENCODING_PREFIX)]
    if not columns:
        return {}
    per_epoch = long.groupby("epoch", sort=True)[columns].first()
    return {c.removeprefix(ENCODING_PREFIX): per_epoch[c].to_numpy(dtype=float) for c in columns}
