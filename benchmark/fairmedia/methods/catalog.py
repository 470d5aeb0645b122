"""What the workflow needs to know about each method — name, category, attribute use, whether it
declares hyperparameters — read from the method files' source without importing them.

Planning a grid (and every SLURM job, which re-plans) needs only these facts; importing the
methods would import torch, which costs seconds per Snakemake start. ``tests/test_catalog.py``
checks that the catalog agrees with the imported registry.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from typing import Any

from fairmedia.discovery import module_literals, package_folder, plugin_files


@dataclass(frozen=True)
class MethodFacts:
    name: str
    category: str
    uses_attribute: bool
    has_hparams: bool
    # name -> (default, choices or None), from each ``HParam(default, ..., choices=...)`` call
    hparams: tuple[tuple[str, Any, tuple[Any, ...] | None], ...] = ()

    @property
    def hparam_names(self) -> tuple[str, ...]:
        return tuple(name for name, _, _ in self.hparams)


def _literal(node: ast.expr, constants: dict[str, Any]) -> Any:
    """A literal, or the name of a module-level literal constant (``choices=VARIANTS``)."""
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    return ast.literal_eval(node)


def _hparam_facts(node: ast.expr | None, constants: dict[str, Any]
                  ) -> tuple[tuple[str, Any, tuple[Any, ...] | None], ...]:
    if not isinstance(node, ast.Dict):
        return ()
    out = []
    for key, call in zip(node.keys, node.values, strict=True):
        default, choices = None, None  # None: not a literal, so not checked when planning
        if isinstance(call, ast.Call):
            args = {"default": call.args[0]} if call.args else {}
            args.update({kw.arg: kw.value for kw in call.keywords if kw.arg in ("default", "choices")})
            try:
                default = _literal(args["default"], constants) if "default" in args else None
                choices = tuple(_literal(args["choices"], constants)) if "choices" in args else None
            except ValueError:
                default, choices = None, None
        out.append((ast.literal_eval(key), default, choices))
    return tuple(out)


def _class_attributes(node: ast.ClassDef) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            out[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            out[stmt.target.id] = stmt.value
    return out


@cache
def method_catalog() -> dict[str, MethodFacts]:
    classes: dict[str, tuple[list[str], dict[str, ast.expr], bool]] = {}
    constants: dict[str, dict[str, Any]] = {}  # class -> its module's literal constants
    # Registrations come from the plug-in modules only; base classes may live in any module
    # (``_averaging.py`` holds SWA's and SWAD's).
    plugins = set(plugin_files("fairmedia.methods"))
    for path in sorted(package_folder("fairmedia.methods").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                constants[node.name] = module_literals(tree)
                bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases]
                registered = path in plugins and any(
                    isinstance(d, ast.Name) and d.id == "register" for d in node.decorator_list)
                classes[node.name] = (bases, _class_attributes(node), registered)

    def lookup(cls: str, attr: str) -> tuple[ast.expr | None, dict[str, Any]]:
        bases, attrs, _ = classes.get(cls, ([], {}, False))
        if attr in attrs:
            return attrs[attr], constants.get(cls, {})
        for base in bases:
            found = lookup(base, attr)
            if found[0] is not None:
                return found
        return None, {}

    out = {}
    for cls, (_, _, registered) in classes.items():
        if not registered:
            continue
        values = {a: lookup(cls, a)[0] for a in ("name", "category", "uses_attribute")}
        hparams, hparam_constants = lookup(cls, "hparams")
        facts = MethodFacts(
            name=ast.literal_eval(values["name"]),
            category=ast.literal_eval(values["category"]),
            uses_attribute=bool(ast.literal_eval(values["uses_attribute"])),
            has_hparams=not (isinstance(hparams, ast.Dict) and not hparams.keys),
            hparams=_hparam_facts(hparams, hparam_constants),
        )
        out[facts.name] = facts
    return dict(sorted(out.items()))
