"""``fairmedia perf NAME``: run one performance check from ``benchmark/fairmedia/perf/``.

Each check is a module ``benchmark/fairmedia/perf/<name>.py`` with ``DESCRIPTION``, optional
``add_arguments(parser)`` and ``run(args) -> int``; it measures the benchmark's path and a baseline
side by side in one process and prints their ratio.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from fairmedia.errors import UserError

NAME = "perf"
HELP = "run a performance check (ratio against a baseline measured side by side)"


def _checks() -> dict[str, object]:
    import fairmedia.perf as pkg

    out = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            out[info.name.replace("_", "-")] = f"fairmedia.perf.{info.name}"
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="check to run; omit to list the checks")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options passed to the check")


def run(args: argparse.Namespace) -> int:
    checks = _checks()
    if not args.name:
        for name, modname in sorted(checks.items()):
            mod = importlib.import_module(modname)
            print(f"{name:24s} {getattr(mod, 'DESCRIPTION', '')}")
        return 0
    if args.name not in checks:
        raise UserError(f"unknown perf check {args.name!r}; valid: {', '.join(sorted(checks))}")
    mod = importlib.import_module(checks[args.name])
    sub = argparse.ArgumentParser(prog=f"fairmedia perf {args.name}", description=mod.DESCRIPTION)
    if hasattr(mod, "add_arguments"):
        mod.add_arguments(sub)
    return int(mod.run(sub.parse_args(args.rest)) or 0)
