"""ODR's and LAFTR's losses against values computed here from the papers' formulas on fixed
small tensors (not with the methods' own helpers), and the routing of their gradients.

ODR (Sarhan et al. 2020): L = L_T + L_S + λ_E(t)·KL(q_φS(s|z_T) ‖ U) + λ_OD(t)·(KL(q(z_T|x) ‖
N(μ_T, I)) + KL(q(z_S|x) ‖ N(μ_S, I))), λ(t) = λ⁰·γ^(t/t_s), plus our term training the
discriminator on the detached z_T. LAFTR (Madras et al. 2018): the adversary's error summed
over groups (DP) or group × label cells (EO), each cell's mean |h − a|; the encoder minimises
L_C − γ·(that sum), i.e. L_C + γ·L_Adv up to a constant."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from method_features import feature_data, feature_model

from fairmedia.methods.registry import get_method


def _make(name: str, n_groups: int = 2, **hp):
    cls = get_method(name)
    params = {k: v.default for k, v in cls.hparams.items()} | hp
    torch.manual_seed(0)
    return cls(feature_model(0), n_groups, params, lr=1e-2)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


# --------------------------------------------------------------------------------- ODR ----------

ODR_HP = dict(code_dim=4, lambda_e=0.7, lambda_od=0.3, gamma_e=1.5, gamma_od=0.5, step_size=2)


def _odr_reference(m, x, y, a, seed: int):
    """The paper's loss, term by term, from the network's layer outputs and the same noise."""
    d = ODR_HP["code_dim"]
    torch.manual_seed(seed)
    h = m.model.features(x)
    out_t, out_s = m.to_task(h), m.to_sens(h)
    mu_t, lv_t, mu_s, lv_s = out_t[:, :d], out_t[:, d:], out_s[:, :d], out_s[:, d:]
    z_t = mu_t + torch.randn_like(mu_t) * torch.exp(0.5 * lv_t)
    z_s = mu_s + torch.randn_like(mu_s) * torch.exp(0.5 * lv_s)
    yy, aa = _np(y), a.numpy()
    p = 1 / (1 + np.exp(-_np(m.task_head(z_t)).ravel()))
    l_t = np.mean(-(yy * np.log(p) + (1 - yy) * np.log(1 - p)))
    q_s = _softmax(_np(m.sens_head(z_s)))
    l_s = np.mean(-np.log(q_s[np.arange(len(aa)), aa]))
    q_t = _softmax(_np(m.sens_head(z_t)))
    k = q_t.shape[1]
    l_e = np.mean(np.sum(q_t * np.log(q_t / (1.0 / k)), 1))  # KL(q ‖ uniform)
    adv = np.mean(-np.log(q_t[np.arange(len(aa)), aa]))  # discriminator on z_T (our addition)
    mean_t = np.r_[np.ones(d // 2), np.zeros(d - d // 2)]
    mean_s = 1 - mean_t

    def kl(mu, lv, m0):  # KL(N(mu, diag e^lv) ‖ N(m0, I)), summed over dims, mean over rows
        return np.mean(0.5 * np.sum(np.exp(lv) + (mu - m0) ** 2 - 1 - lv, 1))

    l_od = kl(_np(mu_t), _np(lv_t), mean_t) + kl(_np(mu_s), _np(lv_s), mean_s)
    return dict(l_t=l_t, l_s=l_s, l_e=l_e, l_od=l_od, adv=adv)


def test_odr_lambda_schedule_is_exponential_in_epochs():
    m = _make("odr", **ODR_HP)
    seen = []
    for epoch in range(5):
        seen.append(m.weights())
        m.on_epoch_end(epoch)
    for t, (lam_e, lam_od) in enumerate(seen):
        assert lam_e == pytest.approx(0.7 * 1.5 ** (t / 2))
        assert lam_od == pytest.approx(0.3 * 0.5 ** (t / 2))


@pytest.mark.parametrize("epochs_done", [0, 3])
def test_odr_loss_matches_the_papers_formula(epochs_done):
    m = _make("odr", **ODR_HP)
    for e in range(epochs_done):
        m.on_epoch_end(e)
    x, y, a = feature_data(16, seed=3)
    ref = _odr_reference(m, x, y, a, seed=7)
    torch.manual_seed(7)
    total, logs = m.loss(x, y, a)
    lam_e = 0.7 * 1.5 ** (epochs_done / 2)
    lam_od = 0.3 * 0.5 ** (epochs_done / 2)
    expected = ref["l_t"] + ref["l_s"] + lam_e * ref["l_e"] + lam_od * ref["l_od"] + ref["adv"]
    assert float(total.detach()) == pytest.approx(expected, rel=1e-5)
    assert float(logs["entropy"]) == pytest.approx(ref["l_e"], rel=1e-5, abs=1e-7)
    assert float(logs["kl"]) == pytest.approx(ref["l_od"], rel=1e-5)


def test_odr_priors_are_orthogonal():
    m = _make("odr", **ODR_HP)
    assert float(m.prior_mean[0] @ m.prior_mean[1]) == 0.0
    assert float(m.prior_mean[0].norm()) > 0 and float(m.prior_mean[1].norm()) > 0


def test_odr_entropy_term_moves_the_encoder_not_the_discriminator():
    x, y, a = feature_data(64, seed=4)
    grads = {}
    for lam in (0.0, 5.0):
        m = _make("odr", **(ODR_HP | {"lambda_e": lam}))
        torch.manual_seed(1)
        m.loss(x, y, a)[0].backward()
        grads[lam] = ({n: p.grad.clone() for n, p in m.sens_head.named_parameters()},
                      m.to_task.weight.grad.clone())
    # The discriminator's gradient is the same with or without L_E (frozen for that term) ...
    for n, g in grads[0.0][0].items():
        assert torch.allclose(g, grads[5.0][0][n], atol=1e-6), n
    # ... while the target encoder's gradient changes: L_E reaches the encoder.
    assert not torch.allclose(grads[0.0][1], grads[5.0][1], atol=1e-4)


def test_odr_discriminator_is_trained_on_the_target_code():
    # Our addition: the discriminator learns to read z_T (detached), so L_E faces an adversary
    # that can see the attribute there; without it, L_E could be met by hiding it elsewhere.
    x, y, a = feature_data(64, seed=4)
    m = _make("odr", **ODR_HP)
    torch.manual_seed(1)
    with_adv = float(m.loss(x, y, a)[0].detach())
    m.adversary_on_target = False
    torch.manual_seed(1)
    without = float(m.loss(x, y, a)[0].detach())
    ref = _odr_reference(m, x, y, a, seed=1)
    assert with_adv - without == pytest.approx(ref["adv"], rel=1e-5)


# ------------------------------------------------------------------------------- LAFTR ----------

LOGITS = torch.tensor([[0.2, 1.0], [1.5, -0.5], [0.0, 0.3], [-1.0, 2.0], [0.7, 0.1],
                       [2.0, 2.5], [-0.3, -0.2], [1.1, 0.0], [0.4, 0.9], [-2.0, 1.0]])
A = torch.tensor([1, 0, 0, 1, 0, 1, 1, 0, 0, 1])
Y = torch.tensor([1., 0., 1., 1., 0., 0., 1., 0., 1., 0.])


def _laftr_reference(variant: str) -> float:
    """Σ over the paper's cells of each cell's mean |h − a|, h = P(a = 1) from the logits."""
    h = _softmax(_np(LOGITS))[:, 1]
    a, y = A.numpy(), Y.numpy()
    err = np.abs(h - a)
    if variant == "dp":
        cells = [(a == g) for g in (0, 1)]
    else:
        labels = {"eo": (0, 1), "eqopp0": (0,), "eqopp1": (1,)}[variant]
        cells = [(a == g) & (y == v) for g in (0, 1) for v in labels]
    return float(sum(err[c].mean() for c in cells))


@pytest.mark.parametrize("variant", ["dp", "eo", "eqopp0", "eqopp1"])
def test_laftr_adversary_loss_is_the_papers_group_sum(variant):
    m = _make("laftr", fairness=variant)
    got = float(m.adversary_loss(LOGITS, Y, A))
    assert got == pytest.approx(_laftr_reference(variant), rel=1e-6)
    # The paper's L_Adv = (number of cells) − Σ: for DP 2 − Σ, for EO 4 − Σ; a perfect
    # adversary has Σ = 0, a constant one predicting 1/2 has Σ = cells / 2.
    n_cells = {"dp": 2, "eo": 4, "eqopp0": 2, "eqopp1": 2}[variant]
    half = torch.zeros_like(LOGITS)
    assert float(m.adversary_loss(half, Y, A)) == pytest.approx(n_cells / 2)


def test_laftr_many_groups_use_one_minus_probability_of_the_true_group():
    logits = torch.tensor([[0.1, 0.5, -0.2], [1.0, 0.0, 0.0], [0.3, 0.3, 2.0], [0.0, -1.0, 1.0]])
    a = torch.tensor([0, 0, 2, 1])
    y = torch.tensor([1., 0., 1., 0.])
    m = _make("laftr", n_groups=3, fairness="dp")
    p = _softmax(_np(logits))
    err = 1 - p[np.arange(4), a.numpy()]  # = ½‖onehot(a) − p‖₁
    expected = err[:2].mean() + err[3] + err[2]
    assert float(m.adversary_loss(logits, y, a)) == pytest.approx(expected, rel=1e-6)


def test_laftr_encoder_step_descends_task_minus_gamma_times_the_group_sum():
    # One update from fresh Adam moves each encoder weight by −lr·g/(|g| + ε), g the gradient
    # of BCE − γ·Σ computed here with the adversary as it is after its own step.
    gamma = 3.0
    m = _make("laftr", fairness="eo", gamma=gamma)
    x, y, a = feature_data(128, seed=6)
    before = copy.deepcopy(m.model)
    m.update(x, y, a)
    z = before.features(x)
    h = torch.softmax(m.adversary(torch.cat([z, y[:, None]], 1)), -1)[:, 1]
    p = torch.sigmoid(before.head(z).squeeze(-1))
    bce = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
    cells = [(a == g) & (y == v) for g in (0, 1) for v in (0., 1.)]
    group_sum = sum((h[c] - a[c].float()).abs().mean() for c in cells)
    params = list(before.parameters())
    grads = torch.autograd.grad(bce - gamma * group_sum, params)
    for p_old, p_new, g in zip(params, m.model.parameters(), grads):
        step = p_new.detach() - p_old.detach()
        assert torch.allclose(step, -1e-2 * g / (g.abs() + 1e-8), atol=1e-5)


def test_laftr_adversary_descends_the_group_sum():
    m = _make("laftr", fairness="dp", gamma=0.0)
    x, y, a = feature_data(256, seed=8)
    with torch.no_grad():
        z = m.model.features(x)
        before = float(m.adversary_loss(m.adversary(z), y, a))
    for _ in range(30):
        m.update(x, y, a)
    with torch.no_grad():
        after = float(m.adversary_loss(m.adversary(m.model.features(x)), y, a))
    assert after < before - 0.2
    assert math.isfinite(after)
