"""Tests of sklt.metrics: hand-computed values, agreement with scikit-learn, scorers, bad input."""

import math
import re

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from imblearn.metrics import geometric_mean_score
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    jaccard_score,
    log_loss,
)
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics import get_scorer_names as sklearn_get_scorer_names
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sklt.metrics import (
    balanced_error,
    classwise_calibration_error,
    expected_calibration_error,
    get_scorer,
    get_scorer_names,
    make_scorer,
    maximum_calibration_error,
    mean_class_accuracy,
    mean_iou,
    segmentation_confusion_matrix,
    shot_accuracy,
)

SKLT_SCORERS = [
    "neg_balanced_error",
    "geometric_mean",
    "neg_expected_calibration_error",
    "neg_classwise_calibration_error",
    "neg_maximum_calibration_error",
    "neg_log_loss",
    "neg_brier_score",
]


def _random_proba(rng, n_samples, n_classes, sharpness=1.0):
    logits = sharpness * rng.normal(size=(n_samples, n_classes))
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


# ---- reference implementations: loops over bins, written straight from the definitions ----


def _reference_bins(p, n_bins):
    """Members of each bin (b/M, (b+1)/M], the first bin closed at 0."""
    members = []
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        members.append(((p > lo) | ((b == 0) & (p == 0))) & (p <= hi))
    return members


def _reference_top_label(y_idx, proba, n_bins):
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y_idx
    ece, mce = 0.0, 0.0
    for in_bin in _reference_bins(conf, n_bins):
        if in_bin.any():
            gap = abs(correct[in_bin].mean() - conf[in_bin].mean())
            ece += in_bin.sum() / len(conf) * gap
            mce = max(mce, gap)
    return ece, mce


def _reference_classwise(y_idx, proba, n_bins):
    total = 0.0
    for j in range(proba.shape[1]):
        for in_bin in _reference_bins(proba[:, j], n_bins):
            if in_bin.any():
                freq = (y_idx[in_bin] == j).mean()
                total += in_bin.sum() / len(y_idx) * abs(freq - proba[in_bin, j].mean())
    return total / proba.shape[1]


# ---------------------------------------------------------------- balanced error


def test_balanced_error_is_one_minus_balanced_accuracy():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 4, size=200))
    w = rng.random(200)
    assert balanced_error(y_true, y_pred) == pytest.approx(
        1 - balanced_accuracy_score(y_true, y_pred)
    )
    assert balanced_error(y_true, y_pred, sample_weight=w) == pytest.approx(
        1 - balanced_accuracy_score(y_true, y_pred, sample_weight=w)
    )


def test_balanced_error_hand_computed_is_mean_of_class_errors():
    # class "a": 1 error in 4; class "b": 2 errors in 2 -> (1/4 + 1) / 2
    y_true = ["a", "a", "a", "a", "b", "b"]
    y_pred = ["a", "b", "a", "a", "a", "a"]
    assert balanced_error(y_true, y_pred) == pytest.approx(0.625)


def test_balanced_error_of_majority_predictor_is_one_minus_one_over_k():
    y_true = [0] * 90 + [1] * 5 + [2] * 5
    assert balanced_error(y_true, [0] * 100) == pytest.approx(2 / 3)


# ---------------------------------------------------------------- shot accuracy

# Boundary counts: 101 is many, 100 and 20 are medium, 19 is few.
BOUNDARY_COUNTS = {"a": 101, "b": 100, "c": 20, "d": 19}


def test_shot_accuracy_boundaries_100_and_20_are_medium():
    y_true = np.array(["a", "b", "c", "d"])
    for hit in "abcd":
        y_pred = np.where(y_true == hit, y_true, "x")
        scores = shot_accuracy(y_true, y_pred, train_counts=BOUNDARY_COUNTS)
        expected = {
            "many": float(hit == "a"),
            "medium": (hit == "b") / 2 + (hit == "c") / 2,
            "few": float(hit == "d"),
        }
        assert scores == expected


def test_shot_accuracy_is_mean_of_per_class_accuracy_not_sample_accuracy():
    # two many-shot classes: "a" with 10 test samples all right, "b" with 1 sample wrong.
    y_true = ["a"] * 10 + ["b"]
    y_pred = ["a"] * 10 + ["a"]
    scores = shot_accuracy(y_true, y_pred, train_counts={"a": 500, "b": 200})
    assert scores["many"] == pytest.approx(0.5)
    assert math.isnan(scores["medium"]) and math.isnan(scores["few"])


def test_shot_accuracy_train_counts_forms_agree():
    rng = np.random.default_rng(1)
    counts = {0: 300, 1: 120, 2: 60, 3: 25, 4: 10, 5: 3}
    y_train = np.repeat(list(counts), list(counts.values()))
    y_true = rng.integers(0, 6, size=300)
    y_pred = np.where(rng.random(300) < 0.5, y_true, rng.integers(0, 6, size=300))
    from_y = shot_accuracy(y_true, y_pred, y_train=y_train)
    from_dict = shot_accuracy(y_true, y_pred, train_counts=counts)
    # array aligned with labels, given in an unsorted order
    order = [3, 0, 5, 1, 4, 2]
    from_array = shot_accuracy(
        y_true, y_pred, train_counts=[counts[c] for c in order], labels=order
    )
    assert from_y == from_dict == from_array
    recall = [np.mean(y_pred[y_true == c] == c) for c in range(6)]
    assert from_y["many"] == pytest.approx(np.mean(recall[:2]))
    assert from_y["medium"] == pytest.approx(np.mean(recall[2:4]))
    assert from_y["few"] == pytest.approx(np.mean(recall[4:]))


def test_shot_accuracy_group_returns_that_group():
    y_true, y_pred = ["a", "b", "c", "d"], ["a", "x", "c", "x"]
    full = shot_accuracy(y_true, y_pred, train_counts=BOUNDARY_COUNTS)
    for group in ("many", "medium", "few"):
        assert (
            shot_accuracy(y_true, y_pred, train_counts=BOUNDARY_COUNTS, group=group) == full[group]
        )


def test_shot_accuracy_thresholds_are_configurable():
    y_true, y_pred = ["a", "b", "c", "d"], ["a", "x", "c", "x"]
    scores = shot_accuracy(
        y_true, y_pred, train_counts=BOUNDARY_COUNTS, many_threshold=50, few_threshold=50
    )
    # a (101), b (100) are many; nothing is medium (50 <= n <= 50); c (20), d (19) are few
    assert scores["many"] == pytest.approx(0.5)
    assert math.isnan(scores["medium"])
    assert scores["few"] == pytest.approx(0.5)
    scores = shot_accuracy(
        y_true, y_pred, train_counts=BOUNDARY_COUNTS, many_threshold=100, few_threshold=100
    )
    assert scores == {"many": 1.0, "medium": 0.0, "few": 0.5}


def test_shot_accuracy_empty_group_is_nan_and_keys_are_always_present():
    scores = shot_accuracy([0, 1], [0, 0], train_counts={0: 500, 1: 5})
    assert set(scores) == {"many", "medium", "few"}
    assert scores["many"] == 1.0 and scores["few"] == 0.0
    assert math.isnan(scores["medium"])


def test_shot_accuracy_class_unseen_in_y_train_is_few_shot():
    scores = shot_accuracy(["a", "z"], ["a", "z"], y_train=["a"] * 200)
    assert scores["few"] == 1.0


def test_shot_accuracy_ignores_training_classes_absent_from_test():
    scores = shot_accuracy(["a"], ["a"], train_counts={"a": 200, "b": 5})
    assert scores["many"] == 1.0 and math.isnan(scores["few"])


def test_shot_accuracy_sample_weight_weights_within_class():
    y_true, y_pred = ["a", "a"], ["a", "b"]
    scores = shot_accuracy(y_true, y_pred, train_counts={"a": 200}, sample_weight=[3, 1])
    assert scores["many"] == pytest.approx(0.75)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one of train_counts"),
        ({"train_counts": {"a": 1, "b": 1}, "y_train": ["a", "b"]}, "exactly one"),
        ({"train_counts": [200, 5]}, "pass labels"),
        ({"train_counts": [200, 5, 1], "labels": ["a", "b"]}, "aligned"),
        ({"train_counts": {"a": 200}}, "train_counts must give the training count"),
        ({"train_counts": {"a": 200, "b": -1}}, "non-negative"),
        ({"train_counts": {"a": 200, "b": "x"}}, "numeric"),
        ({"y_train": ["a", "b"], "group": "tail"}, "group must be"),
        ({"y_train": ["a", "b"], "few_threshold": 200}, "few_threshold"),
        ({"y_train": ["a", "b"], "many_threshold": -1}, "many_threshold"),
        ({"y_train": ["a", "b"], "sample_weight": [1.0]}, "sample_weight"),
    ],
)
def test_shot_accuracy_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        shot_accuracy(["a", "b"], ["a", "a"], **kwargs)


def test_shot_accuracy_length_mismatch():
    with pytest.raises(ValueError):
        shot_accuracy(["a", "b"], ["a"], y_train=["a"])


# ---------------------------------------------------------------- calibration: hand computed

HAND_Y = [0, 1, 1, 0]
HAND_PROBA = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]


def test_ece_hand_computed():
    # 10 bins: confidences 0.9, 0.8, 0.6 (wrong), 0.7, one per bin -> gaps .1 .2 .6 .3
    assert expected_calibration_error(HAND_Y, HAND_PROBA, n_bins=10) == pytest.approx(0.3)
    assert maximum_calibration_error(HAND_Y, HAND_PROBA, n_bins=10) == pytest.approx(0.6)
    # 2 bins: all in (0.5, 1]: accuracy 3/4 = mean confidence 3/4
    assert expected_calibration_error(HAND_Y, HAND_PROBA, n_bins=2) == pytest.approx(0.0)


def test_classwise_ece_hand_computed():
    # class 0: bin (0,.5]: {.2, not 0} -> .2 ; bin (.5,1]: {.9 y, .6 n, .7 y} -> |2 - 2.2| = .2
    # class 1: bin (0,.5]: {.1 n, .4 y, .3 n} -> |1 - .8| = .2 ; bin (.5,1]: {.8 y} -> .2
    # each class: (.2 + .2) / 4 = .1
    assert classwise_calibration_error(HAND_Y, HAND_PROBA, n_bins=2) == pytest.approx(0.1)


def test_confidence_on_a_bin_edge_falls_in_the_lower_bin():
    # confidence exactly 0.5 (right) and 0.9 (wrong), M = 2.
    # (0, 0.5] holds 0.5: gap .5 ; (0.5, 1] holds 0.9: gap .9  -> ECE .7, MCE .9
    # (were 0.5 in the upper bin: one bin, accuracy .5, confidence .7 -> ECE .2)
    y, proba = [0, 1], [[0.5, 0.5], [0.9, 0.1]]
    assert expected_calibration_error(y, proba, n_bins=2) == pytest.approx(0.7)
    assert maximum_calibration_error(y, proba, n_bins=2) == pytest.approx(0.9)


@pytest.mark.parametrize("n_bins", [2, 4, 10, 15, 20])
def test_probabilities_on_bin_edges_match_the_loop_reference(n_bins):
    # every probability is an edge b/M: the convention (b/M, (b+1)/M] decides all bins
    rng = np.random.default_rng(n_bins)
    p = rng.integers(0, n_bins + 1, size=400) / n_bins
    proba = np.column_stack([1 - p, p])
    y = rng.integers(0, 2, size=400)
    ece, mce = _reference_top_label(y, proba, n_bins)
    assert expected_calibration_error(y, proba, n_bins=n_bins) == pytest.approx(ece)
    assert maximum_calibration_error(y, proba, n_bins=n_bins) == pytest.approx(mce)
    assert classwise_calibration_error(y, proba, n_bins=n_bins) == pytest.approx(
        _reference_classwise(y, proba, n_bins)
    )


@pytest.mark.parametrize("n_bins", [1, 5, 15, 20])
@pytest.mark.parametrize("n_classes", [2, 3, 7])
def test_calibration_errors_match_loop_reference(n_bins, n_classes):
    rng = np.random.default_rng(n_bins * 10 + n_classes)
    proba = _random_proba(rng, 300, n_classes, sharpness=2.0)
    # round some probabilities onto bin edges to exercise the edge convention
    proba[:20] = np.eye(n_classes)[rng.integers(0, n_classes, 20)]
    y = rng.integers(0, n_classes, 300)
    ece, mce = _reference_top_label(y, proba, n_bins)
    assert expected_calibration_error(y, proba, n_bins=n_bins) == pytest.approx(ece)
    assert maximum_calibration_error(y, proba, n_bins=n_bins) == pytest.approx(mce)
    assert classwise_calibration_error(y, proba, n_bins=n_bins) == pytest.approx(
        _reference_classwise(y, proba, n_bins)
    )


def test_perfectly_calibrated_predictor_has_near_zero_errors():
    rng = np.random.default_rng(0)
    n = 200_000
    proba = _random_proba(rng, n, 4, sharpness=1.5)
    # labels drawn from the predicted distribution: calibrated by construction
    y = (rng.random((n, 1)) > np.cumsum(proba, axis=1)).sum(axis=1)
    assert expected_calibration_error(y, proba) < 0.01
    assert classwise_calibration_error(y, proba) < 0.01
    # the same labels with over-confident (sharpened) probabilities are miscalibrated
    sharp = proba**3 / (proba**3).sum(axis=1, keepdims=True)
    assert expected_calibration_error(y, sharp) > 0.05


def test_one_dimensional_binary_proba_equals_two_columns():
    rng = np.random.default_rng(3)
    p = rng.random(100)
    y = np.where(rng.random(100) < p, "yes", "no")
    two = np.column_stack([1 - p, p])
    for metric in (
        expected_calibration_error,
        maximum_calibration_error,
        classwise_calibration_error,
    ):
        assert metric(y, p) == pytest.approx(metric(y, two))


def test_labels_allow_y_true_missing_a_class():
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    with pytest.raises(ValueError, match="Pass labels"):
        expected_calibration_error([0, 1], proba)
    # the column of class 2 is there; class 2 is absent from y_true
    ece = expected_calibration_error([0, 1], proba, labels=[0, 1, 2], n_bins=10)
    assert ece == pytest.approx((0.3 + 0.2) / 2)
    # classwise averages over all three classes, the absent one included
    cw = classwise_calibration_error([0, 1], proba, labels=[0, 1, 2], n_bins=10)
    assert cw == pytest.approx(_reference_classwise(np.array([0, 1]), proba, 10))


def test_labels_order_follows_sorted_labels_like_log_loss():
    proba = [[0.8, 0.2], [0.3, 0.7]]
    y = ["cat", "dog"]
    assert expected_calibration_error(y, proba, labels=["dog", "cat"]) == pytest.approx(
        expected_calibration_error(y, proba, labels=["cat", "dog"])
    )


def test_sample_weight_equals_repetition():
    rng = np.random.default_rng(4)
    proba = _random_proba(rng, 50, 3)
    y = rng.integers(0, 3, 50)
    w = rng.integers(0, 4, 50)
    w[0] = 1
    rep = np.repeat(np.arange(50), w)
    for metric in (
        expected_calibration_error,
        maximum_calibration_error,
        classwise_calibration_error,
    ):
        assert metric(y, proba, sample_weight=w) == pytest.approx(metric(y[rep], proba[rep]))


def test_float32_probabilities_are_accepted():
    rng = np.random.default_rng(5)
    proba = _random_proba(rng, 500, 10)
    y = rng.integers(0, 10, 500)
    p32 = proba.astype(np.float32)
    assert expected_calibration_error(y, p32) == pytest.approx(
        expected_calibration_error(y, proba), abs=1e-5
    )


def test_inputs_are_not_modified():
    proba = np.array(HAND_PROBA)
    y = np.array(HAND_Y)
    proba_copy, y_copy = proba.copy(), y.copy()
    classwise_calibration_error(y, proba)
    expected_calibration_error(y, proba)
    np.testing.assert_array_equal(proba, proba_copy)
    np.testing.assert_array_equal(y, y_copy)


@pytest.mark.parametrize(
    "y, proba, kwargs, message",
    [
        ([0, 1], [[0.5, 0.6], [0.5, 0.5]], {}, "sum to one"),
        ([0, 1], [[2.0, -1.0], [0.5, 0.5]], {}, r"in \[0, 1\]"),
        ([0, 1], [[np.nan, 0.5], [0.5, 0.5]], {}, "NaN"),
        ([0, 1], [[0.5, 0.5]], {}, "samples"),
        ([0, 1], np.full((2, 2, 1), 0.5), {}, "1-D .* or 2-D"),
        ([0, 1], [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]], {"labels": [0, 1]}, "3 columns"),
        ([0, 1, 2], [0.5, 0.5, 0.5], {}, "1-D \\(binary\\)"),
        ([1, 1], [0.5, 0.5], {}, "only the label"),
        ([0, 5], [[0.5, 0.5], [0.5, 0.5]], {"labels": [0, 1]}, "not in labels"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"labels": [0, 0]}, "duplicates"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"n_bins": 0}, "n_bins"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"n_bins": 2.5}, "n_bins"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"sample_weight": [1, -1]}, "sample_weight"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], {"sample_weight": [0, 0]}, "sums to zero"),
        ([0, 1], [["a", "b"], ["c", "d"]], {}, "numeric"),
    ],
)
@pytest.mark.parametrize(
    "metric",
    [expected_calibration_error, maximum_calibration_error, classwise_calibration_error],
)
def test_calibration_bad_input(metric, y, proba, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metric(y, proba, **kwargs)


# ---------------------------------------------------------------- calibration: properties


@st.composite
def _proba_and_labels(draw):
    n_classes = draw(st.integers(2, 5))
    n = draw(st.integers(1, 40))
    raw = draw(
        arrays(np.float64, (n, n_classes), elements=st.floats(0.0, 1.0, allow_subnormal=False))
    )
    raw = raw + 1e-3
    proba = raw / raw.sum(axis=1, keepdims=True)
    y = draw(arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    return y, proba, n_classes


@settings(max_examples=60, deadline=None)
@given(_proba_and_labels(), st.integers(1, 25))
def test_property_errors_in_unit_interval_and_mce_at_least_ece(data, n_bins):
    y, proba, k = data
    labels = np.arange(k)
    ece = expected_calibration_error(y, proba, n_bins=n_bins, labels=labels)
    mce = maximum_calibration_error(y, proba, n_bins=n_bins, labels=labels)
    cw = classwise_calibration_error(y, proba, n_bins=n_bins, labels=labels)
    assert 0.0 <= ece <= 1.0 + 1e-12
    assert 0.0 <= cw <= 1.0 + 1e-12
    assert ece <= mce + 1e-12 <= 1.0 + 2e-12


@settings(max_examples=40, deadline=None)
@given(_proba_and_labels(), st.randoms(use_true_random=False))
def test_property_invariant_to_permuting_samples(data, random):
    y, proba, k = data
    perm = np.array(random.sample(range(len(y)), len(y)))
    labels = np.arange(k)
    for metric in (
        expected_calibration_error,
        maximum_calibration_error,
        classwise_calibration_error,
    ):
        assert metric(y[perm], proba[perm], labels=labels) == pytest.approx(
            metric(y, proba, labels=labels)
        )


@settings(max_examples=40, deadline=None)
@given(_proba_and_labels())
def test_property_string_labels_give_the_same_errors(data):
    y, proba, k = data
    names = np.array([f"class_{i}" for i in range(k)])  # sorts like 0..k-1 for k <= 10
    for metric in (
        expected_calibration_error,
        maximum_calibration_error,
        classwise_calibration_error,
    ):
        assert metric(names[y], proba, labels=names) == pytest.approx(
            metric(y, proba, labels=np.arange(k))
        )


# ---------------------------------------------------------------- scorers


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(
        n_samples=200,
        n_features=5,
        n_informative=3,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=0,
    )
    return LogisticRegression(max_iter=500).fit(X, y), X, y


@pytest.mark.parametrize(
    "name, metric, method",
    [
        ("neg_balanced_error", balanced_error, "predict"),
        ("neg_expected_calibration_error", expected_calibration_error, "predict_proba"),
        ("neg_classwise_calibration_error", classwise_calibration_error, "predict_proba"),
        ("neg_maximum_calibration_error", maximum_calibration_error, "predict_proba"),
        ("neg_log_loss", log_loss, "predict_proba"),
        ("neg_brier_score", brier_score_loss, "predict_proba"),
    ],
)
def test_scorer_is_negated_metric(fitted, name, metric, method):
    clf, X, y = fitted
    expected = -metric(y, getattr(clf, method)(X))
    assert get_scorer(name)(clf, X, y) == pytest.approx(expected)


def test_geometric_mean_scorer_uses_correction_0_001(fitted):
    clf, X, y = fitted
    expected = geometric_mean_score(y, clf.predict(X), correction=0.001)
    assert get_scorer("geometric_mean")(clf, X, y) == pytest.approx(expected)
    # a class never predicted: its recall 0 is replaced by 0.001, not a zero product
    y_pred = np.zeros_like(y)
    value = geometric_mean_score(y, y_pred, correction=0.001)
    assert value > 0
    assert value == pytest.approx((1.0 * 0.001 * 0.001) ** (1 / 3))


def test_geometric_mean_scorer_skips_classes_absent_from_the_test_fold(fitted):
    clf, X, y = fitted
    keep = y != 2
    y_pred = clf.predict(X[keep])
    assert np.any(y_pred == 2)  # the missing class is predicted: its recall is undefined
    recalls = [np.mean(y_pred[y[keep] == c] == c) for c in (0, 1)]
    expected = np.sqrt(np.prod(np.maximum(recalls, 0.001)))
    assert get_scorer("geometric_mean")(clf, X[keep], y[keep]) == pytest.approx(expected)


def test_probability_scorers_survive_a_test_fold_missing_a_class(fitted):
    clf, X, y = fitted
    keep = y != 2
    for name in SKLT_SCORERS:
        value = get_scorer(name)(clf, X[keep], y[keep])
        assert np.isfinite(value)
    expected = -expected_calibration_error(y[keep], clf.predict_proba(X[keep]), labels=[0, 1, 2])
    assert get_scorer("neg_expected_calibration_error")(clf, X[keep], y[keep]) == pytest.approx(
        expected
    )


def test_scorers_inside_grid_search_with_a_fold_missing_a_class():
    X, y = make_classification(
        n_samples=120,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        random_state=1,
    )
    train = np.arange(120)
    test_no_class_2 = np.flatnonzero(y != 2)[:30]
    cv = [(train, test_no_class_2), (train, np.arange(60, 120))]
    scoring = {name: get_scorer(name) for name in SKLT_SCORERS}
    scoring["balanced_accuracy"] = "balanced_accuracy"
    search = GridSearchCV(
        LogisticRegression(max_iter=300),
        {"C": [0.01, 1.0]},
        scoring=scoring,
        refit="neg_balanced_error",
        cv=cv,
        error_score="raise",
    ).fit(X, y)
    for name in SKLT_SCORERS:
        assert np.all(np.isfinite(search.cv_results_[f"mean_test_{name}"]))
    np.testing.assert_allclose(
        search.cv_results_["mean_test_neg_balanced_error"],
        search.cv_results_["mean_test_balanced_accuracy"] - 1,
    )


def test_binary_string_labels_calibration_scorer():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=80) > 0, "spam", "ham")
    clf = LogisticRegression().fit(X, y)
    expected = -expected_calibration_error(y, clf.predict_proba(X))
    assert get_scorer("neg_expected_calibration_error")(clf, X, y) == pytest.approx(expected)
    scores = cross_val_score(LogisticRegression(), X, y, cv=3,
                             scoring=get_scorer("neg_balanced_error"))
    assert np.all((scores <= 0) & (scores >= -1))


def test_shot_accuracy_scorer_with_make_scorer(fitted):
    clf, X, y = fitted
    labels, n = np.unique(y, return_counts=True)
    counts = dict(zip(labels, n, strict=True))
    scorer = make_scorer(shot_accuracy, group="few", train_counts=counts, few_threshold=30)
    expected = shot_accuracy(y, clf.predict(X), train_counts=counts, few_threshold=30)["few"]
    assert scorer(clf, X, y) == pytest.approx(expected)


def test_make_scorer_passes_classes_only_to_probability_metrics(fitted):
    clf, X, y = fitted
    keep = y != 2
    seen = {}

    def spy(y_true, y_pred, labels=None):
        seen["labels"] = labels
        return 0.0

    make_scorer(spy, response_method="predict_proba")(clf, X[keep], y[keep])
    np.testing.assert_array_equal(seen["labels"], clf.classes_)
    make_scorer(spy)(clf, X[keep], y[keep])
    assert seen["labels"] is None
    make_scorer(spy, response_method="predict_proba", labels=[7])(clf, X, y)
    assert seen["labels"] == [7]


def test_get_scorer_falls_back_to_scikit_learn(fitted):
    clf, X, y = fitted
    assert get_scorer("accuracy")(clf, X, y) == sklearn_get_scorer("accuracy")(clf, X, y)
    assert get_scorer("roc_auc_ovr")(clf, X, y) == pytest.approx(
        sklearn_get_scorer("roc_auc_ovr")(clf, X, y)
    )


def test_get_scorer_passes_callables_and_none_through():
    scorer = get_scorer("neg_expected_calibration_error")
    assert get_scorer(scorer) is scorer

    def custom(estimator, X, y):
        return 0.0

    assert get_scorer(custom) is custom
    assert get_scorer(None) is None


def test_get_scorer_returns_a_copy():
    first = get_scorer("neg_expected_calibration_error")
    first._kwargs["n_bins"] = 3
    assert "n_bins" not in get_scorer("neg_expected_calibration_error")._kwargs


def test_get_scorer_unknown_name():
    with pytest.raises(ValueError, match=re.escape("'not_a_metric' is not a valid scoring")):
        get_scorer("not_a_metric")


def test_get_scorer_names_lists_sklt_and_sklearn_names():
    names = get_scorer_names()
    assert names == sorted(set(names))
    assert set(SKLT_SCORERS) <= set(names)
    assert set(sklearn_get_scorer_names()) <= set(names)
    for name in SKLT_SCORERS:
        get_scorer(name)


# ---------------------------------------------------------------- dense metrics

# Two 2x3 images; 255 is ignored.
SEG_TRUE = np.array([[[0, 0, 1], [1, 2, 255]], [[2, 2, 255], [0, 1, 1]]], dtype=np.uint8)
SEG_PRED = np.array([[[0, 1, 1], [1, 2, 0]], [[2, 0, 1], [0, 1, 2]]], dtype=np.uint8)
# valid pixels (true, pred): (0,0) (0,1) (1,1) (1,1) (2,2) | (2,2) (2,0) (0,0) (1,1) (1,2)
SEG_CM = np.array([[2, 1, 0], [0, 3, 1], [1, 0, 2]])


def test_segmentation_confusion_matrix_hand_computed_with_ignored_pixels():
    cm = segmentation_confusion_matrix(SEG_TRUE, SEG_PRED, ignore_index=255)
    np.testing.assert_array_equal(cm, SEG_CM)
    valid = SEG_TRUE != 255
    np.testing.assert_array_equal(cm, confusion_matrix(SEG_TRUE[valid], SEG_PRED[valid]))


def test_mean_iou_hand_computed():
    # IoU_c = C_cc / (row_c + col_c - C_cc): 2/(3+3-2), 3/(4+4-3), 2/(3+3-2)
    iou = np.array([2 / 4, 3 / 5, 2 / 4])
    np.testing.assert_allclose(mean_iou(SEG_TRUE, SEG_PRED, ignore_index=255, average=None), iou)
    assert mean_iou(SEG_TRUE, SEG_PRED, ignore_index=255) == pytest.approx(iou.mean())
    valid = SEG_TRUE != 255
    np.testing.assert_allclose(iou, jaccard_score(SEG_TRUE[valid], SEG_PRED[valid], average=None))


def test_mean_class_accuracy_hand_computed():
    acc = np.array([2 / 3, 3 / 4, 2 / 3])
    np.testing.assert_allclose(
        mean_class_accuracy(SEG_TRUE, SEG_PRED, ignore_index=255, average=None), acc
    )
    assert mean_class_accuracy(SEG_TRUE, SEG_PRED, ignore_index=255) == pytest.approx(acc.mean())
    valid = SEG_TRUE != 255
    assert mean_class_accuracy(SEG_TRUE, SEG_PRED, ignore_index=255) == pytest.approx(
        balanced_accuracy_score(SEG_TRUE[valid], SEG_PRED[valid])
    )


def test_ignored_pixels_do_not_count_whatever_is_predicted_there():
    other = SEG_PRED.copy()
    other[SEG_TRUE == 255] = 2
    assert mean_iou(SEG_TRUE, other, ignore_index=255) == mean_iou(
        SEG_TRUE, SEG_PRED, ignore_index=255
    )
    # without ignore_index, 255 is a class and the change shows
    assert mean_iou(SEG_TRUE, other, n_classes=256) != pytest.approx(
        mean_iou(SEG_TRUE, SEG_PRED, n_classes=256)
    )


def test_classes_absent_from_truth_and_prediction_are_left_out_of_the_mean():
    iou = mean_iou(SEG_TRUE, SEG_PRED, ignore_index=255, n_classes=6, average=None)
    assert np.all(np.isnan(iou[3:]))
    assert mean_iou(SEG_TRUE, SEG_PRED, ignore_index=255, n_classes=6) == pytest.approx(
        mean_iou(SEG_TRUE, SEG_PRED, ignore_index=255)
    )
    assert mean_class_accuracy(SEG_TRUE, SEG_PRED, ignore_index=255, n_classes=6) == (
        pytest.approx(mean_class_accuracy(SEG_TRUE, SEG_PRED, ignore_index=255))
    )


def test_class_predicted_but_absent_from_truth_has_zero_iou_and_no_accuracy():
    y_true = np.array([[0, 0], [1, 1]])
    y_pred = np.array([[0, 2], [1, 1]])
    np.testing.assert_allclose(mean_iou(y_true, y_pred, average=None), [0.5, 1.0, 0.0])
    acc = mean_class_accuracy(y_true, y_pred, average=None)
    np.testing.assert_allclose(acc[:2], [0.5, 1.0])
    assert np.isnan(acc[2])
    assert mean_class_accuracy(y_true, y_pred) == pytest.approx(0.75)


def test_confusion_matrices_of_batches_add_up():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, size=(6, 8, 8))
    y_true[rng.random(y_true.shape) < 0.1] = 255
    y_pred = rng.integers(0, 5, size=(6, 8, 8))
    whole = segmentation_confusion_matrix(y_true, y_pred, n_classes=5, ignore_index=255)
    parts = sum(
        segmentation_confusion_matrix(
            y_true[i : i + 2], y_pred[i : i + 2], n_classes=5, ignore_index=255
        )
        for i in range(0, 6, 2)
    )
    np.testing.assert_array_equal(whole, parts)
    assert whole.sum() == np.sum(y_true != 255)


def test_dense_metrics_do_not_modify_inputs():
    y_true, y_pred = SEG_TRUE.copy(), SEG_PRED.copy()
    mean_iou(y_true, y_pred, ignore_index=255)
    mean_class_accuracy(y_true, y_pred, ignore_index=255)
    np.testing.assert_array_equal(y_true, SEG_TRUE)
    np.testing.assert_array_equal(y_pred, SEG_PRED)


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, message",
    [
        (np.zeros((2, 3), int), np.zeros((2, 4), int), {}, "same shape"),
        (np.zeros((2, 3), int), np.zeros((2, 3, 3)), {}, "same shape"),
        (np.zeros((2, 3)), np.zeros((2, 3)), {}, "integer class indices"),
        (np.zeros((2, 3), int), np.full((2, 3), 4), {"n_classes": 3}, "y_pred has class"),
        (np.full((2, 3), 3), np.zeros((2, 3), int), {"n_classes": 3}, "y_true has class"),
        (np.full((2, 3), 255), np.zeros((2, 3), int), {"ignore_index": 255}, "no pixels"),
        (np.full((2, 3), -1), np.zeros((2, 3), int), {}, r"\[-1, -1\]"),
        (np.zeros((2, 3), int), np.zeros((2, 3), int), {"n_classes": 0}, "n_classes"),
        (np.zeros((2, 3), int), np.zeros((2, 3), int), {"ignore_index": 2.5}, "ignore_index"),
    ],
)
@pytest.mark.parametrize("metric", [segmentation_confusion_matrix, mean_iou, mean_class_accuracy])
def test_dense_bad_input(metric, y_true, y_pred, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metric(y_true, y_pred, **kwargs)


@pytest.mark.parametrize("metric", [mean_iou, mean_class_accuracy])
def test_dense_bad_average(metric):
    with pytest.raises(ValueError, match="average"):
        metric(SEG_TRUE, SEG_PRED, ignore_index=255, average="micro")


def test_calibration_scorer_passes_sample_weight(fitted):
    clf, X, y = fitted
    w = np.random.default_rng(0).random(len(y))
    expected = -expected_calibration_error(y, clf.predict_proba(X), sample_weight=w)
    scorer = get_scorer("neg_expected_calibration_error")
    assert scorer(clf, X, y, sample_weight=w) == pytest.approx(expected)


def test_calibration_scorer_with_metadata_routing_in_grid_search(fitted):
    _, X, y = fitted
    w = np.random.default_rng(1).random(len(y))
    cv = KFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("neg_expected_calibration_error").set_score_request(sample_weight=True)
        estimator = LogisticRegression(max_iter=500).set_fit_request(sample_weight=False)
        search = GridSearchCV(estimator, {"C": [1.0]}, scoring=scorer, cv=cv).fit(
            X, y, sample_weight=w
        )
    train, test = next(cv.split(X))
    model = LogisticRegression(max_iter=500).fit(X[train], y[train])
    expected = -expected_calibration_error(
        y[test], model.predict_proba(X[test]), sample_weight=w[test]
    )
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected)


def test_chunked_computation_equals_one_pass(monkeypatch):
    import sklt.metrics

    rng = np.random.default_rng(7)
    proba = _random_proba(rng, 101, 6)
    y = rng.integers(0, 6, 101)
    w = rng.random(101)
    y_true = rng.integers(0, 4, size=(3, 7, 5)).astype(np.uint8)
    y_true[rng.random(y_true.shape) < 0.2] = 255
    y_pred = rng.integers(0, 4, size=(3, 7, 5)).astype(np.uint8)
    one_pass = (
        classwise_calibration_error(y, proba, sample_weight=w),
        segmentation_confusion_matrix(y_true, y_pred, ignore_index=255),
    )
    monkeypatch.setattr(sklt.metrics, "_CHUNK_ELEMENTS", 13)
    chunked = (
        classwise_calibration_error(y, proba, sample_weight=w),
        segmentation_confusion_matrix(y_true, y_pred, ignore_index=255),
    )
    assert chunked[0] == pytest.approx(one_pass[0])
    assert chunked[0] == pytest.approx(_reference_classwise_weighted(y, proba, w, 15))
    np.testing.assert_array_equal(chunked[1], one_pass[1])


def _reference_classwise_weighted(y_idx, proba, w, n_bins):
    total = 0.0
    for j in range(proba.shape[1]):
        for in_bin in _reference_bins(proba[:, j], n_bins):
            if in_bin.any():
                wb = w[in_bin]
                freq = np.sum(wb * (y_idx[in_bin] == j)) / wb.sum()
                conf = np.sum(wb * proba[in_bin, j]) / wb.sum()
                total += wb.sum() / w.sum() * abs(freq - conf)
    return total / proba.shape[1]


def test_sklt_scorers_tune_a_prior_shift_classifier():
    from sklt import PriorShiftClassifier

    X, y = make_classification(
        n_samples=300, n_classes=3, n_informative=3, weights=[0.8, 0.15, 0.05], random_state=0
    )
    scoring = {
        "neg_balanced_error": get_scorer("neg_balanced_error"),
        "ece": get_scorer("neg_expected_calibration_error"),
    }
    search = GridSearchCV(
        PriorShiftClassifier(LogisticRegression()),
        {"lam": [0.0, 1.0]},
        scoring=scoring,
        refit="neg_balanced_error",
        cv=3,
        error_score="raise",
    ).fit(X, y)
    assert search.best_params_["lam"] in (0.0, 1.0)
    assert np.all(np.isfinite(search.cv_results_["mean_test_ece"]))
    # correcting to a uniform prior lowers the balanced error on this long-tailed data
    scores = search.cv_results_["mean_test_neg_balanced_error"]
    assert scores[1] > scores[0]
