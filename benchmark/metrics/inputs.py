"""Checks on a predictions table before any metric is computed.

Every problem is a ``UserError`` that names the file, the column and the offending rows, so an
auditor bringing predictions from their own model sees what to fix instead of a pandas traceback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmark.errors import UserError

_MAX_ROWS_SHOWN = 10


def _rows(mask: np.ndarray, index: pd.Index) -> str:
    """Row labels (the frame's index; 0-based file rows for a freshly read file) of a mask."""
    bad = index[np.asarray(mask)]
    shown = ", ".join(str(r) for r in bad[:_MAX_ROWS_SHOWN])
    more = f" and {len(bad) - _MAX_ROWS_SHOWN} more" if len(bad) > _MAX_ROWS_SHOWN else ""
    return f"{len(bad)} row(s): {shown}{more}"


def require_columns(df: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(
            f"{source}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"the file has columns: {', '.join(map(str, df.columns))}"
        )


def binary_column(df: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """The column as int8 0/1, or a ``UserError`` naming the rows that are not 0/1."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        raise UserError(
            f"{source}: column {column!r} must be 0 or 1 in every row; "
            f"not so in {_rows(bad, df.index)}"
        )
    return values.astype(np.int8)


def score_column(df: pd.DataFrame, source: str, column: str = "score") -> np.ndarray:
    """Probabilities of class 1 as float64 in [0, 1], or a ``UserError`` naming the rows."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    missing = np.isnan(values)
    if missing.any():
        raise UserError(
            f"{source}: column {column!r} is missing or not a number in {_rows(missing, df.index)}"
        )
    outside = (values < 0.0) | (values > 1.0)
    if outside.any():
        raise UserError(
            f"{source}: column {column!r} must be a probability of class 1 in [0, 1]; "
            f"outside in {_rows(outside, df.index)} (min {values.min():.4g}, "
            f"max {values.max():.4g}); pass sigmoid/softmax outputs, not logits"
        )
    return values
