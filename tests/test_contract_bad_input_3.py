"""Bad-input contract, third generated run: what it still found.

- BBSE-soft hung (an SVD of a matrix holding inf) on a probability row whose mass is
  subnormal: ``1 / row_sum`` overflowed;
- a pandas Series prior was read by position even when its index named the classes in
  another order (silently giving weights to the wrong classes);
- numeric strings and complex numbers were accepted as priors by ``adjust_logits``,
  ``log_prior_ratio`` and ``em_prior`` (NumPy parsed the strings and dropped imaginary
  parts), while an object array of floats was refused by ``check_prior``;
- a frozen inner model given ``X`` of another width fit without a word; a
  tau-normalised network and ``adjustment_curve`` accepted labels the model never saw;
- empty or ``None`` labels, a malformed fusion entry, a training fold without some class
  under a custom ``cv``, ``set_params(tau=None)`` after ``fit``, integers beyond the float
  range as strengths, string modules/optimizers, ``classes=[]`` and a missing
  accelerator reached NumPy, scikit-learn or torch internals;
- ``BayiasLoss`` blamed the logits for a target prior whose smallest weight underflows
  when normalised (now normalised in log space).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from _contract import raises_naming
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from sklt import LogitAdjuster, LogitAdjusterCV, NoisyOrFusionClassifier, PriorShiftClassifier
from sklt.adjust import adjust_logits, log_prior_ratio
from sklt.label_shift import bbse_prior, em_prior
from sklt.metrics import balanced_error
from sklt.model_selection import TailSafeStratifiedKFold, adjustment_curve
from sklt.priors import check_prior

RNG = np.random.default_rng(0)
Y = np.repeat([0, 1, 2], [60, 25, 10])
X = RNG.normal(size=(95, 4)) + Y[:, None]
Z = RNG.normal(size=(95, 3)) * 2
P = np.exp(Z) / np.exp(Z).sum(1, keepdims=True)


@pytest.mark.timeout(60)
def test_bbse_soft_with_a_subnormal_row_returns_what_the_normalised_row_gives():
    val, target = P[::2], P[1::2]
    tiny = val.copy()
    tiny[0] *= 1e-310
    before = tiny.copy()
    expected = bbse_prior(val, Y[::2], target, soft=True)
    np.testing.assert_allclose(bbse_prior(tiny, Y[::2], target, soft=True), expected)
    np.testing.assert_array_equal(tiny, before)  # the input is not rescaled in place


def test_series_prior_follows_its_index():
    shuffled = pd.Series({2: 0.5, 1: 0.3, 0: 0.2})
    np.testing.assert_allclose(check_prior(shuffled, classes=[0, 1, 2]), [0.2, 0.3, 0.5])
    fitted = PriorShiftClassifier(LogisticRegression(), target_prior=shuffled).fit(X, Y)
    np.testing.assert_allclose(fitted.target_prior_, [0.2, 0.3, 0.5])
    # pandas' default index is positional, as a list
    np.testing.assert_allclose(check_prior(pd.Series([0.2, 0.3, 0.5]), classes=["a", "b", "c"]),
                               [0.2, 0.3, 0.5])
    raises_naming(lambda: check_prior(pd.Series({"x": 1.0, "a": 1.0, "b": 1.0}),
                                      classes=["a", "b", "c"]), "index")


@pytest.mark.parametrize("prior", [["0.5", "0.3", "0.2"], np.array([0.5 + 1j, 0.3, 0.2])],
                         ids=["numeric strings", "complex"])
def test_priors_must_be_real_numbers(prior):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way
        raises_naming(lambda: log_prior_ratio(prior, None), "source_prior")
        raises_naming(lambda: adjust_logits(Z, source_prior=prior), "source_prior")
        raises_naming(lambda: em_prior(P, prior), "source_prior")
        raises_naming(lambda: check_prior(prior, classes=[0, 1, 2]), "prior")


def test_object_array_of_floats_is_a_valid_prior():
    weights = np.array([0.5, 0.3, 0.2], dtype=object)
    np.testing.assert_allclose(check_prior(weights, classes=[0, 1, 2]), [0.5, 0.3, 0.2])
    np.testing.assert_allclose(log_prior_ratio(weights, None),
                               log_prior_ratio([0.5, 0.3, 0.2], None))


def test_frozen_model_needs_x_of_its_width():
    frozen = FrozenEstimator(LogisticRegression().fit(X, Y))
    raises_naming(lambda: LogitAdjuster(frozen).fit(X[:, :3], Y), "X has 3 features")


def test_adjustment_curve_refuses_labels_the_model_never_saw():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = PriorShiftClassifier(LogisticRegression()).fit(X, Y)
    raises_naming(lambda: adjustment_curve(fitted, X, np.where(Y == 2, 7, Y)), "[7]")


def test_tau_normalised_network_refuses_labels_the_network_never_saw():
    pytest.importorskip("torch")
    from sklt.nn import LongTailClassifier, TauNormalizedClassifier

    Xf = X.astype(np.float32)
    net = LongTailClassifier(max_epochs=1, random_state=0).fit(Xf, Y)
    raises_naming(lambda: TauNormalizedClassifier(FrozenEstimator(net)).fit(
        Xf, np.where(Y == 2, 7, Y)), "[7]")


def test_missing_and_empty_labels_are_named():
    labels = np.array(["a", "b", None], dtype=object)[Y]
    raises_naming(lambda: LogitAdjuster(LogisticRegression()).fit(X, labels), "None")
    raises_naming(lambda: list(TailSafeStratifiedKFold(3).split(X, labels)), "None")
    raises_naming(lambda: balanced_error(labels, labels), "None")
    raises_naming(lambda: list(TailSafeStratifiedKFold(3).split(np.zeros((0, 4)),
                                                                np.array([], dtype=int))),
                  "0 samples")


def test_fusion_entries_must_be_pairs():
    raises_naming(lambda: NoisyOrFusionClassifier([("a", LogisticRegression(), 1)]).fit(X, Y),
                  "(name, estimator) pairs")


@pytest.mark.parametrize("cv", [KFold(3), [(np.arange(50), np.arange(50, 95))]],
                         ids=["unstratified KFold", "one split"])
def test_a_training_fold_without_a_class_is_named_before_the_inner_fit(cv):
    raises_naming(lambda: LogitAdjusterCV(LogisticRegression(), cv=cv).fit(X, Y),
                  "training fold lacks classes")


@pytest.mark.parametrize("value", [None, "a", -1.0, 10**400])
def test_strength_set_after_fit_is_checked_at_predict(value):
    fitted = LogitAdjuster(LogisticRegression()).fit(X, Y)
    raises_naming(lambda: fitted.set_params(tau=value).predict(X), "tau")


def test_integers_beyond_the_float_range_are_named():
    raises_naming(lambda: adjust_logits(Z, strength=10**400), "strength")
    raises_naming(lambda: PriorShiftClassifier(LogisticRegression(), lam=10**400).fit(X, Y),
                  "lam")


def test_network_parameters_given_as_strings_or_empty_are_named():
    pytest.importorskip("torch")
    from sklt.nn import LongTailClassifier

    Xf = X.astype(np.float32)
    for kwargs, name in ((dict(optimizer="adam"), "optimizer"), (dict(module="mlp"), "module"),
                         (dict(classes=[]), "classes")):
        raises_naming(lambda k=kwargs: LongTailClassifier(max_epochs=1, **k).fit(Xf, Y), name)


def test_accelerated_network_needs_an_accelerator():
    pytest.importorskip("accelerate")
    from sklt.nn import AcceleratedLongTailClassifier

    raises_naming(lambda: AcceleratedLongTailClassifier(accelerator=None, max_epochs=1).fit(
        X.astype(np.float32), Y), "accelerator")


def test_bayias_target_prior_far_below_its_largest_weight_stays_finite():
    torch = pytest.importorskip("torch")
    from sklt.nn.losses import BayiasLoss

    loss = BayiasLoss([50, 10, 2], target_prior=[1e308, 1.0, 5e-324])
    assert torch.isfinite(loss.log_target_prior).all()
    value = loss(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]))
    assert torch.isfinite(value)
    # the same as a prior in moderate numbers with the same ratios, where both are finite
    ratio = BayiasLoss([50, 10, 2], target_prior=[1.0, 1e-3, 1e-6]).log_target_prior
    direct = np.log(np.array([1.0, 1e-3, 1e-6]) / 1.001001)
    np.testing.assert_allclose(ratio.numpy(), direct, rtol=1e-6)


def test_grids_and_offsets_must_be_numbers():
    from sklt import ClassOffsetClassifierCV, PriorShiftClassifierCV

    raises_naming(lambda: LogitAdjusterCV(LogisticRegression(), taus=["0", "1"]).fit(X, Y),
                  "taus")
    raises_naming(lambda: ClassOffsetClassifierCV(init=["0", "1", "2"]).fit(X, Y), "init")
    raises_naming(lambda: ClassOffsetClassifierCV(alpha=["0"]).fit(X, Y), "alpha")
    fitted = PriorShiftClassifier(LogisticRegression()).fit(X, Y)
    raises_naming(lambda: adjustment_curve(fitted, X, Y, param_range=["0", "1"]), "param_range")
    # True is no tolerance (it would silently be 1.0)
    raises_naming(lambda: PriorShiftClassifierCV(LogisticRegression(), selection="score",
                                                 tie_rule=True).fit(X, Y), "tie_rule")


@pytest.mark.parametrize("value", [None, "a", -1.0, 10**400])
def test_fusion_lam_set_after_fit_is_checked_at_predict(value):
    fusion = NoisyOrFusionClassifier([("a", LogisticRegression()),
                                      ("b", LogisticRegression())]).fit(X, Y)
    raises_naming(lambda: fusion.set_params(lam=value).predict(X), "lam")


def test_loss_parameters_beyond_the_float_range_are_named():
    pytest.importorskip("torch")
    from sklt.nn.losses import FocalLoss, LDAMLoss, LogitAdjustedLoss

    raises_naming(lambda: LogitAdjustedLoss([5, 3], tau=10**400), "tau")
    raises_naming(lambda: FocalLoss([5, 3], gamma=10**400), "gamma")
    raises_naming(lambda: LDAMLoss([5, 3], max_margin=10**400), "max_margin")


def test_prior_weight_that_underflows_when_normalised_is_told_apart_from_zero():
    error = raises_naming(lambda: PriorShiftClassifier(
        LogisticRegression(), source_prior=[1e308, 1.0, 5e-324]).fit(X, Y), "source_prior")
    assert "once normalised" in str(error)


@pytest.mark.parametrize("scale", [1e-300, 1e-3, 2e307, 1e308 / 5])
def test_cost_matrix_decisions_do_not_depend_on_its_scale(scale):
    """Only cost ratios matter: the same offsets at any scale (costs near 1e308 overflowed
    the search's sums; costs near 1e-300 fell below its tolerances), and ``best_score_`` in
    the costs' own units."""
    from sklt import ClassOffsetClassifierCV

    cost = 1 - np.eye(3)
    cost[2, :2] = 5
    reference = ClassOffsetClassifierCV(cost_matrix=cost).fit(X, Y)
    scaled = ClassOffsetClassifierCV(cost_matrix=cost * scale).fit(X, Y)
    np.testing.assert_allclose(scaled.offsets_, reference.offsets_, rtol=1e-9, atol=1e-9)
    assert scaled.best_score_ / scale == pytest.approx(reference.best_score_, rel=1e-9)
