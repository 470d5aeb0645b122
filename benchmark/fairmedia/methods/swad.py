"""SWAD (Cha et al. 2021): dense weight averaging over a loss valley chosen on validation loss.

Every iteration's weights are averaged densely; the validation loss of the current (raw)
network, measured at each of the loop's validation points (end of every epoch), decides the
window — Cha et al.'s LossValley rule at epoch granularity, with each epoch's dense average of
iterates as one segment:

- start: the first epoch i whose validation loss L_i is the lowest of L_i … L_{i+n_converge-1}
  (the loss has stopped decreasing); the threshold is (1 + tolerance_ratio) · mean of those
  n_converge losses;
- end: averaging stops when n_tolerance consecutive epochs have L above the threshold; the
  window ends at the last epoch with L at or below it (trailing epochs above it are dropped, also
  when training ends first);
- the result is the average of the segments from start to end, with batch-norm statistics
  recomputed on the training images (``torch.optim.swa_utils.update_bn``), as in the official
  code. If the loss never stops decreasing, the last epoch's dense average is used (the official
  code's and MEDFAIR's fallback is that same last segment).

Only that final average is a candidate of model selection: Cha et al. choose the window by the
loss valley precisely so that it is not chosen by validation accuracy (their IIDMax baseline);
the epochs before it are scored with the raw network for the record but cannot be selected. It
is first scored at the epoch the window closes (or the last epoch) and unchanged after.

Deliberate differences: the official code also reaches back up to n_tolerance − n_converge
segments before the start when they are under the threshold (and counts the start segment
twice); here the window starts where the loss stopped decreasing. Training continues after the
window closes (the loop runs its configured epochs) instead of stopping early; the frozen average
is unaffected. MEDFAIR detects the valley on 1 − worst-group AUC instead of the loss.
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
        self.register_buffer("queue_len", torch.zeros((), dtype=torch.long))
        # Segments inside the window so far (mean and count), and those after its last
        # under-threshold point, which join it only if the loss comes back under the threshold.
        self.register_buffer("window", torch.zeros(size))
        self.register_buffer("n_window", torch.zeros((), dtype=torch.long))
        self.register_buffer("pending", torch.zeros(size))
        self.register_buffer("n_pending", torch.zeros((), dtype=torch.long))
        self.register_buffer("threshold", torch.zeros((), dtype=torch.float64))
        self.register_buffer("phase", torch.zeros((), dtype=torch.long))
        self.register_buffer("start_epoch", torch.full((), -1, dtype=torch.long))
        self.register_buffer("end_epoch", torch.full((), -1, dtype=torch.long))
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
        return int(self.n_window) * self.steps_per_epoch if int(self.phase) == FINAL else 0

    def averaged_network(self):
        return self.final if int(self.phase) == FINAL else None

    # -- the loss valley -----------------------------------------------------------------------
    @staticmethod
    def _merge(mean: torch.Tensor, n: int, other: torch.Tensor, k: int) -> None:
        mean.mul_(n / (n + k)).add_(other, alpha=k / (n + k))

    def _valley_step(self, segment: torch.Tensor, loss: float, epoch: int) -> None:
        """One segment inside the valley: under the threshold it joins the window together with
        the pending segments before it; above it, it waits; n_tolerance waiting close it."""
        if loss <= float(self.threshold):
            k = int(self.n_pending)
            if k:
                self._merge(self.window, int(self.n_window), self.pending, k)
                self.n_window += k
                self.pending.zero_()
                self.n_pending.zero_()
            self._merge(self.window, int(self.n_window), segment, 1)
            self.n_window += 1
            self.end_epoch.fill_(epoch)
            return
        self._merge(self.pending, int(self.n_pending), segment, 1)
        self.n_pending += 1
        if int(self.n_pending) >= int(self.hp["n_tolerance"]):
            self.phase.fill_(FINAL)

    def on_validation(self, epoch: int, val_loss: float) -> bool:
        if int(self.phase) == FINAL:
            return False  # the window has closed; later losses are of the frozen average
        segment = parameters_to_vector(self.segment.module.parameters()).detach().clone()
        self.segment.n_averaged.zero_()  # the next epoch starts a new segment
        if int(self.phase) == SEEKING:
            n = self.queue.shape[0]
            self.queue.copy_(torch.roll(self.queue, -1, dims=0))
            self.queue_loss.copy_(torch.roll(self.queue_loss, -1))
            self.queue[-1], self.queue_loss[-1] = segment, val_loss
            self.queue_len.fill_(min(int(self.queue_len) + 1, n))
            losses = self.queue_loss.tolist()
            # argmin's first occurrence: the oldest of the n_converge points is the lowest
            if int(self.queue_len) == n and min(range(n), key=losses.__getitem__) == 0:
                self.phase.fill_(IN_VALLEY)
                self.threshold.fill_((1.0 + float(self.hp["tolerance_ratio"])) * sum(losses) / n)
                self.start_epoch.fill_(epoch - n + 1)
                for i in range(n):
                    if int(self.phase) == IN_VALLEY:
                        self._valley_step(self.queue[i], losses[i], epoch - n + 1 + i)
        else:
            self._valley_step(segment, val_loss, epoch)
        last = epoch == self.epochs - 1
        if int(self.phase) == SEEKING and last:
            # no valley found in the run: the last segment (the official code's fallback)
            self.window.copy_(segment)
            self.n_window.fill_(1)
            self.start_epoch.fill_(epoch)
            self.end_epoch.fill_(epoch)
        if int(self.phase) == FINAL or last:
            self.phase.fill_(FINAL)
            vector_to_parameters(self.window, self.final.parameters())
            self.recompute_bn(self.final)
            return True
        return False
