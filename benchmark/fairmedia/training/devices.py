"""Check a ``--device`` name before any data is loaded.

Accepted: ``cpu``, ``cuda``, ``cuda:N`` (N a GPU index on this machine), ``mps`` and ``auto``
(CUDA when available, else CPU). The training loop resolves the name (``loop._resolve_device``);
this only makes a typo such as ``gpu0`` a one-line error instead of torch's traceback.
"""

from __future__ import annotations

import re

from fairmedia.errors import UserError

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
