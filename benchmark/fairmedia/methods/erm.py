"""Empirical risk minimisation: the baseline every method is tested against."""

from __future__ import annotations

from fairmedia.methods.base import Method
from fairmedia.methods.registry import register


@register
class ERM(Method):
    name = "erm"
    category = "in"
    family = "baseline"
    uses_attribute = False
    citation = "Vapnik, The Nature of Statistical Learning Theory, 1995"
    description = "plain binary cross-entropy; the baseline"
