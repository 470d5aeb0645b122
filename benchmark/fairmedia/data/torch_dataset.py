"""A torch ``Dataset`` over a prepared dataset's memory-mapped image array.

Rows are read from the memory map one at a time (never the whole array into RAM) and scaled to
float in [0, 1], then standardised with fixed constants so every method sees the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from fairmedia.data.prepared import PreparedDataset

# Fixed (not data-dependent) standardisation, so no statistic leaks from val/test into training.
MEAN, STD = 0.5, 0.25


class PreparedImageDataset(Dataset):
    """Yields ``(x, y, a, idx)``: image tensor, float label, long group code, row index."""

    def __init__(
        self,
        prepared: PreparedDataset,
        indices: np.ndarray,
        groups: np.ndarray,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        self.images = prepared.images
        self.indices = np.asarray(indices, dtype=np.int64)
        self.y = prepared.metadata["y"].to_numpy(dtype=np.float32)
        self.groups = np.asarray(groups, dtype=np.int64)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        row = int(self.indices[i])
        x = torch.from_numpy(np.array(self.images[row], dtype=np.float32)).div_(255.0)
        x = x.sub_(MEAN).div_(STD)
        if self.transform is not None:
            x = self.transform(x)
        return (
            x,
            torch.tensor(self.y[row]),
            torch.tensor(self.groups[row]),
            torch.tensor(row),
        )
