"""Group distributionally robust optimisation (Sagawa et al. 2020): minimise a weighted loss
whose group weights grow exponentially with each group's loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class GroupDRO(Method):
    name = "groupdro"
    category = "in"
    family = "robust-optimisation"
    uses_attribute = True
    citation = "Sagawa et al., Distributionally Robust Neural Networks, ICLR 2020"
    description = "online group DRO: exponentiated-gradient weights q over groups, loss Σ q_g L_g"
    hparams = {
        "eta": HParam(0.01, low=1e-3, high=1e-1, log=True, help="step size of the group weights"),
        "groups": HParam("attribute", choices=("attribute", "attribute_label")),
    }

    def build(self) -> None:
        k = self.n_groups * (2 if self.hp["groups"] == "attribute_label" else 1)
        self.register_buffer("q", torch.full((k,), 1.0 / k))

    def loss(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, dict]:
        per_sample = F.binary_cross_entropy_with_logits(self.model(x), y, reduction="none")
        g = a * 2 + y.long() if self.hp["groups"] == "attribute_label" else a
        k = self.q.numel()
        counts = torch.bincount(g, minlength=k).float()
        sums = torch.zeros(k, dtype=per_sample.dtype, device=per_sample.device).index_add_(0, g, per_sample)
        group_loss = sums / counts.clamp(min=1)
        present = counts > 0
        with torch.no_grad():
            # Exponentiated-gradient ascent on the weights, only for groups seen in this batch.
            step = torch.where(present, self.hp["eta"] * group_loss.detach(), torch.zeros_like(group_loss))
            self.q.mul_(torch.exp(step))
            self.q.div_(self.q.sum())
        loss = (self.q * group_loss).sum()
        return loss, {"q_max": float(self.q.max())}
