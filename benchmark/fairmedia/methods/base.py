"""The contract every training-time method follows.

A method is a small ``nn.Module`` subclass in its own file under ``benchmark/fairmedia/methods/``, decorated
with ``@register``. It declares its category (``pre``/``in``/``post``), family, whether it uses the
sensitive attribute while training, its hyperparameters (default and search range) and the paper
it implements. The training loop calls only these hooks:

- ``train_sampler(y, a, generator)`` — a ``torch.utils.data.Sampler`` or ``None`` (pre-processing);
- ``update(x, y, a)`` — one optimisation step on a batch, returning scalar logs;
  most methods override only ``loss(x, y, a)``;
- ``on_epoch_end(epoch)`` — e.g. weight averaging;
- ``on_validation(epoch, val_loss, end_of_epoch)`` — the validation loss of the network scored,
  after the epoch's scoring and at ``validation_points()`` within it (SWAD's loss valley);
  returning True at the end of the epoch makes the loop score the epoch again;
- ``selection_candidate(epoch)`` — whether model selection may choose this epoch (weight
  averaging: only averaged networks are);
- ``predict(x, a)`` — logits used for validation/test scores;
- ``optimizers()`` — every optimiser, so checkpoints hold their state.

Post-processing methods follow ``fairmedia.methods.post_base.PostProcessor`` instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Sampler

from fairmedia.models.registry import FeatureClassifier

CATEGORIES = ("pre", "in", "post")
FAMILIES = (
    "baseline", "re-distribution", "harmonisation", "adversarial", "constraint", "disentanglement",
    "contrastive", "normalisation", "flat-minima", "calibration", "pruning", "robust-optimisation",
    "thresholding",
)


@dataclass(frozen=True)
class HParam:
    """A hyperparameter: its default and its search range (``low``..``high``, log-uniform when
    ``log``; or a finite set of ``choices``). ``symbol`` is the paper's name for it (e.g. ``λ``),
    ``paper`` the value the paper reports and ``medfair`` MEDFAIR's setting (text, ``""`` where
    the source gives none), so the docs table of ours vs theirs is generated from this one place."""

    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] | None = None
    integer: bool = False
    help: str = ""
    symbol: str = ""
    paper: str = ""
    medfair: str = ""

    def sample(self, rng: np.random.Generator) -> Any:
        if self.choices is not None:
            return self.choices[int(rng.integers(len(self.choices)))]
        if self.low is None or self.high is None:
            return self.default
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return int(round(value)) if self.integer else float(value)


class Method(nn.Module):
    name: ClassVar[str] = ""
    category: ClassVar[str] = "in"
    family: ClassVar[str] = "baseline"
    uses_attribute: ClassVar[bool] = True
    citation: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hparams: ClassVar[dict[str, HParam]] = {}
    supports_3d: ClassVar[bool] = True
    unsupported_reason: ClassVar[str] = ""
    # Set by the training loop: one pass over the training images (on the device) per call, for a
    # method that must see them outside ``update`` — weight averaging recomputes batch-norm
    # statistics of the averaged network with it. None outside the loop.
    train_inputs: Callable[[], Iterator[torch.Tensor]] | None = None

    def __init__(
        self,
        model: FeatureClassifier,
        n_groups: int,
        hp: dict[str, Any],
        *,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 1,
        steps_per_epoch: int = 1,
    ):
        super().__init__()
        self.model = model
        self.n_groups = n_groups
        self.hp = hp
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.build()
        self.optimizer = self.make_optimizer(self.trainable_parameters())

    # -- hooks a method may override -------------------------------------------------------
    def build(self) -> None:
        """Create extra modules (heads, buffers) before the optimiser is made."""

    def trainable_parameters(self) -> list[nn.Parameter]:
        return list(self.model.parameters())

    def make_optimizer(self, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"main": self.optimizer}

    def train_sampler(
        self, y: np.ndarray, a: np.ndarray, generator: torch.Generator
    ) -> Sampler[int] | None:
        return None

    def loss(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, dict]:
        loss = F.binary_cross_entropy_with_logits(self.model(x), y)
        return loss, {}

    def update(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> dict[str, float]:
        self.optimizer.zero_grad(set_to_none=True)
        loss, logs = self.loss(x, y, a)
        loss.backward()
        self.optimizer.step()
        return {"loss": float(loss.detach()), **{k: float(v) for k, v in logs.items()}}

    def on_epoch_end(self, epoch: int) -> None:
        """Called after each training epoch, before validation."""

    def validation_points(self) -> int:
        """How many times per epoch the loop reports the validation loss to
        :meth:`on_validation`: at the end of the epoch, and for n > 1 also after every 1/n of
        its steps (SWAD's loss valley needs more points than a short run has epochs)."""
        return 1

    def on_validation(self, epoch: int, val_loss: float, end_of_epoch: bool = True) -> bool:
        """Called with ``val_loss`` — the mean binary cross-entropy on the validation rows of the
        network :meth:`predict` scores now — after the epoch's val/test rows are scored
        (``end_of_epoch``) and at the extra :meth:`validation_points` within it. At the end of
        the epoch, return True when the network to score changed (the loop scores it again)."""
        return False

    def selection_candidate(self, epoch: int) -> bool:
        """Whether model selection may choose this epoch's scored network (asked after
        :meth:`on_validation`). Weight averaging admits only averaged networks."""
        return True

    def predict(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Logits for scoring. ``a`` is the group code (zeros for attribute-free runs); only
        methods whose network depends on the group at test time (e.g. per-group normalisation)
        read it."""
        return self.model(x)

    def eval_model(self) -> nn.Module:
        """The network whose weights are saved for later use (transfer, pruning)."""
        return self.model

    def feature_layer(self) -> nn.Module:
        """The final linear layer of what :meth:`predict` scores: its input is the penultimate
        features the attribute-encoding probe reads (``diagnostics/encoding.py``)."""
        return self.model.head
