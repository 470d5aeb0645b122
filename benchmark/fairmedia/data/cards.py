"""Dataset cards: one YAML file per dataset (source, access, files, label and attribute rules,
split protocol, image size). Loaded with ``yaml.safe_load`` only.

The cards are package data in ``fairmedia/data/cards/``, so an installed wheel has them; the
repository's top-level ``datasets/`` is a relative symlink to that folder."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from fairmedia.errors import UserError

CARDS_DIR = Path(__file__).resolve().parent / "cards"
REQUIRED_KEYS = ("name", "version", "kind", "description", "label", "attributes", "split")


def available_datasets() -> list[str]:
    return sorted(p.stem for p in CARDS_DIR.glob("*.yaml"))


@cache
def _parsed(path: Path, mtime_ns: int) -> Any:
    # Planning loads each dataset's card several times (checks, compatibility, figures): parse once.
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UserError(f"{path}: not valid YAML: {err}") from None


def load_card(name: str) -> dict[str, Any]:
    path = CARDS_DIR / f"{name}.yaml"
    if not path.exists():
        raise UserError(f"unknown dataset card {name!r}; valid: {', '.join(available_datasets())}")
    card = copy.deepcopy(_parsed(path, path.stat().st_mtime_ns))  # callers may edit their copy
    if not isinstance(card, dict):
        raise UserError(f"{path}: expected a mapping at the top level")
    missing = [k for k in REQUIRED_KEYS if k not in card]
    if missing:
        raise UserError(f"{path}: missing key(s) {missing}")
    if card["name"] != name:
        raise UserError(f"{path}: card name {card['name']!r} does not match its file name {name!r}")
    return card
