"""The embedding cache (docs/contracts.md, contract 7): a prepared dataset's image embeddings under
one backbone, computed once and read by every probe trained on them.

``{out}/embeddings.npy`` is float16 ``N×dim``, row i the embedding of row i of the prepared
``metadata.parquet``, opened memory-mapped. ``manifest.json`` (written last) records the backbone,
its weights (sha256 of the file, or the library tag), the preprocessing, the prepared content hash,
the rows done and their ``fingerprint`` (sha256 of those).

Resumable: rows are computed in chunks into ``embeddings.npy.partial``; after each chunk the
memory map is flushed and only then ``progress.json`` (fingerprint, rows done) is replaced
atomically, so a killed job continues after the last chunk that reached the disk.

Invalidation: a partial cache of another fingerprint is discarded and recomputed (it was never
published); a finished cache of another fingerprint is refused with the fields that differ,
unless ``force`` (``--force``) recomputes it. The same fingerprint finished is left as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fairmedia import __version__, layout
from fairmedia.data.prepared import PreparedDataset, load_prepared
from fairmedia.errors import UserError
from fairmedia.foundation.backbones import Backbone
from fairmedia.progress import progress

FORMAT = 1
DTYPE = np.float16
IDENTITY_FIELDS = ("format", "backbone", "weights", "preprocess", "prepared_content_hash", "n", "dim")


def cache_identity(backbone: Backbone, prepared: PreparedDataset) -> dict[str, Any]:
    """What the cached numbers depend on; its sha256 is the cache's fingerprint."""
    return {
        "format": FORMAT,
        "backbone": backbone.decl.as_dict(),
        "weights": backbone.weights_id,
        "preprocess": backbone.preprocess.as_dict(),
        "prepared_content_hash": prepared.content_hash(),
        "n": int(len(prepared.metadata)),
        "dim": backbone.dim,
    }


def fingerprint(identity: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [f for f in IDENTITY_FIELDS if old.get(f) != new.get(f)]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _start_row(out: Path, identity: dict[str, Any], key: str, log: Callable[[str], None]) -> int:
    """Rows already done by an earlier attempt of the same fingerprint (0 to start afresh)."""
    state = _read_json(out / layout.EMBED_PROGRESS)
    partial = out / layout.EMBED_PARTIAL
    if state and state.get("fingerprint") == key and partial.exists():
        arr = np.load(partial, mmap_mode="r")
        if arr.shape == (identity["n"], identity["dim"]) and arr.dtype == DTYPE:
            done = int(state["rows_done"])
            log(f"resuming {partial}: {done} of {identity['n']} rows were done")
            return done
    if state:
        why = _differences(state.get("identity", {}), identity) or ["the partial file"]
        log(f"discarding the partial cache in {out} (it differs in {', '.join(why)}); recomputing")
    partial.unlink(missing_ok=True)
    return 0


def embed_prepared(prepared_dir: str | Path, backbone: Backbone, out: str | Path, *,
                   batch_size: int = 64, chunk_rows: int | None = None,
                   device: torch.device | str = "cpu", force: bool = False,
                   after_chunk: Callable[[int], None] | None = None,
                   log: Callable[[str], None] = print) -> Path:
    """Fill ``out`` with the cache of ``prepared_dir`` under ``backbone`` (module docstring).

    ``chunk_rows`` rows (default 16 batches) go to disk between progress records; ``after_chunk``
    is called with the rows done after each recorded chunk."""
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}")
    chunk_rows = chunk_rows or 16 * batch_size
    out = Path(out)
    prepared = load_prepared(prepared_dir)
    if prepared.images.ndim != 4:
        raise UserError(f"{Path(prepared_dir) / layout.IMAGES}: the embedding cache takes 2-D images "
                        f"(N×C×H×W); this dataset has shape {list(prepared.images.shape)}")
    identity = cache_identity(backbone, prepared)
    key = fingerprint(identity)
    manifest_path, final = out / layout.MANIFEST, out / layout.EMBEDDINGS_NPY
    old = _read_json(manifest_path)
    if old is not None and final.exists():
        if old.get("fingerprint") == key:
            log(f"{final} is up to date ({identity['n']} rows, fingerprint {key[:12]})")
            return final
        if not force:
            raise UserError(
                f"{manifest_path}: this cache was made with another "
                f"{', '.join(_differences(old, identity)) or 'configuration'} than asked for now; "
                "refusing to overwrite it. Pass --force to recompute, or choose another --out")
        log(f"--force: recomputing {final} (it differs in {', '.join(_differences(old, identity))})")
    out.mkdir(parents=True, exist_ok=True)
    manifest_path.unlink(missing_ok=True)
    final.unlink(missing_ok=True)
    start = _start_row(out, identity, key, log)
    partial = out / layout.EMBED_PARTIAL
    if start == 0:
        np.lib.format.open_memmap(partial, mode="w+", dtype=DTYPE,
                                  shape=(identity["n"], identity["dim"])).flush()
    arr = np.load(partial, mmap_mode="r+")
    device = torch.device(device)
    backbone = backbone.to(device).eval()
    amp = device.type == "cuda"
    t0 = time.perf_counter()
    n = identity["n"]
    with progress(total=n, initial=start, desc=f"embed {backbone.decl.name}", unit="img") as bar:
        for lo in range(start, n, chunk_rows):
            hi = min(lo + chunk_rows, n)
            for b in range(lo, hi, batch_size):
                e = min(b + batch_size, hi)
                x = torch.from_numpy(np.array(prepared.images[b:e])).to(device)  # a writable copy
                # the resize and normalisation stay in float32; only the encoder runs under AMP
                autocast = torch.autocast("cuda", dtype=torch.float16) if amp else contextlib.nullcontext()
                with torch.inference_mode():
                    x = backbone.preprocess(x)
                    with autocast:
                        z = backbone(x)
                arr[b:e] = z.float().cpu().numpy().astype(DTYPE)
                bar.update(e - b)
            arr.flush()  # the rows reach the disk before the progress record says they did
            _write_json(out / layout.EMBED_PROGRESS,
                        {"fingerprint": key, "identity": identity, "rows_done": hi})
            if after_chunk is not None:
                after_chunk(hi)
    del arr
    os.replace(partial, final)
    manifest = {**identity, "fingerprint": key, "rows_done": n, "dtype": np.dtype(DTYPE).name,
                "amp": "float16 autocast" if amp else None, "device": str(device),
                "prepared": str(prepared_dir), "written_by": f"fairmedia-bench {__version__}",
                "wall_seconds_last_attempt": round(time.perf_counter() - t0, 3)}
    _write_json(manifest_path, manifest)
    (out / layout.EMBED_PROGRESS).unlink(missing_ok=True)
    log(f"wrote {final}: {n} rows × {identity['dim']} (float16)")
    return final


def load_embeddings(out: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The finished cache, memory-mapped, and its manifest."""
    out = Path(out)
    manifest = _read_json(out / layout.MANIFEST)
    if manifest is None or not (out / layout.EMBEDDINGS_NPY).exists():
        raise UserError(f"{out} holds no finished embedding cache (run `fairmedia embed`)")
    arr = np.load(out / layout.EMBEDDINGS_NPY, mmap_mode="r", allow_pickle=False)
    if arr.shape != (manifest["n"], manifest["dim"]):
        raise UserError(f"{out / layout.EMBEDDINGS_NPY} has shape {list(arr.shape)}; its manifest "
                        f"says {manifest['n']}×{manifest['dim']}")
    return arr, manifest
