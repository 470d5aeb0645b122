"""Data path: images/s the training DataLoader delivers from the prepared (memory-mapped) array
with worker processes, against the rate at which the model consumes them in training steps.
The loader must not be the bottleneck: target >= 5x the step rate on CPU with 2 workers."""

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

DESCRIPTION = "loader images/s (prepared array, N workers) vs training step images/s; target >= 5x"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps", type=int, default=5, help="timed training steps")
    p.add_argument("--threads", type=int, default=2)


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = load_prepared(write_synthetic(Path(tmp) / "p", "mixed", n=args.n,
                                                 size=args.size, seed=0))
        rows = np.arange(len(prepared.metadata))
        ds = PreparedImageDataset(prepared, rows, np.zeros(len(rows), dtype=np.int64))
        loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                            generator=torch.Generator().manual_seed(0), drop_last=True)
        t0 = time.perf_counter()
        n_loaded = sum(len(x) for x, *_ in loader)  # one full epoch, worker start-up included
        load_rate = n_loaded / (time.perf_counter() - t0)

        model = build_model(args.arch, prepared.images.shape[1])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x, y, *_ = next(iter(DataLoader(ds, batch_size=args.batch_size)))
        for step in range(args.steps + 1):  # the first step is warm-up
            if step == 1:
                t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            F.binary_cross_entropy_with_logits(model(x), y).backward()
            opt.step()
        step_rate = args.steps * args.batch_size / (time.perf_counter() - t0)
    ratio = load_rate / step_rate
    print(f"{args.arch} {args.size}x{args.size}, batch {args.batch_size}, {args.threads} threads")
    print(f"  loader ({args.workers} workers, memory-mapped array): {load_rate:9.0f} images/s")
    print(f"  training steps                                 : {step_rate:9.1f} images/s")
    print(f"  ratio {ratio:.1f}x (target >= 5x): {'ok' if ratio >= 5 else 'LOADER IS A BOTTLENECK'}")
    return 0
