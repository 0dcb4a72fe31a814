"""
=====================================================
Tuning λ on a validation set: the FrozenEstimator way
=====================================================

The papers sklt implements train a network once and tune the strength of the
prior correction afterwards, on a validation set (Tian et al. 2020, §3.2.3;
Menon et al. 2021). In scikit-learn terms the trained model is a
:class:`~sklearn.frozen.FrozenEstimator`: wrapping it in
:class:`sklt.PriorShiftClassifier` and searching ``lam`` with
:class:`~sklearn.model_selection.GridSearchCV`, or with sklt's
:class:`sklt.PriorShiftClassifierCV`, never refits it. Tian et al. observe
that the validation score is concave in ``lam`` (their Fig. 2);
:class:`sklt.plotting.AdjustmentCurveDisplay` draws that curve.
"""

# %%
# A long-tailed training set
# --------------------------
# Eight classes whose training counts fall from 800 to 16 (imbalance ratio 50);
# the validation and test sets are balanced, as in the papers.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV

from sklt import PriorShiftClassifier, PriorShiftClassifierCV
from sklt.plotting import AdjustmentCurveDisplay
from sklt.priors import long_tail_counts

n_classes = 8
X, y = make_classification(n_samples=16_000, n_classes=n_classes, n_features=12,
                           n_informative=8, n_clusters_per_class=1, class_sep=1.0,
                           random_state=0)
rng = np.random.default_rng(0)
counts = long_tail_counts(800, n_classes, imbalance_ratio=50)
order = rng.permutation(len(y))
X, y = X[order], y[order]
train = np.concatenate([np.flatnonzero(y == c)[:n] for c, n in enumerate(counts)])
rest = np.setdiff1d(np.arange(len(y)), train)
val = np.concatenate([rest[y[rest] == c][:150] for c in range(n_classes)])
test = np.concatenate([rest[y[rest] == c][150:450] for c in range(n_classes)])
X_train, y_train = X[train], y[train]
X_val, y_val, X_test, y_test = X[val], y[val], X[test], y[test]
print("training counts:", counts)

# %%
# Train once, freeze
# ------------------
# The model is trained the usual way. ``FrozenEstimator`` marks it as already
# fitted; the corrector's ``source_prior`` is the training prior (the
# validation set is balanced, so "auto" would be wrong here).
model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
train_prior = counts / counts.sum()
corrector = PriorShiftClassifier(FrozenEstimator(model), source_prior=train_prior)

# %%
# Search ``lam`` on the validation set
# ------------------------------------
# Cross-validation over the *validation* set only scores: every "fit" reuses the
# frozen model. The band is the spread over the five folds.
lams = np.linspace(0, 2, 21)
search = GridSearchCV(corrector, {"lam": lams}, scoring="balanced_accuracy", cv=5)
search.fit(X_val, y_val)

fig, ax = plt.subplots(figsize=(6, 4))
AdjustmentCurveDisplay.from_tuner(search, name="validation (5 folds)", ax=ax)
ax.set_title("Balanced accuracy against the rebalancing strength")
print(f"chosen lam = {search.best_params_['lam']:.2f}")

# %%
# The same search with ``PriorShiftClassifierCV``
# -----------------------------------------------
# sklt's tuner computes each fold's held-out log-scores once and sweeps the
# whole grid on them, instead of scoring one candidate estimator per value.
# With ``cv_score="mean", tie_rule=None`` it follows GridSearchCV's rule and,
# on the same folds, finds the same curve and the same ``lam``. Its default
# scores each value once on all folds' held-out predictions pooled, and among
# the values within one standard error of the best it keeps the one closest
# to 1 (see :ref:`tuning`).
same_rule = PriorShiftClassifierCV(FrozenEstimator(model), lams=lams, cv=5,
                                   source_prior=train_prior, cv_score="mean",
                                   tie_rule=None, store_cv_results=True).fit(X_val, y_val)
gap = np.abs(same_rule.cv_results_["mean_score"] - search.cv_results_["mean_test_score"]).max()
print(f"GridSearchCV's rule: lam = {same_rule.best_lam_:.2f} (GridSearchCV: "
      f"{search.best_params_['lam']:.2f}); largest difference of the mean scores: {gap:.1e}")

tuner = PriorShiftClassifierCV(FrozenEstimator(model), lams=lams, cv=5,
                               source_prior=train_prior, store_cv_results=True)
tuner.fit(X_val, y_val)
fig, ax = plt.subplots(figsize=(6, 4))
AdjustmentCurveDisplay.from_tuner(tuner, name="pooled (default)", ax=ax, show_folds=True)
print(f"default rule: lam = {tuner.best_lam_:.2f}")

# %%
# The same curve on the test set
# ------------------------------
# ``AdjustmentCurveDisplay.from_estimator`` sets ``lam`` on a *fitted*
# corrector and scores it, value by value. On the test set it shows how close
# the validation choice is to the best strength in hindsight.
fitted = search.best_estimator_
fig, ax = plt.subplots(figsize=(6, 4))
disp = AdjustmentCurveDisplay.from_estimator(fitted, X_test, y_test, param_range=lams,
                                             tie_rule=None, name="test set", ax=ax)
ax.axvline(search.best_params_["lam"], color="grey", linestyle=":",
           label="chosen on validation")
ax.legend()

uncorrected = balanced_accuracy_score(y_test, model.predict(X_test))
corrected = balanced_accuracy_score(y_test, fitted.predict(X_test))
print(f"test balanced accuracy: uncorrected {uncorrected:.3f}, "
      f"lam={fitted.lam:.2f} {corrected:.3f}, best in hindsight {disp.best_score:.3f}")

# %%
# The frozen model was trained once: the very same fitted object sits
# inside the chosen candidate of the search.
assert search.best_estimator_.estimator_.estimator is model
