"""Pieces shared by the adversarial and disentangling methods: gradient reversal, a small
attribute head, running a head with its parameters frozen, group-normalised losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity forward; multiplies the gradient by ``-scale`` backward (Ganin & Lempitsky 2015)."""
    return _ReverseGradient.apply(x, scale)


def attribute_head(in_dim: int, n_out: int, hidden: int = 64) -> nn.Module:
    """A one-hidden-layer MLP predicting the attribute from features."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_out))


def frozen_forward(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with its parameters detached: gradients reach ``x`` but not the module."""
    params = {k: v.detach() for k, v in module.named_parameters()}
    return functional_call(module, params, (x,))


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy of the softmax of ``logits`` (B×K)."""
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(-1).mean()


def cell_mean(values: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
    """Mean over the cells present of each cell's mean of ``values`` — every group (or group ×
    label cell) counts equally however many rows it has."""
    k = int(cell.max()) + 1
    sums = torch.zeros(k, dtype=values.dtype, device=values.device).index_add_(0, cell, values)
    counts = torch.bincount(cell, minlength=k).to(values.dtype)
    present = counts > 0
    return (sums[present] / counts[present]).mean()
