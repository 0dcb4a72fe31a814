"""Property-based contract of sklt.adjust under bad and extreme input (issue #12).

The contract: every call either raises a ``ValueError`` / ``TypeError`` whose
message names the offending parameter, or returns a finite, correct answer —
probabilities in ``[0, 1]`` whose rows sum to one, log-probabilities that are
``<= 0`` and never NaN, the caller's dtype (float32 stays float32) and the
caller's input untouched. Huge but finite values (priors of ``1e308``,
strengths of ``1e39``, temperatures of ``1e-300``) give the exact answer.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax

from sklt.adjust import adjust_logits, log_prior_ratio, noisy_or, softmax

PARAMS = ("scores", "probas", "source_prior", "target_prior", "strength", "temperature", "axis",
          "class_axis", "input", "output", "n_classes")

DTYPES = st.sampled_from([np.float32, np.float64])


def _names_a_parameter(exc):
    return any(name in str(exc) for name in PARAMS)


@st.composite
def score_arrays(draw, finite=False, min_classes=1):
    dtype = draw(DTYPES)
    big = float(np.finfo(dtype).max)
    n, k = draw(st.integers(0, 6)), draw(st.integers(min_classes, 5))
    width = 32 if dtype == np.float32 else 64
    values = st.floats(-big, big, allow_nan=False, allow_infinity=False, width=width)
    if not finite:
        values = values | st.sampled_from([np.nan, np.inf, -np.inf])
    return draw(arrays(dtype, (n, k), elements=values))


@st.composite
def priors(draw, k, allow_zero=True):
    kind = draw(st.sampled_from(["none", "uniform", "weights", "huge", "tiny"]))
    if kind == "none":
        return None
    if kind == "uniform":
        return "uniform"
    low = 0.0 if allow_zero else 1e-3
    weights = np.array(draw(st.lists(st.floats(low, 1.0), min_size=k, max_size=k)))
    assume(weights.sum() > 0)
    scale = {"weights": 1.0, "huge": 1e308, "tiny": 1e-300}[kind]
    return weights * scale


def _check_output(out, scores, output):
    assert out.shape == scores.shape
    assert out.dtype == scores.dtype
    if out.size == 0:
        return
    assert not np.isnan(out).any(), "NaN in the output"
    assert not np.isposinf(out).any(), "+inf in the output"
    if output == "proba":
        assert np.all((out >= 0) & (out <= 1))
        tol = 1e-4 if out.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(out.sum(axis=-1), 1, atol=tol)
    elif output == "log_proba":
        assert np.all(out <= 0)  # so that exp(log_proba) <= 1
        tol = 1e-4 if out.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(np.exp(out.astype(np.float64)).sum(axis=-1), 1, atol=tol)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), scores=score_arrays(),
       strength=st.sampled_from([0.0, 0.5, 1.0, 3.0, 1e39, 1e300]),
       temperature=st.sampled_from([1.0, 0.3, 7.0, 1e-30, 1e-300, 1e300]),
       input=st.sampled_from(["logits", "log_proba", "proba"]),
       output=st.sampled_from(["log_proba", "proba", "logits"]))
def test_adjust_logits_raises_a_named_error_or_answers_finitely(data, scores, strength,
                                                                 temperature, input, output):
    k = scores.shape[1]
    source = data.draw(priors(k, allow_zero=False))
    target = data.draw(priors(k))
    before = scores.copy()
    if input == "proba":
        scores = np.abs(scores)
    try:
        out = adjust_logits(scores, source, target, strength=strength, temperature=temperature,
                            input=input, output=output)
    except (ValueError, TypeError) as exc:
        assert _names_a_parameter(exc), f"error does not name a parameter: {exc}"
        return
    finally:
        if input != "proba":
            np.testing.assert_array_equal(scores, before)
    bad = np.isnan(scores) | np.isposinf(scores)
    assert not bad.any(), "NaN or +inf scores were accepted"
    _check_output(out, scores, output)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), scores=score_arrays(finite=True),
       strength=st.sampled_from([0.0, 0.5, 1.0, 3.0, 1e39]),
       temperature=st.sampled_from([1.0, 0.3, 7.0, 1e-30, 1e-300]),
       output=st.sampled_from(["log_proba", "proba"]))
def test_finite_logits_and_valid_priors_always_give_an_answer(data, scores, strength, temperature,
                                                              output):
    """Huge but finite values: normalise by the maximum, work in log space, never raise."""
    k = scores.shape[1]
    source = data.draw(priors(k, allow_zero=False))
    target = data.draw(priors(k, allow_zero=False))
    out = adjust_logits(scores, source, target, strength=strength, temperature=temperature,
                        output=output)
    _check_output(out, scores, output)


@settings(max_examples=80, deadline=None)
@given(z=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                elements=st.floats(-50, 50)),
       strength=st.floats(0, 5), temperature=st.floats(0.05, 20), seed=st.integers(0, 10_000),
       scale=st.sampled_from([1.0, 1e-300, 1e300]))
def test_adjustment_equals_the_formula_at_any_prior_scale(z, strength, temperature, seed, scale):
    k = z.shape[1]
    rng = np.random.default_rng(seed)
    ps, pt = rng.dirichlet(np.ones(k)) + 1e-3, rng.dirichlet(np.ones(k)) + 1e-3
    expected = log_softmax(
        z / temperature + strength * (np.log(pt / pt.sum()) - np.log(ps / ps.sum())), axis=1)
    got = adjust_logits(z, ps * scale, pt * scale, strength=strength, temperature=temperature)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # strength 0 is the identity up to the temperature, whatever the priors
    np.testing.assert_allclose(
        adjust_logits(z, ps * scale, pt * scale, strength=0, temperature=temperature),
        log_softmax(z / temperature, axis=1), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("axis", [1.7, "x", True, None, [1]])
def test_non_integer_axis_is_a_type_error_naming_axis(axis):
    with pytest.raises(TypeError, match="axis"):
        adjust_logits(np.zeros((2, 3)), axis=axis)
    with pytest.raises(TypeError, match="axis"):
        softmax(np.zeros((2, 3)), axis=axis)
    with pytest.raises(TypeError, match="axis"):
        noisy_or(np.full((2, 2, 3), 0.3), axis=axis)


@settings(max_examples=40, deadline=None)
@given(ndim=st.integers(1, 4), offset=st.integers(0, 3), sign=st.sampled_from([1, -1]))
def test_out_of_range_axes_raise_instead_of_wrapping(ndim, offset, sign):
    axis = sign * (ndim + offset) - (1 if sign < 0 else 0)
    scores = np.zeros((2,) * ndim)
    with pytest.raises(ValueError, match="axis"):
        adjust_logits(scores, axis=axis)
    if ndim >= 2:
        with pytest.raises(ValueError, match="axis"):
            noisy_or(np.full((2,) * ndim, 0.3), axis=axis)
        with pytest.raises(ValueError, match="class_axis"):
            noisy_or(np.full((2,) * ndim, 0.3), class_axis=axis)


@pytest.mark.parametrize("call", [
    lambda: adjust_logits(np.zeros((2, 0))),
    lambda: softmax(np.zeros((4, 0))),
    lambda: noisy_or(np.zeros((0, 2, 3))),
    lambda: noisy_or(np.zeros((2, 2, 0))),
], ids=["adjust_logits", "softmax", "noisy_or-no-modality", "noisy_or-no-class"])
def test_empty_class_or_modality_axis_is_a_named_error(call):
    with pytest.raises(ValueError, match="scores|probas") as info:
        call()
    assert "has no" in str(info.value)


@pytest.mark.parametrize("output", ["log_proba", "proba", "logits"])
def test_zero_samples_give_an_empty_answer(output):
    for dtype in (np.float32, np.float64):
        out = adjust_logits(np.zeros((0, 3), dtype), [0.2, 0.3, 0.5], output=output)
        assert out.shape == (0, 3) and out.dtype == dtype
    assert noisy_or(np.zeros((2, 0, 3))).shape == (0, 3)


@pytest.mark.parametrize("output", ["logits", "proba", "log_proba"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_never_pass_through(bad, output):
    z = np.zeros((3, 4), np.float32)
    z[1, 2] = bad
    with pytest.raises(ValueError, match="scores contains"):
        adjust_logits(z, output=output)
    with pytest.raises(ValueError, match="scores contains"):
        adjust_logits(np.abs(z), input="proba", output=output)


@pytest.mark.parametrize("prior, error", [
    ({0: 0.5, 1: 0.5}, TypeError), ("auto", ValueError), (0.5, ValueError),
    ([[0.5, 0.5]], ValueError), ([object(), 1.0], TypeError), ([], ValueError),
    ([0.0, 0.0], ValueError),
])
@pytest.mark.parametrize("name", ["source_prior", "target_prior"])
def test_malformed_priors_are_errors_naming_them(prior, error, name):
    with pytest.raises(error, match=name):
        adjust_logits(np.zeros((2, 2)), **{name: prior})
    with pytest.raises(error, match=name):
        log_prior_ratio(**{"source_prior": None, "target_prior": None, name: prior})


@pytest.mark.parametrize("n_classes, error", [
    (-1, ValueError), (0, ValueError), (2.5, TypeError), ("3", TypeError), (True, TypeError),
])
def test_bad_n_classes_is_named(n_classes, error):
    with pytest.raises(error, match="n_classes"):
        log_prior_ratio(None, None, n_classes)


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=6),
       scale=st.sampled_from([1.0, 1e300, 1e308, 1e-300]))
def test_log_prior_ratio_is_exact_at_any_scale(weights, scale):
    w = np.array(weights)
    ratio = log_prior_ratio(w * scale, w[::-1] * scale)
    expected = np.log(w[::-1] / w[::-1].sum()) - np.log(w / w.sum())
    np.testing.assert_allclose(ratio, expected, atol=1e-9)


@pytest.mark.parametrize("kwargs, param", [
    (dict(strength=1e39), "strength"), (dict(temperature=1e-40), "temperature"),
])
def test_overflowing_logits_output_names_the_parameter(kwargs, param):
    z = np.array([[3e38, 0.0, -3e38]], np.float32)
    with pytest.raises(ValueError, match=param):
        adjust_logits(z, [0.7, 0.2, 0.1], **kwargs, output="logits")


@pytest.mark.parametrize("kwargs", [dict(strength=1e39), dict(temperature=1e-300),
                                    dict(strength=1e39, temperature=1e-300)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_strength_and_temperature_give_the_limit(kwargs, dtype):
    """An infinitely strong or cold adjustment puts all the mass on the winning class."""
    z = np.array([[0.0, 1.0, 0.5], [2.0, -1.0, 0.0]], dtype)
    out = adjust_logits(z, [0.2, 0.3, 0.5], [0.5, 0.3, 0.2], output="proba", **kwargs)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out.max(axis=1), 1)


def test_zero_target_prior_for_every_class_with_mass_is_a_named_error():
    with pytest.raises(ValueError, match="target_prior"):
        adjust_logits(np.array([[1.0, 0.0]]), None, [0, 1], input="proba", output="proba")


def test_negative_sample_of_probabilities_is_named():
    with pytest.raises(ValueError, match="non-negative probabilities"):
        adjust_logits(np.array([[-0.1, 1.1]]), input="proba", output="logits")


@settings(max_examples=60, deadline=None)
@given(p=arrays(DTYPES, st.tuples(st.integers(1, 3), st.integers(0, 4), st.integers(1, 4)),
                elements=st.floats(0, 1, width=32)))
def test_noisy_or_contract(p):
    try:
        fused = noisy_or(p)
    except ValueError as exc:
        assert "probas" in str(exc)
        assert np.any(np.all(p == 0, axis=(0, 2)))  # only rows with no mass at all may raise
        return
    assert fused.dtype == p.dtype and fused.shape == p.shape[1:]
    if fused.size:
        assert np.all(np.isfinite(fused))
        np.testing.assert_allclose(fused.sum(axis=-1), 1, atol=1e-4)
