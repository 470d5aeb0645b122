"""Checks on a predictions table before any metric is computed.

Every problem is a ``UserError`` that names the file, the column and the offending rows, so an
auditor bringing predictions from their own model sees what to fix instead of a pandas traceback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairmedia.errors import UserError

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
            f"columns present: {', '.join(map(str, df.columns))}"
        )


# The canonical names of the optional columns; an evaluation may read them under other names.
PATIENT, SPLIT = "patient_id", "split"


def optional_column(df: pd.DataFrame, column: str, canonical: str, source: str) -> str | None:
    """The column to read for an optional input (``patient_id``, ``split``), or None if absent.

    Under its canonical name the column may be absent; a name the user chose (``--patient-col
    pid``) must exist, since silently evaluating without it would change the protocol."""
    if column in df.columns:
        return column
    if column != canonical:
        require_columns(df, [column], source)
    return None


def with_patient_column(
    df: pd.DataFrame, column: str | None, attributes: list[str], source: str
) -> pd.DataFrame:
    """``df`` with the patient ids under the canonical name ``patient_id`` (what the bootstrap
    clusters by), or without any ``patient_id`` column when ``column`` is None. A frame whose own
    ``patient_id`` column is not the one chosen has it dropped, so it cannot be clustered by."""
    if column == PATIENT or (column is None and PATIENT not in df.columns):
        return df
    if PATIENT in attributes:
        raise UserError(
            f"{source}: 'patient_id' is an evaluated attribute but the patient column is "
            f"{column!r}; rename one of them"
        )
    out = df.drop(columns=[PATIENT], errors="ignore")
    return out if column is None else out.rename(columns={column: PATIENT})


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


VALID_SPLITS = ("train", "val", "test")


def split_column(df: pd.DataFrame, source: str, column: str = SPLIT) -> np.ndarray:
    """The split column, stripped and lower-cased; any value other than train/val/test (a typo
    such as ``validation``, a blank) is a ``UserError`` naming the value and its rows, since
    dropping those rows silently would change what is evaluated."""
    split = df[column].astype(str).str.strip().str.lower().to_numpy()
    bad = ~np.isin(split, VALID_SPLITS)
    if bad.any():
        values = pd.unique(df[column].to_numpy()[bad])
        shown = ", ".join(repr(v) for v in values[:_MAX_ROWS_SHOWN])
        raise UserError(
            f"{source}: column {column!r} holds {shown}, not one of {', '.join(VALID_SPLITS)}, in "
            f"{_rows(bad, df.index)}; rename the value(s) (val rows fit the threshold, test rows "
            "are evaluated, train rows are ignored)"
        )
    return split


def reject_duplicates(df: pd.DataFrame, source: str, *, allow_identical_rows: bool = False) -> None:
    """A row counted twice inflates every count and narrows every CI. With a ``sample_id`` column
    a repeated id is an error; without one, rows identical in every column are an error unless
    ``allow_identical_rows`` (distinct images that happen to share every value)."""
    if "sample_id" in df.columns:
        repeated = df["sample_id"].duplicated(keep=False).to_numpy()
        if repeated.any():
            ids = pd.unique(df["sample_id"].to_numpy()[repeated])
            shown = ", ".join(repr(v) for v in ids[:_MAX_ROWS_SHOWN])
            more = f" and {len(ids) - _MAX_ROWS_SHOWN} more" if len(ids) > _MAX_ROWS_SHOWN else ""
            raise UserError(
                f"{source}: sample_id {shown}{more} appear(s) more than once, in "
                f"{_rows(repeated, df.index)}; each image must be one row (was the file "
                "concatenated twice, or a merge duplicated rows?)"
            )
        return
    if allow_identical_rows:
        return
    try:
        repeated = df.duplicated(keep=False).to_numpy()
    except TypeError:  # unhashable cells (lists from Parquet): no row-identity check possible
        return
    if repeated.any():
        first = df.duplicated(keep="first").to_numpy()
        raise UserError(
            f"{source}: {int(first.sum())} row(s) repeat an earlier row in every column, in "
            f"{_rows(repeated, df.index)}; a row counted twice biases every metric. Remove the "
            "duplicates, add a sample_id column (then only repeated ids are refused), or pass "
            "--allow-identical-rows if they are distinct images with identical values"
        )
