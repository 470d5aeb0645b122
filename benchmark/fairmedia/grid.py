"""The experiment grid: a validated workflow config expanded into runs, evaluations and tables.

The Snakefile stays thin by asking this module what to build; the same code is unit-tested, and
answers a name check with the list of valid names before any job starts.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import Field, dataclass
from typing import Any

from fairmedia import config_checks, layout
from fairmedia.data.cards import available_datasets, load_card
from fairmedia.errors import UserError
from fairmedia.methods.catalog import MethodFacts, method_catalog
from fairmedia.models.catalog import arch_names
from fairmedia.training.config import Option, default_of, train_options, workflow_defaults

TRAIN_RESOURCE_DEFAULTS = {"gpu": 1, "cpus": 2, "mem_mb": 8000, "runtime": 120}


def _methods() -> dict[str, MethodFacts]:
    # Read from the method files' source, not imported: planning must not pay torch's import.
    return method_catalog()


def check_config(config: dict[str, Any]) -> None:
    """Every check that needs no job: names (unknown dataset cards, methods and architectures are
    errors listing the valid names), values that reach a command, roots and synthetic options.
    A typo fails ``snakemake -n`` here, before a rule could delete the outputs it would redo."""
    cards = available_datasets()
    for key, entry in config.get("datasets", {}).items():
        config_checks.check_safe_name(key, f"datasets: key {key!r}")
        if entry.get("card") not in cards:
            raise UserError(f"config datasets.{key}.card: unknown dataset {entry.get('card')!r}; "
                            f"valid: {', '.join(cards)}")
        for attr in entry.get("attributes", []):
            config_checks.check_safe_name(attr, f"datasets.{key}.attributes")
        card = load_card(entry["card"])
        if entry["card"] == "synthetic":
            config_checks.check_synthetic_entry(key, entry)
            config_checks.check_task(key, entry, card)
        else:
            if "root" not in entry:
                raise UserError(f"config datasets.{key}: a real dataset needs `root:` (its local copy)")
            for field in ("preset", "options"):
                if field in entry:
                    raise UserError(f"config datasets.{key}.{field}: only the synthetic card takes "
                                    f"`{field}`; {entry['card']!r} is a real dataset")
            config_checks.check_task(key, entry, card)  # before the root: a typo needs no data
            config_checks.check_real_root(key, entry, card)
        declared = card.get("attributes", [])
        declared = list(declared) if isinstance(declared, list | dict) else []
        bad = [a for a in entry.get("attributes", []) if declared and a not in declared]
        if bad:
            raise UserError(f"config datasets.{key}.attributes: {bad} not in card {entry['card']!r}; "
                            f"its attributes: {declared}")
    for key in config.get("aggregate") or {}:
        config_checks.check_safe_name(key, f"aggregate: key {key!r}")
    config_checks.check_injections(config)
    methods = _methods()
    unknown = [m for m in config.get("methods", []) if m not in methods]
    if unknown:
        raise UserError(f"config methods: unknown method(s) {unknown}; valid: {', '.join(methods)}")
    archs = arch_names()
    unknown = [a for a in config.get("archs", []) if a not in archs]
    if unknown:
        raise UserError(f"config archs: unknown architecture(s) {unknown}; valid: {', '.join(archs)}")
    baseline = config.get("baseline", "erm")
    if baseline not in config.get("methods", []):
        raise UserError(f"config methods must include the baseline {baseline!r}")
    config_checks.check_post_base(config, {n: f.category for n, f in methods.items()})
    config_checks.check_method_hparams(config, {n: f.hparams for n, f in methods.items()})
    train = config.get("train", {})
    config_checks.check_device(train.get("device", "cpu"))
    config_checks.check_pretrained(train.get("pretrained", "none"))
    config_checks.check_threshold(config.get("evaluation", {}).get("threshold", "youden"))
    config_checks.check_privileged(config)
    config_checks.check_leaderboard_metrics(config.get("leaderboard", {}).get("metrics", []))
    from fairmedia.data.compat import check_config as check_transfers  # pairs and aggregates
    from fairmedia.diagnostics.plan import check_diagnostics

    check_transfers(_with_injections(config))  # a derived dataset can be a transfer end too
    check_diagnostics(config)


VARIANT_SEP = "@hp"  # `groupdro@hp3`: the 4th sampled hyperparameter configuration of groupdro


def base_method(name: str) -> str:
    return name.split(VARIANT_SEP, 1)[0]


def method_variants(config: dict[str, Any], method: str) -> list[str]:
    """``[method]`` with default hyperparameters; with ``hparams: {random: N}`` the N sampled
    configurations of a method that declares hyperparameters. Samples depend only on
    (method, hyperparameter, k), never on the training seed (methods/registry.resolve_hparams)."""
    search = config.get("hparams", "default")
    if search == "default" or not _methods()[method].has_hparams:
        return [method]
    return [f"{method}{VARIANT_SEP}{k}" for k in range(int(search["random"]))]


def is_post(method: str) -> bool:
    return _methods()[base_method(method)].category == "post"


def uses_attribute(method: str) -> bool:
    cls = _methods()[base_method(method)]
    return bool(cls.uses_attribute) or cls.category == "post"


def hparam_args(config: dict[str, Any], method: str) -> list[str]:
    """``--hparam-sample k`` for a variant, then the config's fixed overrides for the method."""
    args = []
    if VARIANT_SEP in method:
        args.append(f"--hparam-sample {int(method.split(VARIANT_SEP, 1)[1])}")
    for key, value in sorted(config.get("method_hparams", {}).get(base_method(method), {}).items()):
        args.append(f"--hparam {shlex.quote(f'{key}={value}')}")
    return args


@dataclass(frozen=True)
class Run:
    dataset: str
    arch: str
    method: str
    attribute: str  # "any" for attribute-free methods
    seed: int

    @property
    def path(self) -> str:
        return layout.run_dir(self.dataset, self.arch, self.method, self.attribute, self.seed)


def runs(config: dict[str, Any]) -> list[Run]:
    out = []
    for dataset, entry in config["datasets"].items():
        for arch in config["archs"]:
            for method in (v for m in config["methods"] for v in method_variants(config, m)):
                attrs = entry["attributes"] if uses_attribute(method) else ["any"]
                for attr in attrs:
                    for seed in config["seeds"]:
                        out.append(Run(dataset, arch, method, attr, seed))
    return out


def eval_attributes(config: dict[str, Any], run: Run) -> list[str]:
    """Attribute-free runs are evaluated on every attribute of their dataset; others on their own.
    With ``evaluation.intersect`` and two or more attributes, the first two are also crossed; with
    ``evaluation.intersect_order`` k > 2 also the first 3, ..., k (``a__x__b__x__c``; its
    metrics.json holds every 2..k-way intersection of its parts)."""
    attrs = config["datasets"][run.dataset]["attributes"]
    chosen = list(attrs) if run.attribute == "any" else [run.attribute]
    ev = config.get("evaluation", {})
    if ev.get("intersect"):
        for k in range(2, min(int(ev.get("intersect_order", 2)), len(attrs)) + 1):
            chosen.append(layout.intersection_name(*attrs[:k]))
    return chosen


def metrics_targets(config: dict[str, Any], selection: str) -> list[str]:
    return [f"{layout.eval_dir(r.path, a, selection)}/{layout.METRICS}"
            for r in runs(config) for a in eval_attributes(config, r)]


def train_resources(config: dict[str, Any], dataset: str, arch: str) -> dict[str, int]:
    spec = dict(config.get("resources", {}).get("train", {}))
    overrides = spec.pop("overrides", {}) or {}
    res = {**TRAIN_RESOURCE_DEFAULTS, **spec}
    for key in (dataset, arch):
        res.update(overrides.get(key, {}))
    return res


def _train_values(config: dict[str, Any]) -> list[tuple[Field, Option, Any]]:
    """(field, option, value) of every TrainConfig field that is a key of the config's `train:`
    section, in declaration order; a missing key takes TrainConfig's workflow default."""
    t = config.get("train", {})
    defaults = workflow_defaults()
    return [(f, opt, t.get(f.name, defaults[f.name])) for f, opt in train_options() if opt.config]


def train_execution(config: dict[str, Any]) -> dict[str, int]:
    """Settings that change a run's speed, never its numbers: the workflow passes them as
    resources, which are no rerun trigger, so retuning them never retrains finished runs.
    Which settings, under which resource names: TrainConfig's ``Option.resource``."""
    return {opt.resource: int(bool(value)) if isinstance(default_of(f), bool) else int(value)
            for f, opt, value in _train_values(config) if opt.resource}


def train_execution_args(config: dict[str, Any]) -> str:
    """The same settings as command-line arguments (``--threads 1 --num-workers 0 ...``): the
    train rule writes them into its command text when the workflow is read, which is no rerun
    trigger either, and costs nothing per job when Snakemake plans."""
    return " ".join(f"{opt.cli_flag(f.name)} {shlex.quote(str(value))}" for f, opt, value
                    in ((f, opt, int(bool(v)) if isinstance(default_of(f), bool) else int(v))
                        for f, opt, v in _train_values(config) if opt.resource))


def evaluation_args(config: dict[str, Any], *, in_distribution: bool = False) -> str:
    """``--bootstrap B --threshold RULE --min-group-size N`` of the evaluate rules (quoted), then
    ``--target-specificity S`` and one ``--privileged ATTR=GROUP`` per entry of
    ``evaluation.privileged`` where the config sets them; for ``evaluate-run``
    (``in_distribution``) also ``--encoding-tolerance T`` when the config sets min_encoding's
    tolerance. Each is left out at its default, so existing evaluations are not rerun."""
    ev = config.get("evaluation", {})
    values = {"bootstrap": ev.get("bootstrap", 1000), "threshold": ev.get("threshold", "youden"),
              "min-group-size": ev.get("min_group_size", 20)}
    if in_distribution and ev.get("encoding_tolerance", 0.01) != 0.01:
        values["encoding-tolerance"] = float(ev["encoding_tolerance"])
    args = [f"--{k} {shlex.quote(str(v))}" for k, v in values.items()]
    if "target_specificity" in ev:
        args.append(f"--target-specificity {shlex.quote(str(ev['target_specificity']))}")
    args += [f"--privileged {shlex.quote(f'{attr}={group}')}"
             for attr, group in sorted(ev.get("privileged", {}).items())]
    return " ".join(args)


def prepare_inputs(config: dict[str, Any], dataset: str) -> list[str]:
    """The prepare rule's inputs: the base's manifest for a derived (``inject:``) dataset."""
    spec = config["datasets"].get(dataset, {}).get("inject")
    return [f"{layout.prepared_dir(spec['from'])}/{layout.MANIFEST}"] if spec else []


def prepare_command(config: dict[str, Any], dataset: str, out: str) -> str:
    entry = config["datasets"][dataset]
    if "inject" in entry:
        spec = {k: entry["inject"][k] for k in ("seed", "changes")}
        return (f"inject --prepared {shlex.quote(layout.prepared_dir(entry['inject']['from']))} "
                f"--spec {shlex.quote(json.dumps(spec, sort_keys=True))} --out {shlex.quote(out)}")
    if entry["card"] == "synthetic":
        opts = config_checks.synthetic_options(entry)
        parts = ["synth", "--preset", shlex.quote(entry.get("preset", "mixed")), "--out", shlex.quote(out)]
        for key, value in sorted(opts.items()):
            # JSON is valid YAML, which is how `fairmedia synth --set` reads values.
            parts += ["--set", shlex.quote(f"{key}={json.dumps(value)}")]
        return " ".join(map(str, parts))
    workers = int(entry.get("prepare_workers", 2))
    return (f"prepare {shlex.quote(entry['card'])} --root {shlex.quote(entry['root'])} "
            f"--out {shlex.quote(out)} --workers {workers}")


def train_args(config: dict[str, Any], method: str) -> str:
    """The ``train`` options of the config's `train:` section that change a run's numbers (the
    rule's ``params``, a rerun trigger): values first, then switches, in TrainConfig's order.

    Changing what this returns for an unchanged config retrains every finished run;
    ``tests/test_train_config.py`` pins the demo config's line."""
    values, switches = [], []
    for f, opt, value in _train_values(config):
        if opt.resource:
            continue  # speed only: a resource (train_execution)
        if isinstance(default_of(f), bool):
            # Written only when it differs from the CLI's default, so a config that leaves a
            # switch off keeps the exact command line of runs made before the switch existed.
            if bool(value) != default_of(f):
                switches.append(opt.cli_flag(f.name) + ("" if value else " 0"))
        else:
            # Every value is quoted even though the schema and check_config already constrain it.
            values.append(f"{opt.cli_flag(f.name)} {shlex.quote(str(value))}")
    return " ".join(values + switches + hparam_args(config, method))


def post_args(config: dict[str, Any], method: str) -> str:
    return " ".join(hparam_args(config, method))


# -- Out-of-distribution evaluation and aggregated datasets (docs/ood.md) ---------------------


def merge_aggregates(config: dict[str, Any]) -> None:
    """Make each ``aggregate:`` entry a ``datasets:`` key (after check_config), so runs,
    evaluations and tables treat it like any other dataset."""
    for name, spec in (config.get("aggregate") or {}).items():
        config["datasets"].setdefault(name, {"card": "aggregate", "aggregate": list(spec["datasets"]),
                                             "attributes": list(spec["attributes"])})


def merge_injections(config: dict[str, Any]) -> None:
    """Make each ``inject:`` entry a ``datasets:`` key (after check_config): the base's card and
    options (so compatibility checks see the same data), its attributes unless the entry names
    a subset, and the spec under ``inject``, which prepare_command turns into `fairmedia inject`."""
    for name, spec in (config.get("inject") or {}).items():
        base = config["datasets"][spec["from"]]
        entry = {k: v for k, v in base.items() if k in ("card", "options")}
        entry["attributes"] = list(spec.get("attributes") or base["attributes"])
        entry["inject"] = {"from": spec["from"], "seed": int(spec.get("seed", 0)),
                           "changes": list(spec["changes"])}
        config["datasets"].setdefault(name, entry)


def _with_injections(config: dict[str, Any]) -> dict[str, Any]:
    merged = {**config, "datasets": dict(config.get("datasets", {}))}
    merge_injections(merged)
    return merged


def _with_aggregates(config: dict[str, Any]) -> dict[str, Any]:
    merged = {**config, "datasets": dict(config["datasets"])}
    merge_aggregates(merged)
    return merged


def aggregate_command(config: dict[str, Any], name: str, out: str) -> str:
    spec = config["aggregate"][name]
    parts = ["aggregate", "--name", shlex.quote(name), "--out", shlex.quote(out)]
    for member in spec["datasets"]:
        parts += ["--member", shlex.quote(f"{member}={layout.prepared_dir(member)}"),
                  "--card", shlex.quote(f"{member}={config['datasets'][member]['card']}")]
    for concept in spec["attributes"]:
        if concept != "source":
            parts += ["--attribute", shlex.quote(concept)]
    return " ".join(parts)


def transfer_pairs(config: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """(source, target) → {source column: target column}: the configured directions, then each
    aggregate towards each of its members (its per-source evaluation)."""
    from fairmedia.data.compat import transfer_attribute_map

    pairs: dict[tuple[str, str], dict[str, str]] = {}
    for i, entry in enumerate(config.get("transfer") or []):
        for target in entry["targets"]:
            pairs[(entry["source"], target)] = transfer_attribute_map(
                config, entry["source"], target, entry.get("attributes"),
                where=f"config transfer[{i}]")
    for name, spec in (config.get("aggregate") or {}).items():
        for member in spec["datasets"]:
            pairs.setdefault((name, member), transfer_attribute_map(
                config, name, member, where=f"config aggregate.{name} (per-source evaluation)"))
    return pairs


def transfer_path(source: str, target: str, run: Run) -> str:
    return layout.transfer_dir(source, target, run.arch, run.method, run.attribute, run.seed)


def transfer_runs(config: dict[str, Any]) -> list[tuple[str, str, Run, list[str]]]:
    """(source, target, source run, attributes evaluated) for every transferable run: runs
    with weights (post-processing runs have none) and at least one attribute mapped."""
    merged = _with_aggregates(config)
    out = []
    for (source, target), mapping in transfer_pairs(config).items():
        for run in runs(merged):
            if run.dataset != source or is_post(run.method):
                continue
            attrs = [a for a in eval_attributes(merged, run) if a in mapping]
            if attrs:
                out.append((source, target, run, attrs))
    return out


def transfer_metrics_targets(config: dict[str, Any], selection: str) -> list[str]:
    return [f"{layout.eval_dir(transfer_path(s, t, r), a, selection)}/{layout.METRICS}"
            for s, t, r, attrs in transfer_runs(config) for a in attrs]


def transfer_leaderboard_targets(config: dict[str, Any]) -> list[str]:
    """Empty when the config has no transfer pair and no aggregate."""
    if not transfer_pairs(config):
        return []
    selections = config.get("selections", ["overall", "worst_group"])
    return [f"{layout.leaderboard_dir(s, transfer=True)}/leaderboard.md" for s in selections]


def transfer_resources(config: dict[str, Any], source: str, arch: str, attempt: int
                       ) -> dict[str, int]:
    """The source's train resources, with a quarter of its runtime (inference only; a retried
    job gets proportionally more)."""
    res = train_resources(config, source, arch)
    return {**res, "runtime": max(5, res["runtime"] // 4) * attempt}


def transfer_map_args(config: dict[str, Any]) -> dict[tuple[str, str], str]:
    """``--map SOURCE_COLUMN=TARGET_COLUMN`` arguments of every direction, resolved once."""
    return {pair: " ".join(f"--map {shlex.quote(f'{a}={b}')}" for a, b in mapping.items())
            for pair, mapping in transfer_pairs(config).items()}
