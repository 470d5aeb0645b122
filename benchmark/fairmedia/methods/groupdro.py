"""Group distributionally robust optimisation (Sagawa et al. 2020): minimise a weighted loss
whose group weights grow exponentially with each group's loss.

As the paper (Algorithm 1) and the authors' code (kohpangwei/group_DRO, ``loss.py``): groups are
label × attribute cells by default (MEDFAIR uses the attribute alone: ``groups=attribute``), the
weights take one exponentiated-gradient step q_g ← q_g·exp(η (L_g + C/√n_g)) then renormalise,
with η = 0.01 and the generalisation adjustment C (default 0, as the official code; the paper
tunes C per dataset); n_g is the training-set size of group g. The loss is Σ_g q_g L_g (the
adjustment is a constant and only steers q). Groups absent from a batch keep their weight before
renormalisation (official: their L_g is 0, so the same when C = 0; with C > 0 the official code
would still add C/√n_g to an absent group's step, we do not)."""

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
        "eta": HParam(0.01, low=1e-3, high=1e-1, log=True, help="step size of the group weights",
                      symbol="η_q", paper="0.01 (official --robust_step_size)",
                      medfair="0.01"),
        "groups": HParam("attribute_label", choices=("attribute", "attribute_label"),
                         help="label × attribute cells (paper) or the attribute alone (MEDFAIR)",
                         symbol="g = (y, a)", paper="attribute_label", medfair="attribute"),
        "adjustment": HParam(0.0, low=0.0, high=5.0,
                             help="generalisation adjustment: q's step uses L_g + C/√n_g",
                             symbol="C", paper="tuned per dataset (official default 0)",
                             medfair="0"),
    }

    def build(self) -> None:
        k = self.n_groups * (2 if self.hp["groups"] == "attribute_label" else 1)
        self.register_buffer("q", torch.full((k,), 1.0 / k))
        # Training-set group sizes for the adjustment (filled by train_sampler); ones until then.
        self.register_buffer("group_count", torch.ones(k))

    def _group(self, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return a * 2 + y.long() if self.hp["groups"] == "attribute_label" else a

    def train_sampler(self, y, a, generator):
        g = self._group(torch.as_tensor(y).long(), torch.as_tensor(a).long())
        counts = torch.bincount(g, minlength=self.q.numel()).float()
        self.group_count.copy_(counts.clamp(min=1))
        return None

    def loss(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, dict]:
        per_sample = F.binary_cross_entropy_with_logits(self.model(x), y, reduction="none")
        g = self._group(y, a)
        k = self.q.numel()
        counts = torch.bincount(g, minlength=k).float()
        sums = torch.zeros(k, dtype=per_sample.dtype, device=per_sample.device).index_add_(0, g, per_sample)
        group_loss = sums / counts.clamp(min=1)
        present = counts > 0
        with torch.no_grad():
            # Exponentiated-gradient ascent on the weights, only for groups seen in this batch.
            adjusted = group_loss.detach() + self.hp["adjustment"] / self.group_count.sqrt()
            step = torch.where(present, self.hp["eta"] * adjusted, torch.zeros_like(group_loss))
            self.q.mul_(torch.exp(step))
            self.q.div_(self.q.sum())
        loss = (self.q * group_loss).sum()
        return loss, {"q_max": float(self.q.max())}
