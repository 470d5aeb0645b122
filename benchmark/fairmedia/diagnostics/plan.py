"""What the workflow's diagnostics rules build, from the config's ``diagnostics:`` section.

Planning imports no torch: like grid.py, this module only reads the config and the registries'
source. ``separability`` (Jones et al., MICCAI 2023) runs once per dataset × attribute — an
attribute of the image, not of a method — so its cost does not grow with methods or seeds.
"""

from __future__ import annotations

import shlex
from typing import Any

from fairmedia import layout
from fairmedia.errors import UserError
from fairmedia.models.catalog import arch_names

SEPARABILITY_DEFAULTS = {"enabled": False, "arch": "cnn-small", "epochs": 5, "bootstrap": 1000,
                         "seed": 0}


def separability_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The config's ``diagnostics.separability`` over the defaults (the schema's defaults)."""
    given = (config.get("diagnostics") or {}).get("separability") or {}
    return {**SEPARABILITY_DEFAULTS, **given}


def check_diagnostics(config: dict[str, Any]) -> None:
    """Names the schema cannot check: the separability architecture must be in the zoo."""
    arch = separability_settings(config)["arch"]
    if arch not in arch_names():
        raise UserError(f"config diagnostics.separability.arch: unknown architecture {arch!r}; "
                        f"valid: {', '.join(arch_names())}")


def separability_targets(config: dict[str, Any]) -> list[str]:
    """One result per dataset key × its configured attributes; none when not enabled."""
    if not separability_settings(config)["enabled"]:
        return []
    return [layout.separability_file(dataset, attr)
            for dataset, entry in config["datasets"].items() for attr in entry["attributes"]]


def separability_args(config: dict[str, Any]) -> str:
    """``--arch A --epochs E --bootstrap B --seed S`` of the separability rule (quoted)."""
    s = separability_settings(config)
    return " ".join(f"--{k} {shlex.quote(str(s[k]))}" for k in ("arch", "epochs", "bootstrap", "seed"))
