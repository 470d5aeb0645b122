"""SWAD (Cha et al. 2021): dense weight averaging over a loss valley chosen on validation loss.

Every iteration's weights are averaged densely; the validation loss of the current (raw) network
at the validation points decides the window — Cha et al.'s LossValley rule, with the dense
average of the iterations between two validation points as one segment. The loop reports the
loss ``evals_per_epoch`` times per epoch (default 4: a 6-epoch run has 24 points, about
DomainBed's 25 — an evaluation every 200 of 5,000 steps; one point per epoch let a single early
spike of the loss "converge" the valley at epoch 0). Each extra point scores the validation rows
once.

- start: the first point i whose validation loss L_i is the lowest of L_i … L_{i+n_converge-1}
  (the loss has stopped decreasing); the threshold is (1 + tolerance_ratio) · mean of those
  n_converge losses;
- end: averaging stops when n_tolerance consecutive points have L above the threshold; the
  window ends at the last point with L at or below it (trailing points above it are dropped,
  also when training ends first);
- the result is the average of the iterations from start to end, with batch-norm statistics
  recomputed on the training images (``torch.optim.swa_utils.update_bn``), as in the official
  code. If the loss never stops decreasing, the last segment's dense average is used (the
  official code's and MEDFAIR's fallback).

Only that final average is a candidate of model selection: Cha et al. choose the window by the
loss valley precisely so that it is not chosen by validation accuracy (their IIDMax baseline);
the epochs before it are scored with the raw network for the record but cannot be selected. It
is first scored at the end of the epoch in which the window closes (or the last epoch) and is
unchanged after.

Deliberate differences: the start must follow a decrease (L_{i-1} > L_i, so never the first
point): trained from scratch, the validation loss often rises from its initial ln 2 before it
falls, and the official rule would then open the window at the initial weights — at 6 epochs on
the synthetic ``representation`` preset it did, averaging in everything (DomainBed fine-tunes
ImageNet weights, whose loss falls at once). The official code also reaches back up to
n_tolerance − n_converge segments before the start when they are under the threshold (and counts
the start segment twice); here the window starts where the loss stopped decreasing. Training
continues after the window closes (the loop runs its configured epochs) instead of stopping
early; the frozen average is unaffected. MEDFAIR validates once per epoch and detects the valley
on 1 − worst-group AUC instead of the loss.
"""

from __future__ import annotations

import copy

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters
from torch.optim.swa_utils import AveragedModel

from fairmedia.methods._averaging import WeightAveraging
from fairmedia.methods.base import HParam
from fairmedia.methods.registry import register

SEEKING, IN_VALLEY, FINAL = 0, 1, 2


@register
class SWAD(WeightAveraging):
    name = "swad"
    category = "in"
    citation = ("Cha et al., SWAD: Domain Generalization by Seeking Flat Minima, NeurIPS 2021")
    description = ("dense average of every iteration's weights over the validation-loss valley "
                   "(LossValley start/end), batch-norm statistics recomputed; only the final "
                   "average is selectable")
    hparams = {
        "n_converge": HParam(3, low=2, high=5, integer=True,
                             help="validation points whose first must be the lowest to open "
                                  "the window",
                             symbol="N_s", paper="3", medfair="3 (sweep 3, 5, 7, 9)"),
        "n_tolerance": HParam(6, low=3, high=9, integer=True,
                              help="consecutive validation points above the threshold that "
                                   "close the window",
                              symbol="N_e", paper="6",
                              medfair="9 (= n_converge + n_tolerance, 3 + 6)"),
        "evals_per_epoch": HParam(4, low=1, high=8, integer=True,
                                  help="validation points per epoch (segments of the average)",
                                  symbol="checkpoint_freq",
                                  paper="every 200 of 5,000 steps (25 points; official code)",
                                  medfair="1 (each epoch)"),
        "tolerance_ratio": HParam(0.3, low=0.05, high=0.5,
                                  help="threshold = (1 + ratio) × mean loss at the start",
                                  symbol="r − 1", paper="0.3 (r = 1.3)",
                                  medfair="0.05 (sweep 0.01–0.3), on 1 − worst-group AUC"),
    }

    def build(self) -> None:
        n = int(self.hp["n_converge"])
        size = parameters_to_vector(self.model.parameters()).numel()
        # This epoch's dense average of iterates (one segment), reset at each validation point.
        self.segment = AveragedModel(self.model, use_buffers=False)
        # The last n_converge segments and their losses, while seeking the valley's start.
        self.register_buffer("queue", torch.zeros(n, size))
        self.register_buffer("queue_loss", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("queue_count", torch.zeros(n, dtype=torch.long))
        self.register_buffer("queue_len", torch.zeros((), dtype=torch.long))
        self.register_buffer("before_queue", torch.full((), float("inf"), dtype=torch.float64))
        # Segments inside the window so far (mean and count), and those after its last
        # under-threshold point, which join it only if the loss comes back under the threshold.
        self.register_buffer("window", torch.zeros(size))
        self.register_buffer("n_window", torch.zeros((), dtype=torch.long))
        self.register_buffer("pending", torch.zeros(size))
        self.register_buffer("n_pending", torch.zeros((), dtype=torch.long))
        self.register_buffer("waiting", torch.zeros((), dtype=torch.long))  # points above it
        self.register_buffer("threshold", torch.zeros((), dtype=torch.float64))
        self.register_buffer("phase", torch.zeros((), dtype=torch.long))
        # validation points (0-based, over the run) where the window starts and ends, and the
        # number of points seen
        self.register_buffer("start_point", torch.full((), -1, dtype=torch.long))
        self.register_buffer("end_point", torch.full((), -1, dtype=torch.long))
        self.register_buffer("points", torch.zeros((), dtype=torch.long))
        self.final = copy.deepcopy(self.model)
        for p in self.final.parameters():
            p.requires_grad_(False)

    # -- dense averaging ---------------------------------------------------------------------
    def update(self, x, y, a):
        logs = super().update(x, y, a)
        self.segment.update_parameters(self.model)
        return logs

    @property
    def n_averaged(self) -> int:
        """Iterations averaged into the final network (0 until it exists)."""
        return int(self.n_window) if int(self.phase) == FINAL else 0

    def validation_points(self) -> int:
        return int(self.hp["evals_per_epoch"])

    def averaged_network(self):
        return self.final if int(self.phase) == FINAL else None

    # -- the loss valley -----------------------------------------------------------------------
    @staticmethod
    def _merge(mean: torch.Tensor, n: int, other: torch.Tensor, k: int) -> None:
        mean.mul_(n / (n + k)).add_(other, alpha=k / (n + k))

    def _valley_step(self, segment: torch.Tensor, count: int, loss: float, point: int) -> None:
        """One segment inside the valley: under the threshold it joins the window together with
        the pending segments before it; above it, it waits; n_tolerance waiting close it."""
        if loss <= float(self.threshold):
            k = int(self.n_pending)
            if k:
                self._merge(self.window, int(self.n_window), self.pending, k)
                self.n_window += k
                self.pending.zero_()
                self.n_pending.zero_()
            self._merge(self.window, int(self.n_window), segment, count)
            self.n_window += count
            self.end_point.fill_(point)
            self.waiting.zero_()
            return
        self._merge(self.pending, int(self.n_pending), segment, count)
        self.n_pending += count
        self.waiting += 1
        if int(self.waiting) >= int(self.hp["n_tolerance"]):
            self.phase.fill_(FINAL)

    def on_validation(self, epoch: int, val_loss: float, end_of_epoch: bool = True) -> bool:
        if int(self.phase) == FINAL:
            return False  # the window has closed; later losses are of the frozen average
        # a segment: the dense average of the iterations since the previous validation point
        count = int(self.segment.n_averaged)
        segment = parameters_to_vector(self.segment.module.parameters()).detach().clone()
        self.segment.n_averaged.zero_()
        point = int(self.points)
        self.points += 1
        if count and int(self.phase) == SEEKING:
            n = self.queue.shape[0]
            if int(self.queue_len) == n:  # the loss of the point that leaves the queue
                self.before_queue.fill_(float(self.queue_loss[0]))
            self.queue.copy_(torch.roll(self.queue, -1, dims=0))
            self.queue_loss.copy_(torch.roll(self.queue_loss, -1))
            self.queue_count.copy_(torch.roll(self.queue_count, -1))
            self.queue[-1], self.queue_loss[-1], self.queue_count[-1] = segment, val_loss, count
            self.queue_len.fill_(min(int(self.queue_len) + 1, n))
            losses = self.queue_loss.tolist()
            # argmin's first occurrence: the oldest of the n_converge points is the lowest —
            # and the loss fell into it (it "stops decreasing"; see the docstring)
            fell = point - n + 1 > 0 and losses[0] < float(self.before_queue)
            if int(self.queue_len) == n and min(range(n), key=losses.__getitem__) == 0 and fell:
                self.phase.fill_(IN_VALLEY)
                self.threshold.fill_((1.0 + float(self.hp["tolerance_ratio"])) * sum(losses) / n)
                self.start_point.fill_(point - n + 1)
                for i in range(n):
                    if int(self.phase) == IN_VALLEY:
                        self._valley_step(self.queue[i], int(self.queue_count[i]), losses[i],
                                          point - n + 1 + i)
        elif count:
            self._valley_step(segment, count, val_loss, point)
        last = end_of_epoch and epoch == self.epochs - 1
        if int(self.phase) == SEEKING and last:
            # no valley found in the run: the last segment (the official code's fallback)
            self.window.copy_(segment)
            self.n_window.fill_(count)
            self.start_point.fill_(point)
            self.end_point.fill_(point)
        if int(self.phase) == FINAL or last:
            self.phase.fill_(FINAL)
            vector_to_parameters(self.window, self.final.parameters())
            self.recompute_bn(self.final)
            return end_of_epoch  # a window closed mid-epoch is first scored at the epoch's end
        return False
