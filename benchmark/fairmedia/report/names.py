"""File names of report outputs, shared by the figure writer and the workflow (which declares the
figures as outputs and must not import matplotlib to do so)."""

from __future__ import annotations

import re


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")
