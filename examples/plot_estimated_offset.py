"""
=====================================================
Empirical and estimated offsets of a linear head
=====================================================

Kim et al. (paper 001) observe that a network trained with cross-entropy on
long-tailed data has *empirical offsets* ``1/2 mu_k . w_k`` (``mu_k`` the mean
feature of class ``k``, ``w_k`` its classifier weights) that follow the class
frequencies (their Fig. 1 c): the head classes get a larger term, which acts
as a penalty on the tail. Their estimated-offset head subtracts a learnable
offset ``1/2 c_k . w_k`` and, with the uniform constraint, keeps it the same
for every class (their Fig. 3). We reproduce both diagnostics with
:func:`sklt.nn.offset.empirical_offsets` and
:func:`sklt.nn.offset.estimated_offsets` on a long-tailed version of the
scikit-learn digits.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklt.nn import EstimatedOffsetHead, LongTailClassifier
from sklt.nn.offset import empirical_offsets, estimated_offsets
from sklt.priors import long_tail_counts

torch.set_num_threads(1)

# %%
# Long-tailed digits: 10 classes, 120 training images of class 0 down to 3 of
# class 9 (imbalance ratio 40); the test set keeps the rest, about balanced.
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=0)
counts = long_tail_counts(120, 10, imbalance_ratio=40)
rng = np.random.default_rng(0)
keep = np.concatenate([rng.choice(np.flatnonzero(y_pool == c), n, replace=False)
                       for c, n in enumerate(counts)])
X_train, y_train = X_pool[keep], y_pool[keep]
print("training counts:", np.bincount(y_train))

# %%
# A network trained with cross-entropy (an MLP with a bias in its last layer),
# and the same trunk with the estimated-offset head, with and without the
# uniform constraint (``lambda_uniform``).
common = dict(max_epochs=60, lr=3e-3, batch_size=32, random_state=0)
ce = LongTailClassifier(module__hidden_units=(32,), **common).fit(X_train, y_train)
nets = {"CE": ce}
for lam in (0.0, 1.0):
    nets[f"estimated offset, lambda_uniform={lam:g}"] = LongTailClassifier(
        module=EstimatedOffsetHead, module__hidden_units=(32,), criterion="estimated_offset",
        criterion__lambda_center=0.1, criterion__lambda_uniform=lam, **common,
    ).fit(X_train, y_train)
for name, net in nets.items():
    score = balanced_accuracy_score(y_test, net.predict(X_test))
    print(f"{name:38s} balanced accuracy {score:.3f}")

# %%
# Offsets per class, classes sorted from head (0) to tail (9). Only the
# differences between classes matter: adding a constant to every offset does
# not change the softmax.
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharex=True)
classes = np.arange(10)
for ax, (name, net) in zip(axes, nets.items(), strict=True):
    emp = empirical_offsets(net, X_train, y_train)
    ax.plot(classes, emp - emp.mean(), "o-", label="empirical ½ μ·w")
    if isinstance(net.module_, EstimatedOffsetHead):
        est = estimated_offsets(net)
        ax.plot(classes, est - est.mean(), "s--", label="estimated ½ c·w")
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("class (head → tail)")
axes[0].set_ylabel("offset − mean over classes")
axes[-1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %%
# What the plots show on this small problem: the cross-entropy network's
# empirical offsets decrease from head to tail, as in 001 Fig. 1 c. Without
# the uniform constraint the estimated offsets track the empirical ones (the
# learnt centres follow the class means), as 001 Fig. 3 says they should. The
# uniform constraint makes the estimated offsets equal, but here the empirical
# offsets of the tail classes stay lower: the features of the rare classes are
# not pulled to the same ``mu_k . w_k`` (001 Fig. 3 shows both flat on its
# large data sets). On these 347 training images neither variant beats plain
# cross-entropy in balanced accuracy; ``benchmarks/bench_training_methods.py``
# measures the method on long-tailed MNIST-1D.
