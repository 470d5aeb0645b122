"""The shared attribute-probe test of every method that learns a representation meant to hide
the attribute: a fresh logistic-regression probe, fitted on validation rows of the learned
features, predicts the attribute with a test AUC at least ``MARGIN`` below the same probe on
ERM's features (same data, same seeds; mean over ``SEEDS``; feature-level stand-in data of
``method_features``, in which ERM's features reveal the attribute almost perfectly).

A method that does not meet it at its defaults is marked ``xfail(strict=True)`` with the numbers
measured, and listed in ``docs/methods.md``; ``strict`` makes the mark fail as soon as the method
starts to pass, so the list cannot go stale. ``domainind`` is left out: domain-independent
training (Wang et al. 2020) keeps the attribute in the shared features on purpose (one head per
group reads them).

Re-measure every method's probe AUC with::

    PYTHONPATH=benchmark python tests/methods/test_attribute_probe.py
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from method_features import feature_data, task_auc, train_method
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

SEEDS = (0, 1, 2)
STEPS = 400
MARGIN = 0.05  # probe AUC must fall by at least this much below ERM's

# Measured at the defaults (mean probe AUC over SEEDS; ERM 0.996); re-run the module's __main__
# after changing a method and update (strict: a method that starts passing fails the mark).
XFAIL = {
    "laftr": "probe AUC 0.978 vs ERM 0.996 (needs ≤ 0.946): the paper's saturating L1 "
             "adversary is beaten without the attribute being removed",
    "fscl": "probe AUC 0.972 vs ERM 0.996 (needs ≤ 0.946) at λ = 0.5, τ = 0.1",
    "cfair": "probe AUC 0.977 vs ERM 0.996 (needs ≤ 0.946) at MEDFAIR's μ = 0.1 (averaged "
             "adversaries); μ = 2 reaches 0.809 (tests/methods/test_adversarial_mechanisms.py)",
    "odr": "probe AUC 0.977 vs ERM 0.996 (needs ≤ 0.946) at MEDFAIR's λ_OD = 0.1; λ_OD = 0.5 "
           "reaches 0.873 here but collapses z_T on images (synthetic presets: worst-group AUC "
           "−0.38 vs ERM), so the default is MEDFAIR's",
    "lnl": "probe AUC 0.969 vs ERM 0.996 (needs ≤ 0.946) at the authors' entropy weight 0.01",
}
METHODS = ("adversarial", "cfair", "laftr", "lnl", "odr", "mmd", "end", "fscl")


def representation(method, name: str):
    """The features the task is predicted from: ODR's target code, else the encoder output."""
    return method.target_code if name == "odr" else method.model.features


def probe_auc(features) -> float:
    """Test AUC of a logistic-regression probe for the attribute, fitted on validation rows."""
    x, _, a = feature_data(2000, seed=99)
    with torch.no_grad():
        z = features(x).numpy()
    val, test = slice(0, 1000), slice(1000, None)
    probe = LogisticRegression(max_iter=2000).fit(z[val], a[val].numpy())
    return float(roc_auc_score(a[test].numpy(), probe.predict_proba(z[test])[:, 1]))


def measure(name: str, hp: dict | None = None) -> tuple[float, float]:
    """(mean probe AUC, mean task AUC) over SEEDS at the defaults (updated by ``hp``)."""
    probes, tasks = [], []
    for seed in SEEDS:
        method = train_method(name, STEPS, seed=seed, hp=hp)
        probes.append(probe_auc(representation(method, name)))
        tasks.append(task_auc(method))
    return float(np.mean(probes)), float(np.mean(tasks))


@pytest.fixture(scope="module")
def erm():
    return measure("erm")


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=XFAIL[n])) if n in XFAIL else n
    for n in METHODS
])
def test_probe_recovers_attribute_worse_than_on_erm(name, erm):
    torch.set_num_threads(1)
    erm_probe, erm_task = erm
    probe, task = measure(name)
    assert erm_probe > 0.95  # the attribute is plainly visible in ERM's features
    assert probe <= erm_probe - MARGIN, f"{name}: probe AUC {probe:.3f} vs ERM {erm_probe:.3f}"
    assert task > erm_task - 0.05  # the task is still learned


if __name__ == "__main__":
    torch.set_num_threads(1)
    base = measure("erm")
    print(f"erm: probe AUC {base[0]:.3f}, task AUC {base[1]:.3f}")
    for n in METHODS:
        p, t = measure(n)
        verdict = "pass" if p <= base[0] - MARGIN and t > base[1] - 0.05 else "FAIL"
        print(f"{n}: probe AUC {p:.3f} (Δ {p - base[0]:+.3f}), task AUC {t:.3f} — {verdict}")
