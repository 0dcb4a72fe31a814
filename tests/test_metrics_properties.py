"""Property-based tests (hypothesis) of sklt.metrics under bad and extreme input.

The contract (issue #12): a bad input gets a ValueError/TypeError (or scikit-learn's
InvalidParameterError) whose message names the parameter; a valid input, however
extreme, gets a correct, finite answer.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils._param_validation import InvalidParameterError

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
    shot_accuracy,
)

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
CALIBRATION_ERRORS = [expected_calibration_error, maximum_calibration_error,
                      classwise_calibration_error]


@st.composite
def labelled_predictions(draw, min_classes=2, max_classes=5):
    """(y_true, y_pred, proba) with every class of proba's columns in y_true."""
    n_classes = draw(st.integers(min_classes, max_classes))
    n_extra = draw(st.integers(0, 25))
    y_true = np.concatenate([np.arange(n_classes),
                             draw(hnp.arrays(np.int64, n_extra,
                                             elements=st.integers(0, n_classes - 1)))])
    y_pred = draw(hnp.arrays(np.int64, len(y_true), elements=st.integers(0, n_classes - 1)))
    raw = draw(hnp.arrays(np.float64, (len(y_true), n_classes),
                          elements=st.floats(0, 1, allow_nan=False)))
    raw = raw + 1e-3
    proba = raw / raw.sum(axis=1, keepdims=True)
    return y_true, y_pred, proba


def _continuous(n, rng):
    values = rng.uniform(0.1, 5.0, size=n)
    values[0] = 0.5  # at least one fractional value
    return values


# --------------------------------------------------------------------------- labels
@SETTINGS
@given(labelled_predictions(), st.integers(0, 1000))
def test_shot_accuracy_rejects_nan_labels_naming_them(data, where):
    y_true, y_pred, _ = data
    for name in ("y_true", "y_pred"):
        args = {"y_true": y_true.astype(float), "y_pred": y_pred.astype(float)}
        args[name][where % len(y_true)] = np.nan
        with pytest.raises(ValueError, match=f"{name} contains NaN"):
            shot_accuracy(**args, y_train=y_true)


@SETTINGS
@given(labelled_predictions(), st.integers(0, 2**32 - 1))
def test_shot_accuracy_rejects_continuous_labels(data, seed):
    y_true, y_pred, _ = data
    rng = np.random.default_rng(seed)
    with pytest.raises(ValueError, match="y_true must hold class labels.*continuous"):
        shot_accuracy(_continuous(len(y_true), rng), y_pred, y_train=y_true)
    with pytest.raises(ValueError, match="y_pred must hold class labels.*continuous"):
        shot_accuracy(y_true, _continuous(len(y_true), rng), y_train=y_true)
    with pytest.raises(ValueError, match="y_train must hold class labels.*continuous"):
        shot_accuracy(y_true, y_pred, y_train=_continuous(len(y_true), rng))


@SETTINGS
@given(labelled_predictions())
def test_shot_accuracy_rejects_label_types_that_do_not_match(data):
    y_true, y_pred, _ = data
    as_str = np.array([f"c{v}" for v in y_true])
    with pytest.raises(ValueError, match="Label types do not match.*y_true.*y_pred"):
        shot_accuracy(as_str, y_pred, y_train=as_str)
    with pytest.raises(ValueError, match="Label types do not match.*y_true.*y_train"):
        shot_accuracy(y_true, y_pred, y_train=as_str)
    with pytest.raises(ValueError, match="Label types do not match"):
        shot_accuracy(y_true, y_pred, train_counts={f"c{c}": 50 for c in np.unique(y_true)})


@SETTINGS
@given(labelled_predictions(), st.floats(1e-300, 1e308), st.integers(0, 2**32 - 1))
def test_shot_accuracy_is_a_mean_recall_invariant_to_weight_scale(data, scale, seed):
    y_true, y_pred, _ = data
    rng = np.random.default_rng(seed)
    counts = {c: int(n) for c, n in zip(*np.unique(y_true, return_counts=True), strict=True)}
    counts = {c: [5, 50, 500][c % 3] for c in counts}
    w = rng.uniform(0.5, 1.0, size=len(y_true))
    plain = shot_accuracy(y_true, y_pred, train_counts=counts, sample_weight=w)
    scaled = shot_accuracy(y_true, y_pred, train_counts=counts, sample_weight=w * scale)
    for group, value in plain.items():
        if np.isnan(value):
            assert np.isnan(scaled[group])
        else:
            assert 0 <= value <= 1
            assert scaled[group] == pytest.approx(value, rel=1e-9, abs=1e-12)
    recall = [np.average(y_pred[y_true == c] == c, weights=w[y_true == c])
              for c in sorted(counts) if counts[c] < 20]
    assert plain["few"] == pytest.approx(np.mean(recall))


@SETTINGS
@given(labelled_predictions(), st.integers(0, 1000))
def test_balanced_error_rejects_nan_and_continuous_labels(data, where):
    y_true, y_pred, _ = data
    bad = y_true.astype(float)
    bad[where % len(bad)] = np.nan
    with pytest.raises(ValueError, match="y_true contains NaN"):
        balanced_error(bad, y_pred)
    bad[where % len(bad)] = 0.25
    with pytest.raises(ValueError, match="y_true must hold class labels"):
        balanced_error(bad, y_pred)
    value = balanced_error(y_true, y_pred)
    assert value == pytest.approx(1 - balanced_accuracy_score(y_true, y_pred))


# --------------------------------------------------------------------------- calibration
@pytest.mark.parametrize("metric", CALIBRATION_ERRORS)
@SETTINGS
@given(data=labelled_predictions(), seed=st.integers(0, 2**32 - 1))
def test_calibration_errors_reject_continuous_y_true(metric, data, seed):
    y_true, _, proba = data
    y_cont = _continuous(len(y_true), np.random.default_rng(seed))
    with pytest.raises(ValueError, match="y_true must hold class labels.*continuous"):
        metric(y_cont, proba)
    with pytest.raises(ValueError, match="y_true must hold class labels.*continuous"):
        metric(y_cont, proba[:, 0] if proba.shape[1] == 2 else proba,
               labels=np.arange(proba.shape[1]))


@pytest.mark.parametrize("metric", CALIBRATION_ERRORS)
@SETTINGS
@given(data=labelled_predictions(), where=st.integers(0, 1000))
def test_calibration_errors_report_nan_labels_as_nan(metric, data, where):
    y_true, _, proba = data
    bad = y_true.astype(float)
    bad[where % len(bad)] = np.nan
    for labels in (None, np.arange(proba.shape[1])):
        with pytest.raises(ValueError, match="y_true contains NaN") as info:
            metric(bad, proba, labels=labels)
        assert "[nan]" not in str(info.value)


@pytest.mark.parametrize("metric", CALIBRATION_ERRORS)
@SETTINGS
@given(data=labelled_predictions(), n_bins=st.integers(1, 40),
       strategy=st.sampled_from(["uniform", "quantile"]), scale=st.floats(1e-300, 1e308),
       float32=st.booleans())
def test_calibration_errors_are_finite_in_unit_interval(metric, data, n_bins, strategy, scale,
                                                       float32):
    y_true, _, proba = data
    if float32:
        proba = proba.astype(np.float32)
    w = np.linspace(0.5, 1.0, len(y_true))
    value = metric(y_true, proba, n_bins=n_bins, strategy=strategy, sample_weight=w)
    scaled = metric(y_true, proba, n_bins=n_bins, strategy=strategy, sample_weight=w * scale)
    assert np.isfinite(value) and 0 <= value <= 1 + 1e-9
    assert scaled == pytest.approx(value, rel=1e-7, abs=1e-12)


@SETTINGS
@given(data=labelled_predictions(), n_bins=st.integers(1, 40))
def test_maximum_calibration_error_bounds_the_expected(data, n_bins):
    y_true, _, proba = data
    ece = expected_calibration_error(y_true, proba, n_bins=n_bins)
    assert maximum_calibration_error(y_true, proba, n_bins=n_bins) >= ece - 1e-12


@SETTINGS
@given(data=labelled_predictions(), weights=st.lists(st.floats(allow_nan=True,
                                                                allow_infinity=True),
                                                      min_size=1, max_size=3))
def test_calibration_errors_reject_bad_sample_weight_naming_it(data, weights):
    y_true, _, proba = data
    w = np.ones(len(y_true))
    k = min(len(weights), len(w))
    w[:k] = weights[:k]
    bad = not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0)
    if bad:
        with pytest.raises(ValueError, match="sample_weight"):
            expected_calibration_error(y_true, proba, sample_weight=w)
    else:
        assert np.isfinite(expected_calibration_error(y_true, proba, sample_weight=w))


# --------------------------------------------------------------------------- dense metrics
@SETTINGS
@given(maps=hnp.arrays(np.int64, st.tuples(st.integers(1, 3), st.integers(1, 6),
                                           st.integers(1, 6)), elements=st.integers(0, 4)),
       seed=st.integers(0, 2**32 - 1))
def test_dense_metrics_are_in_unit_interval_and_reject_float_maps(maps, seed):
    pred = np.random.default_rng(seed).permutation(maps.ravel()).reshape(maps.shape)
    for metric in (mean_iou, mean_class_accuracy):
        value = metric(maps, pred)
        assert 0 <= value <= 1
        with pytest.raises(ValueError, match="y_true must hold integer class indices"):
            metric(maps + 0.5, pred)


# --------------------------------------------------------------------------- scorers
@SETTINGS
@given(st.one_of(st.text(max_size=5), st.integers(), st.none(), st.floats()))
def test_make_scorer_validates_greater_is_better_at_construction(value):
    if isinstance(value, bool):  # pragma: no cover - st.integers never draws bools
        return
    with pytest.raises(InvalidParameterError, match="greater_is_better"):
        make_scorer(balanced_error, greater_is_better=value)


@SETTINGS
@given(st.one_of(st.text(max_size=12), st.integers(), st.lists(st.text(max_size=6),
                                                               max_size=2)))
def test_make_scorer_validates_response_method_at_construction(value):
    known = {"predict", "predict_proba", "decision_function", "predict_log_proba"}
    valid = (isinstance(value, str) and value in known - {"predict_log_proba"}) or (
        isinstance(value, list) and value and all(v in known for v in value)
    )
    if valid:
        make_scorer(balanced_error, response_method=value)
    else:
        with pytest.raises(InvalidParameterError, match="response_method"):
            make_scorer(balanced_error, response_method=value)


def test_make_scorer_rejects_a_name_pointing_to_get_scorer():
    with pytest.raises(InvalidParameterError, match=r"get_scorer\('balanced_error'\)"):
        make_scorer("balanced_error")


@pytest.mark.parametrize("name", ["balanced_error", "expected_calibration_error",
                                  "classwise_calibration_error", "maximum_calibration_error"])
def test_no_bare_loss_name_is_a_scorer(name):
    assert name not in get_scorer_names()
    with pytest.raises(ValueError, match=f"use 'neg_{name}'"):
        get_scorer(name)


@SETTINGS
@given(big=st.integers(1 << 15, 2**62))
def test_huge_sizes_get_an_error_naming_them_not_a_memory_error(big):
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0, 1], [0.2, 0.7], n_bins=big * 64)
    with pytest.raises(ValueError, match="n_classes"):
        mean_iou([[0, big]], [[0, 1]])
    with pytest.raises(ValueError, match="n_classes"):
        mean_class_accuracy([[0, 1]], [[0, 1]], n_classes=big + 1)
