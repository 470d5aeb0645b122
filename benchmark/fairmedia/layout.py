"""Names of the data contracts' paths (docs/contracts.md).

Every path component is a safe name (``config_checks.SAFE_NAME``: letters and digits with single
``_ . -`` between them), so a path copied into a shell never runs or redirects anything. Two
names joined into one component use a double underscore, which a safe name never contains, so
the join parses back unambiguously: ``sex__x__age_group`` (an intersection of two attributes) and
``synth-src__to__synth-twin`` (a transfer direction). The same names appear in tables and figure
file names.
"""

from __future__ import annotations

RUNS = "results/runs"
PREPARED = "results/prepared"
TRANSFER = "results/transfer"
LEADERBOARD = "results/leaderboard"
TRANSFER_LEADERBOARD = f"{LEADERBOARD}/transfer"

INTERSECTION_JOIN = "__x__"
PAIR_JOIN = "__to__"


def intersection_name(*attributes: str) -> str:
    return INTERSECTION_JOIN.join(attributes)


def intersection_parts(name: str) -> list[str]:
    return name.split(INTERSECTION_JOIN)


def pair_name(source: str, target: str) -> str:
    return f"{source}{PAIR_JOIN}{target}"


def pair_parts(name: str) -> tuple[str, str]:
    source, sep, target = name.partition(PAIR_JOIN)
    if not sep:
        raise ValueError(f"{name!r} is not a transfer direction SOURCE{PAIR_JOIN}TARGET")
    return source, target
