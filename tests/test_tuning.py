"""Tests for sklt.tuning: the CV tuners of lam / tau and the peak search."""

import math
import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklt import LogitAdjuster, LogitAdjusterCV, PriorShiftClassifier, PriorShiftClassifierCV
from sklt.model_selection import RepeatedTailSafeStratifiedKFold, TailSafeStratifiedKFold
from sklt.tuning import _MAX_STRENGTH, _choose, _peak_search

X, y = make_classification(
    n_samples=600, n_features=8, n_classes=3, n_informative=4, n_redundant=0,
    weights=[0.8, 0.15, 0.05], class_sep=0.7, random_state=0,
)
GRID = np.linspace(0, 2, 9)
# GridSearchCV's rule: mean of per-fold scores, best score, smallest value on ties
GS_RULE = {"cv_score": "mean", "tie_rule": None}


class CountingLogisticRegression(LogisticRegression):
    """LogisticRegression that counts its fits (class-level, survives clone)."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


# --------------------------------------------------------------------------- sklearn contract
@parametrize_with_checks(
    [
        PriorShiftClassifierCV(),
        LogitAdjusterCV(),
        LogitAdjusterCV(taus=[0.0, 1.0, 2.0], cv=3, search="peak", cv_score="mean"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- same as GridSearchCV
@pytest.mark.parametrize(
    "cv_cls, corrector, param, extra",
    [
        (PriorShiftClassifierCV, PriorShiftClassifier, "lam", {"temperature": 1.5}),
        (PriorShiftClassifierCV, PriorShiftClassifier, "lam",
         {"target_prior": [0.2, 0.3, 0.5]}),
        (LogitAdjusterCV, LogitAdjuster, "tau", {}),
    ],
)
@pytest.mark.parametrize("scoring", ["balanced_accuracy", "neg_log_loss"])
def test_same_scores_and_choice_as_grid_search_cv(cv_cls, corrector, param, extra, scoring):
    splits = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))
    grid_name = param + "s"
    tuner = cv_cls(selection="score",
                   **{grid_name: GRID}, cv=splits, scoring=scoring, store_cv_results=True,
                   **GS_RULE, **extra).fit(X, y)
    gs = GridSearchCV(corrector(**extra), {param: GRID}, cv=splits, scoring=scoring).fit(X, y)
    np.testing.assert_allclose(tuner.cv_results_["mean_score"], gs.cv_results_["mean_test_score"],
                               rtol=1e-10, atol=1e-12)
    per_split = np.array([gs.cv_results_[f"split{k}_test_score"] for k in range(4)])
    np.testing.assert_allclose(tuner.cv_results_["scores"], per_split, rtol=1e-10, atol=1e-12)
    assert getattr(tuner, f"best_{param}_") == gs.best_params_[param]
    assert tuner.best_score_ == pytest.approx(gs.best_score_)


@pytest.mark.parametrize("search", ["grid", "peak"])
def test_predictions_equal_the_corrector_with_the_best_value(search):
    tuner = PriorShiftClassifierCV(lams=GRID, temperature=0.8, search=search).fit(X, y)
    ref = PriorShiftClassifier(lam=tuner.best_lam_, temperature=0.8).fit(X, y)
    for method in ["predict", "predict_proba", "predict_log_proba", "decision_function"]:
        np.testing.assert_array_equal(getattr(tuner, method)(X), getattr(ref, method)(X))
    np.testing.assert_array_equal(tuner.source_prior_, ref.source_prior_)
    np.testing.assert_array_equal(tuner.classes_, ref.classes_)
    assert tuner.n_features_in_ == X.shape[1]
    assert isinstance(tuner.estimator_, LogisticRegression)


def test_logit_adjuster_cv_equals_prior_shift_cv_with_uniform_target():
    a = LogitAdjusterCV(taus=GRID, store_cv_results=True).fit(X, y)
    b = PriorShiftClassifierCV(lams=GRID, store_cv_results=True).fit(X, y)
    np.testing.assert_allclose(a.cv_results_["scores"], b.cv_results_["scores"])
    assert a.best_tau_ == b.best_lam_


def test_one_fit_per_fold_plus_refit():
    CountingLogisticRegression.n_fits = 0
    PriorShiftClassifierCV(CountingLogisticRegression(), lams=21, cv=4).fit(X, y)
    assert CountingLogisticRegression.n_fits == 4 + 1


def test_refit_false_with_a_single_split_keeps_the_fold_model():
    CountingLogisticRegression.n_fits = 0
    tuner = PriorShiftClassifierCV(CountingLogisticRegression(), cv=0.3, refit=False,
                                   random_state=0).fit(X, y)
    assert CountingLogisticRegression.n_fits == 1
    assert len(tuner.estimator_.coef_) == 3


# --------------------------------------------------------------------------- frozen estimator
def test_frozen_estimator_is_not_refit_and_scores_the_given_data():
    X_train, y_train, X_val, y_val = X[:500], y[:500], X[500:], y[500:]
    model = CountingLogisticRegression().fit(X_train, y_train)
    source_prior = np.bincount(y_train) / len(y_train)
    CountingLogisticRegression.n_fits = 0
    splits = list(StratifiedKFold(3).split(X_val, y_val))
    tuner = PriorShiftClassifierCV(FrozenEstimator(model), lams=GRID, cv=splits,
                                   source_prior=source_prior, store_cv_results=True, **GS_RULE)
    tuner.fit(X_val, y_val)
    assert CountingLogisticRegression.n_fits == 0
    assert tuner.estimator_.estimator is model
    gs = GridSearchCV(
        PriorShiftClassifier(FrozenEstimator(model), source_prior=source_prior),
        {"lam": GRID}, cv=splits, scoring="balanced_accuracy",
    ).fit(X_val, y_val)
    np.testing.assert_allclose(tuner.cv_results_["mean_score"], gs.cv_results_["mean_test_score"])
    assert tuner.best_lam_ == gs.best_params_["lam"]
    assert CountingLogisticRegression.n_fits == 0


# --------------------------------------------------------------------------- peak search
def test_peak_search_scores_agree_with_grid_where_evaluated():
    grid = PriorShiftClassifierCV(lams=41, store_cv_results=True).fit(X, y)
    peak = PriorShiftClassifierCV(lams=41, search="peak", store_cv_results=True).fit(X, y)
    evaluated = ~np.isnan(peak.cv_results_["scores"][0])
    assert evaluated.sum() == peak.n_evaluations_ == peak.cv_results_["n_evaluations"]
    assert peak.n_evaluations_ <= 2 * math.ceil(math.log2(41)) + 2
    for key in ["scores", "pooled_score"]:
        np.testing.assert_allclose(peak.cv_results_[key][..., evaluated],
                                   grid.cv_results_[key][..., evaluated])
    assert peak.best_score_ == pytest.approx(grid.cv_results_["pooled_score"][
        np.flatnonzero(grid.cv_results_["lams"] == peak.best_lam_)[0]])
    assert grid.n_evaluations_ == 41


def _strictly_unimodal(draw, n, peak):
    values = draw(st.lists(st.integers(0, 10**6), min_size=n - 1, max_size=n - 1,
                           unique=True))
    left = sorted(values[:peak])
    right = sorted(values[peak:], reverse=True)
    return [*left, 10**6 + 1, *right]


@st.composite
def flat_top_curves(draw):
    """Strictly rising, flat at the top (any width), strictly falling."""
    n = draw(st.integers(1, 200))
    width = draw(st.integers(1, n))
    peak = draw(st.integers(0, n - width))
    base = _strictly_unimodal(draw, n - width + 1, peak)
    return np.array(base[:peak] + [base[peak]] * width + base[peak + 1:], dtype=float)


@st.composite
def staircase_curves(draw):
    """Step curves: plateaus of 1-2 values below the top, a top plateau of any width."""
    m = draw(st.integers(1, 100))
    peak = draw(st.integers(0, m - 1))
    base = _strictly_unimodal(draw, m, peak)
    reps = draw(st.lists(st.integers(1, 2), min_size=m, max_size=m))
    reps[peak] = draw(st.integers(1, 100))
    return np.repeat(np.array(base, dtype=float), reps)


@given(flat_top_curves())
@settings(max_examples=300, deadline=None)
def test_peak_search_finds_the_maximum_of_flat_top_curves_in_2_log2_n_plus_2(curve):
    calls = []

    def score(i):
        calls.append(i)
        return curve[i]

    best, evaluated = _peak_search(score, len(curve))
    assert curve[best] == curve.max()
    assert len(calls) == len(set(calls)) == len(evaluated)  # never scores a value twice
    assert len(evaluated) <= 2 * math.ceil(math.log2(max(len(curve), 2))) + 2


@given(staircase_curves())
@settings(max_examples=300, deadline=None)
def test_peak_search_finds_the_maximum_of_step_curves(curve):
    best, evaluated = _peak_search(curve.__getitem__, len(curve))
    assert curve[best] == curve.max()
    assert len(evaluated) <= 3 * math.ceil(math.log2(max(len(curve), 2))) + 2


def test_peak_search_returns_the_first_index_of_a_flat_curve():
    best, evaluated = _peak_search(lambda i: 0.5, 64)
    assert best == min(evaluated)
    assert len(evaluated) <= 2 * 6 + 2


# --------------------------------------------------------------------------- routing, weights
def test_sample_weight_reaches_the_inner_fit_and_the_priors():
    w = np.random.default_rng(0).uniform(0.2, 3, size=len(y))
    splits = list(StratifiedKFold(3, shuffle=True, random_state=1).split(X, y))
    tuner = PriorShiftClassifierCV(lams=GRID, cv=splits, store_cv_results=True, **GS_RULE)
    tuner.fit(X, y, sample_weight=w)
    gs = GridSearchCV(PriorShiftClassifier(), {"lam": GRID}, cv=splits,
                      scoring="balanced_accuracy").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(tuner.cv_results_["mean_score"], gs.cv_results_["mean_test_score"])
    ref = PriorShiftClassifier(lam=tuner.best_lam_).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(tuner.source_prior_, ref.source_prior_)
    np.testing.assert_allclose(tuner.predict_proba(X), ref.predict_proba(X))


def test_metadata_routing_to_inner_fit_splitter_and_scorer():
    rng = np.random.default_rng(0)
    w = rng.uniform(0.2, 3, size=len(y))
    groups = rng.integers(0, 6, size=len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        inner = LogisticRegression().set_fit_request(sample_weight=True)
        scorer = make_scorer(balanced_accuracy_score).set_score_request(sample_weight=True)
        tuner = PriorShiftClassifierCV(inner, lams=GRID, cv=GroupKFold(3), scoring=scorer,
                                       store_cv_results=True, **GS_RULE)
        tuner.fit(X, y, sample_weight=w, groups=groups)
        corrector = PriorShiftClassifier(inner).set_fit_request(sample_weight=True)
        gs = GridSearchCV(corrector, {"lam": GRID}, cv=GroupKFold(3),
                          scoring=scorer).fit(X, y, sample_weight=w, groups=groups)
        unweighted = PriorShiftClassifierCV(
            LogisticRegression().set_fit_request(sample_weight=False), lams=GRID,
            cv=GroupKFold(3), scoring=scorer, store_cv_results=True, **GS_RULE,
        ).fit(X, y, sample_weight=w, groups=groups)
    np.testing.assert_allclose(tuner.cv_results_["mean_score"], gs.cv_results_["mean_test_score"])
    assert not np.allclose(tuner.cv_results_["mean_score"], unweighted.cv_results_["mean_score"])


def test_string_labels_and_callable_scorer():
    labels = np.array(["cat", "dog", "eel"])[y]

    def macro_recall(estimator, X_, y_):
        return balanced_accuracy_score(y_, estimator.predict(X_))

    tuner = LogitAdjusterCV(taus=GRID, scoring=macro_recall).fit(X, labels)
    ref = LogitAdjusterCV(selection="score", taus=GRID).fit(X, labels)
    assert tuner.best_tau_ == ref.best_tau_
    assert set(tuner.predict(X)) <= {"cat", "dog", "eel"}


def test_sklt_scorer_names():
    from sklt.metrics import get_scorer

    by_name = PriorShiftClassifierCV(selection="score", lams=GRID, scoring="neg_balanced_error",
                                     store_cv_results=True).fit(X, y)
    by_object = PriorShiftClassifierCV(selection="score",
                                       lams=GRID, scoring=get_scorer("neg_balanced_error"),
                                       store_cv_results=True).fit(X, y)
    balanced = PriorShiftClassifierCV(selection="score", lams=GRID, store_cv_results=True).fit(X, y)
    np.testing.assert_allclose(by_name.cv_results_["scores"], by_object.cv_results_["scores"])
    # -balanced error = balanced accuracy - 1
    np.testing.assert_allclose(by_name.cv_results_["scores"],
                               balanced.cv_results_["scores"] - 1, atol=1e-12)


def test_pandas_input_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    tuner = LogitAdjusterCV(taus=GRID, cv=3).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(tuner.feature_names_in_, frame.columns)
    np.testing.assert_array_equal(
        tuner.predict(frame), LogitAdjusterCV(taus=GRID, cv=3).fit(X, y).predict(X)
    )


def test_dask_backend_gives_the_same_result():
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    sequential = PriorShiftClassifierCV(lams=GRID, cv=3, store_cv_results=True).fit(X, y)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        with parallel_config(backend="dask"):
            parallel = PriorShiftClassifierCV(lams=GRID, cv=3, n_jobs=-1,
                                              store_cv_results=True).fit(X, y)
    np.testing.assert_allclose(parallel.cv_results_["scores"], sequential.cv_results_["scores"])
    assert parallel.best_lam_ == sequential.best_lam_


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "grid, match",
    [
        ([-0.5, 0.0, 1.0], r"lams must be non-negative .*\[-0.5\]"),
        ([0.0, np.nan], "NaN or infinite"),
        ([], "non-empty"),
        (1, "lams"),
    ],
)
def test_bad_grid(grid, match):
    with pytest.raises(ValueError, match=match):
        PriorShiftClassifierCV(lams=grid).fit(X, y)


def test_scorer_returning_nan_everywhere_is_an_error():
    def nan_scorer(estimator, X_, y_):
        return float("nan")

    for search in ["grid", "peak"]:
        with pytest.raises(ValueError, match="nan_scorer returned NaN .* for every value of taus"):
            LogitAdjusterCV(taus=3, scoring=nan_scorer, search=search).fit(X, y)


def test_scorer_returning_nan_on_some_values_is_a_warned_fallback():
    def partly_nan(estimator, X_, y_):
        score = balanced_accuracy_score(y_, estimator.predict(X_))
        return float("nan") if estimator.strength > 1.2 else score

    with pytest.warns(UserWarning, match=r"returned NaN .* for tau in \[1.25, 1.5, 1.75, 2\]"):
        tuner = LogitAdjusterCV(taus=GRID, scoring=partly_nan, store_cv_results=True,
                                tie_rule=None).fit(X, y)
    ok = GRID <= 1.2
    ref = LogitAdjusterCV(selection="score",
                          taus=GRID[ok], store_cv_results=True, tie_rule=None).fit(X, y)
    assert tuner.best_tau_ == ref.best_tau_
    assert np.isnan(tuner.cv_results_["score"][~ok]).all()


def test_classes_with_fewer_samples_than_folds_use_tail_safe_folds():
    y_rare = y.copy()
    y_rare[np.flatnonzero(y == 2)[3:]] = 1  # class 2 keeps 3 samples, the default cv has 5
    tuner = PriorShiftClassifierCV(lams=3).fit(X, y_rare)
    assert tuner.classes_.tolist() == [0, 1, 2]


def test_more_folds_than_the_largest_class_is_an_error():
    with pytest.raises(ValueError, match=r"n_splits=9 is greater than .* largest class \(8\)"):
        PriorShiftClassifierCV(lams=3, cv=9).fit(X[:16], np.repeat([0, 1], 8))


def test_training_fold_missing_a_class_is_an_error():
    splits = [(np.flatnonzero(y != 2), np.flatnonzero(y == 2))]
    with pytest.raises(ValueError, match=r"training fold lacks classes \[2\]"):
        PriorShiftClassifierCV(lams=3, cv=splits).fit(X, y)


def test_refit_false_with_several_folds_is_an_error():
    with pytest.raises(ValueError, match="refit=False needs a single split"):
        PriorShiftClassifierCV(lams=3, refit=False).fit(X, y)


def test_bad_search_and_cv():
    with pytest.raises(ValueError, match="search"):
        PriorShiftClassifierCV(search="binary").fit(X, y)
    with pytest.raises(ValueError, match="cv"):
        PriorShiftClassifierCV(cv=1.5).fit(X, y)


# --------------------------------------------------------------------------- held-out scores helper
def test_held_out_scores_helper_fits_once_per_fold_and_pools_every_fold():
    from sklt.model_selection import TailSafeStratifiedKFold
    from sklt.tuning import _held_out_scores

    y_rare = y.copy()
    y_rare[np.flatnonzero(y == 2)[1:]] = 1  # class 2: one sample, never held out
    splits = list(TailSafeStratifiedKFold(4).split(X, y_rare))
    CountingLogisticRegression.n_fits = 0
    held = _held_out_scores(LogitAdjuster(CountingLogisticRegression()), X, y_rare, splits,
                            keep_estimators=True)
    assert CountingLogisticRegression.n_fits == 4
    np.testing.assert_array_equal(np.sort(held.indices), np.flatnonzero(y_rare != 2))
    for f, (train, test) in enumerate(splits):
        np.testing.assert_array_equal(held.indices[held.rows(f)], test)
        assert np.all(held.fold[held.rows(f)] == f)
        fold_model = held.estimators[f]
        np.testing.assert_allclose(held.source_priors[f], np.bincount(y_rare[train]) / len(train))
        np.testing.assert_allclose(held.adjusted(0.7, fold=f, output="proba"),
                                   fold_model.set_params(tau=0.7).predict_proba(X[test]))
    pooled = held.adjusted(0.7, output="proba")
    assert pooled.shape == (len(held.indices), 3)


def test_held_out_scores_helper_never_refits_a_frozen_model():
    from sklt.tuning import _held_out_scores

    model = CountingLogisticRegression().fit(X, y)
    CountingLogisticRegression.n_fits = 0
    splits = list(StratifiedKFold(3).split(X, y))
    held = _held_out_scores(LogitAdjuster(FrozenEstimator(model), source_prior=[0.6, 0.3, 0.1]),
                            X, y, splits)
    assert CountingLogisticRegression.n_fits == 0
    assert held.final.estimator_.estimator is model
    np.testing.assert_allclose(held.log_scores, np.log(model.predict_proba(X[held.indices])))
    np.testing.assert_allclose(held.source_priors, [[0.6, 0.3, 0.1]] * 3)


# --------------------------------------------------------------------------- pooled scoring
def test_pooled_score_is_the_score_of_all_folds_held_out_predictions_together():
    splits = list(TailSafeStratifiedKFold(4).split(X, y))
    tuner = LogitAdjusterCV(taus=GRID, cv=splits, store_cv_results=True).fit(X, y)
    test = np.concatenate([t for _, t in splits])
    for i, tau in enumerate(GRID):
        pred = np.concatenate([LogitAdjuster(tau=tau).fit(X[tr], y[tr]).predict(X[te])
                               for tr, te in splits])
        assert tuner.cv_results_["pooled_score"][i] == pytest.approx(
            balanced_accuracy_score(y[test], pred), abs=1e-12)
    np.testing.assert_array_equal(tuner.cv_results_["score"], tuner.cv_results_["pooled_score"])
    mean = LogitAdjusterCV(taus=GRID, cv=splits, cv_score="mean", store_cv_results=True).fit(X, y)
    np.testing.assert_array_equal(mean.cv_results_["score"], mean.cv_results_["mean_score"])
    np.testing.assert_allclose(mean.cv_results_["scores"], tuner.cv_results_["scores"])


def test_repeated_tail_safe_folds_pool_every_repetition():
    cv = RepeatedTailSafeStratifiedKFold(3, n_repeats=2, random_state=0)
    tuner = LogitAdjusterCV(taus=GRID, cv=cv, store_cv_results=True).fit(X, y)
    assert tuner.cv_results_["scores"].shape == (6, len(GRID))


# --------------------------------------------------------------------------- the extreme tail
def _digits_lt():
    from sklt.datasets import load_digits_lt

    data = load_digits_lt(imbalance_ratio=100, random_state=0)
    return data.X_train / 16, data.y_train, data


@pytest.mark.parametrize("tuner_cls", [LogitAdjusterCV, PriorShiftClassifierCV])
def test_default_tuners_fit_digits_lt_at_imbalance_ratio_100(tuner_cls):
    X_lt, y_lt, data = _digits_lt()
    assert data.train_counts[-3:].tolist() == [3, 2, 1]
    with pytest.warns(UserWarning, match=r"Classes \[9\] have a single sample"):
        tuner = tuner_cls(LogisticRegression(max_iter=300)).fit(X_lt, y_lt)
    assert tuner.classes_.tolist() == list(range(10))
    plain = balanced_accuracy_score(data.y_test, tuner.estimator_.predict(data.X_test / 16))
    tuned = balanced_accuracy_score(data.y_test, tuner.predict(data.X_test / 16))
    assert tuned > plain


@pytest.mark.parametrize("tuner_cls", [LogitAdjusterCV, PriorShiftClassifierCV])
def test_default_tuners_fit_mnist1d_lt_at_imbalance_ratio_100(tuner_cls):
    pytest.importorskip("mnist1d")
    from sklt.datasets import load_mnist1d_lt

    data = load_mnist1d_lt(imbalance_ratio=100, n_samples=2000, n_test_per_class=50,
                           random_state=0)
    assert data.train_counts[-1] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tuner = tuner_cls(LogisticRegression(max_iter=200)).fit(data.X_train, data.y_train)
    assert tuner.predict(data.X_test).shape == (len(data.y_test),)
    assert len(tuner.classes_) == 10


@pytest.mark.parametrize("tuner_cls", [LogitAdjusterCV, PriorShiftClassifierCV])
def test_default_tuners_fit_a_class_with_a_single_sample(tuner_cls):
    y_one = y.copy()
    y_one[np.flatnonzero(y == 2)[1:]] = 1
    with pytest.warns(UserWarning, match=r"Classes \[2\] have a single sample"):
        tuner = tuner_cls(store_cv_results=True).fit(X, y_one)
    assert tuner.classes_.tolist() == [0, 1, 2]
    assert np.isfinite(tuner.cv_results_["pooled_score"]).all()


def test_frozen_model_scores_every_validation_sample_once_even_a_single_one():
    y_one = y.copy()
    y_one[np.flatnonzero(y == 2)[1:]] = 1
    model = LogisticRegression().fit(X, y)
    tuner = LogitAdjusterCV(FrozenEstimator(model), taus=GRID, source_prior=[0.8, 0.15, 0.05],
                            store_cv_results=True).fit(X, y_one)
    corrector = LogitAdjuster(FrozenEstimator(model), source_prior=[0.8, 0.15, 0.05]).fit(X, y_one)
    for i, tau in enumerate(GRID):
        corrector.set_params(tau=tau)
        assert tuner.cv_results_["pooled_score"][i] == pytest.approx(
            balanced_accuracy_score(y_one, corrector.predict(X)), abs=1e-12)


def test_empty_data_is_a_clear_error():
    for tuner in [LogitAdjusterCV(), PriorShiftClassifierCV()]:
        with pytest.raises(ValueError, match="0 sample"):
            tuner.fit(X[:0], y[:0])


# --------------------------------------------------------------------------- ranges
class SharpenedLogisticRegression(LogisticRegression):
    """Logistic regression whose log-posteriors are multiplied by ``sharpness`` (over-confident).

    ``tau = sharpness`` undoes the prior in its posteriors exactly as ``tau = 1`` does for the
    calibrated model, so the best ``tau`` sits near ``sharpness``.
    """

    def __init__(self, sharpness=3.0, C=1.0):
        super().__init__(C=C)
        self.sharpness = sharpness

    def predict_proba(self, X):
        from scipy.special import softmax

        return softmax(self.sharpness * np.log(super().predict_proba(X)), axis=1)


def _binary_imbalanced(n=3000, seed=0):
    Xb, yb = make_classification(n_samples=n, n_features=4, n_informative=3, n_redundant=0,
                                 n_clusters_per_class=1, weights=[0.95], class_sep=1.0,
                                 flip_y=0, random_state=seed)
    return Xb, yb


def test_default_range_is_extended_while_the_best_score_is_on_its_edge():
    Xb, yb = _binary_imbalanced()
    tuner = LogitAdjusterCV(SharpenedLogisticRegression(4.0), store_cv_results=True).fit(Xb, yb)
    assert tuner.range_extended_
    assert 2 < tuner.best_tau_ <= _MAX_STRENGTH
    res = tuner.cv_results_
    np.testing.assert_allclose(np.diff(tuner.taus_), 0.1)  # the default spacing is kept
    assert res["extended"].sum() == len(tuner.taus_) - 21 and not res["extended"][:21].any()
    assert res["score"][-1] < np.nanmax(res["score"])  # extended until the score falls
    wide = LogitAdjusterCV(SharpenedLogisticRegression(4.0), taus=tuner.taus_,
                           store_cv_results=True).fit(Xb, yb)
    assert wide.best_tau_ == tuner.best_tau_  # as if the range had been given


def test_a_calibrated_model_keeps_the_default_range():
    Xb, yb = _binary_imbalanced()
    tuner = LogitAdjusterCV(store_cv_results=True).fit(Xb, yb)
    assert not tuner.range_extended_ and len(tuner.taus_) == 21


def test_range_extension_stops_at_the_cap_with_a_warning():
    Xb, yb = _binary_imbalanced()
    with pytest.warns(UserWarning, match="still rises at tau = 10"):
        tuner = LogitAdjusterCV(SharpenedLogisticRegression(40.0), selection="score",
                                taus=5).fit(Xb, yb)
    assert tuner.taus_.max() == _MAX_STRENGTH


def test_peak_search_extends_the_range_too():
    Xb, yb = _binary_imbalanced()
    tuner = LogitAdjusterCV(SharpenedLogisticRegression(4.0), search="peak").fit(Xb, yb)
    assert tuner.range_extended_ and tuner.best_tau_ > 2
    assert tuner.n_evaluations_ < len(tuner.taus_)


def test_a_user_grid_whose_best_is_on_an_edge_is_a_warning():
    Xb, yb = _binary_imbalanced()
    with pytest.warns(UserWarning, match=r"largest value of taus \(2\)"):
        tuner = LogitAdjusterCV(SharpenedLogisticRegression(4.0), selection="score",
                                taus=GRID).fit(Xb, yb)
    assert not tuner.range_extended_ and len(tuner.taus_) == len(GRID)
    with pytest.warns(UserWarning, match=r"smallest value of taus \(1.25\)"):
        LogitAdjusterCV(selection="score", taus=[1.25, 1.5, 2.0]).fit(Xb, yb)


def test_a_score_constant_over_the_grid_is_a_warning_naming_the_scorer():
    Xb, yb = _binary_imbalanced(n=600)
    with pytest.warns(UserWarning, match="score 'roc_auc' is the same for every value of taus"):
        tuner = LogitAdjusterCV(scoring="roc_auc").fit(Xb, yb)
    assert tuner.best_tau_ == 1.0  # the theory value, not 0
    assert tuner.taus_.max() == _MAX_STRENGTH  # a flat score is followed to the cap


# --------------------------------------------------------------------------- tie rule
def _plateau(values, score, folds, top):
    """The contiguous run around ``top`` within one paired standard error (a reference)."""
    def tied(i):
        d = folds[:, top] - folds[:, i]
        se = d.std(ddof=1) / np.sqrt(len(d))
        return score[i] >= score[top] - se - 1e-12
    lo = hi = top
    while lo > 0 and tied(lo - 1):
        lo -= 1
    while hi < len(values) - 1 and tied(hi + 1):
        hi += 1
    return lo, hi


@pytest.mark.parametrize("tie_break", ["middle", "closest_to_one"])
def test_tie_rule_picks_on_the_plateau_within_one_paired_standard_error(tie_break):
    tuner = LogitAdjusterCV(selection="score",
                            taus=41, tie_break=tie_break, store_cv_results=True).fit(X, y)
    res = tuner.cv_results_
    score, folds, taus = res["score"], res["scores"], tuner.taus_
    top = int(np.nanargmax(score))
    lo, hi = _plateau(taus, score, folds, top)
    np.testing.assert_array_equal(np.flatnonzero(res["tied"]), np.arange(lo, hi + 1))
    plateau = taus[lo:hi + 1]
    target = 0.5 * (taus[lo] + taus[hi]) if tie_break == "middle" else 1.0
    assert tuner.best_tau_ == plateau[np.argmin(np.abs(plateau - target))]
    for i in [lo, hi]:
        d = folds[:, top] - folds[:, i]
        assert res["tolerance"][i] == pytest.approx(d.std(ddof=1) / np.sqrt(len(d)))
    exact = LogitAdjusterCV(selection="score", taus=41, tie_rule=None).fit(X, y)
    assert exact.best_tau_ == taus[top]
    wide = LogitAdjusterCV(selection="score",
                           taus=41, tie_rule=1.0, tie_break="closest_to_one").fit(X, y)
    assert wide.best_tau_ == 1.0


def test_the_default_evaluates_per_fold_scores_only_along_the_plateau():
    tuner = LogitAdjusterCV(selection="score", taus=41).fit(X, y)
    stored = LogitAdjusterCV(selection="score", taus=41, store_cv_results=True).fit(X, y)
    assert tuner.best_tau_ == stored.best_tau_
    assert tuner.best_score_ == stored.best_score_


@st.composite
def scored_grids(draw):
    n = draw(st.integers(1, 30))
    n_splits = draw(st.integers(1, 6))
    values = np.sort(np.array(draw(st.lists(st.floats(0, 10), min_size=n, max_size=n,
                                            unique=True))))
    element = st.one_of(st.floats(0, 1), st.just(np.nan))
    folds = np.array(draw(st.lists(st.lists(element, min_size=n, max_size=n),
                                   min_size=n_splits, max_size=n_splits)))
    score = np.array(draw(st.lists(st.one_of(st.floats(0, 1), st.just(np.nan)),
                                   min_size=n, max_size=n)))
    score[draw(st.integers(0, n - 1))] = draw(st.floats(0, 1))  # at least one finite
    rule = draw(st.one_of(st.just("se"), st.none(), st.floats(0, 1)))
    tie_break = draw(st.sampled_from(["middle", "closest_to_one"]))
    return values, score, folds, rule, tie_break


@given(scored_grids())
@settings(max_examples=300, deadline=None)
def test_choose_contract(case):
    from sklt.tuning import _tie_tolerance

    values, score, folds, rule, tie_break = case
    finite = np.isfinite(score)
    top_score = score[finite].max()

    def tolerance_of(i):
        return _tie_tolerance(folds, top, i, rule)

    top = int(np.flatnonzero(score == top_score)[0])
    chosen, top_, tolerance, tied = _choose(values, score, tolerance_of, rule, tie_break)
    assert top_ == top and tied[top] and tied[chosen] and np.isfinite(score[chosen])
    if rule is None:
        assert chosen == top
        return
    run = np.flatnonzero(tied)
    assert np.all(np.diff(run) == 1)  # a contiguous plateau around the best
    for i in run:
        assert score[i] >= top_score - tolerance[i] - 1e-12
    for edge in [run[0] - 1, run[-1] + 1]:  # bounded by values that are not tied
        if 0 <= edge < len(values) and np.isfinite(score[edge]):
            assert score[edge] < top_score - tolerance[edge] - 1e-12
    target = 0.5 * (values[run[0]] + values[run[-1]]) if tie_break == "middle" else 1.0
    assert np.abs(values[chosen] - target) == np.abs(values[run] - target).min()


# --------------------------------------------------------------------------- properties
@st.composite
def long_tailed_problems(draw):
    n_classes = draw(st.integers(2, 4))
    counts = [draw(st.integers(5, 40))] + [draw(st.integers(1, 12)) for _ in range(n_classes - 1)]
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    y_ = np.repeat(np.arange(n_classes), counts)
    X_ = rng.normal(size=(len(y_), 3)) + draw(st.floats(0, 3)) * y_[:, None]
    labels = draw(st.sampled_from([None, np.array(["a", "b", "c", "d"])]))
    return X_, (y_ if labels is None else labels[y_])


@given(long_tailed_problems(), st.sampled_from(["se", None, 0.01]),
       st.sampled_from(["middle", "closest_to_one"]), st.sampled_from(["pooled", "mean"]),
       st.sampled_from(["grid", "peak"]))
@settings(max_examples=15, deadline=None)
def test_default_tuner_contract_on_random_long_tails(problem, tie_rule, tie_break, cv_score,
                                                     search):
    X_, y_ = problem
    n_splits = min(5, np.unique(y_, return_counts=True)[1].max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = LogitAdjusterCV(cv=n_splits, tie_rule=tie_rule, tie_break=tie_break,
                                cv_score=cv_score, search=search,
                                store_cv_results=True).fit(X_, y_)
    assert tuner.best_tau_ in tuner.taus_
    assert np.all(np.diff(tuner.taus_) > 0) and tuner.taus_.max() <= _MAX_STRENGTH + 1e-9
    assert np.isfinite(tuner.best_score_)
    proba = tuner.predict_proba(X_)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(tuner.predict(X_), tuner.classes_[proba.argmax(axis=1)])
    ref = LogitAdjuster(tau=tuner.best_tau_).fit(X_, y_)
    np.testing.assert_allclose(proba, ref.predict_proba(X_))


@pytest.mark.parametrize("bad, match", [
    ({"tie_rule": -0.1}, "tie_rule"), ({"tie_rule": "one_se"}, "tie_rule"),
    ({"cv_score": "median"}, "cv_score"), ({"tie_break": "largest"}, "tie_break"),
])
def test_bad_tie_rule_and_cv_score(bad, match):
    with pytest.raises(ValueError, match=match):
        LogitAdjusterCV(**bad).fit(X, y)


@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 12)),
                min_size=0, max_size=8))
@settings(max_examples=20, deadline=None)
def test_any_user_grid_is_used_or_rejected_with_a_clear_error(grid):
    values = np.asarray(grid, dtype=float)
    valid = values.size > 0 and np.all(np.isfinite(values)) and np.all(values >= 0)
    tuner = LogitAdjusterCV(taus=grid, cv=3)
    if not valid:
        with pytest.raises(ValueError, match="taus"):
            tuner.fit(X, y)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner.fit(X, y)
    np.testing.assert_array_equal(tuner.taus_, np.unique(values))
    assert tuner.best_tau_ in tuner.taus_


@given(st.floats(1e-300, 1e300), st.integers(0, 3))
@settings(max_examples=10, deadline=None)
def test_extreme_feature_scales_keep_the_contract(scale, seed):
    X_ = X[:200] * scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tuner = LogitAdjusterCV(cv=3).fit(X_, y[:200])
        except ValueError as exc:  # the inner model refuses the data: a clear error
            assert "LogisticRegression" in str(exc) or "Input" in str(exc) or "infinity" in str(
                exc)
            return
    proba = tuner.predict_proba(X_)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(tuner.predict(X_), tuner.classes_[proba.argmax(axis=1)])


# ------------------------------------------------------------- the calibrated strength
def _gaussian_problem(n=20_000, seed=0):
    from sklt.datasets import make_imbalanced_gaussians

    return make_imbalanced_gaussians(n_samples=n, random_state=seed)


def test_calibrated_strength_of_a_well_specified_model_is_one():
    # Logistic regression on two Gaussians with a shared covariance is the true posterior:
    # the recalibration changes nothing, and the Bayes rule for the balanced error is tau = 1.
    Xg, yg = _gaussian_problem()
    tuner = LogitAdjusterCV(cv=3).fit(Xg, yg)
    assert tuner.selection_ == "calibrated"
    assert abs(tuner.calibrated_tau_ - 1) < 0.15
    assert tuner.best_tau_ == pytest.approx(round(tuner.calibrated_tau_, 1))


@pytest.mark.parametrize("sharpness", [0.5, 2.0, 4.0])
def test_calibrated_strength_follows_the_sharpness_of_the_scores(sharpness):
    # Log-posteriors multiplied by s: the recalibration divides them by s, so the strength
    # that undoes the prior is s times the calibrated model's (the range is extended to it).
    # The strength is read off a lattice of step 0.01 (the expected recall is a step
    # function of it), so the scaling holds to about one step times s, not exactly.
    Xg, yg = _gaussian_problem()
    plain = LogitAdjusterCV(cv=3).fit(Xg, yg)
    sharp = LogitAdjusterCV(SharpenedLogisticRegression(sharpness), cv=3,
                            store_cv_results=True).fit(Xg, yg)
    assert abs(sharp.calibrated_tau_ - sharpness * plain.calibrated_tau_) <= 0.02 * sharpness + 0.01
    assert abs(sharp.calibrated_tau_ - sharpness) < 0.15 * sharpness
    assert abs(sharp.best_tau_ - sharp.calibrated_tau_) <= 0.05 + 1e-9
    assert sharp.range_extended_ == (sharp.calibrated_tau_ > 2.05)


def test_calibrated_strength_is_shared_by_both_tuners_and_invariant():
    # PriorShiftClassifierCV's lam at T = 1 is LogitAdjusterCV's tau; at temperature T the
    # strength applies to z / T, so it is the T = 1 value divided by T. Relabelling the
    # classes and scaling the sample weights change nothing.
    la = LogitAdjusterCV().fit(X, y)
    ps = PriorShiftClassifierCV().fit(X, y)
    assert ps.calibrated_lam_ == pytest.approx(la.calibrated_tau_, rel=1e-6)
    hot = PriorShiftClassifierCV(temperature=2.0).fit(X, y)
    assert hot.calibrated_lam_ == pytest.approx(la.calibrated_tau_ / 2.0, rel=1e-4)
    names = np.array(["c", "a", "b"])[y]
    assert LogitAdjusterCV().fit(X, names).calibrated_tau_ == pytest.approx(
        la.calibrated_tau_, rel=1e-6)
    # a frozen model (the fit would see the weights' scale through its regularisation)
    frozen = FrozenEstimator(LogisticRegression().fit(X, y))
    prior = np.bincount(y) / len(y)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    once = LogitAdjusterCV(frozen, source_prior=prior).fit(X, y, sample_weight=w)
    scaled = LogitAdjusterCV(frozen, source_prior=prior).fit(X, y, sample_weight=1000 * w)
    assert once.calibrated_tau_ == pytest.approx(scaled.calibrated_tau_, rel=1e-6)
    unweighted = LogitAdjusterCV(frozen, source_prior=prior).fit(X, y)
    assert once.calibrated_tau_ != pytest.approx(unweighted.calibrated_tau_, rel=1e-6)


def test_selection_auto_uses_the_calibrated_strength_only_for_balanced_scorers():
    assert LogitAdjusterCV().fit(X, y).selection_ == "calibrated"
    assert LogitAdjusterCV(scoring="neg_balanced_error").fit(X, y).selection_ == "calibrated"
    for other in ({"scoring": "f1_macro"}, {"target_prior": [0.5, 0.3, 0.2]},
                  {"selection": "score"}):
        tuner = LogitAdjusterCV(**other).fit(X, y)
        assert tuner.selection_ == "score" and np.isnan(tuner.calibrated_tau_)
    forced = LogitAdjusterCV(scoring="f1_macro", selection="calibrated").fit(X, y)
    assert forced.selection_ == "calibrated"
    assert forced.calibrated_tau_ == pytest.approx(LogitAdjusterCV().fit(X, y).calibrated_tau_)


def test_calibrated_selection_falls_back_to_the_score_where_undefined():
    # target = source: the strength changes no score, so there is nothing to estimate
    tuner = LogitAdjusterCV(selection="calibrated", target_prior="auto").fit(X, y)
    assert np.isnan(tuner.calibrated_tau_) and tuner.selection_ == "score"


def test_calibrated_selection_with_a_user_grid_takes_its_nearest_value():
    tuner = LogitAdjusterCV(SharpenedLogisticRegression(3.0), taus=[0.0, 1.0, 2.0, 5.0],
                            selection="calibrated").fit(X, y)
    assert not tuner.range_extended_
    grid = np.array([0.0, 1.0, 2.0, 5.0])
    assert tuner.best_tau_ == grid[np.argmin(np.abs(grid - tuner.calibrated_tau_))]


# ------------------------------------------- the calibrated strength: where one temperature fails
_PRIOR5 = np.array([0.55, 0.25, 0.12, 0.05, 0.03])


def _network_like_scores(n, seed, informativeness, sharpness):
    """Log-scores of five classes whose rarer classes' scores are partly noise.

    ``eta`` is the balanced log-posterior of a Gaussian mixture; the score of class ``k`` is
    ``sharpness * (w_k eta_k + (1 - w_k) noise_k + log p_s(k))``: over-confident, with the
    rare classes' scores carrying less information (``w_k`` small), as in a network trained
    to near-zero loss on a long-tailed set."""
    rng = np.random.default_rng(seed)
    y = rng.choice(5, n, p=_PRIOR5)
    mu = np.random.default_rng(42).normal(size=(5, 8))
    X = mu[y] + rng.normal(size=(n, 8))
    eta = X @ mu.T - 0.5 * (mu**2).sum(axis=1)
    noise = rng.normal(size=(n, 5)) * eta.std()
    w = np.asarray(informativeness)
    z = sharpness * (w * eta + (1 - w) * noise + np.log(_PRIOR5))
    return z - logsumexp(z, axis=1, keepdims=True), y


def _held(z, y):
    from sklt.tuning import _HeldOutScores

    fold = np.arange(len(y)) % 5
    order = np.argsort(fold, kind="stable")
    return _HeldOutScores(order, fold[order], z[order], np.tile(_PRIOR5, (5, 1)),
                          np.full((5, 5), 0.2), np.arange(5)), y[order]


@pytest.mark.parametrize("sharpness", [2.0, 4.0])
def test_calibrated_strength_follows_a_class_dependent_temperature(sharpness):
    # One shared temperature trusts the rare classes' noisy scores and overshoots the
    # test-optimal tau (2.24 for 1.9 and 4.49 for 3.8 before the class-dependent fit).
    from sklt.tuning import _calibrated_strength

    w = [1.0, 1.0, 0.8, 0.5, 0.3]
    held, y_held = _held(*_network_like_scores(3000, 0, w, sharpness))
    strength = _calibrated_strength(held, y_held)
    z_test, y_test = _network_like_scores(60_000, 1, w, sharpness)
    taus = np.round(np.arange(0, 8.001, 0.1), 10)
    scores = np.array([balanced_accuracy_score(y_test, np.argmax(z_test - t * np.log(_PRIOR5),
                                                                 axis=1)) for t in taus])
    best = taus[np.argmax(scores)]
    assert abs(strength - best) <= 0.25
    assert scores.max() - scores[np.argmin(np.abs(taus - strength))] <= 0.002


@pytest.mark.parametrize("kind", ["zero", "tiny"])
def test_calibrated_strength_ignores_labels_the_model_rules_out(kind):
    # 3 % of the held-out rows get probability 0 (k-NN, trees) or e^-300 (naive Bayes) for
    # their label: no strength can fix them, and they must not set the temperature of the
    # rest (the strength of this calibrated model stays near 1, and finite).
    from sklt.tuning import _calibrated_strength

    z, y = _network_like_scores(4000, 0, [1.0] * 5, 1.0)
    clean = _calibrated_strength(*_held(z, y))
    bad = np.random.default_rng(1).random(len(y)) < 0.03
    spoiled = z.copy()
    spoiled[bad, y[bad]] = -np.inf if kind == "zero" else spoiled[bad, y[bad]] - 300
    strength = _calibrated_strength(*_held(spoiled, y))
    assert abs(clean - 1) < 0.15
    assert np.isfinite(strength) and abs(strength - clean) < 0.05
