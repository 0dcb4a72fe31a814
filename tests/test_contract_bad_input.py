"""Bad-input contract, by defect class: what an independent generated suite found (#12).

Each test covers one *class* of defect across every public name it reaches, with
hypothesis generating the members of the class where the class is open-ended:

- ragged or non-array values given for an array argument (labels, probabilities,
  label maps, classes) reach NumPy internals ("setting an array element with a
  sequence");
- complex or non-numeric values given for numbers are coerced silently;
- a bad ``random_state`` is reported by NumPy without naming it;
- Python integers beyond int64 / float64, and sizes no machine holds, reach NumPy
  internals or hang;
- labels of an object dtype holding numbers are rejected as ``'unknown'`` (and
  complex labels dump the whole array);
- ``classes`` holding NaN or mixed types are accepted;
- the remaining silent answers: a count helper summing zero weights, a dataset
  generator returning non-finite X, a fused float32 model returning float64 with
  float32 precision, displays drawing NaN/inf data, a mixing augmentation taking
  NaN or negative weights.

Errors must be ``ValueError``/``TypeError`` whose message names the parameter.
"""

import numpy as np
import pytest
from _contract import raises_naming
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from sklt import (
    ClassOffsetClassifierCV,
    LogitAdjuster,
    NoisyOrFusionClassifier,
    PriorShiftClassifier,
)
from sklt.datasets import (
    make_imbalanced_circles,
    make_imbalanced_gaussians,
    make_imbalanced_moons,
    make_long_tailed,
    make_shifted_test,
)
from sklt.metrics import (
    balanced_error,
    classwise_calibration_error,
    expected_calibration_error,
    maximum_calibration_error,
    mean_iou,
    shot_accuracy,
)
from sklt.model_selection import (
    RepeatedTailSafeStratifiedKFold,
    TailSafeStratifiedKFold,
    adjustment_curve,
)
from sklt.priors import check_prior, class_counts, class_frequencies, long_tail_counts

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)

rng = np.random.default_rng(0)
Y = np.repeat([0, 1, 2], [30, 15, 10])
X = rng.normal(size=(len(Y), 4)) + Y[:, None]
P = np.full((len(Y), 3), 1 / 3)
FITTED = LogitAdjuster(LogisticRegression()).fit(X[:, :2], Y)



# --------------------------------------------------------------------- ragged array arguments
RAGGED = st.sampled_from([[[0, 1], [1]], [[0.5, 0.5], [1.0]], [0, [1, 2]], [[0], [1, 2], []]])

LABEL_TAKERS = {
    "balanced_error/y_true": (lambda v: balanced_error(v, [0, 1]), "y_true"),
    "balanced_error/y_pred": (lambda v: balanced_error([0, 1], v), "y_pred"),
    "shot_accuracy/y_train": (lambda v: shot_accuracy([0, 1], [0, 1], y_train=v), "y_train"),
    "expected_calibration_error/y_true": (
        lambda v: expected_calibration_error(v, [[0.5, 0.5], [0.5, 0.5]]), "y_true"),
    "expected_calibration_error/y_proba": (
        lambda v: expected_calibration_error([0, 1], v), "y_proba"),
    "maximum_calibration_error/y_proba": (
        lambda v: maximum_calibration_error([0, 1], v), "y_proba"),
    "classwise_calibration_error/y_proba": (
        lambda v: classwise_calibration_error([0, 1], v), "y_proba"),
    "mean_iou/y_true": (lambda v: mean_iou(v, [[0, 1], [1, 0]]), "y_true"),
    "mean_iou/y_pred": (lambda v: mean_iou([[0, 1], [1, 0]], v), "y_pred"),
    "check_prior/classes": (lambda v: check_prior("uniform", v), "classes"),
    "class_counts/classes": (lambda v: class_counts([0], v), "classes"),
    "LogitAdjuster.fit/y": (lambda v: LogitAdjuster().fit(X[:2], v), "y"),
    "LogitAdjuster.fit/X": (lambda v: LogitAdjuster().fit(v, [0, 1]), "X"),
    "LogitAdjuster.predict_proba/X": (lambda v: FITTED.predict_proba(v), "X"),
    "NoisyOrFusionClassifier.fit/X": (
        lambda v: NoisyOrFusionClassifier([("m", LogisticRegression())]).fit(v, [0, 1]), "X"),
    "ClassOffsetClassifierCV.fit/y": (
        lambda v: ClassOffsetClassifierCV().fit(X[:len(v)], v), "y"),
    "ClassOffsetClassifierCV.fit/X": (
        lambda v: ClassOffsetClassifierCV().fit(v, [0, 1]), "X"),
    "TailSafeStratifiedKFold.split/y": (
        lambda v: list(TailSafeStratifiedKFold(2).split(np.zeros((len(v), 1)), v)), "y"),
}


@SETTINGS
@given(value=RAGGED, taker=st.sampled_from(sorted(LABEL_TAKERS)))
def test_ragged_arrays_are_errors_naming_the_argument(value, taker):
    call, name = LABEL_TAKERS[taker]
    raises_naming(lambda: call(value), name)


@pytest.mark.parametrize("y_proba", [None, "abc", {"a": 1}])
def test_non_arrays_as_probabilities_name_y_proba(y_proba):
    raises_naming(lambda: expected_calibration_error([0, 1], y_proba), "y_proba")


# --------------------------------------------------------------------- numbers that are not real
NOT_REAL = st.sampled_from([
    np.ones(6) + 1j, np.array(["1"] * 6), ["a"] * 6, np.array([None] * 6, dtype=object),
])


@SETTINGS
@given(weights=NOT_REAL, metric=st.sampled_from(
    [balanced_error, expected_calibration_error, classwise_calibration_error]))
def test_sample_weight_of_complex_or_strings_is_a_type_error(weights, metric):
    y = np.array([0, 1, 0, 1, 0, 1])
    second = y if metric is balanced_error else np.full((6, 2), 0.5)
    raises_naming(lambda: metric(y, second, sample_weight=weights), "sample_weight")


def test_complex_sample_weight_is_not_truncated_to_its_real_part():
    # numpy casts 1+1j to 1.0 with a ComplexWarning: the old answer was silently 0.0
    with pytest.raises(TypeError, match="sample_weight"):
        balanced_error([0, 1], [0, 1], sample_weight=np.array([1 + 1j, 1 + 1j]))


# --------------------------------------------------------------------- random_state
BAD_SEEDS = st.sampled_from([-1, 0.5, 1e10, "abc", np.nan, [1], 2**40, {"a": 1}])


@SETTINGS
@given(seed=BAD_SEEDS, call=st.sampled_from([
    lambda s: make_imbalanced_moons(50, random_state=s),
    lambda s: make_imbalanced_circles(50, random_state=s),
    lambda s: make_imbalanced_gaussians(50, random_state=s),
    lambda s: make_long_tailed(X, Y, imbalance_ratio=2, random_state=s),
    lambda s: list(TailSafeStratifiedKFold(3, shuffle=True, random_state=s).split(X, Y)),
    lambda s: list(RepeatedTailSafeStratifiedKFold(3, n_repeats=2, random_state=s).split(X, Y)),
]))
def test_bad_random_state_is_named(seed, call):
    raises_naming(lambda: call(seed), "random_state")


# --------------------------------------------------------------------- huge Python integers, sizes
HUGE = st.sampled_from([10**20, 10**40, 2**64, 10**400])


@SETTINGS
@given(value=HUGE)
def test_python_ints_beyond_float64_are_numbers_not_numpy_errors(value):
    # a huge ratio is a valid (extreme) ratio: every tail class gets count 1
    assert long_tail_counts(100, 3, value if value < 10**300 else 10**300).tolist() == [100, 1, 1]
    raises_naming(lambda: long_tail_counts(100, value, 10), "n_classes")
    if value < 10**300:  # a huge but finite noise: finite X
        x, _ = make_imbalanced_moons(20, noise=value, random_state=0)
        assert np.all(np.isfinite(x))
    else:
        raises_naming(lambda: make_imbalanced_moons(20, noise=value, random_state=0), "noise")
    raises_naming(lambda: make_imbalanced_moons(value), "n_samples")
    raises_naming(lambda: make_imbalanced_gaussians(value), "n_samples")


@pytest.mark.parametrize("ratio", [10**400, float("inf")])
def test_infinite_ratio_is_named_by_every_profile(ratio):
    raises_naming(lambda: long_tail_counts(100, 3, ratio), "imbalance_ratio")
    raises_naming(lambda: make_long_tailed(X, Y, imbalance_ratio=ratio), "imbalance_ratio")


def test_mnist1d_sizes_are_checked_before_generation():
    pytest.importorskip("mnist1d")
    from sklt.datasets import load_mnist1d_lt

    for n_samples in (1, 5, 19, 10**7, 10**20):
        raises_naming(lambda n=n_samples: load_mnist1d_lt(n_samples=n), "n_samples")


# --------------------------------------------------------------------- label dtypes
OBJECT_LABELS = st.lists(st.sampled_from([0, 1, 2]), min_size=10, max_size=30).filter(
    lambda v: len(set(v)) == 3 and all(v.count(c) >= 3 for c in set(v)))


@SETTINGS
@given(labels=OBJECT_LABELS)
def test_numbers_held_in_an_object_array_are_labels(labels):
    y_obj = np.array(labels, dtype=object)
    y_int = np.array(labels)
    Xl = rng.normal(size=(len(labels), 2)) + y_int[:, None]
    for Est in (LogitAdjuster, PriorShiftClassifier):
        a = Est(LogisticRegression()).fit(Xl, y_obj).predict_proba(Xl)
        b = Est(LogisticRegression()).fit(Xl, y_int).predict_proba(Xl)
        np.testing.assert_allclose(a, b)
    fusion = NoisyOrFusionClassifier([("m", LogisticRegression())]).fit(Xl, y_obj)
    np.testing.assert_array_equal(np.unique(fusion.predict(Xl)).dtype.kind, "i")
    folds_obj = [t.tolist() for _, t in TailSafeStratifiedKFold(3).split(Xl, y_obj)]
    folds_int = [t.tolist() for _, t in TailSafeStratifiedKFold(3).split(Xl, y_int)]
    assert folds_obj == folds_int
    X_lt, y_lt = make_long_tailed(Xl, y_obj, imbalance_ratio=1, random_state=0)
    assert len(y_lt) == 3 * min(labels.count(c) for c in range(3))


@pytest.mark.parametrize("call", [
    lambda y: LogitAdjuster().fit(X, y),
    lambda y: NoisyOrFusionClassifier([("m", LogisticRegression())]).fit(X, y),
    lambda y: list(TailSafeStratifiedKFold(3).split(X, y)),
    lambda y: make_long_tailed(X, y, imbalance_ratio=2),
])
def test_complex_labels_are_named_without_dumping_the_array(call):
    error = raises_naming(lambda: call(Y + 0j), "y")
    assert len(str(error)) < 200


def test_nan_labels_of_a_splitter_are_named():
    y = Y.astype(float)
    y[3] = np.nan
    raises_naming(lambda: list(TailSafeStratifiedKFold(3).split(X, y)), "y")


# --------------------------------------------------------------------- classes
@pytest.mark.parametrize("classes", [[0, "a", 1], [0.0, np.nan, 2.0],
                                     np.array([0, "a"], dtype=object), {0: 1}])
@pytest.mark.parametrize("call", [
    lambda c: check_prior("uniform", c),
    lambda c: class_counts([0], c),
    lambda c: class_frequencies([0], c),
])
def test_classes_with_nan_or_mixed_types_are_rejected(classes, call):
    raises_naming(lambda: call(classes), "classes")


# --------------------------------------------------------------------- count helpers
@SETTINGS
@given(n=st.integers(1, 6))
def test_class_counts_with_zero_total_weight_is_an_error(n):
    raises_naming(lambda: class_counts([0] * n, [0, 1], sample_weight=np.zeros(n)),
                  "sample_weight")
    # no samples at all is still zero counts
    np.testing.assert_array_equal(class_counts([], [0, 1]), [0.0, 0.0])


# --------------------------------------------------------------------- datasets
@SETTINGS
@given(noise=st.sampled_from([1e308, 1.7e308]),
       make=st.sampled_from([make_imbalanced_moons, make_imbalanced_circles]))
def test_generators_never_return_non_finite_X(noise, make):
    raises_naming(lambda: make(100, noise=noise, random_state=0), "noise")


@pytest.mark.parametrize("train_counts", [[0, 0, 0], "abc", None, [1 + 1j, 1, 1]])
def test_shifted_test_needs_real_train_counts(train_counts):
    raises_naming(
        lambda: make_shifted_test(X, Y, train_counts=train_counts, imbalance_ratio=2),
        "train_counts",
    )


# --------------------------------------------------------------------- fusion
class Float32LogisticRegression(LogisticRegression):
    """Probabilities in float32, as scikit-learn >= 1.8's LogisticRegression gives for
    float32 X (1.7 gives float64): the test does not depend on the installed version."""

    def predict_proba(self, X):
        return super().predict_proba(X).astype(np.float32)


@pytest.mark.parametrize("fusion", ["noisy_or", "mean", "product"])
def test_fusion_keeps_float32_and_its_rows_sum_to_one(fusion):
    X32 = X.astype(np.float32)
    inner = Float32LogisticRegression().fit(X32, Y)
    assert inner.predict_proba(X32).dtype == np.float32
    clf = NoisyOrFusionClassifier(
        [("a", Float32LogisticRegression()), ("b", Float32LogisticRegression())],
        fusion=fusion,
    ).fit(X32, Y)
    log_proba = clf.predict_log_proba(X32)
    proba = clf.predict_proba(X32)
    assert log_proba.dtype == proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)


@pytest.mark.parametrize("estimators", [[("a", "abc")], [("a", LogisticRegression)],
                                        [("a", 3)]])
def test_fusion_entries_that_are_not_classifiers_are_named(estimators):
    raises_naming(lambda: NoisyOrFusionClassifier(estimators).fit(X, Y), "estimators")


@pytest.mark.parametrize("uno_cv", [[1], {"a": 1}, np.array(2.0), "abc"])
def test_fusion_bad_uno_cv_is_named(uno_cv):
    clf = NoisyOrFusionClassifier([("a", LogisticRegression())], uno_cv=uno_cv)
    raises_naming(lambda: clf.fit(X, Y), "uno_cv")


# --------------------------------------------------------------------- adjustment_curve
def test_adjustment_curve_checks_estimator_param_name_and_temperatures():
    clf = PriorShiftClassifier(LogisticRegression()).fit(X, Y)
    raises_naming(lambda: adjustment_curve("abc", X, Y), "estimator")
    raises_naming(lambda: adjustment_curve(clf, X, Y, param_name="tau"), "param_name")
    # a temperature of 0 used to end in ZeroDivisionError
    raises_naming(lambda: adjustment_curve(clf, X, Y, param_name="temperature"), "param_range")
    raises_naming(lambda: adjustment_curve(clf, X, Y, param_name="temperature",
                                           param_range=[0.0, 1.0]), "param_range")
    curve = adjustment_curve(clf, X, Y, param_name="temperature", param_range=[0.5, 1, 2],
                             cv=3)
    assert np.all(np.isfinite(curve.scores))
    curve = adjustment_curve(clf, X, Y.astype(object), cv=3)
    assert np.all(np.isfinite(curve.scores))


# --------------------------------------------------------------------- metrics messages
@pytest.mark.parametrize("labels", [[0, 1], [0, 1, 2, 3]])
def test_column_count_mismatch_names_labels(labels):
    raises_naming(lambda: expected_calibration_error(Y, P, labels=labels), "labels")


# --------------------------------------------------------------------- plotting
@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def test_unknown_style_keywords_are_type_errors_naming_them(plt):
    from sklt.plotting import AdjustmentCurveDisplay, ClassAccuracyDisplay, ReliabilityDisplay

    calls = [
        lambda: AdjustmentCurveDisplay([0, 1], [0.5, 0.6]).plot(bogus_kw=1),
        lambda: ClassAccuracyDisplay.from_predictions(Y, Y, y_train=Y, bogus_kw=1),
        lambda: ReliabilityDisplay.from_predictions(Y, P, bogus_kw=1),
    ]
    for call in calls:
        raises_naming(call, "bogus_kw", exc=TypeError)


@SETTINGS
@given(field=st.sampled_from(["param_range", "scores", "std", "best_value", "best_score"]),
       bad=st.sampled_from([np.nan, np.inf, -np.inf, -1.0]))
def test_adjustment_curve_display_refuses_non_finite_data(field, bad):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from sklt.plotting import AdjustmentCurveDisplay

    data = dict(param_range=[0.0, 1.0, 2.0], scores=[0.5, 0.6, 0.55], std=[0.1, 0.1, 0.1],
                best_value=1.0, best_score=0.6)
    allowed = (field == "scores" and np.isnan(bad)) or (field == "std" and np.isnan(bad)) or (
        bad == -1.0 and field not in ("std",))
    if field in ("param_range", "scores", "std"):
        data[field] = [bad] + data[field][1:]
    else:
        data[field] = bad
    display = AdjustmentCurveDisplay(**data)
    try:
        if allowed:
            display.plot()
        else:
            raises_naming(display.plot, field)
    finally:
        matplotlib.pyplot.close("all")


def test_display_data_checks(plt):
    from sklt.plotting import AdjustmentCurveDisplay, ClassAccuracyDisplay, ReliabilityDisplay

    raises_naming(lambda: ReliabilityDisplay([0, 0.5, 1], [0.2, 0.8], [0.25, 0.75], [1, 1],
                                             ece=2.0).plot(), "ece")
    raises_naming(lambda: ClassAccuracyDisplay([0, 0, 1], [5, 5, 5], {"m": [1, 1, 1]}).plot(),
                  "classes")
    raises_naming(lambda: AdjustmentCurveDisplay([0, 1], [0.5, 0.6], fold_scores="x").plot(),
                  "fold_scores")
    raises_naming(lambda: ReliabilityDisplay.from_predictions(Y, P, pos_label=7), "pos_label")
    # weights whose bin sums overflow are named instead of drawn as inf
    raises_naming(lambda: ReliabilityDisplay.from_predictions(
        Y, P, sample_weight=np.full(len(Y), 1e308)), "sample_weight")
    d = ReliabilityDisplay.from_predictions(Y, P, sample_weight=np.full(len(Y), 1e300))
    assert np.all(np.isfinite(d.counts))


# --------------------------------------------------------------------- augmentations
@SETTINGS
@given(kind=st.sampled_from(["Mixup", "Remix", "UniMix"]),
       weight=st.sampled_from([np.nan, np.inf, -1.0, -1e-300]))
def test_mix_refuses_bad_sample_weight(kind, weight):
    torch = pytest.importorskip("torch")
    import sklt.nn.augment as augment

    Xb, yb = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    w = torch.ones(6, dtype=torch.float64)
    w[2] = weight
    mixer = getattr(augment, kind)(random_state=0)
    raises_naming(lambda: mixer.mix(Xb, yb, class_counts=[5, 3, 2], sample_weight=w),
                  "sample_weight")


@pytest.mark.parametrize("kind", ["Mixup", "Remix", "UniMix"])
def test_mix_is_exact_for_weights_of_any_scale(kind):
    torch = pytest.importorskip("torch")
    import sklt.nn.augment as augment

    Xb, yb = torch.randn(6, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 2])
    base = torch.tensor([1.0, 2.0, 3.0, 0.0, 1.0, 5.0], dtype=torch.float64)
    results = [
        getattr(augment, kind)(random_state=0).mix(Xb, yb, class_counts=[5, 3, 2],
                                                   sample_weight=base * scale)
        for scale in (1.0, 1e-300, 1e300)
    ]
    for (_, soft, w), scale in zip(results, (1.0, 1e-300, 1e300), strict=True):
        assert torch.all(torch.isfinite(soft))
        torch.testing.assert_close(soft, results[0][1])
        torch.testing.assert_close(w / scale, results[0][2])
    # all-zero weights in a batch are valid (the batch adds nothing)
    _, soft, w = getattr(augment, kind)(random_state=0).mix(
        Xb, yb, class_counts=[5, 3, 2], sample_weight=torch.zeros(6))
    assert torch.all(w == 0) and torch.all(torch.isfinite(soft))


@pytest.mark.parametrize("kind", ["Mixup", "Remix", "UniMix"])
def test_mix_names_class_counts_and_random_state(kind):
    torch = pytest.importorskip("torch")
    import sklt.nn.augment as augment

    Xb, yb = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    cls = getattr(augment, kind)
    raises_naming(lambda: cls(random_state=0).mix(Xb, yb, class_counts=None), "class_counts")
    raises_naming(lambda: cls(random_state=0).mix(Xb, yb, class_counts=[5, 3]), "class_counts")
    for seed in (-1, 0.5, "abc", np.nan):
        raises_naming(lambda s=seed: cls(random_state=s).mix(Xb, yb, class_counts=[5, 3, 2]),
                      "random_state")


# ------------------------------------------------------- found by a rerun of the generated suite
def test_a_prior_of_mixed_scale_keeps_every_class():
    """[1e308, 1, 5e-324]: the last class's probability underflows to 0 once normalised, but
    its log is finite; the adjustment used to be NaN."""
    from sklt.adjust import adjust_logits, log_prior_ratio

    prior = [1e308, 1.0, 5e-324]
    ratio = log_prior_ratio(prior, None)
    expected = -np.log(3) - (np.log(prior) - np.log(1e308))
    np.testing.assert_allclose(ratio, expected, rtol=1e-12)
    z = np.random.default_rng(0).normal(size=(4, 3))
    out = adjust_logits(z, prior)
    assert np.all(np.isfinite(out))
    from scipy.special import log_softmax

    np.testing.assert_allclose(out, log_softmax(z + ratio, axis=1), rtol=1e-12, atol=1e-12)


def test_remix_kappa_below_one_is_an_error():
    pytest.importorskip("torch")
    import torch

    from sklt.nn import Remix

    with pytest.raises(ValueError, match="kappa"):
        Remix(kappa=0.5).mix(torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]),
                             class_counts=[5.0, 3.0])


@pytest.mark.parametrize("name", ["taus", "lams"])
def test_a_grid_of_a_million_values_is_an_error_not_a_hang(name):
    from sklt import LogitAdjusterCV, PriorShiftClassifierCV

    cls = LogitAdjusterCV if name == "taus" else PriorShiftClassifierCV
    raises_naming(lambda: cls(**{name: 10**6}).fit(X, Y), name)


def test_long_tail_classifier_names_ragged_x_and_complex_y_and_takes_object_labels():
    pytest.importorskip("torch")
    from sklt.nn import LongTailClassifier

    X32 = X.astype(np.float32)
    net = LongTailClassifier(max_epochs=1, random_state=0)
    net.fit(X32, np.array(Y.tolist(), dtype=object))  # numbers held in an object array
    np.testing.assert_array_equal(net.classes_, [0, 1, 2])
    raises_naming(lambda: net.predict([[0.0, 1.0, 2.0, 3.0], [1.0]]), "X")
    raises_naming(lambda: LongTailClassifier(max_epochs=1).fit([[0.0, 1.0], [1.0]], [0, 1]), "X")
    raises_naming(lambda: LongTailClassifier(max_epochs=1).fit(X32, Y.astype(complex)), "y")
