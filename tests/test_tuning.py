"""Tests for sklt.tuning: the CV tuners of lam / tau and the peak search."""

import math

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklt import LogitAdjuster, LogitAdjusterCV, PriorShiftClassifier, PriorShiftClassifierCV
from sklt.tuning import _peak_search

X, y = make_classification(
    n_samples=600, n_features=8, n_classes=3, n_informative=4, n_redundant=0,
    weights=[0.8, 0.15, 0.05], class_sep=0.7, random_state=0,
)
GRID = np.linspace(0, 2, 9)


class CountingLogisticRegression(LogisticRegression):
    """LogisticRegression that counts its fits (class-level, survives clone)."""

    n_fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).n_fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


# --------------------------------------------------------------------------- sklearn contract
@parametrize_with_checks(
    [
        PriorShiftClassifierCV(lams=[0.0, 0.5, 1.0], cv=3),
        LogitAdjusterCV(taus=[0.0, 1.0, 2.0], cv=3, search="peak"),
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
    tuner = cv_cls(**{grid_name: GRID}, cv=splits, scoring=scoring, store_cv_results=True,
                   **extra).fit(X, y)
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
                                   source_prior=source_prior, store_cv_results=True)
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
    np.testing.assert_allclose(peak.cv_results_["scores"][:, evaluated],
                               grid.cv_results_["scores"][:, evaluated])
    assert peak.best_score_ == pytest.approx(grid.cv_results_["mean_score"][
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
    tuner = PriorShiftClassifierCV(lams=GRID, cv=splits, store_cv_results=True)
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
                                       store_cv_results=True)
        tuner.fit(X, y, sample_weight=w, groups=groups)
        corrector = PriorShiftClassifier(inner).set_fit_request(sample_weight=True)
        gs = GridSearchCV(corrector, {"lam": GRID}, cv=GroupKFold(3),
                          scoring=scorer).fit(X, y, sample_weight=w, groups=groups)
        unweighted = PriorShiftClassifierCV(
            LogisticRegression().set_fit_request(sample_weight=False), lams=GRID,
            cv=GroupKFold(3), scoring=scorer, store_cv_results=True,
        ).fit(X, y, sample_weight=w, groups=groups)
    np.testing.assert_allclose(tuner.cv_results_["mean_score"], gs.cv_results_["mean_test_score"])
    assert not np.allclose(tuner.cv_results_["mean_score"], unweighted.cv_results_["mean_score"])


def test_string_labels_and_callable_scorer():
    labels = np.array(["cat", "dog", "eel"])[y]

    def macro_recall(estimator, X_, y_):
        return balanced_accuracy_score(y_, estimator.predict(X_))

    tuner = LogitAdjusterCV(taus=GRID, scoring=macro_recall).fit(X, labels)
    ref = LogitAdjusterCV(taus=GRID).fit(X, labels)
    assert tuner.best_tau_ == ref.best_tau_
    assert set(tuner.predict(X)) <= {"cat", "dog", "eel"}


def test_sklt_scorer_names():
    from sklt.metrics import get_scorer

    by_name = PriorShiftClassifierCV(lams=GRID, scoring="neg_balanced_error",
                                     store_cv_results=True).fit(X, y)
    by_object = PriorShiftClassifierCV(lams=GRID, scoring=get_scorer("neg_balanced_error"),
                                       store_cv_results=True).fit(X, y)
    balanced = PriorShiftClassifierCV(lams=GRID, store_cv_results=True).fit(X, y)
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


def test_scorer_returning_nan_is_an_error():
    def nan_scorer(estimator, X_, y_):
        return float("nan")

    with pytest.raises(ValueError, match="scorer returned NaN"):
        LogitAdjusterCV(taus=3, scoring=nan_scorer).fit(X, y)
    with pytest.raises(ValueError, match="scorer returned NaN"):
        LogitAdjusterCV(taus=3, scoring=nan_scorer, search="peak").fit(X, y)


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
