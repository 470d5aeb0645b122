"""Everything that defines one training run; hashed to check that a resumed run is the same."""

from __future__ import annotations

import hashlib
import json
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

from fairmedia.errors import UserError


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
    # The GPU path (benchmark/fairmedia/training/accelerate.py); none of it acts on a CPU device.
    amp: bool = False  # bf16 autocast where the GPU supports it
    channels_last: bool = False  # NHWC layout for 2D CNNs
    compile: bool = False  # torch.compile of the network
    pin_memory: bool = False  # page-locked batches, asynchronous host-to-GPU copies
    max_steps_per_epoch: int | None = None  # for tests: cut epochs short

    def __post_init__(self) -> None:
        epochs = self.epochs
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise UserError(f"epochs must be a whole number, at least 1 (got {epochs!r})")

    def identity_fields(self) -> dict[str, Any]:
        """The fields that change results (not paths, devices or worker counts)."""
        # compile and pin_memory change speed, not the computation; leaving them out also keeps
        # the identity of runs checkpointed before these fields existed.
        skip = {"prepared", "out", "device", "num_workers", "threads", "compile", "pin_memory"}
        return json.loads(json.dumps({k: v for k, v in asdict(self).items() if k not in skip},
                                     sort_keys=True, default=str))

    def identity(self, dataset_hash: str | None = None) -> str:
        """Hash of :meth:`identity_fields` and of the prepared data's content hash.

        The run's identity is (configuration, dataset content): a checkpoint is resumed only when
        both match, so a model trained on data since rebuilt in the same folder is never taken
        for the result on the new data. The prepared *path* stays out: moving or renaming a
        folder does not retrain. ``dataset_hash=None`` gives the configuration-only hash (what
        checkpoints held before the dataset was part of the identity).

        The code version is deliberately not part of it: every commit, including ones that touch
        no computation, would retrain every run. ``run.json`` records the commit instead; a
        change that alters results is expected to bump a card/preset version or a config field.
        """
        data: dict[str, Any] = self.identity_fields()
        if dataset_hash is not None:
            data = {"config": data, "dataset_content_hash": dataset_hash}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
