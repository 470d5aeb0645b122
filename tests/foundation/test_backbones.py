"""Backbones: preprocessing read from the library's config, weights loaded from a state dict file
(and the wrong-shape error), and ``offline`` without cached weights naming where they must go."""

from __future__ import annotations

import hashlib

import open_clip
import pytest
import timm
import torch
from huggingface_hub import constants

from fairmedia.errors import UserError
from fairmedia.foundation.backbones import BackboneDecl, build_backbone, resolve_backbone
from fairmedia.foundation.weights import WeightSource, cached_file


def test_preprocessing_comes_from_the_library_config(tiny_vit, tiny_clip):
    vit = build_backbone(tiny_vit, "none")
    cfg = timm.data.resolve_data_config({}, model=vit.net)
    assert (vit.preprocess.size, vit.preprocess.mean, vit.preprocess.std) == (
        tuple(cfg["input_size"][1:]), tuple(cfg["mean"]), tuple(cfg["std"]))
    clip = build_backbone(tiny_clip, "none")
    _, _, transform = open_clip.create_model_and_transforms(tiny_clip.model, pretrained=None)
    norm = transform.transforms[-1]
    assert (clip.preprocess.mean, clip.preprocess.std) == (tuple(norm.mean), tuple(norm.std))
    assert clip.preprocess.size == (32, 32) and clip.preprocess.grey == "repeat"


def test_a_grey_image_is_repeated_to_three_channels(tiny_vit):
    pp = build_backbone(tiny_vit, "none").preprocess
    grey = torch.randint(0, 256, (2, 1, 32, 32), dtype=torch.uint8)
    torch.testing.assert_close(pp(grey), pp(grey.repeat(1, 3, 1, 1)))
    with pytest.raises(UserError, match="2 channels"):
        pp(grey.repeat(1, 2, 1, 1))


def _hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_timm_weights_from_a_state_dict_file(tiny_vit, tmp_path):
    torch.manual_seed(123)
    net = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=2, img_size=32).eval()
    path = tmp_path / "vit.pt"
    torch.save(net.state_dict(), path)  # with its classifier, which the backbone drops
    backbone = build_backbone(tiny_vit, str(path))
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(backbone(x), net.forward_head(net.forward_features(x), pre_logits=True))
    assert backbone.weights_id == f"sha256:{_hash(path)}"


def test_open_clip_weights_whole_model_or_image_tower(tiny_clip, tmp_path):
    torch.manual_seed(7)
    model = open_clip.create_model(tiny_clip.model, pretrained=None).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = model.encode_image(x)
    torch.save(model.state_dict(), tmp_path / "clip.pt")
    torch.save(model.visual.state_dict(), tmp_path / "visual.pt")
    for name in ("clip.pt", "visual.pt"):
        with torch.no_grad():
            torch.testing.assert_close(build_backbone(tiny_clip, str(tmp_path / name))(x), ref)


def test_a_state_dict_of_the_wrong_shape_is_a_clear_error(tiny_vit, tmp_path):
    other = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=0, img_size=64)
    path = tmp_path / "vit64.pt"
    torch.save(other.state_dict(), path)
    with pytest.raises(UserError, match=rf"{path}.*'pos_embed' is \[1, 17, 192\] in the file"):
        build_backbone(tiny_vit, str(path))
    with pytest.raises(UserError, match="no such file"):
        build_backbone(tiny_vit, str(tmp_path / "missing.pt"))


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Empty Hugging Face and torch hub caches; the offline switch restored afterwards."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", constants.HF_HUB_OFFLINE)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


@pytest.mark.parametrize("name, folder", [
    ("clip-vit-b16", "models--timm--vit_base_patch16_clip_224.openai"),
    ("biomedclip", "models--microsoft--BiomedCLIP-PubMedBERT_256-vit_base_patch16_224"),
    ("dinov2-vit-s14", "models--timm--vit_small_patch14_dinov2.lvd142m"),
    ("hf-dinov2-small", "models--facebook--dinov2-small"),
])
def test_offline_without_cached_weights_names_the_path(name, folder, empty_caches):
    with pytest.raises(UserError, match="--offline") as err:
        build_backbone(name, offline=True)
    assert str(empty_caches / "hf" / folder) in str(err.value) and "--weights PATH" in str(err.value)


def test_a_cached_file_is_found_in_the_hub_layout(empty_caches):
    snap = empty_caches / "hf" / "models--org--net" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "model.safetensors").write_bytes(b"x")
    (empty_caches / "hf" / "models--org--net" / "refs").mkdir()
    (empty_caches / "hf" / "models--org--net" / "refs" / "main").write_text("abc123")
    source = WeightSource("org/net", ("pytorch_model.bin", "model.safetensors"))
    assert cached_file(source) == snap / "model.safetensors"
    assert cached_file(WeightSource("org/other", ("model.safetensors",))) is None


def test_backbone_names():
    assert resolve_backbone("open_clip:ViT-B-16@openai") == BackboneDecl(
        "open_clip:ViT-B-16@openai", "open_clip", "ViT-B-16", "openai")
    assert resolve_backbone("hf:facebook/dinov2-small").library == "transformers"
    with pytest.raises(UserError, match="not a known backbone"):
        resolve_backbone("resnet-lol")


def test_a_transformers_encoder_from_a_local_folder(tmp_path):
    """A tiny ViT saved with transformers' own save_pretrained; reference: its forward pass on
    inputs normalised with the saved image processor's mean/std."""
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    torch.manual_seed(5)
    net = ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                             intermediate_size=64, image_size=32, patch_size=8)).eval()
    net.save_pretrained(tmp_path)
    ViTImageProcessor(size={"height": 32, "width": 32}, image_mean=[0.1, 0.2, 0.3],
                      image_std=[0.5, 0.6, 0.7]).save_pretrained(tmp_path)
    backbone = build_backbone(f"hf:{tmp_path}", offline=True)
    assert backbone.preprocess.size == (32, 32) and backbone.preprocess.mean == (0.1, 0.2, 0.3)
    images = torch.randint(0, 256, (3, 1, 32, 32), dtype=torch.uint8)
    mean = torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)
    std = torch.tensor([0.5, 0.6, 0.7]).view(1, 3, 1, 1)
    x = (images.float().div(255).repeat(1, 3, 1, 1) - mean) / std
    with torch.no_grad():
        torch.testing.assert_close(backbone(backbone.preprocess(images)), net(pixel_values=x).pooler_output)
