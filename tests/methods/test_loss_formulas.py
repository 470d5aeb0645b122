"""The losses of CFair, EnD, LNL, FSCL, GroupDRO and FairAdaBN against values computed here, by
hand, from the papers' / the authors' official code's formulas on fixed small tensors — never by
calling the method's own helper for the expected value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from method_features import feature_data, feature_model
from torch import nn

from fairmedia.methods.fairadabn import GroupBatchNorm
from fairmedia.methods.fscl import fair_supcon
from fairmedia.methods.registry import get_method
from fairmedia.models.registry import build_model

torch.set_num_threads(1)


def _make(name, model=None, n_groups=2, **hp):
    cls = get_method(name)
    params = {k: v.default for k, v in cls.hparams.items()} | hp
    return cls(model or feature_model(0), n_groups, params, lr=1e-2, epochs=1, steps_per_epoch=1)


def _bce(logit: float, y: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def _cos(u, v) -> float:
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


# The defaults the papers' official code (or MEDFAIR where the paper gives none) uses.
@pytest.mark.parametrize("method,key,value", [
    ("cfair", "mu", 0.1),            # MEDFAIR --mu (the paper only sweeps 0.1..1000)
    ("end", "alpha", 0.1), ("end", "beta", 0.1),  # EnD configs.py, MEDFAIR
    ("lnl", "mu", 0.01),             # LNL trainer.py: _lambda = 0.01 on the entropy term
    ("lnl", "lam", 0.1),             # LNL trainer.py: GradReverse multiplies by 0.1
    ("fscl", "temperature", 0.1),    # FSCL main_contrastive.py --temp
    ("fscl", "group_norm", False),   # FSCL --group_norm 0 (FSCL; 1 is FSCL+)
    ("groupdro", "eta", 0.01),       # group_DRO --robust_step_size
    ("groupdro", "adjustment", 0.0),  # group_DRO --generalization_adjustment
    ("groupdro", "groups", "attribute_label"),  # Sagawa: groups are label × attribute
    ("fairadabn", "alpha", 1.0),     # FairAdaBN main.py: loss_0 + loss_1 + loss_spd
])
def test_defaults_are_the_references(method, key, value):
    assert get_method(method).hparams[key].default == value


# -- CFair --------------------------------------------------------------------------------------
def test_cfair_is_balanced_bce_plus_mu_times_the_mean_of_the_label_adversaries():
    x, y, a = feature_data(24, 3)
    y_np, a_np = y.numpy().astype(int), a.numpy()
    m = _make("cfair", mu=0.7)
    m.train_sampler(y_np, a_np, torch.Generator())
    total, logs = m.loss(x, y, a)
    with torch.no_grad():
        z = m.model.features(x)
        logits = m.model.head(z).squeeze(-1).numpy()
        adv_logp = [F.log_softmax(head(z), dim=1).numpy() for head in m.adversaries]
    n = len(y_np)
    p_y = [np.mean(y_np == j) for j in (0, 1)]
    # Balanced error rate: each row weighted 1 / (2 P(y)) (the paper's BER, Zhao et al. Sec. 3.4).
    task = np.mean([_bce(logits[i], y_np[i]) / (2 * p_y[y_np[i]]) for i in range(n)])
    # Official: adversary j sees rows with y = j, CE weighted by 1/P(a | y=j) (weighted mean), and
    # the adversarial loss is the MEAN over j.
    terms = []
    for j in (0, 1):
        rows = np.flatnonzero(y_np == j)
        p_a = [np.mean(a_np[rows] == g) for g in (0, 1)]
        w = np.array([1 / p_a[a_np[i]] for i in rows])
        ce = np.array([-adv_logp[j][i, a_np[i]] for i in rows])
        terms.append((w * ce).sum() / w.sum())
    adv = np.mean(terms)
    assert np.isclose(float(logs["adv"]), adv, atol=1e-5)
    assert np.isclose(float(total.detach()), task + 0.7 * adv, atol=1e-5)


# -- EnD ----------------------------------------------------------------------------------------
Z_END = np.array([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.2], [0.0, 1.0], [0.5, -0.5], [-0.3, -1.0]])
Y_END = np.array([0, 1, 0, 1, 0, 1])
A_END = np.array([0, 0, 0, 1, 1, 1])


def _end_official(z, y, a):
    """EIDOSlab src/EnD.py, written out: unordered pairs i > j; R⊥ = Σ_b |Σ_pairs cos| / M and
    R∥ = 1 − Σ (1 + cos)/2 / M' over same-label, different-attribute pairs."""
    n = len(z)
    sums, m = {}, 0
    par, mp = 0.0, 0
    for i in range(n):
        for j in range(i):
            c = _cos(z[i], z[j])
            if a[i] == a[j]:
                sums[a[i]] = sums.get(a[i], 0.0) + c
                m += 1
            elif y[i] == y[j]:
                par += (1 + c) / 2
                mp += 1
    return sum(abs(s) for s in sums.values()) / m, 1 - par / mp


def test_end_regulariser_is_the_official_one():
    dis_ref, ent_ref = _end_official(Z_END, Y_END, A_END)
    # The fixture is chosen so the official |Σ cos| differs from a Σ|cos| or a
    # different-label-only variant.
    assert not np.isclose(dis_ref, np.mean([abs(_cos(Z_END[i], Z_END[j])) for i in range(6)
                                            for j in range(i) if A_END[i] == A_END[j]]))
    m = _make("end", model=FeatureClassifier2(), alpha=0.3, beta=0.2)
    x = torch.tensor(Z_END, dtype=torch.float32)
    y, a = torch.tensor(Y_END, dtype=torch.float32), torch.tensor(A_END)
    total, logs = m.loss(x, y, a)
    with torch.no_grad():
        task = F.binary_cross_entropy_with_logits(m.model(x), y)
    assert np.isclose(float(logs["disentangle"]), dis_ref, atol=1e-6)
    assert np.isclose(float(logs["entangle"]), ent_ref, atol=1e-6)
    assert np.isclose(float(total.detach()), float(task) + 0.3 * dis_ref + 0.2 * ent_ref, atol=1e-6)


class FeatureClassifier2(nn.Module):
    """Identity features (so the test's cosines are the fixture's) and a linear head."""

    feature_dim = 2

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.head = nn.Linear(2, 1)

    def features(self, x):
        return x

    def forward(self, x):
        return self.head(x).squeeze(-1)


# -- LNL ----------------------------------------------------------------------------------------
def test_lnl_entropy_term_and_reversal_have_the_official_scales():
    x, y, a = feature_data(16, 4)
    m = _make("lnl")  # defaults: entropy weight 0.01, reversal 0.1
    total, logs = m.loss(x, y, a)
    with torch.no_grad():
        z = m.model.features(x)
        p = F.softmax(m.bias_head(z), dim=1).numpy()
        task = float(F.binary_cross_entropy_with_logits(m.model.head(z).squeeze(-1), y))
        bias_ce = float(F.cross_entropy(m.bias_head(z), a))
    # Official: loss_pseudo_pred = mean_i Σ_c p log p  (= −H), weighted by 0.01.
    neg_h = np.mean((p * np.log(p)).sum(1))
    assert np.isclose(float(logs["entropy"]), -neg_h, atol=1e-6)
    assert np.isclose(float(total.detach()), task + 0.01 * neg_h + bias_ce, atol=1e-6)
    # The bias CE reaches the encoder reversed and scaled by 0.1: its gradient on the encoder is
    # −0.1 × the plain gradient of the bias CE (entropy term weight set to 0 to isolate it).
    m0 = _make("lnl", mu=0.0)
    m0.model.head.weight.data.zero_()
    m0.model.head.bias.data.zero_()
    m0.loss(x, y, a)[0].backward()
    got = m0.model.encoder.weight.grad.clone()
    ref = feature_model(0)
    ref.load_state_dict(m0.model.state_dict())
    head = _make("lnl").bias_head
    head.load_state_dict(m0.bias_head.state_dict())
    F.cross_entropy(head(ref.features(x)), a).backward()
    assert torch.allclose(got, -0.1 * ref.encoder.weight.grad, atol=1e-6)


# -- FSCL ---------------------------------------------------------------------------------------
def _fscl_official(u, y, a, tau, group_norm):
    """sungho-CoolG/FSCL losses.py (method FSCL, one view), anchor by anchor."""
    n = len(u)
    losses = []
    for i in range(n):
        pos = [p for p in range(n) if p != i and y[p] == y[i]]
        neg = [j for j in range(n) if y[j] != y[i] and a[j] == a[i]]
        log_den = math.log(sum(math.exp(u[i] @ u[j] / tau) for j in neg))
        terms = [u[i] @ u[p] / tau - log_den for p in pos]
        if group_norm:
            n_ys = sum(1 for p in pos if a[p] == a[i])
            li = -(tau / 0.07) * sum(terms) / n_ys * (n / 8) / (n_ys + 1)
        else:
            li = -(tau / 0.07) * sum(terms) / len(pos)
        losses.append(li)
    return float(np.mean(losses))


@pytest.mark.parametrize("group_norm", [False, True])
def test_fscl_matches_the_official_denominator_and_normalisation(group_norm):
    g = torch.Generator().manual_seed(1)
    z = torch.randn(12, 3, generator=g)
    # Every (label, group) cell has at least two members, so every anchor has a same-group
    # positive and a same-group negative.
    y = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0])
    a = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1])
    u = F.normalize(z, dim=1).numpy().astype(np.float64)
    expected = _fscl_official(u, y.numpy(), a.numpy(), 0.2, group_norm)
    assert np.isclose(float(fair_supcon(z, y, a, 0.2, group_norm)), expected, atol=1e-4)


def test_fscl_method_adds_weight_times_the_contrastive_loss():
    x, y, a = feature_data(32, 5)
    m = _make("fscl", weight=0.4)
    total, _ = m.loss(x, y, a)
    with torch.no_grad():
        z = m.model.features(x)
        task = float(F.binary_cross_entropy_with_logits(m.model.head(z).squeeze(-1), y))
        proj = m.projection(z)
    u = F.normalize(proj, dim=1).numpy().astype(np.float64)
    con = _fscl_official(u, y.numpy(), a.numpy(), 0.1, False)
    assert np.isclose(float(total.detach()), task + 0.4 * con, atol=1e-4)


# -- GroupDRO -----------------------------------------------------------------------------------
def test_groupdro_exponentiated_gradient_over_label_by_attribute_groups():
    x, y, a = feature_data(40, 6)
    y_np, a_np = y.numpy().astype(int), a.numpy()
    m = _make("groupdro", eta=0.5, adjustment=2.0)
    # Training-set sizes for the adjustment: counts of each (a, y) cell of a bigger sample.
    y_tr = np.r_[y_np, np.ones(10, int)]
    a_tr = np.r_[a_np, np.zeros(10, int)]
    m.train_sampler(y_tr, a_tr, torch.Generator())
    with torch.no_grad():
        logits = m.model(x).numpy()
    loss, _ = m.loss(x, y, a)
    # Sagawa et al. Algorithm 1 / group_DRO loss.py, four groups g = (a, y), q0 uniform:
    # q_g ∝ q_g · exp(η (L_g + C / √n_g)),  loss = Σ_g q_g L_g.
    cells = [(g_a, g_y) for g_a in (0, 1) for g_y in (0, 1)]
    L = np.array([np.mean([_bce(logits[i], y_np[i]) for i in range(40)
                           if a_np[i] == g_a and y_np[i] == g_y]) for g_a, g_y in cells])
    n_g = np.array([np.sum((a_tr == g_a) & (y_tr == g_y)) for g_a, g_y in cells])
    q = np.full(4, 0.25) * np.exp(0.5 * (L + 2.0 / np.sqrt(n_g)))
    q /= q.sum()
    assert np.allclose(m.q.numpy(), q, atol=1e-6)
    assert np.isclose(float(loss.detach()), (q * L).sum(), atol=1e-6)


# -- FairAdaBN ----------------------------------------------------------------------------------
def test_fairadabn_shares_the_stem_batchnorm_and_splits_the_block_ones():
    net = build_model("resnet18", 3)
    m = _make("fairadabn", model=net)
    enc = m.model.encoder
    names = {n for n, mod in enc.named_modules() if isinstance(mod, GroupBatchNorm)}
    # The official ResNet (BottleNeck_with_IN): stem BN shared; every BN in the residual
    # blocks, including the projection shortcuts', one per group.
    stem = [n for n, mod in enc.named_modules() if isinstance(mod, nn.BatchNorm2d)
            and not any(n.startswith(g + ".") for g in names)]
    assert stem == ["bn1"], stem
    expected = {f"layer{s}.{b}.bn{k}" for s in range(1, 5) for b in (0, 1) for k in (1, 2)}
    expected |= {f"layer{s}.0.downsample.1" for s in (2, 3, 4)}
    assert names == expected


def test_fairadabn_penalty_is_the_official_spd():
    _, y, a = feature_data(20, 7)
    m = _make("fairadabn", model=build_model("cnn-small", 1), alpha=0.8)
    img = torch.randn(20, 1, 16, 16, generator=torch.Generator().manual_seed(7))
    total, logs = m.loss(img, y, a)
    with torch.no_grad():
        m._set_groups(a)
        p = torch.sigmoid(m.model(img)).numpy()
    a_np, y_np = a.numpy(), y.numpy()
    gap = p[a_np == 0].mean() - p[a_np == 1].mean()
    # SPD_Loss over both classes of a binary label: (Δp)² + (Δ(1−p))² = 2 Δp².
    spd = gap ** 2 + ((1 - p[a_np == 0]).mean() - (1 - p[a_np == 1]).mean()) ** 2
    task = np.mean([-(yy * np.log(pp) + (1 - yy) * np.log(1 - pp)) for pp, yy in zip(p, y_np)])
    assert np.isclose(float(logs["parity"]), spd, atol=1e-5)
    assert np.isclose(float(total.detach()), task + 0.8 * spd, atol=1e-4)
