"""Planning-time checks of a workflow config beyond its schema's shape.

Everything a job would otherwise find out after hours (or after Snakemake deleted its old outputs)
is checked here, before any job is planned: ``snakemake -n`` fails on it with one line naming the
field and what was expected. Names that become path components or reach a shell command must be
*safe names*; the schema states the same pattern so that its error comes first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from fairmedia.errors import UserError

# Letters and digits, single separators `_ . -` between them: no shell metacharacter, no `..`,
# no path separator, and never the double underscore that joins two names in a path
# (``sex__x__age_group``, ``src__to__tgt``), so such joined names parse back unambiguously.
SAFE_NAME = r"^[A-Za-z0-9]+([_.-][A-Za-z0-9]+)*$"
_SAFE = re.compile(SAFE_NAME)


def check_safe_name(value: Any, where: str) -> None:
    if not isinstance(value, str) or not _SAFE.match(value):
        raise UserError(f"config {where}: {value!r} is not a valid name; use letters, digits and "
                        "single '_', '.' or '-' between them (it becomes a folder name and a "
                        "command-line argument)")


def check_device(value: Any) -> None:
    from fairmedia.training.devices import DEVICE_PATTERN  # the shape only: no torch import

    if not isinstance(value, str) or not re.fullmatch(DEVICE_PATTERN, value):
        raise UserError(f"config train.device: {value!r} is not a device; expected cpu, auto, mps, "
                        "cuda or cuda:N")


def check_threshold(value: Any) -> None:
    from fairmedia.metrics.threshold_rules import parse_rule

    try:
        parse_rule(value)
    except UserError as err:
        raise UserError(f"config evaluation.threshold: {err}") from None


def check_privileged(config: dict[str, Any]) -> None:
    """``evaluation.privileged`` keys must be an attribute of some dataset (or an intersection
    ``A__x__B`` of attributes), so a typo fails at planning, not as a silently unused entry."""
    from fairmedia.layout import intersection_parts

    given = config.get("evaluation", {}).get("privileged", {}) or {}
    attributes = {a for d in config.get("datasets", {}).values() for a in d.get("attributes", [])}
    unknown = [k for k in given if not set(intersection_parts(k)) <= attributes]
    if unknown:
        raise UserError(f"config evaluation.privileged: {unknown} name no dataset attribute; "
                        f"attributes: {sorted(attributes)}")


def check_leaderboard_metrics(metrics: list[str]) -> None:
    from fairmedia.metrics.directions import known_metric, metric_names_help

    unknown = [m for m in metrics if not known_metric(m)]
    if unknown:
        raise UserError(f"config leaderboard.metrics: unknown metric(s) {unknown}; "
                        f"{metric_names_help()}")


def check_pretrained(value: Any) -> None:
    if value in ("none", "imagenet"):
        return
    path = Path(str(value))
    if not path.is_file():
        raise UserError(f"config train.pretrained: {value!r} is neither none, imagenet nor an "
                        "existing weights file")


def check_method_hparams(config: dict[str, Any], declared: dict[str, tuple]) -> None:
    """``method_hparams``: methods of the config, hyperparameters they declare, values of the
    declared default's type (or one of its choices). ``declared`` maps a method to its
    ``(name, default, choices)`` triples (methods/catalog.py)."""
    for method, values in (config.get("method_hparams") or {}).items():
        if method not in config["methods"]:
            raise UserError(f"config method_hparams.{method}: {method!r} is not among the config's "
                            f"methods {config['methods']}")
        spec = {name: (default, choices) for name, default, choices in declared[method]}
        unknown = sorted(set(values) - set(spec))
        if unknown:
            valid = ", ".join(spec) or "none (it declares no hyperparameters)"
            raise UserError(f"config method_hparams.{method}: unknown hyperparameter(s) {unknown}; "
                            f"valid: {valid}")
        for name, value in values.items():
            default, choices = spec[name]
            where = f"config method_hparams.{method}.{name}"
            if choices is not None and value not in choices:
                raise UserError(f"{where}: {value!r} is not one of {list(choices)}")
            if isinstance(default, bool) and not isinstance(value, bool):
                raise UserError(f"{where}: expected true or false, got {value!r}")
            if (isinstance(default, int | float) and not isinstance(default, bool)
                    and (isinstance(value, bool) or not isinstance(value, int | float))):
                raise UserError(f"{where}: expected a number like its default {default!r}, "
                                f"got {value!r}")


def check_post_base(config: dict[str, Any], categories: dict[str, str]) -> None:
    base = config.get("post_base", "erm")
    if categories.get(base) in (None, "post"):
        trained = [m for m, c in categories.items() if c != "post"]
        raise UserError(f"config post_base: {base!r} is not a trained method; post-processing runs "
                        f"start from one of: {', '.join(trained)}")
    uses_post = any(categories[m] == "post" for m in config["methods"])
    if uses_post and base not in config["methods"]:
        raise UserError(f"config post_base: {base!r} must also be in methods (its runs are the "
                        "post-processing methods' inputs)")


def synthetic_options(entry: dict[str, Any]) -> dict[str, Any]:
    """The generator knobs of a synthetic entry: its ``options``, with the entry's ``task`` as the
    ``task`` knob (an explicit ``options.task`` must agree, checked by :func:`check_task`)."""
    options = dict(entry.get("options") or {})
    if "task" in entry:
        options.setdefault("task", entry["task"])
    return options


def check_synthetic_entry(key: str, entry: dict[str, Any]) -> None:
    from fairmedia.data.synthetic import spec_from_preset

    try:
        spec_from_preset(entry.get("preset", "mixed"), **synthetic_options(entry))
    except UserError as err:
        raise UserError(f"config datasets.{key}: {err}") from None
    except (TypeError, ValueError) as err:
        raise UserError(f"config datasets.{key}.options: {err}") from None


def dataset_task(entry: dict[str, Any], card: dict[str, Any]) -> str:
    """``classification`` or ``segmentation``: what the prepared dataset of this config entry
    will be (a synthetic entry: its preset and knobs; a real one: its card's ``task``)."""
    if card.get("name") == "synthetic":
        from fairmedia.data.synthetic import spec_from_preset

        return spec_from_preset(entry.get("preset", "mixed"), **synthetic_options(entry)).task
    return str(card.get("task", "classification"))


def check_task(key: str, entry: dict[str, Any], card: dict[str, Any]) -> None:
    """The entry's ``task`` (if given) is a known one and is what its data will be."""
    from fairmedia.data.masks import TASKS

    if "task" not in entry:
        return
    if entry["task"] not in TASKS:
        raise UserError(f"config datasets.{key}.task: {entry['task']!r} is not one of "
                        f"{', '.join(TASKS)}")
    actual = dataset_task(entry, card)
    if actual != entry["task"]:
        where = ("its options.task or preset" if card.get("name") == "synthetic"
                 else f"card {card.get('name')!r} (datasets/{card.get('name')}.yaml, key task)")
        raise UserError(f"config datasets.{key}.task: {entry['task']!r}, but {where} makes a "
                        f"{actual} dataset")


def check_real_root(key: str, entry: dict[str, Any], card: dict[str, Any]) -> None:
    """The root exists and holds every file the card requires (nothing else is read)."""
    root = Path(entry["root"])
    if not root.is_dir():
        raise UserError(f"config datasets.{key}.root: {str(root)!r} is not a folder; point it at "
                        f"your local copy of {card['name']} (datasets/{card['name']}.yaml says "
                        "what it must hold)")
    from fairmedia.data.adapters._common import locate

    for name in card.get("files") or {}:
        try:
            locate(root, card, name)
        except UserError as err:
            raise UserError(f"config datasets.{key}.root: {err}") from None


def check_injections(config: dict[str, Any]) -> None:
    """``inject:`` entries (derived datasets, data/injection_spec.py): a name of their own, a base
    that is a card's dataset of ``datasets:``, and changes naming the base's attributes and
    their declared groups; fractions in (0, 1]; train/val splits only."""
    from fairmedia.data.cards import load_card
    from fairmedia.data.injection_spec import check_spec, declared_groups

    datasets, injections = config.get("datasets", {}), config.get("inject") or {}
    taken = {**datasets, **(config.get("aggregate") or {})}
    for name in injections:
        check_safe_name(name, f"inject: key {name!r}")
        if name in taken:
            raise UserError(f"config inject.{name}: the name is already a key of datasets: or "
                            "aggregate:; a derived dataset needs a name of its own")
    for name, spec in injections.items():
        where = f"config inject.{name}"
        base = spec.get("from") if isinstance(spec, dict) else None
        if base in injections:
            raise UserError(f"{where}.from: {base!r} is itself an inject: entry; derive from its "
                            "base and list all changes in one entry")
        if base not in datasets:
            raise UserError(f"{where}.from: {base!r} is not a key of datasets:; valid: "
                            f"{', '.join(datasets) or '(none)'}")
        card = load_card(datasets[base]["card"])
        attrs = list(datasets[base].get("attributes", []))
        check_spec(spec, where, {a: declared_groups(card, a) for a in attrs})
        chosen = spec.get("attributes") or attrs
        bad = [a for a in chosen if a not in attrs]
        if bad:
            raise UserError(f"{where}.attributes: {bad} are not attributes of {base!r}: {attrs}")


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML whose mappings refuse a key given twice (plain YAML keeps the last silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise UserError(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice in "
                            f"one mapping (first on line {seen[key]}); YAML would silently keep "
                            "the last one")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def check_duplicate_keys(path: str | Path) -> Any:
    """The file's YAML; a key named twice in one mapping is an error naming the key and both lines."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except UserError as err:
        raise UserError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML: {err}") from None


# The workflow's schema is not package data: the only command that needs it, ``reproduce``, runs
# the repository's Snakefile as well, so it needs a clone of the repository in any case.
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def validate_config_file(path: str | Path) -> dict[str, Any]:
    """Load a workflow config exactly as the workflow checks it: duplicate keys refused, the
    schema applied (with its defaults), then every planning-time check. ``fairmedia reproduce``
    runs this on a published config before anything of it reaches Snakemake."""
    from fairmedia import grid
    from fairmedia.config_schema import validate_schema

    if not SCHEMA.is_file():
        raise UserError(f"{SCHEMA} not found: checking a workflow config needs a clone of the "
                        "repository (its Snakefile and workflow/schemas/), not only the installed "
                        "package; clone it and run `pip install -e .` there")
    config = check_duplicate_keys(path)
    if not isinstance(config, dict):
        raise UserError(f"{path}: expected a mapping of config keys")
    try:
        validate_schema(config, SCHEMA)
    except UserError as err:
        raise UserError(f"{path}: does not match the config schema:\n{err}") from None
    try:
        grid.check_config(config)
    except UserError as err:
        raise UserError(f"{path}: {err}") from None
    return config
