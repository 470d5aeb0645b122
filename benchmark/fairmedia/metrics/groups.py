"""Sensitive-attribute grouping: any column, string keys, declared bins, and intersections.

``attribute_grouping`` is the one grouper: training (``PreparedDataset.attribute_codes``), the
evaluation, transfer and the leaderboard's bootstrap all map an attribute column to groups with
it, so a group is the same set of rows, under the same name, everywhere. Its rules:

- **missing**: a null value (NaN, None) is in no group (code -1); the string ``"nan"`` is a value;
- **names**: the attribute's own values written as strings, an integral float as an integer
  (1.0 -> "1", so a column read back as float names its groups as before);
- **order**: sorted by value (numbers numerically; mixed types by their names); declared bins in
  edge order.

Continuous attributes are grouped with the bin edges declared in the dataset card
(``bins={"age": [0, 60, inf]}``), and ``a&b`` keys (``a&b&c`` for three attributes) combine
groupings because a model can be fair on each attribute alone and unfair on their combination.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from fairmedia.errors import UserError
from fairmedia.layout import intersection_name

INTERSECTION_SEP = "&"  # between the group values of an intersection ("F&1")


@dataclass
class Grouping:
    """Group membership of the evaluated rows for one attribute (or one intersection)."""

    name: str
    keys: list[str]  # group keys in display order
    codes: np.ndarray  # int64 per row: index into keys, -1 where the attribute is missing
    notes: list[str] = field(default_factory=list)

    @property
    def n_missing(self) -> int:
        return int((self.codes < 0).sum())

    def row_keys(self) -> np.ndarray:
        """Each row's group name (object array), None where the attribute is missing."""
        keys = np.array([*self.keys, None], dtype=object)
        return keys[np.where(self.codes >= 0, self.codes, len(self.keys))]


def _value_key(value: object) -> str:
    """Write an attribute value as a group key; 1.0 (an integer column read back as float) -> "1"."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _edge_text(edge: float) -> str:
    if math.isinf(edge):
        return "inf" if edge > 0 else "-inf"
    return _value_key(float(edge))


def bin_labels(edges: list[float]) -> list[str]:
    """Labels of half-open bins ``[a, b)``; the last bin is closed when its edge is finite."""
    labels = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        closing = "]" if i == len(edges) - 2 and not math.isinf(hi) else ")"
        labels.append(f"[{_edge_text(lo)}, {_edge_text(hi)}{closing}")
    return labels


def _binned(series: pd.Series, edges: list[float], attr: str, source: str) -> Grouping:
    edges = [float(e) for e in edges]
    if len(edges) < 2 or any(b <= a for a, b in zip(edges[:-1], edges[1:])):
        raise UserError(f"bins for {attr!r} must be at least two increasing edges, got {edges}")
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    not_numeric = series.notna().to_numpy() & np.isnan(values)
    if not_numeric.any():
        raise UserError(
            f"{source}: column {attr!r} has bins declared but non-numeric values, "
            f"e.g. {series[not_numeric].iloc[0]!r} (row {series.index[not_numeric][0]})"
        )
    # right=False gives [a, b); np.searchsorted implements it without pandas' Interval objects.
    codes = np.searchsorted(edges, values, side="right") - 1
    last_closed = values == edges[-1]
    codes[last_closed] = len(edges) - 2
    outside = ~np.isnan(values) & ((codes < 0) | (codes > len(edges) - 2))
    codes[np.isnan(values) | outside] = -1
    notes = []
    if outside.any():
        notes.append(
            f"{int(outside.sum())} row(s) with {attr} outside the bins {edges} left out of {attr}"
        )
    return Grouping(attr, bin_labels(edges), codes.astype(np.int64), notes)


def _categorical(series: pd.Series, attr: str) -> Grouping:
    try:
        codes, uniques = pd.factorize(series, sort=True)
        keys = [_value_key(u) for u in uniques]
    except TypeError:  # values of several types (e.g. 1 and "x"): order them by their names
        codes, uniques = pd.factorize(series)
        names = [_value_key(u) for u in uniques]
        order = sorted(range(len(names)), key=names.__getitem__)
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
        keys = [names[i] for i in order]
    return Grouping(attr, keys, codes.astype(np.int64))


def attribute_grouping(
    df: pd.DataFrame, attr: str, bins: dict[str, list[float]] | None = None,
    source: str = "<data>",
) -> Grouping:
    """The groups of column ``attr`` of ``df`` (rules in the module docstring)."""
    series = df[attr]
    if bins and attr in bins:
        grouping = _binned(series, bins[attr], attr, source)
    else:
        grouping = _categorical(series, attr)
    if len(set(grouping.keys)) != len(grouping.keys):
        raise UserError(f"{source}: values of {attr!r} collide when written as strings: "
                        f"{grouping.keys}")
    n_na = int(series.isna().sum())
    if n_na:
        grouping.notes.append(f"{n_na} row(s) with missing {attr} left out of {attr}'s groups")
    return grouping


def intersect(a: Grouping, b: Grouping) -> Grouping:
    """The ``a&b`` grouping; only combinations present in the rows become groups."""
    valid = (a.codes >= 0) & (b.codes >= 0)
    joint = np.where(valid, a.codes * len(b.keys) + b.codes, -1)
    present = np.unique(joint[valid])
    codes = np.full(len(joint), -1, dtype=np.int64)
    codes[valid] = np.searchsorted(present, joint[valid])
    keys = [
        f"{a.keys[j // len(b.keys)]}{INTERSECTION_SEP}{b.keys[j % len(b.keys)]}" for j in present
    ]
    # The attribute's name is the one its folders carry (layout.intersection_name).
    return Grouping(intersection_name(a.name, b.name), keys, codes)


def parts_grouping(df: pd.DataFrame, parts: list[str], source: str = "<data>") -> Grouping:
    """One attribute's grouping, or the intersection of several (a row missing any part is
    missing): the grouping an evaluation of ``parts`` reports under the joined name."""
    grouping = attribute_grouping(df, parts[0], None, source)
    for part in parts[1:]:
        grouping = intersect(grouping, attribute_grouping(df, part, None, source))
    return grouping


def build_groupings(
    df: pd.DataFrame,
    attributes: list[str],
    *,
    intersect_pairs: bool,
    bins: dict[str, list[float]] | None,
    source: str,
    intersect_order: int = 2,
) -> list[Grouping]:
    """One grouping per attribute, then (with ``intersect_pairs``) one per combination of 2 to
    ``intersect_order`` attributes (2: the pairs only), in ``itertools.combinations`` order, so
    the pairs keep their names and places and a k-way one is named ``a__x__b__x__c``."""
    if not attributes:
        raise UserError("give at least one attribute to evaluate (--attr COL)")
    if len(set(attributes)) != len(attributes):
        raise UserError(f"attribute listed twice: {attributes}")
    out = [attribute_grouping(df, a, bins, source) for a in attributes]
    if intersect_pairs:
        if len(attributes) < 2:
            raise UserError("--intersect needs at least two --attr columns")
        if not 2 <= intersect_order <= len(attributes):
            raise UserError(f"--intersect-order must be between 2 and the number of attributes "
                            f"({len(attributes)}), got {intersect_order}")
        single = out[: len(attributes)]
        for k in range(2, intersect_order + 1):
            for combo in combinations(single, k):
                joint = combo[0]
                for part in combo[1:]:
                    joint = intersect(joint, part)
                out.append(joint)
    return out


def finest_cells(groupings: list[Grouping]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The joint partition of the rows by every grouping (missing counts as its own level).

    Returns per-row cell codes and, for each grouping, the group code of every cell (-1 missing).
    Sums over cells give every coarser grouping's sums, which is what keeps the bootstrap to one
    pass over the rows per resample block.
    """
    stacked = np.stack([g.codes for g in groupings], axis=1)
    cells, cell_of_row = np.unique(stacked, axis=0, return_inverse=True)
    return cell_of_row.reshape(-1).astype(np.int64), [cells[:, j] for j in range(len(groupings))]
