"""Per-epoch training time of every training-time method relative to ERM.

Same data (a synthetic `representation` set), same architecture, batch size and steps; only the
method differs. Each method and a fresh ERM train alternately, epoch by epoch: ``--warmup``
epochs untimed, then ``--epochs`` timed epochs of ``method.update`` calls (no validation
scoring); the method's median epoch time is divided by ERM's median from the same interleaving.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from torch.utils.data import DataLoader

from fairmedia.data.prepared import load_prepared
from fairmedia.data.synthetic import write_synthetic
from fairmedia.data.torch_dataset import PreparedImageDataset
from fairmedia.methods.registry import available_methods, resolve_hparams
from fairmedia.models.registry import build_model
from fairmedia.perf._interleave import MIN_ROUNDS, Comparison, interleave

DESCRIPTION = "per-epoch training time of each training-time method vs ERM (cnn-small, synthetic)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=600, help="synthetic images (60% train)")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--arch", default="cnn-small")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=MIN_ROUNDS,
                   help="timed epochs per method, interleaved with ERM's")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--methods", nargs="*", default=None, help="default: all training-time methods")


def _trainer(name: str, batches: list, prepared, args):
    """A closure running one training epoch of ``name`` (fresh model, same seed)."""
    torch.manual_seed(0)
    model = build_model(args.arch, prepared.images.shape[1], spatial_dims=prepared.spatial_dims)
    method = available_methods()[name](model, 2, resolve_hparams(name),
                                       epochs=args.warmup + args.epochs, steps_per_epoch=len(batches))
    method.train()
    state = {"epoch": 0}

    def epoch() -> float:
        t = time.perf_counter()
        for x, y, a, _ in batches:
            method.update(x, y, a)
        method.on_epoch_end(state["epoch"])
        state["epoch"] += 1
        return time.perf_counter() - t

    return epoch


def _compare(name: str, batches: list, prepared, args) -> Comparison:
    """Epochs of the method and of a fresh ERM, interleaved by the shared helper (start order
    alternating), so that load from other processes on a shared machine hits both alike."""
    return interleave((name, _trainer(name, batches, prepared, args)),
                      ("ERM", _trainer("erm", batches, prepared, args)),  # erm vs ERM: the noise
                      rounds=args.epochs, warmup=args.warmup)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    names = args.methods or [n for n, c in available_methods().items() if c.category != "post"]
    with tempfile.TemporaryDirectory() as tmp:
        prepared = load_prepared(write_synthetic(tmp, "representation", n=args.n, size=args.size))
        groups, _ = prepared.attribute_codes("sex")
        ds = PreparedImageDataset(prepared, prepared.indices("train"), groups)
        # Decoded once up front so the timing is of the method, not of reading the memory map.
        batches = list(DataLoader(ds, batch_size=args.batch_size, shuffle=True, drop_last=True,
                                  generator=torch.Generator().manual_seed(0)))
        print(f"{args.arch}, {args.size}×{args.size}, {len(ds)} training images, batch "
              f"{args.batch_size}, {args.threads} threads; each method interleaved with ERM")
        print(f"medians over {args.epochs} interleaved epochs (min–max); × ERM is the median of the "
              "per-epoch ratios")
        print("| method | s/epoch | ERM s/epoch | × ERM |\n|---|---|---|---|")
        for name in names:
            res = _compare(name, batches, prepared, args)
            print(f"| {name} | {_spread(res.times[name])} | {_spread(res.times['ERM'])} | "
                  f"{res.ratio:.2f} |", flush=True)
    return 0
