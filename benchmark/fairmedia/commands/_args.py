"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from fairmedia.errors import UserError


def add_column_arguments(p: argparse.ArgumentParser, *, patient: bool, split_optional: bool) -> None:
    """``--label-col``, ``--score-col``, ``--split-col`` (and ``--patient-col``) for commands that
    read a predictions table; their defaults are the names ``fairmedia evaluate`` expects."""
    p.add_argument("--label-col", default="y", metavar="COL",
                   help="column of the 0/1 true label (default: %(default)s)")
    p.add_argument("--score-col", default="score", metavar="COL",
                   help="column of the probability of class 1 (default: %(default)s)")
    if patient:
        p.add_argument("--patient-col", default="patient_id", metavar="COL",
                       help="column of patient ids, the bootstrap's resampling unit; optional "
                            "under its default name (default: %(default)s)")
    optional = "; optional under its default name" if split_optional else ""
    p.add_argument("--split-col", default="split", metavar="COL",
                   help="column of train/val/test (threshold fitted on val, test evaluated)"
                        f"{optional} (default: %(default)s)")


def parse_assignments(items: list[str] | None, flag: str, form: str = "KEY=VALUE"
                      ) -> dict[str, str]:
    """``["k=v", ...]`` from a repeatable option into a dict; a malformed or repeated key is a
    clear error naming the option and the expected ``form``."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UserError(f"{flag} expects {form}, got {item!r}")
        if key in out:
            raise UserError(f"{flag}: {key!r} given twice")
        out[key] = value
    return out


def parse_switch(text: str) -> bool:
    """A switch's optional value: ``0`` (off) or ``1`` (on), as the workflow passes them."""
    if text not in ("0", "1"):
        raise argparse.ArgumentTypeError(f"expected 0 or 1, got {text!r}")
    return text == "1"


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return probe


def check_output_file(path: Path, flag: str) -> None:
    """Refuse, before any work, an output file that could not be written: a folder, a path below
    an existing file, or a place this user may not write. Missing parent folders are fine (they
    are created when writing)."""
    if path.is_dir():
        raise UserError(f"{flag} {path}: is a folder; give the name of the file to write, "
                        f"e.g. {path / 'report.json'}")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise UserError(f"{flag} {path}: the file exists and is not writable by this user")
        return
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise UserError(f"{flag} {path}: {base} is a file, not a folder; choose another path")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: cannot create files in {base} (not writable by this "
                        "user); choose another path")


def check_output_dir(path: Path, flag: str) -> None:
    """Refuse, before any work, an output folder that is an existing file, lies below one, or
    cannot be created by this user. An existing folder is accepted as it is (it may be a
    finished, read-only one that needs no writing)."""
    if path.is_dir():
        return
    if path.exists():
        raise UserError(f"{flag} {path}: is a file, not a folder; give a folder (it is created "
                        "if missing), or remove the file")
    base = _nearest_existing(path)
    if not base.is_dir():
        raise UserError(f"{flag} {path}: {base} is a file, not a folder; choose another path")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: {base} is not writable by this user; choose another path")


def parse_privileged(items: list[str] | None) -> dict[str, str]:
    """``--privileged COL=GROUP ...`` (evaluate, evaluate-run, transfer evaluate)."""
    return parse_assignments(items, "--privileged", "COL=GROUP (e.g. sex=M)")
