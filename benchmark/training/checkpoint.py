"""Atomic checkpoints: written to a temporary file then renamed, so a job killed mid-write never
leaves a half file that a rerun would read; loaded with ``weights_only=True`` (no pickled code)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from benchmark.errors import UserError


def save_atomic(obj: Any, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError for foreign objects, RuntimeError for corrupt files
        raise UserError(
            f"{path}: refused to load — not a plain checkpoint of tensors and containers "
            f"({type(err).__name__}: {str(err).splitlines()[0]})"
        ) from None
