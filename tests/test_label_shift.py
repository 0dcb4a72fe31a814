"""Tests for sklt.label_shift: EM and BBSE target-prior estimation, BCTS calibration."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from sklt.adjust import adjust_logits
from sklt.label_shift import (
    bbse_prior,
    em_prior,
    estimate_target_prior,
    fit_bias_corrected_temperature,
)
from sklt.priors import long_tail_counts

N_CLASSES = 5
N_FEATURES = 5


def _sampler(seed, separation=2.0):
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=separation, size=(N_CLASSES, N_FEATURES))

    def sample(counts, labels=None):
        y = np.repeat(np.arange(N_CLASSES), counts)
        X = means[y] + rng.normal(size=(len(y), N_FEATURES))
        return X, (y if labels is None else np.asarray(labels)[y])

    return sample


@pytest.fixture(scope="module")
def shifted():
    """Long-tailed source (imbalance 20), validation from the source, two shifted targets."""
    sample = _sampler(0)
    counts = long_tail_counts(2000, N_CLASSES, 20)
    X, y = sample(counts)
    X_val, y_val = sample(counts)
    clf = LogisticRegression().fit(X, y)
    source_prior = counts / counts.sum()
    targets = {}
    for name, prior in [("uniform", np.full(N_CLASSES, 0.2)), ("reversed", source_prior[::-1])]:
        X_t, y_t = sample(np.round(prior * 8000).astype(int))
        targets[name] = (X_t, y_t, np.bincount(y_t, minlength=N_CLASSES) / len(y_t))
    return clf, source_prior, X_val, y_val, targets


@pytest.mark.parametrize("target", ["uniform", "reversed"])
@pytest.mark.parametrize("method", ["em", "bbse", "bbse-soft"])
def test_estimate_recovers_the_target_prior(shifted, method, target):
    clf, source_prior, X_val, y_val, targets = shifted
    X_t, _, true_prior = targets[target]
    est = estimate_target_prior(clf, X_t, method=method, X_val=X_val, y_val=y_val,
                                source_prior=source_prior)
    assert est.shape == (N_CLASSES,)
    assert est.sum() == pytest.approx(1.0)
    assert np.abs(est - true_prior).sum() < 0.05


@pytest.mark.parametrize("method", ["em", "bbse"])
def test_correcting_with_the_estimate_improves_target_accuracy(shifted, method):
    clf, source_prior, X_val, y_val, targets = shifted
    X_t, y_t, _ = targets["reversed"]
    est = estimate_target_prior(clf, X_t, method=method, X_val=X_val, y_val=y_val,
                                source_prior=source_prior)
    log_proba = np.log(clf.predict_proba(X_t))
    corrected = adjust_logits(log_proba, source_prior, est, input="log_proba").argmax(axis=1)
    uncorrected_acc = np.mean(clf.predict(X_t) == y_t)
    corrected_acc = np.mean(clf.classes_[corrected] == y_t)
    assert corrected_acc > uncorrected_acc + 0.02


def test_em_calibrated_recovers_prior_without_source_prior(shifted):
    clf, _, X_val, y_val, targets = shifted
    X_t, _, true_prior = targets["reversed"]
    est = estimate_target_prior(clf, X_t, X_val=X_val, y_val=y_val, calibrate=True)
    assert np.abs(est - true_prior).sum() < 0.05


def test_em_biased_by_overconfidence_and_fixed_by_bcts():
    """The documented failure mode: over-confident posteriors bias EM; BCTS repairs it."""
    sample = _sampler(2, separation=1.5)  # overlapping classes: calibration matters
    counts = long_tail_counts(2000, N_CLASSES, 20)
    source_prior = counts / counts.sum()
    clf = LogisticRegression().fit(*sample(counts))
    X_val, y_val = sample(counts)
    X_t, y_t = sample(np.full(N_CLASSES, 1600))
    true_prior = np.full(N_CLASSES, 0.2)
    assert np.abs(em_prior(clf.predict_proba(X_t), source_prior) - true_prior).sum() < 0.05
    # an over-confident model: logits sharpened 4x, and a bias towards class 0
    shift = np.array([1.5, 0, 0, 0, 0])
    z_t = 4 * clf.decision_function(X_t) + shift
    z_val = 4 * clf.decision_function(X_val) + shift
    raw = em_prior(z_t, source_prior, input="logits")
    T, b = fit_bias_corrected_temperature(z_val, y_val)
    calibrated = em_prior(z_t / T + b, np.bincount(y_val) / len(y_val), input="logits")
    raw_error = np.abs(raw - true_prior).sum()
    calibrated_error = np.abs(calibrated - true_prior).sum()
    assert raw_error > 0.1
    assert calibrated_error < min(0.05, raw_error / 2)


def test_string_labels_and_alignment_with_classes():
    labels = np.array(["e", "d", "c", "b", "a"])  # class 0 of the sampler is "e"
    sample = _sampler(1)
    counts = long_tail_counts(1000, N_CLASSES, 10)
    X, y = sample(counts, labels)
    X_val, y_val = sample(counts, labels)
    clf = LogisticRegression().fit(X, y)
    assert list(clf.classes_) == ["a", "b", "c", "d", "e"]
    X_t, y_t = sample(np.full(N_CLASSES, 1000), labels)
    true_prior = np.array([np.mean(y_t == c) for c in clf.classes_])
    for method in ["em", "bbse"]:
        est = estimate_target_prior(clf, X_t, method=method, X_val=X_val, y_val=y_val)
        assert np.abs(est - true_prior).sum() < 0.06


def test_source_prior_auto_resolution(shifted):
    clf, source_prior, X_val, y_val, targets = shifted
    X_t = targets["uniform"][0]
    with pytest.raises(ValueError, match="source_prior='auto' cannot be determined"):
        estimate_target_prior(clf, X_t)
    # y_val frequencies are used when nothing else is known
    via_val = estimate_target_prior(clf, X_t, y_val=y_val)
    explicit = estimate_target_prior(clf, X_t, source_prior=np.bincount(y_val))
    np.testing.assert_allclose(via_val, explicit)
    # class_prior_ of naive Bayes
    nb = GaussianNB().fit(X_val, y_val)
    np.testing.assert_allclose(
        estimate_target_prior(nb, X_t),
        estimate_target_prior(nb, X_t, source_prior=nb.class_prior_),
    )


def test_em_is_a_fixed_point_of_its_update():
    rng = np.random.default_rng(3)
    proba = adjust_logits(rng.normal(size=(500, 4)), output="proba")
    source_prior = np.array([0.4, 0.3, 0.2, 0.1])
    prior = em_prior(proba, source_prior, tol=1e-10)
    update = adjust_logits(proba, source_prior, prior, input="proba", output="proba").mean(0)
    np.testing.assert_allclose(update, prior, atol=1e-8)


def test_em_starts_at_and_keeps_a_matching_source_prior():
    rng = np.random.default_rng(4)
    proba = adjust_logits(rng.normal(size=(300, 3)), output="proba")
    source_prior = proba.mean(axis=0)  # the posteriors already average to p_s
    prior, n_iter = em_prior(proba, source_prior, return_n_iter=True)
    assert n_iter == 1
    np.testing.assert_allclose(prior, source_prior)


@given(st.integers(0, 10_000), st.floats(-5, 5))
@settings(max_examples=20, deadline=None)
def test_em_same_result_for_proba_log_proba_and_shifted_logits(seed, shift):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(200, 3))
    source_prior = [0.6, 0.3, 0.1]
    kw = dict(tol=1e-10, max_iter=5000)
    a = em_prior(logits + shift, source_prior, input="logits", **kw)
    b = em_prior(adjust_logits(logits, output="proba"), source_prior, **kw)
    c = em_prior(adjust_logits(logits), source_prior, input="log_proba", **kw)
    np.testing.assert_allclose(a, b, atol=1e-7)
    np.testing.assert_allclose(a, c, atol=1e-7)


def test_em_sample_weight_equals_repetition():
    rng = np.random.default_rng(5)
    proba = adjust_logits(rng.normal(size=(50, 3)), output="proba")
    weights = rng.integers(1, 4, size=50)
    kw = dict(tol=1e-12, max_iter=10_000)
    np.testing.assert_allclose(
        em_prior(proba, [0.5, 0.3, 0.2], sample_weight=weights, **kw),
        em_prior(np.repeat(proba, weights, axis=0), [0.5, 0.3, 0.2], **kw),
        atol=1e-9,
    )


def test_em_warns_when_not_converged():
    rng = np.random.default_rng(6)
    proba = adjust_logits(3 * rng.normal(size=(100, 3)), output="proba")
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        em_prior(proba, [0.8, 0.1, 0.1], max_iter=1)


def test_bbse_is_exact_on_exact_moments():
    """With a confusion matrix and prediction rates that match exactly, BBSE is exact."""
    # validation: 10 samples of class 0 and 10 of class 1, predictions 8/2 and 3/7
    y_val = np.r_[np.zeros(10, int), np.ones(10, int)]
    pred_val = np.r_[np.zeros(8, int), np.ones(2, int), np.zeros(3, int), np.ones(7, int)]
    # target prior (0.25, 0.75): P_t(pred = 0) = 0.25 * 0.8 + 0.75 * 0.3 = 0.425
    pred_t = np.r_[np.zeros(17, int), np.ones(23, int)]
    eye = np.eye(2)
    est = bbse_prior(eye[pred_val], y_val, eye[pred_t])
    np.testing.assert_allclose(est, [0.25, 0.75])


def test_bbse_soft_equals_hard_on_one_hot_scores():
    rng = np.random.default_rng(7)
    y_val = rng.integers(0, 3, 300)
    pred_val = np.where(rng.random(300) < 0.7, y_val, rng.integers(0, 3, 300))
    pred_t = rng.integers(0, 3, 200)
    eye = np.eye(3)
    np.testing.assert_allclose(
        bbse_prior(eye[pred_val], y_val, eye[pred_t], soft=True),
        bbse_prior(eye[pred_val], y_val, eye[pred_t]),
    )


@settings(max_examples=100, deadline=None)
@given(k=st.integers(2, 12), seed=st.integers(0, 10_000),
       collapse=st.sampled_from([0.0, 1e-17, 1e-14, 1e-10, 1e-6, 1e-3]))
def test_bbse_solver_matches_the_svd_rank_and_solution(k, seed, collapse):
    """The LU fast path is taken only where the SVD says full rank, and agrees with it."""
    from sklt.label_shift import _solve_confusion

    rng = np.random.default_rng(seed)
    joint = rng.dirichlet(np.ones(k), size=k) * rng.uniform(0.5, 2, size=(k, 1))
    joint[1] = joint[0] + collapse * rng.normal(size=k)  # two classes predicted alike
    mu = rng.dirichlet(np.ones(k))
    u, sing, vt = np.linalg.svd(joint)
    keep = sing > sing.max() * k * np.finfo(np.float64).eps
    expected = vt[keep].T @ ((u[:, keep].T @ mu) / sing[keep])
    w, rank = _solve_confusion(joint, mu)
    assert rank == int(keep.sum())
    cond = sing.max() / sing.min() if sing.min() > 0 else np.inf
    if rank < k:  # singular: the SVD path, as before
        np.testing.assert_array_equal(w, expected)
    else:  # rounding apart, the same solution (the LU path answers only when cond < ~1e7)
        np.testing.assert_allclose(w, expected, rtol=1e-13 * min(cond, 1e9), atol=0)


def test_bbse_singular_confusion_matrix_warns_and_falls_back():
    eye = np.eye(3)
    y_val = np.array([0, 1, 2, 0, 1, 2])
    pred_val = np.array([0, 1, 1, 0, 1, 1])  # class 2 is never predicted
    with pytest.warns(UserWarning, match=r"singular .*never predicted: \[2\]"):
        est = bbse_prior(eye[pred_val], y_val, eye[[0, 1, 1, 1]])
    assert est.shape == (3,) and np.all(est >= 0) and est.sum() == pytest.approx(1.0)


def test_bbse_clips_negative_entries_with_a_warning():
    eye = np.eye(2)
    y_val = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    pred_val = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    with pytest.warns(UserWarning, match="negative prior"):
        est = bbse_prior(eye[pred_val], y_val, eye[[1, 1, 1, 1]])
    np.testing.assert_allclose(est, [0.0, 1.0])


def test_bbse_labels_through_classes():
    eye = np.eye(2)
    y_num = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    pred_val = eye[[0, 0, 0, 0, 1, 1, 1, 1]]
    pred_t = eye[[0, 0, 1, 1, 1, 1]]
    np.testing.assert_allclose(
        bbse_prior(pred_val, np.array(["no", "yes"])[y_num], pred_t, classes=["no", "yes"]),
        bbse_prior(pred_val, y_num, pred_t),
    )


@given(st.integers(0, 10_000), st.floats(0.3, 5.0))
@settings(max_examples=10, deadline=None)
def test_bcts_recovers_the_temperature_of_a_scaled_calibrated_model(seed, scale):
    rng = np.random.default_rng(seed)
    z = 2 * rng.normal(size=(4000, 3))
    y = np.argmax(z + rng.gumbel(size=z.shape), axis=1)  # y ~ softmax(z): z is calibrated
    T, b = fit_bias_corrected_temperature(scale * z, y)
    assert T == pytest.approx(scale, rel=0.15)
    assert np.all(np.abs(b) < 0.2)


def test_bcts_calibrated_posteriors_average_to_label_frequencies():
    rng = np.random.default_rng(8)
    z = 3 * rng.normal(size=(1000, 4))
    y = rng.integers(0, 4, 1000)
    T, b = fit_bias_corrected_temperature(z, y)
    mean_posterior = adjust_logits(z / T + b, output="proba").mean(axis=0)
    np.testing.assert_allclose(mean_posterior, np.bincount(y) / 1000, atol=1e-4)


# --- bad input -------------------------------------------------------------


def test_x_target_with_wrong_number_of_features(shifted):
    clf = shifted[0]
    with pytest.raises(ValueError, match="X_target has 3 features but LogisticRegression was "
                                         "fitted with 5"):
        estimate_target_prior(clf, np.zeros((10, 3)), source_prior="uniform")


def test_bbse_needs_validation_data(shifted):
    clf, _, _, _, targets = shifted
    with pytest.raises(ValueError, match="method='bbse' needs labelled validation data"):
        estimate_target_prior(clf, targets["uniform"][0], method="bbse")
    with pytest.raises(ValueError, match="calibrate=True needs labelled validation data"):
        estimate_target_prior(clf, targets["uniform"][0], calibrate=True)


def test_bad_method_and_unfitted_estimator(shifted):
    clf = shifted[0]
    with pytest.raises(ValueError, match="method must be"):
        estimate_target_prior(clf, np.zeros((3, 5)), method="mle")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        estimate_target_prior(LogisticRegression(), np.zeros((3, 5)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(scores=np.ones((3, 2)) * -1), "non-negative probabilities"),
        (dict(scores=np.ones(3)), "2-D"),
        (dict(scores=np.ones((0, 2))), "no samples"),
        (dict(source_prior=[1.0, 0.0]), "source_prior is zero"),
        (dict(source_prior=[0.2, 0.3, 0.5]), "source_prior has 3 entries"),
        (dict(tol=0), "tol must be"),
        (dict(max_iter=0), "max_iter must be"),
        (dict(sample_weight=[1, 2]), "sample_weight has shape"),
    ],
)
def test_em_prior_bad_input(kwargs, match):
    args = dict(scores=np.full((3, 2), 0.5), source_prior=[0.5, 0.5])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        em_prior(args.pop("scores"), args.pop("source_prior"), **args)


def test_bbse_prior_bad_input():
    eye = np.eye(2)
    with pytest.raises(ValueError, match="target_scores has 3 columns"):
        bbse_prior(eye[[0, 1]], [0, 1], np.eye(3))
    with pytest.raises(ValueError, match="y_val has 3 labels"):
        bbse_prior(eye[[0, 1]], [0, 1, 1], eye)
    with pytest.raises(ValueError, match="integer column indices"):
        bbse_prior(eye[[0, 1]], ["a", "b"], eye)
    with pytest.raises(ValueError, match="not in classes"):
        bbse_prior(eye[[0, 1]], ["a", "c"], eye, classes=["a", "b"])


def test_sklt_corrector_uses_inner_posteriors_and_its_source_prior(shifted):
    from sklt import PriorShiftClassifier, PriorShiftClassifierCV

    clf, source_prior, X_val, y_val, targets = shifted
    X_t = targets["reversed"][0]
    X_train, y_train = X_val, y_val  # any labelled source sample
    plain = LogisticRegression().fit(X_train, y_train)
    reference = estimate_target_prior(plain, X_t, source_prior=np.bincount(y_train))
    for target_prior in ["uniform", [0.1, 0.1, 0.1, 0.1, 0.6]]:
        corrector = PriorShiftClassifier(LogisticRegression(), lam=0.7,
                                         target_prior=target_prior).fit(X_train, y_train)
        np.testing.assert_allclose(estimate_target_prior(corrector, X_t), reference)
    tuner = PriorShiftClassifierCV(LogisticRegression(), lams=3, cv=2).fit(X_train, y_train)
    np.testing.assert_allclose(estimate_target_prior(tuner, X_t), reference)
