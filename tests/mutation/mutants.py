"""One mutant per registered method: the method with its fairness mechanism removed.

A training-time method's mutant trains and predicts as ERM through the base class's hooks (its
extra modules are still built, so a test that reads them runs, but they no longer act); FairAdaBN's
mutant routes every image through group 0's normalisation (one shared BN); a post-processor's
mutant returns the base scores unchanged (and, when it decides, the decision ``score ≥ 0.5``).
``FAIRMEDIA_MUTANT=<method>`` makes tests/conftest.py apply one before any test runs;
``tests/mutation/run_mutations.py`` runs each method's tests against its mutant.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch

from fairmedia.methods.base import Method
from fairmedia.methods.post_base import PostProcessor
from fairmedia.methods.registry import available_methods, get_method

BASELINE = "erm"
ERM_HOOKS = ("loss", "update", "train_sampler", "predict", "on_epoch_end")


def _as_erm(cls: type) -> None:
    for hook in ERM_HOOKS:
        setattr(cls, hook, getattr(Method, hook))


def _shared_normalisation(cls: type) -> None:
    original = cls._set_groups

    def one_group(self, a: torch.Tensor) -> None:
        original(self, torch.zeros_like(a))

    cls._set_groups = one_group


def _identity_post(cls: type) -> None:
    def fit(self, val: pd.DataFrame) -> dict:
        return {"mutant": "identity"}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame({"score": df["score"].to_numpy()}, index=df.index)
        if cls.decides:
            out["decision"] = (out["score"] >= 0.5).astype(int)
        return out

    cls.fit, cls.transform = fit, transform


SPECIAL: dict[str, Callable[[type], None]] = {"fairadabn": _shared_normalisation}


def mutant_for(name: str) -> Callable[[type], None]:
    if name == BASELINE:
        raise ValueError(f"{name} is the baseline; it has no fairness mechanism to remove")
    if name in SPECIAL:
        return SPECIAL[name]
    return _identity_post if issubclass(get_method(name), PostProcessor) else _as_erm


def apply_mutant(name: str) -> str:
    """Patch the registered class of ``name`` in place; returns a one-line description."""
    if name not in available_methods():
        raise ValueError(f"FAIRMEDIA_MUTANT={name!r} is not a registered method")
    mutate = mutant_for(name)
    mutate(get_method(name))
    return mutate.__name__.lstrip("_").replace("_", " ")


def mutated_methods() -> list[str]:
    return sorted(m for m in available_methods() if m != BASELINE)
