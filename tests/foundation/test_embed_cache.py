"""The embedding cache: equal to a direct forward pass of the library's model, resumable after a
kill without recomputing finished chunks, and invalidated by a changed backbone, preprocessing or
data."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import open_clip
import pytest
import timm
import torch
from foundation_fixtures import N_ROWS, TINY_CLIP, write_tiny_prepared
from PIL import Image
from torchvision.transforms import Normalize

from fairmedia import layout
from fairmedia.cli import main
from fairmedia.errors import UserError
from fairmedia.foundation import backbones
from fairmedia.foundation.backbones import RANDOM_SEED, build_backbone
from fairmedia.foundation.embed_cache import embed_prepared, load_embeddings

TINY_CLIP_DIM = 16  # embed_dim of the tiny open_clip config


def _images(prepared) -> np.ndarray:
    return np.load(prepared / layout.IMAGES)


def _close(cache: np.ndarray, ref: np.ndarray) -> None:
    """float16 storage: about 3 significant digits."""
    assert cache.dtype == np.float16 and cache.shape == ref.shape
    np.testing.assert_allclose(cache.astype(np.float32), ref, rtol=2e-3, atol=2e-3 * np.abs(ref).max())


def test_open_clip_cache_equals_the_library_pipeline(tiny_clip, tiny_prepared_2d, tmp_path):
    """Reference: open_clip's own model and eval transform (PIL grey -> RGB, Normalize)."""
    embed_prepared(tiny_prepared_2d, build_backbone(tiny_clip, "none"), tmp_path, batch_size=5,
                   log=lambda _: None)
    cache, manifest = load_embeddings(tmp_path)
    torch.manual_seed(RANDOM_SEED)
    model, _, transform = open_clip.create_model_and_transforms(TINY_CLIP, pretrained=None)
    model.eval()
    x = torch.stack([transform(Image.fromarray(img[0], mode="L")) for img in _images(tiny_prepared_2d)])
    with torch.no_grad():
        ref = model.encode_image(x).numpy()
    _close(cache, ref)
    assert manifest["rows_done"] == N_ROWS and manifest["dim"] == TINY_CLIP_DIM


def test_timm_cache_equals_a_direct_forward(tiny_vit, tiny_prepared_2d, tmp_path):
    """Reference: timm's model with its data config's mean/std (torchvision Normalize)."""
    embed_prepared(tiny_prepared_2d, build_backbone(tiny_vit, "none"), tmp_path, batch_size=4,
                   log=lambda _: None)
    cache, _ = load_embeddings(tmp_path)
    torch.manual_seed(RANDOM_SEED)
    net = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0, img_size=32).eval()
    cfg = timm.data.resolve_data_config({}, model=net)
    x = torch.from_numpy(_images(tiny_prepared_2d)).float().div(255).repeat(1, 3, 1, 1)
    with torch.no_grad():
        ref = net(Normalize(cfg["mean"], cfg["std"])(x)).numpy()
    _close(cache, ref)


class _Killed(Exception):
    pass


def _count_rows(backbone) -> list[int]:
    seen: list[int] = []
    backbone.net.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape[0]))
    return seen


def test_resume_after_a_kill_continues_from_the_last_chunk(tiny_vit, tiny_prepared_2d, tmp_path):
    whole = tmp_path / "whole"
    embed_prepared(tiny_prepared_2d, build_backbone(tiny_vit, "none"), whole, batch_size=4,
                   chunk_rows=8, log=lambda _: None)

    def kill_after_first_chunk(rows_done: int) -> None:
        if rows_done == 8:
            raise _Killed

    cut = tmp_path / "cut"
    with pytest.raises(_Killed):
        embed_prepared(tiny_prepared_2d, build_backbone(tiny_vit, "none"), cut, batch_size=4,
                       chunk_rows=8, after_chunk=kill_after_first_chunk, log=lambda _: None)
    assert json.loads((cut / layout.EMBED_PROGRESS).read_text())["rows_done"] == 8
    assert not (cut / layout.MANIFEST).exists() and not (cut / layout.EMBEDDINGS_NPY).exists()

    fresh = build_backbone(tiny_vit, "none")  # a new process would build the network again
    seen = _count_rows(fresh)
    embed_prepared(tiny_prepared_2d, fresh, cut, batch_size=4, chunk_rows=8, log=lambda _: None)
    assert sum(seen) == N_ROWS - 8  # the first chunk was not recomputed
    np.testing.assert_array_equal(load_embeddings(cut)[0], load_embeddings(whole)[0])
    assert not (cut / layout.EMBED_PROGRESS).exists()


def test_a_finished_cache_is_reused_and_a_changed_one_refused(tiny_vit, tiny_clip, tiny_prepared_2d,
                                                              tmp_path):
    backbone = build_backbone(tiny_vit, "none")
    embed_prepared(tiny_prepared_2d, backbone, tmp_path, batch_size=8, log=lambda _: None)
    seen = _count_rows(backbone)
    embed_prepared(tiny_prepared_2d, backbone, tmp_path, batch_size=8, log=lambda _: None)
    assert seen == []  # same fingerprint: nothing recomputed

    other_pp = dataclasses.replace(backbone.preprocess, mean=(0.4, 0.4, 0.4))
    backbone.preprocess = other_pp
    with pytest.raises(UserError, match="preprocess.*--force"):
        embed_prepared(tiny_prepared_2d, backbone, tmp_path, log=lambda _: None)
    with pytest.raises(UserError, match="backbone"):
        embed_prepared(tiny_prepared_2d, build_backbone(tiny_clip, "none"), tmp_path, log=lambda _: None)
    other_data = write_tiny_prepared(tmp_path / "other", seed=1)
    with pytest.raises(UserError, match="prepared_content_hash"):
        embed_prepared(other_data, build_backbone(tiny_vit, "none"), tmp_path, log=lambda _: None)

    embed_prepared(tiny_prepared_2d, backbone, tmp_path, force=True, log=lambda _: None)
    assert load_embeddings(tmp_path)[1]["preprocess"]["mean"] == [0.4, 0.4, 0.4]


def test_a_partial_cache_of_another_backbone_is_discarded(tiny_vit, tiny_clip, tiny_prepared_2d, tmp_path):
    def kill(rows_done: int) -> None:
        raise _Killed

    with pytest.raises(_Killed):
        embed_prepared(tiny_prepared_2d, build_backbone(tiny_vit, "none"), tmp_path / "c", chunk_rows=8,
                       after_chunk=kill, log=lambda _: None)
    said: list[str] = []
    clip = build_backbone(tiny_clip, "none")
    seen = _count_rows(clip)
    embed_prepared(tiny_prepared_2d, clip, tmp_path / "c", chunk_rows=8, log=said.append)
    assert any("discarding" in s and "backbone" in s for s in said) and sum(seen) == N_ROWS
    embed_prepared(tiny_prepared_2d, build_backbone(tiny_clip, "none"), tmp_path / "ref", log=lambda _: None)
    np.testing.assert_array_equal(load_embeddings(tmp_path / "c")[0], load_embeddings(tmp_path / "ref")[0])


def test_the_embed_command(tiny_vit, tiny_prepared_2d, tmp_path, monkeypatch):
    monkeypatch.setitem(backbones.BACKBONES, "tiny-vit", tiny_vit)
    out = tmp_path / "emb"
    args = ["embed", "--prepared", str(tiny_prepared_2d), "--backbone", "tiny-vit", "--weights", "none",
            "--device", "cpu", "--batch-size", "8", "--out", str(out)]
    assert main(args) == 0
    cache, manifest = load_embeddings(out)
    assert cache.shape == (N_ROWS, 192) and manifest["weights"].startswith("none")
    assert manifest["prepared_content_hash"] == json.loads(
        (tiny_prepared_2d / layout.MANIFEST).read_text())["content_hash"]
    assert main([*args[:-2], "--batch-size", "0", "--out", str(out)]) == 2
