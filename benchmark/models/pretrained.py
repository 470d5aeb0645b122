"""Pretrained weights from local files only: nothing is downloaded at run time.

``pretrained: imagenet`` looks for torchvision's weights file in the torch hub cache
(``$TORCH_HOME/hub/checkpoints/``); ``pretrained: <path>`` loads a state dict from that file.
Files are opened with ``torch.load(weights_only=True)``, which refuses pickled objects.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from benchmark.errors import UserError


def hub_checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.exists():
        raise UserError(f"pretrained weights file {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError and others for foreign pickles
        raise UserError(f"{path}: not a plain weights file ({type(err).__name__}: {err})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise UserError(f"{path}: expected a state dict of tensors")
    return state


def imagenet_weights_path(filename: str) -> Path:
    path = hub_checkpoint_dir() / filename
    if not path.exists():
        raise UserError(
            f"ImageNet weights are not on this machine and are never downloaded at run time. "
            f"Copy {filename} (torchvision's release file) to {path}, or set TORCH_HOME to a "
            f"folder holding hub/checkpoints/{filename}, or use pretrained: none"
        )
    return path


def adapt_first_conv(conv: nn.Conv2d, in_channels: int) -> nn.Conv2d:
    """Return a conv taking ``in_channels`` inputs; pretrained RGB filters are averaged for grey
    inputs (keeping the response to a grey image the same) or repeated for more channels."""
    if conv.in_channels == in_channels:
        return conv
    new = nn.Conv2d(
        in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
        bias=conv.bias is not None,
    )
    with torch.no_grad():
        mean = conv.weight.mean(dim=1, keepdim=True)
        new.weight.copy_(mean.repeat(1, in_channels, 1, 1) * (3 / in_channels))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new
