"""GPU throughput (for a lent GPU; one prepared run of a few minutes): ResNet-18 training on
224×224 images from the prepared array, fp32 against the benchmark's GPU path (bf16 autocast,
channels-last, pinned memory, loader workers), with GPU utilisation sampled while each side runs.
On a machine without CUDA it says so and exits 0."""

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
from fairmedia.training import accelerate

DESCRIPTION = "resnet18 224x224 images/s fp32 vs bf16 AMP + channels-last, with GPU utilisation"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=4096, help="prepared images (generated once)")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--seconds", type=float, default=60, help="timed training per side")


def _utilisation() -> float | None:
    try:
        return float(torch.cuda.utilization())
    except Exception:  # pynvml missing: ask nvidia-smi
        if shutil.which("nvidia-smi") is None:
            return None
        out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                              "-i", "0"], capture_output=True, text=True)
        return float(out.stdout.split()[0]) if out.returncode == 0 and out.stdout.strip() else None


def _train(ds, args, acc: accelerate.Acceleration) -> tuple[float, float | None]:
    torch.manual_seed(0)
    model = build_model("resnet18", ds.images.shape[1]).to(acc.device)
    acc.prepare_model(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, drop_last=True,
                        persistent_workers=args.workers > 0, **acc.loader_options(args.workers))
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            if (u := _utilisation()) is not None:
                samples.append(u)

    images, warm, t0 = 0, 10, 0.0
    sampler = threading.Thread(target=sample, daemon=True)
    step = 0
    while True:
        for x, y, _, _ in loader:
            if step == warm:  # untimed warm-up: cuDNN autotune, worker start-up, allocator
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                sampler.start()
            with acc.autocast():
                loss = F.binary_cross_entropy_with_logits(model(acc.to_device(x)).float(),
                                                          acc.to_device(y))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step > warm:
                images += len(x)
            if step > warm and time.perf_counter() - t0 > args.seconds:
                torch.cuda.synchronize()
                stop.set()
                return images / (time.perf_counter() - t0), (float(np.mean(samples)) if samples else None)


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
        results = {}
        for name, acc in (("fp32", plain), ("bf16 AMP + channels_last", fast)):
            rate, util = _train(ds, args, acc)
            results[name] = rate
            util_txt = f"{util:.0f}%" if util is not None else "n/a (no pynvml/nvidia-smi)"
            print(f"  {name:26s}: {rate:8.0f} images/s, mean GPU utilisation {util_txt}")
    print(f"  AMP speed-up {results['bf16 AMP + channels_last'] / results['fp32']:.2f}x "
          f"(batch {args.batch_size}, {args.workers} loader workers, pinned memory)")
    return 0
