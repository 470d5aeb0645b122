"""Backbones: torchvision 2D, MONAI 3D, a small CNN for CPU runs (see ``registry``)."""
