"""Sharpness-aware minimisation (Foret et al. 2021): the two-step update."""

from __future__ import annotations

import torch
from torch.nn.modules.batchnorm import _BatchNorm

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class SAM(Method):
    name = "sam"
    category = "in"
    family = "flat-minima"
    uses_attribute = False
    citation = ("Foret et al., Sharpness-Aware Minimization for Efficiently Improving "
                "Generalization, ICLR 2021")
    description = ("step 1: climb to w + ρ·g/‖g‖; step 2: the gradient there updates w "
                   "(base optimiser Adam)")
    hparams = {
        "rho": HParam(0.05, low=0.01, high=0.5, log=True, help="neighbourhood radius ρ",
                      symbol="ρ", paper="0.05 (grid {0.01, 0.02, 0.05, 0.1, 0.2, 0.5})",
                      medfair="2 (adaptive ASAM)"),
    }

    def update(self, x, y, a):
        params = [p for p in self.trainable_parameters() if p.requires_grad]
        self.optimizer.zero_grad(set_to_none=True)
        loss, logs = self.loss(x, y, a)
        loss.backward()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        scale = self.hp["rho"] / (norm + 1e-12)
        with torch.no_grad():
            steps = [g * scale for g in grads]
            for p, e in zip(params, steps):
                p.add_(e)
        self.optimizer.zero_grad(set_to_none=True)
        # The second pass must not count the same batch twice in batch-norm running statistics.
        norms = [m for m in self.modules() if isinstance(m, _BatchNorm)]
        saved = [m.momentum for m in norms]
        for m in norms:
            m.momentum = 0.0
        perturbed_loss, _ = self.loss(x, y, a)
        perturbed_loss.backward()
        for m, momentum in zip(norms, saved):
            m.momentum = momentum
        with torch.no_grad():
            for p, e in zip(params, steps):
                p.sub_(e)
        self.optimizer.step()
        return {"loss": float(loss.detach()), "sharp_loss": float(perturbed_loss.detach()),
                **{k: float(v) for k, v in logs.items()}}
