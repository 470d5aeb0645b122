"""Preparing throughput: decode + resize N JPEG/PNG images into the prepared array with the
parallel decoder (images/s), then training-time reads from the memory-mapped array vs decoding the
files on the fly (the baseline), on the same images. The two read paths alternate over
``--rounds`` rounds (perf/_interleave.py; medians); preparing is one timed pass (it writes the
array the reads use, and has no baseline to alternate with)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fairmedia.data.adapters._image_decode import decode_images, load_image
from fairmedia.perf._interleave import add_rounds_argument, interleave

DESCRIPTION = "images/s preparing N images (2 workers); array reads vs on-the-fly decoding"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=2000, help="number of images (the issue's figure: 100000)")
    p.add_argument("--size", type=int, default=256, help="prepared image size (default 256)")
    p.add_argument("--source-size", type=int, default=512, help="side of the source images")
    p.add_argument("--format", choices=["jpeg", "png"], default="jpeg")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=64, help="batch size for the read comparison")
    add_rounds_argument(p)
    p.add_argument("--dir", default=None, help="scratch folder (default: a temporary one)")


def _write_sources(root: Path, n: int, side: int, fmt: str) -> list[str]:
    rng = np.random.default_rng(0)
    # A few distinct textured images, reused: writing sources is setup, not what is measured.
    bases = [Image.fromarray((rng.random((side, side)) * 64 + np.linspace(0, 190, side)).astype(np.uint8))
             for _ in range(8)]
    ext = "jpg" if fmt == "jpeg" else "png"
    paths = []
    for i in range(n):
        rel = f"img/{i // 1000:03d}/{i:06d}.{ext}"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        bases[i % 8].save(root / rel, quality=90) if fmt == "jpeg" else bases[i % 8].save(root / rel)
        paths.append(rel)
    return paths


def run(args: argparse.Namespace) -> int:
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)  # scratch space the user named
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root, out = Path(tmp) / "raw", Path(tmp) / "prepared"
        paths = _write_sources(root, args.n, args.source_size, args.format)
        t0 = time.perf_counter()
        skipped = decode_images(root, out, paths, size=args.size, channels=1, workers=args.workers)
        prep_s = time.perf_counter() - t0
        assert not skipped
        print(f"prepare: {args.n} {args.format} {args.source_size}px -> {args.size}px, "
              f"{args.workers} workers: {prep_s:.1f} s, {args.n / prep_s:.0f} images/s")

        images = np.load(out / "images.npy", mmap_mode="r")
        order = np.random.default_rng(1).permutation(args.n)  # shuffled, like a training epoch
        n_read = min(args.n, 20 * args.batch)

        def array_reads() -> float:
            t0 = time.perf_counter()
            for start in range(0, n_read, args.batch):
                idx = np.sort(order[start : start + args.batch])
                np.ascontiguousarray(images[idx]).astype(np.float32) / 255.0
            return time.perf_counter() - t0

        def decoding() -> float:
            t0 = time.perf_counter()
            for start in range(0, n_read, args.batch):
                idx = order[start : start + args.batch]
                decoded = [load_image(root / paths[i], args.size, 1) for i in idx]
                np.stack(decoded).astype(np.float32) / 255.0
            return time.perf_counter() - t0

        result = interleave(("on-the-fly decoding", decoding), ("memory-mapped array", array_reads),
                            rounds=args.rounds)
        print(f"training reads ({n_read} shuffled images, batch {args.batch}, 1 process), "
              "interleaved:")
        print("\n".join(result.lines(unit="images/s", scale=lambda s: n_read / s)))
        print(f"  the array reads {result.ratio:.1f}x faster (median of per-round ratios)")
    return 0
