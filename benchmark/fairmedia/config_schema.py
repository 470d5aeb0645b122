"""The workflow config's schema check, with an error a user can act on.

``snakemake.utils.validate`` reports a mismatch as jsonschema's full text: one useful line followed
by the failing sub-schema and instance (``snakemake -n`` printed 59 lines for a typo under
``train:``, 483 for one at the top level, where the instance is the whole config). Here
the schema is checked with jsonschema first and its best-matching error is stated in two lines:
the key path, what is wrong, and what the schema expects (type, allowed values or keys, bounds).
Only a config that passes goes on to Snakemake's ``validate``, which fills in the defaults.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from fairmedia.errors import UserError

# JSON-schema type names as a YAML config spells its values.
_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<",
           "minItems": "at least {} item(s)", "maxItems": "at most {} item(s)",
           "minProperties": "at least {} key(s)"}


def _python_type(value: Any) -> str:
    """A YAML value's type in the schema's words (bool first: it is an int in Python)."""
    for kind, word in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                       (list, "array"), (dict, "object"), (type(None), "null")):
        if isinstance(value, kind):
            return _TYPE_WORDS[word]
    return type(value).__name__


def key_path(error: ValidationError) -> str:
    """``train.epochs``, ``datasets.synth.attributes[0]``; ``(top level)`` for the root."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def expectation(schema: dict[str, Any]) -> str:
    """What a (sub-)schema accepts, in words: type, allowed values, bounds, pattern."""
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(expectation(s) for s in schema.get("oneOf", schema.get("anyOf")))
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    parts = [" or ".join(_TYPE_WORDS.get(t, t) for t in types)] if types else []
    if "enum" in schema:
        parts.append("one of: " + ", ".join(map(str, schema["enum"])))
    items = schema.get("items")
    if isinstance(items, dict) and ("type" in items or "enum" in items):
        parts.append(f"each item ({expectation(items)})")
    if types == ["object"] and schema.get("additionalProperties") is False:
        parts.append("keys: " + ", ".join(schema.get("properties", {})))
    for key, word in _BOUNDS.items():
        if key in schema:
            parts.append(word.format(schema[key]) if "{}" in word else f"{word} {schema[key]}")
    if "pattern" in schema:
        parts.append(f"matching {schema['pattern']}")
    return "; ".join(parts) or "any value"


def describe(error: ValidationError) -> str:
    """Two lines: where and what is wrong, then what is expected."""
    where = key_path(error)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        extra = [k for k in error.instance
                 if k not in allowed and not any(re.search(p, str(k)) for p in patterns)]
        key = extra[0] if extra else "?"
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        prefix = f"{where}." if error.absolute_path else ""
        return (f"{prefix}{key}: unknown key{hint}\n"
                f"  expected: one of the keys {', '.join(allowed)}")
    if error.validator == "required":
        return f"{where}: {error.message}\n  expected: {expectation(error.schema)}"
    # Within a oneOf/anyOf at the same key, the alternatives are what is expected, not the branch
    # jsonschema happened to judge closest.
    schema = error.schema
    parent = error.parent
    if parent is not None and parent.validator in ("oneOf", "anyOf") \
            and list(parent.absolute_path) == list(error.absolute_path):
        schema = parent.schema
    value = repr(error.instance)  # a scalar in full (it is what the user typed), a mapping cut short
    if isinstance(error.instance, dict | list) and len(value) > 60:
        value = value[:57] + "..."
    problem = {"type": f"{value} is {_python_type(error.instance)}",
               "enum": f"{value} is not an allowed value",
               "pattern": f"{value} does not match the pattern"}.get(error.validator)
    if problem is None:  # bounds, lengths, uniqueness: jsonschema's own one-liner when it is short
        problem = error.message if len(error.message) <= 100 else f"{value} fails {error.validator}"
    if "propertyNames" in error.schema_path:  # the instance is a key of the mapping at `where`
        problem = f"key {value} is not a valid name"
    return f"{where}: {problem}\n  expected: {expectation(schema)}"


def schema_error(config: dict[str, Any], schema_path: str | Path) -> str | None:
    """The described best-matching schema error of ``config``, or None when it matches."""
    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    error = best_match(Draft202012Validator(schema).iter_errors(config))
    return None if error is None else describe(error)


def validate_schema(config: dict[str, Any], schema_path: str | Path) -> None:
    """Check ``config`` against the schema (a UserError of a few lines), then let Snakemake's
    ``validate`` fill in the schema's defaults."""
    from snakemake.utils import validate

    message = schema_error(config, schema_path)
    if message is not None:
        raise UserError(message)
    validate(config, str(schema_path))
