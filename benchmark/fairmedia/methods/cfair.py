"""CFair (Zhao et al. 2020): balanced-error classification plus, for each label value, an
adversary predicting the attribute from the features (balanced across groups) through gradient
reversal — aligning the groups' feature distributions conditional on the label.

The adversarial term is the MEAN of the per-label adversaries' group-balanced cross-entropies, as
in the authors' code (hanzhaoml/ICLR2020-CFair, ``main_adult.py``: ``torch.mean(torch.stack(...))``)
and MEDFAIR; a label absent from the batch is left out of the mean (the official code would give
NaN). μ defaults to MEDFAIR's 0.1: the paper only sweeps μ ∈ {0.1, 1, 10, 100, 1000} on tabular
data (official default 10), which gives no single setting for images. The task loss is the
balanced error rate's estimate mean_i ℓ_i / (2 P(y_i)) with P(y) from the training set (official:
a class-weighted NLL, normalised by the batch's weight sum — the same in expectation)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fairmedia.methods._adversary import attribute_head, reverse_gradient
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class CFair(Method):
    name = "cfair"
    category = "in"
    family = "adversarial"
    uses_attribute = True
    citation = ("Zhao et al., Conditional Learning of Fair Representations, ICLR 2020")
    description = ("class-balanced BCE + μ × mean of per-label adversaries (group-balanced CE) "
                   "behind a gradient-reversal layer: equalises error rates across groups")
    hparams = {
        "mu": HParam(0.1, low=0.01, high=10.0, log=True, help="weight of the adversarial loss",
                     symbol="μ", paper="0.1–1000 sweep (official code default 10)",
                     medfair="0.1"),
    }

    def build(self) -> None:
        k = max(self.n_groups, 2)
        self.adversaries = nn.ModuleList(attribute_head(self.model.feature_dim, k) for _ in range(2))
        self.register_buffer("label_weight", torch.ones(2))
        self.register_buffer("group_weight", torch.ones(2, k))  # [label, group]

    def trainable_parameters(self):
        return list(self.model.parameters()) + list(self.adversaries.parameters())

    def train_sampler(self, y, a, generator):
        # Inverse frequencies from the whole training set: P(y) for the balanced error rate,
        # P(a | y) for each label's adversary.
        k = self.group_weight.shape[1]
        cells = np.bincount(y.astype(np.int64) * k + a, minlength=2 * k).reshape(2, k).astype(float)
        n_y = cells.sum(1)
        self.label_weight.copy_(torch.as_tensor(np.where(n_y > 0, len(y) / (2 * n_y.clip(1)), 0)))
        per_group = np.where(cells > 0, n_y[:, None] / (k * cells.clip(1)), 0)
        self.group_weight.copy_(torch.as_tensor(per_group))
        return None

    def loss(self, x, y, a):
        z = self.model.features(x)
        label = y.long()
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y,
                                                  weight=self.label_weight[label])
        reversed_z = reverse_gradient(z)
        terms = []
        for value, adversary in enumerate(self.adversaries):
            rows = label == value
            if rows.any():
                terms.append(F.cross_entropy(adversary(reversed_z[rows]), a[rows],
                                             weight=self.group_weight[value]))
        # Averaged over the labels, not summed (official code): μ keeps the paper's scale.
        adv = torch.stack(terms).mean()
        return task + self.hp["mu"] * adv, {"task": task.detach(), "adv": adv.detach()}
