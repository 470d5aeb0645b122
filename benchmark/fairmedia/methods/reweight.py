"""Kamiran–Calders reweighing: each (group, label) cell's loss weighted by P(a)P(y)/P(a,y)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from fairmedia.methods.base import Method
from fairmedia.methods.registry import register


def kamiran_calders_weights(y: np.ndarray, a: np.ndarray, n_groups: int) -> np.ndarray:
    """Weight of cell (a, y) at index ``a * 2 + y``: expected over observed frequency, so the
    weighted data show no dependence between attribute and label. Empty cells get weight 0."""
    cell = a.astype(np.int64) * 2 + y.astype(np.int64)
    joint = np.bincount(cell, minlength=2 * n_groups) / len(cell)
    p_a = joint.reshape(n_groups, 2).sum(1)
    p_y = joint.reshape(n_groups, 2).sum(0)
    expected = np.outer(p_a, p_y).reshape(-1)
    return np.divide(expected, joint, out=np.zeros_like(expected), where=joint > 0)


@register
class Reweight(Method):
    name = "reweight"
    category = "pre"
    family = "re-distribution"
    uses_attribute = True
    citation = ("Kamiran & Calders, Data preprocessing techniques for classification without "
                "discrimination, KAIS 2012")
    description = "weight each group × label cell's loss by P(a)P(y)/P(a,y) (training-set counts)"

    def build(self) -> None:
        self.register_buffer("cell_weight", torch.ones(2 * self.n_groups))

    def train_sampler(self, y, a, generator):
        # The loop hands over the training labels and groups here, once per epoch: the weights
        # are computed from the whole training set, not from each batch.
        self.cell_weight.copy_(torch.as_tensor(kamiran_calders_weights(y, a, self.n_groups)))
        return None

    def loss(self, x, y, a):
        w = self.cell_weight[a * 2 + y.long()]
        per_sample = F.binary_cross_entropy_with_logits(self.model(x), y, reduction="none")
        return (w * per_sample).sum() / w.sum().clamp(min=1e-12), {}
