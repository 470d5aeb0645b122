"""Shared by ``swa`` and ``swad``: averaged copies of the network whose batch-norm statistics are
recomputed on the training data, and the rule that only averaged networks are candidates of
model selection (the raw network of an epoch before averaging starts is ERM's, not the method's).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import update_bn

from fairmedia.methods.base import Method


class WeightAveraging(Method):
    uses_attribute = False
    family = "flat-minima"

    def recompute_bn(self, network: nn.Module) -> None:
        """Batch-norm running statistics of ``network`` recomputed by one pass over the training
        images (``torch.optim.swa_utils.update_bn``): averaging the weights of several networks
        does not average their activations, so their statistics do not describe the average
        (Izmailov et al. 2018, §3.2; Cha et al. 2021 do the same for SWAD). Outside the training
        loop (no ``train_inputs``) the statistics are left as they are."""
        if self.train_inputs is None:
            return
        was_training = network.training
        with torch.no_grad():  # update_bn only runs forward passes; no graph is needed
            update_bn(self.train_inputs(), network)
        network.train(was_training)

    def averaged_network(self) -> nn.Module | None:
        """The averaged network scored and saved now, or None while the raw one is."""
        raise NotImplementedError

    def predict(self, x, a):
        net = self.averaged_network()
        return (net if net is not None else self.model)(x)

    def eval_model(self) -> nn.Module:
        net = self.averaged_network()
        return net if net is not None else self.model

    def feature_layer(self) -> nn.Module:
        return self.eval_model().head

    def selection_candidate(self, epoch: int) -> bool:
        return self.averaged_network() is not None
