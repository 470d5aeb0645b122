"""Operating-point rule names and their parsing, without numerical imports: the workflow checks
``evaluation.threshold`` with this when it plans, before any job runs."""

from __future__ import annotations

from dataclasses import dataclass

from fairmedia.errors import UserError

RULES = ("youden", "f1", "fixed:<t>", "specificity:<s>")


@dataclass(frozen=True)
class ThresholdRule:
    kind: str  # youden | f1 | fixed | specificity
    value: float | None = None

    @property
    def fitted(self) -> bool:
        return self.kind != "fixed"

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value:g}"


def parse_rule(text: str) -> ThresholdRule:
    kind, _, arg = str(text).partition(":")
    kind = kind.strip().lower()
    if kind in ("youden", "f1") and not arg:
        return ThresholdRule(kind)
    if kind in ("fixed", "specificity") and arg:
        try:
            value = float(arg)
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= 1.0:
            raise UserError(f"threshold {text!r}: {kind}:<value> needs a number in [0, 1]")
        return ThresholdRule(kind, value)
    raise UserError(f"unknown threshold rule {text!r}; valid: {', '.join(RULES)}")
