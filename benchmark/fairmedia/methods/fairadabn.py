"""FairAdaBN (Xu et al. 2023): every batch-norm layer becomes one batch-norm per group (own
running statistics and affine parameters); the loss adds a statistical-parity penalty."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from fairmedia.errors import UserError
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


class GroupBatchNorm(nn.Module):
    """One copy of a batch-norm layer per group; rows are normalised by their group's copy.
    ``groups`` (the batch's group codes) is set by the method before every forward."""

    def __init__(self, norm: _BatchNorm, n_groups: int):
        super().__init__()
        self.norms = nn.ModuleList(copy.deepcopy(norm) for _ in range(n_groups))
        self.groups: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.groups is None:
            raise RuntimeError("GroupBatchNorm needs the batch's group codes")
        out = torch.empty_like(x)
        for g in torch.unique(self.groups).tolist():
            rows = self.groups == g
            norm = self.norms[g]
            if self.training and rows.sum() * x[0, 0].numel() < 2:
                # One value per channel has no batch variance: use the group's running statistics.
                norm.eval()
                out[rows] = norm(x[rows])
                norm.train()
            else:
                out[rows] = norm(x[rows])
        return out


def split_batchnorms(module: nn.Module, n_groups: int) -> int:
    """Replace every batch-norm layer under ``module`` in place; returns how many were replaced."""
    count = 0
    for name, child in module.named_children():
        if isinstance(child, _BatchNorm):
            setattr(module, name, GroupBatchNorm(child, n_groups))
            count += 1
        else:
            count += split_batchnorms(child, n_groups)
    return count


@register
class FairAdaBN(Method):
    name = "fairadabn"
    category = "in"
    family = "normalisation"
    uses_attribute = True
    citation = ("Xu et al., FairAdaBN: Mitigating unfairness with adaptive batch normalization and "
                "its application to dermatological disease classification, MICCAI 2023")
    description = ("group-specific batch-norm statistics and affine parameters + α × mean pairwise "
                   "gap between groups' mean predicted probability (statistical-parity loss)")
    hparams = {
        "alpha": HParam(0.1, low=0.01, high=1.0, log=True, help="weight of the parity loss"),
    }

    def build(self) -> None:
        if split_batchnorms(self.model, self.n_groups) == 0:
            raise UserError("fairadabn needs an architecture with batch-norm layers")
        self.group_norms = [m for m in self.model.modules() if isinstance(m, GroupBatchNorm)]

    def _set_groups(self, a: torch.Tensor) -> None:
        for norm in self.group_norms:
            norm.groups = a

    def loss(self, x, y, a):
        self._set_groups(a)
        logits = self.model(x)
        task = F.binary_cross_entropy_with_logits(logits, y)
        prob = torch.sigmoid(logits)
        present = torch.unique(a)
        means = torch.stack([prob[a == g].mean() for g in present])
        parity = (means[:, None] - means[None, :]).abs().sum() / max(len(present) * (len(present) - 1), 1)
        return task + self.hp["alpha"] * parity, {"task": task.detach(), "parity": parity.detach()}

    def predict(self, x, a):
        self._set_groups(a)
        return self.model(x)
