"""Argument helpers shared by subcommands."""

from __future__ import annotations

from benchmark.errors import UserError


def parse_assignments(items: list[str] | None, flag: str) -> dict[str, str]:
    """``["k=v", ...]`` from a repeatable option into a dict; a malformed or repeated key is a
    clear error naming the option."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UserError(f"{flag} expects KEY=VALUE, got {item!r}")
        if key in out:
            raise UserError(f"{flag}: {key!r} given twice")
        out[key] = value
    return out
