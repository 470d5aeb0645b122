"""Training-loop overhead: `fairmedia train` (ERM) against a bare PyTorch loop over the same
prepared array, model, batch size and steps, measured side by side in one process.

Both sides do what one epoch of the benchmark must do: the training steps, then scoring every val
and test image. The benchmark's epoch also writes its history row, weights and checkpoint; that
cost is what this check measures. The sides alternate epoch by epoch over ``--rounds`` rounds
after one untimed warm-up epoch each (perf/_interleave.py); each `fairmedia train` epoch is a
one-epoch run into a fresh folder, timed by its own history row (set-up excluded).
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
from fairmedia.perf._interleave import add_rounds_argument, interleave
from fairmedia.training.config import TrainConfig
from fairmedia.training.loop import train_run

DESCRIPTION = "images/s of `fairmedia train` (ERM) vs a bare PyTorch loop; target ratio >= 0.90"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="resnet18")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--n", type=int, default=600, help="synthetic images (60%% train)")
    p.add_argument("--batch-size", type=int, default=64)
    add_rounds_argument(p)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")


def _bare_epoch(prepared, args, device: torch.device):
    """Plain loop: tensors of the same rows, Adam, BCE, then scoring val+test; one call = one
    epoch of the same model, returning its seconds."""
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
    state = {"epoch": 0}

    def epoch() -> float:
        t0 = time.perf_counter()
        gen = torch.Generator().manual_seed(state["epoch"])
        state["epoch"] += 1
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
        return time.perf_counter() - t0

    return epoch


def _ours_epoch(prepared_dir: Path, tmp: Path, args):
    """One call = a one-epoch `fairmedia train` run into a fresh folder; its history row's
    seconds (the epoch, without the run's set-up)."""
    count = {"n": 0}

    def epoch() -> float:
        count["n"] += 1
        cfg = TrainConfig(prepared=str(prepared_dir), out=str(tmp / f"run{count['n']}"),
                          arch=args.arch, method="erm", epochs=1, batch_size=args.batch_size,
                          threads=args.threads, device=args.device)
        train_run(cfg, log=lambda msg: None)
        return float(pd.read_csv(Path(cfg.out) / "history.csv")["seconds"].iloc[-1])

    return epoch


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        prepared_dir = write_synthetic(Path(tmp) / "prepared", "mixed", n=args.n, size=args.size,
                                       seed=0)
        prepared = load_prepared(prepared_dir)
        n_train = len(prepared.indices("train")) // args.batch_size * args.batch_size
        result = interleave(("fairmedia train", _ours_epoch(prepared_dir, Path(tmp), args)),
                            ("bare PyTorch", _bare_epoch(prepared, args, torch.device(args.device))),
                            rounds=args.rounds)
    print(f"{args.arch} {args.size}x{args.size}, batch {args.batch_size}, {n_train} training "
          f"images + scoring {args.n - len(prepared.indices('train'))} val/test per epoch, "
          f"{args.threads} threads; epochs of the two sides interleaved")
    print("\n".join(result.lines(unit="train images/s", scale=lambda s: n_train / s)))
    # Throughput ratio ours / bare = bare seconds / our seconds, per round.
    ratio = 1 / result.ratio
    print(f"  throughput ratio (bare s / ours s, median over rounds) {ratio:.3f} (target >= 0.90): "
          f"{'ok' if ratio >= 0.90 else 'BELOW TARGET'}")
    return 0
