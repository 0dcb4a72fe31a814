"""Tests for sklt.plotting: each Display from both constructors, plotted data checked."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, recall_score  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from sklt import LogitAdjuster, PriorShiftClassifier  # noqa: E402
from sklt.plotting import (  # noqa: E402
    AdjustmentCurveDisplay,
    ClassAccuracyDisplay,
    ReliabilityDisplay,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def long_tailed():
    """A 4-class problem with training counts 400, 120, 40, 10; a balanced test set."""
    X, y = make_classification(n_samples=4000, n_classes=4, n_features=8, n_informative=6,
                               n_clusters_per_class=1, class_sep=0.8, random_state=0)
    rng = np.random.default_rng(0)
    counts = [400, 120, 40, 10]
    train = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), n, replace=False) for c, n in enumerate(counts)]
    )
    rest = np.setdiff1d(np.arange(len(y)), train)
    test = np.concatenate([rest[y[rest] == c][:150] for c in range(4)])
    return X[train], y[train], X[test], y[test]


# --------------------------------------------------------------------------------------
# Import and matplotlib
# --------------------------------------------------------------------------------------


def test_import_does_not_import_matplotlib():
    code = "import sys, sklt.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_missing_matplotlib_raises_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "sklt\[plot\]"'):
        ReliabilityDisplay.from_predictions([0, 1], [[0.8, 0.2], [0.3, 0.7]])


# --------------------------------------------------------------------------------------
# ReliabilityDisplay
# --------------------------------------------------------------------------------------


def _direct_bins(y_true, proba, n_bins, weight=None):
    """Reference: np.digitize with right-closed bins (b/M, (b+1)/M]."""
    weight = np.ones(len(y_true)) if weight is None else weight
    pred = proba.argmax(axis=1)
    conf = proba.max(axis=1)
    edges = np.arange(n_bins + 1) / n_bins
    b = np.clip(np.digitize(conf, edges, right=True) - 1, 0, n_bins - 1)
    acc, mean_conf, count = (np.full(n_bins, np.nan) for _ in range(3))
    for k in range(n_bins):
        in_bin = b == k
        count[k] = weight[in_bin].sum()
        if in_bin.any():
            acc[k] = np.average(pred[in_bin] == y_true[in_bin], weights=weight[in_bin])
            mean_conf[k] = np.average(conf[in_bin], weights=weight[in_bin])
    filled = count > 0
    ece = np.sum(count[filled] * np.abs(acc[filled] - mean_conf[filled])) / count.sum()
    return acc, mean_conf, count, ece


@pytest.mark.parametrize("n_bins", [1, 5, 15, 20])
def test_reliability_bins_match_direct_computation(n_bins):
    rng = np.random.default_rng(n_bins)
    proba = rng.dirichlet(np.ones(5) * 0.5, size=300)
    y = rng.integers(0, 5, size=300)
    disp = ReliabilityDisplay.from_predictions(y, proba, n_bins=n_bins)
    acc, conf, count, ece = _direct_bins(y, proba, n_bins)
    np.testing.assert_allclose(disp.prob_true, acc, equal_nan=True)
    np.testing.assert_allclose(disp.prob_pred, conf, equal_nan=True)
    np.testing.assert_array_equal(disp.counts, count)
    assert disp.ece == pytest.approx(ece)
    np.testing.assert_allclose(disp.bin_edges, np.linspace(0, 1, n_bins + 1))


def test_reliability_confidence_on_a_bin_edge_goes_to_the_lower_bin():
    # 0.6 = 3/5 is the right edge of (0.4, 0.6], 0.8 = 4/5 the right edge of (0.6, 0.8]
    proba = np.array([[0.6, 0.4], [0.2, 0.8], [0.5, 0.5]])
    disp = ReliabilityDisplay.from_predictions([0, 1, 1], proba, n_bins=5,
                                               calibration="top_label")
    np.testing.assert_array_equal(disp.counts, [0, 0, 2, 1, 0])
    # the tie [0.5, 0.5] predicts the first class, as argmax does
    assert disp.prob_true[2] == 0.5


def test_reliability_ece_matches_sklt_metrics():
    metrics = pytest.importorskip("sklt.metrics")
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(4), size=500)
    y = rng.integers(0, 4, size=500)
    for n_bins in (10, 15, 20):
        disp = ReliabilityDisplay.from_predictions(y, proba, n_bins=n_bins)
        assert disp.ece == pytest.approx(
            metrics.expected_calibration_error(y, proba, n_bins=n_bins)
        )


def test_reliability_integer_weights_equal_repeated_rows():
    rng = np.random.default_rng(2)
    proba = rng.dirichlet(np.ones(3), size=60)
    y = rng.integers(0, 3, size=60)
    w = rng.integers(0, 4, size=60)
    weighted = ReliabilityDisplay.from_predictions(y, proba, sample_weight=w, n_bins=8)
    repeated = ReliabilityDisplay.from_predictions(
        np.repeat(y, w), np.repeat(proba, w, axis=0), n_bins=8
    )
    np.testing.assert_allclose(weighted.prob_true, repeated.prob_true, equal_nan=True)
    np.testing.assert_allclose(weighted.counts, repeated.counts)
    assert weighted.ece == pytest.approx(repeated.ece)


def test_reliability_from_estimator_equals_from_predictions_with_string_labels(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    names = np.array(["ant", "bee", "cat", "dog"])
    clf = LogitAdjuster(LogisticRegression(max_iter=1000)).fit(X_train, names[y_train])
    disp = ReliabilityDisplay.from_estimator(clf, X_test, names[y_test], n_bins=10)
    ref = ReliabilityDisplay.from_predictions(
        names[y_test], clf.predict_proba(X_test), labels=clf.classes_, n_bins=10
    )
    np.testing.assert_array_equal(disp.prob_true, ref.prob_true)
    assert disp.ece == ref.ece
    assert disp.name == "LogitAdjuster"
    # The plotted bars are the non-empty bins' accuracies, the gaps reach the confidence.
    filled = disp.counts > 0
    heights = [bar.get_height() for bar in disp.bars_]
    np.testing.assert_allclose(heights, disp.prob_true[filled])
    tops = [bar.get_y() + bar.get_height() for bar in disp.gap_bars_]
    np.testing.assert_allclose(tops, disp.prob_pred[filled])
    labels = disp.ax_.get_legend_handles_labels()[1]
    assert f"LogitAdjuster (ECE = {100 * disp.ece:.2f}%)" in labels
    assert disp.figure_ is disp.ax_.figure


def test_reliability_line_kind_overlays_models_on_one_axes():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, size=200)
    fig, ax = plt.subplots()
    a = ReliabilityDisplay.from_predictions(y, rng.dirichlet(np.ones(3), 200), ax=ax,
                                            kind="line", name="a", show_counts=True)
    b = ReliabilityDisplay.from_predictions(y, rng.dirichlet(np.ones(3), 200), ax=ax,
                                            kind="line", name="b")
    assert a.ax_ is b.ax_ is ax
    filled = a.counts > 0
    np.testing.assert_allclose(a.line_.get_xdata(), a.prob_pred[filled])
    np.testing.assert_allclose(a.line_.get_ydata(), a.prob_true[filled])
    assert len(a.count_texts_) == filled.sum()
    assert [t.get_text() for t in a.count_texts_] == [f"{n:.0f}" for n in a.counts[filled]]
    labels = ax.get_legend_handles_labels()[1]
    assert labels.count("Perfectly calibrated") == 1
    assert a.bars_ is None and a.gap_bars_ is None


def test_reliability_binary_1d_probabilities():
    y = np.array([0, 1, 1, 0])
    p1 = np.array([0.1, 0.8, 0.4, 0.3])
    for calibration in ("auto", "top_label", "positive_class"):
        one_d = ReliabilityDisplay.from_predictions(y, p1, n_bins=4, calibration=calibration)
        two_d = ReliabilityDisplay.from_predictions(y, np.column_stack([1 - p1, p1]), n_bins=4,
                                                    calibration=calibration)
        np.testing.assert_array_equal(one_d.prob_true, two_d.prob_true)
        assert one_d.ece == two_d.ece


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bins": 0}, "n_bins must be a positive integer"),
        ({"n_bins": 2.5}, "n_bins must be a positive integer"),
        ({"y_prob": [[0.5, 0.5]] * 3}, "y_true has 4 samples but y_prob has 3"),
        ({"y_prob": [[1.5, -0.5, 0]] * 4}, r"probabilities in \[0, 1\]"),
        ({"y_prob": [[0.5, 0.5]] * 4}, "2 columns but there are 3 classes"),
        ({"kind": "pie"}, "kind must be 'bar' or 'line'"),
        ({"sample_weight": [1, 1]}, r"sample_weight has shape \(2,\)"),
    ],
)
def test_reliability_bad_input(kwargs, match):
    args = {"y_true": [0, 1, 2, 2], "y_prob": np.full((4, 3), 1 / 3)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ReliabilityDisplay.from_predictions(**args)


def test_reliability_from_estimator_needs_fitted_probabilistic_model(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    with pytest.raises(ValueError, match="LinearSVC has no predict_proba"):
        ReliabilityDisplay.from_estimator(LinearSVC().fit(X_train, y_train), X_test, y_test)
    with pytest.raises(NotFittedError):
        ReliabilityDisplay.from_estimator(LogisticRegression(), X_test, y_test)


# --------------------------------------------------------------------------------------
# AdjustmentCurveDisplay
# --------------------------------------------------------------------------------------


def test_adjustment_curve_from_estimator_matches_refit_at_each_value(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    clf = PriorShiftClassifier(FrozenEstimator(model), lam=0.3,
                               source_prior=np.bincount(y_train)).fit(X_train, y_train)
    grid = np.linspace(0, 2, 9)
    disp = AdjustmentCurveDisplay.from_estimator(clf, X_test, y_test, param_name="lam",
                                                 param_range=grid, tie_rule=None)
    direct = [
        balanced_accuracy_score(
            y_test, PriorShiftClassifier(model, lam=lam).fit(X_train, y_train).predict(X_test)
        )
        for lam in grid
    ]
    np.testing.assert_allclose(disp.scores, direct)
    np.testing.assert_array_equal(disp.param_range, grid)
    assert clf.lam == 0.3, "the estimator's own value must be restored"
    best = int(np.argmax(direct))
    assert disp.best_value == grid[best] and disp.best_score == direct[best]
    np.testing.assert_allclose(disp.line_.get_ydata(), direct)
    assert disp.best_line_.get_xdata()[0] == grid[best]
    assert disp.ax_.get_xlabel() == r"$\lambda$"
    assert disp.ax_.get_ylabel() == "balanced accuracy"


def test_adjustment_curve_from_estimator_nested_param_and_callable_scorer(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    pipe = make_pipeline(StandardScaler(), LogitAdjuster(LogisticRegression(max_iter=1000)))
    pipe.fit(X_train, y_train)

    def accuracy(est, X, y):
        return float(np.mean(est.predict(X) == y))

    grid = [0.0, 1.0, 2.0]
    disp = AdjustmentCurveDisplay.from_estimator(
        pipe, X_test, y_test, param_name="logitadjuster__tau", param_range=grid,
        scoring=accuracy
    )
    for tau, score in zip(grid, disp.scores, strict=True):
        pipe.set_params(logitadjuster__tau=tau)
        assert score == accuracy(pipe, X_test, y_test)
    assert disp.ax_.get_xlabel() == r"$\tau$"


def test_adjustment_curve_from_estimator_sweeps_fusion_lam(long_tailed):
    from sklt import NoisyOrFusionClassifier

    X_train, y_train, X_test, y_test = long_tailed
    fusion = NoisyOrFusionClassifier(
        [("a", LogisticRegression(max_iter=1000)), ("b", LogisticRegression(C=0.1))],
        lam=0.0, temperature=None,
    ).fit(X_train, y_train)
    grid = [0.0, 1.0]
    disp = AdjustmentCurveDisplay.from_estimator(fusion, X_test, y_test, param_range=grid)
    for lam, score in zip(grid, disp.scores, strict=True):
        fusion.set_params(lam=lam)
        assert score == balanced_accuracy_score(y_test, fusion.predict(X_test))


def test_adjustment_curve_restores_param_when_scoring_fails(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    clf = LogitAdjuster(tau=0.7).fit(X_train, y_train)

    def broken(est, X, y):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        AdjustmentCurveDisplay.from_estimator(clf, X_test, y_test, param_name="tau",
                                              scoring=broken)
    assert clf.tau == 0.7


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"param_name": "source_prior"}, "is used at fit"),
        ({"param_name": "tau"}, "has no parameter 'tau'"),
        ({"param_range": []}, "non-empty 1-D array"),
        ({"param_range": [0, np.nan]}, "finite numbers"),
        ({"param_range": [-1, 1]}, "non-negative"),
        ({"scoring": 3}, "scoring must be a scorer name or a callable"),
        ({"tie_rule": "one"}, "tie_rule"),
    ],
)
def test_adjustment_curve_from_estimator_bad_input(long_tailed, kwargs, match):
    X_train, y_train, X_test, y_test = long_tailed
    clf = PriorShiftClassifier().fit(X_train, y_train)
    with pytest.raises(ValueError, match=match):
        AdjustmentCurveDisplay.from_estimator(clf, X_test, y_test, **kwargs)


def test_adjustment_curve_from_estimator_needs_fitted_model(long_tailed):
    _, _, X_test, y_test = long_tailed
    with pytest.raises(NotFittedError):
        AdjustmentCurveDisplay.from_estimator(PriorShiftClassifier(), X_test, y_test)


def test_adjustment_curve_from_grid_search_reads_folds(long_tailed):
    X_train, y_train, _, _ = long_tailed
    grid = np.linspace(0, 2, 5)[::-1]   # unsorted on purpose
    search = GridSearchCV(PriorShiftClassifier(LogisticRegression(max_iter=1000)),
                          {"lam": grid}, scoring="balanced_accuracy", cv=3).fit(X_train, y_train)
    disp = AdjustmentCurveDisplay.from_tuner(search)
    res = search.cv_results_
    order = np.argsort(np.asarray(res["param_lam"], dtype=float))
    np.testing.assert_array_equal(disp.param_range, np.sort(grid))
    np.testing.assert_allclose(disp.scores, res["mean_test_score"][order])
    np.testing.assert_allclose(disp.std, res["std_test_score"][order])
    folds = np.vstack([res[f"split{i}_test_score"][order] for i in range(3)])
    np.testing.assert_allclose(disp.fold_scores, folds)
    np.testing.assert_allclose(disp.fold_scores.std(axis=0), disp.std)
    assert disp.best_value == search.best_params_["lam"]
    assert disp.best_score == pytest.approx(search.best_score_)
    assert disp.band_ is not None and disp.param_name == "lam"


class _FakeTuner:
    """A fitted tuner with sklt's cv_results_ contract (keys of PriorShiftClassifierCV)."""

    scoring = "balanced_accuracy"

    def __init__(self, key, fold_scores, best):
        grid = np.linspace(0, 2, fold_scores.shape[1])
        self.cv_results_ = {
            key: grid,
            "scores": fold_scores,
            "mean_score": fold_scores.mean(axis=0),
            "std_score": fold_scores.std(axis=0),
        }
        setattr(self, f"best_{key[:-1]}_", grid[best])
        self.best_score_ = fold_scores.mean(axis=0)[best]


@pytest.mark.parametrize("key", ["lams", "taus"])
def test_adjustment_curve_from_sklt_cv_results_contract(key):
    rng = np.random.default_rng(0)
    fold_scores = rng.random((5, 7))
    tuner = _FakeTuner(key, fold_scores, best=3)
    disp = AdjustmentCurveDisplay.from_tuner(tuner, name="tuned")
    assert disp.param_name == key[:-1]
    np.testing.assert_allclose(disp.scores, fold_scores.mean(axis=0))
    np.testing.assert_allclose(disp.std, fold_scores.std(axis=0))
    assert disp.best_value == tuner.cv_results_[key][3]
    # the band spans mean ± std
    band = disp.band_.get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx((disp.scores - disp.std).min())
    assert band.max() == pytest.approx((disp.scores + disp.std).max())
    assert "tuned" in disp.ax_.get_legend_handles_labels()[1]


def test_adjustment_curve_from_real_sklt_tuner(long_tailed):
    tuning = pytest.importorskip("sklt.tuning")
    X_train, y_train, _, _ = long_tailed
    tuner = tuning.PriorShiftClassifierCV(LogisticRegression(max_iter=1000),
                                          lams=np.linspace(0, 2, 9), cv=3,
                                          store_cv_results=True).fit(X_train, y_train)
    disp = AdjustmentCurveDisplay.from_tuner(tuner, show_folds=True)
    np.testing.assert_allclose(disp.param_range, tuner.cv_results_["lams"])
    np.testing.assert_allclose(disp.scores, tuner.cv_results_["pooled_score"])  # the default
    np.testing.assert_allclose(disp.fold_scores, tuner.cv_results_["scores"])
    assert len(disp.fold_lines_) == 3
    np.testing.assert_allclose(disp.fold_lines_[1].get_ydata(), tuner.cv_results_["scores"][1])
    assert disp.best_value == tuner.best_lam_
    assert disp.best_score == pytest.approx(tuner.best_score_)
    assert disp.param_name == "lam"


def test_adjustment_curve_from_peak_search_draws_scored_values_only(long_tailed):
    tuning = pytest.importorskip("sklt.tuning")
    X_train, y_train, _, _ = long_tailed
    tuner = tuning.LogitAdjusterCV(LogisticRegression(max_iter=1000), taus=33, cv=2,
                                   search="peak", store_cv_results=True)
    tuner.fit(X_train, y_train)
    disp = AdjustmentCurveDisplay.from_tuner(tuner)
    scored = np.isfinite(disp.scores)
    assert scored.sum() == tuner.n_evaluations_ < 33
    np.testing.assert_allclose(disp.line_.get_xdata(), disp.param_range[scored])
    np.testing.assert_allclose(disp.line_.get_ydata(), disp.scores[scored])
    assert disp.best_value == tuner.best_tau_ and disp.param_name == "tau"


def test_adjustment_curve_plot_skips_unscored_values():
    disp = AdjustmentCurveDisplay([0.0, 0.5, 1.0, 1.5], [0.6, np.nan, 0.7, np.nan],
                                  std=[0.01, np.nan, 0.02, np.nan]).plot()
    np.testing.assert_array_equal(disp.line_.get_xdata(), [0.0, 1.0])
    band = disp.band_.get_paths()[0].vertices
    assert np.all(np.isfinite(band))


def test_adjustment_curve_from_tuner_bad_input(long_tailed):
    X_train, y_train, _, _ = long_tailed
    with pytest.raises(ValueError, match="has no cv_results_.*store_cv_results=True"):
        AdjustmentCurveDisplay.from_tuner(LogisticRegression())
    search = GridSearchCV(PriorShiftClassifier(), {"lam": [0, 1], "temperature": [1, 2]},
                          cv=2).fit(X_train, y_train)
    with pytest.raises(ValueError, match="varies several parameters"):
        AdjustmentCurveDisplay.from_tuner(search)
    with pytest.raises(ValueError, match="needs the others fixed"):
        AdjustmentCurveDisplay.from_tuner(search, param_name="lam")
    tuner = _FakeTuner("lams", np.ones((2, 3)), best=0)
    del tuner.cv_results_["std_score"]
    with pytest.raises(ValueError, match="lacks the keys"):
        AdjustmentCurveDisplay.from_tuner(tuner)


def test_adjustment_curve_plot_checks_shapes():
    with pytest.raises(ValueError, match="same length"):
        AdjustmentCurveDisplay([0, 1, 2], [0.5, 0.6]).plot()


@pytest.mark.parametrize(
    ("kwargs", "plot_kwargs", "error", "match"),
    [
        ({"std": [0.1, 0.1]}, {}, ValueError, r"std has shape \(2,\); expected \(3,\)"),
        ({"fold_scores": np.ones((2, 2))}, {}, ValueError, "fold_scores has shape"),
        ({"best_value": "x"}, {}, ValueError, "best_value must be a number"),
        ({"best_score": [1]}, {}, ValueError, "best_score must be a number"),
        ({}, {"ax": "ax"}, TypeError, "ax must be a matplotlib Axes"),
        ({"param_name": 3}, {}, ValueError, "param_name must be a string"),
    ],
)
def test_adjustment_curve_plot_bad_input(kwargs, plot_kwargs, error, match):
    disp = AdjustmentCurveDisplay([0, 1, 2], [0.5, 0.6, 0.55], **kwargs)
    with pytest.raises(error, match=match):
        disp.plot(**plot_kwargs)


def test_adjustment_curve_rejects_fusion_temperature_fixed_at_fit(long_tailed):
    from sklt import NoisyOrFusionClassifier

    X_train, y_train, X_test, y_test = long_tailed
    fusion = NoisyOrFusionClassifier(
        [("a", LogisticRegression(max_iter=1000)), ("b", LogisticRegression(C=0.1))],
        temperature=1.0,
    ).fit(X_train, y_train)
    with pytest.raises(ValueError, match="temperature' is used at fit.*only 'lam' acts"):
        AdjustmentCurveDisplay.from_estimator(fusion, X_test, y_test, param_name="temperature")


def test_adjustment_curve_from_estimator_chooses_like_the_frozen_tuner(long_tailed):
    from sklt import LogitAdjusterCV

    X_train, y_train, X_test, y_test = long_tailed
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    prior = np.bincount(y_train) / len(y_train)
    clf = LogitAdjuster(FrozenEstimator(model), source_prior=prior).fit(X_test, y_test)
    disp = AdjustmentCurveDisplay.from_estimator(clf, X_test, y_test, param_name="tau",
                                                 show_folds=True)
    tuner = LogitAdjusterCV(FrozenEstimator(model), source_prior=prior, selection="score",
                            store_cv_results=True).fit(X_test, y_test)
    np.testing.assert_allclose(disp.param_range, tuner.taus_)
    np.testing.assert_allclose(disp.scores, tuner.cv_results_["pooled_score"])
    np.testing.assert_allclose(disp.fold_scores, tuner.cv_results_["scores"])
    assert disp.best_value == tuner.best_tau_
    assert len(disp.fold_lines_) == 5


def test_adjustment_curve_from_estimator_warns_for_an_edge_of_a_given_range(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    clf = LogitAdjuster().fit(X_train, y_train)
    with pytest.warns(UserWarning, match=r"smallest value of param_range \(1.5\)"):
        AdjustmentCurveDisplay.from_estimator(clf, X_test, y_test, param_name="tau",
                                              param_range=[1.5, 2.0, 2.5, 3.0])


# --------------------------------------------------------------------------------------
# ClassAccuracyDisplay
# --------------------------------------------------------------------------------------


def test_class_accuracy_matches_recall_and_orders_by_training_count(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    plain = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    adjusted = LogitAdjuster(plain).fit(X_train, y_train)
    preds = {"plain": plain.predict(X_test), "adjusted": adjusted.predict(X_test)}
    disp = ClassAccuracyDisplay.from_predictions(y_test, preds, y_train=y_train)
    np.testing.assert_array_equal(disp.classes, [0, 1, 2, 3])   # counts 400 > 120 > 40 > 10
    np.testing.assert_array_equal(disp.train_counts, [400, 120, 40, 10])
    for name, pred in preds.items():
        expected = recall_score(y_test, pred, average=None, labels=disp.classes)
        np.testing.assert_allclose(disp.accuracies[name], expected)
        np.testing.assert_allclose(disp.lines_[name].get_ydata(), expected)
        np.testing.assert_array_equal(disp.lines_[name].get_xdata(), disp.train_counts)
    assert set(disp.bands_) == {"many", "medium", "few"}
    assert disp.ax_.get_xscale() == "log"
    assert disp.ax_.get_legend_handles_labels()[1] == ["plain", "adjusted"]


def test_class_accuracy_group_means_agree_with_shot_accuracy(long_tailed):
    metrics = pytest.importorskip("sklt.metrics")
    X_train, y_train, X_test, y_test = long_tailed
    pred = LogisticRegression(max_iter=1000).fit(X_train, y_train).predict(X_test)
    disp = ClassAccuracyDisplay.from_predictions(y_test, pred, y_train=y_train)
    shots = metrics.shot_accuracy(y_test, pred, y_train=y_train)
    acc = disp.accuracies["Classifier"]
    assert shots["many"] == pytest.approx(acc[disp.train_counts > 100].mean())
    assert shots["medium"] == pytest.approx(
        acc[(disp.train_counts >= 20) & (disp.train_counts <= 100)].mean()
    )
    assert shots["few"] == pytest.approx(acc[disp.train_counts < 20].mean())


def test_class_accuracy_from_estimator_dict_list_and_single(long_tailed):
    X_train, y_train, X_test, y_test = long_tailed
    plain = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    adjusted = LogitAdjuster(plain).fit(X_train, y_train)
    counts = {0: 400, 1: 120, 2: 40, 3: 10}
    by_dict = ClassAccuracyDisplay.from_estimator({"a": plain, "b": adjusted}, X_test, y_test,
                                                  train_counts=counts)
    by_list = ClassAccuracyDisplay.from_estimator([plain, adjusted], X_test, y_test,
                                                  train_counts=counts)
    single = ClassAccuracyDisplay.from_estimator(adjusted, X_test, y_test,
                                                 train_counts=counts)
    assert list(by_list.accuracies) == ["LogisticRegression", "LogitAdjuster"]
    np.testing.assert_array_equal(by_dict.accuracies["b"], by_list.accuracies["LogitAdjuster"])
    np.testing.assert_array_equal(single.accuracies["LogitAdjuster"], by_dict.accuracies["b"])
    twice = ClassAccuracyDisplay.from_estimator([plain, plain], X_test, y_test,
                                                train_counts=counts)
    assert list(twice.accuracies) == ["LogisticRegression 1", "LogisticRegression 2"]


def test_class_accuracy_train_counts_spellings_agree():
    y_true = np.array(["x", "y", "y", "z", "z", "z"])
    y_pred = np.array(["x", "y", "x", "z", "x", "x"])
    y_train = ["x"] * 300 + ["y"] * 30 + ["z"] * 3
    a = ClassAccuracyDisplay.from_predictions(y_true, y_pred, y_train=y_train)
    b = ClassAccuracyDisplay.from_predictions(y_true, y_pred,
                                              train_counts={"x": 300, "y": 30, "z": 3})
    c = ClassAccuracyDisplay.from_predictions(y_true, y_pred, train_counts=[3, 300, 30],
                                              labels=["z", "x", "y"])
    for d in (b, c):
        np.testing.assert_array_equal(d.classes, a.classes)
        np.testing.assert_array_equal(d.train_counts, a.train_counts)
        np.testing.assert_array_equal(d.accuracies["Classifier"], a.accuracies["Classifier"])
    np.testing.assert_allclose(a.accuracies["Classifier"], [1, 0.5, 1 / 3])


def test_class_accuracy_sample_weight_and_unseen_class():
    y_true = np.array([0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0])
    disp = ClassAccuracyDisplay.from_predictions(y_true, y_pred, y_train=[0] * 50 + [1] * 5,
                                                 sample_weight=[3, 1, 1, 1, 1])
    np.testing.assert_allclose(disp.accuracies["Classifier"], [0.75, 1.0, 0.0])
    assert disp.train_counts[-1] == 0   # class 2 never seen in training: few-shot
    assert np.all(disp.lines_["Classifier"].get_xdata() > 0)   # drawable on a log axis


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"train_counts": {0: 5, 1: 5}, "y_train": [0, 1]}, "exactly one of train_counts"),
        ({}, "exactly one of train_counts"),
        ({"train_counts": {0: 5}}, r"train_counts must give the training count of every class"),
        ({"train_counts": [5, 5]}, "pass labels"),
        ({"train_counts": [5, 5], "labels": [0]}, "must be aligned"),
        ({"train_counts": {0: -1, 1: 3}}, "non-negative"),
        ({"y_train": [0, 1], "few_threshold": 200}, "must not exceed many_threshold"),
        ({"y_train": [0, 1], "many_threshold": 0}, "must be a positive number"),
        ({"y_train": [0, 1], "y_pred": {}}, "empty dict"),
    ],
)
def test_class_accuracy_bad_input(kwargs, match):
    args = {"y_true": [0, 1, 1], "y_pred": [0, 1, 0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ClassAccuracyDisplay.from_predictions(**args)


def test_class_accuracy_inconsistent_lengths():
    with pytest.raises(ValueError, match="y_true has 3 samples but y_pred has 2"):
        ClassAccuracyDisplay.from_predictions([0, 1, 1], [0, 1], y_train=[0, 1])


def test_class_accuracy_plot_name_override_and_bad_name():
    disp = ClassAccuracyDisplay(np.array([0, 1]), np.array([200.0, 10.0]),
                                {"m": np.array([0.9, 0.2])})
    disp.plot(name="renamed", bands=False)
    assert disp.ax_.get_legend_handles_labels()[1] == ["renamed"]
    assert disp.bands_ == {}
    with pytest.raises(ValueError, match="name has 2 entries for 1 models"):
        disp.plot(name=["a", "b"])


def test_displays_draw_on_a_given_axes():
    fig, axes = plt.subplots(1, 3)
    r = ReliabilityDisplay.from_predictions([0, 1], [[0.7, 0.3], [0.2, 0.8]], ax=axes[0])
    a = AdjustmentCurveDisplay([0, 1], [0.5, 0.6]).plot(ax=axes[1])
    c = ClassAccuracyDisplay.from_predictions([0, 1], [0, 0], y_train=[0, 0, 1], ax=axes[2])
    assert (r.ax_, a.ax_, c.ax_) == tuple(axes)
    assert r.figure_ is a.figure_ is c.figure_ is fig
    fig.canvas.draw()   # renders without error
