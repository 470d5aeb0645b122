"""Training-loop overhead: `fairmedia train` (ERM) against a bare PyTorch loop over the same
prepared array, model, batch size and steps, measured side by side in one process.

Both sides do what one epoch of the benchmark must do: the training steps, then scoring every val
and test image. The benchmark's epoch also writes its history row, weights and checkpoint; that
cost is what this check measures. Timed epochs exclude the first (warm-up) epoch of each side.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from fairmedia.data.prepared import load_prepared
from fairmedia.data.synthetic import write_synthetic
from fairmedia.data.torch_dataset import MEAN, STD
from fairmedia.models.registry import build_model
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

DESCRIPTION = "images/s of `fairmedia train` (ERM) vs a bare PyTorch loop; target ratio >= 0.90"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--n", type=int, default=600, help="synthetic images (60%% train)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2, help="epochs per side; the first is warm-up")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")


def _bare_epoch_seconds(prepared, args, device: torch.device) -> list[float]:
    """Plain loop: tensors of the same rows, Adam, BCE, then scoring val+test."""
    meta = prepared.metadata
    train_rows, eval_rows = prepared.indices("train"), np.concatenate(
        [prepared.indices("val"), prepared.indices("test")])

    def tensors(rows):
        x = torch.from_numpy(np.asarray(prepared.images[rows], dtype=np.float32)).div_(255)
        return x.sub_(MEAN).div_(STD), torch.from_numpy(meta["y"].to_numpy(np.float32)[rows])

    train = TensorDataset(*tensors(train_rows))
    x_eval, _ = tensors(eval_rows)
    torch.manual_seed(0)
    model = build_model(args.arch, prepared.images.shape[1]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    steps = len(train_rows) // args.batch_size
    times = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        gen = torch.Generator().manual_seed(epoch)
        model.train()
        for step, (x, y) in enumerate(DataLoader(train, batch_size=args.batch_size, shuffle=True,
                                                  generator=gen, drop_last=True)):
            if step >= steps:
                break
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(model(x.to(device)), y.to(device))
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for start in range(0, len(x_eval), 256):
                torch.sigmoid(model(x_eval[start:start + 256].to(device))).cpu()
        times.append(time.perf_counter() - t0)
    return times


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        prepared_dir = write_synthetic(Path(tmp) / "prepared", "mixed", n=args.n, size=args.size,
                                       seed=0)
        prepared = load_prepared(prepared_dir)
        n_train = len(prepared.indices("train")) // args.batch_size * args.batch_size
        cfg = TrainConfig(prepared=str(prepared_dir), out=str(Path(tmp) / "run"), arch=args.arch,
                          method="erm", epochs=args.epochs, batch_size=args.batch_size,
                          threads=args.threads, device=args.device)
        train_run(cfg, log=lambda msg: None)
        ours = pd.read_csv(Path(cfg.out) / "history.csv")["seconds"].to_numpy()[1:]
        bare = np.array(_bare_epoch_seconds(prepared, args, torch.device(args.device))[1:])
    ours_rate, bare_rate = n_train / np.median(ours), n_train / np.median(bare)
    print(f"{args.arch} {args.size}x{args.size}, batch {args.batch_size}, {n_train} training "
          f"images + scoring {args.n - len(prepared.indices('train'))} val/test per epoch, "
          f"{args.threads} threads, median of {len(ours)} epochs")
    print(f"  fairmedia train : {ours_rate:8.1f} train images/s ({np.median(ours):.2f} s/epoch)")
    print(f"  bare PyTorch    : {bare_rate:8.1f} train images/s ({np.median(bare):.2f} s/epoch)")
    ratio = ours_rate / bare_rate
    print(f"  ratio {ratio:.3f} (target >= 0.90): {'ok' if ratio >= 0.90 else 'BELOW TARGET'}")
    return 0
