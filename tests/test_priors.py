import numpy as np
import pytest

from sklt.priors import check_prior, class_counts, class_frequencies, long_tail_counts


def test_uniform_prior_has_equal_entries():
    np.testing.assert_allclose(check_prior("uniform", ["a", "b", "c", "d"]), 0.25)


def test_auto_prior_is_weighted_class_frequency():
    y = np.array(["a", "b", "b", "c"])
    np.testing.assert_allclose(check_prior("auto", ["a", "b", "c"], y=y), [0.25, 0.5, 0.25])
    sw = np.array([2.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(
        check_prior("auto", ["a", "b", "c"], y=y, sample_weight=sw), [0.5, 0.5, 0.0]
    )


def test_array_and_dict_priors_are_normalised_in_class_order():
    np.testing.assert_allclose(check_prior([1, 3], [0, 1]), [0.25, 0.75])
    np.testing.assert_allclose(check_prior({"dog": 1, "cat": 3}, ["cat", "dog"]), [0.75, 0.25])


def test_dict_prior_with_numpy_labels():
    classes = np.array([3, 7])
    np.testing.assert_allclose(check_prior({np.int64(7): 1, 3: 1}, classes), [0.5, 0.5])


def test_prior_input_is_not_modified():
    prior = np.array([2.0, 2.0])
    check_prior(prior, [0, 1])
    np.testing.assert_array_equal(prior, [2.0, 2.0])


@pytest.mark.parametrize(
    "prior, match",
    [
        ([0.5, 0.5, 0.0], "has 3 entries but the classifier has 2 classes"),
        ([-0.1, 1.1], "non-negative"),
        ([np.nan, 1.0], "NaN or infinite"),
        ([0.0, 0.0], "sums to zero"),
        ({"a": 1, "z": 1}, "does not know"),
        ({"a": 1}, "missing classes"),
        ("balanced", "must be 'uniform', 'auto'"),
        ([[0.5, 0.5]], "entries but the classifier has 2 classes"),
    ],
)
def test_bad_prior_specifications_raise_clear_errors(prior, match):
    with pytest.raises(ValueError, match=match):
        check_prior(prior, ["a", "b"], name="target_prior")


def test_zero_prior_entry_rejected_where_divided_by():
    with pytest.raises(ValueError, match="source_prior is zero for classes \\['b'\\]"):
        check_prior([1.0, 0.0], ["a", "b"], name="source_prior", allow_zero=False)


def test_auto_needs_y():
    with pytest.raises(ValueError, match="needs the labels y"):
        check_prior("auto", [0, 1])


def test_class_counts_rejects_unknown_labels():
    with pytest.raises(ValueError, match="not in classes"):
        class_counts([0, 1, 5], classes=[0, 1])


def test_class_frequencies_sum_to_one():
    freq = class_frequencies(np.repeat([0, 1, 2], [5, 3, 2]), [0, 1, 2])
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.2])


@pytest.mark.parametrize("ratio", [1, 10, 100])
def test_exponential_profile_follows_formula(ratio):
    counts = long_tail_counts(500, 10, ratio)
    expected = np.floor(500 * ratio ** (-np.arange(10) / 9) + 1e-9).astype(int)
    np.testing.assert_array_equal(counts, expected)
    assert counts[0] == 500
    assert counts[-1] == 500 // ratio
    assert np.all(np.diff(counts) <= 0)


def test_step_profile_reduces_half_the_classes():
    np.testing.assert_array_equal(long_tail_counts(90, 5, 9, profile="step"), [90, 90, 10, 10, 10])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_max=100, n_classes=5, imbalance_ratio=0.5), "imbalance_ratio"),
        (dict(n_max=0, n_classes=5, imbalance_ratio=2), "n_max"),
        (dict(n_max=10, n_classes=0, imbalance_ratio=2), "n_classes"),
        (dict(n_max=10, n_classes=3, imbalance_ratio=2, profile="linear"), "profile"),
    ],
)
def test_long_tail_counts_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        long_tail_counts(**kwargs)
