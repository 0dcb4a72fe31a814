"""
=======================================================
Training a neural network with LADE (on a CPU or a GPU)
=======================================================

:class:`sklt.nn.LongTailClassifier` is a skorch classifier whose loss is a
hyperparameter. We train the same small MLP on long-tailed digits with the
plain cross-entropy, the logit-adjusted loss (Menon et al. 2021, eq. 10) and
LADE (Hong et al. 2021, eq. 15-20), and compare where their accuracy goes and
how well their probabilities are calibrated.

This example trains on the CPU in a few seconds. On a machine with a GPU,
``device="cuda"`` is the only change; the class-prior buffers of the losses
move with the network.
"""

# %%
# Long-tailed digits
# ------------------
# scikit-learn's 8×8 digits, with training counts falling from 120 to 6
# (imbalance ratio 20); the rest of the images, 40 per class, form a balanced
# test set.
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score

from sklt.nn import LongTailClassifier
from sklt.plotting import ClassAccuracyDisplay, ReliabilityDisplay
from sklt.priors import long_tail_counts

torch.set_num_threads(1)   # the documentation is built on small machines
X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
rng = np.random.default_rng(0)
order = rng.permutation(len(y))
X, y = X[order], y[order]
counts = long_tail_counts(120, 10, imbalance_ratio=20)
test = np.concatenate([np.flatnonzero(y == c)[:40] for c in range(10)])
pool = np.setdiff1d(np.arange(len(y)), test)
train = np.concatenate([pool[y[pool] == c][:n] for c, n in enumerate(counts)])
X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
print("training counts:", counts)

# %%
# Three losses, one network
# -------------------------
# LADE's ``alpha`` weighs its regulariser (the paper uses 0.1 on CIFAR-100-LT).
# Change ``device="cpu"`` to ``device="cuda"`` to train on a GPU.
common = dict(max_epochs=40, lr=0.01, batch_size=64, module__hidden_units=(128,),
              random_state=0, device="cpu")
nets = {
    "cross-entropy": LongTailClassifier(criterion="cross_entropy", **common),
    "logit-adjusted loss": LongTailClassifier(criterion="logit_adjusted", **common),
    "LADE": LongTailClassifier(criterion="lade", criterion__alpha=0.1, **common),
}
for name, net in nets.items():
    net.fit(X_train, y_train)
    score = balanced_accuracy_score(y_test, net.predict(X_test))
    print(f"{name:>20}: balanced accuracy {score:.3f}")

# %%
# Which classes gain
# ------------------
# The logit-adjusted loss and LADE both predict for a uniform prior: their
# accuracy on the rare digits rises, at a small cost on the frequent ones.
disp = ClassAccuracyDisplay.from_estimator(nets, X_test, y_test, y_train=y_train)
disp.figure_.set_size_inches(7, 4.5)
disp.ax_.set_title("Per-class accuracy on a balanced test set")

# %%
# Calibration
# -----------
# Hong et al. (Fig. 4) report that LADE's regulariser also improves
# calibration. With so few test samples the diagrams are noisy; the ECE is in
# each legend.
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, (name, net) in zip(axes, nets.items(), strict=True):
    ReliabilityDisplay.from_estimator(net, X_test, y_test, n_bins=10, name=name, ax=ax)
fig.tight_layout()

# %%
# Predicting under another prior
# ------------------------------
# LADE's logits are entangled with the uniform prior, so a known deployment
# prior is injected at prediction time with ``target_prior``, without
# retraining (Hong et al. §3.4, eq. 17). Here the deployment data have the training
# skew again. Digits are easy and this skewed set holds about 130 images, so
# the two accuracies differ by an image or two either way; the injection pays
# off where classes overlap (see the user guide on losses and the benchmarks).
lade = nets["LADE"]
skewed = np.concatenate([np.flatnonzero(y_test == c)[: max(2, n // 3)]
                         for c, n in enumerate(counts)])
for prior in [None, counts / counts.sum()]:
    lade.set_params(target_prior=prior)
    acc = np.mean(lade.predict(X_test[skewed]) == y_test[skewed])
    label = "uniform (as trained)" if prior is None else "training skew"
    print(f"target prior {label:>20}: accuracy on skewed data {acc:.3f}")
lade.set_params(target_prior=None)
