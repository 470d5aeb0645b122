"""Orthogonal disentangled representations (Sarhan et al. 2020), on top of the shared encoder:
two variational codes, z_T for the task and z_S for the attribute, pulled towards priors with
orthogonal means; z_S must predict the attribute while the attribute classifier's prediction
from z_T must be uninformative (maximal entropy)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fairmedia.methods._adversary import entropy, frozen_forward
from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class ODR(Method):
    name = "odr"
    category = "in"
    family = "disentanglement"
    uses_attribute = True
    citation = ("Sarhan et al., Fairness by Learning Orthogonal Disentangled Representations, "
                "ECCV 2020")
    description = ("task/sensitive Gaussian codes with orthogonal prior means (KL), attribute "
                   "CE on z_S, entropy of the attribute classifier on z_T maximised")
    hparams = {
        "code_dim": HParam(16, choices=(8, 16, 32), help="size of each code"),
        "lambda_entropy": HParam(1.0, low=0.1, high=10.0, log=True),
        "lambda_kl": HParam(0.01, low=1e-3, high=0.1, log=True),
    }

    def build(self) -> None:
        d, k = self.hp["code_dim"], max(self.n_groups, 2)
        self.to_task = nn.Linear(self.model.feature_dim, 2 * d)  # mean, log-variance
        self.to_sens = nn.Linear(self.model.feature_dim, 2 * d)
        self.task_head = nn.Linear(d, 1)
        self.sens_head = nn.Linear(d, k)
        # Orthogonal prior means: the first half of the coordinates for z_T, the second for z_S.
        prior = torch.zeros(2, d)
        prior[0, : d // 2] = 1.0
        prior[1, d // 2:] = 1.0
        self.register_buffer("prior_mean", prior)

    def trainable_parameters(self):
        return [p for n, p in self.named_parameters() if not n.startswith("model.head.")]

    @staticmethod
    def _kl(mu: torch.Tensor, logvar: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
        return 0.5 * (logvar.exp() + (mu - prior) ** 2 - 1 - logvar).sum(1).mean()

    def loss(self, x, y, a):
        h = self.model.features(x)
        mu_t, logvar_t = self.to_task(h).chunk(2, 1)
        mu_s, logvar_s = self.to_sens(h).chunk(2, 1)
        z_t = mu_t + torch.randn_like(mu_t) * (0.5 * logvar_t).exp()
        z_s = mu_s + torch.randn_like(mu_s) * (0.5 * logvar_s).exp()
        task = F.binary_cross_entropy_with_logits(self.task_head(z_t).squeeze(-1), y)
        sens = F.cross_entropy(self.sens_head(z_s), a)
        leak = -entropy(frozen_forward(self.sens_head, z_t))
        kl = self._kl(mu_t, logvar_t, self.prior_mean[0]) + self._kl(mu_s, logvar_s, self.prior_mean[1])
        total = task + sens + self.hp["lambda_entropy"] * leak + self.hp["lambda_kl"] * kl
        return total, {"task": task.detach(), "sens": sens.detach(), "kl": kl.detach()}

    def predict(self, x, a):
        mu_t, _ = self.to_task(self.model.features(x)).chunk(2, 1)
        return self.task_head(mu_t).squeeze(-1)

    def eval_model(self) -> nn.Module:
        return self
