"""source_prior="auto" follows every rebalancing of the inner model; traps warn.

The rule (docs/user_guide/posthoc.rst, "How source_prior='auto' is resolved"): the
training prior is p_s(c) ∝ Σ_{i: y_i = c} w_i over the samples the final classifier
was fit on, w_i = sample_weight_i × class_weight[y_i].
"""

import warnings

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.ensemble import StackingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from sklt import LogitAdjuster, NoisyOrFusionClassifier, PriorShiftClassifier
from sklt.priors import class_frequencies


def _minority(n_samples=8000, rate=0.05, seed=0):
    """A binary problem with a 5 % minority, split in half for training and testing."""
    X, y = make_classification(n_samples=n_samples, n_features=6, n_informative=4,
                               n_redundant=0, weights=[1 - rate], flip_y=0, class_sep=0.7,
                               random_state=seed)
    return train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)


X_TR, X_TE, Y_TR, Y_TE = _minority()
X3, Y3 = make_classification(n_samples=900, n_classes=3, n_informative=4, n_redundant=0,
                             weights=[0.75, 0.2, 0.05], class_sep=0.8, random_state=1)


def _mass(y, weights):
    counts = np.bincount(y, weights=weights)
    return counts / counts.sum()


# --------------------------------------------------------------------------- class_weight
def test_balanced_class_weight_is_corrected_back_to_calibrated_probabilities():
    """The issue's case: a 5 % minority, LogisticRegression(class_weight="balanced")."""
    true_rate = Y_TE.mean()
    weighted = LogisticRegression(class_weight="balanced").fit(X_TR, Y_TR)
    # the class-weighted model alone over-predicts the minority several times over
    assert weighted.predict_proba(X_TE)[:, 1].mean() > 2 * true_rate
    clf = PriorShiftClassifier(LogisticRegression(class_weight="balanced"),
                               target_prior="auto").fit(X_TR, Y_TR)
    np.testing.assert_allclose(clf.source_prior_, [0.5, 0.5])
    mean_minority = clf.predict_proba(X_TE)[:, 1].mean()
    assert abs(mean_minority - true_rate) < 0.3 * true_rate


def test_dict_class_weight_multiplies_the_class_counts():
    cw = {0: 1.0, 1: 4.0, 2: 10.0}
    clf = PriorShiftClassifier(LogisticRegression(class_weight=cw)).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, _mass(Y3, np.array([1.0, 4.0, 10.0])[Y3]))
    # a class missing from the dict has weight 1, as in scikit-learn
    clf = PriorShiftClassifier(LogisticRegression(class_weight={2: 5.0})).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, _mass(Y3, np.array([1.0, 1.0, 5.0])[Y3]))


def test_dict_class_weight_with_string_labels():
    names = np.array(["ant", "bee", "cat"])[Y3]
    cw = {"ant": 1.0, "bee": 2.0, "cat": 8.0}
    clf = LogitAdjuster(LogisticRegression(class_weight=cw)).fit(X3, names)
    np.testing.assert_allclose(clf.source_prior_, _mass(Y3, np.array([1.0, 2.0, 8.0])[Y3]))


def test_class_weight_corrects_like_the_equivalent_sample_weight():
    """class_weight and sample_weight = class_weight[y] train the same model: same prior."""
    cw = np.array([1.0, 3.0, 12.0])
    by_class = PriorShiftClassifier(
        LogisticRegression(class_weight=dict(enumerate(cw))), target_prior="auto"
    ).fit(X3, Y3)
    by_sample = PriorShiftClassifier(LogisticRegression(), target_prior=class_frequencies(
        Y3, [0, 1, 2])).fit(X3, Y3, sample_weight=cw[Y3])
    np.testing.assert_allclose(by_class.source_prior_, by_sample.source_prior_)
    np.testing.assert_allclose(by_class.predict_proba(X3), by_sample.predict_proba(X3),
                               rtol=1e-3, atol=1e-4)


def test_class_weight_times_sample_weight():
    sw = np.random.default_rng(0).uniform(0.2, 3.0, size=len(Y3))
    cw = np.array([2.0, 1.0, 5.0])
    clf = PriorShiftClassifier(
        DecisionTreeClassifier(max_depth=3, class_weight=dict(enumerate(cw)), random_state=0)
    ).fit(X3, Y3, sample_weight=sw)
    np.testing.assert_allclose(clf.source_prior_, _mass(Y3, sw * cw[Y3]))


@pytest.mark.parametrize(
    "model, weighted",
    [
        (LogisticRegression(class_weight="balanced"), True),
        (DecisionTreeClassifier(max_depth=3, class_weight="balanced", random_state=0), False),
    ],
)
def test_balanced_with_sample_weight_follows_the_estimators_own_rule(model, weighted):
    """LogisticRegression balances the weighted class sums, trees the class counts."""
    sw = np.where(Y3 == 2, 4.0, 1.0) * np.random.default_rng(1).uniform(0.5, 1.5, len(Y3))
    clf = PriorShiftClassifier(model).fit(X3, Y3, sample_weight=sw)
    counts = np.bincount(Y3)
    sums = np.bincount(Y3, weights=sw)
    base = sums if weighted else counts
    expected = sums * (1 / base)
    np.testing.assert_allclose(clf.source_prior_, expected / expected.sum())


def test_balanced_on_the_final_step_of_a_pipeline():
    pipe = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced"))
    clf = PriorShiftClassifier(pipe, target_prior="auto").fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, 1 / 3)
    np.testing.assert_allclose(clf.target_prior_, np.bincount(Y3) / len(Y3))


def test_pipeline_step_sample_weight_is_followed():
    sw = np.where(Y3 == 0, 0.5, 2.0)
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    clf = LogitAdjuster(pipe).fit(X3, Y3, logisticregression__sample_weight=sw)
    np.testing.assert_allclose(clf.source_prior_, _mass(Y3, sw))
    # a weight given to another step does not reach the classifier
    clf = LogitAdjuster(pipe).fit(X3, Y3, standardscaler__sample_weight=sw)
    np.testing.assert_allclose(clf.source_prior_, np.bincount(Y3) / len(Y3))


def test_sampler_and_class_weight_combine():
    strategy = {0: 200, 1: 150}  # under-sample the two frequent classes; class 2 kept
    inner = make_imb_pipeline(RandomUnderSampler(sampling_strategy=strategy, random_state=0),
                              LogisticRegression(class_weight={0: 1.0, 1: 1.0, 2: 3.0}))
    clf = PriorShiftClassifier(inner).fit(X3, Y3)
    n2 = np.sum(Y3 == 2)
    expected = np.array([200.0, 150.0, 3.0 * n2])
    np.testing.assert_allclose(clf.source_prior_, expected / expected.sum())
    # "balanced" after a sampler balances the resampled labels: uniform
    inner = make_imb_pipeline(RandomUnderSampler(sampling_strategy=strategy, random_state=0),
                              LogisticRegression(class_weight="balanced"))
    np.testing.assert_allclose(PriorShiftClassifier(inner).fit(X3, Y3).source_prior_, 1 / 3)


def test_metadata_routing_to_the_final_step_is_followed():
    sw = np.where(Y3 == 2, 5.0, 1.0)
    with config_context(enable_metadata_routing=True):
        requested = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                                  LogisticRegression().set_fit_request(sample_weight=True))
        clf = LogitAdjuster(requested).fit(X3, Y3, sample_weight=sw)
        np.testing.assert_allclose(clf.source_prior_, _mass(Y3, sw))
        not_requested = make_pipeline(StandardScaler().set_fit_request(sample_weight=True),
                                      LogisticRegression().set_fit_request(sample_weight=False))
        clf = LogitAdjuster(not_requested).fit(X3, Y3, sample_weight=sw)
        np.testing.assert_allclose(clf.source_prior_, np.bincount(Y3) / len(Y3))


def test_fitted_search_is_unwrapped_to_its_best_estimator():
    search = GridSearchCV(LogisticRegression(class_weight="balanced"), {"C": [0.1, 1.0]}, cv=3)
    clf = PriorShiftClassifier(search).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, 1 / 3)


def test_svc_platt_probabilities_ignore_class_weight():
    """libsvm fits SVC's probabilities to the unweighted labels: no class-weight prior."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # probability=True is deprecated
        clf = PriorShiftClassifier(SVC(probability=True, class_weight="balanced",
                                       random_state=0)).fit(X3[:300], Y3[:300])
    np.testing.assert_allclose(clf.source_prior_, np.bincount(Y3[:300]) / 300)


def test_frozen_balanced_model_has_a_uniform_prior_without_warning():
    model = LogisticRegression(class_weight="balanced").fit(X_TR, Y_TR)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = PriorShiftClassifier(FrozenEstimator(model), target_prior="auto").fit(X_TE, Y_TE)
    np.testing.assert_allclose(clf.source_prior_, [0.5, 0.5])
    true_rate = Y_TE.mean()
    assert abs(clf.predict_proba(X_TE)[:, 1].mean() - true_rate) < 0.3 * true_rate


def test_frozen_dict_weighted_model_warns_and_weights_the_frequencies():
    model = LogisticRegression(class_weight={0: 1.0, 1: 9.0}).fit(X_TR, Y_TR)
    with pytest.warns(UserWarning, match="FrozenEstimator"):
        clf = LogitAdjuster(FrozenEstimator(model)).fit(X_TE, Y_TE)
    np.testing.assert_allclose(clf.source_prior_, _mass(Y_TE, np.array([1.0, 9.0])[Y_TE]))


def test_uninterpretable_class_weight_warns_and_is_ignored():
    class Custom(ClassifierMixin, BaseEstimator):
        def __init__(self, class_weight="inverse"):
            self.class_weight = class_weight

        def fit(self, X, y):
            self._model = LogisticRegression().fit(X, y)
            self.classes_ = self._model.classes_
            return self

        def predict_proba(self, X):
            return self._model.predict_proba(X)

    with pytest.warns(UserWarning, match="cannot interpret class_weight='inverse'"):
        clf = LogitAdjuster(Custom()).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, np.bincount(Y3) / len(Y3))


def test_tuner_follows_class_weight():
    from sklt import PriorShiftClassifierCV

    tuner = PriorShiftClassifierCV(LogisticRegression(class_weight="balanced"), lams=5, cv=3,
                                   target_prior="auto").fit(X3, Y3)
    np.testing.assert_allclose(tuner.source_prior_, 1 / 3)


def test_fusion_follows_class_weight_per_modality():
    clf = NoisyOrFusionClassifier([
        ("weighted", LogisticRegression(class_weight="balanced")),
        ("plain", LogisticRegression()),
    ]).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_[0], 1 / 3)
    np.testing.assert_allclose(clf.source_prior_[1], np.bincount(Y3) / len(Y3))


# --------------------------------------------------------------------------- traps
def test_auto_target_after_a_sampler_warns_that_nothing_is_corrected():
    pipe = make_imb_pipeline(RandomUnderSampler(random_state=0),
                             PriorShiftClassifier(target_prior="auto"))
    with pytest.warns(UserWarning, match="correction does nothing"):
        pipe.fit(X3, Y3)
    # the documented pattern, the sampler inside the corrector, corrects and does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = PriorShiftClassifier(
            make_imb_pipeline(RandomUnderSampler(random_state=0), LogisticRegression()),
            target_prior="auto",
        ).fit(X3, Y3)
    assert not np.allclose(clf.source_prior_, clf.target_prior_)


def test_auto_target_warning_spares_flattening_and_real_corrections():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PriorShiftClassifier(temperature=2.0, target_prior="auto").fit(X3, Y3)
        PriorShiftClassifier(LogisticRegression(class_weight="balanced"),
                             target_prior="auto").fit(X3, Y3)
        LogitAdjuster().fit(X3, Y3)


def test_correcting_an_over_sampled_model_back_warns():
    inner = make_imb_pipeline(RandomOverSampler(random_state=0),
                              DecisionTreeClassifier(max_depth=4, random_state=0))
    with pytest.warns(UserWarning, match="over-sampled data"):
        PriorShiftClassifier(inner, target_prior="auto").fit(X3, Y3)
    # under-sampling is a sample of the resampled distribution: no warning
    inner = make_imb_pipeline(RandomUnderSampler(random_state=0),
                              DecisionTreeClassifier(max_depth=4, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PriorShiftClassifier(inner, target_prior="auto").fit(X3, Y3)


def test_corrector_inside_calibrated_classifier_cv_warns():
    with pytest.warns(UserWarning, match="inside CalibratedClassifierCV"):
        CalibratedClassifierCV(LogitAdjuster(), cv=3).fit(X3, Y3)
    with pytest.warns(UserWarning, match="inside CalibratedClassifierCV"):
        CalibratedClassifierCV(LogitAdjuster(), cv=3, ensemble=False).fit(X3, Y3)


def test_calibrating_inside_the_corrector_keeps_the_correction():
    """The documented nesting: calibrate the model, then correct; no warning."""
    X_tr, X_te, y_tr, y_te = train_test_split(X3, Y3, test_size=0.5, stratify=Y3,
                                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inside = LogitAdjuster(CalibratedClassifierCV(LogisticRegression(), cv=3)).fit(
            X_tr, y_tr)
    with pytest.warns(UserWarning):
        outside = CalibratedClassifierCV(LogitAdjuster(), cv=3).fit(X_tr, y_tr)
    plain = LogisticRegression().fit(X_tr, y_tr)
    bal = {name: balanced_accuracy_score(y_te, model.predict(X_te))
           for name, model in [("inside", inside), ("outside", outside), ("plain", plain)]}
    assert bal["inside"] > bal["plain"]
    assert bal["inside"] > bal["outside"]


def test_corrector_as_stacking_base_warns_but_not_as_final_estimator():
    with pytest.warns(UserWarning, match="base estimator of StackingClassifier"):
        StackingClassifier([("la", LogitAdjuster()), ("lr", LogisticRegression())],
                           cv=3).fit(X3, Y3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StackingClassifier([("lr", LogisticRegression())], final_estimator=LogitAdjuster(),
                           cv=3).fit(X3, Y3)


# --------------------------------------------------------------------------- reported priors
def test_a_model_that_reports_its_prior_is_taken_at_its_word():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.naive_bayes import GaussianNB

    clf = PriorShiftClassifier(GaussianNB(priors=[0.2, 0.3, 0.5])).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, [0.2, 0.3, 0.5])
    clf = PriorShiftClassifier(LinearDiscriminantAnalysis(priors=[0.5, 0.3, 0.2])).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, [0.5, 0.3, 0.2])

    class BalancedNet(LogisticRegression):
        """Stands for an sklt net trained with a balanced loss (source_prior_ uniform)."""

        def fit(self, X, y):
            super().fit(X, y)
            self.source_prior_ = np.full(len(self.classes_), 1 / len(self.classes_))
            return self

    clf = PriorShiftClassifier(make_pipeline(StandardScaler(), BalancedNet())).fit(X3, Y3)
    np.testing.assert_allclose(clf.source_prior_, 1 / 3)


@pytest.mark.parametrize("inner_params, expected", [
    ({"tau": 1.0}, "target"),        # s = T = 1: entangled with the inner target prior
    ({"tau": 0.0}, "source"),        # the identity: still the training prior
])
def test_a_nested_corrector_reports_the_prior_of_its_outputs(inner_params, expected):
    inner = LogitAdjuster(LogisticRegression(), **inner_params)
    outer = PriorShiftClassifier(inner, target_prior="auto").fit(X3, Y3)
    freq = np.bincount(Y3) / len(Y3)
    np.testing.assert_allclose(outer.source_prior_, 1 / 3 if expected == "target" else freq)
    if expected == "target":  # corrected back: the plain model's probabilities again
        plain = LogisticRegression().fit(X3, Y3)
        np.testing.assert_allclose(outer.predict_proba(X3), plain.predict_proba(X3),
                                   rtol=1e-6, atol=1e-9)


def test_a_nested_flattening_corrector_reports_its_tempered_prior():
    inner = PriorShiftClassifier(LogisticRegression(), lam=0.5, temperature=2.0)
    outer = LogitAdjuster(inner).fit(X3, Y3)
    freq = np.bincount(Y3) / len(Y3)
    expected = freq ** (1 / 2.0 - 0.5) * (1 / 3) ** 0.5
    np.testing.assert_allclose(outer.source_prior_, expected / expected.sum())
