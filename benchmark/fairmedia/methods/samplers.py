"""Samplers shared by re-distribution methods."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import WeightedRandomSampler


def balanced_sampler(
    y: np.ndarray, a: np.ndarray, by: str, generator: torch.Generator, num_samples: int | None = None
) -> WeightedRandomSampler:
    """Draw with replacement so each cell of ``by`` (``group_label``, ``group`` or ``label``) is
    equally likely: weight of a row = 1 / size of its cell."""
    if by == "group_label":
        cell = a.astype(np.int64) * 2 + y.astype(np.int64)
    elif by == "group":
        cell = a.astype(np.int64)
    elif by == "label":
        cell = y.astype(np.int64)
    else:
        raise ValueError(f"balance by must be group_label, group or label, got {by!r}")
    counts = np.bincount(cell)
    weights = 1.0 / counts[cell]
    return WeightedRandomSampler(
        torch.as_tensor(weights, dtype=torch.double),
        num_samples=num_samples or len(cell),
        replacement=True,
        generator=generator,
    )
