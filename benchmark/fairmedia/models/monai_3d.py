"""3D backbones for volumes (N×C×D×H×W): MONAI's ResNet-18 and DenseNet-121, and a small 3D CNN
for CPU runs and tests. Each returns a feature vector; the registry adds the linear head.

No 3D weights ship with MONAI's ``networks.nets`` and nothing is downloaded at run time, so
``pretrained`` is ``none`` or the path of a local state-dict file (e.g. MedicalNet's ResNet-18,
Chen et al. 2019, converted to a plain state dict), loaded with ``weights_only=True``.
"""

from __future__ import annotations

from torch import nn

from fairmedia.errors import UserError
from fairmedia.models.pretrained import load_pretrained
from fairmedia.models.registry import register_arch

# The three DenseNet transitions and the stem halve each side five times: a smaller volume leaves
# a 1-voxel map that the last transition's 2×2×2 pooling cannot reduce.
DENSENET_MIN_SIDE = 32


def _load_local(net: nn.Module, pretrained: str, arch: str) -> None:
    if pretrained == "none":
        return
    if pretrained == "imagenet":
        raise UserError(f"{arch} has no ImageNet weights (it is a 3D network); use pretrained: none "
                        "or the path of a local state-dict file for this architecture")
    # A checkpoint's classifier has another shape and is replaced by the registry's head anyway;
    # MedicalNet's files may also carry its segmentation head (conv_seg). Loading is strict and a
    # DataParallel "module." prefix (MedicalNet's) is stripped: see pretrained.load_pretrained.
    load_pretrained(net, pretrained, arch=arch,
                    head_prefixes=("fc.", "class_layers.out.", "conv_seg."))


@register_arch("resnet18-3d", "MONAI 3D ResNet-18 (33M parameters); pretrained: none|<path>",
               spatial_dims=3)
def build_resnet18_3d(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    from monai.networks.nets import resnet18

    # feed_forward=False drops MONAI's classifier: the network ends at the pooled 512 features.
    net = resnet18(spatial_dims=3, n_input_channels=in_channels, feed_forward=False)
    _load_local(net, pretrained, "resnet18-3d")
    return net, 512


class _DenseNetFeatures(nn.Module):
    """MONAI DenseNet-121 without its last linear layer, with a clear error for small inputs."""

    def __init__(self, in_channels: int):
        super().__init__()
        from monai.networks.nets import DenseNet121

        self.net = DenseNet121(spatial_dims=3, in_channels=in_channels, out_channels=1)
        self.net.class_layers.out = nn.Identity()

    def forward(self, x):
        if min(x.shape[2:]) < DENSENET_MIN_SIDE:
            raise UserError(f"densenet121-3d needs volumes of at least {DENSENET_MIN_SIDE} voxels "
                            f"per side, got {tuple(x.shape[2:])}; use resnet18-3d or cnn-small-3d")
        return self.net(x)


@register_arch("densenet121-3d", "MONAI 3D DenseNet-121 (11M parameters, volumes >= 32 per side); "
               "pretrained: none|<path>", spatial_dims=3)
def build_densenet121_3d(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    encoder = _DenseNetFeatures(in_channels)
    _load_local(encoder.net, pretrained, "densenet121-3d")
    return encoder, 1024


def _block3d(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm3d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool3d(2, ceil_mode=True),  # ceil_mode: odd or tiny sides never shrink to zero
    )


@register_arch("cnn-small-3d", "3-block 3D CNN (8-16-32 channels), ~18k parameters; fast on CPU",
               spatial_dims=3)
def build_small_cnn_3d(in_channels: int, pretrained: str) -> tuple[nn.Module, int]:
    if pretrained != "none":
        raise UserError("cnn-small-3d has no pretrained weights; use pretrained: none")
    widths = (8, 16, 32)
    layers, cin = [], in_channels
    for w in widths:
        layers.append(_block3d(cin, w))
        cin = w
    encoder = nn.Sequential(*layers, nn.AdaptiveAvgPool3d(1), nn.Flatten())
    return encoder, widths[-1]
