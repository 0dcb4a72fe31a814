"""The row path of ``adjust_logits`` (classes on the last axis, BLAS updates) answers as the
general path does, keeps the contract, and leaves BLAS's thread settings as it found them."""

import contextlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax

import sklt.adjust as adjust_module
from sklt.adjust import adjust_logits

OUTPUTS = ("log_proba", "proba")


@contextlib.contextmanager
def row_path(chunk=None):
    """Every array with classes on the last axis takes the row path (small chunks)."""
    saved = (adjust_module._BLAS_MIN_ELEMENTS, adjust_module._SHORT_CLASSES,
             adjust_module._CHUNK_ELEMENTS)
    adjust_module._BLAS_MIN_ELEMENTS = 0
    adjust_module._SHORT_CLASSES = 0
    if chunk is not None:
        adjust_module._CHUNK_ELEMENTS = chunk
    try:
        yield
    finally:
        (adjust_module._BLAS_MIN_ELEMENTS, adjust_module._SHORT_CLASSES,
         adjust_module._CHUNK_ELEMENTS) = saved


def _reference(scores, source, target, strength, temperature, input, output):
    """float64 log_softmax of the formula (what both paths must give)."""
    z = scores.astype(np.float64)
    if input == "proba":
        with np.errstate(divide="ignore"):
            z = np.log(z)
    offset = 0.0
    if source is not None or target is not None:
        offset = adjust_module.log_prior_ratio(source, target, z.shape[-1])
    log_p = log_softmax(z / temperature + strength * offset, axis=-1)
    return np.exp(log_p) if output == "proba" else log_p


def _assert_contract(out, output):
    assert not np.isnan(out).any()
    if output == "proba":
        assert np.all((out >= 0) & (out <= 1))
        np.testing.assert_allclose(out.sum(axis=-1), 1, atol=1e-5)
    else:
        assert np.all(out <= 0)


def _call_both(scores, kwargs, chunk):
    """(general path's answer or exception, row path's answer or exception)."""
    results = []
    for ctx in (contextlib.nullcontext(), row_path(chunk)):
        with ctx:
            try:
                results.append(adjust_logits(scores, **kwargs))
            except (ValueError, TypeError) as exc:
                results.append(exc)
    return results


@settings(max_examples=150, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       n=st.integers(1, 40), k=st.integers(1, 24),
       input=st.sampled_from(["logits", "proba"]), output=st.sampled_from(OUTPUTS),
       strength=st.sampled_from([0.0, 0.7, 1.0, 3.0, 1e39]),
       temperature=st.sampled_from([1.0, 0.3, 1.5, 1e-30]),
       chunk=st.sampled_from([1, 7, 64, 1 << 17]))
def test_row_path_equals_the_general_path(data, dtype, n, k, input, output, strength,
                                          temperature, chunk):
    big = float(np.finfo(dtype).max)
    huge = float(dtype(1e30))  # exactly representable (hypothesis checks, NumPy < 2)
    values = st.floats(-60, 60, width=32) | st.sampled_from([0.0, -np.inf, huge, -huge, big])
    if input == "proba":
        values = st.floats(0, 1, width=32) | st.sampled_from([0.0, float(np.float32(1e-30)), 1.0])
    scores = data.draw(arrays(dtype, (n, k), elements=values))
    source = data.draw(st.none() | st.lists(st.floats(1e-6, 1), min_size=k, max_size=k))
    target = data.draw(st.none() | st.lists(st.floats(0, 1), min_size=k, max_size=k)
                       .filter(lambda w: sum(w) > 0))
    kwargs = dict(source_prior=source, target_prior=target, strength=strength,
                  temperature=temperature, input=input, output=output)
    general, rows = _call_both(scores, kwargs, chunk)
    if isinstance(general, Exception):
        assert isinstance(rows, type(general)), (general, rows)
        return
    assert not isinstance(rows, Exception), rows
    assert rows.dtype == dtype and rows.shape == scores.shape
    _assert_contract(rows, output)
    tol = 5e-6 if dtype == np.float32 else 1e-12
    if output == "proba":
        np.testing.assert_allclose(rows, general, rtol=0, atol=tol)
    else:  # -inf where the general path has -inf, close elsewhere
        np.testing.assert_array_equal(np.isneginf(rows), np.isneginf(general))
        finite = np.isfinite(general)
        np.testing.assert_allclose(rows[finite], general[finite],
                                   rtol=tol, atol=tol * (1 + np.abs(general[finite]).max(
                                       initial=0)))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 30), k=st.integers(1, 12), output=st.sampled_from(OUTPUTS),
       input=st.sampled_from(["logits", "proba"]),
       bad=st.sampled_from([np.nan, np.inf, -1.0]), seed=st.integers(0, 1000))
def test_row_path_raises_the_general_paths_errors(n, k, output, input, bad, seed):
    rng = np.random.default_rng(seed)
    scores = rng.random((n, k)).astype(np.float32)
    scores[rng.integers(n), rng.integers(k)] = bad
    if input == "logits" and bad == -1.0:
        return  # a valid logit
    with row_path(chunk=5):
        with pytest.raises(ValueError, match="scores"):
            adjust_logits(scores, rng.random(k) + 0.1, input=input, output=output)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input", ["logits", "proba"])
@pytest.mark.parametrize("output", OUTPUTS)
def test_large_arrays_take_the_row_path_and_follow_the_formula(dtype, input, output):
    # 600 x 500 = 300,000 elements: the row path without patching, two chunks
    assert 600 * 500 >= adjust_module._BLAS_MIN_ELEMENTS
    rng = np.random.default_rng(0)
    k = 500
    if input == "proba":
        scores = rng.dirichlet(np.full(k, 0.2), size=600).astype(dtype)
        scores[0] = 0
        scores[0, 30] = 1  # a certain row: probability exactly 1
        scores[1, :10] = 0
    else:
        scores = (3 * rng.standard_normal((600, k))).astype(dtype)
        scores[0, 30] = 200  # a dominant class
    source = rng.dirichlet(np.full(k, 0.3)) + 1e-9
    target = rng.dirichlet(np.full(k, 2.0))
    target[:5] = 0  # classes never predicted: -inf offsets
    for kwargs in (dict(), dict(target_prior=target, strength=0.7, temperature=1.5),
                   dict(target_prior=target, strength=40.0)):  # offsets below log(tiny)
        out = adjust_logits(scores, source, input=input, output=output, **kwargs)
        expected = _reference(scores, source, kwargs.get("target_prior"),
                              kwargs.get("strength", 1.0), kwargs.get("temperature", 1.0),
                              input, output)
        assert out.dtype == dtype
        _assert_contract(out, output)
        tol = 2e-5 if dtype == np.float32 else 1e-11
        if output == "proba":
            np.testing.assert_allclose(out, expected, rtol=0, atol=tol)
            if "target_prior" not in kwargs:  # t * fl(1 / t): within an ulp of 1
                assert 1 - 2 * np.finfo(dtype).eps <= out[0, 30] <= 1
        else:
            np.testing.assert_array_equal(np.isneginf(out), np.isneginf(expected))
            finite = np.isfinite(expected)
            np.testing.assert_allclose(out[finite], expected[finite], rtol=tol, atol=tol)


def test_row_path_on_channels_last_maps_and_strided_inputs():
    rng = np.random.default_rng(1)
    maps = rng.normal(size=(4, 30, 40, 60)).astype(np.float32)  # 288,000 elements
    prior = rng.dirichlet(np.ones(60))
    out = adjust_logits(maps, prior, output="proba")
    flat = adjust_logits(maps.reshape(-1, 60), prior, output="proba")
    np.testing.assert_array_equal(out.reshape(-1, 60), flat)
    # a transposed (non-contiguous) view answers as its copy does
    wide = rng.normal(size=(600, 500)).T
    assert wide.size >= adjust_module._BLAS_MIN_ELEMENTS and not wide.flags.c_contiguous
    np.testing.assert_allclose(adjust_logits(wide, np.ones(600) / 600),
                               adjust_logits(np.ascontiguousarray(wide), np.ones(600) / 600),
                               rtol=1e-12, atol=1e-12)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [(info["filepath"], info["num_threads"]) for info in threadpool_info()
            if info["user_api"] == "blas"]


def test_blas_threads_are_restored_also_after_concurrent_calls():
    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_limits

    z = np.random.default_rng(0).normal(size=(1000, 300)).astype(np.float32)
    assert z.size >= adjust_module._BLAS_MIN_ELEMENTS
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        adjust_logits(z, output="proba")
        assert _blas_threads() == before
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: adjust_logits(z, np.ones(300)), range(8)))
        assert _blas_threads() == before
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("k", [2, 40])
def test_huge_scores_do_not_absorb_the_offset(dtype, output, k):
    # a(z - max z) + b, not fl(a z + b): 1e30 + b == 1e30 would lose the prior
    rng = np.random.default_rng(0)
    source = rng.dirichlet(np.ones(k)) + 0.01
    scores = np.full((3, k), 1e30, dtype=dtype)
    scores[1] = 1e7
    scores[2] = -1e30
    out = adjust_logits(scores, source, strength=0.7, temperature=0.3, output=output)
    expected = _reference(np.zeros((3, k)), source, None, 0.7, 0.3, "logits", output)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected.astype(dtype), rtol=tol, atol=tol)
    with row_path(chunk=k):
        np.testing.assert_allclose(adjust_logits(scores, source, strength=0.7, temperature=0.3,
                                                 output=output), out, rtol=tol, atol=tol)


@pytest.mark.parametrize("output", ["log_proba", "proba"])
def test_offsets_near_the_float32_maximum_stay_finite_on_the_row_path(output):
    # strength 1e39 times log(0.75) is -2.9e38, representable in float32; the row path's
    # base-2 offsets (times log2 e) are not: such offsets take the general path
    scores = np.zeros((1, 2), dtype=np.float32)
    kwargs = dict(target_prior=[1.0, 0.75], strength=1e39, output=output)
    general, rows = _call_both(scores, kwargs, 1)
    np.testing.assert_array_equal(rows, general)
    if output == "log_proba":
        assert np.all(np.isfinite(rows))
