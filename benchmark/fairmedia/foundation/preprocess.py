"""From a prepared dataset's uint8 images to the tensor an encoder expects.

The size, mean, std and interpolation come from the library's own config of the model (open_clip's
``preprocess_cfg``, timm's ``resolve_data_config``, a transformers image processor), never typed in
by hand, so a backbone is fed as its authors trained it. Grey X-rays (one channel) are repeated to
the three channels every such encoder was trained on.

Deliberate difference from the libraries' own transforms: the whole prepared image is resized to
the model's input size, without their centre crop. ``fairmedia prepare`` has already cropped and
resized the images (square), and for a square image open_clip's shortest-side resize plus centre
crop is the same full-image resize; timm's ``crop_pct`` crop would cut off the image border (e.g. a
costophrenic angle), which is why it is not applied. The resize runs in torch on whole batches
(antialiased), so on a GPU it runs there too.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F

from fairmedia.errors import UserError

INTERPOLATIONS = ("bilinear", "bicubic", "nearest")


@dataclass(frozen=True)
class Preprocess:
    """How one backbone's input is made; :meth:`as_dict` enters the cache's fingerprint."""

    size: tuple[int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    interpolation: str = "bicubic"
    channels: int = 3
    grey: str = "repeat"  # a one-channel image is repeated to ``channels`` channels
    source: str = ""  # where size/mean/std came from, for the manifest and the docs

    def __post_init__(self) -> None:
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation {self.interpolation!r} not in {INTERPOLATIONS}")
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"mean/std need {self.channels} values: {self.mean}, {self.std}")

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["size"], out["mean"], out["std"] = list(self.size), list(self.mean), list(self.std)
        out["resize"] = "whole image, no crop"
        return out

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``B×C×H×W`` (C = 1 or ``channels``) to the normalised float ``B×channels×size``."""
        if images.ndim != 4:
            raise UserError(f"foundation backbones take 2-D images (B×C×H×W); got shape "
                            f"{list(images.shape)}")
        c = images.shape[1]
        x = images.float().div_(255.0)
        if c == 1 and self.channels != 1:
            x = x.expand(-1, self.channels, -1, -1)
        elif c != self.channels:
            raise UserError(f"images have {c} channels; this backbone takes {self.channels} "
                            f"(or 1, a grey image repeated to {self.channels})")
        if tuple(x.shape[-2:]) != tuple(self.size):
            # antialias only applies to (bi)linear/cubic modes
            x = F.interpolate(x, size=self.size, mode=self.interpolation,
                              antialias=self.interpolation != "nearest",
                              align_corners=False if self.interpolation != "nearest" else None)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std


def _pair(size: Any) -> tuple[int, int]:
    if isinstance(size, int):
        return (size, size)
    size = tuple(int(s) for s in size)
    return size if len(size) == 2 else (size[-2], size[-1])


def from_open_clip(cfg: dict[str, Any]) -> Preprocess:
    """open_clip's ``model.visual.preprocess_cfg`` (size, mean, std, interpolation)."""
    return Preprocess(size=_pair(cfg["size"]), mean=tuple(cfg["mean"]), std=tuple(cfg["std"]),
                      interpolation=cfg.get("interpolation", "bicubic"),
                      source="open_clip model.visual.preprocess_cfg")


def from_timm(data_config: dict[str, Any]) -> Preprocess:
    """timm's ``resolve_data_config({}, model=model)`` (input_size, mean, std, interpolation)."""
    return Preprocess(size=_pair(data_config["input_size"][1:]), mean=tuple(data_config["mean"]),
                      std=tuple(data_config["std"]),
                      interpolation=data_config.get("interpolation", "bicubic"),
                      source="timm.data.resolve_data_config")


_PIL_RESAMPLE = {0: "nearest", 2: "bilinear", 3: "bicubic"}


def from_hf_processor(processor: Any) -> Preprocess:
    """A transformers image processor: ``crop_size`` when it crops (its final size), else ``size``."""
    size = getattr(processor, "crop_size", None) if getattr(processor, "do_center_crop", False) else None
    size = size or processor.size
    # a dict in transformers 4, a SizeDict (attributes) in transformers 5
    field = (lambda k: size.get(k)) if isinstance(size, dict) else (lambda k: getattr(size, k, None))
    if field("height"):
        size = (field("height"), field("width"))
    elif field("shortest_edge"):
        size = (field("shortest_edge"),) * 2
    resample = getattr(processor, "resample", 3)
    return Preprocess(size=_pair(size), mean=tuple(processor.image_mean),
                      std=tuple(processor.image_std),
                      interpolation=_PIL_RESAMPLE.get(int(resample), "bicubic"),
                      source="transformers AutoImageProcessor")
