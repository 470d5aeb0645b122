"""Interleaved timing of two sides, the one way every ``fairmedia perf`` check compares them.

One timing per side swings by 2x on a shared machine (two runs of ``perf train-overhead`` gave
0.97 and 1.85). Here the sides alternate over several rounds, with the start order alternating
too (A B, B A, A B, ...), so that load from other processes hits both alike; each side reports
its median and min-max, and the ratio is the median of the per-round ratios (a paired estimate:
both sides of one round saw the same load).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from dataclasses import dataclass

MIN_ROUNDS = 5


@dataclass(frozen=True)
class Comparison:
    names: tuple[str, str]
    times: dict[str, list[float]]  # per side, in round order
    ratios: list[float]  # per round: first side / second side

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def lines(self, unit: str = "s", scale: Callable[[float], float] = float) -> list[str]:
        """Per side ``median (min-max, n rounds)`` of ``scale(value)``, then the median ratio."""
        out = []
        for name in self.names:
            values = [scale(v) for v in self.times[name]]
            out.append(f"  {name:28s}: median {statistics.median(values):9.3f} {unit} "
                       f"(min-max {min(values):.3f}-{max(values):.3f}, {len(values)} rounds)")
        lo, hi = min(self.ratios), max(self.ratios)
        out.append(f"  median ratio of the measured values, {self.names[0]} / {self.names[1]}: "
                   f"{self.ratio:.3f} (per-round min-max {lo:.3f}-{hi:.3f})")
        return out


def interleave(first: tuple[str, Callable[[], float]], second: tuple[str, Callable[[], float]],
               rounds: int = MIN_ROUNDS, warmup: int = 1) -> Comparison:
    """Call the two measurements alternately: ``warmup`` untimed rounds, then ``rounds`` rounds,
    even rounds first-then-second and odd rounds second-then-first. Each callable returns its own
    measurement (seconds, usually), so it can leave its set-up out of it."""
    (a, fa), (b, fb) = first, second
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    if a == b:
        raise ValueError(f"the two sides need different names, both are {a!r}")
    for _ in range(warmup):
        fa(), fb()
    times: dict[str, list[float]] = {a: [], b: []}
    for r in range(rounds):
        order = ((a, fa), (b, fb)) if r % 2 == 0 else ((b, fb), (a, fa))
        for name, fn in order:
            times[name].append(float(fn()))
    ratios = [x / y for x, y in zip(times[a], times[b], strict=True)]
    return Comparison((a, b), times, ratios)


def add_rounds_argument(parser: argparse.ArgumentParser, default: int = MIN_ROUNDS) -> None:
    parser.add_argument("--rounds", type=int, default=default,
                        help=f"interleaved rounds per side (default {default}; medians reported)")
