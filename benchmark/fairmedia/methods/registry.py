"""Method registry: one file per method under ``benchmark/fairmedia/methods/``, registered by name.

Every module of the package is imported on first use, so adding a method never edits this file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fairmedia.errors import UserError

METHODS: dict[str, type] = {}


def register(cls: type) -> type:
    name = getattr(cls, "name", "")
    if not name:
        raise ValueError(f"{cls.__name__} has no name")
    if name in METHODS and METHODS[name] is not cls:
        raise ValueError(f"method {name!r} registered twice ({METHODS[name].__name__}, {cls.__name__})")
    METHODS[name] = cls
    return cls


def _load_all() -> None:
    from fairmedia.discovery import import_plugins

    import_plugins("fairmedia.methods")


def available_methods() -> dict[str, type]:
    _load_all()
    return dict(sorted(METHODS.items()))


def get_method(name: str) -> type:
    methods = available_methods()
    if name not in methods:
        raise UserError(f"unknown method {name!r}; valid: {', '.join(methods)}")
    return methods[name]


def resolve_hparams(
    method: str, overrides: dict[str, Any] | None = None, *, sample_seed: int | None = None
) -> dict[str, Any]:
    """Defaults, or a random draw when ``sample_seed`` is given, then ``overrides``.

    A random draw depends only on (method, hyperparameter name, sample_seed) — never on the
    training seed — so every seed of one configuration trains the same hyperparameters.
    """
    cls = get_method(method)
    declared = cls.hparams
    out: dict[str, Any] = {}
    for key, hp in declared.items():
        if sample_seed is None:
            out[key] = hp.default
        else:
            tag = [ord(c) for c in f"{method}/{key}"]
            out[key] = hp.sample(np.random.default_rng([sample_seed, *tag]))
    for key, value in (overrides or {}).items():
        if key not in declared:
            raise UserError(
                f"method {method!r} has no hyperparameter {key!r}; its hyperparameters: "
                f"{', '.join(declared) or '(none)'}"
            )
        out[key] = _coerce(value, declared[key].default, f"{method}.{key}")
    return out


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Give an override (often a string from the command line) the type of the default."""
    if default is None or not isinstance(value, str):
        return value
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return value.lower() in ("true", "1")
        return type(default)(value)
    except ValueError:
        raise UserError(f"{where}: cannot read {value!r} as {type(default).__name__}") from None
