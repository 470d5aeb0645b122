"""Per-group statistics, fairness criteria, disparity measures, calibration and bootstrap CIs.

Public API: ``evaluate_predictions`` (the report), ``group_table`` (the per-group table everything
is derived from) and ``choose_threshold`` (the operating-point rules). See docs/metrics.md.
"""

from benchmark.metrics.bootstrap import bootstrap_difference
from benchmark.metrics.group_table import group_table
from benchmark.metrics.report import evaluate_predictions
from benchmark.metrics.thresholds import choose_threshold

__all__ = ["evaluate_predictions", "group_table", "choose_threshold", "bootstrap_difference"]
