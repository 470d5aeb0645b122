"""3D training throughput: the benchmark's path vs a bare PyTorch loop, on the same volumes.

Ours: a prepared synthetic dataset (64³ phantoms, memory-mapped ``images.npy``) read through
``PreparedImageDataset`` and a ``DataLoader``, the registry's ``resnet18-3d`` and the ERM method's
``update`` — optionally with the MONAI augmentation. Bare: MONAI's ResNet-18 plus a linear head,
the same volumes preloaded as one float tensor, Adam and BCE in a plain loop. Each measurement
runs in its own process so its peak memory (``ru_maxrss``; ``torch.cuda.max_memory_allocated``
on a GPU) is its own. On a GPU both are also timed under AMP (bfloat16 autocast, which needs no
loss scaler). Each pair's processes alternate over ``--rounds`` rounds (perf/_interleave.py;
medians; no warm-up round, as every process already discards its first step).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fairmedia.perf._interleave import add_rounds_argument, interleave

DESCRIPTION = "3D training throughput (resnet18-3d, 64³): benchmark path vs bare PyTorch loop"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="resnet18-3d")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step); "
                   "throughput is batch / median step time")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    add_rounds_argument(p)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--data", default=None, help=argparse.SUPPRESS)


def _measure(args: argparse.Namespace) -> dict:
    """One measurement (runs in a child process): ``ours``, ``ours-aug`` or ``bare``, ``+amp``."""
    import numpy as np
    import torch
    from torch.utils.data import DataLoader

    from fairmedia.data.prepared import load_prepared
    from fairmedia.data.torch_dataset import PreparedImageDataset
    from fairmedia.methods.registry import get_method, resolve_hparams
    from fairmedia.models.registry import build_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    mode, _, amp = args.child.partition("+")
    prepared = load_prepared(args.data)
    rows = np.arange(len(prepared.metadata))
    model = build_model(args.arch, 1, spatial_dims=3)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp == "amp")

    if mode.startswith("ours"):
        dataset = PreparedImageDataset(prepared, rows, np.zeros(len(rows), dtype=np.int64))
        if mode == "ours-aug":
            from fairmedia.data.transforms import train_transform

            dataset.transform = train_transform(3, tuple(prepared.images.shape[1:]))
        method = get_method("erm")(model, 1, resolve_hparams("erm"), lr=1e-3).to(device)
        loader = DataLoader(dataset, batch_size=args.batch, shuffle=True, drop_last=True,
                            generator=torch.Generator().manual_seed(0))

        def step_fn(batch):
            x, y, a, _ = batch
            with autocast:
                method.update(x.to(device), y.to(device), a.to(device))

        batches = iter(loader)
        next_batch = lambda: next(batches)  # noqa: E731
    else:
        model = model.to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        images = torch.from_numpy(np.asarray(prepared.images, dtype=np.float32) / 255.0).sub_(0.5).div_(0.25)
        labels = torch.from_numpy(prepared.metadata["y"].to_numpy(dtype=np.float32))
        images, labels = images.to(device), labels.to(device)
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
        cursor = iter(range(0, len(order) - args.batch + 1, args.batch))

        def next_batch():
            i = next(cursor)
            idx = order[i:i + args.batch].to(device)
            return images[idx], labels[idx]

        def step_fn(batch):
            x, y = batch
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x).float(), y)
            loss.backward()
            optimizer.step()

    # Each iteration is timed whole — fetching the batch (the memory-mapped reads and, for
    # ours-aug, the augmentation are part of the path's cost) and the update; the median step
    # resists the bursts of a shared machine better than a total.
    times = []
    for _ in range(args.steps + 1):  # the first step (allocations, thread start-up) is a warm-up
        t0 = time.perf_counter()
        step_fn(next_batch())
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    seconds = float(np.median(times[1:]))
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    return {"mode": args.child, "volumes_per_s": args.batch / seconds,
            "peak_rss_mb": peak_rss_mb, "peak_gpu_mb": peak_gpu_mb}


def _child(args: argparse.Namespace, mode: str, data: Path, device: str) -> dict:
    cmd = [sys.executable, "-m", "fairmedia.cli", "perf", "train-3d", "--child", mode, "--data", str(data),
           "--arch", args.arch, "--size", str(args.size), "--batch", str(args.batch),
           "--steps", str(args.steps), "--threads", str(args.threads), "--device", device]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"measurement {mode} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> int:
    if args.child:
        print(json.dumps(_measure(args)))
        return 0
    import torch

    from fairmedia.data.synthetic import write_synthetic

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    n = args.batch * (args.steps + 1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_synthetic(tmp, "mixed", dims=3, size=args.size, n=n, seed=0)
        print(f"data: {n} synthetic {args.size}³ volumes in {time.perf_counter() - t0:.1f}s; "
              f"{args.arch}, batch {args.batch}, {args.steps} timed steps, device {device}, "
              f"{args.threads} threads")
        pairs = [("ours", "bare"), ("ours-aug", "bare")]
        if device == "cuda":
            pairs.append(("ours+amp", "bare+amp"))
        peaks: dict[str, dict] = {}

        def side(mode: str):
            def measure() -> float:  # seconds per volume of one process's median step
                r = _child(args, mode, Path(tmp), device)
                peak = peaks.setdefault(mode, {})
                for key in ("peak_rss_mb", "peak_gpu_mb"):
                    values = [v for v in (r[key], peak.get(key)) if v is not None]
                    peak[key] = max(values) if values else None
                return 1 / r["volumes_per_s"]
            return measure

        results = {pair: interleave((pair[0], side(pair[0])), (pair[1], side(pair[1])),
                                    rounds=args.rounds, warmup=0) for pair in pairs}
    for (ours, bare), res in results.items():
        print(f"{ours} vs {bare}, {args.rounds} interleaved rounds (one process per measurement):")
        print("\n".join(res.lines(unit="volumes/s", scale=lambda s: 1 / s)))
        print(f"  throughput ratio {ours} / {bare}: {1 / res.ratio:.2f}x (median of per-round ratios)")
    for mode, peak in peaks.items():
        gpu = f"  peak GPU {peak['peak_gpu_mb']:8.0f} MB" if peak["peak_gpu_mb"] is not None else ""
        print(f"{mode:10s} peak RSS {peak['peak_rss_mb']:7.0f} MB (max over its processes){gpu}")
    return 0
