"""
============================================================
Per-class decision offsets for macro-F1 on a long-tailed set
============================================================

Logit adjustment moves all classes along one line, ``-tau * log p_s``: the
Bayes rule for the balanced error of a calibrated model. Other metrics want
other trade-offs. :class:`sklt.ClassOffsetClassifierCV` learns one offset per
class, ``argmax_y z_y(x) + b_y``, for the metric you name, from held-out
scores of a cross-validation (one fit per fold), starting from logit
adjustment and regularised towards it. This example tunes it for macro-F1 on
Digits-LT at an imbalance ratio of 100, compares it with
:class:`sklt.LogitAdjusterCV` tuned for the same metric, and shows what moved:
per-class recall before and after, and the learned offsets against
``log p_s``. The last sections show the binary case (one threshold on the
log-odds, as :class:`~sklearn.model_selection.TunedThresholdClassifierCV`)
and a cost matrix.
"""

# %%
# Digits-LT, imbalance ratio 100
# ------------------------------
# Ten classes whose training counts fall from 124 to 1; the test set is
# balanced (50 per class).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score

from sklt import ClassOffsetClassifierCV, LogitAdjuster, LogitAdjusterCV
from sklt.datasets import load_digits_lt

warnings.simplefilter("ignore", UserWarning)  # the single-sample class is never held out

data = load_digits_lt(imbalance_ratio=100, n_test_per_class=50, random_state=0)
X_train, y_train = data.X_train / 16, data.y_train
X_test, y_test = data.X_test / 16, data.y_test
print("training counts:", data.train_counts)

# %%
# Decision rules on one model
# ---------------------------
# Each fits the logistic regression once per fold (5 tail-safe folds: every
# training fold holds every class) and once more on all the data. The test set
# is balanced, and macro-F1 depends on the class prior of the data it is
# measured on (through precision): ``target_prior="uniform"`` scores the
# held-out samples as if their classes were balanced. ``LogitAdjusterCV``
# scores them as they are; so does the offsets search without it.
model = LogisticRegression(max_iter=2000)
rules = {
    "plain (argmax)": LogitAdjuster(model, tau=0.0),
    "logit adjustment, tau=1": LogitAdjuster(model, tau=1.0),
    "LogitAdjusterCV": LogitAdjusterCV(model, scoring="f1_macro"),
    "offsets": ClassOffsetClassifierCV(model, scoring="f1_macro", random_state=0),
    "offsets, target_prior=uniform": ClassOffsetClassifierCV(
        model, scoring="f1_macro", target_prior="uniform", random_state=0),
    "offsets, target_prior=uniform, alpha=0": ClassOffsetClassifierCV(
        model, scoring="f1_macro", target_prior="uniform", alpha=0.0, random_state=0),
}
recalls = {}
for name, rule in rules.items():
    pred = rule.fit(X_train, y_train).predict(X_test)
    recalls[name] = np.array([np.mean(pred[y_test == c] == c) for c in range(10)])
    print(f"{name:<40} macro-F1 {f1_score(y_test, pred, average='macro'):.3f}  "
          f"balanced accuracy {balanced_accuracy_score(y_test, pred):.3f}")
offsets = rules["offsets, target_prior=uniform"]
print(f"chosen alpha = {offsets.alpha_:g}, start tau = {offsets.init_tau_:.1f}; held-out "
      f"macro-F1 (balanced) {offsets.init_score_:.3f} at the start, "
      f"{offsets.best_score_:.3f} after the search")

# %%
# What moved
# ----------
# Left: test recall of each class, from the most to the least frequent in
# training. Right: the learned offsets against ``log p_s`` (both centred:
# offsets are defined up to a constant). Logit adjustment puts every class on
# a line of slope ``-tau``; the per-class search moves classes off it where the
# held-out macro-F1 gains. Without the penalty (``alpha=0``) the classes with
# one to three held-out samples move furthest, on the evidence of those few
# samples; the penalty chosen by cross-validation keeps them nearer the line.
shown = ["plain (argmax)", "LogitAdjusterCV", "offsets, target_prior=uniform"]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
width = 0.27
for i, name in enumerate(shown):
    ax1.bar(np.arange(10) + (i - 1) * width, recalls[name], width, label=name)
ax1.set_xticks(np.arange(10), [f"{c}\n({n})" for c, n in zip(range(10), data.train_counts,
                                                              strict=True)])
ax1.set_xlabel("class (training count)")
ax1.set_ylabel("test recall")
ax1.set_ylim(0, 1.05)
ax1.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)


def centred(v):
    return v - v.mean()


log_p = centred(np.log(offsets.source_prior_))
line = np.linspace(log_p.min(), log_p.max(), 2)
ax2.plot(line, -line, color="grey", linestyle=":", label="logit adjustment, tau=1")
ax2.plot(line, -offsets.init_tau_ * line, color="tab:green",
         label=f"start: tau={offsets.init_tau_:.1f}")
free = rules["offsets, target_prior=uniform, alpha=0"]
ax2.scatter(log_p, centred(free.offsets_), facecolors="none", edgecolors="tab:blue",
            label="learned, alpha=0")
ax2.scatter(log_p, centred(offsets.offsets_), color="tab:red", zorder=3,
            label=f"learned, alpha={offsets.alpha_:g} (chosen)")
for c in range(10):
    ax2.annotate(str(c), (log_p[c], centred(offsets.offsets_)[c]), textcoords="offset points",
                 xytext=(4, 4))
ax2.set_xlabel("log p_s (centred)")
ax2.set_ylabel("offset b (centred)")
ax2.legend(fontsize=7)
fig.tight_layout()

# %%
# Binary: one threshold on the log-odds
# -------------------------------------
# With two classes only ``b_1 - b_0`` matters: a threshold on the model's
# log-odds, searched exactly over the held-out scores. scikit-learn's
# :class:`~sklearn.model_selection.TunedThresholdClassifierCV` searches a grid
# of probability thresholds instead (give it a fine log-spaced one for
# over-confident models).
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV

Xb, yb = make_classification(n_samples=4000, weights=[0.97], flip_y=0.01, random_state=0)
Xb_train, yb_train, Xb_test, yb_test = Xb[:2000], yb[:2000], Xb[2000:], yb[2000:]
trees = HistGradientBoostingClassifier(max_iter=30, random_state=0)
cv = StratifiedKFold(5, shuffle=True, random_state=0)
grid = np.unique(np.r_[np.logspace(-6, np.log10(0.5), 200),
                       1 - np.logspace(np.log10(0.5), -6, 200)])
ttcv = TunedThresholdClassifierCV(trees, scoring="f1", cv=cv, thresholds=grid)
binary = ClassOffsetClassifierCV(trees, scoring="f1", cv=cv, random_state=0)
for name, clf in [("TunedThresholdClassifierCV", ttcv), ("ClassOffsetClassifierCV", binary)]:
    clf.fit(Xb_train, yb_train)
    print(f"{name:<27} test F1 {f1_score(yb_test, clf.predict(Xb_test)):.3f}")
threshold = binary.offsets_[0] - binary.offsets_[1]
print(f"learned log-odds threshold {threshold:.2f} "
      f"(probability {1 / (1 + np.exp(-threshold)):.4f}); "
      f"TunedThresholdClassifierCV: {ttcv.best_threshold_:.4f}")

# %%
# A cost matrix
# -------------
# ``cost_matrix[i, j]`` is the cost of predicting class ``j`` for class ``i``.
# When it depends on the true class only, the Bayes decision is
# ``argmax_j c_j P(j|x)``: offsets ``log c``. Here missing a digit 9 costs
# twenty times more than any other error; the search starts from those offsets
# and minimises the mean held-out cost.
cost = np.ones((10, 10)) - np.eye(10)
cost[9] *= 20
costly = ClassOffsetClassifierCV(model, cost_matrix=cost, random_state=0).fit(X_train, y_train)
pred = costly.predict(X_test)
plain = rules["plain (argmax)"].predict(X_test)
print(f"mean test cost: plain {cost[y_test, plain].mean():.3f}, "
      f"offsets {cost[y_test, pred].mean():.3f}; recall of class 9: plain "
      f"{np.mean(plain[y_test == 9] == 9):.2f}, offsets {np.mean(pred[y_test == 9] == 9):.2f}")
plt.show()
