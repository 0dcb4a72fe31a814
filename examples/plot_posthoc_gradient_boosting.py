"""
=================================================
Post-hoc correction of gradient boosting
=================================================

A gradient-boosting model trained on long-tailed data predicts the frequent
classes too often. :class:`sklt.LogitAdjuster` corrects its posteriors for the
training prior after training (Menon et al. 2021, eq. 9); ``tau`` sets how far.
We compare balanced accuracy on a balanced test set over a range of ``tau``.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklt import LogitAdjuster
from sklt.priors import long_tail_counts

# %%
# A long-tailed training set: 6 classes, imbalance ratio 50.
X, y = make_classification(n_samples=12_000, n_classes=6, n_informative=8,
                           n_clusters_per_class=1, class_sep=0.9, random_state=0)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=0)
counts = long_tail_counts(1200, 6, imbalance_ratio=50)
rng = np.random.default_rng(0)
train_idx = np.concatenate(
    [rng.choice(np.flatnonzero(y_pool == c), n, replace=False) for c, n in enumerate(counts)]
)
X_train, y_train = X_pool[train_idx], y_pool[train_idx]
print("training counts:", counts)

# %%
# Train once; the correction needs no refit, so we freeze the model and sweep tau.
model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X_train, y_train)
taus = np.linspace(0, 2, 11)
scores = []
for tau in taus:
    clf = LogitAdjuster(FrozenEstimator(model), tau=tau,
                        source_prior=counts / counts.sum()).fit(X_train, y_train)
    scores.append(balanced_accuracy_score(y_test, clf.predict(X_test)))

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(taus, scores, marker="o")
ax.axhline(scores[0], color="grey", linestyle="--", label="uncorrected")
ax.set_xlabel(r"$\tau$")
ax.set_ylabel("balanced accuracy (balanced test set)")
ax.legend()
fig.tight_layout()
print(f"uncorrected: {scores[0]:.3f}, tau=1: {scores[5]:.3f}, best: {max(scores):.3f}")
