"""A differentiable fairness penalty added to the loss: the gap between each group's mean
predicted probability and the batch's (demographic parity), or the same within each label
(equalised odds: a soft TPR and FPR gap)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


def parity_gap(prob: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    groups = torch.unique(a)
    overall = prob.mean()
    return torch.stack([(prob[a == g].mean() - overall).abs() for g in groups]).mean()


@register
class FairPenalty(Method):
    name = "fair-penalty"
    category = "in"
    family = "constraint"
    uses_attribute = True
    citation = ("Zafar et al., Fairness Constraints: Mechanisms for Fair Classification, AISTATS "
                "2017 (a relaxed parity constraint as a penalty)")
    description = "BCE + λ × mean |group mean p − batch mean p| (within each label for eo)"
    hparams = {
        "weight": HParam(1.0, low=0.1, high=10.0, log=True, help="λ",
                         symbol="λ (penalty for the covariance constraint c)",
                         paper="— (constraint form)", medfair=""),
        "criterion": HParam("eo", choices=("dp", "eo"), symbol="",
                            paper="dp (disparate impact); mistreatment in the follow-up",
                            medfair=""),
    }

    def loss(self, x, y, a):
        logits = self.model(x)
        task = F.binary_cross_entropy_with_logits(logits, y)
        prob = torch.sigmoid(logits)
        if self.hp["criterion"] == "eo":
            gaps = [parity_gap(prob[y == v], a[y == v]) for v in (0, 1) if (y == v).any()]
            penalty = torch.stack(gaps).mean()
        else:
            penalty = parity_gap(prob, a)
        return task + self.hp["weight"] * penalty, {"task": task.detach(), "penalty": penalty.detach()}
