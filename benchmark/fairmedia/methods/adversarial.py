"""Adversarial debiasing with a gradient-reversal attribute head."""

from __future__ import annotations

import torch.nn.functional as F

from fairmedia.methods._adversary import attribute_head, reverse_gradient
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class Adversarial(Method):
    name = "adversarial"
    category = "in"
    family = "adversarial"
    uses_attribute = True
    citation = ("Ganin et al., Domain-Adversarial Training of Neural Networks, JMLR 2016 "
                "(applied to the sensitive attribute)")
    description = ("an MLP head predicts the attribute from the features through a gradient-"
                   "reversal layer: the head learns the attribute, the encoder learns to hide it")
    hparams = {
        "weight": HParam(1.0, low=0.1, high=10.0, log=True, help="reversal strength λ",
                         symbol="λ", paper="annealed 0→1: 2/(1+e^(−10p))−1", medfair=""),
        "hidden": HParam(64, choices=(32, 64, 128), help="adversary hidden width",
                         symbol="", paper="", medfair=""),
    }

    def build(self) -> None:
        self.adversary = attribute_head(self.model.feature_dim, max(self.n_groups, 2),
                                        self.hp["hidden"])

    def trainable_parameters(self):
        # One optimiser holds the encoder, the classifier head AND the adversary: the adversary
        # descends its loss; the reversal makes the encoder ascend it.
        return list(self.model.parameters()) + list(self.adversary.parameters())

    def loss(self, x, y, a):
        z = self.model.features(x)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        adv = F.cross_entropy(self.adversary(reverse_gradient(z, self.hp["weight"])), a)
        return task + adv, {"task": task.detach(), "adv": adv.detach()}
