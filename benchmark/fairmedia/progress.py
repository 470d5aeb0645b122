"""Progress bars for long work (prepare, bootstrap, leaderboard, embed): tqdm on stderr.

On a terminal tqdm redraws one line with ``\\r``. In a log file (SLURM, Snakemake's ``log:``) the
``\\r`` redraws would pile up into one unreadable line, so there each refresh is written as its
own line, at most every ``LOG_INTERVAL`` seconds. ``FAIRMEDIA_PROGRESS=0`` silences the bars.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import IO, Any

from tqdm import tqdm

LOG_INTERVAL = 15.0  # seconds between lines when stderr is not a terminal


class _LineWriter:
    """A file for tqdm that turns each ``\\r`` redraw into one complete line."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", disable: bool | None = None, **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr that stays readable in log files (see the module docstring)."""
    stream = sys.stderr
    if disable is None:
        disable = os.environ.get("FAIRMEDIA_PROGRESS", "1") == "0"
    tty = hasattr(stream, "isatty") and stream.isatty()
    options: dict[str, Any] = {"file": stream} if tty else {
        "file": _LineWriter(stream), "mininterval": LOG_INTERVAL, "ascii": True}
    options.update(kwargs)
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable,
                dynamic_ncols=tty, **options)
