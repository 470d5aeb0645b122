"""Domain-independent training (Wang et al. 2020): one classifier head per group on shared
features; each image trains only its own group's head; inference sums over the heads."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fairmedia.methods.base import Method
from fairmedia.methods.registry import register


@register
class DomainIndependent(Method):
    name = "domainind"
    category = "in"
    family = "disentanglement"
    uses_attribute = True
    citation = ("Wang et al., Towards Fairness in Visual Recognition: Effective Strategies for Bias "
                "Mitigation, CVPR 2020")
    description = ("a separate logit per group on shared features; the loss uses the image's own "
                   "group's logit; prediction averages the groups' logits (no attribute at test)")

    def build(self) -> None:
        self.heads = nn.Linear(self.model.feature_dim, self.n_groups)

    def trainable_parameters(self):
        # model.head is unused: leaving it out keeps Adam's weight decay off it harmlessly.
        return [p for n, p in self.model.named_parameters() if not n.startswith("head.")] + list(
            self.heads.parameters()
        )

    def group_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(self.model.features(x))

    def loss(self, x, y, a):
        own = self.group_logits(x).gather(1, a[:, None]).squeeze(1)
        return F.binary_cross_entropy_with_logits(own, y), {}

    def predict(self, x, a):
        # Group-agnostic inference (the paper's "sum of logits"): the mean keeps the logit scale.
        return self.group_logits(x).mean(1)

    def eval_model(self) -> nn.Module:
        return self

    def feature_layer(self) -> nn.Module:
        return self.heads  # the groups' heads read the shared features
