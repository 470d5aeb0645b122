"""Doc sections generated from the registries (``make docs``): the text between a document's
``<!-- generated: KEY ... -->`` and ``<!-- end generated -->`` lines is the output of the command
registered under KEY for that document, so the docs cannot drift from the code (a test compares
them). A document may hold several generated sections, each naming its key."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

from fairmedia.cli import main as cli

DOCS = Path(__file__).resolve().parents[3] / "docs"
# document -> {section key -> the fairmedia command whose output fills that section}
SECTIONS: dict[str, dict[str, list[str]]] = {
    "methods.md": {
        "methods": ["methods", "--markdown"],
        "hparams": ["methods", "--hparams", "--markdown"],
    },
}
_BLOCK = re.compile(r"(<!-- generated: *([\w-]+)[^\n]*-->\n)(.*?)(<!-- end generated -->)", re.S)


def generated_text(command: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli(command)
    return out.getvalue().strip() + "\n"


def regenerate(path: Path, commands: dict[str, list[str]]) -> str:
    """The document with each generated section replaced by its command's current output. Every
    key in ``commands`` must name exactly one section of the document, and every section a key."""
    text = path.read_text()
    found = [m.group(2) for m in _BLOCK.finditer(text)]
    if sorted(found) != sorted(commands):
        raise SystemExit(
            f"{path}: generated sections {found} do not match the expected keys {sorted(commands)}; "
            "each is `<!-- generated: KEY ... -->` ... `<!-- end generated -->`, once per key")
    return _BLOCK.sub(lambda m: m.group(1) + generated_text(commands[m.group(2)]) + m.group(4), text)


def main() -> int:
    for name, commands in SECTIONS.items():
        path = DOCS / name
        path.write_text(regenerate(path, commands))
        print(f"regenerated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
