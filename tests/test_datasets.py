import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from sklt.datasets import (
    gaussians_bayes_balanced_error,
    load_digits_lt,
    load_mnist1d_lt,
    make_imbalanced_circles,
    make_imbalanced_gaussians,
    make_imbalanced_moons,
    make_long_tailed,
    make_shifted_test,
)
from sklt.priors import long_tail_counts


def _pool(n_classes=5, n_per_class=200, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = rng.standard_normal((len(y), n_features)) + y[:, None]
    return X, y


# --- make_long_tailed ------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    n_classes=st.integers(2, 8),
    ratio=st.floats(1.0, 150.0),
    profile=st.sampled_from(["exponential", "step"]),
    n_max=st.integers(1, 150),
)
def test_long_tailed_counts_follow_the_profile_exactly(n_classes, ratio, profile, n_max):
    X, y = _pool(n_classes, n_per_class=150)
    _, y_lt = make_long_tailed(
        X, y, imbalance_ratio=ratio, profile=profile, n_max=n_max, random_state=0
    )
    expected = long_tail_counts(n_max, n_classes, ratio, profile=profile)
    np.testing.assert_array_equal(np.bincount(y_lt, minlength=n_classes), expected)


def test_long_tailed_class_order_puts_the_head_first():
    X, y = _pool(4)
    order = [2, 0, 3, 1]
    _, y_lt = make_long_tailed(X, y, imbalance_ratio=8, class_order=order, n_max=80,
                               random_state=0)
    counts = np.bincount(y_lt)
    np.testing.assert_array_equal(counts[order], long_tail_counts(80, 4, 8))


def test_long_tailed_keeps_original_rows():
    X, y = _pool(3)
    X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=5, random_state=1)
    rows = {tuple(r) for r in X}
    assert all(tuple(r) in rows for r in X_lt)
    # each kept row keeps its own label
    lookup = {tuple(r): label for r, label in zip(X, y, strict=True)}
    assert all(lookup[tuple(r)] == label for r, label in zip(X_lt, y_lt, strict=True))
    assert len({tuple(r) for r in X_lt}) == len(X_lt)  # without replacement


def test_long_tailed_default_n_max_is_smallest_class():
    X, y = _pool(3)
    X, y = X[10:], y[10:]  # class 0 now has 190
    _, y_lt = make_long_tailed(X, y, imbalance_ratio=4, random_state=0)
    assert np.bincount(y_lt)[0] == 190


def test_long_tailed_is_deterministic_and_seed_dependent():
    X, y = _pool(4)
    a = make_long_tailed(X, y, imbalance_ratio=10, random_state=3)
    b = make_long_tailed(X, y, imbalance_ratio=10, random_state=3)
    c = make_long_tailed(X, y, imbalance_ratio=10, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(np.sort(a[0], axis=0), np.sort(c[0], axis=0))


def test_long_tailed_does_not_modify_inputs():
    X, y = _pool(3)
    X0, y0 = X.copy(), y.copy()
    make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("ratio", [0.5, 0, -3, np.nan, np.inf, "10"])
def test_long_tailed_rejects_bad_ratio(ratio):
    X, y = _pool(3)
    with pytest.raises(ValueError, match="imbalance_ratio"):
        make_long_tailed(X, y, imbalance_ratio=ratio)


def test_long_tailed_rejects_too_many_requested_samples():
    X, y = _pool(3, n_per_class=50)
    with pytest.raises(ValueError, match="class 0 needs 80 but has 50"):
        make_long_tailed(X, y, imbalance_ratio=2, n_max=80)


def test_long_tailed_rejects_bad_profile_order_and_n_max():
    X, y = _pool(3)
    with pytest.raises(ValueError, match="profile"):
        make_long_tailed(X, y, imbalance_ratio=2, profile="linear")
    with pytest.raises(ValueError, match="class_order"):
        make_long_tailed(X, y, imbalance_ratio=2, class_order=[0, 1, 1])
    with pytest.raises(ValueError, match="n_max"):
        make_long_tailed(X, y, imbalance_ratio=2, n_max=0)
    with pytest.raises(ValueError, match="two classes"):
        make_long_tailed(X[y == 0], y[y == 0], imbalance_ratio=2)


# --- make_shifted_test -----------------------------------------------------------------


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("ratio", [50, 10, 2])
def test_shifted_test_follows_lade_definition(direction, ratio):
    K, n_max = 6, 50
    X, y = _pool(K, n_per_class=60)
    train_counts = np.array([30, 500, 5, 200, 80, 12])  # head: 1, 3, 4, 0, 5, 2
    _, y_s = make_shifted_test(X, y, train_counts=train_counts, imbalance_ratio=ratio,
                               direction=direction, n_max=n_max, random_state=0)
    counts = np.bincount(y_s, minlength=K)
    by_frequency = np.argsort(-train_counts)
    # 002 §4.3: class at frequency index idx gets int(n_max * rho ** (-idx / (K - 1)))
    idx = np.arange(K) if direction == "forward" else np.arange(K)[::-1]
    expected = np.floor(n_max * float(ratio) ** (-idx / (K - 1)) + 1e-9).astype(int)
    np.testing.assert_array_equal(counts[by_frequency], expected)
    if direction == "forward":
        assert counts[1] == n_max  # the training head is the test head
    else:
        assert counts[2] == n_max  # the rarest training class gets n_max


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_shifted_test_ratio_one_is_uniform(direction):
    X, y = _pool(4, n_per_class=40)
    _, y_s = make_shifted_test(X, y, train_counts=[9, 3, 5, 1], imbalance_ratio=1,
                               direction=direction, random_state=0)
    np.testing.assert_array_equal(np.bincount(y_s), [40, 40, 40, 40])


def test_shifted_test_accepts_dict_and_string_labels():
    X, y = _pool(3, n_per_class=20)
    labels = np.array(["cat", "dog", "eel"])[y]
    _, y_s = make_shifted_test(X, labels, train_counts={"cat": 1, "dog": 100, "eel": 10},
                               imbalance_ratio=4, random_state=0)
    values, counts = np.unique(y_s, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist(), strict=True)) == {
        "dog": 20, "eel": 10, "cat": 5
    }


def test_shifted_test_bad_input():
    X, y = _pool(3, n_per_class=20)
    with pytest.raises(ValueError, match="imbalance_ratio"):
        make_shifted_test(X, y, train_counts=[3, 2, 1], imbalance_ratio=0.9)
    with pytest.raises(ValueError, match="direction"):
        make_shifted_test(X, y, train_counts=[3, 2, 1], imbalance_ratio=2, direction="up")
    with pytest.raises(ValueError, match="train_counts"):
        make_shifted_test(X, y, train_counts=[3, 2], imbalance_ratio=2)
    with pytest.raises(ValueError, match="missing"):
        make_shifted_test(X, y, train_counts={0: 3, 1: 2}, imbalance_ratio=2)
    with pytest.raises(ValueError, match="needs 30 but has 20"):
        make_shifted_test(X, y, train_counts=[3, 2, 1], imbalance_ratio=2, n_max=30)


# --- toy problems ----------------------------------------------------------------------


def test_gaussians_bayes_error_is_phi_minus_sqrt2():
    assert gaussians_bayes_balanced_error() == pytest.approx(norm.cdf(-np.sqrt(2)))
    assert gaussians_bayes_balanced_error() == pytest.approx(0.0786, abs=1e-4)


def test_gaussians_follow_the_generative_model():
    X, y = make_imbalanced_gaussians(40_000, random_state=0)
    assert X.shape == (40_000, 2) and set(np.unique(y)) == {0, 1}
    assert y.mean() == pytest.approx(0.05, abs=0.005)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [1, 1], atol=0.08)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-1, -1], atol=0.03)
    np.testing.assert_allclose(np.cov(X[y == 0].T), np.eye(2), atol=0.05)
    # the Bayes rule x1 + x2 > 0 attains the stated balanced error
    pred = (X.sum(axis=1) > 0).astype(int)
    err = 0.5 * ((pred[y == 0] != 0).mean() + (pred[y == 1] != 1).mean())
    assert err == pytest.approx(gaussians_bayes_balanced_error(), abs=0.01)


def test_gaussians_determinism_and_bad_input():
    a = make_imbalanced_gaussians(100, random_state=5)
    b = make_imbalanced_gaussians(100, random_state=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="minority_fraction"):
            make_imbalanced_gaussians(100, minority_fraction=bad)
    with pytest.raises(ValueError, match="n_samples"):
        make_imbalanced_gaussians(0)


@pytest.mark.parametrize("maker", [make_imbalanced_moons, make_imbalanced_circles])
def test_toy_problems_have_step_imbalance(maker):
    X, y = maker(1000, random_state=0)
    assert X.shape == (1000, 2)
    np.testing.assert_array_equal(np.bincount(y), [900, 100])
    X2, y2 = maker(1000, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    _, y3 = maker(330, imbalance_ratio=10, random_state=0)
    np.testing.assert_array_equal(np.bincount(y3), [300, 30])
    with pytest.raises(ValueError, match="imbalance_ratio"):
        maker(100, imbalance_ratio=0.5)
    with pytest.raises(ValueError, match="minority class would be empty"):
        maker(5, imbalance_ratio=20)


# --- loaders ---------------------------------------------------------------------------


def _check_bunch(data, n_test_per_class):
    K = len(data.classes)
    np.testing.assert_array_equal(np.bincount(data.y_test), np.full(K, n_test_per_class))
    np.testing.assert_array_equal(np.bincount(data.y_train, minlength=K), data.train_counts)
    expected = long_tail_counts(int(data.train_counts.max()), K, data.imbalance_ratio)
    np.testing.assert_array_equal(data.train_counts[data.class_order], expected)
    # train and test are disjoint
    train_rows = {r.tobytes() for r in data.X_train}
    assert not any(r.tobytes() in train_rows for r in data.X_test)
    assert set(data.head_classes) == set(data.class_order[: K // 3])
    assert set(data.tail_classes) == set(data.class_order[-(K // 3):])


def test_load_digits_lt():
    data = load_digits_lt(imbalance_ratio=100, random_state=0)
    _check_bunch(data, 50)
    assert data.X_train.shape[1] == 64
    assert data.train_counts[0] == 124 and data.train_counts[-1] == 1
    again = load_digits_lt(imbalance_ratio=100, random_state=0)
    np.testing.assert_array_equal(data.X_train, again.X_train)
    np.testing.assert_array_equal(data.y_test, again.y_test)


def test_load_digits_lt_bad_input():
    with pytest.raises(ValueError, match="imbalance_ratio"):
        load_digits_lt(imbalance_ratio=0.5)
    with pytest.raises(ValueError, match="leaves no training samples"):
        load_digits_lt(n_test_per_class=500)
    with pytest.raises(ValueError, match="needs 170 but has"):
        load_digits_lt(n_max=170)


def test_load_mnist1d_lt_is_offline_deterministic_and_restores_global_state():
    pytest.importorskip("mnist1d")
    np.random.seed(123)  # noqa: NPY002
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    data = load_mnist1d_lt(imbalance_ratio=10, n_samples=1000, n_test_per_class=20,
                           class_order=list(range(9, -1, -1)), random_state=0)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    _check_bunch(data, 20)
    assert data.X_train.shape[1] == 40
    assert data.class_order[0] == 9 and data.train_counts[9] == 80
    again = load_mnist1d_lt(imbalance_ratio=10, n_samples=1000, n_test_per_class=20,
                            class_order=list(range(9, -1, -1)), random_state=0)
    np.testing.assert_array_equal(data.X_train, again.X_train)
    with pytest.raises(ValueError, match="needs 500 but has"):
        load_mnist1d_lt(n_samples=1000, n_test_per_class=20, n_max=500)


def test_load_mnist1d_lt_without_mnist1d_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    with pytest.raises(ImportError, match=r'pip install "sklt\[bench\]"'):
        load_mnist1d_lt(n_samples=1000)
