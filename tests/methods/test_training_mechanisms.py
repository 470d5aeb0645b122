"""Mechanism tests of the pre- and in-processing methods other than the adversarial ones: each
checks the thing the method is for against hand-computed numbers or a direct re-computation."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from method_features import feature_data, feature_model

from fairmedia.methods.fair_penalty import parity_gap
from fairmedia.methods.mmd import mmd2
from fairmedia.methods.registry import get_method
from fairmedia.methods.reweight import kamiran_calders_weights
from fairmedia.models.registry import build_model


def _make(name, model=None, n_groups=2, **hp):
    cls = get_method(name)
    params = {k: v.default for k, v in cls.hparams.items()} | hp
    return cls(model or feature_model(0), n_groups, params, lr=1e-2, epochs=4, steps_per_epoch=3)


def test_resample_batches_are_group_label_balanced():
    rng = np.random.default_rng(0)
    a = (rng.random(5000) < 0.1).astype(int)
    y = (rng.random(5000) < np.where(a == 1, 0.2, 0.6)).astype(int)
    # Through the method's own hook at its default, so the test sees what training uses.
    sampler = _make("resample").train_sampler(y, a, torch.Generator().manual_seed(0))
    idx = np.array(list(sampler))
    counts = np.bincount(a[idx] * 2 + y[idx], minlength=4)
    # Each of 4 cells drawn with p = 1/4: within 4 binomial standard deviations of n/4.
    assert np.all(np.abs(counts - 1250) < 4 * np.sqrt(5000 * 0.25 * 0.75)), counts


def test_reweight_follows_kamiran_calders_by_hand():
    # 10 rows: group 0 has 4 rows (3 positive), group 1 has 6 rows (1 positive).
    a = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0])
    w = kamiran_calders_weights(y, a, 2)
    # w(a, y) = P(a) P(y) / P(a, y); P(y=1) = 0.4
    expected = [0.4 * 0.6 / 0.1, 0.4 * 0.4 / 0.3, 0.6 * 0.6 / 0.5, 0.6 * 0.4 / 0.1]
    assert np.allclose(w, expected)
    # Weighted, label and attribute are independent: P_w(y=1 | a) equal across groups.
    cell = a * 2 + y
    pos = [w[cell[(a == g) & (y == 1)]].sum() / w[cell[a == g]].sum() for g in (0, 1)]
    assert np.isclose(pos[0], pos[1])


def test_reweight_loss_uses_the_training_set_weights():
    m = _make("reweight")
    x, y, a = feature_data(64, 0)
    yi, ai = y.numpy().astype(int), a.numpy()
    m.train_sampler(yi, ai, torch.Generator())
    # Kamiran & Calders weights of the training set, by hand: P(a) P(y) / P(a, y) per row.
    w = torch.tensor([(ai == ai[i]).mean() * (yi == yi[i]).mean() /
                      ((ai == ai[i]) & (yi == yi[i])).mean() for i in range(len(yi))],
                     dtype=torch.float32)
    assert w.std() > 0.01  # the cells are unbalanced enough for the weights to matter
    per = F.binary_cross_entropy_with_logits(m.model(x), y, reduction="none")
    torch.testing.assert_close(m.loss(x, y, a)[0], (w * per).sum() / w.sum())


def test_groupdro_weights_move_toward_the_higher_loss_group_and_eta_reaches_them():
    x, _, a = feature_data(256, 0)
    moved = []
    for eta in (0.01, 0.1):
        m = _make("groupdro", eta=eta, groups="attribute")
        with torch.no_grad():
            agree = (m.model(x) > 0).float()
        y = torch.where(a == 1, 1 - agree, agree)  # group 1 is labelled against the model
        m.update(x, y, a)
        moved.append(float(m.q[1]))
    assert moved[0] > 0.5 and moved[1] > moved[0]  # and a larger eta moves q further


def test_harmonize_standardises_each_group():
    m = _make("harmonize", model=build_model("cnn-small", 1))
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 2, (40,), generator=g)
    x = torch.randn(40, 1, 16, 16, generator=g) * (1 + 2 * a.view(-1, 1, 1, 1)) + 3 * a.view(-1, 1, 1, 1)
    y = torch.randint(0, 2, (40,), generator=g).float()
    m.update(x, y, a)  # training accumulates the statistics
    m.eval()
    # What the network sees at prediction time: each group standardised with its own training
    # mean and std, computed here with torch from the raw images.
    expected = torch.empty_like(x)
    for k in (0, 1):
        xs = x[a == k]
        expected[a == k] = (xs - xs.mean()) / xs.std(unbiased=False)
    for k in (0, 1):
        assert abs(float(expected[a == k].mean())) < 1e-4
    torch.testing.assert_close(m.predict(x, a), m.model(expected), atol=1e-4, rtol=1e-4)


def test_domainind_trains_only_the_own_group_head_and_predicts_the_mean():
    m = _make("domainind")
    x, y, _ = feature_data(32, 0)
    a = torch.zeros(32, dtype=torch.long)
    m.loss(x, y, a)[0].backward()
    assert m.heads.weight.grad[0].abs().sum() > 0 and m.heads.weight.grad[1].abs().sum() == 0
    assert torch.allclose(m.predict(x, a), m.group_logits(x).mean(1))


# EnD's and FSCL's losses are checked against the official formulas in test_loss_formulas.py.


def test_mmd_matches_numpy_and_vanishes_for_identical_samples():
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(6, 2, generator=g), torch.randn(5, 2, generator=g) + 1
    bw = torch.tensor(1.3)
    both = np.concatenate([x.numpy(), y.numpy()])
    d2 = ((both[:, None] - both[None]) ** 2).sum(-1)
    k = sum(np.exp(-d2 / (2 * (s * 1.3) ** 2)) for s in (0.5, 1, 2))
    expected = k[:6, :6].mean() + k[6:, 6:].mean() - 2 * k[:6, 6:].mean()
    assert np.isclose(float(mmd2(x, y, bw)), expected, atol=1e-5)
    assert float(mmd2(x, x, bw)) < 1e-6


def test_fair_penalty_is_the_group_mean_gap():
    p = torch.tensor([0.9, 0.7, 0.2, 0.4, 0.1])
    a = torch.tensor([0, 0, 1, 1, 1])
    overall = 2.3 / 5
    assert torch.isclose(parity_gap(p, a), torch.tensor((abs(0.8 - overall) + abs(0.7 / 3 - overall)) / 2))


def test_fair_penalty_loss_adds_lambda_times_the_equalised_odds_gap():
    m = _make("fair-penalty", weight=2.0, criterion="eo")
    x, y, a = feature_data(64, 1)
    logits = m.model(x)
    prob = torch.sigmoid(logits)
    gaps = []
    for v in (0, 1):  # the gap within each label, by hand: mean |group mean - label mean|
        pv, av = prob[y == v], a[y == v]
        gaps.append(sum(abs(pv[av == k].mean() - pv.mean()) for k in (0, 1)) / 2)
    expected = F.binary_cross_entropy_with_logits(logits, y) + 2.0 * (gaps[0] + gaps[1]) / 2
    torch.testing.assert_close(m.loss(x, y, a)[0], expected)


def test_fairadabn_keeps_separate_statistics_per_group():
    m = _make("fairadabn", model=build_model("cnn-small", 1))
    g = torch.Generator().manual_seed(0)
    a = torch.arange(16) % 2
    x = torch.randn(16, 1, 16, 16, generator=g) + 4.0 * a.view(-1, 1, 1, 1)
    y = torch.randint(0, 2, (16,), generator=g).float()
    m.update(x, y, a)
    first = m.group_norms[0].norms
    assert not torch.allclose(first[0].running_mean, first[1].running_mean)
    # The same image scored as group 0 and as group 1 gets different logits.
    m.eval()
    assert not torch.allclose(m.predict(x[:4], torch.zeros(4, dtype=torch.long)),
                              m.predict(x[:4], torch.ones(4, dtype=torch.long)))


def test_sam_is_the_two_step_update():
    torch.manual_seed(0)
    m = _make("sam", rho=0.1)
    ref = feature_model(0)
    ref.load_state_dict(m.model.state_dict())
    x, y, a = feature_data(64, 0)
    loss = F.binary_cross_entropy_with_logits(ref(x), y)
    grads = torch.autograd.grad(loss, list(ref.parameters()))
    norm = torch.sqrt(sum((g**2).sum() for g in grads))
    with torch.no_grad():
        for p, g in zip(ref.parameters(), grads):
            p.add_(0.1 * g / norm)
    sharp_grads = torch.autograd.grad(F.binary_cross_entropy_with_logits(ref(x), y),
                                      list(ref.parameters()))
    with torch.no_grad():
        for p, g in zip(ref.parameters(), grads):
            p.sub_(0.1 * g / norm)
    opt = torch.optim.Adam(ref.parameters(), lr=1e-2)
    for p, g in zip(ref.parameters(), sharp_grads):
        p.grad = g
    opt.step()
    m.update(x, y, a)
    for p, q in zip(m.model.parameters(), ref.parameters()):
        assert torch.allclose(p, q, atol=1e-6)
