"""A small CNN for CPU runs and tests: four conv blocks, global average pooling."""

from __future__ import annotations

from torch import nn

from fairmedia.errors import UserError
from fairmedia.models.registry import register_arch


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


@register_arch("cnn-small", "4-block CNN (16-32-64-64 channels), ~60k parameters; fast on CPU")
def build_small_cnn(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    if pretrained != "none":
        raise UserError("cnn-small has no pretrained weights; use pretrained: none")
    widths = (16, 32, 64, 64)
    layers, cin = [], in_channels
    for w in widths:
        layers.append(_block(cin, w))
        cin = w
    encoder = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return encoder, widths[-1]
