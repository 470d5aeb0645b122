"""Backbone registry: each architecture is registered by name with a one-line description and
the number of spatial dimensions it accepts; ``build_model`` wraps it with a linear head."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from fairmedia.errors import UserError


@dataclass(frozen=True)
class ArchSpec:
    name: str
    description: str
    spatial_dims: int  # 2 for images, 3 for volumes
    build: Callable[[int, str], tuple[nn.Module, int]]  # (in_channels, pretrained) -> (encoder, dim)
    family: str = "cnn"


ARCHS: dict[str, ArchSpec] = {}


def register_arch(name: str, description: str, spatial_dims: int = 2, family: str = "cnn"):
    def wrap(fn: Callable[[int, str], tuple[nn.Module, int]]):
        if name in ARCHS:
            raise ValueError(f"architecture {name!r} registered twice")
        ARCHS[name] = ArchSpec(name, description, spatial_dims, fn, family)
        return fn

    return wrap


class FeatureClassifier(nn.Module):
    """Encoder → feature vector → linear head giving one logit per image.

    Methods reach the features through ``features(x)`` (adversarial heads, MMD, contrastive
    losses) and the head through ``head``.
    """

    def __init__(self, encoder: nn.Module, feature_dim: int):
        super().__init__()
        self.encoder = encoder
        self.feature_dim = feature_dim
        self.head = nn.Linear(feature_dim, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)).squeeze(-1)


def _load_all() -> None:
    from fairmedia.discovery import import_plugins

    import_plugins("fairmedia.models")


def available_archs() -> dict[str, ArchSpec]:
    _load_all()
    return dict(sorted(ARCHS.items()))


def get_arch(name: str) -> ArchSpec:
    archs = available_archs()
    if name not in archs:
        raise UserError(f"unknown architecture {name!r}; valid: {', '.join(archs)}")
    return archs[name]


def build_model(
    arch: str, in_channels: int, *, spatial_dims: int = 2, pretrained: str = "none"
) -> FeatureClassifier:
    """Build ``arch`` for inputs with ``in_channels`` channels and ``spatial_dims`` dimensions."""
    spec = get_arch(arch)
    if spec.spatial_dims != spatial_dims:
        fitting = [n for n, s in available_archs().items() if s.spatial_dims == spatial_dims]
        raise UserError(
            f"architecture {arch!r} takes {spec.spatial_dims}D inputs but the data are "
            f"{spatial_dims}D; architectures for {spatial_dims}D data: {', '.join(fitting)}"
        )
    encoder, dim = spec.build(in_channels, pretrained)
    return FeatureClassifier(encoder, dim)
