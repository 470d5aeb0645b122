"""Maximum mean discrepancy between groups' feature distributions as a penalty."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidth: torch.Tensor) -> torch.Tensor:
    """Biased (V-statistic) squared MMD with a sum of Gaussian kernels at 0.5, 1 and 2 × bandwidth."""
    both = torch.cat([x, y])
    d2 = torch.cdist(both, both).pow(2)
    k = sum(torch.exp(-d2 / (2 * (s * bandwidth) ** 2)) for s in (0.5, 1.0, 2.0))
    n = len(x)
    return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()


def group_mmd(z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Mean over groups present of MMD²(group, whole batch); 0 with fewer than two groups."""
    groups = torch.unique(a)
    if len(groups) < 2:
        return z.new_zeros(())
    bandwidth = torch.pdist(z.detach()).median().clamp(min=1e-3)  # median heuristic
    return torch.stack([mmd2(z[a == g], z, bandwidth) for g in groups]).mean()


@register
class MMD(Method):
    name = "mmd"
    category = "in"
    family = "constraint"
    uses_attribute = True
    citation = ("Louizos et al., The Variational Fair Autoencoder, ICLR 2016 (MMD penalty between "
                "groups' representations)")
    description = "BCE + λ × MMD² between each group's features and the batch's (per label if eo)"
    hparams = {
        "weight": HParam(1.0, low=0.1, high=10.0, log=True, help="λ", symbol="β (MMD weight)",
                         paper="", medfair=""),
        "conditional": HParam("eo", choices=("dp", "eo"), help="eo: match groups within each label",
                              symbol="", paper="dp (unconditional MMD)", medfair=""),
    }

    def loss(self, x, y, a):
        z = self.model.features(x)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        if self.hp["conditional"] == "eo":
            parts = [group_mmd(z[y == v], a[y == v]) for v in (0, 1) if (y == v).sum() > 1]
            penalty = torch.stack(parts).mean() if parts else z.new_zeros(())
        else:
            penalty = group_mmd(z, a)
        return task + self.hp["weight"] * penalty, {"task": task.detach(), "mmd": penalty.detach()}
