"""Decode and resize every image once, in parallel worker processes, into ``images.npy``.

Workers write their rows straight into the memory-mapped ``images.npy.partial`` of an
:class:`ImageArrayWriter` (rows are disjoint, so no locking), and send back only the failures.
``images.progress.npz`` records which rows are done for which list of paths, so a killed prepare
resumes where it stopped. Unreadable images are skipped (listed in ``skipped_images.csv``); more
than ``max_bad_fraction`` of them is fatal.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from fairmedia.data.prepared import ImageArrayWriter
from fairmedia.errors import UserError
from fairmedia.progress import progress

CHUNK = 256  # rows per task: large enough to amortise process overhead, small for smooth progress


def check_relative_paths(paths: pd.Series, root: Path, source: str,
                         rows: pd.Series | np.ndarray | None = None) -> None:
    """Refuse absolute paths, paths that climb out of ``root``, and paths whose real location
    (symbolic links resolved) is outside ``root``: a link inside the dataset folder pointing at
    ``/etc/passwd`` is no more an image of the dataset than ``../../etc/passwd``. ``root`` itself
    may be a link. ``rows``: the 0-based metadata row of each path, for the message (default:
    the position in ``paths``)."""
    paths = paths.astype(str)
    numbers = np.arange(len(paths)) if rows is None else np.asarray(rows)
    for row, rel in zip(numbers, paths):
        norm = posixpath.normpath(rel.replace("\\", "/"))
        if rel.startswith(("/", "\\")) or norm == ".." or norm.startswith("../") or ":" in norm[:3]:
            raise UserError(
                f"{source}: row {row + 1} names image {rel!r}, which escapes the dataset root {root}; "
                "image paths must be relative and stay inside --root"
            )
    real_root = Path(os.path.realpath(root))
    real_dirs: dict[str, str] = {}  # resolve each folder once: one lstat per file, not a realpath
    for row, rel in zip(numbers, paths):
        norm = posixpath.normpath(rel.replace("\\", "/"))
        folder, name = posixpath.split(norm)
        if folder not in real_dirs:
            real_dirs[folder] = os.path.realpath(root / folder)
        real = os.path.join(real_dirs[folder], name)
        if os.path.islink(real):
            real = os.path.realpath(real)
        if not _inside(real, real_root):
            raise UserError(
                f"{source}: row {row + 1} names image {rel!r}, whose real location {real} (after "
                f"following symbolic links) is outside the dataset root {real_root}; image files "
                "must stay inside --root: copy the file into it, or point --root at the folder that "
                "holds the real files (the metadata file may be a link)"
            )


def _inside(path: str, root: Path) -> bool:
    try:
        Path(path).relative_to(root)
    except ValueError:
        return False
    return True


def check_free_space(partial: Path) -> None:
    """Before decoding: an ``OSError(ENOSPC)`` naming ``partial`` when the disk cannot hold the
    rest of the array (its rows are written through a memory map, where a full disk would kill
    the worker processes with SIGBUS instead of raising)."""
    st = partial.stat()
    needed = st.st_size - getattr(st, "st_blocks", 0) * 512  # the not yet allocated part
    free = shutil.disk_usage(partial.parent).free
    if needed > free:
        raise OSError(errno.ENOSPC, f"the image array needs {needed / 1e9:.2f} GB more and "
                      f"{free / 1e9:.2f} GB are free", str(partial))


def load_image(path: Path, size: int, channels: int) -> np.ndarray:
    """One image as uint8 C×size×size. 16-bit greyscale (PadChest, some NIH PNGs) is min–max
    scaled per image, since a plain mode conversion would clip it to white."""
    with Image.open(path) as img:
        img.draft("L" if channels == 1 else "RGB", (size, size))  # JPEG: decode at reduced scale
        if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            arr = np.asarray(img, dtype=np.float32)
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
            img = Image.fromarray(arr.astype(np.uint8), mode="L")
        img = img.convert("L" if channels == 1 else "RGB").resize((size, size), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def _decode_chunk(
    partial: str, root: str, rows: list[int], paths: list[str], size: int, channels: int
) -> list[tuple[int, str]]:
    array = np.load(partial, mmap_mode="r+")
    failures = []
    for row, rel in zip(rows, paths):
        try:
            array[row] = load_image(Path(root) / rel, size, channels)
        except Exception as err:  # noqa: BLE001 — any decoder failure means "unreadable image"
            failures.append((row, f"{type(err).__name__}: {err}"))
    array.flush()
    return failures


def _fingerprint(paths: list[str], size: int, channels: int) -> str:
    h = hashlib.sha256(f"{size}x{channels}\n".encode())
    for p in paths:
        h.update(p.encode() + b"\n")
    return h.hexdigest()


def decode_images(
    root: Path,
    out: Path,
    paths: list[str],
    *,
    size: int,
    channels: int,
    workers: int = 2,
    max_bad_fraction: float = 0.01,
) -> list[tuple[int, str, str]]:
    """Fill ``out/images.npy`` with one row per path; returns ``(row, path, error)`` for skipped
    rows, whose array rows must then be dropped with :func:`drop_rows`."""
    writer = ImageArrayWriter(out, len(paths), (channels, size, size))
    progress_file = out / "images.progress.npz"
    fingerprint = _fingerprint(paths, size, channels)
    done = np.zeros(len(paths), dtype=bool)
    if progress_file.exists():
        saved = np.load(progress_file)
        if str(saved["fingerprint"]) == fingerprint and len(saved["done"]) == len(paths):
            done = saved["done"].copy()
    todo = np.flatnonzero(~done)
    # A resumed prepare starts the bar at the rows already done, so its rate and ETA are right.
    bar = progress(total=len(paths), initial=int(done.sum()), desc="  images", unit="img")
    failures: dict[int, str] = {}
    writer.array.flush()
    check_free_space(writer.partial)
    try:
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = {}
            for start in range(0, len(todo), CHUNK):
                rows = todo[start : start + CHUNK].tolist()
                fut = pool.submit(_decode_chunk, str(writer.partial), str(root), rows,
                                  [paths[r] for r in rows], size, channels)
                futures[fut] = rows
            for i, fut in enumerate(as_completed(futures)):
                rows = futures[fut]
                bad = dict(fut.result())
                failures.update(bad)
                done[[r for r in rows if r not in bad]] = True
                bar.update(len(rows))
                if i % 16 == 15:  # checkpoint the done-mask now and then, atomically
                    _save_progress(progress_file, fingerprint, done)
    except BrokenProcessPool:
        if shutil.disk_usage(out).free < (1 << 20):  # a worker's write into the map found no space
            raise OSError(errno.ENOSPC, "a decoding worker died with the disk full",
                          str(writer.partial)) from None
        raise
    finally:  # also when interrupted: the next run resumes from here
        bar.close()
        writer.array.flush()
        _save_progress(progress_file, fingerprint, done)
    if len(paths) and len(failures) > max_bad_fraction * len(paths):
        row = min(failures)
        raise UserError(
            f"{len(failures)} of {len(paths)} images could not be read (more than the allowed "
            f"fraction {max_bad_fraction}); first: {root / paths[row]}: {failures[row]}"
        )
    skipped = [(row, paths[row], failures[row]) for row in sorted(failures)]
    keep = np.setdiff1d(np.arange(len(paths)), [s[0] for s in skipped])
    if skipped:
        drop_rows(writer, keep)
    else:
        writer.finalize()
    progress_file.unlink(missing_ok=True)
    return skipped


def drop_rows(writer: ImageArrayWriter, keep: np.ndarray) -> None:
    """Publish ``images.npy`` holding only rows ``keep`` (copied in blocks into a fresh file)."""
    src = writer.array
    compact = writer.partial.with_name("images.npy.compact")
    dst = np.lib.format.open_memmap(compact, mode="w+", dtype=np.uint8, shape=(len(keep), *src.shape[1:]))
    for start in range(0, len(keep), 1024):
        dst[start : start + 1024] = src[keep[start : start + 1024]]
    dst.flush()
    del dst, src
    writer.array = None  # release the memory map before replacing its file
    os.replace(compact, writer.partial)
    writer.array = np.load(writer.partial, mmap_mode="r+")
    writer.finalize()


def _save_progress(path: Path, fingerprint: str, done: np.ndarray) -> None:
    tmp = path.with_name("images.progress.partial.npz")
    np.savez(tmp, fingerprint=np.array(fingerprint), done=done)
    os.replace(tmp, path)
