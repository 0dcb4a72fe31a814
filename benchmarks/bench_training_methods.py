"""Training-time long-tail methods on long-tailed MNIST-1D: mixup, UniMix, Bayias, estimated offset.

Rows (``METHODS.md`` §3, issue 5): cross-entropy (baseline), mixup + CE, UniMix
+ CE, Bayias, UniMix + Bayias (003 Table 4), the estimated offset with and
without the uniform constraint (001 Table 3) and post-hoc τ-normalisation of
the CE network (004 eq. 3; Kang et al. 2020). The paper's estimated-offset
setting (``lambda_center = lambda_uniform = 1``) underfits this small network
(its training loss stays high), so two rows with ``lambda_center = 0.1`` are
added; that value was chosen from the training loss, not from test scores.
Every network is AdamW (lr 3e-3, weight decay 1e-4, batch 64, cosine learning-rate
schedule) on a three-convolution :class:`sklt.nn.CNN1d` trunk; mixing stops for the
last sixth of the epochs (003 Algorithm 1). Each is trained on the
long-tailed MNIST-1D split (10 classes, exponential profile, imbalance ratio
100, generated offline) with the same small 1-D CNN and evaluated on a balanced
test set: balanced accuracy (= accuracy on the balanced test set) and few-shot
accuracy (classes with fewer than 20 training samples), mean ± std over seeds.
The papers' numbers are on CIFAR-10-LT / ImageNet-LT with ResNets: compare the
gains over the CE baseline, not the absolute values.

Run ``python benchmarks/bench_training_methods.py`` (``--full``, ``--seeds``);
the benchmark suite calls :func:`run`.
"""

import argparse
import os
import sys
import time

import numpy as np

# Papers' numbers, top-1 accuracy (%) on balanced test sets.
# 003 (Xu et al. 2021) Table 4, ResNet-32, CIFAR-10-LT rho = 100; tau-norm from Table 1.
# 001 (Kim et al. 2020) Table 3 (ablation), ResNet-10, ImageNet-LT; tau-norm from Table 1.
PAPER = {
    "CE": "70.36 (003 T4, CIFAR-10-LT-100) / 21.9 (001 T3, ImageNet-LT)",
    "mixup + CE": "73.06, +2.70 (003 T4)",
    "UniMix + CE": "76.47, +6.11 (003 T4)",
    "Bayias": "78.70, +8.34 (003 T4)",
    "UniMix + Bayias": "82.75, +12.39 (003 T4)",
    "estimated offset w/o UC": "37.7, +15.8 (001 T3)",
    "estimated offset": "42.9, +21.0 (001 T3)",
    "estimated offset w/o UC, lambda_center=0.1": "(001 uses lambda_center = 1)",
    "estimated offset, lambda_center=0.1": "(001 uses lambda_center = 1)",
    "tau-norm (CE net, tau=1)": "75.10, +4.74 (003 T1); 40.6, +18.7 (001 T1)",
}


def _load(seed, n_samples):
    """Long-tailed MNIST-1D, imbalance 100, as (X_train, y_train, X_test, y_test, counts)."""
    try:
        from sklt.datasets import load_mnist1d_lt
    except ImportError:  # pragma: no cover - before sklt.datasets lands
        load_mnist1d_lt = None
    if load_mnist1d_lt is not None:
        d = load_mnist1d_lt(imbalance_ratio=100, n_samples=n_samples, random_state=seed)
        return d.X_train, d.y_train, d.X_test, d.y_test
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    from sklt.priors import long_tail_counts

    args = get_dataset_args()
    args.num_samples, args.seed = n_samples, seed
    state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        raw = make_dataset(args)  # offline; never get_dataset
    finally:
        np.random.set_state(state)  # noqa: NPY002
        random.setstate(py_state)
    X = np.concatenate([raw["x"], raw["x_test"]])
    y = np.concatenate([raw["y"], raw["y_test"]]).astype(np.int64)
    rng = np.random.default_rng(seed)
    per_class = np.bincount(y).min()
    n_test = 100
    counts = long_tail_counts(per_class - n_test, 10, 100)
    tr, te = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        te.append(idx[:n_test])
        tr.append(idx[n_test:n_test + int(counts[c])])
    tr, te = np.concatenate(tr), np.concatenate(te)
    return X[tr], y[tr], X[te], y[te]


def _modules():
    from torch import nn

    from sklt.nn import CNN1d

    class ConvFeatures(nn.Module):
        """CNN1d trunk whose last layer gives ``n_classes`` (= feature width) ReLU features."""

        def __init__(self, in_channels=1, n_classes=64):
            super().__init__()
            self.net = nn.Sequential(CNN1d(in_channels=in_channels, n_classes=n_classes,
                                           channels=(32, 32, 32)), nn.ReLU())

        def forward(self, X):
            return self.net(X)

    class ConvNet(nn.Module):
        """The same trunk and a linear classifier with bias (the CE / Bayias / mixup model)."""

        def __init__(self, in_channels=1, n_classes=10, feature_dim=64):
            super().__init__()
            self.features = ConvFeatures(in_channels, feature_dim)
            self.classifier = nn.Linear(feature_dim, n_classes)

        def forward(self, X):
            return self.classifier(self.features(X))

    return ConvFeatures, ConvNet


def _methods(max_epochs, stop_epoch):
    from sklt.nn.augment import Mixup, UniMix
    from sklt.nn.offset import EstimatedOffsetHead

    ConvFeatures, ConvNet = _modules()
    conv = {"module": ConvNet}
    offset = {"module": EstimatedOffsetHead, "module__extractor": ConvFeatures,
              "module__feature_dim": 64, "criterion": "estimated_offset"}
    return {
        "CE": dict(conv, criterion="cross_entropy"),
        "mixup + CE": dict(conv, criterion="cross_entropy",
                           augmentation=Mixup(alpha=1.0, stop_epoch=stop_epoch)),
        "UniMix + CE": dict(conv, criterion="cross_entropy",
                            augmentation=UniMix(alpha=0.8, tau=-0.5, stop_epoch=stop_epoch)),
        "Bayias": dict(conv, criterion="bayias"),
        "UniMix + Bayias": dict(conv, criterion="bayias",
                                augmentation=UniMix(alpha=0.8, tau=-0.5, stop_epoch=stop_epoch)),
        "estimated offset w/o UC": dict(offset, criterion__lambda_center=1.0,
                                        criterion__lambda_uniform=0.0),
        "estimated offset": dict(offset, criterion__lambda_center=1.0,
                                 criterion__lambda_uniform=1.0),
        # lambda_center = 1 underfits here (training loss stays high): a weaker centre loss
        "estimated offset w/o UC, lambda_center=0.1": dict(
            offset, criterion__lambda_center=0.1, criterion__lambda_uniform=0.0),
        "estimated offset, lambda_center=0.1": dict(
            offset, criterion__lambda_center=0.1, criterion__lambda_uniform=1.0),
    }


def _scores(y_true, y_pred, few):
    from sklearn.metrics import balanced_accuracy_score

    bal = balanced_accuracy_score(y_true, y_pred)
    mask = np.isin(y_true, few)
    return 100 * bal, 100 * np.mean(y_pred[mask] == y_true[mask])


def run(quick=True, seeds=3, max_epochs=None, verbose=False):
    """Train every method on long-tailed MNIST-1D for each seed; one dict per method.

    Parameters
    ----------
    quick : bool, default=True
        4,000 generated samples (300 training samples in the head class, 3 in
        the tail) and 40 epochs; otherwise 10,000 samples (900 to 9) and 100
        epochs.
    seeds : int, default=3
        Seeds 0, ..., seeds - 1 (data split, generation and initialisation).
    max_epochs : int, default=None
        Overrides the number of epochs.
    verbose : bool, default=False
        Print each fit's time.

    Returns
    -------
    rows : list of dict
        Keys ``method``, ``balanced_accuracy`` and ``few_shot_accuracy`` (mean,
        %), ``balanced_accuracy_std``, ``few_shot_accuracy_std``, ``seeds``,
        ``seconds`` (mean fit time), ``paper`` (the papers' numbers) and
        ``dataset``.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch
    from sklearn.frozen import FrozenEstimator
    from skorch.callbacks import LRScheduler

    from sklt.nn import LongTailClassifier
    from sklt.nn.posthoc import TauNormalizedClassifier

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    n_samples = 4000 if quick else 10000
    max_epochs = max_epochs or (40 if quick else 100)
    stop_epoch = max_epochs - max(2, max_epochs // 6)  # 003 Alg. 1: no mixing at the end
    methods = _methods(max_epochs, stop_epoch)
    results = {name: [] for name in [*methods, "tau-norm (CE net, tau=1)"]}
    times = {name: [] for name in results}
    counts = None
    for seed in range(seeds):
        X_tr, y_tr, X_te, y_te = _load(seed, n_samples)
        X_tr = X_tr.astype(np.float32)[:, None, :]
        X_te = X_te.astype(np.float32)[:, None, :]
        counts = np.bincount(y_tr, minlength=10)
        few = np.flatnonzero(counts < 20)
        for name, params in methods.items():
            t0 = time.perf_counter()
            schedule = LRScheduler(policy="CosineAnnealingLR", T_max=max_epochs)
            net = LongTailClassifier(max_epochs=max_epochs, lr=3e-3, batch_size=64,
                                     optimizer=torch.optim.AdamW, optimizer__weight_decay=1e-4,
                                     callbacks=[("lr_schedule", schedule)],
                                     random_state=seed, **params).fit(X_tr, y_tr)
            times[name].append(time.perf_counter() - t0)
            results[name].append(_scores(y_te, net.predict(X_te), few))
            if verbose:
                print(f"seed {seed} {name}: {results[name][-1]} ({times[name][-1]:.1f} s)",
                      file=sys.stderr)
            if name == "CE":
                t0 = time.perf_counter()
                tn = TauNormalizedClassifier(FrozenEstimator(net), tau=1.0).fit(X_tr, y_tr)
                key = "tau-norm (CE net, tau=1)"
                times[key].append(time.perf_counter() - t0)
                results[key].append(_scores(y_te, tn.predict(X_te), few))
    rows = []
    for name, res in results.items():
        res = np.asarray(res)
        rows.append({
            "method": name,
            "balanced_accuracy": float(res[:, 0].mean()),
            "balanced_accuracy_std": float(res[:, 0].std(ddof=1)) if len(res) > 1 else 0.0,
            "few_shot_accuracy": float(res[:, 1].mean()),
            "few_shot_accuracy_std": float(res[:, 1].std(ddof=1)) if len(res) > 1 else 0.0,
            "seeds": len(res),
            "seconds": float(np.mean(times[name])),
            "paper": PAPER[name],
            "dataset": f"MNIST-1D-LT rho=100, train counts {counts.tolist()}, "
                       f"{max_epochs} epochs",
        })
    return rows


def format_table(rows):
    """Markdown table of :func:`run`'s rows, with the gain over the CE baseline."""
    base = next(r["balanced_accuracy"] for r in rows if r["method"] == "CE")
    lines = [
        "| method | balanced acc. (%) | Δ vs CE | few-shot acc. (%) | fit (s) | papers (top-1 %) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        delta = r["balanced_accuracy"] - base
        lines.append(
            f"| {r['method']} | {r['balanced_accuracy']:.1f} ± {r['balanced_accuracy_std']:.1f} "
            f"| {delta:+.1f} | {r['few_shot_accuracy']:.1f} ± {r['few_shot_accuracy_std']:.1f} "
            f"| {r['seconds']:.1f} | {r['paper']} |"
        )
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="more data and epochs")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=None)
    args = p.parse_args(argv)
    start = time.perf_counter()
    rows = run(quick=not args.full, seeds=args.seeds, max_epochs=args.epochs, verbose=True)
    print(format_table(rows))
    print(f"\n{rows[0]['dataset']}; {args.seeds} seeds; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
