"""EnD (Tartaglione et al. 2021): a regulariser on the cosine-similarity (Gram) matrix of the
L2-normalised features. Disentangling: pairs sharing the attribute (whatever their labels) are
pushed towards orthogonality; entangling: pairs sharing the label but not the attribute are
pulled parallel.

Terms as in the authors' code (EIDOSlab/entangling-disentangling-bias, ``src/EnD.py``), over the
unordered pairs i > j of the batch, cos clamped to [-1, 1]:

- R⊥ = Σ_b |Σ_{i>j, a_i=a_j=b} cos_ij| / #(same-attribute pairs)   (|·| of each group's sum);
- R∥ = 1 − Σ_{i>j, y_i=y_j, a_i≠a_j} (1 + cos_ij)/2 / #(such pairs);

loss = BCE + α R⊥ + β R∥ (each term 0 when it has no pair). α = β = 0.1 as in the official
``configs.py`` and MEDFAIR.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


def end_terms(z: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(R⊥ disentangle, R∥ entangle) of the official EnD code for features ``z`` (B×…)."""
    unit = F.normalize(z.flatten(1), dim=1)
    cos = (unit @ unit.T).clamp(-1.0, 1.0)
    lower = torch.ones_like(cos, dtype=torch.bool).tril(diagonal=-1)  # each unordered pair once
    dis, n_dis = cos.new_zeros(()), 0
    for b in torch.unique(a):
        member = a == b
        pairs = lower & member[:, None] & member[None, :]
        n = int(pairs.sum())
        if n:
            # |Σ cos| per group (not Σ|cos|): the official code's choice.
            dis = dis + cos[pairs].sum().abs()
            n_dis += n
    dis = dis / n_dis if n_dis else dis
    together = lower & (y[:, None] == y[None, :]) & (a[:, None] != a[None, :])
    ent = 1.0 - ((1.0 + cos[together]) / 2).mean() if together.any() else cos.new_zeros(())
    return dis, ent


@register
class EnD(Method):
    name = "end"
    category = "in"
    family = "disentanglement"
    uses_attribute = True
    citation = ("Tartaglione et al., EnD: Entangling and Disentangling deep representations for "
                "bias correction, CVPR 2021")
    description = ("BCE + α·|mean cos| (same group) + β·(1 − mean (1+cos)/2) (same label, other "
                   "group), on the normalised features")
    hparams = {
        "alpha": HParam(0.1, low=0.01, high=1.0, log=True, help="disentangling weight",
                        symbol="α", paper="0.1 (official default; swept in [0, 1])",
                        medfair="0.1"),
        "beta": HParam(0.1, low=0.01, high=1.0, log=True, help="entangling weight",
                       symbol="β", paper="0.1 (official default; swept in [0, 1])",
                       medfair="0.1"),
    }

    def loss(self, x, y, a):
        z = self.model.features(x)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        dis, ent = end_terms(z, y, a)
        total = task + self.hp["alpha"] * dis + self.hp["beta"] * ent
        return total, {"task": task.detach(), "disentangle": dis.detach(), "entangle": ent.detach()}
