"""Stochastic weight averaging (Izmailov et al. 2018) as MEDFAIR runs it: train as ERM for the
first ``start`` share of the epochs, then at the end of every epoch add the weights to an
equal-weight running average and step the SWALR schedule, which anneals the learning rate from
the run's rate to ``swa_lr`` over ``anneal_epochs`` epochs (cosine) and holds it there.

The averaged network is what is scored: its batch-norm statistics are recomputed on the training
images after each average (``torch.optim.swa_utils.update_bn``), and only averaged epochs are
candidates of model selection — from the second average on, as the first is one epoch's raw
weights. Every averaged epoch stays a candidate, not only the last: the
average at epoch e is exactly the SWA solution of a run stopped at e (SWALR depends only on the
steps since averaging began), so validation chooses the run length as it does for every other
method, and never an un-averaged network.

Deliberate differences: before averaging the learning rate is the run's constant rate, as for
ERM in this benchmark — MEDFAIR applies CosineAnnealingLR(T_max=100) there, the paper's code a
linear decay; the start is a fraction of the epochs (MEDFAIR: epoch 7 of 20).
"""

from __future__ import annotations

import math

from torch.optim.swa_utils import AveragedModel

from fairmedia.methods._averaging import WeightAveraging
from fairmedia.methods.base import HParam
from fairmedia.methods.registry import register


def swalr_lr(lr: float, swa_lr: float, anneal_epochs: int, steps: int) -> float:
    """The learning rate after ``steps`` SWALR steps from ``lr`` (cosine annealing to ``swa_lr``
    over ``anneal_epochs`` steps; torch.optim.swa_utils.SWALR with anneal_strategy="cos")."""
    if steps <= 0:
        return lr
    t = min(1.0, steps / max(1, anneal_epochs))
    alpha = (1.0 - math.cos(math.pi * t)) / 2.0
    return swa_lr * alpha + lr * (1.0 - alpha)


@register
class SWA(WeightAveraging):
    name = "swa"
    category = "in"
    citation = ("Izmailov et al., Averaging Weights Leads to Wider Optima and Better "
                "Generalization, UAI 2018")
    description = ("equal-weight average of the end-of-epoch weights after ⌊start·epochs⌉ epochs, "
                   "SWALR schedule, batch-norm statistics recomputed; averaged epochs only are "
                   "selectable")
    hparams = {
        "start": HParam(0.35, low=0.25, high=0.5,
                        help="fraction of the epochs trained before the first average",
                        symbol="swa_start",
                        paper="126 of 225 epochs (PreResNet-164, CIFAR; official code)",
                        medfair="epoch 7 of 20 (sweep 5, 7, 10)"),
        "swa_lr": HParam(1e-4, low=1e-5, high=1e-3, log=True,
                         help="learning rate SWALR anneals to and holds while averaging",
                         symbol="α₂ (swa_lr)",
                         paper="0.05 with SGD from 0.1 (PreResNet-164, CIFAR; official code)",
                         medfair="1e-4 (sweep 1e-4 … 0.1)"),
        "anneal_epochs": HParam(3, low=0, high=7, integer=True,
                                help="epochs of cosine annealing from the run's lr to swa_lr",
                                symbol="anneal_epochs",
                                paper="linear decay before averaging, not SWALR",
                                medfair="3 (sweep 0, 3, 5, 7)"),
    }

    def build(self) -> None:
        # Parameters only: the averaged network's batch-norm buffers are recomputed instead.
        self.averaged = AveragedModel(self.model, use_buffers=False)

    @property
    def first_epoch(self) -> int:
        """0-based epoch at whose end the first average is taken: ``round(start·epochs)``
        epochs are trained first (MEDFAIR: averaging when ``epoch >= swa_start``, counted after
        the epoch), at least one and at most all."""
        trained = min(max(round(self.hp["start"] * self.epochs), 1), self.epochs)
        return trained - 1

    @property
    def n_averaged(self) -> int:
        return int(self.averaged.n_averaged)

    def averaged_network(self):
        return self.averaged.module if self.n_averaged else None

    def selection_candidate(self, epoch: int) -> bool:
        # An "average" of one snapshot is the raw network of that epoch (ERM's weights): at least
        # two averaged, unless the run is too short to average more than one.
        return self.n_averaged >= min(2, self.epochs - self.first_epoch)

    def on_epoch_end(self, epoch: int) -> None:
        if epoch < self.first_epoch:
            return
        self.averaged.update_parameters(self.model)
        self.recompute_bn(self.averaged.module)
        # SWALR steps once per averaged epoch; the rate is a function of the steps taken, so a
        # resumed run (optimizer state restored) continues the same schedule.
        lr = swalr_lr(self.lr, float(self.hp["swa_lr"]), int(self.hp["anneal_epochs"]),
                      epoch - self.first_epoch + 1)
        for opt in self.optimizers().values():
            for group in opt.param_groups:
                group["lr"] = lr
