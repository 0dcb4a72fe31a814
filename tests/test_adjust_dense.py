"""Dense (segmentation) prediction: sklt.adjust along the class axis of (N, K, H, W) maps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklt.adjust import adjust_logits, noisy_or


def _per_pixel(maps, class_axis=1):
    """(N, K, H, W) -> (N * H * W, K): one row per pixel."""
    moved = np.moveaxis(maps, class_axis, -1)
    return moved.reshape(-1, moved.shape[-1])


def _back(rows, shape, class_axis=1):
    moved_shape = tuple(np.delete(shape, class_axis)) + (shape[class_axis],)
    return np.moveaxis(rows.reshape(moved_shape), -1, class_axis)


PRIORS = ([0.6, 0.25, 0.1, 0.05], [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("output", ["log_proba", "proba", "logits"])
@pytest.mark.parametrize("strength, temperature", [(1.0, 1.0), (0.4, 1.0), (1.3, 2.5)])
def test_dense_adjustment_equals_per_pixel_adjustment(output, strength, temperature):
    maps = np.random.default_rng(0).normal(size=(2, 4, 5, 6)) * 3
    dense = adjust_logits(
        maps, *PRIORS, strength=strength, temperature=temperature, axis=1, output=output
    )
    flat = adjust_logits(
        _per_pixel(maps), *PRIORS, strength=strength, temperature=temperature, output=output
    )
    np.testing.assert_allclose(dense, _back(flat, maps.shape), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("input", ["proba", "log_proba"])
def test_dense_probability_maps_equal_per_pixel(input):
    logits = np.random.default_rng(1).normal(size=(3, 4, 7, 2))
    proba = adjust_logits(logits, axis=1, output="proba")
    scores = proba if input == "proba" else np.log(proba)
    dense = adjust_logits(scores, *PRIORS, strength=0.5, axis=1, input=input, output="proba")
    flat = adjust_logits(_per_pixel(scores), *PRIORS, strength=0.5, input=input, output="proba")
    np.testing.assert_allclose(dense, _back(flat, scores.shape), rtol=1e-12)
    np.testing.assert_allclose(dense.sum(axis=1), 1.0)


def test_dense_adjustment_larger_than_one_chunk():
    # 3 * 4 * 90 * 90 = 97,200 elements: more than one processing chunk.
    maps = np.random.default_rng(2).normal(size=(3, 4, 90, 90))
    dense = adjust_logits(maps, *PRIORS, strength=0.8, axis=1, output="proba")
    flat = adjust_logits(_per_pixel(maps), *PRIORS, strength=0.8, output="proba")
    np.testing.assert_allclose(dense, _back(flat, maps.shape), rtol=1e-12)


def test_negative_class_axis_on_channels_last_maps():
    maps = np.random.default_rng(3).normal(size=(2, 5, 6, 4))  # (N, H, W, K)
    np.testing.assert_allclose(
        adjust_logits(maps, *PRIORS, axis=-1),
        np.moveaxis(adjust_logits(np.moveaxis(maps, -1, 1), *PRIORS, axis=1), 1, -1),
        rtol=1e-12,
    )


@pytest.mark.parametrize("output", ["log_proba", "proba", "logits"])
def test_dense_float32_is_kept(output):
    maps = np.random.default_rng(4).normal(size=(2, 4, 8, 8)).astype(np.float32)
    out = adjust_logits(maps, *PRIORS, strength=0.7, temperature=1.5, axis=1, output=output)
    assert out.dtype == np.float32
    expected = adjust_logits(
        maps.astype(np.float64), *PRIORS, strength=0.7, temperature=1.5, axis=1, output=output
    )
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_dense_adjustment_does_not_modify_its_input():
    maps = np.random.default_rng(5).normal(size=(2, 4, 3, 3))
    copy = maps.copy()
    adjust_logits(maps, *PRIORS, axis=1)
    np.testing.assert_array_equal(maps, copy)


def test_dense_prior_of_wrong_length_raises():
    maps = np.zeros((2, 4, 3, 3))
    with pytest.raises(ValueError, match="source_prior has shape \\(3,\\).*4 classes"):
        adjust_logits(maps, [0.2, 0.3, 0.5], axis=1)


def test_noisy_or_on_dense_maps_equals_per_pixel():
    rng = np.random.default_rng(6)
    # two modalities (RGB, depth) of (N, K, H, W) probability maps, stacked on axis 0
    probas = adjust_logits(rng.normal(size=(2, 3, 4, 5, 6)) * 2, axis=2, output="proba")
    dense = noisy_or(probas, axis=0, class_axis=2)
    assert dense.shape == (3, 4, 5, 6)
    rows = np.stack([_per_pixel(p) for p in probas])  # (M, pixels, K)
    by_hand = 1 - np.prod(1 - rows, axis=0)
    by_hand /= by_hand.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(dense, _back(by_hand, (3, 4, 5, 6)), rtol=1e-12)
    np.testing.assert_allclose(noisy_or(rows, axis=0), by_hand, rtol=1e-12)


def test_noisy_or_on_dense_maps_with_modalities_last():
    rng = np.random.default_rng(7)
    probas = adjust_logits(rng.normal(size=(2, 3, 4, 5, 2)), axis=1, output="proba")
    np.testing.assert_allclose(
        noisy_or(probas, axis=-1, class_axis=1),
        noisy_or(np.moveaxis(probas, -1, 0), axis=0, class_axis=2),
        rtol=1e-12,
    )


def test_noisy_or_dense_float32_is_kept():
    probas = adjust_logits(
        np.random.default_rng(8).normal(size=(2, 2, 3, 4, 4)).astype(np.float32),
        axis=2,
        output="proba",
    )
    assert noisy_or(probas, axis=0, class_axis=2).dtype == np.float32


def test_dense_uno_ic_recipe_equals_per_pixel_algorithm_1():
    # The user-guide recipe: per-image UNO temperature (entropy averaged over pixels),
    # then prior rebalancing along the class axis, then noisy-or over the modalities.
    rng = np.random.default_rng(9)
    logits = {"rgb": rng.normal(size=(3, 4, 6, 6)) * 3, "depth": rng.normal(size=(3, 4, 6, 6))}
    stats = {"rgb": (0.4, 0.1), "depth": (0.9, 0.2)}  # (mu, sigma) from training images
    p_s, p_t, lam = np.array(PRIORS[0]), None, 0.4

    calibrated = []
    for name, z in logits.items():
        p = adjust_logits(z, axis=1, output="proba")
        h = -(p * np.log(p)).sum(axis=1).mean(axis=(1, 2))  # per image
        mu, sigma = stats[name]
        t = 1 + np.maximum(0, h - mu - sigma) / mu
        z = z / t[:, None, None, None]
        calibrated.append(adjust_logits(z, p_s, p_t, strength=lam, axis=1, output="proba"))
    fused = noisy_or(np.stack(calibrated), axis=0, class_axis=2)

    # per pixel, with the image's temperature broadcast to its pixels
    expected = []
    for name, z in logits.items():
        p = adjust_logits(z, axis=1, output="proba")
        h = -(p * np.log(p)).sum(axis=1).mean(axis=(1, 2))
        mu, sigma = stats[name]
        t = np.repeat(1 + np.maximum(0, h - mu - sigma) / mu, 36)
        rows = _per_pixel(z) / t[:, None]
        rows = np.exp(rows - rows.max(axis=1, keepdims=True))
        rows /= rows.sum(axis=1, keepdims=True)
        rows = rows * (0.25 / p_s) ** lam
        expected.append(rows / rows.sum(axis=1, keepdims=True))
    by_hand = 1 - np.prod(1 - np.stack(expected), axis=0)
    by_hand /= by_hand.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fused, _back(by_hand, (3, 4, 6, 6)), rtol=1e-10)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 3),
    k=st.integers(2, 5),
    h=st.integers(1, 4),
    w=st.integers(1, 4),
    strength=st.floats(0, 2),
    seed=st.integers(0, 2**16),
)
def test_dense_equals_flat_property(n, k, h, w, strength, seed):
    rng = np.random.default_rng(seed)
    maps = rng.normal(size=(n, k, h, w)) * 4
    prior = rng.dirichlet(np.ones(k)) + 1e-3
    dense = adjust_logits(maps, prior, None, strength=strength, axis=1)
    flat = adjust_logits(_per_pixel(maps), prior, None, strength=strength)
    np.testing.assert_allclose(dense, _back(flat, maps.shape), rtol=1e-10, atol=1e-10)
