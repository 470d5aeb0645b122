"""LAFTR (Madras et al. 2018): an adversary predicts the attribute from the representation
(with the label too, for equalised odds); the encoder and classifier are trained against it."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairmedia.methods._adversary import attribute_head, cell_mean, frozen_forward
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class LAFTR(Method):
    name = "laftr"
    category = "in"
    family = "adversarial"
    uses_attribute = True
    citation = "Madras et al., Learning Adversarially Fair and Transferable Representations, ICML 2018"
    description = ("alternating min–max: the adversary minimises a group-normalised L1 loss on the "
                   "attribute; the encoder and classifier minimise BCE minus γ times that loss")
    hparams = {
        "gamma": HParam(1.0, low=0.1, high=10.0, log=True, help="weight of the adversary's loss"),
        "fairness": HParam("eo", choices=("dp", "eo"), help="dp: adversary sees z; eo: z and y"),
        "adv_steps": HParam(1, choices=(1, 2, 5), help="adversary steps per encoder step"),
    }

    def build(self) -> None:
        extra = 1 if self.hp["fairness"] == "eo" else 0
        self.adversary = attribute_head(self.model.feature_dim + extra, max(self.n_groups, 2))

    def make_optimizer(self, params):
        # Two optimisers holding disjoint parameters, so neither player moves the other's weights.
        self.adv_optimizer = torch.optim.Adam(self.adversary.parameters(), lr=self.lr)
        return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)

    def optimizers(self):
        return {"main": self.optimizer, "adversary": self.adv_optimizer}

    def _adv_input(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, y[:, None]], 1) if self.hp["fairness"] == "eo" else z

    def adversary_loss(self, logits: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Madras et al.'s group-normalised L1: mean of 1 − p(true group) within each group (each
        group × label cell for eo), averaged over cells."""
        miss = 1 - F.softmax(logits, -1).gather(1, a[:, None]).squeeze(1)
        cell = a * 2 + y.long() if self.hp["fairness"] == "eo" else a
        return cell_mean(miss, cell)

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
        (task - self.hp["gamma"] * adv_on_z).backward()
        self.optimizer.step()
        return {"loss": float((task - self.hp["gamma"] * adv_on_z).detach()), "task": float(task.detach()),
                "adv": float(adv_on_z.detach())}
