"""``fairmedia train``: one training run into RUN_DIR (data contract 2).

Every argument comes from a :class:`~fairmedia.training.config.TrainConfig` field: its name, type,
default and help text are declared there once, and ``--help`` shows each default.
"""

from __future__ import annotations

import argparse
import typing
from dataclasses import Field
from typing import Any

from fairmedia.commands._args import parse_assignments, parse_switch
from fairmedia.training.config import Option, TrainConfig, default_of, is_required, train_options
from fairmedia.training.devices import check_device
from fairmedia.training.loop import train_run

NAME = "train"
HELP = "train one (arch, method, attribute, seed) run on a prepared dataset"


def _value_type(hint: Any) -> Any:
    """``int`` for ``int | None``; the hint itself otherwise."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if type(None) in typing.get_args(hint) and len(args) == 1 else hint


def shown_default(value: Any, opt: Option) -> str:
    """A default as ``--help`` states it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return opt.none_means or "unset"
    if value == {}:
        return "none"
    return str(value)


def _argument(f: Field, opt: Option, hint: Any) -> tuple[list[str], dict[str, Any]]:
    """The ``add_argument`` call for one field."""
    kw: dict[str, Any] = {"dest": f.name, "help": opt.help.replace("%", "%%")}
    if opt.metavar:
        kw["metavar"] = opt.metavar
    kind = typing.get_origin(hint) or hint
    if is_required(f):
        kw["required"] = True
    else:
        kw["help"] += f" (default: {shown_default(default_of(f), opt)})".replace("%", "%%")
    if kind is bool:
        # `--amp` alone, or `--compile 0|1` (the workflow passes 0/1 from its resources).
        kw.update(nargs="?", const=True, default=default_of(f), type=parse_switch)
        kw.setdefault("metavar", "0|1")
    elif kind is dict:
        kw.update(action="append", default=None)  # KEY=VALUE items, checked in run()
    else:
        kw.update(type=_value_type(hint))
        if not is_required(f):
            kw["default"] = default_of(f)
    return [opt.cli_flag(f.name)], kw


def add_arguments(p: argparse.ArgumentParser) -> None:
    hints = typing.get_type_hints(TrainConfig)
    groups: dict[str | None, Any] = {None: p}
    for f, opt in train_options():
        if opt.group not in groups:
            groups[opt.group] = p.add_argument_group(opt.group)
        flags, kw = _argument(f, opt, hints[f.name])
        groups[opt.group].add_argument(*flags, **kw)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    hints = typing.get_type_hints(TrainConfig)
    values = {}
    for f, opt in train_options():
        value = getattr(args, f.name)
        if (typing.get_origin(hints[f.name]) or hints[f.name]) is dict:
            value = parse_assignments(value, opt.cli_flag(f.name))
        values[f.name] = value
    return TrainConfig(**values)


def run(args: argparse.Namespace) -> int:
    check_device(args.device)  # before the dataset is loaded
    train_run(config_from_args(args), log=lambda msg: print(msg, flush=True))
    return 0
