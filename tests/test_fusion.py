"""Tests of sklt.fusion: NoisyOrFusionClassifier (UNO-IC, 000 Algorithm 1)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import entropy as scipy_entropy
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklt import NoisyOrFusionClassifier, PriorShiftClassifier
from sklt.fusion import _uno_temperature
from sklt.priors import class_frequencies


class _Posterior(ClassifierMixin, BaseEstimator):
    """A "model" whose posteriors are the columns ``cols`` of X (hand-made posteriors)."""

    def __init__(self, cols=None):
        self.cols = cols

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=float)[:, self.cols]


def _two_modalities(**params):
    return NoisyOrFusionClassifier(
        [("a", _Posterior(cols=[0, 1])), ("b", _Posterior(cols=[2, 3]))], **params
    )


def _select(cols, model=None):
    return make_pipeline(
        FunctionTransformer(lambda X, cols=cols: X[:, cols]),
        LogisticRegression() if model is None else model,
    )


def _long_tailed(n=400, seed=0, n_classes=3, p=(0.7, 0.2, 0.1)):
    rng = np.random.default_rng(seed)
    y = rng.choice(n_classes, size=n, p=p)
    X = np.hstack([y[:, None] + rng.normal(size=(n, 2)), y[:, None] + rng.normal(size=(n, 2))])
    return X, y


def _normalise(p):
    return p / p.sum(axis=-1, keepdims=True)


def _reference_uno_ic(posteriors, temps, lam, source_prior, target_prior, fusion="noisy_or"):
    """Algorithm 1 of 000 written out literally in probability space, one modality at a time."""
    calibrated = []
    for p, t in zip(posteriors, temps, strict=True):
        p_d = _normalise(p ** (1.0 / t[:, None]))  # softmax(L / T) = normalise(P^(1/T))
        p_r = _normalise(p_d * target_prior / source_prior)  # eq. 5
        calibrated.append(_normalise(p_d ** (1 - lam) * p_r**lam))  # eq. 7
    calibrated = np.stack(calibrated)
    if fusion == "noisy_or":
        return _normalise(1 - np.prod(1 - calibrated, axis=0))
    if fusion == "mean":
        return calibrated.mean(axis=0)
    return _normalise(np.prod(calibrated, axis=0))


# --- identities ---------------------------------------------------------------------------


@pytest.mark.parametrize("lam", [0.0, 0.4, 1.0, 1.3])
@pytest.mark.parametrize("target_prior", ["uniform", [0.2, 0.3, 0.5]])
@pytest.mark.parametrize("fusion", ["noisy_or", "mean", "product"])
def test_one_modality_without_temperature_equals_prior_shift_classifier(lam, target_prior, fusion):
    X, y = _long_tailed()
    fused = NoisyOrFusionClassifier(
        [("only", LogisticRegression())],
        lam=lam,
        target_prior=target_prior,
        temperature=None,
        fusion=fusion,
    ).fit(X, y)
    single = PriorShiftClassifier(LogisticRegression(), lam=lam, target_prior=target_prior).fit(
        X, y
    )
    np.testing.assert_allclose(fused.predict_proba(X), single.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(fused.source_prior_[0], single.source_prior_)
    np.testing.assert_array_equal(fused.predict(X), single.predict(X))


def test_binary_one_modality_decision_function_equals_prior_shift_classifier():
    X, y = _long_tailed(n_classes=2, p=(0.85, 0.15))
    fused = NoisyOrFusionClassifier([("m", LogisticRegression())], lam=0.7, temperature=None)
    single = PriorShiftClassifier(LogisticRegression(), lam=0.7)
    np.testing.assert_allclose(
        fused.fit(X, y).decision_function(X), single.fit(X, y).decision_function(X), rtol=1e-10
    )


def test_noisy_or_on_hand_made_posteriors():
    # P_a = [0.8, 0.2], P_b = [0.5, 0.5]: 1 - (1 - P_a)(1 - P_b) = [0.9, 0.6] -> [0.6, 0.4].
    # P_a = [0.1, 0.9], P_b = [0.3, 0.7]: [1 - 0.63, 1 - 0.03] = [0.37, 0.97] -> / 1.34.
    X = np.array([[0.8, 0.2, 0.5, 0.5], [0.1, 0.9, 0.3, 0.7]])
    clf = _two_modalities(lam=0.0, temperature=None).fit(X, [0, 1])
    expected = np.array([[0.6, 0.4], [0.37 / 1.34, 0.97 / 1.34]])
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(expected), rtol=1e-12)


def test_noisy_or_three_classes_hand_made():
    # P_a = [0.6, 0.3, 0.1], P_b = [0.2, 0.2, 0.6]:
    # 1 - (0.4 * 0.8, 0.7 * 0.8, 0.9 * 0.4) = [0.68, 0.44, 0.64], sum 1.76.
    clf = NoisyOrFusionClassifier(
        [("a", _Posterior(cols=[0, 1, 2])), ("b", _Posterior(cols=[3, 4, 5]))],
        lam=0.0,
        temperature=None,
    )
    X = np.array([[0.6, 0.3, 0.1, 0.2, 0.2, 0.6]])
    clf.fit(np.repeat(X, 3, axis=0), [0, 1, 2])
    np.testing.assert_allclose(clf.predict_proba(X), [[0.68 / 1.76, 0.44 / 1.76, 0.64 / 1.76]])


def test_mean_fusion_on_hand_made_posteriors():
    X = np.array([[0.8, 0.2, 0.5, 0.5], [0.1, 0.9, 0.3, 0.7]])
    clf = _two_modalities(lam=0.0, temperature=None, fusion="mean").fit(X, [0, 1])
    np.testing.assert_allclose(clf.predict_proba(X), [[0.65, 0.35], [0.2, 0.8]], rtol=1e-12)


def test_product_fusion_on_hand_made_posteriors():
    # [0.8 * 0.5, 0.2 * 0.5] -> [0.8, 0.2];  [0.1 * 0.3, 0.9 * 0.7] = [0.03, 0.63] -> / 0.66.
    X = np.array([[0.8, 0.2, 0.5, 0.5], [0.1, 0.9, 0.3, 0.7]])
    clf = _two_modalities(lam=0.0, temperature=None, fusion="product").fit(X, [0, 1])
    np.testing.assert_allclose(
        clf.predict_proba(X), [[0.8, 0.2], [0.03 / 0.66, 0.63 / 0.66]], rtol=1e-12
    )


def test_noisy_or_with_a_certain_modality():
    # P_a = [1, 0], P_b = [0.3, 0.7]: 1 - (0 * 0.7, 1 * 0.3) = [1, 0.7] -> / 1.7; no warning.
    X = np.array([[1.0, 0.0, 0.3, 0.7]])
    clf = _two_modalities(lam=0.0, temperature=None).fit(np.vstack([X, X]), [0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(clf.predict_proba(X), [[1 / 1.7, 0.7 / 1.7]])


@pytest.mark.parametrize("fusion", ["noisy_or", "mean", "product"])
@pytest.mark.parametrize("temperature", ["uno", 2.0, None, ["uno", 0.5]])
def test_matches_algorithm_1_written_out(fusion, temperature):
    rng = np.random.default_rng(1)
    n = 60
    pa = rng.dirichlet([2, 1, 0.5], size=n)
    pb = rng.dirichlet([1, 1, 1], size=n)
    X = np.hstack([pa, pb])
    y = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    clf = NoisyOrFusionClassifier(
        [("a", _Posterior(cols=[0, 1, 2])), ("b", _Posterior(cols=[3, 4, 5]))],
        lam=0.4,
        target_prior=[0.3, 0.3, 0.4],
        temperature=temperature,
        fusion=fusion,
    ).fit(X, y)
    temps = clf.modality_temperatures(X)
    # the UNO temperature from the entropy statistics of the fit data
    for m, p in enumerate([pa, pb]):
        spec = temperature[m] if isinstance(temperature, list) else temperature
        if spec == "uno":
            h = scipy_entropy(p, axis=1)
            mu, sigma = h.mean(), h.std()
            np.testing.assert_allclose(temps[:, m], 1 + np.maximum(0, h - mu - sigma) / mu)
        else:
            np.testing.assert_allclose(temps[:, m], 1.0 if spec is None else spec)
    p_s = class_frequencies(y, [0, 1, 2])
    expected = _reference_uno_ic(
        [pa, pb], temps.T, 0.4, p_s, np.array([0.3, 0.3, 0.4]), fusion=fusion
    )
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10)


def test_lam_zero_and_no_temperature_fuse_the_raw_posteriors():
    X, y = _long_tailed()
    clf = NoisyOrFusionClassifier(
        [("a", _select([0, 1])), ("b", _select([2, 3]))], lam=0.0, temperature=None
    ).fit(X, y)
    pa, pb = (est.predict_proba(X) for est in clf.estimators_)
    np.testing.assert_allclose(
        clf.predict_proba(X), _normalise(1 - (1 - pa) * (1 - pb)), rtol=1e-10
    )


# --- the UNO temperature ------------------------------------------------------------------


def test_uno_temperature_is_one_below_mean_plus_std_and_grows_above():
    mu, sigma = 0.5, 0.2
    h = np.array([0.0, 0.3, 0.5, 0.7, 0.7000001, 0.9, 1.5, 3.0])
    t = _uno_temperature(h, mu, sigma)
    np.testing.assert_array_equal(t[h <= mu + sigma], 1.0)
    assert np.all(t[h > mu + sigma] > 1.0)
    assert np.all(np.diff(t[h >= mu + sigma]) > 0)
    np.testing.assert_allclose(t[-1], 1 + (3.0 - 0.7) / 0.5)


@settings(max_examples=50, deadline=None)
@given(
    h=arrays(np.float64, 20, elements=st.floats(0, 10)),
    mu=st.floats(0.01, 5),
    sigma=st.floats(0, 5),
)
def test_uno_temperature_properties(h, mu, sigma):
    t = _uno_temperature(h, mu, sigma)
    assert np.all(t >= 1.0)
    np.testing.assert_array_equal(t == 1.0, h <= mu + sigma)
    order = np.argsort(h, kind="stable")
    assert np.all(np.diff(t[order]) >= 0)  # monotone in the entropy


def test_uno_temperature_of_fitted_classifier_on_controlled_entropies():
    # Fit posteriors have entropies spread below log 2; test posteriors of growing entropy.
    fit = np.linspace(0.02, 0.4, 30)
    X_fit = np.column_stack([1 - fit, fit, 1 - fit, fit])
    clf = _two_modalities(temperature="uno").fit(X_fit, np.arange(30) % 2)
    h_fit = scipy_entropy(np.column_stack([1 - fit, fit]), axis=1)
    np.testing.assert_allclose(clf.entropy_mean_, [h_fit.mean()] * 2)
    np.testing.assert_allclose(clf.entropy_std_, [h_fit.std()] * 2)
    q = np.linspace(0.001, 0.5, 200)
    X_test = np.column_stack([1 - q, q, 1 - q, q])
    t = clf.modality_temperatures(X_test)[:, 0]
    h = scipy_entropy(np.column_stack([1 - q, q]), axis=1)
    threshold = h_fit.mean() + h_fit.std()
    np.testing.assert_array_equal(t[h <= threshold], 1.0)
    assert np.all(t[h > threshold] > 1.0)
    assert np.all(np.diff(t) >= 0) and t[-1] > t[h > threshold][0]


def test_uno_flattens_a_degraded_modality():
    # Fusing a clean and a noisy modality: the temperature of the degraded one rises.
    X, y = _long_tailed(n=600)
    clf = NoisyOrFusionClassifier([("a", _select([0, 1])), ("b", _select([2, 3]))]).fit(X, y)
    rng = np.random.default_rng(5)
    X_bad = X.copy()
    X_bad[:, 2:] = rng.normal(0, 1, size=(len(X), 2)) + 1.0  # b sees no signal
    clean, bad = clf.modality_temperatures(X), clf.modality_temperatures(X_bad)
    assert bad[:, 1].mean() > clean[:, 1].mean()
    np.testing.assert_array_equal(bad[:, 0], clean[:, 0])


def test_uno_cv_statistics_are_held_out_entropies():
    X, y = _long_tailed(n=200)
    cv = KFold(4, shuffle=True, random_state=0)
    clf = NoisyOrFusionClassifier([("a", _select([0, 1])), ("b", _select([2, 3]))], uno_cv=cv).fit(
        X, y
    )
    for m, cols in enumerate([[0, 1], [2, 3]]):
        h = np.empty(len(y))
        for train, test in cv.split(X, y):
            model = LogisticRegression().fit(X[train][:, cols], y[train])
            h[test] = scipy_entropy(model.predict_proba(X[test][:, cols]), axis=1)
        np.testing.assert_allclose(clf.entropy_mean_[m], h.mean(), rtol=1e-6)
        np.testing.assert_allclose(clf.entropy_std_[m], h.std(), rtol=1e-6)
    # predictions still come from the modalities fit on all the data
    full = LogisticRegression().fit(X[:, :2], y)
    np.testing.assert_allclose(clf.estimators_[0][-1].coef_, full.coef_)


def test_entropy_statistics_are_nan_without_uno():
    X, y = _long_tailed(n=100)
    clf = NoisyOrFusionClassifier(
        [("a", _select([0, 1])), ("b", _select([2, 3]))], temperature=[None, "uno"]
    ).fit(X, y)
    assert np.isnan(clf.entropy_mean_[0]) and np.isnan(clf.entropy_std_[0])
    assert clf.entropy_mean_[1] > 0
    np.testing.assert_array_equal(clf.modality_temperatures(X)[:, 0], 1.0)


# --- estimator behaviour ------------------------------------------------------------------


def test_methods_agree_and_string_labels():
    X, y = _long_tailed()
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = NoisyOrFusionClassifier([("a", _select([0, 1])), ("b", _select([2, 3]))], lam=0.5)
    clf.fit(X, labels)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "eel"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.decision_function(X), clf.predict_log_proba(X))


def test_imbalance_calibration_raises_the_rare_class_recall():
    X, y = _long_tailed(n=2000, p=(0.85, 0.1, 0.05))
    base = NoisyOrFusionClassifier([("a", _select([0, 1])), ("b", _select([2, 3]))], lam=0.0)
    ic = clone(base).set_params(lam=1.0)
    rare = y == 2
    recall_base = (base.fit(X, y).predict(X)[rare] == 2).mean()
    recall_ic = (ic.fit(X, y).predict(X)[rare] == 2).mean()
    assert recall_ic > recall_base


def test_sample_weight_sets_the_auto_source_prior():
    X, y = _long_tailed(n=300)
    w = np.random.default_rng(0).uniform(0.1, 2, size=len(y))
    clf = NoisyOrFusionClassifier([("a", LogisticRegression()), ("b", LogisticRegression())])
    clf.fit(X, y, sample_weight=w)
    expected = class_frequencies(y, [0, 1, 2], sample_weight=w)
    np.testing.assert_allclose(clf.source_prior_, [expected, expected])
    # and it reaches the modalities' fit
    weighted = LogisticRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(clf.estimators_[0].coef_, weighted.coef_)


def test_sample_weight_warns_for_modalities_that_cannot_take_it():
    X, y = _long_tailed(n=100)
    clf = NoisyOrFusionClassifier([("a", _select([0, 1])), ("b", LogisticRegression())])
    with pytest.warns(UserWarning, match="'a'.*does not accept sample_weight"):
        clf.fit(X, y, sample_weight=np.ones(len(y)))


def test_metadata_routing_sends_sample_weight_to_requesting_modalities():
    import sklearn
    from sklearn.preprocessing import StandardScaler

    X, y = _long_tailed(n=200)
    w = np.random.default_rng(1).uniform(0.1, 2, size=len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        clf = NoisyOrFusionClassifier(
            [
                (
                    "a",
                    make_pipeline(
                        StandardScaler().set_fit_request(sample_weight=False),
                        LogisticRegression().set_fit_request(sample_weight=True),
                    ),
                ),
                ("b", LogisticRegression().set_fit_request(sample_weight=False)),
            ]
        ).fit(X, y, sample_weight=w)
    scaled = (X - X.mean(axis=0)) / X.std(axis=0)
    weighted = LogisticRegression().fit(scaled, y, sample_weight=w)
    np.testing.assert_allclose(clf.estimators_[0][-1].coef_, weighted.coef_, rtol=1e-5)
    np.testing.assert_allclose(clf.estimators_[1].coef_, LogisticRegression().fit(X, y).coef_)
    # the prior a modality was trained with: weighted where the weights reached its classifier
    np.testing.assert_allclose(clf.source_prior_[0], class_frequencies(y, [0, 1, 2], w))
    np.testing.assert_allclose(clf.source_prior_[1], class_frequencies(y, [0, 1, 2]))


def test_explicit_source_prior_is_shared():
    X, y = _long_tailed(n=100)
    clf = NoisyOrFusionClassifier(
        [("a", _select([0, 1])), ("b", _select([2, 3]))], source_prior=[2, 1, 1]
    ).fit(X, y)
    np.testing.assert_allclose(clf.source_prior_, [[0.5, 0.25, 0.25]] * 2)


def test_frozen_modality_is_not_refit():
    X, y = _long_tailed(n=200)
    frozen_model = LogisticRegression(C=0.01).fit(X[:, 2:], y)
    clf = NoisyOrFusionClassifier(
        [("a", _select([0, 1])), ("b", _select([2, 3], FrozenEstimator(frozen_model)))]
    )
    clf.fit(X, y)
    assert clf.estimators_[1][-1].estimator is frozen_model


def test_frozen_modality_with_auto_source_prior_warns():
    X, y = _long_tailed(n=200)
    frozen = FrozenEstimator(LogisticRegression().fit(X, y))
    with pytest.warns(UserWarning, match="FrozenEstimator uses the class frequencies"):
        NoisyOrFusionClassifier([("a", frozen), ("b", LogisticRegression())]).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NoisyOrFusionClassifier([("a", frozen)], source_prior=[0.7, 0.2, 0.1]).fit(X, y)


def test_resampling_modality_gets_its_resampled_source_prior():
    from imblearn.pipeline import make_pipeline as make_imb_pipeline
    from imblearn.under_sampling import RandomUnderSampler

    X, y = _long_tailed(n=300)
    clf = NoisyOrFusionClassifier(
        [
            ("a", make_imb_pipeline(RandomUnderSampler(random_state=0), LogisticRegression())),
            ("b", LogisticRegression()),
        ]
    ).fit(X, y)
    np.testing.assert_allclose(clf.source_prior_[0], [1 / 3] * 3)
    np.testing.assert_allclose(clf.source_prior_[1], class_frequencies(y, [0, 1, 2]))


def test_dropped_modality():
    X, y = _long_tailed(n=200)
    clf = NoisyOrFusionClassifier(
        [("a", _select([0, 1])), ("b", _select([2, 3]))], temperature=[2.0, "uno"]
    )
    clf.set_params(a="drop").fit(X, y)
    assert len(clf.estimators_) == 1 and clf.named_estimators_["a"] == "drop"
    assert clf.temperatures_ == ["uno"]
    single = NoisyOrFusionClassifier([("b", _select([2, 3]))]).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), single.predict_proba(X))


def test_nested_params_reach_the_modalities():
    X, y = _long_tailed(n=200)
    clf = NoisyOrFusionClassifier([("a", LogisticRegression()), ("b", LogisticRegression())])
    clf.set_params(b__C=0.01).fit(X, y)
    assert clf.named_estimators_["b"].C == 0.01
    assert clf.get_params()["a__C"] == 1.0


def test_n_jobs_gives_the_same_model():
    X, y = _long_tailed(n=200)
    base = NoisyOrFusionClassifier(
        [("a", _select([0, 1])), ("b", _select([2, 3]))], uno_cv=3, n_jobs=1
    )
    parallel = clone(base).set_params(n_jobs=2)
    np.testing.assert_allclose(base.fit(X, y).predict_proba(X), parallel.fit(X, y).predict_proba(X))
    np.testing.assert_allclose(base.entropy_mean_, parallel.entropy_mean_)


def test_pandas_columns_per_modality():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    X, y = _long_tailed(n=200)
    df = pd.DataFrame(X, columns=["rgb1", "rgb2", "depth1", "depth2"])

    def modality(cols):
        return make_pipeline(make_column_transformer(("passthrough", cols)), LogisticRegression())

    clf = NoisyOrFusionClassifier(
        [("rgb", modality(["rgb1", "rgb2"])), ("depth", modality(["depth1", "depth2"]))]
    ).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    assert clf.n_features_in_ == 4
    assert clf.predict(df).shape == (200,)


def test_input_is_not_modified():
    X, y = _long_tailed(n=100)
    X_copy, y_copy = X.copy(), y.copy()
    clf = NoisyOrFusionClassifier([("a", _select([0, 1])), ("b", _select([2, 3]))]).fit(X, y)
    clf.predict_proba(X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


# --- bad input ----------------------------------------------------------------------------


def test_empty_estimator_list_raises():
    X, y = _long_tailed(n=50)
    with pytest.raises(ValueError, match="non-empty list of \\(string, estimator\\)"):
        NoisyOrFusionClassifier([]).fit(X, y)


def test_unknown_fusion_rule_raises():
    X, y = _long_tailed(n=50)
    with pytest.raises(ValueError, match="'fusion' parameter.*'max'"):
        NoisyOrFusionClassifier([("a", LogisticRegression())], fusion="max").fit(X, y)


def test_modalities_disagreeing_on_classes_raise():
    X, y = _long_tailed(n=100)
    other = LogisticRegression().fit(X, np.where(y == 2, 1, y))  # knows classes 0 and 1 only
    clf = NoisyOrFusionClassifier([("a", LogisticRegression()), ("b", FrozenEstimator(other))])
    with pytest.raises(ValueError, match="disagree on classes: 'a' predicts \\[0, 1, 2\\] but 'b'"):
        clf.fit(X, y)


def test_y_with_classes_the_modalities_do_not_know_raises():
    X, y = _long_tailed(n=100)
    frozen = FrozenEstimator(LogisticRegression().fit(X, np.where(y == 2, 1, y)))
    with pytest.raises(ValueError, match="y contains classes \\[2\\]"):
        NoisyOrFusionClassifier([("a", frozen)]).fit(X, y)


@pytest.mark.parametrize(
    "temperature, match",
    [
        (["uno"], "temperature has 1 entries but there are 2 estimators"),
        (["uno", -1.0], "Each entry of temperature.*got -1.0"),
        (["uno", "hot"], "Each entry of temperature.*got 'hot'"),
        (0.0, "'temperature' parameter"),
        ("hot", "'temperature' parameter"),
    ],
)
def test_bad_temperature_raises(temperature, match):
    X, y = _long_tailed(n=50)
    clf = NoisyOrFusionClassifier(
        [("a", LogisticRegression()), ("b", LogisticRegression())], temperature=temperature
    )
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_negative_lam_raises():
    X, y = _long_tailed(n=50)
    with pytest.raises(ValueError, match="'lam' parameter"):
        NoisyOrFusionClassifier([("a", LogisticRegression())], lam=-0.1).fit(X, y)


def test_continuous_target_raises():
    X, _ = _long_tailed(n=50)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        NoisyOrFusionClassifier([("a", LogisticRegression())]).fit(X, X[:, 0])


def test_certain_modality_with_uno_temperature_raises():
    X = np.array([[1.0, 0.0, 0.6, 0.4], [0.0, 1.0, 0.3, 0.7]] * 5)
    with pytest.raises(ValueError, match="'a' is certain of every sample.*uno_cv"):
        _two_modalities().fit(X, [0, 1] * 5)


def test_zero_source_prior_raises():
    X, y = _long_tailed(n=100)
    with pytest.raises(ValueError, match="source_prior is zero for classes \\[2\\]"):
        NoisyOrFusionClassifier([("a", LogisticRegression())], source_prior=[1, 1, 0]).fit(X, y)


def test_target_prior_of_wrong_length_raises():
    X, y = _long_tailed(n=100)
    with pytest.raises(ValueError, match="target_prior has 2 entries"):
        NoisyOrFusionClassifier([("a", LogisticRegression())], target_prior=[0.5, 0.5]).fit(X, y)


def test_fit_params_without_routing_raise():
    X, y = _long_tailed(n=50)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        NoisyOrFusionClassifier([("a", LogisticRegression())]).fit(X, y, groups=np.ones(50))


# --- scikit-learn compatibility -----------------------------------------------------------
# No expected failures: every check passes.


@parametrize_with_checks(
    [
        NoisyOrFusionClassifier([("a", LogisticRegression()), ("b", LogisticRegression())]),
        NoisyOrFusionClassifier(
            [("a", LogisticRegression()), ("b", LogisticRegression())],
            lam=0.5,
            temperature=[None, 2.0],
            fusion="mean",
        ),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --- the benchmark ------------------------------------------------------------------------


def test_fusion_benchmark_smoke():
    bench = pytest.importorskip("benchmarks.bench_fusion")
    rows = bench.run(seeds=1, strengths=(0.0, 1.0), degradations=("fog",), n_max=200)
    assert len(rows) == 2 * len(bench.METHODS)
    assert {r["method"] for r in rows} == set(bench.METHODS)
    assert all(0 <= r["mean_iou"] <= r["mean_accuracy"] + 1e-9 <= 100 + 1e-9 for r in rows)
    assert "Trend under fog" in bench.format_table(rows)
