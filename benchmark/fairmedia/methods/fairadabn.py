"""FairAdaBN (Xu et al. 2023): the batch-norm layers of the residual blocks become one batch-norm
per group (own running statistics and affine parameters); the loss adds a statistical-parity
penalty.

Which layers are group-specific follows the authors' code (XuZikang/FairAdaBN, ``model.py``,
``BottleNeck_with_IN`` as built by ``main.py``): the stem's batch-norm (after the first convolution)
is shared; every batch-norm after it — inside the blocks and on the projection shortcuts — is split.
Generically: the first batch-norm layer of the network in module order stays shared, all later ones
are split (for torchvision ResNet/DenseNet that first layer is ``bn1``/``norm0``, the stem).

Penalty as the official ``SPD_Loss``: Σ over the classes of the squared gap between two groups'
prediction rates, for a binary label 2·(p̄_g − p̄_h)², averaged over the pairs of groups present; α =
1 as the official loss ``loss_0 + loss_1 + loss_spd``. Deliberate differences: the rates are mean
predicted probabilities (the official code counts argmax predictions, which carries no gradient),
and the task loss is the batch's BCE (official: the sum of the two groups' mean CEs)."""

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


def split_batchnorms(module: nn.Module, n_groups: int, keep_stem: bool = True) -> int:
    """Replace the batch-norm layers under ``module`` in place by per-group copies — all but the
    first in module order (the stem's) when ``keep_stem``; returns how many were replaced."""
    norms = [(name, m) for name, m in module.named_modules() if isinstance(m, _BatchNorm)]
    if keep_stem:
        norms = norms[1:]
    for name, norm in norms:
        parent_name, _, attr = name.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        setattr(parent, attr, GroupBatchNorm(norm, n_groups))
    return len(norms)


def spd_loss(rates: torch.Tensor) -> torch.Tensor:
    """Official SPD for a binary label: Σ_c (P(ŷ=c|g) − P(ŷ=c|h))² = 2 (p̄_g − p̄_h)², averaged
    over the ordered pairs of groups (0 with one group)."""
    k = len(rates)
    gap2 = 2 * (rates[:, None] - rates[None, :]) ** 2
    return gap2.sum() / max(k * (k - 1), 1)


@register
class FairAdaBN(Method):
    name = "fairadabn"
    category = "in"
    family = "normalisation"
    uses_attribute = True
    citation = ("Xu et al., FairAdaBN: Mitigating unfairness with adaptive batch normalization and "
                "its application to dermatological disease classification, MICCAI 2023")
    description = ("group-specific batch-norm statistics and affine parameters (stem shared) + α × "
                   "squared gap between groups' mean predicted probability (statistical parity)")
    hparams = {
        "alpha": HParam(1.0, low=0.01, high=10.0, log=True, help="weight of the parity loss",
                        symbol="α", paper="1 (official code)", medfair=""),
    }

    def build(self) -> None:
        if split_batchnorms(self.model, self.n_groups) == 0:
            raise UserError("fairadabn needs an architecture with at least two batch-norm layers "
                            "(the stem's stays shared; the later ones become per-group)")
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
        parity = spd_loss(means)
        return task + self.hp["alpha"] * parity, {"task": task.detach(), "parity": parity.detach()}

    def predict(self, x, a):
        self._set_groups(a)
        return self.model(x)
