"""Where a backbone's pretrained weights live, and the clear error when ``--offline`` finds none.

By default the libraries download their own weights (into the Hugging Face hub cache, or torch
hub's checkpoints folder for a plain URL). ``--offline`` first checks that the files are already
there and otherwise stops with the folder to put them in and the command that fills it; it also
sets ``HF_HUB_OFFLINE=1`` so the libraries never try the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fairmedia.errors import UserError


@dataclass(frozen=True)
class WeightSource:
    """A weights file a library would download: a hub repo and candidate file names (any one
    suffices), or a plain URL."""

    repo: str = ""
    files: tuple[str, ...] = ()
    url: str = ""


def hf_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def torch_hub_checkpoints() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(source: WeightSource) -> Path | None:
    """The local copy of ``source``, or None when it has not been downloaded."""
    if source.repo:
        if Path(source.repo).is_dir():  # a local folder given as the repo
            found = [Path(source.repo) / f for f in source.files if (Path(source.repo) / f).exists()]
            return found[0] if found else None
        from huggingface_hub import try_to_load_from_cache

        for name in source.files:
            hit = try_to_load_from_cache(source.repo, name)
            if isinstance(hit, str):
                return Path(hit)
        return None
    if source.url:
        path = torch_hub_checkpoints() / os.path.basename(source.url)
        return path if path.exists() else None
    return None


def require_cached(source: WeightSource, backbone: str) -> Path:
    """The cached file, or a UserError naming where it must go (``--offline``)."""
    found = cached_file(source)
    if found is not None:
        return found
    if source.repo:
        folder = hf_cache_dir() / ("models--" + source.repo.replace("/", "--"))
        raise UserError(
            f"--offline: the weights of backbone {backbone!r} are not on this machine. Expected "
            f"one of {list(source.files)} of the Hugging Face repo {source.repo!r} in {folder} "
            f"(the hub cache, HF_HUB_CACHE). On a machine with internet run `hf download "
            f"{source.repo} {source.files[0]}` and copy {folder} here, or save the file anywhere "
            f"and pass --weights PATH")
    if source.url:
        path = torch_hub_checkpoints() / os.path.basename(source.url)
        raise UserError(
            f"--offline: the weights of backbone {backbone!r} are not on this machine. Download "
            f"{source.url} to {path} (TORCH_HOME sets the folder), or pass --weights PATH")
    raise UserError(f"--offline: backbone {backbone!r} has no pretrained weights to look for; "
                    "pass --weights PATH or --weights none")


def go_offline() -> None:
    """Make the hub libraries use their caches only (read again by huggingface_hub at call time
    through its constants module)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        from huggingface_hub import constants

        constants.HF_HUB_OFFLINE = True
    except ImportError:  # pragma: no cover - huggingface_hub is a declared dependency
        pass
