"""torchvision 2D backbones (ResNet-18, DenseNet-121) with their classifier removed."""

from __future__ import annotations

from torch import nn
from torchvision import models as tvm

from benchmark.models.pretrained import (
    adapt_first_conv,
    imagenet_weights_path,
    load_state_dict_file,
)
from benchmark.models.registry import register_arch


def _load_pretrained(net: nn.Module, pretrained: str, imagenet_file: str) -> None:
    if pretrained == "none":
        return
    path = imagenet_weights_path(imagenet_file) if pretrained == "imagenet" else pretrained
    state = load_state_dict_file(path)
    # The classifier of a foreign checkpoint has the wrong shape and is replaced anyway.
    state = {k: v for k, v in state.items() if not k.startswith(("fc.", "classifier."))}
    net.load_state_dict(state, strict=False)


@register_arch("resnet18", "torchvision ResNet-18 (11M parameters); pretrained: imagenet|<path>")
def build_resnet18(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    net = tvm.resnet18(weights=None)
    _load_pretrained(net, pretrained, tvm.ResNet18_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1])
    net.conv1 = adapt_first_conv(net.conv1, in_channels)
    dim = net.fc.in_features
    net.fc = nn.Identity()
    return net, dim


@register_arch("densenet121", "torchvision DenseNet-121 (7M parameters); pretrained: imagenet|<path>")
def build_densenet121(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    net = tvm.densenet121(weights=None)
    _load_pretrained(net, pretrained, tvm.DenseNet121_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1])
    net.features.conv0 = adapt_first_conv(net.features.conv0, in_channels)
    dim = net.classifier.in_features
    net.classifier = nn.Identity()
    return net, dim
