"""Can a model trained on one dataset be evaluated on another, or two datasets be pooled?

Each dataset card declares its label as a shared concept (``label_concept: no_finding``) and maps
shared attribute concepts to its own columns (``attribute_map: {race: race_binary}``; a card
without a map uses its attribute names as concepts). Two datasets are compatible when their label
concepts agree, their images have the same kind (2D/3D) and channel count, and every attribute
asked for maps to a column of the other dataset that the config lists. Everything here runs on the
config alone, before any job is planned, and a mismatch is a ``UserError`` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fairmedia.data.cards import load_card
from fairmedia.errors import UserError

SOURCE_COLUMN = "source"  # the aggregate's column naming each row's member dataset
PAIR_SEPARATOR = "->"  # in messages only; folders use layout.pair_name


@dataclass(frozen=True)
class DatasetTraits:
    """What compatibility depends on, for a config dataset key (a card or an aggregate)."""

    key: str
    label_concept: str
    kind: str  # image2d | volume3d
    channels: int | None
    concept_to_column: dict[str, str]
    listed: tuple[str, ...]  # the attributes the config lists for this key

    def column(self, concept: str) -> str | None:
        return self.concept_to_column.get(concept)

    def concept(self, column: str) -> str | None:
        for concept, col in self.concept_to_column.items():
            if col == column:
                return concept
        return None


def is_merged_aggregate(entry: dict[str, Any]) -> bool:
    """A ``datasets:`` entry that the workflow made from an ``aggregate:`` entry."""
    return "aggregate" in entry


def card_attribute_map(card: dict[str, Any]) -> dict[str, str]:
    """Concept → column; the card's own attribute names when it declares no ``attribute_map``."""
    mapping = card.get("attribute_map")
    if mapping is None:
        attrs = card.get("attributes") or []
        return {str(a): str(a) for a in (attrs if isinstance(attrs, list) else list(attrs))}
    if not isinstance(mapping, dict):
        raise UserError(f"dataset card {card.get('name')!r}: attribute_map must be a mapping "
                        f"concept: column, got {mapping!r}")
    return {str(k): str(v) for k, v in mapping.items()}


def card_label_concept(card: dict[str, Any]) -> str:
    concept = card.get("label_concept")
    if not concept:
        raise UserError(f"dataset card {card.get('name')!r} declares no label_concept, so it cannot "
                        "be compared with another dataset; add one to datasets/<name>.yaml")
    return str(concept)


def _entry_kind(entry: dict[str, Any], card: dict[str, Any]) -> str:
    if entry.get("card") == "synthetic":  # the synthetic card covers both; the dims option decides
        return "volume3d" if int((entry.get("options") or {}).get("dims", 2)) == 3 else "image2d"
    return str(card.get("kind", "image2d"))


def card_traits(key: str, entry: dict[str, Any]) -> DatasetTraits:
    card = load_card(entry["card"])
    channels = (card.get("image") or {}).get("channels")
    return DatasetTraits(
        key=key, label_concept=card_label_concept(card), kind=_entry_kind(entry, card),
        channels=int(channels) if channels is not None else None,
        concept_to_column=card_attribute_map(card), listed=tuple(entry.get("attributes", [])),
    )


def _member_traits(config: dict[str, Any], name: str, member: str) -> DatasetTraits:
    datasets = config.get("datasets", {})
    if member in (config.get("aggregate") or {}):
        raise UserError(f"config aggregate.{name}.datasets: {member!r} is an aggregate itself; "
                        "list its member datasets instead")
    if member not in datasets:
        raise UserError(f"config aggregate.{name}.datasets: {member!r} is not a key of datasets:; "
                        f"valid: {', '.join(datasets)}")
    return card_traits(member, datasets[member])


def aggregate_traits(config: dict[str, Any], name: str) -> DatasetTraits:
    """Traits of an aggregate, after checking that its members can be pooled.

    Its attributes are concepts shared by every member (plus ``source``); its columns are named
    after the concepts, so its own map is the identity.
    """
    spec = config["aggregate"][name]
    if name in config.get("datasets", {}) and not is_merged_aggregate(config["datasets"][name]):
        raise UserError(f"config aggregate.{name}: the name is already a key of datasets:; "
                        "an aggregate needs a name of its own")
    members = [_member_traits(config, name, m) for m in spec["datasets"]]
    if len(members) < 2:
        raise UserError(f"config aggregate.{name}.datasets: pool at least two datasets")
    first = members[0]
    for other in members[1:]:
        _check_same_data(first, other, f"config aggregate.{name}")
    concepts = [a for a in spec["attributes"] if a != SOURCE_COLUMN]
    for concept in concepts:
        for m in members:
            _column_for(m, concept, f"config aggregate.{name}.attributes")
    return DatasetTraits(
        key=name, label_concept=first.label_concept, kind=first.kind,
        channels=first.channels, concept_to_column={c: c for c in concepts},
        listed=tuple(spec["attributes"]),
    )


def member_columns(config: dict[str, Any], name: str) -> dict[str, dict[str, str]]:
    """For each member of aggregate ``name``: its column for each of the aggregate's concepts."""
    spec = config["aggregate"][name]
    concepts = [a for a in spec["attributes"] if a != SOURCE_COLUMN]
    out = {}
    for member in spec["datasets"]:
        traits = _member_traits(config, name, member)
        out[member] = {c: _column_for(traits, c, f"config aggregate.{name}.attributes")
                       for c in concepts}
    return out


def dataset_traits(config: dict[str, Any], key: str, where: str) -> DatasetTraits:
    datasets, aggregates = config.get("datasets", {}), config.get("aggregate") or {}
    if key in aggregates:
        return aggregate_traits(config, key)
    if key in datasets:
        return card_traits(key, datasets[key])
    raise UserError(f"{where}: {key!r} is neither a key of datasets: nor of aggregate:; valid: "
                    f"{', '.join([*datasets, *aggregates])}")


def _check_same_data(a: DatasetTraits, b: DatasetTraits, where: str) -> None:
    if a.label_concept != b.label_concept:
        raise UserError(f"{where}: label mismatch — {a.key!r} predicts {a.label_concept!r} but "
                        f"{b.key!r} predicts {b.label_concept!r} (label_concept in their cards)")
    if a.kind != b.kind:
        raise UserError(f"{where}: image kind mismatch — {a.key!r} is {a.kind}, {b.key!r} is {b.kind}")
    if a.channels is not None and b.channels is not None and a.channels != b.channels:
        raise UserError(f"{where}: channel mismatch — {a.key!r} has {a.channels}-channel images, "
                        f"{b.key!r} has {b.channels}")


def _column_for(traits: DatasetTraits, concept: str, where: str) -> str:
    column = traits.column(concept)
    if column is None:
        raise UserError(f"{where}: attribute {concept!r} has no counterpart in {traits.key!r} "
                        f"(its card maps {sorted(traits.concept_to_column)})")
    if column not in traits.listed:
        raise UserError(f"{where}: attribute {concept!r} is {traits.key!r}'s column {column!r}, "
                        f"which is not among its configured attributes {list(traits.listed)}")
    return column


def transfer_attribute_map(config: dict[str, Any], source: str, target: str,
                           attributes: list[str] | None = None, where: str = "config transfer"
                           ) -> dict[str, str]:
    """Source column → target column for each attribute evaluated in the direction source→target.

    ``attributes`` (source columns) defaults to the attributes the config lists for ``source``.
    """
    if source == target:
        raise UserError(f"{where}: {source!r} is both source and target")
    src = dataset_traits(config, source, where)
    tgt = dataset_traits(config, target, where)
    _check_same_data(src, tgt, f"{where} {source}{PAIR_SEPARATOR}{target}")
    # An aggregate's `source` column has no counterpart in a single dataset, so it is not a default.
    wanted = list(attributes) if attributes else [a for a in src.listed if a != SOURCE_COLUMN]
    mapping = {}
    for column in wanted:
        if column not in src.listed:
            raise UserError(f"{where} {source}{PAIR_SEPARATOR}{target}: attribute {column!r} is "
                            f"not among {source!r}'s configured attributes {list(src.listed)}")
        concept = src.concept(column)
        if concept is None:
            raise UserError(f"{where} {source}{PAIR_SEPARATOR}{target}: {source!r}'s attribute "
                            f"{column!r} maps to no shared concept (its card maps "
                            f"{src.concept_to_column}); list the attributes to transfer with "
                            "`attributes:`")
        mapping[column] = _column_for(tgt, concept,
                                      f"{where} {source}{PAIR_SEPARATOR}{target}")
    return mapping


def check_config(config: dict[str, Any]) -> None:
    """Every aggregate can be pooled and every transfer pair is compatible (or a UserError)."""
    keys = [*config.get("datasets", {}), *(config.get("aggregate") or {})]
    for key in keys:
        if PAIR_SEPARATOR in key:
            raise UserError(f"config: dataset key {key!r} contains {PAIR_SEPARATOR!r}, which "
                            "separates source and target in results/transfer/")
    for name in config.get("aggregate") or {}:
        aggregate_traits(config, name)
    for i, entry in enumerate(config.get("transfer") or []):
        for target in entry["targets"]:
            transfer_attribute_map(config, entry["source"], target, entry.get("attributes"),
                                   where=f"config transfer[{i}]")
