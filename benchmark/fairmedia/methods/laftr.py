"""LAFTR (Madras et al., "Learning Adversarially Fair and Transferable Representations", ICML
2018): an adversary ``h`` predicts the attribute from the representation ``z = f(x)`` (and from
the label ``y`` for the equalised-odds and equal-opportunity variants); the encoder and
classifier are trained against it, alternating updates with two optimisers.

The paper's adversarial objective is a *sum* over groups (or group × label cells) of each cell's
mean L1 error of the adversary::

    DP:  L_Adv = 2 − Σ_{a∈{0,1}}       (1/|D_a|)   Σ_{(x,a)∈D_a}   |h(f(x)) − a|
    EO:  L_Adv = 4 − Σ_{a,y∈{0,1}}     (1/|D_a^y|) Σ_{(x,a)∈D_a^y} |h(f(x), y) − a|

The adversary maximises ``L_Adv`` (minimises the summed cell errors); the encoder and classifier
minimise ``L_C + γ·L_Adv`` (γ the paper's fairness coefficient). The official code implements
the same sum by weighting each row's error by 1 / (its cell's training proportion) and averaging
over the batch. Here the cell means are taken within the batch.

Variants: ``dp`` (adversary sees z), ``eo`` (z and y, four cells), ``eqopp0`` / ``eqopp1`` (z and
y, only the y = 0 resp. y = 1 cells; the official code's equal-opportunity variant is ``eqopp0``,
MEDFAIR offers both; ``eqopp1`` equalises the true-positive rate, the under-diagnosis view).

With more than two groups ``h`` outputs a softmax and the per-row error is ``1 − p(true group)``;
for two groups this equals ``|σ(logit) − a|`` of the paper's single sigmoid output. Reconstruction
(the paper's ``β·L_Dec``, used for transfer) is not included (β = 0, the official default)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairmedia.methods._adversary import attribute_head, frozen_forward
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register

VARIANTS = ("dp", "eo", "eqopp0", "eqopp1")


def group_l1_sum(error: torch.Tensor, cell: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Σ over the cells present (among rows where ``keep``) of each cell's mean ``error``."""
    error, cell = error[keep], cell[keep]
    if cell.numel() == 0:
        return error.sum()  # zero, with a graph
    k = int(cell.max()) + 1
    sums = torch.zeros(k, dtype=error.dtype, device=error.device).index_add_(0, cell, error)
    counts = torch.bincount(cell, minlength=k).to(error.dtype)
    present = counts > 0
    return (sums[present] / counts[present]).sum()


@register
class LAFTR(Method):
    name = "laftr"
    category = "in"
    family = "adversarial"
    uses_attribute = True
    citation = "Madras et al., Learning Adversarially Fair and Transferable Representations, ICML 2018"
    description = ("alternating min–max: the adversary minimises the sum over groups (× labels "
                   "for eo) of its mean L1 error on the attribute; the encoder and classifier "
                   "minimise BCE − γ times that sum")
    hparams = {
        "gamma": HParam(1.0, low=0.1, high=10.0, log=True,
                        help="weight of the adversarial term (official config: fair_coeff 1.0)",
                        symbol="γ",
                        paper="",
                        medfair="fair_coeff 1.0"),
        "fairness": HParam("eo", choices=VARIANTS,
                           help="dp: adversary sees z; eo: z and y; eqopp0/1: z and y, the y=0/1 "
                                "cells only", symbol="DP/EO/EqOpp", paper="DP, EO, EqOpp",
                           medfair="laftr-eqodd"),
        "adv_steps": HParam(1, choices=(1, 2, 5),
                            help="adversary steps per encoder step (official: aud_steps 1)",
                            symbol="", paper="", medfair="1"),
    }

    def build(self) -> None:
        extra = 0 if self.hp["fairness"] == "dp" else 1
        self.adversary = attribute_head(self.model.feature_dim + extra, max(self.n_groups, 2))

    def make_optimizer(self, params):
        # Two optimisers holding disjoint parameters, so neither player moves the other's weights.
        self.adv_optimizer = torch.optim.Adam(self.adversary.parameters(), lr=self.lr)
        return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)

    def optimizers(self):
        return {"main": self.optimizer, "adversary": self.adv_optimizer}

    def _adv_input(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return z if self.hp["fairness"] == "dp" else torch.cat([z, y[:, None]], 1)

    def adversary_loss(self, logits: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """The adversary's summed group-normalised L1 error (Σ_cells mean_cell |h − a|); the
        paper's L_Adv is (number of cells) minus this."""
        error = 1 - F.softmax(logits, -1).gather(1, a[:, None]).squeeze(1)
        variant = self.hp["fairness"]
        yl = y.long()
        if variant == "dp":
            cell, keep = a, torch.ones_like(a, dtype=torch.bool)
        else:
            cell = a * 2 + yl
            keep = {"eo": torch.ones_like(a, dtype=torch.bool), "eqopp0": yl == 0,
                    "eqopp1": yl == 1}[variant]
        return group_l1_sum(error, cell, keep)

    def update(self, x, y, a):
        z = self.model.features(x)
        for _ in range(self.hp["adv_steps"]):
            self.adv_optimizer.zero_grad(set_to_none=True)
            adv = self.adversary_loss(self.adversary(self._adv_input(z.detach(), y)), y, a)
            adv.backward()
            self.adv_optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        adv_on_z = self.adversary_loss(frozen_forward(self.adversary, self._adv_input(z, y)), y, a)
        loss = task - self.hp["gamma"] * adv_on_z
        loss.backward()
        self.optimizer.step()
        return {"loss": float(loss.detach()), "task": float(task.detach()),
                "adv": float(adv_on_z.detach())}
