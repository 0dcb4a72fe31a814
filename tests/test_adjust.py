import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax
from scipy.special import softmax as scipy_softmax

from sklt.adjust import adjust_logits, log_prior_ratio, noisy_or, softmax

rng = np.random.default_rng(0)


def _prior(k, seed=0):
    p = np.random.default_rng(seed).dirichlet(np.ones(k)) + 1e-3
    return p / p.sum()


def test_adjustment_follows_the_formula():
    z = rng.normal(size=(20, 4))
    ps, pt = _prior(4, 1), _prior(4, 2)
    expected = log_softmax(z / 1.7 + 0.6 * (np.log(pt) - np.log(ps)), axis=1)
    got = adjust_logits(z, ps, pt, strength=0.6, temperature=1.7)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_strength_zero_is_identity_up_to_normalisation():
    z = rng.normal(size=(10, 3))
    got = adjust_logits(z, _prior(3), _prior(3, 5), strength=0.0)
    np.testing.assert_allclose(got, log_softmax(z, axis=1), atol=1e-12)


def test_proba_input_equals_bayes_rule():
    p = scipy_softmax(rng.normal(size=(30, 5)), axis=1)
    ps, pt = _prior(5, 3), _prior(5, 4)
    expected = p * pt / ps
    expected /= expected.sum(axis=1, keepdims=True)
    got = adjust_logits(p, ps, pt, input="proba", output="proba")
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_log_proba_input_is_treated_as_logits():
    p = scipy_softmax(rng.normal(size=(5, 3)), axis=1)
    ps = _prior(3)
    np.testing.assert_allclose(
        adjust_logits(np.log(p), ps, input="log_proba"), adjust_logits(p, ps, input="proba")
    )


def test_zero_probability_stays_zero_and_output_finite_elsewhere():
    p = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    out = adjust_logits(p, [0.2, 0.3, 0.5], input="proba", output="proba", strength=2.5)
    assert out[0, 0] == 0 and out[1, 2] == 0
    np.testing.assert_allclose(out.sum(axis=1), 1)


def test_unnormalised_logits_output():
    z = rng.normal(size=(4, 3))
    ps = _prior(3)
    out = adjust_logits(z, ps, None, strength=1.0, output="logits")
    np.testing.assert_allclose(out, z + np.log(1 / 3) - np.log(ps))


def test_any_class_axis_matches_last_axis():
    maps = rng.normal(size=(2, 4, 3, 5))
    ps, pt = _prior(4), _prior(4, 9)
    dense = adjust_logits(maps, ps, pt, axis=1, strength=0.8, output="proba")
    flat = adjust_logits(np.moveaxis(maps, 1, -1).reshape(-1, 4), ps, pt, strength=0.8,
                         output="proba")
    np.testing.assert_allclose(np.moveaxis(dense, 1, -1).reshape(-1, 4), flat, rtol=1e-12)


def test_one_dimensional_scores():
    out = adjust_logits(np.array([0.0, 0.0]), [0.8, 0.2], output="proba")
    np.testing.assert_allclose(out, [0.2, 0.8])


def test_large_batches_are_chunked_without_changing_results(monkeypatch):
    import sklt.adjust as adjust_module

    z = rng.normal(size=(1000, 7)).astype(np.float32)
    ps = _prior(7)
    whole = adjust_logits(z, ps)
    monkeypatch.setattr(adjust_module, "_CHUNK_ELEMENTS", 50)
    np.testing.assert_array_equal(adjust_logits(z, ps), whole)


def test_input_is_not_modified():
    z = rng.normal(size=(6, 3))
    z_copy = z.copy()
    adjust_logits(z, _prior(3), _prior(3, 1), strength=2, temperature=3, output="proba")
    np.testing.assert_array_equal(z, z_copy)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    z = rng.normal(size=(5, 3)).astype(dtype)
    for output in ("log_proba", "proba", "logits"):
        assert adjust_logits(z, _prior(3), output=output).dtype == dtype


def test_integer_scores_become_float64():
    assert adjust_logits(np.array([[1, 2]])).dtype == np.float64


@settings(max_examples=60, deadline=None)
@given(
    z=arrays(
        dtype=st.sampled_from([np.float32, np.float64]),
        shape=st.tuples(st.integers(1, 8), st.integers(2, 6)),
        elements=st.floats(-1e4, 1e4, width=32),
    ),
    strength=st.floats(0, 10),
    temperature=st.floats(0.05, 20),
    seed=st.integers(0, 1000),
)
def test_property_finite_normalised_output_for_huge_logits(z, strength, temperature, seed):
    k = z.shape[1]
    ps, pt = _prior(k, seed), _prior(k, seed + 1)
    log_p = adjust_logits(z, ps, pt, strength=strength, temperature=temperature)
    p = adjust_logits(z, ps, pt, strength=strength, temperature=temperature, output="proba")
    assert log_p.dtype == z.dtype and p.dtype == z.dtype
    assert np.all(np.isfinite(p))
    assert np.all(log_p <= 1e-5)
    tol = 1e-4 if z.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=tol)
    # argmax of the adjusted logits is the argmax of the probabilities
    raw = adjust_logits(z, ps, pt, strength=strength, temperature=temperature, output="logits")
    assert np.all(np.take_along_axis(p, np.argmax(raw, axis=1)[:, None], 1) >= p.max(1)[:, None]
                  - tol)


@settings(max_examples=40, deadline=None)
@given(perm_seed=st.integers(0, 10_000), strength=st.floats(0, 3))
def test_property_permuting_classes_permutes_output(perm_seed, strength):
    z = np.random.default_rng(perm_seed).normal(size=(7, 5))
    ps, pt = _prior(5, perm_seed), _prior(5, perm_seed + 7)
    perm = np.random.default_rng(perm_seed).permutation(5)
    out = adjust_logits(z, ps, pt, strength=strength)
    out_perm = adjust_logits(z[:, perm], ps[perm], pt[perm], strength=strength)
    np.testing.assert_allclose(out_perm, out[:, perm], atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(strength=-0.1), "strength"),
        (dict(strength=np.inf), "strength"),
        (dict(temperature=0), "temperature"),
        (dict(temperature=-1), "temperature"),
        (dict(input="probs"), "input"),
        (dict(output="labels"), "output"),
        (dict(axis=3), "out of range"),
        (dict(source_prior=[0.5, 0.5]), "shape"),
        (dict(source_prior=[0.0, 0.5, 0.5]), "zero entries"),
        (dict(target_prior=[-1.0, 1.0, 1.0]), "non-negative"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        adjust_logits(np.zeros((2, 3)), **kwargs)


@pytest.mark.parametrize("output", ["log_proba", "proba", "logits"])
@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, r"\+inf")])
def test_non_finite_scores_raise(bad, match, output):
    z = np.zeros((2, 3))
    z[1, 1] = bad
    with pytest.raises(ValueError, match=f"scores contains {match}"):
        adjust_logits(z, output=output)


def test_negative_probabilities_raise():
    with pytest.raises(ValueError, match="non-negative"):
        adjust_logits(np.array([[-0.1, 1.1]]), input="proba")


def test_non_numeric_scores_raise():
    with pytest.raises(TypeError, match="numeric"):
        adjust_logits(np.array([["a", "b"]]))


def test_log_prior_ratio_uniform_defaults():
    np.testing.assert_allclose(log_prior_ratio(None, None, 4), 0)
    np.testing.assert_allclose(log_prior_ratio([0.5, 0.5], [0.25, 0.75]),
                               np.log([0.5, 1.5]))
    with pytest.raises(ValueError, match="n_classes"):
        log_prior_ratio(None, None)


def test_softmax_is_stable():
    np.testing.assert_allclose(softmax([[1e4, 0.0], [-1e4, -1e4]]), [[1, 0], [0.5, 0.5]])


def test_noisy_or_on_hand_made_posteriors():
    p1 = np.array([[0.8, 0.2, 0.0], [0.1, 0.1, 0.8]])
    p2 = np.array([[0.5, 0.5, 0.0], [0.3, 0.3, 0.4]])
    raw = 1 - (1 - p1) * (1 - p2)
    expected = raw / raw.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(noisy_or(np.stack([p1, p2])), expected)
    # modality axis last, classes in the middle
    stacked = np.stack([p1, p2], axis=-1)
    np.testing.assert_allclose(noisy_or(stacked, axis=-1, class_axis=1), expected)


def test_noisy_or_single_modality_is_identity():
    p = scipy_softmax(rng.normal(size=(4, 3)), axis=1)
    np.testing.assert_allclose(noisy_or(p[None]), p)


def test_noisy_or_bad_input():
    with pytest.raises(ValueError, match="probabilities"):
        noisy_or(np.array([[[1.5, -0.5]]]))
    with pytest.raises(ValueError, match="differ"):
        noisy_or(np.ones((2, 2)) / 2, axis=0, class_axis=0)
