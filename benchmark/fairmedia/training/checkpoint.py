"""Atomic checkpoints: written to a temporary file, flushed to disk, then renamed, so a job killed
mid-write never leaves a half file that a rerun would read; loaded with ``weights_only=True`` (no
pickled code). A write that fails (disk full, quota, I/O error) is a :class:`UserError` naming the
file; the temporary is removed and the file it would have replaced is left as it was."""

from __future__ import annotations

import errno
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from fairmedia.errors import UserError


class DamagedCheckpoint(UserError):
    """The file is not a readable checkpoint at all (empty, truncated, bit-rotten): no writer of
    ours leaves one — they are renamed into place only once complete — so it was damaged from
    outside (disk, copy, filesystem). Rerunning cannot repair it."""

    def __init__(self, path: Path, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: refused to load — the file is damaged ({reason}); "
                         f"delete {path} to restart this run from scratch")


def write_failure(path: Path, err: OSError) -> UserError:
    # os.strerror: pyarrow's own strerror is a longer sentence around the same errno
    reason = os.strerror(err.errno) if err.errno else (str(err) or type(err).__name__)
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        what = f"the disk is full ({reason})"
    else:
        what = f"the write failed ({reason})"
    return UserError(f"could not write {path}: {what}; nothing was replaced — free space or fix "
                     "the filesystem and rerun (a training run resumes from its last checkpoint)")


@contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """Yield ``path.partial`` to write; on success it is renamed onto ``path``. An ``OSError``
    while writing removes the partial file and becomes a :class:`UserError`."""
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise write_failure(path, err) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_atomic(obj: Any, path: str | Path) -> None:
    with atomic_target(path) as tmp, open(tmp, "wb") as fh:
        # Through a Python file handle, so a full disk surfaces as OSError(ENOSPC) rather than as
        # an opaque RuntimeError of torch's own writer; fsync before the rename, so a power cut
        # cannot leave a renamed but empty checkpoint behind.
        torch.save(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())


def _is_damaged(path: Path) -> bool:
    """True when the file is not an intact zip archive (the format ``torch.save`` writes): empty,
    cut short, or with a member whose CRC does not match."""
    try:
        if path.stat().st_size == 0 or not zipfile.is_zipfile(path):
            return True
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is not None
    except (OSError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError):
        return True


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError for foreign objects, RuntimeError for corrupt files
        if _is_damaged(path):
            size = path.stat().st_size if path.exists() else 0
            what = "an empty file" if size == 0 else f"{size} bytes, not an intact archive"
            raise DamagedCheckpoint(path, f"{what}: {_first_line(err)}") from None
        raise UserError(
            f"{path}: refused to load — not a plain checkpoint of tensors and containers "
            f"({_first_line(err)}); this program never writes such a file: if you did not put it "
            f"there, inspect it, then delete {path} to restart this run from scratch"
        ) from None
    if not isinstance(ckpt, dict):
        raise DamagedCheckpoint(path, f"holds a {type(ckpt).__name__}, not a checkpoint dictionary")
    return ckpt
