"""Tests of the post-hoc correctors LogitAdjuster and PriorShiftClassifier."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from imblearn.under_sampling import RandomUnderSampler
from scipy.stats import norm
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklt import LogitAdjuster, PriorShiftClassifier
from sklt.adjust import adjust_logits


def _long_tailed(n_samples=1500, n_classes=3, weights=(0.8, 0.15, 0.05), seed=0):
    return make_classification(
        n_samples=n_samples, n_classes=n_classes, n_informative=4, n_redundant=0,
        weights=list(weights), class_sep=0.8, random_state=seed,
    )


X, y = _long_tailed()


# --------------------------------------------------------------------------- sklearn contract
@parametrize_with_checks(
    [LogitAdjuster(), PriorShiftClassifier(lam=0.7, temperature=1.3),
     PriorShiftClassifier(LogisticRegression(class_weight="balanced"), target_prior="auto")]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Est", [LogitAdjuster, PriorShiftClassifier])
def test_default_estimator_is_logistic_regression_and_not_stored(Est):
    clf = Est()
    assert clf.estimator is None
    clf.fit(X, y)
    assert isinstance(clf.estimator_, LogisticRegression)
    assert clf.estimator is None


@pytest.mark.parametrize("Est", [LogitAdjuster, PriorShiftClassifier])
def test_predict_methods_agree(Est):
    clf = Est().fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X), atol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_array_equal(clf.decision_function(X).argmax(axis=1), proba.argmax(axis=1))


def test_binary_decision_function_is_1d_and_agrees_with_predict():
    Xb, yb = make_classification(n_samples=400, weights=[0.9], random_state=1)
    clf = LogitAdjuster().fit(Xb, yb)
    d = clf.decision_function(Xb)
    assert d.shape == (400,)
    np.testing.assert_array_equal(clf.predict(Xb), clf.classes_[(d > 0).astype(int)])
    proba = clf.predict_proba(Xb)
    np.testing.assert_allclose(d, np.log(proba[:, 1]) - np.log(proba[:, 0]), atol=1e-10)


def test_fitted_attributes():
    clf = PriorShiftClassifier().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_features_in_ == X.shape[1]
    np.testing.assert_allclose(clf.source_prior_, np.bincount(y) / len(y))
    np.testing.assert_allclose(clf.target_prior_, 1 / 3)


# --------------------------------------------------------------------------- identities (§5)
@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0, 1.7])
def test_prior_shift_with_uniform_target_equals_logit_adjuster(lam):
    psc = PriorShiftClassifier(lam=lam).fit(X, y)
    la = LogitAdjuster(tau=lam).fit(X, y)
    np.testing.assert_allclose(psc.predict_proba(X), la.predict_proba(X), rtol=1e-12)


def test_prior_shift_lam_one_equals_pc_softmax():
    target = np.array([0.2, 0.3, 0.5])
    psc = PriorShiftClassifier(lam=1.0, target_prior=target).fit(X, y)
    p = psc.estimator_.predict_proba(X)
    ps = np.bincount(y) / len(y)
    pc = p * target / ps
    pc /= pc.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(psc.predict_proba(X), pc, rtol=1e-10)


def test_prior_shift_equals_paper_geometric_mixture():
    """000 eq. 7: P_f ∝ P_d^(1-λ) P_r^λ with P_r ∝ P_d p_t / p_s."""
    lam, target = 0.4, np.array([0.5, 0.3, 0.2])
    psc = PriorShiftClassifier(lam=lam, target_prior=target).fit(X, y)
    p_d = psc.estimator_.predict_proba(X)
    p_r = p_d * target / psc.source_prior_
    p_r /= p_r.sum(axis=1, keepdims=True)
    p_f = p_d ** (1 - lam) * p_r**lam
    p_f /= p_f.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(psc.predict_proba(X), p_f, rtol=1e-9)


def test_temperature_flattens_before_rebalancing():
    psc = PriorShiftClassifier(lam=0.5, temperature=2.0).fit(X, y)
    log_p = np.log(psc.estimator_.predict_proba(X))
    expected = adjust_logits(log_p / 2.0 + 0.5 * (np.log(1 / 3) - np.log(psc.source_prior_)))
    np.testing.assert_allclose(psc.predict_log_proba(X), expected, atol=1e-10)


# --------------------------------------------------------------------------- invariants
@pytest.mark.parametrize("Est, param", [(LogitAdjuster, "tau"), (PriorShiftClassifier, "lam")])
def test_zero_strength_is_identity(Est, param):
    clf = Est(**{param: 0.0}).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), clf.estimator_.predict_proba(X), rtol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.estimator_.predict(X))


def test_raising_lambda_never_lowers_share_of_rarest_class():
    base = PriorShiftClassifier().fit(X, y)
    rare = np.argmin(base.source_prior_)
    shares = []
    for lam in np.linspace(0, 3, 13):
        clf = clone(base).set_params(lam=lam).fit(X, y)
        shares.append(np.mean(clf.predict(X) == clf.classes_[rare]))
    assert np.all(np.diff(shares) >= 0)
    assert shares[-1] > shares[0]


def test_relabelling_classes_permutes_outputs():
    names = np.array(["zebra", "ant", "moose"])
    y_str = names[y]
    target = {"zebra": 0.2, "ant": 0.5, "moose": 0.3}
    clf_int = PriorShiftClassifier(lam=0.8, target_prior=[0.2, 0.5, 0.3]).fit(X, y)
    clf_str = PriorShiftClassifier(lam=0.8, target_prior=target).fit(X, y_str)
    order = np.searchsorted(clf_str.classes_, names)  # column of each original class
    np.testing.assert_allclose(clf_str.predict_proba(X)[:, order], clf_int.predict_proba(X),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(clf_str.predict(X), names[clf_int.predict(X)])


def test_large_lambda_does_not_overflow():
    clf = PriorShiftClassifier(lam=500.0).fit(X, y)
    proba = clf.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1)


def test_inputs_are_not_modified():
    X_c, y_c = X.copy(), y.copy()
    prior = np.array([1.0, 2.0, 3.0])
    sw = np.ones(len(y))
    clf = PriorShiftClassifier(target_prior=prior).fit(X_c, y_c, sample_weight=sw)
    clf.predict_proba(X_c)
    np.testing.assert_array_equal(X_c, X)
    np.testing.assert_array_equal(y_c, y)
    np.testing.assert_array_equal(prior, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(sw, 1.0)


def test_predictions_are_row_wise():
    clf = LogitAdjuster().fit(X, y)
    full = clf.predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(X[:7]), full[:7])
    np.testing.assert_allclose(clf.predict_proba(X[::-1]), full[::-1])


# --------------------------------------------------------------------------- 004's toy problem
def _two_gaussians(rng, n, pos_frac):
    yy = (rng.random(n) < pos_frac).astype(int)
    return rng.normal(size=(n, 2)) + np.where(yy[:, None] == 1, 1.0, -1.0), yy


def test_logit_adjustment_reaches_bayes_balanced_error_on_gaussians():
    """004 §6.1: means ±(1,1), identity covariance, P(y=+1)=5%."""
    bayes = norm.cdf(-np.sqrt(2))
    errors_la, errors_erm = [], []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        X_tr, y_tr = _two_gaussians(rng, 10_000, 0.05)
        X_te, y_te = _two_gaussians(rng, 20_000, 0.5)
        la = LogitAdjuster(LogisticRegression(), tau=1.0).fit(X_tr, y_tr)
        errors_la.append(1 - balanced_accuracy_score(y_te, la.predict(X_te)))
        errors_erm.append(1 - balanced_accuracy_score(y_te, la.estimator_.predict(X_te)))
    assert abs(np.mean(errors_la) - bayes) < 0.005
    assert np.mean(errors_erm) > 0.14


# --------------------------------------------------------------------------- inputs
def test_string_labels_pandas_and_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = np.array(["common", "medium", "rare"])[y]
    clf = LogitAdjuster().fit(df, pd.Series(labels))
    np.testing.assert_array_equal(clf.classes_, ["common", "medium", "rare"])
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    assert set(clf.predict(df)) <= set(labels)


def test_sparse_input_passes_through():
    Xs = sp.csr_matrix(X)
    dense = LogitAdjuster().fit(X, y).predict_proba(X)
    np.testing.assert_allclose(LogitAdjuster().fit(Xs, y).predict_proba(Xs), dense, atol=1e-6)


def test_decision_function_only_models_are_supported():
    clf = LogitAdjuster(LinearSVC()).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    Xb, yb = make_classification(n_samples=300, weights=[0.9], random_state=0)
    clf_b = LogitAdjuster(LinearSVC(), tau=0).fit(Xb, yb)
    np.testing.assert_array_equal(clf_b.predict(Xb), clf_b.estimator_.predict(Xb))


def test_sample_weight_acts_like_repetition():
    sw = np.random.default_rng(0).integers(0, 3, size=len(y))
    weighted = PriorShiftClassifier().fit(X, y, sample_weight=sw)
    repeated = PriorShiftClassifier().fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.source_prior_, repeated.source_prior_)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4,
                               atol=1e-5)


def test_sample_weight_for_model_without_it_warns_and_weights_only_the_target_prior():
    class NoWeights(LogisticRegression):
        def fit(self, X, y):
            return super().fit(X, y)

    sw = np.where(y == 0, 1.0, 3.0)
    with pytest.warns(UserWarning, match="does not accept sample_weight"):
        clf = PriorShiftClassifier(NoWeights(), target_prior="auto").fit(X, y, sample_weight=sw)
    # the model never saw the weights: its posteriors follow the unweighted frequencies
    np.testing.assert_allclose(clf.source_prior_, np.bincount(y) / len(y))
    counts = np.bincount(y, weights=sw)
    np.testing.assert_allclose(clf.target_prior_, counts / counts.sum())


def test_metadata_routing_sends_sample_weight_to_inner_fit():
    sw = np.random.default_rng(1).random(len(y))
    with config_context(enable_metadata_routing=True):
        inner = LogisticRegression().set_fit_request(sample_weight=True)
        routed = LogitAdjuster(inner).fit(X, y, sample_weight=sw)
        not_requested = LogitAdjuster(
            LogisticRegression().set_fit_request(sample_weight=False)
        ).fit(X, y, sample_weight=sw)
    direct = LogisticRegression().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(routed.estimator_.coef_, direct.coef_)
    np.testing.assert_allclose(not_requested.estimator_.coef_, LogisticRegression().fit(X, y).coef_)
    counts = np.bincount(y, weights=sw)
    np.testing.assert_allclose(routed.source_prior_, counts / counts.sum())


def test_clone_and_pickle_round_trip():
    clf = PriorShiftClassifier(lam=0.5, target_prior={0: 1, 1: 2, 2: 3}).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params()["lam"] == 0.5


# --------------------------------------------------------------------------- design-card usage
def test_last_step_of_a_pipeline():
    pipe = Pipeline([("scale", StandardScaler()), ("adjust", LogitAdjuster())]).fit(X, y)
    assert balanced_accuracy_score(y, pipe.predict(X)) > balanced_accuracy_score(
        y, pipe[-1].estimator_.predict(pipe[0].transform(X))
    )


@pytest.mark.parametrize("scoring", ["balanced_accuracy", "neg_log_loss"])
def test_grid_search_over_lambda(scoring):
    search = GridSearchCV(PriorShiftClassifier(), {"lam": [0.0, 0.5, 1.0, 1.5]}, scoring=scoring,
                          cv=3).fit(X, y)
    assert search.best_params_["lam"] in (0.0, 0.5, 1.0, 1.5)
    if scoring == "balanced_accuracy":
        assert search.best_params_["lam"] > 0


def test_grid_search_over_tau_in_a_pipeline():
    pipe = make_pipeline(StandardScaler(), LogitAdjuster())
    search = GridSearchCV(pipe, {"logitadjuster__tau": [0.0, 1.0, 2.0]},
                          scoring="balanced_accuracy", cv=3).fit(X, y)
    assert search.best_params_["logitadjuster__tau"] > 0


def test_frozen_estimator_protocol_fits_once_and_tunes_on_validation():
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    model = LogisticRegression().fit(X_tr, y_tr)
    coef = model.coef_.copy()
    train_prior = np.bincount(y_tr) / len(y_tr)
    search = GridSearchCV(
        PriorShiftClassifier(FrozenEstimator(model), source_prior=train_prior),
        {"lam": np.linspace(0, 2, 5)}, scoring="balanced_accuracy", cv=3,
    ).fit(X_val, y_val)
    np.testing.assert_array_equal(model.coef_, coef)  # never refit
    assert search.best_estimator_.estimator_.estimator is model
    np.testing.assert_allclose(search.best_estimator_.source_prior_, train_prior)


def test_frozen_estimator_auto_prior_uses_model_report_or_warns():
    nb = GaussianNB().fit(X, y)
    clf = LogitAdjuster(FrozenEstimator(nb)).fit(X[:30], y[:30])
    np.testing.assert_allclose(clf.source_prior_, nb.class_prior_)
    lr = LogisticRegression().fit(X, y)
    with pytest.warns(UserWarning, match="FrozenEstimator"):
        LogitAdjuster(FrozenEstimator(lr)).fit(X, y)


def test_corrector_after_sampler_sees_resampled_prior():
    pipe = make_imb_pipeline(RandomUnderSampler(random_state=0), LogitAdjuster()).fit(X, y)
    np.testing.assert_allclose(pipe[-1].source_prior_, 1 / 3)


@pytest.mark.parametrize("sampler", [RandomUnderSampler(random_state=0),
                                     RandomOverSampler(random_state=0)])
def test_corrector_wrapping_resampling_pipeline_uses_resampled_prior(sampler):
    inner = make_imb_pipeline(sampler, LogisticRegression())
    clf = PriorShiftClassifier(inner, target_prior="auto").fit(X, y)
    np.testing.assert_allclose(clf.source_prior_, 1 / 3)  # balanced by the sampler
    np.testing.assert_allclose(clf.target_prior_, np.bincount(y) / len(y))


def test_undersample_then_correct_back_improves_log_loss():
    """imbalanced-learn #1128: under-sample for speed, correct back to the original prior."""
    Xl, yl = _long_tailed(n_samples=6000, weights=(0.9, 0.07, 0.03), seed=3)
    X_tr, X_te, y_tr, y_te = train_test_split(Xl, yl, test_size=0.5, random_state=0, stratify=yl)
    inner = make_imb_pipeline(RandomUnderSampler(random_state=0), LogisticRegression())
    uncorrected = clone(inner).fit(X_tr, y_tr)
    corrected = PriorShiftClassifier(inner, target_prior="auto").fit(X_tr, y_tr)
    loss_plain = log_loss(y_te, uncorrected.predict_proba(X_te))
    loss_corrected = log_loss(y_te, corrected.predict_proba(X_te))
    assert loss_corrected < loss_plain
    # the correction back is the Bayes rule: same posteriors as p * p_orig / p_balanced
    p = corrected.estimator_.predict_proba(X_te) * np.bincount(y_tr) / len(y_tr)
    np.testing.assert_allclose(corrected.predict_proba(X_te), p / p.sum(1, keepdims=True),
                               rtol=1e-9)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "Est, params, match",
    [
        (PriorShiftClassifier, dict(lam=-0.5), "'lam' parameter"),
        (LogitAdjuster, dict(tau=-1), "'tau' parameter"),
        (PriorShiftClassifier, dict(temperature=0.0), "'temperature' parameter"),
        (PriorShiftClassifier, dict(target_prior=[0.5, 0.5]), "2 entries but the classifier has 3"),
        (PriorShiftClassifier, dict(target_prior=[0.5, -0.1, 0.6]), "non-negative"),
        (PriorShiftClassifier, dict(source_prior=[0.5, 0.5, 0.0]), "source_prior is zero"),
        (PriorShiftClassifier, dict(target_prior={0: 1, 1: 1, 7: 1}), "does not know"),
        (LogitAdjuster, dict(source_prior="balanced"), "'source_prior' parameter"),
    ],
)
def test_bad_parameters_raise_clear_errors(Est, params, match):
    with pytest.raises(ValueError, match=match):
        Est(**params).fit(X, y)


def test_estimator_without_scores_is_rejected():
    class NoScores:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X))

    with pytest.raises(ValueError, match="'estimator' parameter"):
        LogitAdjuster(NoScores()).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inner_outputs_raise(bad):
    class Broken(LogisticRegression):
        def predict_proba(self, X):
            p = super().predict_proba(X)
            p[0, 0] = bad
            return p

    clf = LogitAdjuster(Broken()).fit(X, y)
    with pytest.raises(ValueError, match="NaN or infinite"):
        clf.predict_proba(X)


def test_class_missing_from_training_data_of_frozen_model():
    model = DecisionTreeClassifier(random_state=0).fit(X[y != 2], y[y != 2])
    with pytest.raises(ValueError, match="does not know"):
        LogitAdjuster(FrozenEstimator(model), source_prior=[0.5, 0.5]).fit(X, y)


def test_y_none_raises():
    with pytest.raises(ValueError, match="requires y"):
        LogitAdjuster().fit(X, None)
