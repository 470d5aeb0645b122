"""Learning Not to Learn (Kim et al. 2019): a bias head predicts the attribute from the features
and is trained to do so, while the encoder (a) maximises the entropy of that head's prediction and
(b) receives the head's reversed gradient.

Scales as in the authors' code (feidfoe/learning-not-to-learn, ``trainer.py``): the entropy term
weighs 0.01 (``_lambda``; the paper's λ) and the reversed gradient is scaled by 0.1 (``GradReverse``;
the bias loss's weight μ in the paper). Our keys are historical: ``mu`` is the paper's λ (entropy)
and ``lam`` the paper's μ (reversal). The official code alternates two optimiser steps per batch
(encoder on BCE − λ·H, then encoder + head on the reversed bias CE); we take one joint step, which
gives the encoder the same two gradients. MEDFAIR uses 0.1 for the entropy weight and reversal 1."""

from __future__ import annotations

import torch.nn.functional as F

from fairmedia.methods._adversary import attribute_head, entropy, frozen_forward, reverse_gradient
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class LearningNotToLearn(Method):
    name = "lnl"
    category = "in"
    family = "adversarial"
    uses_attribute = True
    citation = ("Kim et al., Learning Not to Learn: Training Deep Neural Networks with Biased Data, "
                "CVPR 2019")
    description = ("BCE − mu·entropy(bias head on features) for the encoder; the bias head learns "
                   "the attribute through a gradient-reversal layer of strength lam")
    hparams = {
        "mu": HParam(0.01, low=0.001, high=1.0, log=True,
                     help="weight of the entropy term (the paper's λ)",
                     symbol="λ", paper="0.01 (official code)", medfair="0.1 (_lambda)"),
        "lam": HParam(0.1, low=0.01, high=1.0, log=True,
                      help="gradient-reversal strength (the paper's μ on the bias loss)",
                      symbol="μ", paper="0.1 (official GradReverse)", medfair="1 (plain reversal)"),
    }

    def build(self) -> None:
        self.bias_head = attribute_head(self.model.feature_dim, max(self.n_groups, 2))

    def trainable_parameters(self):
        return list(self.model.parameters()) + list(self.bias_head.parameters())

    def loss(self, x, y, a):
        z = self.model.features(x)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        # The entropy term moves only the encoder (head frozen); the CE term trains the head and
        # pushes the encoder the other way through the reversal.
        neg_entropy = -entropy(frozen_forward(self.bias_head, z))
        bias_ce = F.cross_entropy(self.bias_head(reverse_gradient(z, self.hp["lam"])), a)
        total = task + self.hp["mu"] * neg_entropy + bias_ce
        return total, {"task": task.detach(), "bias_ce": bias_ce.detach(),
                       "entropy": -neg_entropy.detach()}
