"""GPU throughput (for a lent GPU; one prepared run of a few minutes): ResNet-18 training on
224×224 images from the prepared array, fp32 against the benchmark's GPU path (bf16 autocast,
channels-last, pinned memory, loader workers), with GPU utilisation sampled while each side runs.
The sides alternate in segments of ``--seconds`` over ``--rounds`` rounds (perf/_interleave.py;
the warm-up round is each side's 10 untimed steps). On a machine without CUDA it says so and
exits 0."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from fairmedia.data.prepared import load_prepared
from fairmedia.data.synthetic import write_synthetic
from fairmedia.data.torch_dataset import PreparedImageDataset
from fairmedia.models.registry import build_model
from fairmedia.perf._interleave import add_rounds_argument, interleave
from fairmedia.training import accelerate

DESCRIPTION = "resnet18 224x224 images/s fp32 vs bf16 AMP + channels-last, with GPU utilisation"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=4096, help="prepared images (generated once)")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=12, help="timed training per side and round")
    add_rounds_argument(p)


def _utilisation() -> float | None:
    try:
        return float(torch.cuda.utilization())
    except Exception:  # pynvml missing: ask nvidia-smi
        if shutil.which("nvidia-smi") is None:
            return None
        out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                              "-i", "0"], capture_output=True, text=True)
        return float(out.stdout.split()[0]) if out.returncode == 0 and out.stdout.strip() else None


class _Side:
    """One side's model, optimiser and endless batches; a call trains one segment and returns its
    seconds per image (the first call: the untimed warm-up steps only)."""

    WARM_STEPS = 10  # cuDNN autotune, worker start-up, allocator

    def __init__(self, ds, args, acc: accelerate.Acceleration) -> None:
        torch.manual_seed(0)
        self.args, self.acc = args, acc
        self.model = build_model("resnet18", ds.images.shape[1]).to(acc.device)
        acc.prepare_model(self.model)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-4)
        self.loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, drop_last=True,
                                 persistent_workers=args.workers > 0, **acc.loader_options(args.workers))
        self.batches = self._endless()
        self.utilisation: list[float] = []
        self.warm = False

    def _endless(self):
        while True:
            yield from self.loader

    def _step(self) -> int:
        x, y, _, _ = next(self.batches)
        with self.acc.autocast():
            loss = F.binary_cross_entropy_with_logits(self.model(self.acc.to_device(x)).float(),
                                                      self.acc.to_device(y))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return len(x)

    def __call__(self) -> float:
        if not self.warm:
            for _ in range(self.WARM_STEPS):
                self._step()
            torch.cuda.synchronize()
            self.warm = True
            return float("nan")  # discarded by the warm-up round
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                if (u := _utilisation()) is not None:
                    self.utilisation.append(u)

        threading.Thread(target=sample, daemon=True).start()
        images, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < self.args.seconds:
            images += self._step()
        torch.cuda.synchronize()
        stop.set()
        return (time.perf_counter() - t0) / images


def run(args: argparse.Namespace) -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: torch.cuda.is_available() is False on this machine; "
              "gpu-throughput measures nothing here (run it on a GPU node)")
        return 0
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        prepared = load_prepared(write_synthetic(Path(tmp) / "p", "mixed", n=args.n,
                                                 size=args.size, seed=0))
        print(f"prepared {args.n} images {tuple(prepared.images.shape[1:])} in "
              f"{time.perf_counter() - t0:.0f} s; {torch.cuda.get_device_name(device)}")
        rows = np.arange(len(prepared.metadata))
        ds = PreparedImageDataset(prepared, rows, np.zeros(len(rows), dtype=np.int64))
        plain = accelerate.Acceleration(device, pin_memory=True)
        fast = accelerate.resolve(device, amp=True, channels_last=True, compile=False,
                                  pin_memory=True, spatial_dims=2)
        sides = {"fp32": _Side(ds, args, plain), "bf16 AMP + channels_last": _Side(ds, args, fast)}
        result = interleave(*sides.items(), rounds=args.rounds)
    print(f"  {args.rounds} interleaved rounds of {args.seconds:g} s per side:")
    print("\n".join(result.lines(unit="images/s", scale=lambda s: 1 / s)))
    for name, side in sides.items():
        util = f"{np.mean(side.utilisation):.0f}%" if side.utilisation else "n/a (no pynvml/nvidia-smi)"
        print(f"  {name:26s}: mean GPU utilisation {util}")
    print(f"  AMP speed-up {result.ratio:.2f}x, median of per-round ratios "
          f"(batch {args.batch_size}, {args.workers} loader workers, pinned memory)")
    return 0
