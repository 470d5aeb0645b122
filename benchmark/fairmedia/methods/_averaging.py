"""Shared by ``swa`` and ``swad``: a running average of the network's weights (and batch-norm
buffers — averaging them stands in for recomputing the statistics with a pass over the training
data, which the method hooks do not see)."""

from __future__ import annotations

from torch import nn
from torch.optim.swa_utils import AveragedModel

from fairmedia.methods.base import Method


class WeightAveraging(Method):
    uses_attribute = False
    family = "flat-minima"

    def build(self) -> None:
        self.averaged = AveragedModel(self.model, use_buffers=True)

    def average_now(self) -> None:
        self.averaged.update_parameters(self.model)

    @property
    def n_averaged(self) -> int:
        return int(self.averaged.n_averaged)

    def predict(self, x, a):
        return self.averaged(x) if self.n_averaged else self.model(x)

    def eval_model(self) -> nn.Module:
        return self.averaged.module if self.n_averaged else self.model
