"""Data path: images/s the training DataLoader delivers from the prepared (memory-mapped) array
with worker processes, against the rate at which the model consumes them in training steps.
The loader must not be the bottleneck: target >= 5x the step rate on CPU with 2 workers. The two
sides (one loader epoch, worker start-up included; ``--steps`` training steps) alternate over
``--rounds`` rounds (perf/_interleave.py); each round's ratio compares seconds per image."""

from __future__ import annotations

import argparse
import tempfile
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

DESCRIPTION = "loader images/s (prepared array, N workers) vs training step images/s; target >= 5x"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps", type=int, default=5, help="timed training steps")
    p.add_argument("--threads", type=int, default=2)
    add_rounds_argument(p)


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = load_prepared(write_synthetic(Path(tmp) / "p", "mixed", n=args.n,
                                                 size=args.size, seed=0))
        rows = np.arange(len(prepared.metadata))
        ds = PreparedImageDataset(prepared, rows, np.zeros(len(rows), dtype=np.int64))
        loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                            generator=torch.Generator().manual_seed(0), drop_last=True)

        def load_seconds_per_image() -> float:
            t0 = time.perf_counter()
            n_loaded = sum(len(x) for x, *_ in loader)  # one full epoch, worker start-up included
            return (time.perf_counter() - t0) / n_loaded

        model = build_model(args.arch, prepared.images.shape[1])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y, *_ = next(iter(DataLoader(ds, batch_size=args.batch_size)))

        def step_seconds_per_image() -> float:
            t0 = time.perf_counter()
            for _ in range(args.steps):
                opt.zero_grad(set_to_none=True)
                F.binary_cross_entropy_with_logits(model(x), y).backward()
                opt.step()
            return (time.perf_counter() - t0) / (args.steps * args.batch_size)

        result = interleave(("training steps", step_seconds_per_image),
                            ("loader", load_seconds_per_image), rounds=args.rounds)
    print(f"{args.arch} {args.size}x{args.size}, batch {args.batch_size}, {args.threads} threads, "
          f"loader: {args.workers} workers on the memory-mapped array")
    print("\n".join(result.lines(unit="images/s", scale=lambda s: 1 / s)))
    ratio = result.ratio  # step seconds per image / loader seconds per image = loader speed-up
    print(f"  loader / step throughput {ratio:.1f}x (target >= 5x): "
          f"{'ok' if ratio >= 5 else 'LOADER IS A BOTTLENECK'}")
    return 0
