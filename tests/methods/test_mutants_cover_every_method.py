"""Every registered method has a mutant (tests/mutation/mutants.py), and a mutant really removes
the mechanism: a mutated post-processor returns its input scores, a mutated training method's
loss is ERM's BCE."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from method_features import feature_data, feature_model

from fairmedia.methods.post_base import PostProcessor
from fairmedia.methods.registry import available_methods, get_method
from mutation import mutants


@pytest.mark.parametrize("name", mutants.mutated_methods())
def test_every_method_but_the_baseline_has_a_mutant(name):
    assert callable(mutants.mutant_for(name))


def test_baseline_has_none_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="baseline"):
        mutants.mutant_for("erm")
    with pytest.raises(ValueError, match="not a registered method"):
        mutants.apply_mutant("no-such-method")


def _fresh_class(name: str, monkeypatch) -> type:
    cls = get_method(name)
    for attr in (*mutants.ERM_HOOKS, "fit", "transform", "_set_groups"):
        if hasattr(cls, attr):  # so the mutant is undone after the test
            monkeypatch.setattr(cls, attr, getattr(cls, attr))
    return cls


def test_training_mutant_loss_is_bce(monkeypatch):
    cls = _fresh_class("groupdro", monkeypatch)
    mutants.apply_mutant("groupdro")
    x, y, a = feature_data(64, 0)
    method = cls(feature_model(0), 2, {k: v.default for k, v in cls.hparams.items()})
    loss, _ = method.loss(x, y, a)
    torch.testing.assert_close(loss, F.binary_cross_entropy_with_logits(method.model(x), y))


def test_post_mutant_returns_the_scores(monkeypatch):
    name = next(n for n, c in sorted(available_methods().items())
                if issubclass(c, PostProcessor) and c.decides)
    cls = _fresh_class(name, monkeypatch)
    mutants.apply_mutant(name)
    df = pd.DataFrame({"sample_id": [1, 2, 3], "y": [0, 1, 1], "score": [0.2, 0.6, 0.9],
                       "group": [0, 1, 1]})
    post = cls({k: v.default for k, v in cls.hparams.items()}, context=None)
    out = post.transform(df)
    assert out["score"].tolist() == [0.2, 0.6, 0.9]
    assert out["decision"].tolist() == [0, 1, 1]
