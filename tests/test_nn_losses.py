"""Tests of sklt.nn.losses: the identities of METHODS.md §5, LADER, soft targets, bad input."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklt.nn.losses import (  # noqa: E402
    BalancedSoftmaxLoss,
    BayiasLoss,
    ClassBalancedLoss,
    CrossEntropy,
    FocalLoss,
    LADELoss,
    LDAMLoss,
    LogitAdjustedLoss,
    class_balanced_weights,
)

COUNTS = [200.0, 60.0, 20.0, 5.0, 1.0]
K = len(COUNTS)

ALL_LOSSES = [
    (CrossEntropy, {}),
    (LogitAdjustedLoss, {"tau": 1.5}),
    (LogitAdjustedLoss, {"tau": 1.0, "tau1": 0.5, "tau2": 1.2, "weighted": True}),
    (BalancedSoftmaxLoss, {}),
    (BayiasLoss, {"target_prior": [0.1, 0.2, 0.3, 0.2, 0.2]}),
    (LADELoss, {"alpha": 0.5, "lam": 0.1}),
    (LDAMLoss, {"max_margin": 0.5, "scale": 5.0}),
    (FocalLoss, {"gamma": 2.0}),
    (ClassBalancedLoss, {"base": "focal", "beta": 0.99, "gamma": 1.0}),
]


def _batch(seed, n=16, k=K, labels=None, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, k, generator=gen, dtype=dtype) * 3
    y = torch.randint(0, k, (n,), generator=gen) if labels is None else torch.as_tensor(labels)
    return z, y


def _value_and_grad(loss, z, y):
    z = z.clone().requires_grad_(True)
    value = loss(z, y)
    (grad,) = torch.autograd.grad(value, z)
    return value.detach(), grad


@pytest.mark.parametrize("seed", range(5))
def test_la_tau1_balanced_softmax_lade_alpha0_bayias_uniform_are_one_loss(seed):
    z, y = _batch(seed)
    losses = [
        LogitAdjustedLoss(COUNTS, tau=1.0),
        BalancedSoftmaxLoss(COUNTS),
        LADELoss(COUNTS, alpha=0.0, lam=0.3),
        LADELoss(COUNTS, alpha=0.0, lam=0.3, form="reference"),
        BayiasLoss(COUNTS),
        BayiasLoss(COUNTS, target_prior=np.ones(K)),
    ]
    ref_value, ref_grad = _value_and_grad(losses[0], z, y)
    for loss in losses[1:]:
        value, grad = _value_and_grad(loss, z, y)
        torch.testing.assert_close(value, ref_value, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(grad, ref_grad, rtol=1e-6, atol=1e-7)


def _lader_loop(z, y, counts, lam, form="paper"):
    """Direct transcription of 002 eq. 13, 15-16: sum over classes present in the batch.

    ``form="paper"``: sample i weighted by u / p_s(y_i) (eq. 12-13);
    ``form="reference"``: column c weighted by u / p_s(c) (the authors' code).
    """
    z = z.tolist()
    y = y.tolist()
    n = len(y)
    p_s = [c / sum(counts) for c in counts]
    u = 1.0 / len(counts)
    total = 0.0
    for c in range(len(counts)):
        members = [i for i in range(n) if y[i] == c]
        if not members:
            continue
        t1 = sum(z[i][c] for i in members) / len(members)
        ratio = [u / p_s[y[i]] if form == "paper" else u / p_s[c] for i in range(n)]
        t2 = math.log(sum(ratio[i] * math.exp(z[i][c]) for i in range(n)) / n)
        total += p_s[c] * (-t1 + t2 + lam * t2**2)
    return total


@pytest.mark.parametrize("form", ["paper", "reference"])
@pytest.mark.parametrize(
    "labels",
    [
        None,  # random labels
        [0, 0, 0, 0, 1, 1, 0, 1],  # classes 2, 3, 4 missing
        [4, 4, 4, 4, 4, 4, 4, 4],  # one class only
        [3, 0, 2, 0, 0, 1, 4, 0],
    ],
)
@pytest.mark.parametrize("lam", [0.0, 0.01, 0.5])
def test_lader_matches_direct_transcription_of_eq_15_16(labels, lam, form):
    z, y = _batch(7, n=8, labels=labels)
    loss = LADELoss(COUNTS, alpha=1.0, lam=lam, form=form)
    expected = _lader_loop(z, y, COUNTS, lam, form)
    assert loss.regularizer(z, y).item() == pytest.approx(expected, rel=1e-6, abs=1e-7)
    ce = F.cross_entropy(z + torch.log(torch.tensor(COUNTS, dtype=z.dtype) / sum(COUNTS)), y)
    assert loss(z, y).item() == pytest.approx(ce.item() + expected, rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.integers(1, 1000), min_size=2, max_size=6),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**16),
    lam=st.floats(0, 2),
    form=st.sampled_from(["paper", "reference"]),
)
def test_property_lader_and_identities_on_random_batches(counts, n, seed, lam, form):
    k = len(counts)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, k, generator=gen, dtype=torch.float64) * 4
    y = torch.randint(0, k, (n,), generator=gen)
    lade = LADELoss(counts, alpha=1.0, lam=lam, form=form)
    assert lade.regularizer(z, y).item() == pytest.approx(
        _lader_loop(z, y, counts, lam, form), rel=1e-5, abs=1e-6
    )
    la = LogitAdjustedLoss(counts, tau=1.0)(z, y)
    torch.testing.assert_close(BalancedSoftmaxLoss(counts)(z, y), la)
    torch.testing.assert_close(BayiasLoss(counts)(z, y), la, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(LADELoss(counts, alpha=0.0, lam=lam, form=form)(z, y), la)


def _lade_before_paper_form(loss, logits, target):
    """sklt's LADELoss as it was before form="paper" (commit bc66b3c), verbatim."""
    if target.ndim == 1:
        per_sample = F.cross_entropy(logits + loss.log_source_prior(logits.dtype), target.long(),
                                     reduction="none")
    else:
        per_sample = F.cross_entropy(logits + loss.log_source_prior(logits.dtype), target,
                                     reduction="none")
    if not loss._weighted:
        value = per_sample.mean()
    else:
        weight = loss.class_weight.to(per_sample.dtype)
        sw = weight[target] if target.ndim == 1 else target @ weight
        value = (per_sample * sw).mean()
    if loss.alpha > 0:
        n = logits.shape[0]
        log_p = loss.log_source_prior(logits.dtype)
        if target.ndim == 1:
            n_c = torch.bincount(target, minlength=loss.n_classes).to(logits.dtype)
            t1_sum = torch.zeros_like(n_c).index_add(
                0, target, logits.gather(1, target[:, None]).squeeze(1)
            )
        else:
            n_c = target.sum(dim=0)
            t1_sum = (target * logits).sum(dim=0)
        present = n_c > 0
        t1 = t1_sum / torch.where(present, n_c, 1.0)
        t2 = torch.logsumexp(logits, dim=0) - (log_p + math.log(n * loss.n_classes))
        per_class = t2 * (1.0 + loss.lam * t2) - t1
        alpha_c = torch.where(present, log_p.exp(), 0.0)
        value = value + loss.alpha * torch.dot(alpha_c, per_class)
    return value


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("class_weighted", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_lade_reference_form_reproduces_the_previous_values_exactly(
    dtype, soft, class_weighted, seed
):
    labels = [0, 0, 1, 0, 3, 0, 1, 0] if seed % 2 else None  # absent classes, or random
    z, y = _batch(seed, n=8, labels=labels, dtype=dtype)
    target = F.one_hot(y, K).to(dtype) * 0.7 + 0.3 / K if soft else y
    loss = LADELoss(COUNTS, alpha=0.3, lam=0.2, form="reference").to(dtype)
    if class_weighted:
        loss.set_class_weight(class_balanced_weights(COUNTS, 0.9))
    v_new, g_new = _value_and_grad(loss, z, target)
    z_old = z.clone().requires_grad_(True)
    v_old = _lade_before_paper_form(loss, z_old, target)
    (g_old,) = torch.autograd.grad(v_old, z_old)
    assert torch.equal(v_new, v_old.detach())
    assert torch.equal(g_new, g_old)


# ----------------------------------------------- LADE: the population identity (#15.3)
# A discrete population: 3 inputs x with P_s(x, y) given as integer counts n(x, y)
# (the batch is the whole population, each (x, y) repeated n(x, y) times), K = 2,
# p_s = (0.92, 0.14) / 1.06 roughly: a 10:1 imbalance.
_POP = np.array([[90, 1],
                 [50, 5],
                 [10, 9]])


def _population_optimum(alpha, form, lam=0.1, weighted=False):
    """softmax(z*) of the free logits z(x) minimising LADE-CE + alpha LADER on the population."""
    n_x, k = _POP.shape
    if weighted:  # each (x, y) once, with weight n(x, y): must give the same optimum
        xs, ys = np.nonzero(_POP > 0)
        w = torch.as_tensor(_POP[xs, ys], dtype=torch.float64)
        w = w / w.mean()
    else:
        xs = np.repeat(np.repeat(np.arange(n_x), k), _POP.ravel())
        ys = np.repeat(np.tile(np.arange(k), n_x), _POP.ravel())
        w = None
    xs, ys = torch.as_tensor(xs), torch.as_tensor(ys)
    loss = LADELoss(_POP.sum(axis=0), alpha=alpha, lam=lam, form=form).double()
    z = torch.zeros(n_x, k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([z], lr=1, max_iter=2000, tolerance_grad=1e-13,
                            tolerance_change=1e-15, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        value = loss(z[xs], ys, sample_weight=w)
        value.backward()
        return value

    for _ in range(3):
        opt.step(closure)
    return torch.softmax(z.detach(), dim=1).numpy()


def _balanced_posterior():
    posterior = _POP / _POP.sum(axis=1, keepdims=True)  # P_s(y|x)
    p_s = _POP.sum(axis=0) / _POP.sum()
    balanced = posterior / p_s
    return balanced / balanced.sum(axis=1, keepdims=True)  # P_u(y|x)


@pytest.mark.parametrize("alpha", [0.1, 1.0])
def test_lade_paper_form_minimiser_is_the_balanced_posterior(alpha):
    # 002 eq. 12-14: with each sample weighted by its own label's u/p_s, LADER and
    # LADE-CE have the same minimiser z_c(x) = log P_u(c|x) + log K, for any alpha.
    np.testing.assert_allclose(_population_optimum(alpha, "paper"), _balanced_posterior(),
                               atol=1e-6)


@pytest.mark.parametrize("alpha, missed_by", [(0.1, 0.01), (1.0, 0.1)])
def test_lade_reference_form_misses_the_balanced_posterior(alpha, missed_by):
    # The authors' code weights column c by u/p_s(c): its optimum has
    # T2_c = 0 at z_c = log P_s(c|x) + log K, so the lam * T2^2 term pulls softmax(z)
    # toward P_s(y|x), more so as alpha grows (measured: 0.0155 and 0.134).
    error = np.abs(_population_optimum(alpha, "reference") - _balanced_posterior()).max()
    assert error > missed_by


def test_lade_reference_form_without_the_square_term_reaches_the_balanced_posterior():
    # With lam = 0 the code's LADER has the same minimisers as LADE-CE (its optimum is
    # only fixed up to a class constant), so the discrepancy comes from lam * T2^2.
    np.testing.assert_allclose(_population_optimum(1.0, "reference", lam=0.0),
                               _balanced_posterior(), atol=1e-6)


@pytest.mark.parametrize("form", ["paper", "reference"])
def test_lade_integer_sample_weights_equal_repeated_samples(form):
    assert np.allclose(_population_optimum(1.0, form, weighted=True),
                       _population_optimum(1.0, form), atol=1e-6)
    z, y = _batch(3, n=6, labels=[0, 1, 1, 2, 0, 4])
    counts = torch.tensor([3, 1, 2, 1, 0, 2])
    loss = LADELoss(COUNTS, alpha=0.7, lam=0.1, form=form).double()
    w = counts.double() / counts.double().mean()
    rep = torch.repeat_interleave(torch.arange(6), counts)
    torch.testing.assert_close(loss(z, y, sample_weight=w), loss(z[rep], y[rep]))


def test_lader_gradient_is_zero_for_absent_class_t1_and_finite():
    z, y = _batch(3, n=6, labels=[0, 0, 1, 0, 1, 0])
    _, grad = _value_and_grad(LADELoss(COUNTS, alpha=1.0, lam=0.1), z, y)
    assert torch.all(torch.isfinite(grad))
    # Absent classes take no part in LADER (masked) and only enter the CE part.
    _, grad_ce = _value_and_grad(LADELoss(COUNTS, alpha=0.0), z, y)
    torch.testing.assert_close(grad[:, 2:], grad_ce[:, 2:])


@pytest.mark.parametrize("seed", range(3))
def test_focal_gamma0_is_cross_entropy(seed):
    z, y = _batch(seed)
    v1, g1 = _value_and_grad(FocalLoss(COUNTS, gamma=0.0), z, y)
    v2, g2 = _value_and_grad(CrossEntropy(COUNTS), z, y)
    torch.testing.assert_close(v1, v2)
    torch.testing.assert_close(g1, g2)
    torch.testing.assert_close(v2, F.cross_entropy(z, y))


def test_focal_matches_formula():
    z, y = _batch(1)
    p = torch.softmax(z, 1)[torch.arange(len(y)), y]
    expected = (-(1 - p) ** 2.5 * torch.log(p)).mean()
    torch.testing.assert_close(FocalLoss(COUNTS, gamma=2.5)(z, y), expected)


@pytest.mark.parametrize("base", ["cross_entropy", "logit_adjusted", "lade", "ldam", "focal"])
def test_class_balanced_beta0_is_unweighted(base):
    z, y = _batch(2)
    cb = ClassBalancedLoss(COUNTS, base=base, beta=0.0)
    plain = type(cb.base_)(COUNTS)
    v1, g1 = _value_and_grad(cb, z, y)
    v2, g2 = _value_and_grad(plain, z, y)
    assert torch.equal(v1, v2)
    assert torch.equal(g1, g2)


def test_class_balanced_weights_formula_and_limits():
    counts = np.array(COUNTS)
    beta = 0.9
    raw = (1 - beta) / (1 - beta**counts)
    expected = raw / raw.sum() * K
    np.testing.assert_allclose(class_balanced_weights(counts, beta).numpy(), expected, rtol=1e-6)
    # beta -> 1: inverse class frequency (normalised).
    w = class_balanced_weights(counts, 1 - 1e-9).numpy()
    inv = 1 / counts
    np.testing.assert_allclose(w, inv / inv.sum() * K, rtol=1e-4)
    # Empty classes: weight 0, the others as if the class did not exist.
    w = class_balanced_weights([10.0, 0.0, 2.0], 0.5).numpy()
    assert w[1] == 0
    np.testing.assert_allclose(w[[0, 2]], class_balanced_weights([10.0, 2.0], 0.5).numpy())


def test_class_balanced_loss_weights_samples():
    z, y = _batch(4)
    w = class_balanced_weights(COUNTS, 0.99)
    expected = (F.cross_entropy(z, y, reduction="none") * w.double()[y]).mean()
    torch.testing.assert_close(ClassBalancedLoss(COUNTS, beta=0.99)(z, y), expected)


@pytest.mark.parametrize("loss_cls, params", ALL_LOSSES)
def test_soft_one_hot_targets_equal_hard_labels(loss_cls, params):
    z, y = _batch(5)
    loss = loss_cls(COUNTS, **params)
    soft = F.one_hot(y, K).to(z.dtype)
    v_hard, g_hard = _value_and_grad(loss, z, y)
    v_soft, g_soft = _value_and_grad(loss, z, soft)
    torch.testing.assert_close(v_soft, v_hard, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_soft, g_hard, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss_cls, params", [ALL_LOSSES[i] for i in (0, 1, 3, 4)])
def test_soft_targets_are_mixtures_for_ce_family(loss_cls, params):
    # For the CE family, the soft-target loss is linear in Y at fixed offsets:
    # a 50/50 mixture of two one-hot targets gives the mean of the two losses
    # (LA with tau1 != tau2 has a target-dependent offset and is not linear).
    z, y1 = _batch(6)
    y2 = (y1 + 1) % K
    loss = loss_cls(COUNTS, **params)
    loss.set_class_weight(None)
    mix = 0.5 * F.one_hot(y1, K).double() + 0.5 * F.one_hot(y2, K).double()
    torch.testing.assert_close(loss(z, mix), 0.5 * (loss(z, y1) + loss(z, y2)))


def test_logit_adjusted_tau0_is_cross_entropy_and_tau_shifts_logits():
    z, y = _batch(8)
    torch.testing.assert_close(LogitAdjustedLoss(COUNTS, tau=0.0)(z, y), F.cross_entropy(z, y))
    log_p = torch.log(torch.tensor(COUNTS, dtype=z.dtype) / sum(COUNTS))
    torch.testing.assert_close(
        LogitAdjustedLoss(COUNTS, tau=2.0)(z, y), F.cross_entropy(z + 2.0 * log_p, y)
    )


def test_generalised_logit_adjusted_matches_pairwise_eq_11():
    z, y = _batch(9, n=10)
    tau, tau1, tau2 = 0.7, 0.4, 1.3
    loss = LogitAdjustedLoss(COUNTS, tau=tau, tau1=tau1, tau2=tau2, weighted=True)
    pi = np.array(COUNTS) / sum(COUNTS)
    alpha = pi ** (tau - 1)
    alpha = alpha / alpha.sum() * K
    total = 0.0
    for i in range(len(y)):
        yi = int(y[i])
        inner = 1.0
        for yp in range(K):
            if yp != yi:
                delta = tau1 * math.log(pi[yp]) - tau2 * math.log(pi[yi])
                inner += math.exp(delta + float(z[i, yp] - z[i, yi]))
        total += alpha[yi] * math.log(inner)
    assert loss(z, y).item() == pytest.approx(total / len(y), rel=1e-6)


def test_ldam_matches_reference_formula():
    z, y = _batch(10)
    counts = torch.tensor(COUNTS, dtype=torch.float64)
    m = counts ** -0.25
    m = m * (0.4 / m.max())
    shifted = z - F.one_hot(y, K) * m
    expected = F.cross_entropy(7.0 * shifted, y)
    torch.testing.assert_close(LDAMLoss(COUNTS, max_margin=0.4, scale=7.0)(z, y), expected)


def test_bayias_matches_eq_14():
    z, y = _batch(11)
    p_t = torch.tensor([0.3, 0.1, 0.2, 0.25, 0.15], dtype=torch.float64)
    log_ps = torch.log(torch.tensor(COUNTS, dtype=z.dtype) / sum(COUNTS))
    expected = F.cross_entropy(z + log_ps - torch.log(p_t) + math.log(K), y)
    torch.testing.assert_close(BayiasLoss(COUNTS, target_prior=p_t.numpy())(z, y), expected)


def _fit_free_logits(loss, counts):
    """Minimise the population loss over a single free logit vector (no input)."""
    y = torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts, dtype=torch.long))
    z = torch.zeros(len(counts), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([z], lr=1, max_iter=500, tolerance_grad=1e-12,
                            tolerance_change=1e-14, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        value = loss(z.expand(len(y), -1), y)
        value.backward()
        return value

    opt.step(closure)
    return torch.log_softmax(z.detach(), 0)


@pytest.mark.parametrize(
    "loss",
    [
        CrossEntropy([30, 10, 5]),
        LogitAdjustedLoss([30, 10, 5], tau=0.5),
        LogitAdjustedLoss([30, 10, 5], tau=1.7),
        LogitAdjustedLoss([30, 10, 5], tau=1.5, weighted=True),
        BalancedSoftmaxLoss([30, 10, 5]),
        BayiasLoss([30, 10, 5], target_prior=[0.2, 0.5, 0.3]),
        ClassBalancedLoss([30, 10, 5], beta=0.9),
        ClassBalancedLoss([30, 10, 5], base="logit_adjusted", beta=0.9, tau=0.5),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_entangled_prior_is_the_population_minimiser(loss):
    # With no input, the minimiser of the loss over the training labels is the
    # entangled prior: softmax(z*) = normalised exp(entangled_log_prior()).
    loss = loss.double()
    log_p = _fit_free_logits(loss, [30, 10, 5])
    expected = torch.log_softmax(loss.entangled_log_prior().double(), 0)
    torch.testing.assert_close(log_p, expected, rtol=1e-4, atol=1e-5)


def test_declared_entangled_priors():
    log_ps = torch.log(torch.tensor(COUNTS) / sum(COUNTS))
    torch.testing.assert_close(CrossEntropy(COUNTS).entangled_log_prior(), log_ps)
    torch.testing.assert_close(FocalLoss(COUNTS).entangled_log_prior(), log_ps)
    torch.testing.assert_close(LDAMLoss(COUNTS).entangled_log_prior(), log_ps)
    torch.testing.assert_close(
        LogitAdjustedLoss(COUNTS, tau=0.3).entangled_log_prior(), 0.7 * log_ps
    )
    assert torch.all(BalancedSoftmaxLoss(COUNTS).entangled_log_prior() == 0)
    assert torch.all(LADELoss(COUNTS).entangled_log_prior() == 0)
    p_t = torch.tensor([0.1, 0.2, 0.3, 0.2, 0.2])
    torch.testing.assert_close(
        BayiasLoss(COUNTS, target_prior=p_t.numpy()).entangled_log_prior(), torch.log(p_t)
    )


@pytest.mark.parametrize("loss_cls, params", ALL_LOSSES)
@pytest.mark.parametrize("soft", [False, True])
def test_empty_classes_give_finite_loss_and_gradients(loss_cls, params, soft):
    counts = [50.0, 0.0, 10.0, 0.0, 3.0]
    if loss_cls is BayiasLoss:
        params = {}
    loss = loss_cls(counts, **params)
    z, y = _batch(12, n=8, labels=[0, 2, 4, 0, 2, 0, 0, 4])
    target = F.one_hot(y, K).double() * 0.8 + 0.04 if soft else y
    value, grad = _value_and_grad(loss, z, target)
    assert torch.isfinite(value)
    assert torch.all(torch.isfinite(grad))
    assert torch.all(torch.isfinite(loss.entangled_log_prior()))


def test_float32_extreme_logits_stay_finite():
    z = torch.tensor([[1e4, -1e4, 0, 0, 0], [-3e4, 2e4, 0, 0, 0]], dtype=torch.float32)
    y = torch.tensor([1, 0])
    for loss_cls, params in ALL_LOSSES:
        value = loss_cls(COUNTS, **params).float()(z, y)
        assert torch.isfinite(value), loss_cls


def test_buffers_are_in_state_dict_and_move_with_to():
    loss = LogitAdjustedLoss(COUNTS, tau=1.0)
    state = loss.state_dict()
    assert {"class_counts", "class_weight", "log_prior"} <= set(state)
    other = LogitAdjustedLoss(np.ones(K), tau=1.0)
    other.load_state_dict(state)
    z, y = _batch(13, dtype=torch.float32)
    torch.testing.assert_close(other(z, y), loss(z, y))
    assert loss.double().class_counts.dtype == torch.float64


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LogitAdjustedLoss(COUNTS, tau=-0.1), "tau must be a finite number >= 0"),
        (lambda: LogitAdjustedLoss(COUNTS, tau=float("nan")), "tau must be a finite"),
        (lambda: LogitAdjustedLoss(COUNTS, tau1=-1.0), "tau1 must be a finite number >= 0"),
        (lambda: FocalLoss(COUNTS, gamma=-1), "gamma must be a finite number >= 0"),
        (lambda: ClassBalancedLoss(COUNTS, beta=1.0), r"beta must be a finite number in \[0, 1\)"),
        (lambda: ClassBalancedLoss(COUNTS, beta=-0.1), r"beta must be a finite number in \[0, 1\)"),
        (lambda: ClassBalancedLoss(COUNTS, base="nope"), "Unknown base loss 'nope'"),
        (lambda: class_balanced_weights(COUNTS, 1.5), "beta must be"),
        (lambda: LADELoss(COUNTS, alpha=-1), r"alpha must be a finite number in \[0, "),
        (lambda: LADELoss(COUNTS, lam=-1), r"lam must be a finite number in \[0, "),
        (lambda: LADELoss(COUNTS, form="code"), "form must be 'paper' .* or 'reference'"),
        (lambda: LogitAdjustedLoss(COUNTS, tau=1e30), r"tau=1e\+30 times the largest"),
        (lambda: LDAMLoss(COUNTS, scale=0), r"scale must be a finite number in \(0, "),
        (lambda: LDAMLoss(COUNTS, max_margin=-1), r"max_margin must be a finite number in \[0, "),
        (lambda: BayiasLoss(COUNTS, target_prior=[1, 0, 1, 1, 1]), "strictly positive"),
        (lambda: BayiasLoss(COUNTS, target_prior=[1, 1]), "expected \\(5,\\)"),
        (lambda: BayiasLoss(COUNTS, target_prior="auto"), "target_prior must be 'uniform'"),
        (lambda: CrossEntropy([1, -1]), "non-negative"),
        (lambda: CrossEntropy([0, 0]), "sums to zero"),
        (lambda: CrossEntropy([[1, 2]]), "1-D"),
    ],
)
def test_bad_hyperparameters_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_targets_raise():
    loss = CrossEntropy(COUNTS)
    with pytest.raises(ValueError, match="logits of shape"):
        loss(torch.zeros(3, 4), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="targets must be class indices"):
        loss(torch.zeros(3, K), torch.zeros(3, 2))


# ------------------------------------------------------------- sample weights (#13)
@pytest.mark.parametrize("loss_cls, params", ALL_LOSSES)
@pytest.mark.parametrize("soft", [False, True])
def test_integer_sample_weights_equal_repeated_samples_for_every_loss(loss_cls, params, soft):
    z, y = _batch(21, n=7)
    counts = torch.tensor([2, 0, 1, 3, 1, 2, 1])
    target = F.one_hot(y, K).double() * 0.6 + 0.4 / K if soft else y
    loss = loss_cls(COUNTS, **params).double()
    rep = torch.repeat_interleave(torch.arange(7), counts)
    w = counts.double() / counts.double().mean()
    v_w, g_w = _value_and_grad(lambda zz, tt: loss(zz, tt, sample_weight=w), z, target)
    z_rep = z.clone().requires_grad_(True)
    v_rep = loss(z_rep[rep], target[rep])
    (g_rep,) = torch.autograd.grad(v_rep, z_rep)
    torch.testing.assert_close(v_w, v_rep.detach())
    torch.testing.assert_close(g_w, g_rep)
    v_ones, _ = _value_and_grad(lambda zz, tt: loss(zz, tt, sample_weight=torch.ones(7)), z,
                                target)
    assert torch.equal(v_ones, _value_and_grad(loss, z, target)[0])


def test_bad_sample_weights_in_a_loss_are_named():
    z, y = _batch(1, n=4)
    loss = CrossEntropy(COUNTS)
    for w, match in ([torch.ones(3), r"shape \(4,\)"], [-torch.ones(4), "non-negative"],
                     [torch.tensor([1.0, float("nan"), 1.0, 1.0]), "finite"]):
        with pytest.raises(ValueError, match=f"sample_weight.*{match}|{match}"):
            loss(z, y, sample_weight=w)


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_lade_paper_gradient_is_exact(soft, weighted):
    """The paper form's regulariser has a hand-written backward: torch.autograd.gradcheck
    pins it (float64, a class absent from the batch, zero and non-zero weights)."""

    gen = torch.Generator().manual_seed(0)
    z = torch.randn(7, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    target = torch.tensor([0, 1, 1, 2, 0, 0, 2])  # class 3 absent
    if soft:
        target = torch.softmax(torch.randn(7, 4, dtype=torch.float64, generator=gen), 1)
    w = torch.rand(7, dtype=torch.float64, generator=gen) if weighted else None
    if w is not None:
        w[1] = 0.0
    loss = LADELoss(torch.tensor([60.0, 20.0, 5.0, 1.0]), alpha=1.0, lam=0.5)
    assert torch.autograd.gradcheck(lambda x: loss(x, target, sample_weight=w), (z,))


@pytest.mark.parametrize("bad", ["nan", "inf", "empty", "numpy", "int"])
def test_losses_name_bad_logits_instead_of_returning_nan(bad):
    """NaN/inf logits, an empty batch, NumPy or integer logits: a named error from every
    sklt loss, never a NaN loss (torch's own losses return NaN for the first three)."""
    counts = torch.tensor([30.0, 10.0, 2.0])
    logits = torch.zeros(4, 3)
    target = torch.tensor([0, 1, 2, 0])
    if bad == "nan":
        logits[1, 2] = float("nan")
    elif bad == "inf":
        logits[0, 0] = float("inf")
    elif bad == "empty":
        logits, target = logits[:0], target[:0]
    elif bad == "numpy":
        logits = logits.numpy()
    else:
        logits = logits.long()
    for cls in (CrossEntropy, LogitAdjustedLoss, BalancedSoftmaxLoss, BayiasLoss, LADELoss,
                LDAMLoss, FocalLoss, ClassBalancedLoss):
        with pytest.raises((ValueError, TypeError), match="logits|loss is|empty"):
            cls(counts)(logits, target)
