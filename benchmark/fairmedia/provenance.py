"""Provenance recorded in ``run.json`` and published tables: code version, package versions,
device, SLURM job. Imports no torch at module level: publishing a table needs none."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

REPO = Path(__file__).resolve().parents[2]  # the clone, when the package runs from one
# Every distribution that computes a number we report: training (torch, torchvision, monai),
# metrics and tests (numpy, scipy, pandas, scikit-learn, statsmodels, fairlearn, scikit-posthocs),
# the workflow that ran them (snakemake), and this package.
PACKAGES = ("torch", "torchvision", "monai", "numpy", "scipy", "pandas", "scikit-learn", "statsmodels",
            "fairlearn", "scikit-posthocs", "snakemake", "fairmedia-bench")


def git_commit() -> dict[str, Any]:
    """HEAD of the clone this package runs from, and whether its source has local changes; none
    for an installed wheel (whose folders may lie inside some unrelated repository)."""
    if not (REPO / "benchmark" / "fairmedia" / "provenance.py").is_file():
        return {"commit": None, "dirty": None}
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "benchmark"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        return {"commit": head, "dirty": bool(dirty)}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_info(device: torch.device) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"type": device.type, "torch_threads": torch.get_num_threads(),
                            "host": platform.node()}
    if device.type == "cuda":
        info["name"] = torch.cuda.get_device_name(device)
    return info


def scheduler_info() -> dict[str, str]:
    keys = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_JOB_PARTITION", "SLURM_JOB_NODELIST")
    return {k: os.environ[k] for k in keys if k in os.environ}
