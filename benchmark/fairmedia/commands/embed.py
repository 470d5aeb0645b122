"""``fairmedia embed``: a prepared dataset's image embeddings under one backbone (contract 7)."""

from __future__ import annotations

import argparse
from pathlib import Path

from fairmedia.commands._args import check_output_dir
from fairmedia.errors import UserError

NAME = "embed"
HELP = "compute and cache a prepared dataset's image embeddings under a foundation-model backbone"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prepared", required=True, help="prepared dataset folder")
    p.add_argument("--backbone", required=True,
                   help="a registered backbone (docs/foundation.md) or open_clip:MODEL@TAG, "
                        "timm:MODEL, hf:REPO")
    p.add_argument("--weights", default=None, metavar="PATH|none",
                   help="a state dict file, or none for random initialisation (default: the "
                        "library's pretrained weights, downloaded into its cache when missing)")
    p.add_argument("--offline", action="store_true",
                   help="never download: use the library's cache only, and say where a missing "
                        "file must go")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--chunk-rows", type=int, default=None,
                   help="rows written between progress records (default: 16 batches)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--force", action="store_true",
                   help="recompute a finished cache made with another backbone, weights, "
                        "preprocessing or data (refused otherwise)")
    p.add_argument("--out", required=True, help="cache folder (results/embeddings/DATASET/BACKBONE)")


def run(args: argparse.Namespace) -> int:
    from fairmedia.foundation.backbones import build_backbone
    from fairmedia.foundation.embed_cache import embed_prepared
    from fairmedia.training.devices import resolve_device

    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise UserError(f"--chunk-rows must be at least 1, got {args.chunk_rows}")
    out = Path(args.out)
    check_output_dir(out, "--out")
    device, why = resolve_device(args.device)
    print(why)
    backbone = build_backbone(args.backbone, args.weights, offline=args.offline)
    print(f"backbone {backbone.decl.name}: {backbone.dim}-d embeddings, weights {backbone.weights_id}, "
          f"input {backbone.preprocess.as_dict()}")
    embed_prepared(args.prepared, backbone, out, batch_size=args.batch_size,
                   chunk_rows=args.chunk_rows, device=device, force=args.force)
    return 0
