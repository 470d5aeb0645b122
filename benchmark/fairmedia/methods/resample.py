"""Re-sampling so that every group × label cell is drawn equally often."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Sampler

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register
from fairmedia.methods.samplers import balanced_sampler


@register
class Resample(Method):
    name = "resample"
    category = "pre"
    family = "re-distribution"
    uses_attribute = True
    citation = "Idrissi et al., Simple data balancing achieves competitive worst-group accuracy, CLeaR 2022"
    description = "sample with replacement so group × label cells (or groups, or labels) are balanced"
    hparams = {
        "by": HParam("group_label", choices=("group_label", "group", "label"), help="cells to balance",
                     symbol="", paper="group_label (label × attribute groups)",
                     medfair="group (resample_which)"),
    }

    def train_sampler(self, y: np.ndarray, a: np.ndarray, generator: torch.Generator) -> Sampler[int]:
        return balanced_sampler(y, a, self.hp["by"], generator)
