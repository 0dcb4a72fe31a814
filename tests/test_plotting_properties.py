"""Property-based tests (hypothesis) of sklt.plotting under bad and extreme input.

Bad input gets a ValueError/TypeError naming the parameter before anything reaches
matplotlib or numpy internals; valid input gets the plotted data the metrics give.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402

from sklt.metrics import expected_calibration_error  # noqa: E402
from sklt.plotting import ClassAccuracyDisplay, ReliabilityDisplay  # noqa: E402

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@st.composite
def multiclass(draw, min_classes=3, max_classes=5):
    n_classes = draw(st.integers(min_classes, max_classes))
    extra = draw(hnp.arrays(np.int64, draw(st.integers(0, 30)),
                            elements=st.integers(0, n_classes - 1)))
    y = np.concatenate([np.arange(n_classes), extra])
    raw = draw(hnp.arrays(np.float64, (len(y), n_classes),
                          elements=st.floats(0, 1, allow_nan=False))) + 1e-3
    return y, raw / raw.sum(axis=1, keepdims=True)


@st.composite
def binary(draw):
    extra = draw(hnp.arrays(np.int64, draw(st.integers(2, 40)), elements=st.integers(0, 1)))
    y = np.concatenate([[0, 1], extra])
    p = draw(hnp.arrays(np.float64, len(y), elements=st.floats(0, 1, allow_nan=False)))
    return y, p


NOT_AXES = st.one_of(st.text(max_size=4), st.integers(), st.floats(allow_nan=False),
                     st.lists(st.integers(), max_size=2))


# --------------------------------------------------------------------------- ReliabilityDisplay
@SETTINGS
@given(data=multiclass(), ax=NOT_AXES)
def test_reliability_rejects_anything_but_axes(data, ax):
    plt.close("all")  # one figure per example
    y, proba = data
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        ReliabilityDisplay.from_predictions(y, proba, ax=ax)


@SETTINGS
@given(data=multiclass(), cut=st.integers(1, 5))
def test_reliability_rejects_mismatched_lengths(data, cut):
    plt.close("all")  # one figure per example
    y, proba = data
    with pytest.raises(ValueError, match="y_true has .* samples but"):
        ReliabilityDisplay.from_predictions(y, proba[:-cut])
    with pytest.raises(ValueError, match="sample_weight has shape"):
        ReliabilityDisplay.from_predictions(y, proba, sample_weight=np.ones(len(y) + cut))


@SETTINGS
@given(data=multiclass(), seed=st.integers(0, 2**32 - 1))
def test_reliability_rejects_continuous_and_nan_labels(data, seed):
    plt.close("all")  # one figure per example
    y, proba = data
    y_cont = np.random.default_rng(seed).uniform(0.1, 3, size=len(y))
    y_cont[0] = 0.5
    with pytest.raises(ValueError, match="y_true must hold class labels"):
        ReliabilityDisplay.from_predictions(y_cont, proba)
    y_nan = y.astype(float)
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="y_true contains NaN"):
        ReliabilityDisplay.from_predictions(y_nan, proba)


@SETTINGS
@given(data=multiclass(), n_bins=st.integers(1, 30), scale=st.floats(1e-300, 1e300))
def test_reliability_top_label_matches_the_metric(data, n_bins, scale):
    plt.close("all")  # one figure per example
    y, proba = data
    w = np.linspace(1.0, 2.0, len(y)) * scale
    disp = ReliabilityDisplay.from_predictions(y, proba, n_bins=n_bins, sample_weight=w,
                                               calibration="top_label")
    assert disp.ece == pytest.approx(
        expected_calibration_error(y, proba, n_bins=n_bins, sample_weight=w), abs=1e-12
    )
    filled = disp.counts > 0
    assert np.all((disp.prob_true[filled] >= 0) & (disp.prob_true[filled] <= 1))
    assert np.isnan(disp.prob_true[~filled]).all()
    assert disp.counts.sum() == pytest.approx(w.sum(), rel=1e-9)


@SETTINGS
@given(data=binary(), n_bins=st.integers(1, 12), strategy=st.sampled_from(["uniform",
                                                                           "quantile"]))
def test_reliability_positive_class_matches_sklearn_calibration_curve(data, n_bins, strategy):
    plt.close("all")  # one figure per example
    y, p = data
    disp = ReliabilityDisplay.from_predictions(y, p, n_bins=n_bins, strategy=strategy)
    assert disp.calibration == "positive_class"
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    filled = disp.counts > 0
    np.testing.assert_allclose(disp.prob_true[filled], prob_true, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(disp.prob_pred[filled], prob_pred, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(data=binary(), flip=st.booleans())
def test_reliability_pos_label_picks_the_class_of_a_1d_probability(data, flip):
    plt.close("all")  # one figure per example
    y, p = data
    names = np.array(["neg", "pos"])[y]
    pos_label = "neg" if flip else "pos"
    p_pos = 1 - p if flip else p
    disp = ReliabilityDisplay.from_predictions(names, p_pos, pos_label=pos_label, n_bins=5)
    prob_true, _ = calibration_curve(names, p_pos, n_bins=5, pos_label=pos_label)
    np.testing.assert_allclose(disp.prob_true[disp.counts > 0], prob_true)
    assert disp.pos_label == pos_label
    assert pos_label in disp.ax_.get_xlabel()


@SETTINGS
@given(data=multiclass(), value=st.one_of(st.text(max_size=6), st.integers()))
def test_reliability_rejects_bad_options_naming_them(data, value):
    plt.close("all")  # one figure per example
    y, proba = data
    for name in ("strategy", "calibration", "kind"):
        with pytest.raises(ValueError, match=name):
            ReliabilityDisplay.from_predictions(y, proba, **{name: value})


def test_reliability_multiclass_positive_class_needs_pos_label():
    y = np.array([0, 1, 2, 2])
    proba = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="needs pos_label"):
        ReliabilityDisplay.from_predictions(y, proba, calibration="positive_class")
    disp = ReliabilityDisplay.from_predictions(y, proba, calibration="positive_class",
                                               pos_label=2, n_bins=2)
    assert disp.prob_true[0] == pytest.approx(0.5)  # p = 1/3 in (0, 1/2]: half are class 2
    with pytest.raises(ValueError, match="pos_label contains labels"):
        ReliabilityDisplay.from_predictions(y, proba, calibration="positive_class", pos_label=7)


@SETTINGS
@given(n_bins=st.integers(1, 6), cut=st.integers(1, 3))
def test_reliability_constructor_data_are_checked_before_drawing(n_bins, cut):
    plt.close("all")  # one figure per example
    edges = np.linspace(0, 1, n_bins + 1)
    good = np.full(n_bins, 0.5)
    ReliabilityDisplay(edges, good, good, list(np.ones(n_bins)), 0.1).plot(show_counts=True)
    for kwargs, match in [
        ({"prob_true": good[:-cut] if cut < n_bins else []}, "prob_true has"),
        ({"counts": np.ones(n_bins + cut)}, "counts has"),
        ({"prob_pred": good + 2}, r"prob_pred must hold frequencies in \[0, 1\]"),
        ({"ece": "x"}, "ece must be"),
    ]:
        args = {"bin_edges": edges, "prob_true": good, "prob_pred": good,
                "counts": np.ones(n_bins), "ece": 0.1, **kwargs}
        with pytest.raises(ValueError, match=match):
            ReliabilityDisplay(**args).plot()


# --------------------------------------------------------------------------- ClassAccuracyDisplay
@SETTINGS
@given(data=multiclass(), ax=NOT_AXES)
def test_class_accuracy_rejects_anything_but_axes(data, ax):
    plt.close("all")  # one figure per example
    y, _ = data
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        ClassAccuracyDisplay.from_predictions(y, y, y_train=y, ax=ax)


@SETTINGS
@given(data=multiclass(), where=st.integers(0, 100), seed=st.integers(0, 2**32 - 1))
def test_class_accuracy_rejects_nan_continuous_and_mixed_labels(data, where, seed):
    plt.close("all")  # one figure per example
    y, _ = data
    bad = y.astype(float)
    bad[where % len(y)] = np.nan
    with pytest.raises(ValueError, match="y_true contains NaN"):
        ClassAccuracyDisplay.from_predictions(bad, y, y_train=y)
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        ClassAccuracyDisplay.from_predictions(y, bad, y_train=y)
    cont = np.random.default_rng(seed).uniform(0.1, 3, len(y))
    cont[0] = 0.5
    with pytest.raises(ValueError, match="y_true must hold class labels"):
        ClassAccuracyDisplay.from_predictions(cont, y, y_train=y)
    strings = np.array([f"c{v}" for v in y])
    with pytest.raises(ValueError, match="Label types do not match"):
        ClassAccuracyDisplay.from_predictions(strings, y, y_train=strings)
    with pytest.raises(ValueError, match="Label types do not match"):
        ClassAccuracyDisplay.from_predictions(y, {"m": strings}, y_train=y)


@SETTINGS
@given(data=multiclass(), cut=st.integers(1, 3))
def test_class_accuracy_rejects_mismatched_lengths(data, cut):
    plt.close("all")  # one figure per example
    y, _ = data
    with pytest.raises(ValueError, match="y_true has .* samples but y_pred has"):
        ClassAccuracyDisplay.from_predictions(y, y[:-cut], y_train=y)
    with pytest.raises(ValueError, match="y_pred\\['b'\\]"):
        ClassAccuracyDisplay.from_predictions(y, {"a": y, "b": y[:-cut]}, y_train=y)


@SETTINGS
@given(n_classes=st.integers(1, 6), delta=st.integers(-1, 2),
       counts_as=st.sampled_from(["list", "array", "tuple"]))
def test_class_accuracy_constructor_data_are_checked_before_drawing(n_classes, delta,
                                                                   counts_as):
    plt.close("all")  # one figure per example
    classes = np.arange(n_classes)
    counts = {"list": list, "array": np.array, "tuple": tuple}[counts_as](
        [10.0 * (i + 1) for i in range(max(n_classes + delta, 0))]
    )
    acc = {"m": np.linspace(0, 1, n_classes)}
    if delta == 0:
        disp = ClassAccuracyDisplay(classes, counts, acc).plot()
        assert len(disp.lines_["m"].get_xdata()) == n_classes
    else:
        with pytest.raises(ValueError, match="train_counts has"):
            ClassAccuracyDisplay(classes, counts, acc).plot()
    with pytest.raises(ValueError, match=r"accuracies\['m'\] has"):
        ClassAccuracyDisplay(classes, np.ones(n_classes), {"m": np.ones(n_classes + 1)}).plot()
    with pytest.raises(TypeError, match="accuracies must be a non-empty dict"):
        ClassAccuracyDisplay(classes, np.ones(n_classes), list(np.ones(n_classes))).plot()
    with pytest.raises(ValueError, match="train_counts must be finite"):
        ClassAccuracyDisplay(classes, np.full(n_classes, np.nan), acc).plot()
    with pytest.raises(ValueError, match="many_threshold must be a positive number"):
        ClassAccuracyDisplay(classes, np.ones(n_classes), acc, many_threshold="x").plot()
