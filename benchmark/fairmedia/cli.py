"""The ``fairmedia`` command line.

Each subcommand is a module in ``benchmark/fairmedia/commands/`` exposing ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; modules are discovered, so adding a command
never edits this file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from types import ModuleType

from fairmedia import __version__
from fairmedia.errors import UserError

# Exit status after stdout was closed by its reader (`fairmedia ... | head`): 128 + SIGPIPE, what
# a shell reports for a program killed by the signal, so `set -o pipefail` still notices.
EXIT_BROKEN_PIPE = 141


def _command_modules() -> list[ModuleType]:
    import fairmedia.commands as pkg

    mods = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"fairmedia.commands.{info.name}")
        if hasattr(mod, "NAME") and hasattr(mod, "run"):
            mods.append(mod)
    return mods


def _single_command(argv: list[str]) -> list[ModuleType] | None:
    """The module of the subcommand named in ``argv``, imported alone: the workflow starts the CLI
    for every job, and importing all commands (torch among them) costs seconds each time."""
    if not argv or argv[0].startswith("-"):
        return None
    try:
        mod = importlib.import_module(f"fairmedia.commands.{argv[0].replace('-', '_')}")
    except ModuleNotFoundError:
        return None
    return [mod] if getattr(mod, "NAME", None) == argv[0] else None


def build_parser(modules: list[ModuleType] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fairmedia",
        description="FairMedIA Bench: train, evaluate and rank unfairness-mitigation methods "
        "for medical image classification.",
    )
    parser.add_argument("--version", action="version", version=f"fairmedia {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(modules or _command_modules(), key=lambda m: m.NAME):
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_single_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 1
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not at interpreter exit
        return code
    except UserError as err:
        print(f"fairmedia {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush of what is still buffered
    does not fail again with a second BrokenPipeError and a traceback (the recipe in Python's
    documentation of signal and SIGPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # not a real file (pytest's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
