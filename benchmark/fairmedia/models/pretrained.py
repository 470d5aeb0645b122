"""Pretrained weights from local files only: nothing is downloaded at run time.

``pretrained: imagenet`` looks for torchvision's weights file in the torch hub cache
(``$TORCH_HOME/hub/checkpoints/``); ``pretrained: <path>`` loads a state dict from that file.
Files are opened with ``torch.load(weights_only=True)``, which refuses pickled objects.

Loading is strict (:func:`load_pretrained`): every weight the backbone expects, except the
classifier head the registry replaces, must come from the file with its shape, and the file may
hold nothing else; anything else is an error listing the keys. A wrapper prefix on every key
(``module.`` from DataParallel/DDP, ``model.``, ``backbone.``) is stripped, and a warning says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from fairmedia.errors import UserError


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


WRAPPER_PREFIXES = ("module.", "model.", "backbone.")
_KEYS_SHOWN = 5

log = logging.getLogger(__name__)


def _first(keys: list[str]) -> str:
    more = f" and {len(keys) - _KEYS_SHOWN} more" if len(keys) > _KEYS_SHOWN else ""
    return ", ".join(repr(k) for k in keys[:_KEYS_SHOWN]) + more


def strip_wrapper_prefixes(state: dict[str, torch.Tensor], expected: set[str], source: str
                           ) -> dict[str, torch.Tensor]:
    """Remove a wrapper prefix that *every* key carries and no expected key starts with (so a
    network whose own submodule is called ``model`` keeps its keys); says so in a warning."""
    changed = True
    while changed and state:
        changed = False
        for prefix in WRAPPER_PREFIXES:
            if all(k.startswith(prefix) for k in state) and not any(
                    k.startswith(prefix) for k in expected):
                state = {k[len(prefix):]: v for k, v in state.items()}
                log.warning("%s: stripped the wrapper prefix %r from all %d keys (a %s checkpoint)",
                            source, prefix, len(state),
                            "DataParallel/DDP" if prefix == "module." else "wrapped-model")
                changed = True
    return state


def load_pretrained(
    net: nn.Module,
    path: str | Path,
    *,
    arch: str,
    head_prefixes: tuple[str, ...] = (),
    rename: Callable[[str], str] | None = None,
    rgb_first_conv: bool = False,
) -> None:
    """Load the weights file ``path`` into ``net``, strictly.

    ``head_prefixes`` name the classifier the registry replaces: those keys are dropped from the
    file and not required. ``rename`` maps a file key to the network's name (old checkpoint
    layouts). ``rgb_first_conv``: the network takes RGB weights and is adapted to the data's
    channels afterwards (the 2D backbones), which the shape error says. Missing keys, unexpected
    keys and shape mismatches are a ``UserError`` naming the file and the first few keys, raised
    before ``net`` is touched."""
    path = Path(path)
    state = load_state_dict_file(path)
    expected = {k: v for k, v in net.state_dict().items() if not k.startswith(head_prefixes)}
    state = strip_wrapper_prefixes(state, set(expected), str(path))
    if rename is not None:
        state = {rename(k): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.startswith(head_prefixes)}
    not_tensors = sorted(k for k, v in state.items() if not isinstance(v, torch.Tensor))
    if not_tensors:
        raise UserError(f"{path}: entries {_first(not_tensors)} are not tensors; expected a plain "
                        f"state dict of {arch} weights (name -> tensor)")
    shapes = [f"{k!r} is {list(v.shape)} in the file but {list(expected[k].shape)} in {arch}"
              for k, v in sorted(state.items()) if k in expected and v.shape != expected[k].shape]
    if shapes:
        channel_hint = (" with 3 (RGB) input channels: the first conv is adapted to the data's "
                        "channels after loading") if rgb_first_conv else ""
        more = f" (and {len(shapes) - 3} more)" if len(shapes) > 3 else ""
        raise UserError(
            f"{path}: {len(shapes)} weight(s) have the wrong shape for {arch}: "
            f"{'; '.join(shapes[:3])}{more}. The file holds another architecture, variant or "
            f"number of input channels; use weights saved from {arch}{channel_hint}"
        )
    # BatchNorm fills a missing num_batches_tracked itself (checkpoints from before torch 0.4.1).
    required = [k for k in expected if not k.endswith(".num_batches_tracked")]
    missing = sorted(k for k in required if k not in state)
    unexpected = sorted(k for k in state if k not in expected)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} of the {len(required)} entries {arch} needs are "
                         f"missing ({_first(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} keys in the file are not {arch} weights "
                         f"({_first(unexpected)})")
        heads = {k.split(".", 1)[0] for k in state}
        if len(heads) == 1 and len(state) > 1:
            parts.append(f"every key in the file starts with {next(iter(heads)) + '.'!r}, "
                         "perhaps a wrapper around the backbone")
        raise UserError(
            f"{path}: does not hold {arch} weights: {'; '.join(parts)}. Save the backbone's "
            f"state_dict() (a prefix {', '.join(WRAPPER_PREFIXES)} on every key is stripped), "
            "or use pretrained: none"
        )
    result = net.load_state_dict(state, strict=False)
    left = [k for k in result.missing_keys if not k.startswith(head_prefixes)]
    if left or result.unexpected_keys:  # the checks above make this unreachable
        raise RuntimeError(f"{path}: strict loading left {left} {result.unexpected_keys}")


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
