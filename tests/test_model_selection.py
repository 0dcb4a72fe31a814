"""Tests for sklt.model_selection: the tail-safe splitters."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_validate,
)

from sklt.model_selection import (
    RepeatedTailSafeStratifiedKFold,
    TailSafeStratifiedKFold,
    _check_tail_safe_cv,
    _TailSafeHoldOut,
)


def _labels(counts, labels=None):
    labels = np.arange(len(counts)) if labels is None else np.asarray(labels)
    return np.repeat(labels, counts)


def _splits(cv, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return list(cv.split(np.zeros((len(y), 1)), y))


@st.composite
def counts_and_folds(draw):
    """Class counts of a long tail (singletons included) and a feasible number of folds."""
    counts = draw(st.lists(st.integers(1, 40), min_size=1, max_size=8))
    if max(counts) < 2:
        counts[0] = draw(st.integers(2, 40))
    n_splits = draw(st.integers(2, max(counts)))
    return np.array(counts), n_splits


# --------------------------------------------------------------------------- the contract
@given(counts_and_folds(), st.booleans(), st.integers(0, 2**31 - 1), st.randoms())
@settings(max_examples=200, deadline=None)
def test_every_training_fold_holds_every_class_and_rare_samples_are_held_out_once(
    case, shuffle, seed, random
):
    counts, n_splits = case
    y = _labels(counts)
    random.shuffle(y)  # any sample order
    cv = TailSafeStratifiedKFold(n_splits, shuffle=shuffle, random_state=seed if shuffle else None)
    folds = _splits(cv, y)
    assert len(folds) == n_splits == cv.get_n_splits()
    held_out = np.zeros(len(y), dtype=int)
    for train, test in folds:
        assert len(test) > 0
        assert np.intersect1d(train, test).size == 0
        assert len(train) + len(test) == len(y)
        np.testing.assert_array_equal(np.unique(y[train]), np.arange(len(counts)))
        held_out[test] += 1
    singleton = counts[y] == 1
    assert np.all(held_out[singleton] == 0)  # never held out
    assert np.all(held_out[~singleton] == 1)  # every other sample exactly once
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for c, n_c in enumerate(counts):
        per_fold = np.array([np.sum(y[test] == c) for _, test in folds])
        if 2 <= n_c < n_splits:
            assert per_fold.max() == 1 and per_fold.sum() == n_c  # n_c different folds
        elif n_c >= n_splits:
            assert set(per_fold) <= {n_c // n_splits, -(-n_c // n_splits)}


@given(st.lists(st.integers(2, 30), min_size=2, max_size=6), st.integers(0, 1000))
@settings(max_examples=50, deadline=None)
def test_same_folds_as_stratified_kfold_when_every_class_fills_every_fold(counts, seed):
    n_splits = min(counts)
    y = np.random.default_rng(seed).permutation(_labels(counts))
    for shuffle, state in [(False, None), (True, seed)]:
        ours = _splits(TailSafeStratifiedKFold(n_splits, shuffle=shuffle, random_state=state), y)
        ref = list(StratifiedKFold(n_splits, shuffle=shuffle, random_state=state).split(y, y))
        for (a_train, a_test), (b_train, b_test) in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(a_train, b_train)
            np.testing.assert_array_equal(a_test, b_test)


def test_folds_do_not_depend_on_the_class_labels():
    y = _labels([9, 5, 3, 2, 1])
    renamed = np.array(["e", "d", "c", "b", "a"])[y]
    for a, b in zip(_splits(TailSafeStratifiedKFold(3), y),
                    _splits(TailSafeStratifiedKFold(3), renamed), strict=True):
        np.testing.assert_array_equal(a[1], b[1])


def test_shuffle_is_reproducible_and_seed_dependent():
    y = _labels([40, 20, 10, 5])
    a = _splits(TailSafeStratifiedKFold(4, shuffle=True, random_state=0), y)
    b = _splits(TailSafeStratifiedKFold(4, shuffle=True, random_state=0), y)
    c = _splits(TailSafeStratifiedKFold(4, shuffle=True, random_state=1), y)
    assert all(np.array_equal(p[1], q[1]) for p, q in zip(a, b, strict=True))
    assert not all(np.array_equal(p[1], q[1]) for p, q in zip(a, c, strict=True))


def test_single_sample_classes_are_named_in_a_warning():
    y = _labels([10, 4, 1, 1], labels=["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match=r"Classes \['c', 'd'\] have a single sample"):
        list(TailSafeStratifiedKFold(3).split(y, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(TailSafeStratifiedKFold(3).split(y[:14], y[:14]))  # no singleton: no warning


def test_the_rarest_digits_lt_class_is_kept_in_training_and_the_others_are_scored():
    from sklt.datasets import load_digits_lt

    data = load_digits_lt(imbalance_ratio=100, random_state=0)
    assert data.train_counts[-2:].tolist() == [2, 1]
    folds = _splits(TailSafeStratifiedKFold(5), data.y_train)
    tested = np.concatenate([test for _, test in folds])
    assert set(data.y_train[tested]) == set(range(9))  # class 9 (one sample) is not held out
    for train, _ in folds:
        assert len(np.unique(data.y_train[train])) == 10


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, y, match",
    [
        ({"n_splits": 4}, _labels([3, 2, 1]), r"n_splits=4 is greater than .* largest class \(3\)"),
        ({"n_splits": 2}, _labels([1, 1, 1]), "every class has 1 sample"),
        ({"n_splits": 1}, _labels([3, 3]), "n_splits must be at least 2"),
        ({"n_splits": 2.0}, _labels([3, 3]), "n_splits must be an integer"),
        ({"n_splits": 2, "random_state": 0}, _labels([3, 3]), "shuffle is False"),
        ({"n_splits": 2}, np.linspace(0, 1, 6), "binary or multiclass"),
        ({"n_splits": 2}, None, "needs the labels y"),
    ],
)
def test_bad_input_is_a_clear_error(params, y, match):
    X = np.zeros((6 if y is None else len(y), 1))
    with pytest.raises(ValueError, match=match):
        list(TailSafeStratifiedKFold(**params).split(X, y))


def test_groups_are_ignored_with_a_warning_and_lengths_must_match():
    y = _labels([4, 4])
    with pytest.warns(UserWarning, match="groups parameter is ignored"):
        list(TailSafeStratifiedKFold(2).split(y, y, groups=y))
    with pytest.raises(ValueError, match="inconsistent numbers of samples|X has 7"):
        list(TailSafeStratifiedKFold(2).split(np.zeros(7), y))


def test_shuffle_must_be_a_boolean():
    with pytest.raises(TypeError, match="shuffle"):
        list(TailSafeStratifiedKFold(2, shuffle="yes").split(np.zeros(4), [0, 0, 1, 1]))


# --------------------------------------------------------------------------- repeated
def test_repeated_holds_out_every_sample_n_repeats_times():
    y = _labels([30, 7, 3, 2, 1])
    cv = RepeatedTailSafeStratifiedKFold(n_splits=4, n_repeats=3, random_state=0)
    with pytest.warns(UserWarning, match="single sample") as record:
        folds = list(cv.split(y, y))
    assert len(record) == 1  # named once, not once per repetition
    assert len(folds) == cv.get_n_splits() == 12
    held_out = np.bincount(np.concatenate([t for _, t in folds]), minlength=len(y))
    np.testing.assert_array_equal(held_out, np.where(y == 4, 0, 3))
    for train, _ in folds:
        assert len(np.unique(y[train])) == 5
    distinct = {tuple(t) for _, t in folds}
    assert len(distinct) > 4  # the repetitions differ
    again = _splits(RepeatedTailSafeStratifiedKFold(4, n_repeats=3, random_state=0), y)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


@pytest.mark.parametrize("n_repeats", [0, 1.5, True])
def test_repeated_bad_n_repeats(n_repeats):
    with pytest.raises(ValueError, match="n_repeats"):
        RepeatedTailSafeStratifiedKFold(2, n_repeats=n_repeats).get_n_splits()


# --------------------------------------------------------------------------- scikit-learn tools
X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                           weights=[0.9, 0.08, 0.02], random_state=0)
y[np.flatnonzero(y == 2)[2:]] = 1  # class 2 keeps 2 samples: fewer than the folds


def test_works_in_cross_validate_and_grid_search_cv():
    cv = TailSafeStratifiedKFold(5)
    out = cross_validate(LogisticRegression(), X, y, cv=cv, scoring="balanced_accuracy",
                         return_estimator=True)
    assert all(len(m.classes_) == 3 for m in out["estimator"])
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=cv,
                          scoring="balanced_accuracy").fit(X, y)
    assert search.cv_results_["split4_test_score"].shape == (2,)
    with pytest.warns(UserWarning, match="least populated class"):
        list(StratifiedKFold(5).split(X, y))  # what scikit-learn's split does instead


def test_works_in_tuned_threshold_classifier_cv():
    yb = (y > 0).astype(int)
    yb[np.flatnonzero(yb == 1)[3:]] = 0  # 3 positives, 5 folds
    model = TunedThresholdClassifierCV(LogisticRegression(), cv=TailSafeStratifiedKFold(5),
                                       scoring="balanced_accuracy").fit(X, yb)
    assert 0 < model.best_threshold_ < 1


def test_check_tail_safe_cv():
    assert isinstance(_check_tail_safe_cv(None), TailSafeStratifiedKFold)
    assert _check_tail_safe_cv(3).n_splits == 3
    assert isinstance(_check_tail_safe_cv(0.3), _TailSafeHoldOut)
    splits = [(np.arange(5), np.arange(5, 10))]
    assert list(_check_tail_safe_cv(splits).split(X, y))[0][0].tolist() == list(range(5))


@given(st.lists(st.integers(1, 30), min_size=2, max_size=6), st.floats(0.05, 0.95),
       st.integers(0, 1000))
@settings(max_examples=50, deadline=None)
def test_holdout_keeps_every_class_in_training_and_holds_out_every_rare_class(counts, size,
                                                                              seed):
    counts[0] = max(counts[0], 2)
    y = _labels(counts)
    (train, test), = list(_TailSafeHoldOut(size, random_state=seed).split(y, y))
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == len(y)
    assert len(np.unique(y[train])) == len(counts)
    held = np.bincount(y[test], minlength=len(counts))
    np.testing.assert_array_equal(held > 0, np.array(counts) >= 2)


# --------------------------------------------------------------------------- adjustment_curve
def _fitted_corrector():
    from sklt import PriorShiftClassifier

    Xc, yc = make_classification(n_samples=1200, n_features=6, n_informative=4, n_classes=3,
                                 weights=[0.8, 0.15, 0.05], random_state=1)
    clf = PriorShiftClassifier(lam=0.3).fit(Xc[:600], yc[:600])
    return clf, Xc[600:], yc[600:]


def test_adjustment_curve_scores_the_fitted_model_at_each_value_and_restores_it():
    from sklearn.metrics import balanced_accuracy_score

    from sklt.model_selection import adjustment_curve

    clf, Xv, yv = _fitted_corrector()
    grid = [0.0, 0.5, 1.0, 1.5, 2.5]
    curve = adjustment_curve(clf, Xv, yv, param_range=grid, tie_rule=None)
    for lam, score in zip(grid, curve.scores, strict=True):
        ref = clf.set_params(lam=lam).predict(Xv)
        assert score == balanced_accuracy_score(yv, ref)
    clf.set_params(lam=0.3)
    assert curve.best_value == grid[int(np.argmax(curve.scores))]
    assert curve.fold_scores.shape == (5, len(grid)) and np.isfinite(curve.fold_scores).all()
    curve = adjustment_curve(clf, Xv, yv)
    assert clf.lam == 0.3
    assert curve.param_range[:21].tolist() == np.linspace(0, 2, 21).tolist()
    assert curve.tied[curve.best_index] and np.nanmin(curve.tolerance) >= 0


def test_adjustment_curve_tunes_the_fusion_lam():
    from sklt import NoisyOrFusionClassifier
    from sklt.model_selection import adjustment_curve

    Xc, yc = make_classification(n_samples=1200, n_features=6, n_informative=4, n_classes=3,
                                 weights=[0.8, 0.15, 0.05], random_state=1)
    fusion = NoisyOrFusionClassifier(
        [("a", LogisticRegression()), ("b", LogisticRegression(C=0.05))], lam=0.0,
    ).fit(Xc[:600], yc[:600])
    curve = adjustment_curve(fusion, Xc[600:], yc[600:])
    assert fusion.lam == 0.0
    assert np.ptp(curve.scores) > 0 and curve.best_value > 0


@pytest.mark.parametrize("param_name, match", [
    ("temperature", None), ("source_prior", "is used at fit"), ("C", "has no parameter"),
    (3, "must be a string"),
])
def test_adjustment_curve_needs_a_prediction_time_parameter(param_name, match):
    from sklt.model_selection import adjustment_curve

    clf, Xv, yv = _fitted_corrector()
    if match is None:
        adjustment_curve(clf, Xv, yv, param_name=param_name, param_range=[0.5, 1.0, 2.0])
        return
    with pytest.raises((ValueError, TypeError), match=match):
        adjustment_curve(clf, Xv, yv, param_name=param_name)


def test_adjustment_curve_bad_input():
    from sklearn.exceptions import NotFittedError

    from sklt import LogitAdjuster
    from sklt.model_selection import adjustment_curve

    clf, Xv, yv = _fitted_corrector()
    with pytest.raises(NotFittedError):
        adjustment_curve(LogitAdjuster(), Xv, yv, param_name="tau")
    with pytest.raises(ValueError, match="0 samples"):
        adjustment_curve(clf, Xv[:0], yv[:0])
    with pytest.raises(ValueError, match="returned NaN .* for every value of param_range"):
        adjustment_curve(clf, Xv, yv, scoring=lambda est, X_, y_: float("nan"))
