"""
=================================================
Label shift at deployment: estimate the new prior
=================================================

A model trained on long-tailed data is deployed where the class mix is
different — and unknown, because nobody labels the deployment data. Under
label shift (the classes look the same, only their frequencies change) the new
prior can be estimated from the unlabelled deployment data with
:func:`sklt.label_shift.estimate_target_prior` (EM of Saerens et al. 2002, or
BBSE of Lipton et al. 2018), then passed to :class:`sklt.PriorShiftClassifier`
as ``target_prior``. We follow the shifted-test protocol of Hong et al. 2021
(§4.3, Table 6): test sets whose class counts follow the training skew
("forward"), are uniform, or follow the reversed skew ("backward").
"""

# %%
# Long-tailed training data
# -------------------------
# Eight classes, training counts from 1000 to 20 (imbalance ratio 50); a
# labelled validation set of the same size and distribution (for BBSE).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from sklt import PriorShiftClassifier
from sklt.label_shift import estimate_target_prior
from sklt.priors import long_tail_counts

K = 8
X, y = make_classification(n_samples=48_000, n_classes=K, n_features=10, n_informative=8,
                           n_clusters_per_class=1, class_sep=1.0, random_state=0)
rng = np.random.default_rng(0)
pools = [list(rng.permutation(np.flatnonzero(y == c))) for c in range(K)]


def draw(counts):
    idx = np.concatenate([[pools[c].pop() for _ in range(n)] for c, n in enumerate(counts)])
    return X[idx], y[idx]


train_counts = long_tail_counts(1000, K, imbalance_ratio=50)
X_train, y_train = draw(train_counts)
X_val, y_val = draw(train_counts)
print("training counts:", train_counts)

# %%
# One model, corrected for whatever prior the deployment has
# ----------------------------------------------------------
# The model is trained once; re-targeting it is a ``PriorShiftClassifier``
# around the frozen model (no refit), with the training prior as source.
model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
train_prior = train_counts / train_counts.sum()


def retarget(target_prior):
    return PriorShiftClassifier(FrozenEstimator(model), source_prior=train_prior,
                                target_prior=target_prior).fit(X_val, y_val)


plain = retarget(train_prior)          # lam=1 from p_s to p_s: the model as trained
uniform = retarget("uniform")          # the usual long-tail correction

# %%
# Shifted test sets
# -----------------
# Forward-rho keeps ``int(n_max * rho ** (-i / (K - 1)))`` test samples of the
# i-th most frequent training class, backward-rho the reversed order. EM runs on
# the posteriors of the model as trained; BBSE on the decisions of the
# uniform-target corrector (a balanced classifier conditions its confusion
# matrix better). When finite-sample noise makes BBSE's solution negative for a
# class with very few target samples, it clips it to zero and warns; we silence
# that warning here.
warnings.filterwarnings("ignore", message="BBSE gave negative prior entries")
shifts = [("forward", 50), ("forward", 10), ("forward", 2), ("uniform", 1),
          ("backward", 2), ("backward", 10), ("backward", 50)]
methods = ["as trained", "uniform target", "EM estimate", "BBSE estimate", "true prior"]
accuracy = {m: [] for m in methods}
estimates = {}
for direction, rho in shifts:
    counts = long_tail_counts(500, K, imbalance_ratio=rho)
    counts = counts[::-1] if direction == "backward" else counts
    X_t, y_t = draw(counts)
    p_em = estimate_target_prior(plain, X_t, method="em")
    p_bbse = estimate_target_prior(uniform, X_t, method="bbse", X_val=X_val, y_val=y_val)
    p_true = counts / counts.sum()
    estimates[(direction, rho)] = (p_true, p_em, p_bbse)
    for name, clf in zip(methods, [plain, uniform, retarget(p_em), retarget(p_bbse),
                                   retarget(p_true)], strict=True):
        accuracy[name].append(np.mean(clf.predict(X_t) == y_t))

labels = [{"forward": "fwd", "backward": "bwd"}.get(d, d) + (f" {r}" if r > 1 else "")
          for d, r in shifts]
fig, ax = plt.subplots(figsize=(8, 4.5))
for name, marker in zip(methods, "osD^*", strict=True):
    ax.plot(labels, accuracy[name], marker=marker, label=name)
ax.set(xlabel="test class distribution (direction, imbalance ratio)", ylabel="accuracy",
       title="Accuracy under label shift")
ax.legend()
fig.tight_layout()

# %%
# With the training skew (forward) the uncorrected model is already right and
# the uniform correction hurts; with the reversed skew (backward) it is the
# other way round. Estimating the prior from the unlabelled test set works in
# every direction: it matches the oracle under forward shift, costs a few points
# where the test set is in fact uniform (estimation noise), and recovers most of
# the gap under backward shift. The gap that remains is largest for the most
# extreme shift, where the rarest training classes dominate the test set and
# their posteriors are the least reliable.
for name in methods:
    print(f"{name:>15}: " + "  ".join(f"{a:.3f}" for a in accuracy[name]))

# %%
# The estimates themselves, for the backward-50 test set.
p_true, p_em, p_bbse = estimates[("backward", 50)]
fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.27
classes = np.arange(K)
ax.bar(classes - width, p_true, width, label="true")
ax.bar(classes, p_em, width, label="EM")
ax.bar(classes + width, p_bbse, width, label="BBSE")
ax.bar(classes, train_prior, width=0.8, fill=False, linestyle="--", edgecolor="grey",
       label="training prior")
ax.set(xlabel="class (most to least frequent in training)", ylabel="prior",
       title="Target prior of the backward-50 test set")
ax.legend()
fig.tight_layout()
