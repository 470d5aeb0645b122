"""Everything that defines one training run; hashed to check that a resumed run is the same.

:class:`TrainConfig` is the one declaration of the training options: each field's name, type,
default and :class:`Option` metadata (help text, CLI flag, identity, speed-only, test-only,
workflow transport). The ``train`` command (``fairmedia.commands.train``) builds its arguments
from it, ``fairmedia.grid`` reads the workflow's defaults from it, and the tests check that the
config schema's ``train:`` section states the same defaults. This module imports no torch:
planning reads it.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from typing import Any

from fairmedia.errors import UserError
from fairmedia.training.devices import DEVICE_NAMES, DEVICE_PATTERN


class _AsCli:
    def __repr__(self) -> str:
        return "AS_CLI"


AS_CLI = _AsCli()  # Option.workflow_default: the workflow's default is the field's own
GPU_PATH = "GPU path (no effect on a CPU device)"
FOR_TESTS = "for tests"


@dataclass(frozen=True)
class Option:
    """What a :class:`TrainConfig` field means beyond its type and default."""

    help: str
    flag: str | None = None  # CLI flag without dashes; None: the field name with '-' for '_'
    metavar: str | None = None
    none_means: str = ""  # what the default None does, for --help
    identity: bool = True  # enters TrainConfig.identity(): a different value is a different run
    speed_only: bool = False  # changes how fast a run goes, never its numbers
    test_only: bool = False  # a knob for tests, not for experiments
    config: bool = False  # a key of the workflow config's `train:` section
    # Snakemake resource that carries a speed-only config option (no rerun trigger); config
    # options without one reach the command line of grid.train_args (a rerun trigger).
    resource: str | None = None
    # The workflow's default where it must differ from the CLI's (the field's own: AS_CLI).
    workflow_default: Any = AS_CLI
    workflow_default_reason: str = ""
    pattern: str | None = None  # the shape a value must have (re.fullmatch); the schema states it
    group: str | None = None  # heading of the option in `train --help`

    def cli_flag(self, name: str) -> str:
        return "--" + (self.flag or name.replace("_", "-"))


def option(default: Any = MISSING, *, default_factory: Any = MISSING, **meta: Any) -> Any:
    """A dataclass field carrying its :class:`Option` (``help=`` is required)."""
    return field(default=default, default_factory=default_factory, metadata={"option": Option(**meta)})


@dataclass
class TrainConfig:
    prepared: str = option(help="prepared dataset folder", identity=False)
    out: str = option(help="run folder to write", identity=False)
    arch: str = option("cnn-small", help="network architecture (`fairmedia models` lists them)")
    method: str = option("erm", help="training method (`fairmedia methods` lists them)")
    attribute: str = option("any", help="sensitive attribute, or 'any' for attribute-free methods")
    seed: int = option(0, help="random seed of initialisation, batch order and augmentation")
    epochs: int = option(8, help="training epochs", config=True)
    batch_size: int = option(64, help="training batch size", config=True)
    eval_batch_size: int = option(256, help="batch size when scoring the evaluation rows")
    lr: float = option(1e-3, help="learning rate", config=True)
    weight_decay: float = option(1e-4, help="weight decay", config=True)
    hparams: dict[str, Any] = option(default_factory=dict, flag="hparam", metavar="KEY=VALUE",
                                     help="method hyperparameter override (repeatable)")
    hparam_sample: int | None = option(
        None, metavar="K", none_means="the method's defaults",
        help="use the K-th random hyperparameter configuration instead of the defaults")
    pretrained: str = option("none", help="none | imagenet | PATH of a weights file", config=True)
    # Where the run computes is not what it computes: a run resumed on another device is the same.
    device: str = option("auto", help=f"{DEVICE_NAMES}; auto: CUDA when available, else CPU",
                         identity=False, config=True, pattern=DEVICE_PATTERN)
    num_workers: int = option(0, help="data-loading worker processes", identity=False,
                              speed_only=True, config=True, resource="loader_workers")
    threads: int | None = option(
        None, help="torch CPU threads", none_means="torch's own choice", identity=False,
        speed_only=True, config=True, resource="torch_threads", workflow_default=1,
        workflow_default_reason="Snakemake runs --cores jobs side by side; one thread each "
                                "keeps them from oversubscribing the machine")
    augment: bool = option(False, help="random flips/affine on training images", config=True)
    # The GPU path (benchmark/fairmedia/training/accelerate.py); none of it acts on a CPU device.
    amp: bool = option(False, help="bf16 mixed precision (autocast) where the GPU supports it",
                       config=True, group=GPU_PATH)
    channels_last: bool = option(False, help="NHWC memory layout (2D CNNs)", config=True,
                                 group=GPU_PATH)
    # compile and pin_memory change speed, not the computation; leaving them out of the identity
    # also keeps the identity of runs checkpointed before these fields existed.
    compile: bool = option(False, help="torch.compile the network", identity=False,
                           speed_only=True, config=True, resource="torch_compile", group=GPU_PATH)
    pin_memory: bool = option(False, help="page-locked batches, asynchronous host-to-GPU copies",
                              identity=False, speed_only=True, config=True, resource="pin_memory",
                              group=GPU_PATH)
    max_steps_per_epoch: int | None = option(
        None, metavar="N", help="cut each epoch short after N steps", none_means="whole epochs",
        test_only=True, group=FOR_TESTS)

    def __post_init__(self) -> None:
        epochs = self.epochs
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
            raise UserError(f"epochs must be a whole number, at least 1 (got {epochs!r})")

    def identity_fields(self) -> dict[str, Any]:
        """The fields that change results (not paths, devices, threads or worker counts): those
        whose :class:`Option` says ``identity=True``."""
        skip = {f.name for f in fields(self) if not option_of(f).identity}
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

        A new field enters the hash (and so changes every existing run's identity) unless its
        :class:`Option` says ``identity=False``; ``tests/test_train_config.py`` pins the hashes.
        """
        data: dict[str, Any] = self.identity_fields()
        if dataset_hash is not None:
            data = {"config": data, "dataset_content_hash": dataset_hash}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def option_of(f: Field) -> Option:
    return f.metadata["option"]


def is_required(f: Field) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def default_of(f: Field) -> Any:
    """The field's default (a fresh one for a factory); ``MISSING`` for a required field."""
    return f.default_factory() if f.default_factory is not MISSING else f.default


def train_options() -> list[tuple[Field, Option]]:
    """Every TrainConfig field with its :class:`Option`, in declaration order."""
    return [(f, option_of(f)) for f in fields(TrainConfig)]


def workflow_defaults() -> dict[str, Any]:
    """The default of every key of the workflow config's ``train:`` section (what the schema's
    ``train:`` properties state)."""
    return {f.name: default_of(f) if opt.workflow_default is AS_CLI else opt.workflow_default
            for f, opt in train_options() if opt.config}
