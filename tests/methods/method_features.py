"""A tiny feature-level stand-in for images, so mechanism tests of in-processing methods run in
well under a second: 10-dimensional inputs in which the attribute is plainly visible (dims 0–3)
and the label too (dims 4–7), an MLP encoder, and the same method classes as for images."""

from __future__ import annotations

import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from fairmedia.methods.registry import get_method
from fairmedia.models.registry import FeatureClassifier


def feature_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(0, 2, (n,), generator=g)
    y = torch.randint(0, 2, (n,), generator=g).float()
    x = torch.randn(n, 10, generator=g)
    x[:, :4] += 2.0 * a[:, None]
    x[:, 4:8] += 1.5 * y[:, None]
    return x, y, a


def feature_model(seed: int) -> FeatureClassifier:
    torch.manual_seed(seed)
    return FeatureClassifier(nn.Linear(10, 8), 8)


def train_method(name: str, steps: int, seed: int = 0, hp: dict | None = None, lr: float = 3e-3):
    x, y, a = feature_data(2000, seed)
    cls = get_method(name)
    params = {k: v.default for k, v in cls.hparams.items()} | (hp or {})
    method = cls(feature_model(seed), 2, params, lr=lr, epochs=1, steps_per_epoch=steps)
    method.train_sampler(y.numpy().astype(int), a.numpy(), torch.Generator())
    g = torch.Generator().manual_seed(seed + 1)
    for _ in range(steps):
        idx = torch.randint(0, len(y), (128,), generator=g)
        method.update(x[idx], y[idx], a[idx])
    return method.eval()


def probe_attribute_accuracy(features) -> float:
    """Held-out accuracy of a logistic-regression probe predicting the attribute from features."""
    x, _, a = feature_data(2000, seed=99)
    with torch.no_grad():
        z = features(x).numpy()
    probe = LogisticRegression(max_iter=2000).fit(z[:1000], a[:1000].numpy())
    return float(probe.score(z[1000:], a[1000:].numpy()))


def task_auc(method) -> float:
    from sklearn.metrics import roc_auc_score

    x, y, a = feature_data(2000, seed=98)
    with torch.no_grad():
        return float(roc_auc_score(y.numpy(), method.predict(x, a).numpy()))
