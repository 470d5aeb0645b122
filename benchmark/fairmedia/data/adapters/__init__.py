"""Adapters turning a user's local copy of a public dataset into the prepared-dataset contract.

One module per dataset (the card's ``adapter`` key names it); each exposes
``prepare(root, out, *, card, metadata_only=False, workers=2, seed=None) -> Path``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from fairmedia.errors import UserError


def available_adapters() -> list[str]:
    """Adapter module names by the plug-in rule (fairmedia/discovery.py), read without importing."""
    from fairmedia.discovery import plugin_names

    return plugin_names("fairmedia.data.adapters")


def get_adapter(name: str) -> ModuleType:
    """The adapter module for ``name`` (dashes and underscores are interchangeable)."""
    module = name.replace("-", "_")
    if module not in available_adapters():
        raise UserError(f"no adapter for dataset {name!r}; valid: {', '.join(available_adapters())}")
    return importlib.import_module(f"fairmedia.data.adapters.{module}")
