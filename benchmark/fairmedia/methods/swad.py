"""SWAD (Cha et al. 2021): dense weight averaging — every iteration — over a window of
iterations.

Simplified: Cha et al. open the window when the validation loss stops falling and close it when
it rises past a tolerance. Method hooks do not see validation data, so here the window opens at
iteration ⌊start · total iterations⌋ and the loop's post-hoc model selection closes it: each
epoch's running average is scored on validation and the selection criterion picks the epoch, i.e.
the window's end, on validation as the paper's overfit-aware rule does.
"""

from __future__ import annotations

import torch

from fairmedia.methods._averaging import WeightAveraging
from fairmedia.methods.base import HParam
from fairmedia.methods.registry import register


@register
class SWAD(WeightAveraging):
    name = "swad"
    category = "in"
    citation = ("Cha et al., SWAD: Domain Generalization by Seeking Flat Minima, NeurIPS 2021")
    description = ("average of the weights after every iteration from ⌊start·iterations⌋ on; "
                   "validation-based selection picks where the window ends")
    hparams = {
        "start": HParam(0.25, low=0.0, high=0.6, help="fraction of iterations before averaging"),
    }

    def build(self) -> None:
        super().build()
        self.register_buffer("iteration", torch.zeros((), dtype=torch.long))

    @property
    def first_iteration(self) -> int:
        total = self.epochs * self.steps_per_epoch
        return min(int(self.hp["start"] * total), total - 1)

    def update(self, x, y, a):
        logs = super().update(x, y, a)
        if int(self.iteration) >= self.first_iteration:
            self.average_now()
        self.iteration += 1
        return logs
