"""Check a ``--device`` name before any data is loaded.

Accepted: ``cpu``, ``cuda``, ``cuda:N`` (N a GPU index on this machine), ``mps`` and ``auto``
(CUDA when available, else CPU; the default). :func:`check_device` makes a typo such as ``gpu0``
or ``cuda`` on a machine without CUDA a one-line error instead of torch's traceback;
:func:`resolve_device` turns the name into the device a run uses and says why, for its log.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fairmedia.errors import UserError

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = "cpu, cuda, cuda:N (N = GPU index), mps, auto"
DEVICE_PATTERN = r"(cpu|auto|mps|cuda(:[0-9]+)?)"  # the config schema states the same
_VALID = re.compile(DEVICE_PATTERN)


def check_device(name: str) -> str:
    """``name`` unchanged, or a ``UserError`` naming it, the valid names and what to use instead."""
    if not isinstance(name, str) or not _VALID.fullmatch(name):
        raise UserError(f"--device {name!r} is not a device name; expected one of {DEVICE_NAMES}")
    import torch

    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"--device {name!r}: CUDA is not available on this machine; use "
                            "--device cpu (or auto)")
        index = int(name.partition(":")[2] or 0)
        count = torch.cuda.device_count()
        if index >= count:
            raise UserError(f"--device {name!r}: this machine has {count} CUDA device(s), "
                            f"cuda:0 to cuda:{count - 1}")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("--device 'mps': Apple's Metal backend is not available on this machine; "
                        "use --device cpu (or auto)")
    return name


def resolve_device(name: str) -> tuple[torch.device, str]:
    """The device ``name`` stands for on this machine, and a log line naming it and why
    (``auto``: CUDA when torch sees a GPU, else the CPU)."""
    import torch

    check_device(name)
    if name == "auto":
        if torch.cuda.is_available():
            device = torch.device("cuda")
            why = "--device auto: CUDA is available"
        else:
            device = torch.device("cpu")
            why = "--device auto: no CUDA device on this machine"
    else:
        device, why = torch.device(name), f"--device {name}"
    shown = device.type if device.index is None else f"{device.type}:{device.index}"
    if device.type == "cuda":
        shown += f" ({torch.cuda.get_device_name(device)})"
    return device, f"device {shown} ({why})"
