"""Adapters turning a user's local copy of a public dataset into the prepared-dataset contract.

One module per dataset (the card's ``adapter`` key names it); each exposes
``prepare(root, out, *, card, metadata_only=False, workers=2, seed=None) -> Path``.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from fairmedia.errors import UserError


def available_adapters() -> list[str]:
    import fairmedia.data.adapters as pkg

    skip = {"attribute_rules", "image_decode"}
    names = (i.name for i in pkgutil.iter_modules(pkg.__path__))
    return sorted(n for n in names if not n.startswith("_") and n not in skip)


def get_adapter(name: str) -> ModuleType:
    """The adapter module for ``name`` (dashes and underscores are interchangeable)."""
    module = name.replace("-", "_")
    if module not in available_adapters():
        raise UserError(f"no adapter for dataset {name!r}; valid: {', '.join(available_adapters())}")
    return importlib.import_module(f"fairmedia.data.adapters.{module}")
