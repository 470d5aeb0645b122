"""``fairmedia methods``: the method registry as a table."""

from __future__ import annotations

import argparse

from fairmedia.commands._table import format_table
from fairmedia.methods.registry import available_methods

NAME = "methods"
HELP = "list the registered mitigation methods"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--markdown", action="store_true",
                   help="Markdown table with hyperparameters and citations")


def _hparams(cls: type) -> str:
    parts = []
    for key, hp in cls.hparams.items():
        if hp.choices:
            rng = "{" + ", ".join(map(str, hp.choices)) + "}"
        elif hp.low is not None:
            rng = f"[{hp.low:g}, {hp.high:g}]{' log' if hp.log else ''}"
        else:
            rng = "fixed"
        parts.append(f"{key}={hp.default} {rng}")
    return "; ".join(parts) or "—"


def run(args: argparse.Namespace) -> int:
    methods = available_methods()
    if args.markdown:
        header = ["name", "category", "family", "uses attribute", "3D", "hyperparameters (default range)",
                  "citation"]
        rows = [[n, c.category, c.family, "yes" if c.uses_attribute else "no",
                 "yes" if c.supports_3d else f"no: {c.unsupported_reason}", _hparams(c), c.citation]
                for n, c in methods.items()]
    else:
        header = ["name", "category", "family", "attr", "3D", "description"]
        rows = [[n, c.category, c.family, "yes" if c.uses_attribute else "no",
                 "yes" if c.supports_3d else "no", c.description] for n, c in methods.items()]
    print(format_table(header, rows, markdown=args.markdown))
    return 0
