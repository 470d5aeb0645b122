"""Fair supervised contrastive loss (Park et al. 2022), trained jointly with the classifier.

As in the authors' code (sungho-CoolG/FSCL, ``losses.py``, method ``FSCL``), for anchor i with
positives P(i) (other images with its label, any group) and denominator set N(i) (images with
another label and the anchor's group — positives are NOT in the denominator):

    ℓ_i = −(τ/τ_b) · 1/|P(i)| · Σ_{p∈P(i)} [s_ip − log Σ_{n∈N(i)} exp s_in],   s = cos/τ, τ_b = 0.07,

averaged over the anchors. FSCL+ (``group_norm``) divides the sum by the number of positives in
the anchor's group instead of |P(i)| and scales ℓ_i by (B/8)/n_{y,s}(i), n_{y,s}(i) the size of the
anchor's (label, group) cell in the batch (official: ``C = N/8``, ``1/(|P_s(i)|+1)``). An empty
N(i) contributes the constant the official max-shifted logits give (no gradient); anchors without
a positive are skipped (official: NaN). Deliberate differences: one view per image (no augmented
pair; a single view gives the same cell ratios) and a joint loss BCE + λ·FSCL instead of the
paper's two stages (contrastive pre-training, then a linear classifier).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register

BASE_TEMPERATURE = 0.07  # official FairSupConLoss(base_temperature=0.07)


def fair_supcon(z: torch.Tensor, y: torch.Tensor, a: torch.Tensor, temperature: float,
                group_norm: bool = False) -> torch.Tensor:
    """The official FSCL (or, with ``group_norm``, FSCL+) loss of projections ``z`` (B×d)."""
    unit = F.normalize(z, dim=1)
    sim = unit @ unit.T / temperature
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    same_y = y[:, None] == y[None, :]
    same_a = a[:, None] == a[None, :]
    pos = same_y & ~eye
    den = ~same_y & same_a
    # Official: logits shifted by the row max (detached); log(Σ+[Σ==0]) makes an empty
    # denominator contribute that max as a constant.
    row_max = sim.max(dim=1).values.detach()
    log_den = torch.where(den.any(1), torch.logsumexp(sim.masked_fill(~den, float("-inf")), dim=1),
                          row_max)
    log_prob_sum = ((sim - log_den[:, None]) * pos).sum(1)
    n_pos = pos.sum(1)
    if group_norm:
        n_pos_group = (pos & same_a).sum(1)
        keep = n_pos_group > 0
        per_anchor = -(temperature / BASE_TEMPERATURE) * log_prob_sum / n_pos_group.clamp(min=1)
        per_anchor = per_anchor * (len(z) / 8) / (n_pos_group + 1)
    else:
        keep = n_pos > 0
        per_anchor = -(temperature / BASE_TEMPERATURE) * log_prob_sum / n_pos.clamp(min=1)
    if not keep.any():
        return z.new_zeros(())
    return per_anchor[keep].mean()


@register
class FSCL(Method):
    name = "fscl"
    category = "in"
    family = "contrastive"
    uses_attribute = True
    citation = ("Park et al., Fair Contrastive Learning for Facial Attribute Classification, "
                "CVPR 2022")
    description = "BCE + λ × fair supervised contrastive loss on a projection of the features"
    hparams = {
        "weight": HParam(0.5, low=0.05, high=2.0, log=True,
                         help="λ, weight of the contrastive loss in our joint objective",
                         symbol="", paper="— (two-stage training)", medfair=""),
        "temperature": HParam(0.1, low=0.05, high=0.5, log=True, help="softmax temperature",
                              symbol="τ", paper="0.1 (official --temp)", medfair=""),
        "group_norm": HParam(False, choices=(False, True),
                             help="FSCL+ group-wise normalisation (official --group_norm 1)",
                             symbol="FSCL+", paper="both variants reported (official default off)",
                             medfair=""),
    }

    def build(self) -> None:
        d = self.model.feature_dim
        self.projection = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 32))

    def trainable_parameters(self):
        return list(self.model.parameters()) + list(self.projection.parameters())

    def loss(self, x, y, a):
        z = self.model.features(x)
        task = F.binary_cross_entropy_with_logits(self.model.head(z).squeeze(-1), y)
        con = fair_supcon(self.projection(z), y, a, self.hp["temperature"],
                          bool(self.hp["group_norm"]))
        return task + self.hp["weight"] * con, {"task": task.detach(), "contrastive": con.detach()}
