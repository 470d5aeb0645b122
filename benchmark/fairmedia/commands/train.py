"""``fairmedia train``: one training run into RUN_DIR (data contract 2)."""

from __future__ import annotations

import argparse

from fairmedia.commands._args import parse_assignments
from fairmedia.training.config import TrainConfig
from fairmedia.training.devices import DEVICE_NAMES, check_device
from fairmedia.training.loop import train_run

NAME = "train"
HELP = "train one (arch, method, attribute, seed) run on a prepared dataset"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prepared", required=True, help="prepared dataset folder")
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument("--arch", default="cnn-small")
    p.add_argument("--method", default="erm")
    p.add_argument("--attribute", default="any",
                   help="sensitive attribute, or 'any' for attribute-free methods")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--hparam", action="append", default=[], metavar="KEY=VALUE",
                   help="method hyperparameter override (repeatable)")
    p.add_argument("--hparam-sample", type=int, default=None,
                   help="use the k-th random hyperparameter configuration instead of the defaults")
    p.add_argument("--pretrained", default="none", help="none | imagenet | PATH")
    p.add_argument("--device", default="cpu", help=DEVICE_NAMES)
    p.add_argument("--num-workers", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--augment", action="store_true", help="random flips/affine on training images")
    p.add_argument("--max-steps-per-epoch", type=int, default=None)
    gpu = p.add_argument_group("GPU path (no effect on a CPU device)")
    gpu.add_argument("--amp", action="store_true", help="bf16 mixed precision where supported")
    gpu.add_argument("--channels-last", action="store_true", help="NHWC memory layout (2D CNNs)")
    # `--compile` alone or `--compile 0|1` (the workflow passes 0/1 from its resources).
    gpu.add_argument("--compile", type=int, nargs="?", const=1, default=0, choices=(0, 1),
                     help="torch.compile the network")
    gpu.add_argument("--pin-memory", type=int, nargs="?", const=1, default=0, choices=(0, 1),
                     help="pinned host memory for batches")


def run(args: argparse.Namespace) -> int:
    check_device(args.device)  # before the dataset is loaded
    cfg = TrainConfig(
        prepared=args.prepared, out=args.out, arch=args.arch, method=args.method,
        attribute=args.attribute, seed=args.seed, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, weight_decay=args.weight_decay,
        hparams=parse_assignments(args.hparam, "--hparam"), hparam_sample=args.hparam_sample,
        pretrained=args.pretrained, device=args.device, num_workers=args.num_workers,
        threads=args.threads, max_steps_per_epoch=args.max_steps_per_epoch, augment=args.augment,
        amp=args.amp, channels_last=args.channels_last, compile=bool(args.compile),
        pin_memory=bool(args.pin_memory),
    )
    train_run(cfg, log=lambda msg: print(msg, flush=True))
    return 0
