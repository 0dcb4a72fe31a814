"""Tests of sklt.nn.augment: mixup, Remix, UniMix (METHODS.md §3, 003 §3.1)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.base import clone  # noqa: E402

from sklt.nn.augment import Mixup, Remix, UniMix  # noqa: E402

ALL = [Mixup, Remix, UniMix]


def _batch(n=64, shape=(3,), counts=(100, 30, 10, 3), seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(len(counts), size=n, p=np.asarray(counts) / np.sum(counts))
    X = torch.as_tensor(rng.normal(size=(n, *shape)), dtype=torch.float32)
    return X, torch.as_tensor(y), torch.as_tensor(counts, dtype=torch.float32)


# --------------------------------------------------------------- the identities
def test_unimix_alpha1_tau0_factor_has_mixup_distribution():
    """003: alpha = 1, tau = 0 gives mixup's distribution of xi (two-sample KS test)."""
    y = np.repeat([0, 1, 2], [500, 300, 200])
    counts = np.array([1000.0, 50.0, 3.0])
    rng = np.random.default_rng(0)
    _, xi_uni, _ = UniMix(alpha=1.0, tau=0.0).sample(y, counts, rng=rng)
    _, xi_mix, _ = Mixup(alpha=1.0).sample(y, counts, rng=rng)
    assert stats.ks_2samp(xi_uni, xi_mix).pvalue > 0.01
    # ... and both are uniform on [0, 1)
    assert stats.kstest(xi_uni, "uniform").pvalue > 0.01


def test_unimix_alpha_below_one_differs_from_mixup():
    """The KS test above has power: with alpha = 0.5 the two distributions differ."""
    y = np.repeat([0, 1], [2500, 2500])
    counts = np.array([1000.0, 10.0])
    rng = np.random.default_rng(0)
    _, xi_uni, _ = UniMix(alpha=0.5, tau=0.0).sample(y, counts, rng=rng)
    _, xi_mix, _ = Mixup(alpha=0.5).sample(y, counts, rng=rng)
    assert stats.ks_2samp(xi_uni, xi_mix).pvalue < 1e-6


@pytest.mark.parametrize("n_i, n_j", [(1000, 10), (10, 1000), (300, 100)])
def test_unimix_factor_mode_near_count_ratio(n_i, n_j):
    """Eq. 6: xi = (b + n_j / (n_i + n_j)) mod 1 has its mode at n_j / (n_i + n_j)."""
    m = n_j / (n_i + n_j)
    y = np.zeros(20000, dtype=int)
    aug = UniMix(alpha=0.8, tau=0.0)
    xi = np.mod(np.random.default_rng(1).beta(0.8, 0.8, size=y.size) + m, 1.0)
    # the sampled factor of a pair (class 0 with class 1) has this distribution
    counts = np.array([n_i, n_j], float)
    y_pair = np.repeat([0, 1], 5000)
    partner, xi_s, lam = aug.sample(y_pair, counts, rng=np.random.default_rng(2))
    pair = (y_pair == 0) & (y_pair[partner] == 1)
    assert pair.sum() > 100
    assert stats.ks_2samp(xi_s[pair], xi).pvalue > 1e-3
    np.testing.assert_array_equal(xi_s, lam)
    hist, edges = np.histogram(xi, bins=40, range=(0, 1))
    mode_bin = np.argmax(hist)
    assert edges[mode_bin] - 0.025 <= m <= edges[mode_bin + 1] + 0.025
    # the rarer sample dominates: its share of the mixed input is above 1/2 on average
    share_of_rarer = np.where(n_i < n_j, xi, 1 - xi)
    if n_i != n_j:
        assert np.median(share_of_rarer) > 0.5


def test_unimix_factor_within_class_pairs_is_shifted_by_half():
    """Same-class pairs: m = 1/2, xi = (b + 1/2) mod 1."""
    y = np.zeros(5000, dtype=int)
    rng = np.random.default_rng(3)
    _, xi, _ = UniMix(alpha=0.3, tau=0.0).sample(y, np.array([10.0, 1.0]), rng=rng)
    b = np.random.default_rng(4).beta(0.3, 0.3, size=5000)
    assert stats.ks_2samp(xi, np.mod(b + 0.5, 1.0)).pvalue > 1e-3
    assert np.all((xi >= 0) & (xi < 1))


@pytest.mark.parametrize("tau", [-1.0, -0.5, 0.0, 1.0])
def test_unimix_sampler_frequencies_proportional_to_count_power(tau):
    """Eq. 9: partner j drawn with probability proportional to n_{y_j}^tau (within the batch)."""
    counts = np.array([400.0, 40.0, 4.0])
    y = np.array([0] * 6 + [1] * 3 + [2] * 1)
    aug = UniMix(alpha=0.8, tau=tau)
    p = aug.partner_probabilities(y, counts)
    expected = counts[y] ** tau / np.sum(counts[y] ** tau)
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    rng = np.random.default_rng(5)
    draws = np.concatenate([aug.sample(y, counts, rng=rng)[0] for _ in range(4000)])
    freq = np.bincount(draws, minlength=y.size) / draws.size
    # per-sample frequency within 4 binomial standard errors
    se = np.sqrt(expected * (1 - expected) / draws.size)
    assert np.all(np.abs(freq - expected) < 4 * se + 1e-12)
    # class of the partner: proportional to b_c n_c^tau
    class_freq = np.bincount(y[draws], minlength=3) / draws.size
    b = np.bincount(y, minlength=3)
    np.testing.assert_allclose(class_freq, b * counts**tau / np.sum(b * counts**tau), atol=0.01)


def test_unimix_tau_minus_one_makes_partner_classes_uniform():
    counts = np.array([1000.0, 10.0])
    y = np.array([0] * 100 + [1])  # batch in the training proportions
    p = UniMix(tau=-1.0).partner_probabilities(y, counts)
    assert p[y == 0].sum() == pytest.approx(0.5)


def test_mixup_partner_is_permutation_and_remix_labels():
    y = np.array([0, 0, 0, 0, 1, 1])
    counts = np.array([100.0, 5.0])
    partner, xi, lam = Mixup(alpha=0.5).sample(y, counts, rng=np.random.default_rng(0))
    assert sorted(partner) == list(range(6))
    np.testing.assert_array_equal(xi, lam)
    rng = np.random.default_rng(1)
    partner, xi, lam = Remix(alpha=1.0, kappa=3.0, tau=0.5).sample(
        np.repeat([0, 1], 500), counts, rng=rng
    )
    yy = np.repeat([0, 1], 500)
    head_tail = (yy == 0) & (yy[partner] == 1)
    tail_head = (yy == 1) & (yy[partner] == 0)
    np.testing.assert_array_equal(lam[head_tail & (xi < 0.5)], 0.0)
    np.testing.assert_array_equal(lam[tail_head & (1 - xi < 0.5)], 1.0)
    same = yy == yy[partner]
    np.testing.assert_array_equal(lam[same], xi[same])
    np.testing.assert_array_equal(lam[head_tail & (xi >= 0.5)], xi[head_tail & (xi >= 0.5)])


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(1, 10_000), min_size=2, max_size=6),
    n=st.integers(1, 40),
    alpha=st.floats(0.05, 5.0),
    tau=st.floats(-2.0, 2.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_unimix_factor_and_targets_are_valid_for_any_counts(counts, n, alpha, tau, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(counts), size=n)
    X = torch.as_tensor(rng.normal(size=(n, 3)), dtype=torch.float32)
    aug = UniMix(alpha=alpha, tau=tau, random_state=seed)
    X_mixed, Y = aug.mix(X, torch.as_tensor(y), class_counts=counts)
    partner, xi, _ = UniMix(alpha=alpha, tau=tau, random_state=seed).sample(y, counts)
    assert np.all((xi >= 0) & (xi < 1)) and np.all((partner >= 0) & (partner < n))
    assert torch.all(Y >= 0) and torch.allclose(Y.sum(dim=1), torch.ones(n))
    lo = torch.minimum(X, X[torch.as_tensor(partner)]) - 1e-5
    hi = torch.maximum(X, X[torch.as_tensor(partner)]) + 1e-5
    assert torch.all((X_mixed >= lo) & (X_mixed <= hi))


# --------------------------------------------------------------------- mixing
@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("shape", [(5,), (2, 7), (3, 4, 4)])
def test_mix_is_convex_combination_with_matching_soft_targets(cls, shape):
    X, y, counts = _batch(n=32, shape=shape)
    aug = cls(random_state=0)
    X_mixed, Y = aug.mix(X, y, class_counts=counts, epoch=0)
    partner, xi, lam = cls(random_state=0).sample(y, counts)
    xi_t = torch.as_tensor(xi, dtype=X.dtype).reshape((-1,) + (1,) * len(shape))
    torch.testing.assert_close(X_mixed, xi_t * X + (1 - xi_t) * X[partner])
    assert X_mixed.dtype == X.dtype and Y.dtype == torch.float32
    assert Y.shape == (32, 4)
    torch.testing.assert_close(Y.sum(dim=1), torch.ones(32))
    expected = np.zeros((32, 4))
    expected[np.arange(32), y.numpy()] += lam
    expected[np.arange(32), y.numpy()[partner]] += 1 - lam
    np.testing.assert_allclose(Y.numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("cls", ALL)
def test_weighted_mix_gives_the_weighted_mixed_loss_exactly(cls):
    # With sample weights, mix returns the mixed samples' weights w~ and reweighted soft
    # targets such that, for a loss linear in its target, w~ * l(x~, Y') equals
    # lam * w_i * l(x~, y_i) + (1 - lam) * w_j * l(x~, y_j) (003 eq. 11, weighted).
    from sklt.nn.losses import CrossEntropy

    X, y, counts = _batch(n=16)
    w = torch.as_tensor(np.random.default_rng(3).uniform(0, 2, size=16), dtype=torch.float32)
    w[[2, 5]] = 0.0
    X_mixed, Y, w_mixed = cls(random_state=0).mix(X, y, class_counts=counts, sample_weight=w)
    partner, _, lam = cls(random_state=0).sample(y, counts)
    lam = torch.as_tensor(lam, dtype=torch.float32)
    torch.testing.assert_close(w_mixed, lam * w + (1 - lam) * w[partner])
    torch.testing.assert_close(Y.sum(dim=1), torch.ones(16))
    z = torch.randn(16, 4)
    ce = CrossEntropy(counts)
    by_labels = (lam * w * ce._ce(z, y) + (1 - lam) * w[partner] * ce._ce(z, y[partner])).mean()
    torch.testing.assert_close(ce(z, Y, sample_weight=w_mixed), by_labels)
    # unit weights: the unweighted mix
    _, Y1, w1 = cls(random_state=0).mix(X, y, class_counts=counts, sample_weight=torch.ones(16))
    _, Y0 = cls(random_state=0).mix(X, y, class_counts=counts)
    torch.testing.assert_close(Y1, Y0)
    torch.testing.assert_close(w1, torch.ones(16))


@pytest.mark.parametrize("cls", ALL)
def test_mix_does_not_modify_inputs_and_keeps_float64(cls):
    X, y, counts = _batch(n=16)
    X = X.double()
    X0, y0 = X.clone(), y.clone()
    X_mixed, Y = cls(random_state=0).mix(X, y, class_counts=counts)
    torch.testing.assert_close(X, X0)
    torch.testing.assert_close(y, y0)
    assert X_mixed.dtype == torch.float64 and Y.dtype == torch.float64


@pytest.mark.parametrize("cls", ALL)
def test_mixing_stops_at_stop_epoch(cls):
    X, y, counts = _batch(n=8)
    aug = cls(stop_epoch=3, random_state=0)
    assert all(aug.mix(X, y, class_counts=counts, epoch=e) is not None for e in range(3))
    assert all(aug.mix(X, y, class_counts=counts, epoch=e) is None for e in range(3, 6))
    assert cls(stop_epoch=0).mix(X, y, class_counts=counts, epoch=0) is None
    assert cls().mix(X, y, class_counts=counts, epoch=10_000) is not None


@pytest.mark.parametrize("cls", ALL)
def test_random_state_reproducible_and_torch_seed_controls_default(cls):
    X, y, counts = _batch(n=16)
    a = cls(random_state=7).mix(X, y, class_counts=counts)[0]
    b = clone(cls(random_state=7)).mix(X, y, class_counts=counts)[0]
    torch.testing.assert_close(a, b)
    torch.manual_seed(3)
    c = cls().mix(X, y, class_counts=counts)[0]
    torch.manual_seed(3)
    d = cls().mix(X, y, class_counts=counts)[0]
    torch.testing.assert_close(c, d)


def test_params_reachable_like_an_estimator():
    aug = UniMix(alpha=0.8, tau=-0.5, stop_epoch=5)
    assert aug.get_params() == {"alpha": 0.8, "tau": -0.5, "stop_epoch": 5, "random_state": None}
    assert aug.set_params(tau=0.0).tau == 0.0
    assert clone(aug).get_params()["tau"] == 0.0
    assert set(Remix().get_params()) == {"alpha", "kappa", "tau", "stop_epoch", "random_state"}


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("alpha", [0, -1.0, float("nan"), float("inf"), "1"])
def test_alpha_must_be_positive(cls, alpha):
    X, y, counts = _batch(n=8)
    with pytest.raises((ValueError, TypeError), match="alpha must be a finite number > 0"):
        cls(alpha=alpha).mix(X, y, class_counts=counts)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("stop_epoch", [-1, 2.5, True])
def test_stop_epoch_must_be_non_negative_int(cls, stop_epoch):
    X, y, counts = _batch(n=8)
    with pytest.raises((ValueError, TypeError), match="stop_epoch must be None or an int >= 0"):
        cls(stop_epoch=stop_epoch).mix(X, y, class_counts=counts)


def test_other_bad_inputs():
    X, y, counts = _batch(n=8)
    with pytest.raises(ValueError, match="tau must be a finite number"):
        UniMix(tau=float("nan")).mix(X, y, class_counts=counts)
    with pytest.raises(ValueError, match=r"tau must be in \[0, 1\]"):
        Remix(tau=1.5).mix(X, y, class_counts=counts)
    with pytest.raises(ValueError, match="kappa must be"):
        Remix(kappa=0).mix(X, y, class_counts=counts)
    with pytest.raises(TypeError, match="floating-point torch tensor"):
        UniMix().mix(X.numpy(), y, class_counts=counts)
    with pytest.raises(ValueError, match="one label per sample"):
        UniMix().mix(X, y[:4], class_counts=counts)
    with pytest.raises(ValueError, match="outside"):
        UniMix().mix(X, y + 10, class_counts=counts)
    with pytest.raises(ValueError, match="class_counts must be"):
        UniMix().mix(X, y, class_counts=[-1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="zero count to a class present"):
        UniMix().mix(X, torch.zeros(8, dtype=torch.long), class_counts=[0.0, 2.0, 3.0, 4.0])


# ------------------------------------------------- with LongTailClassifier
def _lt_data(n=120, shape=(6,), seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], [int(n * 0.7), int(n * 0.2), n - int(n * 0.7) - int(n * 0.2)])
    X = rng.normal(size=(n, *shape)).astype(np.float32)
    X += y.reshape((-1,) + (1,) * len(shape)) * 1.5
    return X, y


def _lt_net(**kw):
    from sklt.nn import CNN1d, LongTailClassifier

    if kw.pop("conv", False):
        kw.setdefault("module", CNN1d)
        kw.setdefault("module__channels", (4,))
    kw.setdefault("max_epochs", 2)
    kw.setdefault("batch_size", 32)
    kw.setdefault("random_state", 0)
    return LongTailClassifier(**kw)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("shape", [(6,), (1, 12)])
@pytest.mark.parametrize("criterion", ["cross_entropy", "bayias"])
def test_training_with_each_augmentation_on_flat_and_sequence_inputs(cls, shape, criterion):
    pytest.importorskip("skorch")
    X, y = _lt_data(shape=shape)
    net = _lt_net(augmentation=cls(stop_epoch=1), criterion=criterion,
                  conv=len(shape) == 2).fit(X, y)
    assert np.all(np.isfinite(net.history[:, "train_loss"]))
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert isinstance(net.augmentation_, cls)


def test_criterion_receives_soft_targets_until_stop_epoch():
    pytest.importorskip("skorch")
    from sklt.nn.losses import CrossEntropy

    seen = []

    class Spy(CrossEntropy):
        def forward(self, logits, target):
            seen.append(target.ndim)
            return super().forward(logits, target)

    X, y = _lt_data()
    _lt_net(criterion=Spy, augmentation=UniMix(stop_epoch=2), max_epochs=4,
            batch_size=60).fit(X, y)
    assert seen == [2, 2, 2, 2, 1, 1, 1, 1]


def test_stop_epoch_zero_trains_exactly_as_without_augmentation():
    pytest.importorskip("skorch")
    X, y = _lt_data()
    plain = _lt_net().fit(X, y)
    off = _lt_net(augmentation=UniMix(stop_epoch=0)).fit(X, y)
    on = _lt_net(augmentation=UniMix()).fit(X, y)
    np.testing.assert_array_equal(plain.predict_proba(X), off.predict_proba(X))
    assert not np.allclose(plain.predict_proba(X), on.predict_proba(X))


def test_unimix_training_is_reproducible_with_the_net_random_state():
    pytest.importorskip("skorch")
    X, y = _lt_data()
    a = _lt_net(augmentation=UniMix()).fit(X, y).predict_proba(X)
    b = _lt_net(augmentation=UniMix()).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_augmentation_tau_in_grid_search():
    pytest.importorskip("skorch")
    from sklearn.model_selection import GridSearchCV

    X, y = _lt_data()
    search = GridSearchCV(
        _lt_net(augmentation=UniMix(), max_epochs=1),
        {"augmentation__tau": [-1.0, 0.0], "augmentation__alpha": [0.8]},
        cv=2, scoring="balanced_accuracy",
    ).fit(X, y)
    assert search.best_params_["augmentation__tau"] in (-1.0, 0.0)
    assert search.best_estimator_.augmentation_.tau == search.best_params_["augmentation__tau"]


def test_bad_augmentation_parameter_raises_at_fit():
    pytest.importorskip("skorch")
    X, y = _lt_data()
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        _lt_net(augmentation=UniMix(alpha=0.0)).fit(X, y)
    with pytest.raises(ValueError, match="stop_epoch must be None or an int >= 0"):
        _lt_net(augmentation=Mixup(), augmentation__stop_epoch=-2).fit(X, y)


@pytest.mark.parametrize("alpha", [0.05, 0.5, 0.999])
def test_beta_draws_below_one_follow_beta(alpha):
    """The log-space sampler used below alpha = 1 draws Beta(alpha, alpha) (two-sample
    Kolmogorov-Smirnov test against NumPy's sampler)."""
    from sklt.nn.augment import _beta

    ours = _beta(np.random.default_rng(0), alpha, 20_000)
    numpy_draws = np.random.default_rng(1).beta(alpha, alpha, 20_000)
    assert stats.ks_2samp(ours, numpy_draws).pvalue > 1e-3


@pytest.mark.parametrize("alpha", [5e-324, 1e-300, 1e-200, 1e-20])
def test_tiny_alpha_draws_are_fair_coin_flips(alpha):
    """Beta(a, a) tends to Bernoulli(1/2) on {0, 1} as a -> 0. NumPy < 2's sampler never
    returns for such an alpha (it hung the suite on the lowest supported versions)."""
    from sklt.nn.augment import _beta

    draws = _beta(np.random.default_rng(0), alpha, 4_000)
    assert np.all((draws == 0) | (draws == 1))
    assert abs(draws.mean() - 0.5) < 0.05
    X, Y = Mixup(alpha=alpha, random_state=0).mix(
        torch.zeros(8, 2), torch.as_tensor([0, 1] * 4), class_counts=[5.0, 3.0])
    assert torch.all(torch.isfinite(Y)) and torch.allclose(Y.sum(1), torch.ones(8))
