"""What a semi-synthetic bias injection is allowed to say, checked before any data is read.

An injection derives a prepared dataset from another one by changing its train/val rows only
(Jones et al., MICCAI 2023, "The role of subgroup separability in group-fair medical image
classification": under-diagnosis injected into one group's training labels, evaluated on clean
test labels). A spec is ``{"seed": int, "changes": [change, ...]}``; each change is
``{kind, attribute, group, fraction, splits}``:

- ``underdiagnosis``: relabel ``fraction`` of the group's positives as negative,
- ``subsample``: keep ``fraction`` of the group's rows (the others are dropped),
- ``subsample_positives``: keep ``fraction`` of the group's positive rows.

The same checks serve the workflow config (``inject:`` section, at ``snakemake -n`` time) and
``fairmedia inject --spec`` (``where`` names the field in each message). This module imports
nothing heavy: planning must stay fast.
"""

from __future__ import annotations

from typing import Any

from fairmedia.errors import UserError

KINDS = {
    "underdiagnosis": "relabel this share of the group's positives as 0",
    "subsample": "keep this share of the group's rows",
    "subsample_positives": "keep this share of the group's positive rows",
}
EDITABLE_SPLITS = ("train", "val")  # test labels and rows are never touched
CHANGE_FIELDS = ("kind", "attribute", "group", "fraction", "splits")


def _check_change(change: Any, where: str, groups: dict[str, list[str] | None]) -> dict[str, Any]:
    if not isinstance(change, dict):
        raise UserError(f"{where}: expected a mapping with {', '.join(CHANGE_FIELDS)}, "
                        f"got {change!r}")
    unknown = sorted(set(change) - set(CHANGE_FIELDS))
    if unknown:
        raise UserError(f"{where}: unknown field(s) {unknown}; valid: {', '.join(CHANGE_FIELDS)}")
    kind = change.get("kind")
    if kind not in KINDS:
        raise UserError(f"{where}.kind: unknown kind {kind!r}; valid: {', '.join(KINDS)}")
    attribute = change.get("attribute")
    if attribute not in groups:
        raise UserError(f"{where}.attribute: {attribute!r} is not an attribute of the base "
                        f"dataset; its attributes: {list(groups)}")
    group = change.get("group")
    if not isinstance(group, str | int) or isinstance(group, bool):
        raise UserError(f"{where}.group: expected a group value of {attribute!r}, got {group!r}")
    declared = groups[attribute]
    if declared is not None and str(group) not in declared:
        raise UserError(f"{where}.group: {group!r} is not a group of {attribute!r}; "
                        f"declared groups: {declared}")
    fraction = change.get("fraction")
    if (isinstance(fraction, bool) or not isinstance(fraction, int | float)
            or not 0 < fraction <= 1):
        raise UserError(f"{where}.fraction: expected a number in (0, 1] ({KINDS[kind]}), "
                        f"got {fraction!r}")
    splits = change.get("splits", list(EDITABLE_SPLITS))
    if isinstance(splits, str):
        splits = [splits]
    if not isinstance(splits, list) or not splits:
        raise UserError(f"{where}.splits: expected a list of train and/or val, got {splits!r}")
    if "test" in splits:
        raise UserError(f"{where}.splits: 'test' is refused; test labels and rows are never "
                        "touched, so the derived dataset is evaluated on clean labels")
    bad = [s for s in splits if s not in EDITABLE_SPLITS]
    if bad:
        raise UserError(f"{where}.splits: unknown split(s) {bad}; valid: train, val")
    return {"kind": kind, "attribute": attribute, "group": str(group), "fraction": float(fraction),
            "splits": [s for s in EDITABLE_SPLITS if s in splits]}


def check_spec(spec: Any, where: str, groups: dict[str, list[str] | None]) -> dict[str, Any]:
    """The spec, normalised (``group`` as a string, ``fraction`` a float, ``splits`` in
    train/val order); ``groups`` maps each attribute of the base to its declared group values
    (``None``: not declared, checked against the data when the injection is written)."""
    if not isinstance(spec, dict):
        raise UserError(f"{where}: expected a mapping with seed and changes, got {spec!r}")
    unknown = sorted(set(spec) - {"seed", "changes", "from", "attributes"})
    if unknown:
        raise UserError(f"{where}: unknown field(s) {unknown}; valid: from, seed, changes, "
                        "attributes")
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(f"{where}.seed: expected an integer >= 0, got {seed!r}")
    changes = spec.get("changes")
    if not isinstance(changes, list) or not changes:
        raise UserError(f"{where}.changes: expected a non-empty list of changes, got {changes!r}")
    return {"seed": seed,
            "changes": [_check_change(c, f"{where}.changes[{i}]", groups)
                        for i, c in enumerate(changes)]}


def declared_groups(card: dict[str, Any], attribute: str) -> list[str] | None:
    """The group values a card declares for ``attribute`` (``values:`` or the values of
    ``map:`` in its ``attribute_rules``); ``None`` when they follow from the data only."""
    rule = (card.get("attribute_rules") or {}).get(attribute) or {}
    if isinstance(rule.get("values"), list):
        return [str(v) for v in rule["values"]]
    if isinstance(rule.get("map"), dict):
        return sorted({str(v) for v in rule["map"].values()})
    return None
