"""Stochastic weight averaging (Izmailov et al. 2018): average the weights at the end of every
epoch from a start epoch on; score and save the average."""

from __future__ import annotations

from fairmedia.methods._averaging import WeightAveraging
from fairmedia.methods.base import HParam
from fairmedia.methods.registry import register


@register
class SWA(WeightAveraging):
    name = "swa"
    category = "in"
    citation = ("Izmailov et al., Averaging Weights Leads to Wider Optima and Better "
                "Generalization, UAI 2018")
    description = "equal-weight average of the end-of-epoch weights from epoch ⌊start·epochs⌋ on"
    hparams = {
        "start": HParam(0.5, low=0.25, high=0.75, help="fraction of the epochs before averaging"),
    }

    @property
    def first_epoch(self) -> int:
        return min(int(self.hp["start"] * self.epochs), self.epochs - 1)

    def on_epoch_end(self, epoch: int) -> None:
        if epoch >= self.first_epoch:
            self.average_now()
