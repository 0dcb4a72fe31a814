"""Property-based contract of sklt.label_shift under bad and extreme input (issue #12).

Every call raises a ``ValueError`` / ``TypeError`` naming the parameter at fault,
or returns a finite prior (non-negative, sums to one) / a finite positive
temperature. Errors about ``sample_weight`` name ``sample_weight`` (never a
``target_prior`` that the function does not have), huge finite weights and
priors give the exact answer, and EM gives the answer of the plain NumPy loop.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression

from sklt.label_shift import (
    bbse_prior,
    em_prior,
    estimate_target_prior,
    fit_bias_corrected_temperature,
)

PARAMS = ("scores", "val_scores", "target_scores", "source_prior", "init", "sample_weight",
          "max_iter", "tol", "input", "y_val", "classes", "soft", "return_n_iter", "y ")


def _names_a_parameter(exc):
    return any(name in str(exc) for name in PARAMS)


def _plain_em(proba, source_prior, tol, max_iter):
    """The textbook loop (Saerens et al. 2002), as abstention and QuaPy write it."""
    prior = np.asarray(source_prior, float) / np.sum(source_prior)
    for n_iter in range(1, max_iter + 1):
        post = proba * (prior / source_prior)
        post /= post.sum(axis=1, keepdims=True)
        new = post.mean(axis=0)
        delta = np.max(np.abs(new - prior))
        prior = new
        if delta < tol:
            return prior, n_iter
    return prior, max_iter


def _check_prior(prior, k):
    assert prior.shape == (k,)
    assert np.all(np.isfinite(prior)) and np.all(prior >= 0)
    np.testing.assert_allclose(prior.sum(), 1, rtol=1e-12)


weights = st.one_of(
    st.none(), st.floats(-1, 10),
    st.sampled_from(["huge", "nan", "inf", "negative", "zeros", "str", "2d"]),
)


@settings(max_examples=120, deadline=None)
@given(proba=arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(2, 5)),
                    elements=st.floats(0, 1) | st.sampled_from([np.nan, np.inf, -0.5, 0.0])),
       source_scale=st.sampled_from([1.0, 0.5e308, 1e-300]), weight_kind=weights,
       input=st.sampled_from(["proba", "log_proba", "logits"]))
def test_em_prior_raises_a_named_error_or_returns_a_prior(proba, source_scale, weight_kind, input):
    n, k = proba.shape
    source = np.linspace(1, 2, k) * source_scale
    sample_weight = {
        None: None, "huge": np.full(n, 1e308), "nan": np.r_[np.ones(n - 1), np.nan],
        "inf": np.r_[np.ones(n - 1), np.inf], "negative": np.r_[np.ones(n - 1), -1.0],
        "zeros": np.zeros(n), "str": ["a"] * n, "2d": np.ones((n, 1)),
    }.get(weight_kind, np.full(n, weight_kind) if isinstance(weight_kind, float) else None)
    with np.errstate(divide="ignore"):
        scores = proba if input == "proba" else np.log(np.abs(proba))
    try:
        prior = em_prior(scores, source, input=input, sample_weight=sample_weight, tol=1e-8)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc), f"error does not name a parameter: {exc}"
        assert "target_prior" not in str(exc), f"names a parameter em_prior has not: {exc}"
        if "sample_weight" in str(exc):
            assert weight_kind is not None
        return
    _check_prior(prior, k)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 6), n=st.integers(5, 300),
       sharp=st.floats(0.1, 5))
def test_em_prior_equals_the_plain_numpy_loop(seed, k, n, sharp):
    rng = np.random.default_rng(seed)
    logits = sharp * rng.normal(size=(n, k))
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    source = rng.dirichlet(np.ones(k)) + 0.05
    source /= source.sum()
    got, n_iter = em_prior(proba, source, tol=1e-9, max_iter=20_000, return_n_iter=True)
    expected, n_expected = _plain_em(proba, source, 1e-9, 20_000)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert abs(n_iter - n_expected) <= 1


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.sampled_from([1.0, 1e300, 1e-300]))
def test_em_prior_is_exact_for_weights_and_priors_of_any_scale(seed, scale):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(3), size=40)
    w = rng.integers(1, 4, size=40).astype(float)
    source = np.array([0.5, 0.3, 0.2])
    reference = em_prior(proba, source, sample_weight=w, tol=1e-12, max_iter=10_000)
    np.testing.assert_allclose(
        em_prior(proba, source * scale, sample_weight=w * scale, tol=1e-12, max_iter=10_000),
        reference, rtol=1e-9)


@pytest.mark.parametrize("sample_weight, error", [
    ([1.0, 1.0, -5.0], ValueError), ([1.0, np.nan, 1.0], ValueError),
    ([1.0, np.inf, 1.0], ValueError), ([0.0, 0.0, 0.0], ValueError),
    (["a", "b", "c"], TypeError), ([1.0, 1.0], ValueError),
])
def test_em_prior_bad_sample_weight_names_sample_weight(sample_weight, error):
    with pytest.raises(error, match="sample_weight") as info:
        em_prior(np.full((3, 2), 0.5), [0.5, 0.5], sample_weight=sample_weight)
    assert "target_prior" not in str(info.value)


@pytest.mark.parametrize("kwargs, param", [
    (dict(tol=True), "tol"), (dict(max_iter=True), "max_iter"), (dict(max_iter=2.0), "max_iter"),
    (dict(return_n_iter="yes"), "return_n_iter"), (dict(input=None), "input"),
])
def test_em_prior_bad_parameters_are_named(kwargs, param):
    with pytest.raises((ValueError, TypeError), match=param):
        em_prior(np.full((3, 2), 0.5), [0.5, 0.5], **kwargs)


def test_em_prior_accepts_huge_finite_source_priors():
    proba = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_allclose(em_prior(proba, [1e308, 1e308]), em_prior(proba, [0.5, 0.5]))


def test_em_prior_rows_without_mass_are_named():
    with pytest.raises(ValueError, match="scores has 1 row"):
        em_prior(np.array([[0.0, 0.0], [0.4, 0.6]]), [0.5, 0.5])


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10_000), soft=st.booleans(),
       bad=st.sampled_from([None, "nan_label", "float_label", "negative", "nan_score",
                            "dup_classes"]))
def test_bbse_prior_raises_a_named_error_or_returns_a_prior(seed, soft, bad):
    rng = np.random.default_rng(seed)
    k = 3
    val = rng.dirichlet(np.ones(k) * 0.3, size=60)
    y_val = np.r_[np.arange(k), rng.integers(0, k, size=57)].astype(float)
    target = rng.dirichlet(np.ones(k) * 0.3, size=40)
    classes = None
    if bad == "nan_label":
        y_val[3] = np.nan
    elif bad == "float_label":
        y_val[3] = 1.5
    elif bad == "negative":
        y_val[3] = -1
    elif bad == "nan_score":
        target[0, 0] = np.nan
    elif bad == "dup_classes":
        classes = [0.0, 0.0, 1.0]
    try:
        prior = bbse_prior(val, y_val, target, soft=soft, classes=classes)
    except (ValueError, TypeError) as exc:
        assert bad is not None, f"valid input rejected: {exc}"
        assert _names_a_parameter(exc), f"error does not name a parameter: {exc}"
        return
    assert bad is None, f"{bad} was accepted"
    _check_prior(prior, k)


@pytest.fixture(autouse=True)
def _silence_bbse_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), scale=st.sampled_from([1e-200, 1e-3, 1.0, 1e3, 1e150, 1e300]))
def test_bcts_is_scale_free_and_finite(seed, scale):
    """T(c z) = c T(z): the fit is the same at any scale, including near the largest float."""
    rng = np.random.default_rng(seed)
    z = 2 * rng.normal(size=(400, 3))
    y = np.argmax(z + rng.gumbel(size=z.shape), axis=1)
    t1, b1 = fit_bias_corrected_temperature(z, y)
    tc, bc = fit_bias_corrected_temperature(z * scale, y)
    assert np.isfinite(tc) and tc > 0 and np.all(np.isfinite(bc))
    np.testing.assert_allclose(tc / scale, t1, rtol=1e-4)
    np.testing.assert_allclose(bc, b1, atol=1e-4)


def test_bcts_float32_scores_give_the_float64_answer():
    rng = np.random.default_rng(0)
    z = 2 * rng.normal(size=(400, 3))
    y = np.argmax(z + rng.gumbel(size=z.shape), axis=1)
    t64, b64 = fit_bias_corrected_temperature(z.astype(np.float32).astype(np.float64), y)
    t32, b32 = fit_bias_corrected_temperature(z.astype(np.float32), y)
    assert t32 == pytest.approx(t64) and np.allclose(b32, b64)


@pytest.mark.parametrize("kwargs, param", [
    (dict(calibrate="yes"), "calibrate"), (dict(max_iter=0), "max_iter"), (dict(tol=-1), "tol"),
    (dict(method=None), "method"),
])
def test_estimate_target_prior_bad_parameters_are_named(kwargs, param):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.repeat([0, 1, 2], 20)
    clf = LogisticRegression().fit(X + y[:, None], y)
    with pytest.raises((ValueError, TypeError), match=param):
        estimate_target_prior(clf, X, source_prior="uniform", X_val=X, y_val=y, **kwargs)


def test_calibrate_without_every_class_in_y_val_names_y_val():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.repeat([0, 1, 2], 20)
    clf = LogisticRegression().fit(X + y[:, None], y)
    with pytest.raises(ValueError, match="y_val has none of classes"):
        estimate_target_prior(clf, X, calibrate=True, X_val=X[:5], y_val=y[:5])
