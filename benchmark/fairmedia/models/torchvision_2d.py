"""torchvision 2D backbones (ResNet-18, DenseNet-121) with their classifier removed."""

from __future__ import annotations

import re
from collections.abc import Callable

from torch import nn
from torchvision import models as tvm

from fairmedia.models.pretrained import (
    adapt_first_conv,
    imagenet_weights_path,
    load_pretrained,
)
from fairmedia.models.registry import register_arch

HEAD_PREFIXES = ("fc.", "classifier.")  # the classifier, replaced by the registry's head


def _load_pretrained(net: nn.Module, pretrained: str, imagenet_file: str, arch: str,
                     rename: Callable[[str], str] | None = None) -> None:
    """Strict loading (see ``pretrained.load_pretrained``) into the RGB network, before its first
    conv is adapted to the data's channels."""
    if pretrained == "none":
        return
    path = imagenet_weights_path(imagenet_file) if pretrained == "imagenet" else pretrained
    load_pretrained(net, path, arch=arch, head_prefixes=HEAD_PREFIXES, rename=rename,
                    rgb_first_conv=True)


# torchvision's DenseNet release files predate its layer names: "denselayer1.norm.1.weight" is
# today's "denselayer1.norm1.weight" (likewise relu, conv and index 2).
_OLD_DENSE_KEY = re.compile(r"(denselayer\d+\.(?:norm|relu|conv))\.([12])\.")


def _densenet_key(key: str) -> str:
    return _OLD_DENSE_KEY.sub(r"\1\2.", key)


@register_arch("resnet18", "torchvision ResNet-18 (11M parameters); pretrained: imagenet|<path>")
def build_resnet18(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    net = tvm.resnet18(weights=None)
    _load_pretrained(net, pretrained, tvm.ResNet18_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1],
                     "resnet18")
    net.conv1 = adapt_first_conv(net.conv1, in_channels)
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, dim


@register_arch("densenet121", "torchvision DenseNet-121 (7M parameters); pretrained: imagenet|<path>")
def build_densenet121(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    net = tvm.densenet121(weights=None)
    _load_pretrained(net, pretrained, tvm.DenseNet121_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1],
                     "densenet121", rename=_densenet_key)
    net.features.conv0 = adapt_first_conv(net.features.conv0, in_channels)
    dim = net.classifier.in_features
    net.classifier = nn.Identity()
    return net, dim
