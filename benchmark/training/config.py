"""Everything that defines one training run; hashed to check that a resumed run is the same."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TrainConfig:
    prepared: str
    out: str
    arch: str = "cnn-small"
    method: str = "erm"
    attribute: str = "any"
    seed: int = 0
    epochs: int = 5
    batch_size: int = 64
    eval_batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hparams: dict[str, Any] = field(default_factory=dict)
    hparam_sample: int | None = None  # None: defaults; k: the k-th random configuration
    pretrained: str = "none"
    device: str = "cpu"
    num_workers: int = 0
    threads: int | None = None
    augment: bool = False
    # The GPU path (benchmark/training/accelerate.py); none of it acts on a CPU device.
    amp: bool = False  # bf16 autocast where the GPU supports it
    channels_last: bool = False  # NHWC layout for 2D CNNs
    compile: bool = False  # torch.compile of the network
    pin_memory: bool = False  # page-locked batches, asynchronous host-to-GPU copies
    max_steps_per_epoch: int | None = None  # for tests: cut epochs short

    def identity(self) -> str:
        """Hash of the fields that change results (not paths, devices or worker counts)."""
        # compile and pin_memory change speed, not the computation; leaving them out also keeps
        # the identity of runs checkpointed before these fields existed.
        skip = {"prepared", "out", "device", "num_workers", "threads", "compile", "pin_memory"}
        data = {k: v for k, v in asdict(self).items() if k not in skip}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
