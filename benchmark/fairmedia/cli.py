"""The ``fairmedia`` command line.

Each subcommand is a module in ``benchmark/fairmedia/commands/`` exposing ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; modules are discovered, so adding a command
never edits this file.

``fairmedia --help`` reads each module's ``NAME`` and ``HELP`` from its source (``ast``) instead of
importing it: several commands import torch, which alone takes seconds. A command's own module is
imported only when that command is named.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from fairmedia import __version__
from fairmedia.discovery import module_literals
from fairmedia.errors import UserError

# Exit status after stdout was closed by its reader (`fairmedia ... | head`): 128 + SIGPIPE, what
# a shell reports for a program killed by the signal, so `set -o pipefail` still notices.
EXIT_BROKEN_PIPE = 141
PACKAGE = "fairmedia.commands"
# A help text that states its own default, e.g. "(default: the card's)" or "(default 2)".
STATES_DEFAULT = re.compile(r"\(default[: ]|%\(default\)")


class DefaultsFormatter(argparse.HelpFormatter):
    """States each option's default, minus the noise of argparse's ArgumentDefaultsHelpFormatter:
    no "(default: None)", none on flags (``store_true`` is always off), none where the help text
    already states its default, list defaults as they are typed (``auc tpr``, not
    ``['auc', 'tpr']``), and also on options that have no help text."""

    @staticmethod
    def default_note(action: argparse.Action) -> str:
        default = action.default
        if (not action.option_strings or default is None or default is argparse.SUPPRESS
                or action.nargs == 0 or STATES_DEFAULT.search(action.help or "")):
            return ""
        if isinstance(default, list | tuple):
            shown = " ".join(map(str, default)) or "none"
        else:
            shown = str(default)
        return f"(default: {shown.replace('%', '%%')})"

    def _format_action(self, action: argparse.Action) -> str:
        note = self.default_note(action)
        if note:
            action = copy.copy(action)  # the parser keeps its own action unchanged
            action.help = f"{action.help} {note}" if action.help else note
        return super()._format_action(action)


@dataclass(frozen=True)
class Listed:
    """A command as ``fairmedia --help`` lists it: its NAME, HELP and module name."""

    name: str
    help: str
    module: str


def _binds_run(tree: ast.Module) -> bool:
    """Whether a module's top level defines or imports a name ``run``."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "run":
            return True
        if isinstance(node, ast.Import | ast.ImportFrom) and any(
                (a.asname or a.name) == "run" for a in node.names):
            return True
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "run" for t in node.targets):
            return True
    return False


def _listing() -> dict[str, Listed]:
    """Every command module's NAME and HELP, read from source without importing the module; a
    module whose NAME or HELP is not a plain literal is imported instead (slower, still right)."""
    import fairmedia.commands as pkg

    out: dict[str, Listed] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_"):
            continue
        module = f"{PACKAGE}.{info.name}"
        spec = importlib.util.find_spec(module)
        name = help_ = None
        if spec and spec.origin and spec.origin.endswith(".py"):
            with open(spec.origin, encoding="utf-8") as f:
                tree = ast.parse(f.read(), spec.origin)
            if not _binds_run(tree):
                continue  # a helper module, not a command (as a module without run())
            literals = module_literals(tree)
            name, help_ = literals.get("NAME"), literals.get("HELP")
        if not isinstance(name, str) or not isinstance(help_, str):
            mod = importlib.import_module(module)
            if not (hasattr(mod, "NAME") and hasattr(mod, "run")):
                continue
            name, help_ = mod.NAME, mod.HELP
        out[name] = Listed(name, help_, module)
    return out


def _command_modules() -> list[ModuleType]:
    return [importlib.import_module(c.module) for c in _listing().values()]


def _single_command(argv: list[str], listing: dict[str, Listed]) -> list[ModuleType] | None:
    """The module of the subcommand named in ``argv``, imported alone: the workflow starts the CLI
    for every job, and importing all commands (torch among them) costs seconds each time."""
    if not argv or argv[0] not in listing:
        return None
    return [importlib.import_module(listing[argv[0]].module)]


def _top_parser() -> tuple[argparse.ArgumentParser, Any]:
    parser = argparse.ArgumentParser(
        prog="fairmedia",
        description="FairMedIA Bench: train, evaluate and rank unfairness-mitigation methods "
        "for medical image classification. `fairmedia COMMAND --help` shows a command's options "
        "and their defaults.",
    )
    parser.add_argument("--version", action="version", version=f"fairmedia {__version__}")
    return parser, parser.add_subparsers(dest="command", metavar="COMMAND")


def build_parser(modules: list[ModuleType] | None = None) -> argparse.ArgumentParser:
    """The full parser of ``modules`` (default: every command, all imported)."""
    parser, sub = _top_parser()
    for mod in sorted(modules or _command_modules(), key=lambda m: m.NAME):
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP,
                           formatter_class=DefaultsFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def listing_parser(listing: dict[str, Listed]) -> argparse.ArgumentParser:
    """The top-level parser for ``fairmedia --help`` and for a command name that does not exist:
    each command only by name and help, none imported."""
    parser, sub = _top_parser()
    for name in sorted(listing):
        sub.add_parser(name, help=listing[name].help)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    listing = _listing()
    modules = _single_command(argv, listing)
    parser = build_parser(modules) if modules else listing_parser(listing)
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
