"""The contract (docs/contract.rst), property-tested on priors, posthoc, fusion and datasets.

Each test generates bad and extreme inputs for a public name and asserts the contract:
the prediction methods agree on every row (or all raise), outputs are finite and
probabilities sum to one, errors are ValueError/TypeError naming the parameter, huge
finite values give the exact answer or an error naming the value, and the caller's
inputs are never modified.
"""

import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklt import (
    LogitAdjuster,
    LogitAdjusterCV,
    NoisyOrFusionClassifier,
    PriorShiftClassifier,
    PriorShiftClassifierCV,
)
from sklt.datasets import (
    load_digits_lt,
    make_imbalanced_circles,
    make_imbalanced_gaussians,
    make_imbalanced_moons,
    make_long_tailed,
    make_shifted_test,
)
from sklt.priors import check_prior, class_counts, class_frequencies, long_tail_counts

pytestmark = pytest.mark.filterwarnings(
    "ignore:source_prior='auto' with a FrozenEstimator:UserWarning"
)

FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_rng = np.random.default_rng(0)
Y = np.repeat([0, 1, 2], [60, 25, 10])
X = _rng.normal(size=(95, 4)) + Y[:, None]
TREE = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y)  # exact zeros
LOGREG = LogisticRegression().fit(X, Y)

# Finite, non-negative values from the smallest subnormal to the largest float.
NONNEG = st.sampled_from(
    [0.0, 5e-324, 1e-310, 1e-300, 1e-10, 0.5, 1.0, 3.0, 1e10, 1e300, 1e308, 1.7e308]
)
BAD = st.sampled_from([-1.0, -1e-300, -1e308, np.nan, np.inf, -np.inf])
STRENGTH = st.sampled_from([0.0, 5e-324, 1e-300, 0.5, 1.0, 7.0, 1e10, 1e300, 1e308, 1.7e308])
TEMPERATURE = st.sampled_from([5e-324, 1e-310, 1e-300, 1e-5, 0.3, 1.0, 10.0, 1e300, 1.7e308])


def _exact_frequencies(weights):
    """Frequencies of float weights computed in exact rational arithmetic."""
    fr = [Fraction(w) for w in weights]
    total = sum(fr)
    return np.array([float(f / total) for f in fr])


def assert_names(exc, *names):
    """The error is a ValueError or TypeError whose message names one of ``names``."""
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    assert any(n in str(exc) for n in names), f"{names} not named in: {exc}"


def raises_naming(func, *names):
    with pytest.raises((ValueError, TypeError)) as info:
        func()
    assert_names(info.value, *names)


def check_prediction_contract(clf, X_pred, names=()):
    """All four prediction methods raise alike, or their outputs agree on every row."""
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    results, errors = {}, {}
    for method in methods:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # no overflow, no NaN
                results[method] = getattr(clf, method)(X_pred)
        except (ValueError, TypeError) as exc:
            errors[method] = exc
    if errors:
        assert not results, (
            f"{sorted(errors)} raise but {sorted(results)} return; first error: "
            f"{next(iter(errors.values()))}"
        )
        for exc in errors.values():
            assert_names(exc, *names)
        return None
    proba, log_proba = results["predict_proba"], results["predict_log_proba"]
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0) and np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert not np.any(np.isnan(log_proba)) and not np.any(log_proba == np.inf)
    np.testing.assert_allclose(np.exp(log_proba), proba, rtol=1e-6, atol=1e-300)
    pred = results["predict"]
    idx = np.searchsorted(clf.classes_, pred)
    np.testing.assert_array_equal(clf.classes_[idx], pred)
    rows = np.arange(len(pred))
    assert np.all(proba[rows, idx] == proba.max(axis=1)), "predict is not an argmax of proba"
    scores = results["decision_function"]
    assert not np.any(np.isnan(scores))
    if len(clf.classes_) == 2:
        np.testing.assert_array_equal(scores > 0, idx == 1)
    else:
        assert np.all(scores[rows, idx] == scores.max(axis=1))
    return results


# ------------------------------------------------------------------------------- priors
@FAST
@given(st.lists(NONNEG, min_size=1, max_size=5).filter(lambda w: max(w) > 0))
def test_check_prior_is_exact_for_weights_of_any_scale(weights):
    classes = np.arange(len(weights))
    prior = check_prior(weights, classes)
    assert np.all(np.isfinite(prior)) and np.all(prior >= 0)
    np.testing.assert_allclose(prior.sum(), 1, rtol=1e-12)
    np.testing.assert_allclose(prior, _exact_frequencies(weights), rtol=1e-12, atol=1e-300)
    as_dict = check_prior(dict(zip(classes.tolist(), weights, strict=True)), classes)
    np.testing.assert_array_equal(as_dict, prior)


@FAST
@given(st.lists(NONNEG, min_size=2, max_size=4), BAD, st.integers(0, 3))
def test_check_prior_rejects_bad_entries_naming_the_parameter(weights, bad, at):
    weights = list(weights)
    weights[at % len(weights)] = bad
    raises_naming(
        lambda: check_prior(weights, np.arange(len(weights)), name="target_prior"),
        "target_prior",
    )


@pytest.mark.parametrize(
    "prior",
    [None, 0.5, "balanced", b"uniform", {"a": "x", "b": 1}, ["x", "y"], [1j, 1], [[0.5, 0.5]]],
)
def test_check_prior_type_errors_name_the_parameter(prior):
    raises_naming(lambda: check_prior(prior, ["a", "b"], name="source_prior"), "source_prior")


@pytest.mark.parametrize("classes", [[], "ab", 3, [[0, 1]], [0, 0, 1]])
@pytest.mark.parametrize(
    "call",
    [
        lambda c: check_prior("uniform", c),
        lambda c: check_prior("auto", c, y=[0, 1]),
        lambda c: class_counts([0, 1], c),
        lambda c: class_frequencies([0, 1], c),
    ],
)
def test_bad_classes_are_named(call, classes):
    raises_naming(lambda: call(classes), "classes")


@FAST
@given(st.permutations(["a", "b", "c", "d"]), st.lists(st.sampled_from("abcd"), min_size=1))
def test_classes_in_any_order(classes, y):
    counts = class_counts(y, classes)
    np.testing.assert_array_equal(counts, [y.count(c) for c in classes])
    np.testing.assert_allclose(check_prior("auto", classes, y=y), counts / counts.sum())


@FAST
@given(st.lists(NONNEG, min_size=4, max_size=4).filter(lambda w: max(w) > 0))
def test_weighted_class_frequencies_are_exact_for_weights_of_any_scale(weights):
    y, classes = [0, 1, 1, 2], [0, 1, 2]
    freq = class_frequencies(y, classes, sample_weight=weights)
    w = [Fraction(v) for v in weights]
    exact = _exact_frequencies([w[0], w[1] + w[2], w[3]])
    np.testing.assert_allclose(freq, exact, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(check_prior("auto", classes, y=y, sample_weight=weights), freq)
    try:
        counts = class_counts(y, classes, sample_weight=weights)
    except ValueError as exc:  # a class sum beyond the largest float
        assert_names(exc, "sample_weight")
    else:
        assert np.all(np.isfinite(counts))
        np.testing.assert_allclose(_exact_frequencies(counts), freq, rtol=1e-12, atol=1e-300)


@FAST
@given(st.lists(NONNEG, min_size=4, max_size=4), BAD, st.integers(0, 3))
def test_bad_sample_weight_is_named_by_the_count_helpers(weights, bad, at):
    weights = list(weights)
    weights[at] = bad
    y, classes = [0, 1, 1, 2], [0, 1, 2]
    for call in (
        lambda: class_counts(y, classes, sample_weight=weights),
        lambda: class_frequencies(y, classes, sample_weight=weights),
        lambda: check_prior("auto", classes, y=y, sample_weight=weights, name="source_prior"),
    ):
        raises_naming(call, "sample_weight")


@pytest.mark.parametrize("sample_weight", [[1.0, 2.0], "abc", [[1, 1, 1, 1]], ["a"] * 4])
def test_sample_weight_of_wrong_shape_or_type_is_named(sample_weight):
    raises_naming(lambda: class_counts([0, 1, 1, 2], [0, 1, 2], sample_weight), "sample_weight")


@FAST
@given(
    st.one_of(st.integers(1, 10**6), st.integers(2**52, 2**53)),
    st.integers(1, 40),
    st.one_of(st.floats(1, 1e6), st.sampled_from([1.0, 1e300, 1.7e308])),
    st.sampled_from(["exponential", "step"]),
)
def test_long_tail_counts_invariants(n_max, n_classes, ratio, profile):
    counts = long_tail_counts(n_max, n_classes, ratio, profile=profile)
    assert counts.dtype == np.int64 and counts.shape == (n_classes,)
    assert counts[0] == n_max
    assert np.all(np.diff(counts) <= 0) and np.all(counts >= 1)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_max=10**20), "n_max"),
        (dict(n_max=True), "n_max"),
        (dict(n_max=10.0), "n_max"),
        (dict(n_max="10"), "n_max"),
        (dict(n_classes=True), "n_classes"),
        (dict(n_classes=-1), "n_classes"),
        (dict(n_classes=2.5), "n_classes"),
        (dict(imbalance_ratio=np.inf), "imbalance_ratio"),
        (dict(imbalance_ratio=np.nan), "imbalance_ratio"),
        (dict(imbalance_ratio=True), "imbalance_ratio"),
        (dict(imbalance_ratio="10"), "imbalance_ratio"),
        (dict(profile="linear"), "profile"),
    ],
)
def test_long_tail_counts_rejects_bad_parameters_by_name(kwargs, name):
    params = {"n_max": 100, "n_classes": 5, "imbalance_ratio": 10, **kwargs}
    raises_naming(lambda: long_tail_counts(**params), name)


# ------------------------------------------------------------------------------ posthoc
TARGET = st.lists(st.sampled_from([0.0, 1e-300, 0.2, 1.0, 1e300]), min_size=3, max_size=3).filter(
    lambda p: max(p) > 0
)
INNER = st.sampled_from(["tree", "frozen_tree", "frozen_logreg", "svc"])


def _inner(kind):
    return {
        "tree": DecisionTreeClassifier(max_depth=3, random_state=0),
        "frozen_tree": FrozenEstimator(TREE),
        "frozen_logreg": FrozenEstimator(LOGREG),
        "svc": LinearSVC(),
    }[kind]


@FAST
@given(st.sampled_from([LogitAdjuster, PriorShiftClassifier]), INNER, TARGET, st.floats(0, 3))
def test_zero_target_prior_every_method_agrees(Est, inner, target_prior, strength):
    param = "tau" if Est is LogitAdjuster else "lam"
    clf = Est(_inner(inner), target_prior=target_prior, **{param: strength}).fit(X, Y)
    results = check_prediction_contract(clf, X, names=("target_prior",))
    if results is not None and strength > 0:
        forbidden = np.asarray(target_prior) == 0
        assert np.all(results["predict_proba"][:, forbidden] == 0)
        assert not np.any(np.isin(results["predict"], clf.classes_[forbidden]))


@FAST
@given(INNER, STRENGTH, TEMPERATURE, st.sampled_from(["uniform", [1, 0, 1], [1e300, 1, 1e-300]]))
def test_extreme_lam_and_temperature_give_a_result_or_name_the_parameter(
    inner, lam, temperature, target_prior
):
    params = dict(lam=lam, temperature=temperature, target_prior=target_prior)
    try:
        clf = PriorShiftClassifier(_inner(inner), **params).fit(X, Y)
    except ValueError as exc:
        assert_names(exc, "lam", "temperature")
        return
    check_prediction_contract(clf, X, names=("lam", "temperature", "target_prior"))


@FAST
@given(INNER, STRENGTH)
def test_extreme_tau_gives_a_result_or_names_tau(inner, tau):
    try:
        clf = LogitAdjuster(_inner(inner), tau=tau).fit(X, Y)
    except ValueError as exc:
        assert_names(exc, "tau")
        return
    check_prediction_contract(clf, X, names=("tau",))


@FAST
@given(
    st.sampled_from([LogitAdjuster, PriorShiftClassifier]),
    st.sampled_from([1e-300, 1e-10, 1.0, 1e300, 1e308 / 3]),
    st.sampled_from(["source_prior", "target_prior"]),
)
def test_priors_of_any_scale_give_the_same_predictions(Est, scale, which):
    base = np.array([0.6, 0.3, 0.1])
    ref = Est(FrozenEstimator(LOGREG), **{which: base}).fit(X, Y)
    scaled = Est(FrozenEstimator(LOGREG), **{which: base * scale}).fit(X, Y)
    np.testing.assert_allclose(scaled.predict_proba(X), ref.predict_proba(X), rtol=1e-10)
    np.testing.assert_array_equal(scaled.predict(X), ref.predict(X))


def _all_estimators():
    return [
        LogitAdjuster(DecisionTreeClassifier(random_state=0)),
        PriorShiftClassifier(DecisionTreeClassifier(random_state=0)),
        LogitAdjusterCV(DecisionTreeClassifier(random_state=0), cv=2),
        PriorShiftClassifierCV(DecisionTreeClassifier(random_state=0), cv=2),
        NoisyOrFusionClassifier([("a", DecisionTreeClassifier(random_state=0))], temperature=None),
    ]


@FAST
@given(st.sampled_from(range(5)), BAD, st.integers(0, 94))
def test_bad_sample_weight_is_named_by_every_estimator(which, bad, at):
    sample_weight = np.ones(len(Y))
    sample_weight[at] = bad
    est = _all_estimators()[which]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        raises_naming(lambda: est.fit(X, Y, sample_weight=sample_weight), "sample_weight")


@pytest.mark.parametrize("which", range(5))
@pytest.mark.parametrize("sample_weight", [np.zeros(95), np.ones(94), "abc"])
def test_unusable_sample_weight_is_named_by_every_estimator(which, sample_weight):
    est = _all_estimators()[which]
    raises_naming(lambda: est.fit(X, Y, sample_weight=sample_weight), "sample_weight")


@pytest.mark.parametrize("which", range(5))
def test_huge_sample_weights_give_the_priors_of_the_weight_ratios(which):
    # A frozen model: a tree refit on weights near the largest float has NaN leaves.
    est = _all_estimators()[which]
    if which == 4:
        est.set_params(a=FrozenEstimator(TREE))
    else:
        est.set_params(estimator=FrozenEstimator(TREE))
    w = np.where(Y == 2, 2.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = clone(est).fit(X, Y, sample_weight=w)
        big = clone(est).fit(X, Y, sample_weight=w * (1e308 / 2))
    np.testing.assert_allclose(
        np.atleast_2d(big.source_prior_), np.atleast_2d(ref.source_prior_), rtol=1e-12
    )


@pytest.mark.parametrize("which", range(5))
def test_zero_samples_raise_a_value_error(which):
    est = _all_estimators()[which]
    with pytest.raises(ValueError, match="sample"):
        est.fit(X[:0], Y[:0])


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogitAdjuster(HistGradientBoostingClassifier(max_iter=5)),
        lambda: PriorShiftClassifier(DecisionTreeClassifier()),
        lambda: NoisyOrFusionClassifier([("a", DecisionTreeClassifier())], temperature=None),
    ],
)
def test_one_class_fails_at_fit_or_predicts_that_class(make):
    """scikit-learn's rule for a single class: a clear error at fit, or the class."""
    try:
        clf = make().fit(X[Y == 0], Y[Y == 0])
    except ValueError as exc:
        assert "class" in str(exc)
        return
    np.testing.assert_array_equal(clf.predict(X), 0)


@FAST
@given(st.sampled_from(range(5)), st.sampled_from([1e-300, 1.0, 1e300]))
def test_inputs_are_never_modified(which, scale):
    X_in, y_in = X.copy(), Y.copy()
    w_in = np.linspace(1, 2, len(Y)) * scale
    w_copy = w_in.copy()
    est = _all_estimators()[which]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est.fit(X_in, y_in, sample_weight=w_in)
    est.predict_proba(X_in)
    np.testing.assert_array_equal(X_in, X)
    np.testing.assert_array_equal(y_in, Y)
    np.testing.assert_array_equal(w_in, w_copy)


# ------------------------------------------------------------------------------- fusion
def _fusion(target_prior, lam, temperature, fusion):
    return NoisyOrFusionClassifier(
        [("tree", FrozenEstimator(TREE)), ("logreg", FrozenEstimator(LOGREG))],
        lam=lam, target_prior=target_prior, temperature=temperature, fusion=fusion,
    )


@FAST
@given(
    TARGET,
    STRENGTH,
    st.sampled_from([None, "uno", 1e-300, 0.5, 1e300, [5e-324, 1.0], ["uno", 1e-310]]),
    st.sampled_from(["noisy_or", "mean", "product"]),
)
def test_fusion_methods_agree_under_extreme_parameters(target_prior, lam, temperature, fusion):
    try:
        clf = _fusion(target_prior, lam, temperature, fusion).fit(X, Y)
    except ValueError as exc:
        assert_names(exc, "lam", "temperature")
        return
    results = check_prediction_contract(
        clf, X, names=("target_prior", "lam", "temperature", "fusion")
    )
    if results is not None and lam > 0:
        forbidden = np.asarray(target_prior) == 0
        assert np.all(results["predict_proba"][:, forbidden] == 0)


# ----------------------------------------------------------------------------- datasets
@FAST
@given(
    st.floats(1, 50),
    st.sampled_from(["exponential", "step"]),
    st.one_of(st.none(), st.integers(1, 40)),
    st.permutations([0, 1, 2]),
    st.sampled_from(["dense", "csr", "csc"]),
)
def test_make_long_tailed_follows_the_profile_for_dense_and_sparse(
    ratio, profile, n_max, order, fmt
):
    y = np.repeat([0, 1, 2], 40)
    Xd = np.arange(360.0).reshape(120, 3)
    X_in = Xd if fmt == "dense" else getattr(sp, f"{fmt}_matrix")(Xd)
    X_lt, y_lt = make_long_tailed(
        X_in, y, imbalance_ratio=ratio, profile=profile, n_max=n_max, class_order=order,
        random_state=0,
    )
    expected = np.empty(3, dtype=np.int64)
    expected[order] = long_tail_counts(n_max or 40, 3, ratio, profile=profile)
    np.testing.assert_array_equal(np.bincount(y_lt, minlength=3), expected)
    dense = X_lt.toarray() if sp.issparse(X_lt) else X_lt
    assert sp.issparse(X_lt) == (fmt != "dense")
    ref, _ = make_long_tailed(
        Xd, y, imbalance_ratio=ratio, profile=profile, n_max=n_max, class_order=order,
        random_state=0,
    )
    np.testing.assert_array_equal(dense, ref)


_Xd, _yd = np.zeros((60, 2)), np.repeat([0, 1, 2], 20)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: make_long_tailed(_Xd, _yd, imbalance_ratio=np.inf), "imbalance_ratio"),
        (lambda: make_long_tailed(_Xd, _yd, imbalance_ratio=True), "imbalance_ratio"),
        (lambda: make_long_tailed(_Xd, _yd, imbalance_ratio=2, n_max=True), "n_max"),
        (lambda: make_long_tailed(_Xd, _yd, imbalance_ratio=2, n_max=10**20), "n_max"),
        (lambda: make_long_tailed(_Xd, _yd, imbalance_ratio=2, profile="x"), "profile"),
        (lambda: make_long_tailed(_Xd, _yd, imbalance_ratio=2, class_order=[0, 1]),
         "class_order"),
        (lambda: make_long_tailed(_Xd, _yd + 0.5 * np.arange(60), imbalance_ratio=2),
         "label"),
        (lambda: make_shifted_test(_Xd, _yd, train_counts=[1, np.nan, 1], imbalance_ratio=2),
         "train_counts"),
        (lambda: make_shifted_test(_Xd, _yd, train_counts=[1, 2], imbalance_ratio=2),
         "train_counts"),
        (lambda: make_shifted_test(_Xd, _yd, train_counts=[1, 2, 3], imbalance_ratio=2,
                                   direction="up"), "direction"),
        (lambda: make_imbalanced_gaussians(True), "n_samples"),
        (lambda: make_imbalanced_gaussians(100, minority_fraction=np.nan), "minority_fraction"),
        (lambda: make_imbalanced_moons(100, noise=np.inf), "noise"),
        (lambda: make_imbalanced_moons(100, noise=-1.0), "noise"),
        (lambda: make_imbalanced_moons(100, imbalance_ratio=np.inf), "imbalance_ratio"),
        (lambda: make_imbalanced_circles(100, noise=np.nan), "noise"),
        (lambda: make_imbalanced_circles(100, factor=1.5), "factor"),
        (lambda: make_imbalanced_circles(1, imbalance_ratio=3), "n_samples"),
        (lambda: load_digits_lt(n_test_per_class=500), "n_test_per_class"),
        (lambda: load_digits_lt(imbalance_ratio=-1), "imbalance_ratio"),
    ],
)
def test_dataset_parameters_are_validated_by_name(call, name):
    raises_naming(call, name)


# ---------------------------------------------------------------- scikit-learn contract
# No expected failures: every check passes for each configuration.
@parametrize_with_checks(
    [
        LogitAdjuster(DecisionTreeClassifier(random_state=0)),
        PriorShiftClassifier(RidgeClassifier(), lam=2.0, temperature=0.5),
        PriorShiftClassifier(FrozenEstimator(LOGREG)).set_params(estimator=LogisticRegression()),
        NoisyOrFusionClassifier(
            [("a", LogisticRegression()), ("b", DecisionTreeClassifier(random_state=0))],
            fusion="mean", uno_cv=3, temperature=["uno", None],
        ),
        NoisyOrFusionClassifier(
            [("a", LogisticRegression()), ("b", LogisticRegression(C=0.1))],
            fusion="product", temperature=None, lam=0.0,
        ),
    ]
)
def test_more_configurations_pass_the_sklearn_checks(estimator, check):
    check(estimator)


def test_private_scikit_learn_names_come_only_through_compat():
    """docs/contract.rst: sklt imports scikit-learn's private names from sklt._compat only
    (one place with guards, exercised at both ends of the supported range by make test-min)."""
    import ast
    from pathlib import Path

    import sklt

    offenders = []
    for path in Path(sklt.__file__).parent.rglob("*.py"):
        if path.name == "_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
                private_module = any(part.startswith("_") for part in node.module.split("."))
                private_names = [a.name for a in node.names
                                 if a.name.startswith("_") and a.asname is None]
                if private_module or private_names:
                    offenders.append(f"{path.name}:{node.lineno} from {node.module}")
    assert not offenders, offenders
