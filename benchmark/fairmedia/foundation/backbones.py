"""Image encoders from open_clip, timm and Hugging Face transformers, by name.

One :class:`BackboneDecl` per backbone says which library builds it, the library's model name and
pretrained tag, the channels it takes (3) and how grey images are converted (repeated to 3
channels). Its input size, mean, std and interpolation are read from the library's own config of
the built model (fairmedia/foundation/preprocess.py), never typed in twice.

Weights (``weights`` of :func:`build_backbone`): ``None`` the library's pretrained weights (its own
download into its cache, or the cache only with ``offline``); ``"none"`` random initialisation
(seeded, for tests and timing); a path: a state dict loaded strictly
(``fairmedia.models.pretrained.load_pretrained``: wrong shapes, missing or extra keys are a
UserError naming the file and the keys).

``--backbone`` takes a name of :data:`BACKBONES` or a library-qualified name:
``open_clip:ViT-B-16@openai``, ``open_clip:hf-hub:ORG/REPO``, ``timm:vit_base_patch16_224.augreg_in21k``,
``hf:facebook/dinov2-small`` (or ``hf:/a/local/folder``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from fairmedia.errors import UserError
from fairmedia.foundation import preprocess as pp
from fairmedia.foundation.weights import WeightSource, go_offline, require_cached

LIBRARIES = ("open_clip", "timm", "transformers")
PREFIXES = {"open_clip": "open_clip", "timm": "timm", "hf": "transformers"}
RANDOM_SEED = 0  # random-init weights are seeded so a resumed cache sees the same network


@dataclass(frozen=True)
class BackboneDecl:
    """A backbone's declaration; ``kwargs`` go to the library's constructor (e.g. ``img_size``)."""

    name: str
    library: str
    model: str
    tag: str | None = None
    kwargs: tuple[tuple[str, Any], ...] = ()
    channels: int = 3
    grey: str = "repeat"
    note: str = field(default="", compare=False)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("note")
        out["kwargs"] = dict(self.kwargs)
        return out

    @property
    def library_name(self) -> str:
        return f"{self.library}:{self.model}" + (f"@{self.tag}" if self.tag else "")


BACKBONES: dict[str, BackboneDecl] = {d.name: d for d in (
    BackboneDecl("clip-vit-b16", "open_clip", "ViT-B-16", "openai", note="OpenAI CLIP ViT-B/16"),
    BackboneDecl("biomedclip", "open_clip",
                 "hf-hub:microsoft/BiomedCLIP-PubMedBERT_256-vit_base_patch16_224",
                 note="BiomedCLIP (PMC-15M); its text tower's config also comes from the hub"),
    BackboneDecl("vit-b16-in21k", "timm", "vit_base_patch16_224.augreg_in21k",
                 note="supervised ImageNet-21k ViT-B/16"),
    # DINOv2 is published at 518 px; 224 px (16×16 patches, position embeddings interpolated by
    # timm) is the common linear-probe setting and a tenth of the compute.
    BackboneDecl("dinov2-vit-s14", "timm", "vit_small_patch14_dinov2.lvd142m", kwargs=(("img_size", 224),),
                 note="DINOv2 ViT-S/14 at 224 px"),
    BackboneDecl("dinov2-vit-b14", "timm", "vit_base_patch14_dinov2.lvd142m", kwargs=(("img_size", 224),),
                 note="DINOv2 ViT-B/14 at 224 px"),
    BackboneDecl("hf-dinov2-small", "transformers", "facebook/dinov2-small",
                 note="DINOv2 ViT-S/14 through transformers (its image processor: 224 px crop)"),
)}


def resolve_backbone(name: str) -> BackboneDecl:
    """A registered name, or ``library:model[@tag]`` (see the module docstring)."""
    if name in BACKBONES:
        return BACKBONES[name]
    prefix, sep, rest = name.partition(":")
    if not sep or prefix not in PREFIXES or not rest:
        raise UserError(f"--backbone {name!r} is not a known backbone; expected one of "
                        f"{sorted(BACKBONES)} or open_clip:MODEL@TAG, timm:MODEL, hf:REPO")
    model, _, tag = rest.partition("@") if prefix == "open_clip" else (rest, "", "")
    return BackboneDecl(name, PREFIXES[prefix], model, tag or None)


class Backbone(nn.Module):
    """``forward``: preprocessed ``B×3×H×W`` float to ``B×dim`` embeddings."""

    def __init__(self, decl: BackboneDecl, net: nn.Module, preprocess: pp.Preprocess,
                 weights_id: str, kind: str):
        super().__init__()
        self.decl, self.net, self.preprocess, self.weights_id, self.kind = (
            decl, net, preprocess, weights_id, kind)
        self.net.eval()
        with torch.no_grad():
            probe = torch.zeros(1, preprocess.channels, *preprocess.size)
            self.dim = int(self.forward(probe).shape[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "hf_clip":
            return self.net.get_image_features(pixel_values=x)
        if self.kind == "hf":
            out = self.net(pixel_values=x)
            pooled = getattr(out, "pooler_output", None)
            return pooled if pooled is not None else out.last_hidden_state[:, 0]
        return self.net(x)


def _weights_id(decl: BackboneDecl, weights: str | None) -> str:
    if weights is None:
        return f"library:{decl.library_name}"
    if weights == "none":
        return f"none (random init, torch seed {RANDOM_SEED})"
    from fairmedia.data.prepared import file_sha256

    return f"sha256:{file_sha256(weights)}"


def _check_weights_file(weights: str | None) -> None:
    if weights not in (None, "none") and not Path(weights).is_file():
        raise UserError(f"--weights {weights}: no such file (a state dict, .pt/.pth/.bin)")


def _open_clip(decl: BackboneDecl, weights: str | None, offline: bool) -> tuple[nn.Module, pp.Preprocess]:
    import open_clip

    from fairmedia.models.pretrained import load_pretrained, load_state_dict_file

    hub = decl.model.startswith("hf-hub:")
    kwargs = dict(decl.kwargs)
    if weights is None:
        if hub:
            repo = decl.model.removeprefix("hf-hub:")
            source = WeightSource(repo, ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"))
        else:
            cfg = open_clip.get_pretrained_cfg(decl.model, decl.tag or "")
            if not cfg:
                tags = open_clip.list_pretrained_tags_by_model(decl.model)
                raise UserError(f"backbone {decl.name!r}: open_clip has no pretrained weights "
                                f"{decl.model}@{decl.tag}; its tags: {tags}. Or pass --weights PATH/none")
            hub_id, _, file = cfg.get("hf_hub", "").rpartition("/") if cfg.get("hf_hub") else ("", "", "")
            files = (file,) if file else ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
            source = WeightSource(hub_id, files) if hub_id else WeightSource(url=cfg.get("url", ""))
        if offline:
            require_cached(source, decl.name)
        model = open_clip.create_model(decl.model, pretrained=None if hub else decl.tag, **kwargs)
    else:
        torch.manual_seed(RANDOM_SEED)
        model = open_clip.create_model(decl.model, pretrained=None, load_weights=False,
                                       pretrained_text=False, **kwargs)
        if weights != "none":
            keys = load_state_dict_file(weights)
            # a whole CLIP checkpoint (image and text towers) or the image tower alone
            target = model if any(k.startswith("visual.") for k in keys) else model.visual
            del keys
            load_pretrained(target, weights, arch=f"open_clip {decl.model}")
    visual = model.visual
    return visual, pp.from_open_clip(visual.preprocess_cfg)


def _timm(decl: BackboneDecl, weights: str | None, offline: bool) -> tuple[nn.Module, pp.Preprocess]:
    import timm
    from timm.data import resolve_data_config

    from fairmedia.models.pretrained import load_pretrained

    pretrained = weights is None
    if pretrained and offline:
        cfg = timm.models.get_pretrained_cfg(decl.model)
        if cfg is None:
            raise UserError(f"backbone {decl.name!r}: timm has no pretrained weights for {decl.model!r}")
        files = tuple(f for f in (getattr(cfg, "hf_hub_filename", None), "model.safetensors",
                                  "pytorch_model.bin") if f)
        source = WeightSource(cfg.hf_hub_id, files) if cfg.hf_hub_id else WeightSource(url=cfg.url or "")
        require_cached(source, decl.name)
    if not pretrained:
        torch.manual_seed(RANDOM_SEED)
    kwargs = dict(decl.kwargs)
    if "img_size" in kwargs:  # timm's data config reports the pretrained size unless told
        size = kwargs["img_size"]
        size = (size, size) if isinstance(size, int) else tuple(size)
        kwargs["pretrained_cfg_overlay"] = {"input_size": (decl.channels, *size)}
    try:
        net = timm.create_model(decl.model, pretrained=pretrained, num_classes=0, **kwargs)
    except RuntimeError as err:  # timm's "Unknown model" / no pretrained tag
        raise UserError(f"backbone {decl.name!r}: timm cannot build {decl.model!r}: {err}") from None
    if weights not in (None, "none"):
        # num_classes=0 leaves no classifier; a file's classifier ("head.") is dropped
        load_pretrained(net, weights, arch=f"timm {decl.model}", head_prefixes=("head.",))
    return net, pp.from_timm(resolve_data_config({}, model=net))


def _transformers(decl: BackboneDecl, weights: str | None, offline: bool
                  ) -> tuple[nn.Module, pp.Preprocess, str]:
    from transformers import AutoConfig, AutoImageProcessor, AutoModel

    from fairmedia.models.pretrained import load_pretrained

    if offline:
        require_cached(WeightSource(decl.model, ("config.json",)), decl.name)
        if weights is None:
            require_cached(WeightSource(decl.model, ("model.safetensors", "pytorch_model.bin")), decl.name)
    if weights is None:
        net = AutoModel.from_pretrained(decl.model, local_files_only=offline)
    else:
        torch.manual_seed(RANDOM_SEED)
        net = AutoModel.from_config(AutoConfig.from_pretrained(decl.model, local_files_only=offline))
        if weights != "none":
            load_pretrained(net, weights, arch=f"transformers {decl.model}")
    processor = AutoImageProcessor.from_pretrained(decl.model, local_files_only=offline)
    kind = "hf_clip" if hasattr(net, "get_image_features") else "hf"
    return net, pp.from_hf_processor(processor), kind


def build_backbone(decl: BackboneDecl | str, weights: str | None = None, *, offline: bool = False
                   ) -> Backbone:
    """The encoder of ``decl`` with its weights and preprocessing (see the module docstring)."""
    if isinstance(decl, str):
        decl = resolve_backbone(decl)
    if decl.library not in LIBRARIES:
        raise UserError(f"backbone {decl.name!r}: library {decl.library!r} not in {LIBRARIES}")
    _check_weights_file(weights)
    if offline:
        go_offline()
    kind = decl.library
    if decl.library == "open_clip":
        net, preprocess = _open_clip(decl, weights, offline)
    elif decl.library == "timm":
        net, preprocess = _timm(decl, weights, offline)
    else:
        net, preprocess, kind = _transformers(decl, weights, offline)
    if preprocess.channels != decl.channels:
        raise UserError(f"backbone {decl.name!r}: the library's config says {preprocess.channels} "
                        f"input channels, the declaration {decl.channels}")
    preprocess = dataclasses.replace(preprocess, grey=decl.grey)
    return Backbone(decl, net, preprocess, _weights_id(decl, weights), kind)
