"""Sensitive-attribute rules shared by the adapters, driven by each card's ``attribute_rules``.

The published groupings (MEDFAIR, Zong et al., ICLR 2023) are the defaults: sex; age > 60 as a
binary split plus five 20-year bins; race as White vs non-White; Fitzpatrick skin types 1–3 vs
4–6 and all six. Unknown values never merge silently into a real group: they become the group
``unknown``, or the row is dropped when the card says ``unknown: drop`` (the manifest records how
many rows each rule dropped).

A rule is ``{kind, column, unknown, ...}`` with ``kind`` one of ``sex``, ``age``, ``race``,
``skin_type``, ``category``; ``column`` names the adapter's raw column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from fairmedia.errors import UserError

UNKNOWN = "unknown"
DEFAULT_AGE_THRESHOLD = 60  # MEDFAIR: age > 60 vs the rest
DEFAULT_AGE_BINS = (0, 20, 40, 60, 80)  # MEDFAIR's five bins: [0,20) … [80, ∞)


def parse_numbers(values: pd.Series, source: str, column: str) -> pd.Series:
    """Numbers, with blanks as NaN; any other unparseable entry is an error naming row and value."""
    parsed = pd.to_numeric(values, errors="coerce")
    blank = values.isna() | (values.astype(str).str.strip() == "")
    bad = parsed.isna() & ~blank
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise UserError(
            f"{source}: row {pos + 1} of column {column!r} holds {values.iloc[pos]!r}; "
            f"expected a number or a blank ({int(bad.sum())} such row(s))"
        )
    return parsed.astype(float)


def _check_unknown_policy(rule: dict[str, Any], name: str) -> str:
    policy = rule.get("unknown", "keep")
    if policy not in ("keep", "drop"):
        raise UserError(f"attribute rule {name!r}: unknown must be keep or drop, got {policy!r}")
    return policy


def _lookup(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Case-insensitive exact lookup; anything unmapped (or missing) is ``unknown``."""
    folded = {str(k).strip().casefold(): str(v) for k, v in mapping.items()}
    keys = values.astype("string").str.strip().str.casefold()
    return keys.map(folded).fillna(UNKNOWN).astype(object)


def sex_rule(raw: pd.Series, rule: dict[str, Any]) -> dict[str, pd.Series]:
    mapping = rule.get("map", {"M": "M", "F": "F", "Male": "M", "Female": "F"})
    return {rule.get("output", "sex"): _lookup(raw, mapping)}


def age_rule(raw: pd.Series, rule: dict[str, Any], source: str) -> dict[str, pd.Series]:
    age = parse_numbers(raw, source, rule.get("column", "age"))
    for missing in rule.get("missing_values", []):
        age = age.mask(age == float(missing))
    lo, hi = rule.get("valid_range", (0, 120))
    age = age.mask((age < lo) | (age > hi))
    threshold = float(rule.get("threshold", DEFAULT_AGE_THRESHOLD))
    t = int(threshold)
    binary = pd.Series(np.where(age > threshold, f"{t + 1}+", f"0-{t}"), index=age.index, dtype=object)
    edges = list(rule.get("bins", DEFAULT_AGE_BINS))
    labels = [f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:])] + [f"{edges[-1]}+"]
    binned = pd.cut(age, [*edges, np.inf], right=False, labels=labels).astype(object)
    missing_age = age.isna()
    binary[missing_age] = UNKNOWN
    binned[missing_age] = UNKNOWN
    return {"age": age, rule.get("output", "age_group"): binary, rule.get("output_bins", "age_5"): binned}


def race_rule(raw: pd.Series, rule: dict[str, Any]) -> dict[str, pd.Series]:
    """``race`` keeps the source's value; ``race_group`` maps it by prefix to the card's groups;
    ``race_binary`` is White vs non-White. Values in ``unknown_values`` (declined, unable to
    obtain, blank) stay ``unknown`` in both."""
    text = raw.astype("string").str.strip()
    folded = text.str.casefold()
    unknown_values = {str(v).casefold() for v in rule.get("unknown_values", [])}
    is_unknown = folded.isna() | (folded == "") | folded.isin(unknown_values)
    group = pd.Series(rule.get("other_group", "Other"), index=raw.index, dtype=object)
    # Longest prefix first, so "WHITE - OTHER EUROPEAN" and "WHITE" both land in White.
    prefixes = [(str(p).casefold(), g) for g, ps in rule.get("groups", {}).items() for p in ps]
    assigned = pd.Series(False, index=raw.index)
    for prefix, g in sorted(prefixes, key=lambda pg: -len(pg[0])):
        hit = folded.str.startswith(prefix).fillna(False).astype(bool) & ~assigned
        group[hit] = g
        assigned |= hit
    group[is_unknown] = UNKNOWN
    majority = rule.get("majority_group", "White")
    binary = pd.Series(np.where(group == majority, majority, f"non-{majority}"), index=raw.index,
                       dtype=object)
    binary[is_unknown] = UNKNOWN
    return {
        "race": text.fillna(UNKNOWN).astype(object),
        rule.get("output", "race_group"): group,
        rule.get("output_binary", "race_binary"): binary,
    }


def skin_type_rule(raw: pd.Series, rule: dict[str, Any], source: str) -> dict[str, pd.Series]:
    """Fitzpatrick type 1–6 kept as ``skin_type``; ``skin_type_group`` from the card's ``groups``
    (default 1–3 vs 4–6). Values outside 1–6 (Fitzpatrick17k's −1) are unknown."""
    value = parse_numbers(raw, source, rule.get("column", "skin_type"))
    value = value.where(value.isin(list(range(1, 7))))
    groups = rule.get("groups", {"1-3": [1, 2, 3], "4-6": [4, 5, 6]})
    lookup = {float(v): g for g, vs in groups.items() for v in vs}
    six = value.map(lambda v: UNKNOWN if pd.isna(v) else str(int(v))).astype(object)
    grouped = value.map(lookup).fillna(UNKNOWN).astype(object)
    return {"skin_type": six, rule.get("output", "skin_type_group"): grouped}


def category_rule(raw: pd.Series, rule: dict[str, Any]) -> dict[str, pd.Series]:
    """A plain mapping from source values to groups (e.g. DDI's 12/34/56 skin-tone codes)."""
    return {rule["output"]: _lookup(raw, rule["map"])}


def apply_attribute_rules(
    table: pd.DataFrame, rules: dict[str, dict[str, Any]], source: str
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Add the grouped columns named by ``rules``; drop rows whose attribute is unknown where a
    rule says so. Returns the new table and the number of rows each rule dropped."""
    out = table.copy()
    keep = pd.Series(True, index=table.index)
    dropped: dict[str, int] = {}
    for name, rule in rules.items():
        kind, column = rule.get("kind"), rule.get("column")
        if column not in table.columns:
            raise UserError(f"{source}: attribute rule {name!r} needs column {column!r}, which is missing")
        raw = table[column]
        if kind == "sex":
            cols = sex_rule(raw, rule)
        elif kind == "age":
            cols = age_rule(raw, rule, source)
        elif kind == "race":
            cols = race_rule(raw, rule)
        elif kind == "skin_type":
            cols = skin_type_rule(raw, rule, source)
        elif kind == "category":
            cols = category_rule(raw, rule)
        else:
            raise UserError(
                f"attribute rule {name!r}: kind {kind!r} is not sex, age, race, skin_type or category"
            )
        for col, values in cols.items():
            out[col] = values
        if _check_unknown_policy(rule, name) == "drop":
            unknown = pd.concat([v.astype(object) == UNKNOWN for v in cols.values()], axis=1).any(axis=1)
            unknown &= keep
            dropped[name] = int(unknown.sum())
            keep &= ~unknown
    return out[keep].reset_index(drop=True), dropped
