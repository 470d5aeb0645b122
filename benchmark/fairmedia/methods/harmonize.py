"""Per-group intensity standardisation of the input: the simplest data harmonisation."""

from __future__ import annotations

import torch

from fairmedia.methods.base import HParam, Method
from fairmedia.methods.registry import register


@register
class Harmonize(Method):
    name = "harmonize"
    category = "pre"
    family = "harmonisation"
    uses_attribute = True
    citation = ("Fortin et al., Harmonization of multi-site diffusion tensor imaging data, "
                "NeuroImage 2017 (location-scale harmonisation, here per group and channel)")
    description = ("standardise each image's intensities with its group's mean and std per channel, "
                   "estimated from the training images seen so far")
    hparams = {
        "eps": HParam(1e-3, help="floor on the group std", symbol="", paper="", medfair=""),
    }

    def build(self) -> None:
        # Cumulative (not momentum) sums over every training image seen: after one epoch the
        # statistics are those of the whole training set of each group.
        channels = self._channels()
        self.register_buffer("count", torch.zeros(self.n_groups, dtype=torch.float64))
        self.register_buffer("total", torch.zeros(self.n_groups, channels, dtype=torch.float64))
        self.register_buffer("total_sq", torch.zeros(self.n_groups, channels, dtype=torch.float64))

    def _channels(self) -> int:
        first = next(m for m in self.model.encoder.modules() if hasattr(m, "in_channels"))
        return int(first.in_channels)

    @torch.no_grad()
    def _accumulate(self, x: torch.Tensor, a: torch.Tensor) -> None:
        pixels = x[0, 0].numel()
        flat = x.flatten(2).double()  # B × C × pixels
        self.count.index_add_(0, a, torch.full_like(a, pixels, dtype=torch.float64))
        self.total.index_add_(0, a, flat.sum(-1))
        self.total_sq.index_add_(0, a, (flat**2).sum(-1))

    def group_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-group mean and std (groups × channels); groups never seen get mean 0, std 1."""
        n = self.count.clamp(min=1)[:, None]
        mean = self.total / n
        var = (self.total_sq / n - mean**2).clamp(min=0)
        std = var.sqrt().clamp(min=self.hp["eps"])
        unseen = (self.count == 0)[:, None]
        return torch.where(unseen, 0.0, mean).float(), torch.where(unseen, 1.0, std).float()

    def harmonise(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        mean, std = self.group_stats()
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.ndim - 2)
        return (x - mean[a].view(shape)) / std[a].view(shape)

    def loss(self, x, y, a):
        self._accumulate(x, a)
        return super().loss(self.harmonise(x, a), y, a)

    def predict(self, x, a):
        return self.model(self.harmonise(x, a))

    def eval_model(self):
        return self  # the statistics are part of the model
