"""The contract every post-processing method follows (data contract 3).

A post-processor reads a finished base run (normally ERM), is fitted on the validation rows of
one model-selection block only, and transforms validation and test rows. It is registered in the
same registry as training-time methods (category ``post``) so names, hyperparameters and the
methods table are shared; ``fairmedia postprocess`` drives it.

Frames passed to ``fit`` and ``transform`` have the columns ``sample_id, y, score, group`` (group:
integer code 0..k-1 of the evaluated attribute). ``transform`` returns a frame with the same index
holding ``score`` and, for methods that decide per row (``decides = True``), ``decision`` (0/1).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from fairmedia.data.prepared import PreparedDataset
from fairmedia.errors import UserError
from fairmedia.methods.base import HParam


@dataclass
class PostContext:
    """What a post-processor may read besides the predictions: the base run (its folder, the
    epoch this selection block uses, its architecture) and the prepared data."""

    base_run: Path
    prepared: PreparedDataset
    attribute: str
    group_names: list[str]
    epoch: int
    arch: str
    seed: int = 0
    device: str = "cpu"

    def rows(self, sample_ids: pd.Series) -> np.ndarray:
        """Row positions in the prepared metadata of these sample ids."""
        position = pd.Series(np.arange(len(self.prepared.metadata)),
                             index=self.prepared.metadata["sample_id"])
        return position.loc[np.asarray(sample_ids)].to_numpy()


class PostProcessor:
    name: ClassVar[str] = ""
    category: ClassVar[str] = "post"
    family: ClassVar[str] = "thresholding"
    uses_attribute: ClassVar[bool] = True
    citation: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hparams: ClassVar[dict[str, HParam]] = {}
    supports_3d: ClassVar[bool] = True
    unsupported_reason: ClassVar[str] = ""
    decides: ClassVar[bool] = True  # transform returns a per-row decision
    needs_network: ClassVar[bool] = False  # reads the base run's weights and the images

    def __init__(self, hp: dict[str, Any], context: PostContext):
        self.hp = hp
        self.context = context

    def fit(self, val: pd.DataFrame) -> dict[str, Any]:
        """Fit on validation rows; returns a JSON-serialisable summary for run.json/history."""
        raise NotImplementedError

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError


def need_both_labels(val: pd.DataFrame, method: str, names: list[str]) -> None:
    """Fitting per group needs positives and negatives of every group in the validation rows."""
    for g, block in val.groupby("group"):
        if block["y"].nunique() < 2:
            raise UserError(f"{method}: group {names[int(g)]!r} has only y={int(block['y'].iloc[0])} "
                            "in the validation rows; it needs both labels to be fitted")
