"""The one discovery rule for plug-ins: every module of a plug-in package (``methods/``,
``models/``, ``data/adapters/``) whose name does not start with ``_``.

The planning catalogs read those modules' source (no import: planning must not pay torch's
import) and the runtime registries import the same modules, so the two always see the same files.
A module that registers nothing (a package's own infrastructure, such as ``methods/base.py``)
contributes nothing; helpers that are no plug-in and would fail as one start with ``_``.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent


def package_folder(package: str) -> Path:
    """The folder of ``package`` (``"fairmedia.methods"``), found without importing it."""
    return PACKAGE_ROOT.joinpath(*package.split(".")[1:])


def plugin_files(package: str) -> list[Path]:
    """The plug-in modules of ``package``, sorted by name."""
    return sorted(p for p in package_folder(package).glob("*.py") if not p.name.startswith("_"))


def plugin_names(package: str) -> list[str]:
    return [p.stem for p in plugin_files(package)]


def import_plugins(package: str) -> None:
    """Import every plug-in module of ``package``; importing a module registers what it defines."""
    for name in plugin_names(package):
        importlib.import_module(f"{package}.{name}")


def module_literals(tree: ast.Module) -> dict[str, Any]:
    """The module-level ``NAME = <literal>`` assignments of a parsed module (what the planning
    catalogs and ``fairmedia --help`` read without importing it); computed values are left out."""
    out: dict[str, Any] = {}
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            try:
                out[stmt.targets[0].id] = ast.literal_eval(stmt.value)
            except ValueError:  # not a literal
                continue
    return out
