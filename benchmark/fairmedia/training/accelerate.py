"""The GPU path of the training loop: mixed precision, channels-last, pinned memory, compilation.

Everything here is switched by the run's config and off by default, and none of it acts on a CPU
device, so CPU runs stay bit-identical whatever the config says. Mixed precision is bf16 autocast
only: bf16 keeps fp32's exponent range, so no loss scaling is needed and ``Method.update`` (which
calls ``backward`` and ``step`` itself) stays untouched. fp16 would need a ``GradScaler`` inside
every method's update; on a GPU without bf16 (before Ampere) AMP is therefore left off, and said.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class Acceleration:
    """What the loop does on its device; the loop asks this object instead of testing flags."""

    device: torch.device
    amp_dtype: torch.dtype | None = None  # autocast dtype, None: full precision
    channels_last: bool = False  # NHWC memory layout for 2D convolutions (tensor cores)
    compile: bool = False
    pin_memory: bool = False  # page-locked host batches, copied to the GPU asynchronously

    @property
    def non_blocking(self) -> bool:
        return self.pin_memory

    def describe(self) -> dict[str, Any]:
        """What ``run.json`` records about the GPU path actually used."""
        return {"amp": str(self.amp_dtype).removeprefix("torch.") if self.amp_dtype else None,
                "channels_last": self.channels_last, "compile": self.compile,
                "pin_memory": self.pin_memory}

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.amp_dtype is None:
            yield
        else:
            with torch.autocast(self.device.type, dtype=self.amp_dtype):
                yield

    def to_device(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last and x.dim() == 4:
            return x.to(self.device, non_blocking=self.non_blocking,
                        memory_format=torch.channels_last)
        return x.to(self.device, non_blocking=self.non_blocking)

    def prepare_model(self, model: nn.Module) -> None:
        """In place, so state-dict keys (and so checkpoints) are the same with or without it."""
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        if self.compile:
            model.compile()  # nn.Module.compile: compiles __call__, keeps parameter names

    def loader_options(self, num_workers: int) -> dict[str, Any]:
        """DataLoader keywords: pinned memory, and workers that prefetch a few batches ahead."""
        opts: dict[str, Any] = {"num_workers": num_workers, "pin_memory": self.pin_memory}
        if num_workers > 0:
            opts["prefetch_factor"] = 4
        return opts


def bf16_supported(device: torch.device) -> bool:
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def resolve(
    device: torch.device,
    *,
    amp: bool,
    channels_last: bool,
    compile: bool,
    pin_memory: bool,
    spatial_dims: int,
    log: Callable[[str], Any] = print,
) -> Acceleration:
    """The acceleration a run gets on ``device``: requested options that apply, others dropped
    with a log line (never an error, so one config serves laptop and cluster)."""
    if device.type != "cuda":
        asked = [n for n, v in (("amp", amp), ("channels_last", channels_last),
                                ("compile", compile), ("pin_memory", pin_memory)) if v]
        if asked:
            log(f"GPU options {asked} have no effect on device {device.type}; running in fp32")
        return Acceleration(device)
    amp_dtype = None
    if amp:
        if bf16_supported(device):
            amp_dtype = torch.bfloat16
        else:
            log(f"{torch.cuda.get_device_name(device)} has no bf16; AMP left off (fp16 would need "
                "loss scaling inside each method's update)")
    if channels_last and spatial_dims != 2:
        log("channels_last applies to 2D images only; ignored for 3D volumes")
        channels_last = False
    return Acceleration(device, amp_dtype, channels_last, compile, pin_memory)
