"""Embedding throughput (images/s): ``fairmedia embed``'s cache (memory-mapped reads, batched
preprocessing, float16 memmap writes, progress records) against the bare forward pass of the same
backbone on the same preprocessed tensors (the baseline: what the encoder alone costs). Random
weights (nothing is downloaded); the architecture, not the weights, sets the cost."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fairmedia.data.prepared import write_prepared
from fairmedia.foundation.backbones import BackboneDecl, build_backbone, resolve_backbone
from fairmedia.foundation.embed_cache import embed_prepared
from fairmedia.perf._interleave import add_rounds_argument, interleave

DESCRIPTION = "images/s of the embedding cache vs the bare forward pass (random weights, CPU threads)"

# The test suite's tiny backbones (tests/foundation/foundation_fixtures.py), and ViT-B/16 at full
# size, all buildable without a download.
TINY_CLIP = "fairmedia-tiny-clip-perf"
TINY_CLIP_CFG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1},
}
PRESETS = {
    "tiny-vit": BackboneDecl("tiny-vit", "timm", "vit_tiny_patch16_224", kwargs=(("img_size", 32),)),
    "tiny-clip": BackboneDecl("tiny-clip", "open_clip", TINY_CLIP),
    "vit-b16": BackboneDecl("vit-b16", "timm", "vit_base_patch16_224"),
}


def _register_tiny_clip(folder: Path) -> None:
    import open_clip

    path = folder / f"{TINY_CLIP}.json"
    path.write_text(json.dumps(TINY_CLIP_CFG))
    open_clip.add_model_config(path)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backbone", default="tiny-vit",
                   help=f"{', '.join(PRESETS)}, or any --backbone of `fairmedia embed`")
    p.add_argument("--n", type=int, default=64, help="images")
    p.add_argument("--size", type=int, default=224, help="side of the grey prepared images")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    add_rounds_argument(p, default=3)


def _prepared(root: Path, n: int, size: int) -> Path:
    rng = np.random.default_rng(0)
    meta = pd.DataFrame({"sample_id": [f"s{i}" for i in range(n)], "patient_id": [f"p{i}" for i in range(n)],
                         "split": "train", "y": rng.integers(0, 2, n), "sex": rng.choice(["F", "M"], n)})
    images = rng.integers(0, 256, (n, 1, size, size), dtype=np.uint8)
    return write_prepared(root, meta, images, dataset="perf", card_version=1, attributes=["sex"])


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    decl = PRESETS.get(args.backbone) or resolve_backbone(args.backbone)
    with tempfile.TemporaryDirectory() as tmp:
        if decl.model == TINY_CLIP:
            _register_tiny_clip(Path(tmp))
        backbone = build_backbone(decl, "none").eval()
        prepared = _prepared(Path(tmp) / "prepared", args.n, args.size)
        images = np.load(prepared / "images.npy")
        out = Path(tmp) / "cache"

        def cache() -> float:
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            embed_prepared(prepared, backbone, out, batch_size=args.batch_size, log=lambda _: None)
            return time.perf_counter() - t0

        def bare() -> float:
            batches = [backbone.preprocess(torch.from_numpy(images[i:i + args.batch_size]))
                       for i in range(0, args.n, args.batch_size)]
            t0 = time.perf_counter()
            with torch.inference_mode():
                for x in batches:
                    backbone(x)
            return time.perf_counter() - t0

        result = interleave(("embedding cache", cache), ("bare forward", bare), rounds=args.rounds)
    print(f"embed {decl.name} ({decl.library_name}, {backbone.dim}-d, input "
          f"{list(backbone.preprocess.size)}): {args.n} grey {args.size}px images, batch "
          f"{args.batch_size}, {args.threads} CPU threads")
    print("\n".join(result.lines(unit="images/s", scale=lambda s: args.n / s)))
    print(f"  the cache takes {result.ratio:.2f}x the bare forward's time (median of per-round ratios)")
    return 0
