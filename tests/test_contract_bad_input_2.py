"""Bad-input contract, second generated run (#12): the unclear errors it still found.

- a prior of the wrong length in :func:`~sklt.adjust.log_prior_ratio` blamed "the
  scores" (there are none) instead of naming the other prior or ``n_classes``; a
  number of classes no machine holds ended in a ``MemoryError``;
- ``tol`` beyond the float range, object arrays of integer labels and ragged labels in
  :mod:`sklt.label_shift`;
- malformed iterables of splits (``cv=[1]``, a dict, a 0-d array, indices outside
  ``X``, an empty held-out part) reached unpacking or indexing errors inside the
  tuners; a scorer that does not apply (multiclass ``roc_auc``) failed without the
  tuner naming it;
- a modality of the fusion failing on ``X`` (1-D ``X``, columns it does not have) ended
  in an ``IndexError`` that named neither the modality nor ``X``;
- sample weights whose float64 sum overflows reached the inner model, which returned
  NaN probabilities at prediction time;
- :mod:`sklt.nn`: weights near the float limits refused although only their ratios
  matter (now exact), ``lr`` and ``batch_size`` beyond what torch takes, losses given
  non-numeric ``sample_weight``, and modules given inputs of the wrong type, width or
  dtype (torch's ``mat1 and mat2`` errors).
"""

import warnings

import numpy as np
import pytest
from _contract import raises_naming
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from sklt import (
    LogitAdjuster,
    LogitAdjusterCV,
    NoisyOrFusionClassifier,
    PriorShiftClassifier,
    PriorShiftClassifierCV,
)
from sklt.adjust import log_prior_ratio
from sklt.label_shift import bbse_prior, em_prior, fit_bias_corrected_temperature

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)

rng = np.random.default_rng(0)
Y = np.repeat([0, 1, 2], [40, 30, 25])
X = rng.normal(size=(len(Y), 4)) + Y[:, None]
P = rng.dirichlet([1, 1, 1], size=len(Y))



# ------------------------------------------------------------------------ log_prior_ratio
@SETTINGS
@given(st.integers(1, 6), st.integers(1, 6))
def test_prior_lengths_that_disagree_name_both_priors(n_source, n_target):
    source, target = np.ones(n_source), np.ones(n_target)
    if n_source == n_target:
        assert log_prior_ratio(source, target).shape == (n_source,)
        return
    error = raises_naming(lambda: log_prior_ratio(source, target), "target_prior")
    assert f"source_prior has {n_source} entries" in str(error)
    assert "scores" not in str(error)


def test_prior_length_against_n_classes_names_n_classes():
    raises_naming(lambda: log_prior_ratio([0.2, 0.3, 0.5], None, n_classes=4), "n_classes=4")
    raises_naming(lambda: log_prior_ratio(None, None, n_classes=10**12), "n_classes")


# ------------------------------------------------------------------------ label_shift
def test_tol_beyond_the_float_range_is_named():
    raises_naming(lambda: em_prior(P, [1 / 3] * 3, tol=10**400), "tol")
    # a huge but finite tol is valid: it stops after the first iteration
    assert np.isclose(em_prior(P, [1 / 3] * 3, tol=10**20).sum(), 1)


def test_integer_labels_in_object_arrays_are_accepted():
    y = rng.integers(0, 3, len(P))
    as_object = np.array(list(y), dtype=object)
    np.testing.assert_array_equal(bbse_prior(P, as_object, P), bbse_prior(P, y, P))
    np.testing.assert_equal(fit_bias_corrected_temperature(np.log(P), as_object),
                            fit_bias_corrected_temperature(np.log(P), y))


def test_ragged_labels_and_wrong_width_scores_are_named():
    ragged = [[0, 1], [1]] + [0] * (len(P) - 2)
    raises_naming(lambda: bbse_prior(P, ragged, P), "y_val")
    error = raises_naming(lambda: fit_bias_corrected_temperature(np.log(P[:, :2]), Y), "y")
    assert "2 columns" in str(error)


# ------------------------------------------------------------------------ tuners' cv
BAD_SPLITS = {
    "ints": [1],
    "dict": {"a": 1},
    "0-d array": np.array(2.0),
    "index beyond X": [(np.arange(50), np.arange(50, len(Y) + 1))],
    "empty held-out part": [(np.arange(50), np.array([], dtype=int))],
    "float indices": [(np.arange(50.0), np.arange(50, len(Y)))],
    "2-D indices": [(np.arange(50).reshape(5, 10), np.arange(50, len(Y)))],
    "triples": [(np.arange(50), np.arange(50, 60), np.arange(60, 70))],
    "no split": [],
}


@pytest.mark.parametrize("tuner", [LogitAdjusterCV, PriorShiftClassifierCV])
@pytest.mark.parametrize("splits", BAD_SPLITS.values(), ids=BAD_SPLITS.keys())
def test_malformed_splits_are_named(tuner, splits):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        raises_naming(lambda: tuner(LogisticRegression(), cv=splits).fit(X, Y), "cv")


@pytest.mark.parametrize("tuner", [LogitAdjusterCV, PriorShiftClassifierCV])
def test_boolean_masks_and_explicit_splits_are_valid(tuner):
    mask = np.arange(len(Y)) % 3 == 0
    by_mask = tuner(LogisticRegression(), cv=[(~mask, mask)]).fit(X, Y)
    by_index = tuner(LogisticRegression(), cv=[(np.flatnonzero(~mask), np.flatnonzero(mask))])
    by_index.fit(X, Y)
    np.testing.assert_array_equal(by_mask.predict_proba(X), by_index.predict_proba(X))


@pytest.mark.parametrize("tuner", [LogitAdjusterCV, PriorShiftClassifierCV])
def test_a_scorer_that_does_not_apply_is_named(tuner):
    raises_naming(lambda: tuner(LogisticRegression(), scoring="roc_auc").fit(X, Y), "roc_auc")


# ------------------------------------------------------------------------ fusion
def _columns(cols):
    return make_pipeline(FunctionTransformer(lambda Z: Z[:, cols]), LogisticRegression())


def test_a_modality_that_cannot_take_x_is_named():
    fusion = NoisyOrFusionClassifier([("rgb", _columns([0, 1])), ("depth", _columns([2, 3]))])
    raises_naming(lambda: fusion.fit(X[:, 0], Y), "modality 'rgb'", exc=ValueError)
    fusion.fit(X, Y)
    # a refit on data without the columns a modality selects
    raises_naming(lambda: fusion.fit(X[:, :3], Y), "modality 'depth'", exc=ValueError)


# ------------------------------------------------------------------------ huge weights
@pytest.mark.parametrize("corrector", [LogitAdjuster, PriorShiftClassifier])
def test_weights_whose_sum_overflows_are_named_at_fit_where_they_break_the_model(corrector):
    weight = np.full(len(Y), 1e308)
    # a tree's weighted sums overflow: named at fit, not a NaN error at predict
    raises_naming(lambda: corrector(DecisionTreeClassifier()).fit(X, Y, sample_weight=weight),
                  "sample_weight")
    fitted = corrector(DecisionTreeClassifier(random_state=0)).fit(
        X, Y, sample_weight=weight / 1e308)
    assert np.all(np.isfinite(fitted.predict_proba(X)))
    # a model that copes with them keeps working, with the priors of the weights' ratios
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fitted = corrector(LogisticRegression()).fit(X, Y, sample_weight=weight)
        reference = corrector(LogisticRegression()).fit(X, Y, sample_weight=weight / 1e308)
    np.testing.assert_allclose(fitted.source_prior_, reference.source_prior_, rtol=1e-12)
    assert np.all(np.isfinite(fitted.predict_proba(X)))


# ------------------------------------------------------------------------ sklt.nn
torch = pytest.importorskip("torch")


def test_module_inputs_are_named():
    from sklt.nn import MLP, CNN1d
    from sklt.nn.offset import EstimatedOffsetHead

    mlp = MLP(input_dim=4, n_classes=3)
    raises_naming(lambda: mlp(torch.zeros(2, 5)), "X has 5 features")
    raises_naming(lambda: mlp(torch.zeros(4)), "shape (4,)")
    raises_naming(lambda: mlp(torch.zeros(2, 4, dtype=torch.float64)), "dtype")
    raises_naming(lambda: mlp(np.zeros((2, 4), dtype=np.float32)), "torch.Tensor")
    assert mlp(torch.zeros(2, 2, 2)).shape == (2, 3)  # any sample shape with 4 features
    head = EstimatedOffsetHead(input_dim=4, n_classes=3, hidden_units=(8,))
    raises_naming(lambda: head(torch.zeros(2, 3)), "EstimatedOffsetHead")
    raises_naming(lambda: CNN1d(in_channels=1, n_classes=3)(torch.zeros(8)), "shape (8,)")


@pytest.mark.parametrize("bad", ["abc", [1 + 2j, 1j]])
def test_loss_weights_that_are_not_real_numbers_are_named(bad):
    from sklt.nn.losses import LogitAdjustedLoss

    loss = LogitAdjustedLoss(class_counts=torch.tensor([3.0, 2.0, 1.0]))
    raises_naming(lambda: loss(torch.zeros(2, 3), torch.tensor([0, 1]), sample_weight=bad),
                  "sample_weight")
    raises_naming(lambda: loss.set_class_weight("abc"), "class weight")


@pytest.mark.parametrize("params", [{"lr": 1e39}, {"batch_size": 10**20}])
def test_training_settings_beyond_what_torch_takes_are_named(params):
    from sklt.nn import LongTailClassifier

    net = LongTailClassifier(max_epochs=1, **params)
    raises_naming(lambda: net.fit(X.astype(np.float32), Y), *params)


# ------------------------------------------------------------------------ n_jobs, names
@pytest.mark.parametrize("make", [
    lambda: LogitAdjusterCV(n_jobs=10**20),
    lambda: PriorShiftClassifierCV(n_jobs=10**20),
    lambda: NoisyOrFusionClassifier([("a", LogisticRegression())], n_jobs=10**20),
])
def test_n_jobs_beyond_a_c_int_is_named(make):
    raises_naming(lambda: make().fit(X, Y), "n_jobs")


def test_duplicate_modality_names_name_estimators():
    fusion = NoisyOrFusionClassifier([("a", LogisticRegression()), ("a", LogisticRegression())])
    raises_naming(lambda: fusion.fit(X, Y), "estimators")
