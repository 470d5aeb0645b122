"""Pool several prepared datasets into one (training on a union of datasets).

The union is a prepared dataset like any other (data contract 1), so every method trains on it
unchanged. Rows keep their member's split (member splits are already by patient, so the union's
are too); ``sample_id`` and ``patient_id`` are prefixed with the member's key, so two datasets
that both number patients from 1 never share a patient; a ``source`` column names the member; the
attribute columns are named after the shared concepts of the cards' ``attribute_map``. Images
already of the first member's shape are copied as they are; others are resized to it (bilinear,
antialiased, or trilinear for volumes). A different channel count or dimensionality is an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from fairmedia.data.compat import SOURCE_COLUMN
from fairmedia.data.prepared import (
    ImageArrayWriter,
    PreparedDataset,
    file_sha256,
    load_prepared,
    write_prepared,
)
from fairmedia.errors import UserError

CHUNK = 512  # rows resized at a time: bounds memory on paper-scale datasets


def resize_images(images: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """uint8 N×C×(D×)H×W → uint8 N×C×``shape`` (spatial part only changes)."""
    x = torch.from_numpy(np.asarray(images, dtype=np.float32))
    if x.ndim == 4:
        y = F.interpolate(x, size=shape, mode="bilinear", align_corners=False, antialias=True)
    else:
        y = F.interpolate(x, size=shape, mode="trilinear", align_corners=False)
    return y.round_().clamp_(0, 255).to(torch.uint8).numpy()


def _member_frame(key: str, prepared: PreparedDataset, columns: dict[str, str]) -> pd.DataFrame:
    meta = prepared.metadata
    missing = [c for c in columns.values() if c not in meta.columns]
    if missing:
        raise UserError(f"aggregate member {key!r}: {prepared.root / 'metadata.parquet'} has no "
                        f"column(s) {missing}; its attributes: {prepared.attributes}")
    frame = pd.DataFrame({
        "sample_id": key + ":" + meta["sample_id"].astype(str),
        "patient_id": key + ":" + meta["patient_id"].astype(str),
        "split": meta["split"].to_numpy(),
        "y": meta["y"].to_numpy(),
        SOURCE_COLUMN: key,
        "source_sample_id": meta["sample_id"].astype(str).to_numpy(),
    })
    for concept, column in columns.items():
        frame[concept] = meta[column].to_numpy()
    return frame


def _check_shapes(members: dict[str, PreparedDataset]) -> tuple[int, ...]:
    keys = list(members)
    first = tuple(members[keys[0]].images.shape[1:])
    for key in keys[1:]:
        shape = tuple(members[key].images.shape[1:])
        if len(shape) != len(first):
            raise UserError(f"aggregate: {keys[0]!r} has images of shape {list(first)} but {key!r} "
                            f"has {list(shape)}; 2D and 3D data cannot be pooled")
        if shape[0] != first[0]:
            raise UserError(f"aggregate: {keys[0]!r} has {first[0]}-channel images but {key!r} has "
                            f"{shape[0]}; prepare them with the same channel count")
    return first


def aggregate_prepared(
    out_dir: str | Path,
    members: dict[str, str | Path],
    columns: dict[str, dict[str, str]],
    *,
    name: str,
    label_concept: str | None = None,
) -> Path:
    """Write the union of ``members`` (key → prepared folder) to ``out_dir``.

    ``columns[key]`` maps each shared attribute concept to that member's column; every member
    maps the same concepts.
    """
    if len(members) < 2:
        raise UserError("aggregate: pool at least two prepared datasets")
    concepts = {tuple(columns[k]) for k in members}
    if len(concepts) != 1:
        raise UserError(f"aggregate: members map different attributes: "
                        f"{ {k: sorted(columns[k]) for k in members} }")
    loaded = {k: load_prepared(p) for k, p in members.items()}
    segmentation = [k for k, p in loaded.items() if p.task != "classification"]
    if segmentation:  # pooling would drop their masks; a union of label maps is not built yet
        raise UserError(f"aggregate: {segmentation} are segmentation datasets; pooling pools "
                        "classification datasets only")
    shape = _check_shapes(loaded)
    meta = pd.concat([_member_frame(k, loaded[k], columns[k]) for k in loaded], ignore_index=True)
    writer = ImageArrayWriter(out_dir, len(meta), shape)
    resized: dict[str, list[int]] = {}
    start = 0
    for key, prepared in loaded.items():
        n, own = len(prepared.images), tuple(prepared.images.shape[1:])
        if own != shape:
            resized[key] = list(own)
        for lo in range(0, n, CHUNK):
            block = np.asarray(prepared.images[lo:lo + CHUNK])
            if own != shape:
                block = resize_images(block, shape[1:])
            writer.array[start + lo:start + lo + len(block)] = block
        start += n
    writer.finalize()
    attributes = [*columns[next(iter(members))], SOURCE_COLUMN]
    options = {
        "members": {k: str(p) for k, p in members.items()},
        "attribute_columns": columns,
        "label_concept": label_concept,
        "resized_from": resized,
        "member_counts": {k: int(len(p.metadata)) for k, p in loaded.items()},
    }
    sources = {f"{k}/metadata.parquet": file_sha256(Path(p) / "metadata.parquet")
               for k, p in members.items()}
    return write_prepared(out_dir, meta, None, dataset=name, card_version="aggregate",
                          attributes=attributes, sources=sources, options=options)
