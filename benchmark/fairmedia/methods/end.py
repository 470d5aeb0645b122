"""EnD (Tartaglione et al. 2021): a regulariser on the features' cosine-similarity matrix that
disentangles images sharing the attribute but not the label and entangles images sharing the
label but not the attribute."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


def end_terms(z: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(disentangle, entangle): mean |cos| over pairs with the same group and different labels;
    mean cos over pairs with the same label and different groups (0 when no such pair)."""
    unit = F.normalize(z.flatten(1), dim=1)
    cos = unit @ unit.T
    same_a = a[:, None] == a[None, :]
    same_y = y[:, None] == y[None, :]
    apart = same_a & ~same_y
    together = same_y & ~same_a
    dis = cos[apart].abs().mean() if apart.any() else cos.new_zeros(())
    ent = cos[together].mean() if together.any() else cos.new_zeros(())
    return dis, ent


@register
class EnD(Method):
    name = "end"
    category = "in"
    family = "disentanglement"
    uses_attribute = True
    citation = ("Tartaglione et al., EnD: Entangling and Disentangling deep representations for "
                "bias correction, CVPR 2021")
    description = "BCE + α·mean|cos| (same group, other label) − β·mean cos (same label, other group)"
    hparams = {
        "alpha": HParam(1.0, low=0.1, high=10.0, log=True, help="disentangling weight"),
        "beta": HParam(1.0, low=0.1, high=10.0, log=True, help="entangling weight"),
    }

    def loss(self, x, y, a):
        z = self.model.features(x)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        dis, ent = end_terms(z, y, a)
        total = task + self.hp["alpha"] * dis - self.hp["beta"] * ent
        return total, {"task": task.detach(), "disentangle": dis.detach(), "entangle": ent.detach()}
