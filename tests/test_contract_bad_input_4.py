"""Bad input and edge cases, fourth generated run: one test per class of defect found.

Each test fails on the commit before the fix (the defects were reproduced there).
"""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ShuffleSplit
from sklearn.neighbors import KNeighborsClassifier

from sklt import (
    ClassOffsetClassifierCV,
    LogitAdjuster,
    LogitAdjusterCV,
    NoisyOrFusionClassifier,
    PriorShiftClassifier,
    PriorShiftClassifierCV,
)
from sklt.label_shift import bbse_prior, em_prior, fit_bias_corrected_temperature
from sklt.metrics import get_scorer
from sklt.model_selection import TailSafeStratifiedKFold


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 25, 10])
    X = rng.normal(size=(95, 4)) + y[:, None]
    return X, y


class _Permuted(ClassifierMixin, BaseEstimator):
    """A fitted model with its ``classes_`` (and probability columns) in another order."""

    def __init__(self, fitted=None, order=None):
        self.fitted = fitted
        self.order = order

    def fit(self, X, y):
        self.classes_ = self.fitted.classes_[self.order]
        self.n_features_in_ = self.fitted.n_features_in_
        return self

    def predict_proba(self, X):
        return self.fitted.predict_proba(X)[:, self.order]


# ----------------------------------------------------------------------- unsorted classes_
@pytest.mark.parametrize("Tuner", [LogitAdjusterCV, PriorShiftClassifierCV])
def test_tuners_do_not_depend_on_the_order_of_classes_(data, Tuner):
    X, y = data
    lr = LogisticRegression().fit(X, y)
    permuted = _Permuted(lr, np.array([2, 0, 1])).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Tuner(FrozenEstimator(lr), cv=3).fit(X, y)
        b = Tuner(FrozenEstimator(permuted), cv=3).fit(X, y)
    name = "tau" if Tuner is LogitAdjusterCV else "lam"
    assert np.isfinite(getattr(b, f"calibrated_{name}_"))
    assert getattr(a, f"calibrated_{name}_") == pytest.approx(getattr(b, f"calibrated_{name}_"))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_offsets_do_not_depend_on_the_order_of_classes_(data):
    X, y = data
    lr = LogisticRegression().fit(X, y)
    permuted = _Permuted(lr, np.array([2, 0, 1])).fit(X, y)
    a = ClassOffsetClassifierCV(FrozenEstimator(lr), cv=3).fit(X, y)
    b = ClassOffsetClassifierCV(FrozenEstimator(permuted), cv=3).fit(X, y)
    assert a.best_score_ == pytest.approx(b.best_score_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize(
    "name", ["neg_expected_calibration_error", "neg_classwise_calibration_error", "neg_log_loss"]
)
def test_probability_scorers_read_unsorted_classes_(data, name):
    X, y = data
    lr = LogisticRegression().fit(X, y)
    permuted = _Permuted(lr, np.array([2, 0, 1])).fit(X, y)
    scorer = get_scorer(name)
    assert scorer(permuted, X, y) == pytest.approx(scorer(lr, X, y))


def test_reliability_display_reads_unsorted_classes_(data):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklt.plotting import ReliabilityDisplay

    X, y = data
    lr = LogisticRegression().fit(X, y)
    permuted = _Permuted(lr, np.array([2, 0, 1])).fit(X, y)
    a = ReliabilityDisplay.from_estimator(lr, X, y, n_bins=10)
    b = ReliabilityDisplay.from_estimator(permuted, X, y, n_bins=10)
    plt.close("all")
    assert a.ece == pytest.approx(b.ece)


# ----------------------------------------------------------------------- finite decision scores
# (sklt warns that CalibratedClassifierCV re-calibrates a corrector: expected here)
@pytest.mark.filterwarnings("ignore:.*is being fit inside CalibratedClassifierCV")
@pytest.mark.parametrize(
    "make",
    [
        lambda: LogitAdjuster(KNeighborsClassifier(3)),
        lambda: ClassOffsetClassifierCV(KNeighborsClassifier(3)),
        lambda: NoisyOrFusionClassifier(
            [("a", LogisticRegression()), ("b", KNeighborsClassifier(3))], fusion="product"
        ),
    ],
)
def test_decision_function_is_finite_where_a_probability_is_zero(data, make):
    X, y = data
    est = make().fit(X, y)
    scores = est.decision_function(X)
    assert np.all(np.isfinite(scores))
    # the floor changes no decision
    np.testing.assert_array_equal(est.classes_[np.argmax(scores, axis=1)], est.predict(X))
    calibrated = CalibratedClassifierCV(make(), cv=3).fit(X, y)
    assert not np.isnan(calibrated.predict_proba(X)).any()


def test_binary_decision_function_is_finite(data):
    X, y = data
    binary = (y > 0).astype(int)
    scores = LogitAdjuster(KNeighborsClassifier(3)).fit(X, binary).decision_function(X)
    assert scores.ndim == 1 and np.all(np.isfinite(scores))


# ----------------------------------------------------------------------- parameters after fit
def test_fusion_rule_set_after_fit_is_checked_at_predict(data):
    X, y = data
    clf = NoisyOrFusionClassifier([("a", LogisticRegression())]).fit(X, y)
    clf.fusion = "bogus"
    with pytest.raises(ValueError, match="fusion must be one of"):
        clf.predict(X)


# ----------------------------------------------------------------------- sample_weight named
@pytest.mark.parametrize(
    "make",
    [
        lambda: LogitAdjuster(LogisticRegression()),
        lambda: PriorShiftClassifierCV(LogisticRegression(), cv=2),
        lambda: ClassOffsetClassifierCV(LogisticRegression(), cv=2),
    ],
)
def test_a_class_with_zero_total_weight_names_sample_weight(data, make):
    X, y = data
    w = np.where(y == 2, 0.0, 1.0)
    with pytest.raises(ValueError, match="sample_weight"):
        make().fit(X, y, sample_weight=w)


# ----------------------------------------------------------------------- labels
@pytest.mark.parametrize(
    "make",
    [
        lambda: LogitAdjuster(LogisticRegression()),
        lambda: ClassOffsetClassifierCV(LogisticRegression(), cv=2),
        lambda: NoisyOrFusionClassifier([("a", LogisticRegression())]),
    ],
)
def test_labels_mixing_strings_and_numbers_are_named(data, make):
    X, y = data
    mixed = np.array(y, dtype=object)
    mixed[y == 2] = "two"
    with pytest.raises(ValueError, match="mixes label types"):
        make().fit(X, mixed)


def test_splitter_names_labels_mixing_strings_and_numbers(data):
    X, y = data
    mixed = np.array(y, dtype=object)
    mixed[y == 2] = "two"
    with pytest.raises(ValueError, match="mixes label types"):
        list(TailSafeStratifiedKFold(3).split(X, mixed))


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogitAdjuster(LogisticRegression()),
        lambda: PriorShiftClassifier(LogisticRegression()),
        lambda: ClassOffsetClassifierCV(LogisticRegression(), cv=2),
        lambda: NoisyOrFusionClassifier([("a", LogisticRegression())]),
    ],
)
def test_score_reads_object_integer_labels_as_fit_does(data, make):
    X, y = data
    y_obj = y.astype(object)
    est = make().fit(X, y_obj)
    assert est.score(X, y_obj) == pytest.approx(est.score(X, y))


# ----------------------------------------------------------------------- cv of the offsets
def test_offsets_refuse_held_out_sets_that_overlap(data):
    X, y = data
    with pytest.raises(ValueError, match="more than once"):
        ClassOffsetClassifierCV(LogisticRegression(), cv=ShuffleSplit(3, random_state=0)).fit(
            X, y
        )
    splits = list(TailSafeStratifiedKFold(3).split(X, y))
    with pytest.raises(ValueError, match="more than once"):
        ClassOffsetClassifierCV(LogisticRegression(), cv=splits + splits[:1]).fit(X, y)
    # one shuffle split holds out each sample at most once
    ClassOffsetClassifierCV(LogisticRegression(), cv=ShuffleSplit(1, random_state=0)).fit(X, y)


@pytest.mark.parametrize(("seed", "n_classes", "alpha"), [(23, 4, "auto"), (6, 2, 1.0)])
def test_offsets_do_not_depend_on_how_labels_sort(seed, n_classes, alpha):
    rng = np.random.default_rng(seed)
    p = np.sort(rng.dirichlet(np.ones(n_classes) * 2))[::-1]
    y = rng.choice(n_classes, 80, p=p)
    for k in range(n_classes):
        if (y == k).sum() < 3:
            y[rng.choice(80, 3, replace=False)] = k
    X = rng.normal(size=(80, 3)) + y[:, None]
    names = np.array(["e", "d", "c", "b"])[:n_classes]  # the reverse sort order
    a = ClassOffsetClassifierCV(cv=3, alpha=alpha).fit(X, y)
    b = ClassOffsetClassifierCV(cv=3, alpha=alpha).fit(X, names[y])
    assert a.best_score_ == pytest.approx(b.best_score_)
    np.testing.assert_array_equal(names[a.predict(X)], b.predict(X))


# ----------------------------------------------------------------------- label shift
def test_log_rows_without_mass_are_refused_like_probability_rows():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    logits = rng.normal(size=(60, 3)) + 2 * np.eye(3)[y]
    log_proba = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    dead = log_proba.copy()
    dead[:5] = -np.inf
    for call in (
        lambda: bbse_prior(log_proba, y, dead, input="log_proba"),
        lambda: em_prior(dead, np.full(3, 1 / 3), input="log_proba"),
        lambda: fit_bias_corrected_temperature(dead, y, input="log_proba"),
        lambda: fit_bias_corrected_temperature(dead, y, input="logits"),
    ):
        with pytest.raises(ValueError, match="every class has log-score -inf"):
            call()


# ----------------------------------------------------------------------- resamplers
def test_adasyn_source_prior_auto_warns_that_it_is_approximate(data):
    pytest.importorskip("imblearn")
    from imblearn.over_sampling import ADASYN
    from imblearn.pipeline import make_pipeline

    X, y = data
    with pytest.warns(UserWarning, match="ADASYN generates a density-dependent number"):
        PriorShiftClassifier(
            make_pipeline(ADASYN(random_state=0, n_neighbors=3), LogisticRegression())
        ).fit(X, y)


# ----------------------------------------------------------------------- sklt.nn
def test_network_classes_are_fixed_at_fit_and_module_reset_warns():
    pytest.importorskip("skorch")
    from sklt.nn import LongTailClassifier

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [20, 8, 4])
    X = (rng.normal(size=(32, 4)) + y[:, None]).astype(np.float32)
    net = LongTailClassifier(max_epochs=2, random_state=0, verbose=0).fit(X, y)
    before = net.predict(X)
    net.set_params(classes=["a", "b", "c"])
    np.testing.assert_array_equal(net.classes_, [0, 1, 2])
    np.testing.assert_array_equal(net.predict(X), before)
    with pytest.warns(UserWarning, match="re-initialises the fitted"):
        net.set_params(module__dropout=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.set_params(target_prior="uniform")  # changeable after fit: no warning
        LongTailClassifier(max_epochs=2).set_params(module__dropout=0.1)  # not fitted


def test_cnn1d_names_a_wrong_number_of_channels():
    torch = pytest.importorskip("torch")
    from sklt.nn import CNN1d

    with pytest.raises(ValueError, match=r"shape \(N, 2, length\)"):
        CNN1d(in_channels=2, n_classes=3)(torch.zeros(3, 3, 40))
    with pytest.raises(ValueError, match=r"got shape \(3, 40\)"):
        CNN1d(in_channels=2, n_classes=3)(torch.zeros(3, 40))
    assert CNN1d(in_channels=1, n_classes=3)(torch.zeros(3, 40)).shape == (3, 3)


def test_network_augmentation_can_be_replaced_after_fit():
    pytest.importorskip("skorch")
    from sklt.nn import LongTailClassifier, Mixup, Remix

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [20, 8, 4])
    X = (rng.normal(size=(32, 4)) + y[:, None]).astype(np.float32)
    for first, second in ((None, Mixup()), (Mixup(), Remix()), (Mixup(), None)):
        net = LongTailClassifier(max_epochs=1, augmentation=first, random_state=0, verbose=0)
        net.fit(X, y).set_params(augmentation=second).fit(X, y)
        assert net.get_params()["augmentation"] is second
        assert type(net.augmentation_) is type(second)
