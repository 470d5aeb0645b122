"""Per-group statistics, fairness criteria, disparity measures, calibration and bootstrap CIs.

Public API: ``FairnessReport`` (the report as pandas tables, for a notebook; docs/api.md),
``evaluate_predictions`` (the report as a dict, ``metrics.json``), ``group_table`` (the per-group
table everything is derived from) and ``choose_threshold`` (the operating-point rules). See
docs/metrics.md.

The names that need scikit-learn load on first use (PEP 562), so that importing a light submodule
such as ``metrics.directions`` while planning a workflow does not import it. ``group_table`` (numpy
and pandas only) is imported at once: it shares its name with its submodule, which an import of
the submodule would otherwise put in its place.
"""

from importlib import import_module
from typing import Any

from fairmedia.metrics.group_table import group_table

_PUBLIC = {
    "FairnessReport": "fairmedia.metrics.api",
    "bootstrap_difference": "fairmedia.metrics.bootstrap",
    "evaluate_predictions": "fairmedia.metrics.fairness_report",
    "choose_threshold": "fairmedia.metrics.thresholds",
}
__all__ = ["group_table", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'fairmedia.metrics' has no attribute {name!r}")
