"""Fair supervised contrastive loss (Park et al. 2022), trained jointly with the classifier.

Positives of an anchor: the other images with its label. Its denominator: the positives and the
negatives (other label) that share its group — so the loss never pushes groups apart. Anchors are
averaged per group first (the paper's group-wise normalisation). Simplified from the paper: one
view per image (no augmented pair) and a joint loss BCE + λ·FSCL instead of two training stages.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fairmedia.methods._adversary import cell_mean
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


def fair_supcon(z: torch.Tensor, y: torch.Tensor, a: torch.Tensor, temperature: float) -> torch.Tensor:
    unit = F.normalize(z, dim=1)
    sim = unit @ unit.T / temperature
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    same_y = (y[:, None] == y[None, :]) & ~eye
    same_a = a[:, None] == a[None, :]
    allowed = same_y | (~same_y & same_a & ~eye)
    log_den = torch.logsumexp(sim.masked_fill(~allowed, float("-inf")), dim=1)
    n_pos = same_y.sum(1)
    per_anchor = -(sim * same_y).sum(1) / n_pos.clamp(min=1) + log_den
    has_pos = n_pos > 0
    if not has_pos.any():
        return z.new_zeros(())
    return cell_mean(per_anchor[has_pos], a[has_pos])


@register
class FSCL(Method):
    name = "fscl"
    category = "in"
    family = "contrastive"
    uses_attribute = True
    citation = ("Park et al., Fair Contrastive Learning for Facial Attribute Classification, "
                "CVPR 2022")
    description = "BCE + λ × fair supervised contrastive loss on a projection of the features"
    hparams = {
        "weight": HParam(0.5, low=0.05, high=2.0, log=True, help="λ"),
        "temperature": HParam(0.1, low=0.05, high=0.5, log=True),
    }

    def build(self) -> None:
        d = self.model.feature_dim
        self.projection = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 32))

    def trainable_parameters(self):
        return list(self.model.parameters()) + list(self.projection.parameters())

    def loss(self, x, y, a):
        z = self.model.features(x)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        con = fair_supcon(self.projection(z), y, a, self.hp["temperature"])
        return task + self.hp["weight"] * con, {"task": task.detach(), "contrastive": con.detach()}
