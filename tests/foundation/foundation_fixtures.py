"""Tiny randomly initialised backbones of the real families (nothing is downloaded) and a tiny
prepared dataset of grey 32×32 images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fairmedia.data.prepared import write_prepared
from fairmedia.foundation.backbones import BackboneDecl

N_ROWS = 22  # not a multiple of the batch or chunk size, so the last chunk is short
TINY_CLIP = "fairmedia-tiny-clip-test"
TINY_CLIP_CFG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 8, "head_width": 16},
    "text_cfg": {"context_length": 8, "vocab_size": 64, "width": 16, "heads": 2, "layers": 1},
}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> BackboneDecl:
    """An open_clip ViT built from a custom model config (registered through open_clip's API)."""
    import open_clip

    path = tmp_path_factory.mktemp("open_clip_cfg") / f"{TINY_CLIP}.json"
    path.write_text(json.dumps(TINY_CLIP_CFG))
    open_clip.add_model_config(path)
    return BackboneDecl("tiny-clip", "open_clip", TINY_CLIP)


@pytest.fixture(scope="session")
def tiny_vit() -> BackboneDecl:
    return BackboneDecl("tiny-vit", "timm", "vit_tiny_patch16_224", kwargs=(("img_size", 32),))


def write_tiny_prepared(root: Path, seed: int = 0, channels: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    n = N_ROWS
    meta = pd.DataFrame({
        "sample_id": [f"s{i}" for i in range(n)], "patient_id": [f"p{i}" for i in range(n)],
        "split": ["train"] * 12 + ["val"] * 5 + ["test"] * 5, "y": rng.integers(0, 2, n),
        "sex": rng.choice(["F", "M"], n)})
    images = rng.integers(0, 256, (n, channels, 32, 32), dtype=np.uint8)
    return write_prepared(root, meta, images, dataset="tiny", card_version=1, attributes=["sex"])


@pytest.fixture(scope="session")
def tiny_prepared_2d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_prepared(tmp_path_factory.mktemp("prepared"))
