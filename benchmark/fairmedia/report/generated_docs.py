"""Doc sections generated from the registries (``make docs``): the text between a document's
``<!-- generated: ... -->`` and ``<!-- end generated -->`` lines is the output of a command, so
the docs cannot drift from the code (a test compares them)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

from fairmedia.cli import main as cli

DOCS = Path(__file__).resolve().parents[3] / "docs"
# document -> the fairmedia command whose output is its generated section
SECTIONS = {"methods.md": ["methods", "--markdown"]}
_BLOCK = re.compile(r"(<!-- generated:[^\n]*-->\n)(.*?)(<!-- end generated -->)", re.S)


def generated_text(command: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli(command)
    return out.getvalue().strip() + "\n"


def regenerate(path: Path, command: list[str]) -> str:
    """The document with its generated section replaced by the command's current output."""
    text = path.read_text()
    if not _BLOCK.search(text):
        raise SystemExit(f"{path}: no <!-- generated: ... --> ... <!-- end generated --> section")
    return _BLOCK.sub(lambda m: m.group(1) + generated_text(command) + m.group(3), text, count=1)


def main() -> int:
    for name, command in SECTIONS.items():
        path = DOCS / name
        path.write_text(regenerate(path, command))
        print(f"regenerated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
