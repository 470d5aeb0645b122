"""``fairmedia methods``: the method registry as a table."""

from __future__ import annotations

import argparse

from fairmedia.commands._table import format_table
from fairmedia.methods.base import HParam
from fairmedia.methods.registry import available_methods

NAME = "methods"
HELP = "list the registered mitigation methods"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--markdown", action="store_true",
                   help="Markdown table with hyperparameters and citations")
    p.add_argument("--hparams", action="store_true",
                   help="one row per hyperparameter: the paper's symbol and value, MEDFAIR's value, "
                        "our default and search range")


def _range(hp: HParam) -> str:
    if hp.choices:
        return "{" + ", ".join(map(str, hp.choices)) + "}"
    if hp.low is not None:
        return f"[{hp.low:g}, {hp.high:g}]{' log' if hp.log else ''}"
    return "fixed"


def _hparams(cls: type) -> str:
    parts = [f"{key}={hp.default} {_range(hp)}" for key, hp in cls.hparams.items()]
    return "; ".join(parts) or "—"


def hparam_rows(methods: dict[str, type]) -> list[list[str]]:
    """Rows of the ours-vs-paper-vs-MEDFAIR table; a method without hyperparameters gets one row
    of dashes so every method appears."""
    rows = []
    for name, cls in methods.items():
        if not cls.hparams:
            rows.append([name, "—", "—", "—", "—", "—", "—"])
        for key, hp in cls.hparams.items():
            rows.append([name, key, hp.symbol or "—", hp.paper or "—", hp.medfair or "—",
                         str(hp.default), _range(hp)])
    return rows


def run(args: argparse.Namespace) -> int:
    methods = available_methods()
    if args.hparams:
        header = ["method", "hyperparameter", "paper's symbol", "paper's value", "MEDFAIR's value",
                  "our default", "search range"]
        print(format_table(header, hparam_rows(methods), markdown=args.markdown))
        return 0
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
