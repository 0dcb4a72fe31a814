"""Toy λ curves (000 §4.1, Fig. 2): accuracy vs λ on imbalanced moons and circles.

A small fully connected network with logistic loss (scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier`, as the paper's "3-layer fully connected
classifier") is trained on a step-imbalanced set (ratio 9, class 0 = head); its posteriors are
rebalanced towards the uniform prior by :class:`sklt.PriorShiftClassifier` for each λ of a grid
and scored on a balanced test set (there accuracy = balanced accuracy). The λ that the
cross-validated tuner :class:`sklt.tuning.PriorShiftClassifierCV` picks from the *training*
data alone is marked on the curve.
"""

import inspect

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier

from sklt.datasets import make_imbalanced_circles, make_imbalanced_moons

from ._common import TailSafeStratifiedKFold, require, run_method

DATASETS = {"moons": make_imbalanced_moons, "circles": make_imbalanced_circles}
PLOT_LAMS = (0.0, 0.5, 1.0, 1.5)


def _mlp(cfg, seed):
    return MLPClassifier(hidden_layer_sizes=cfg.toy_hidden, max_iter=600, random_state=seed)


def _curve(model, X, y, X_test, y_test, lams):
    PriorShiftClassifier = require("sklt:PriorShiftClassifier")
    prior = np.bincount(y, minlength=2) / len(y)
    scores = []
    for lam in lams:
        clf = PriorShiftClassifier(FrozenEstimator(model), lam=float(lam), source_prior=prior)
        scores.append(accuracy_score(y_test, clf.fit(X, y).predict(X_test)))
    return np.array(scores)


def _grid_kwargs(cls, lams):
    """Pass the λ grid under whatever name the tuner uses for it."""
    params = inspect.signature(cls).parameters
    for name in ("lams", "lam_grid", "lambdas", "grid"):
        if name in params:
            return {name: np.asarray(lams)}
    return {}


def _tuned_lam(cfg, seed, X, y, lams):
    Tuner = require("sklt.tuning:PriorShiftClassifierCV")
    kwargs = _grid_kwargs(Tuner, lams)
    if "cv" in inspect.signature(Tuner).parameters:
        kwargs["cv"] = TailSafeStratifiedKFold(cfg.cv)
    tuner = Tuner(_mlp(cfg, seed), **kwargs).fit(X, y)
    return float(tuner.best_lam_)


def unimodality_violation(scores):
    """Largest drop on the way up to the peak or rise after it (0 = exactly unimodal)."""
    scores = np.asarray(scores, dtype=float)
    peak = int(np.argmax(scores))
    up, down = scores[: peak + 1], scores[peak:]
    before = np.max(np.maximum.accumulate(up) - up) if len(up) else 0.0
    after = np.max(np.maximum.accumulate(down[::-1]) - down[::-1]) if len(down) else 0.0
    return float(max(before, after))


def run(ctx):
    cfg = ctx.cfg
    lams = cfg.toy_lams
    curves, picks, boundary_models = [], [], {}
    tasks = [(d, s) for d in DATASETS for s in range(cfg.seeds)]
    for name, seed in ctx.tqdm(tasks, desc="toy λ curves"):
        maker = DATASETS[name]
        X, y = maker(cfg.toy_n_train, random_state=100 + seed)
        X_test, y_test = maker(cfg.toy_n_test, imbalance_ratio=1, random_state=200 + seed)
        model = _mlp(cfg, seed).fit(X, y)
        scores, status = run_method(_curve, model, X, y, X_test, y_test, lams)
        if scores is None:
            scores = np.full(len(lams), np.nan)
        for lam, acc in zip(lams, scores, strict=True):
            curves.append(dict(dataset=name, seed=seed, lam=lam, accuracy=acc, status=status))
        best, tstatus = run_method(_tuned_lam, cfg, seed, X, y, lams)
        tuned_acc = np.nan
        if best is not None and status == "ok":
            tuned_acc = float(np.interp(best, lams, scores))
        picks.append(dict(
            dataset=name, seed=seed, tuned_lam=np.nan if best is None else best,
            tuned_accuracy=tuned_acc, tuner_status=tstatus,
            best_lam_on_test=float(lams[np.nanargmax(scores)]) if status == "ok" else np.nan,
            best_accuracy_on_test=float(np.nanmax(scores)) if status == "ok" else np.nan,
            accuracy_lam0=float(scores[0]), accuracy_lam1=float(np.interp(1.0, lams, scores)),
            unimodality_violation=unimodality_violation(scores) if status == "ok" else np.nan,
            status=status,
        ))
        if seed == 0:
            boundary_models[name] = (model, X, y)
    curves, picks = pd.DataFrame(curves), pd.DataFrame(picks)
    curves.to_csv(ctx.path("toy_lambda_curves.csv"), index=False)
    picks.to_csv(ctx.path("toy_lambda_picks.csv"), index=False)
    _plot(ctx, curves, picks, boundary_models)
    return picks


def _plot(ctx, curves, picks, models):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(DATASETS), 2, figsize=(10, 4.2 * len(DATASETS)))
    PriorShiftClassifier = None
    try:
        PriorShiftClassifier = require("sklt:PriorShiftClassifier")
    except Exception:  # noqa: BLE001
        pass
    for row, name in enumerate(DATASETS):
        ax = axes[row, 0]
        if name in models:
            model, X, y = models[name]
            ax.scatter(*X[y == 0].T, s=4, c="tab:red", alpha=0.4, label="head (majority)")
            ax.scatter(*X[y == 1].T, s=8, c="tab:blue", alpha=0.8, label="tail (minority)")
            lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
            gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
            grid = np.c_[gx.ravel(), gy.ravel()]
            if PriorShiftClassifier is not None:
                prior = np.bincount(y, minlength=2) / len(y)
                for i, lam in enumerate(PLOT_LAMS):
                    clf = PriorShiftClassifier(FrozenEstimator(model), lam=lam,
                                               source_prior=prior).fit(X, y)
                    p = clf.predict_proba(grid)[:, 1].reshape(gx.shape)
                    ax.contour(gx, gy, p, levels=[0.5], colors=[plt.cm.viridis(i / 3)])
                    ax.plot([], [], color=plt.cm.viridis(i / 3), label=f"λ = {lam}")
            ax.legend(fontsize=7, loc="upper right")
        ax.set_title(f"{name}: decision boundary for several λ")
        ax = axes[row, 1]
        sub = curves[curves.dataset == name]
        for seed, grp in sub.groupby("seed"):
            ax.plot(grp.lam, 100 * grp.accuracy, marker=".", alpha=0.8, label=f"seed {seed}")
        for _, pick in picks[picks.dataset == name].iterrows():
            if np.isfinite(pick.tuned_lam):
                ax.axvline(pick.tuned_lam, color="k", ls=":", alpha=0.7)
        ax.plot([], [], "k:", label="λ picked by PriorShiftClassifierCV")
        ax.set_xlabel("λ")
        ax.set_ylabel("balanced test accuracy (%)")
        ax.set_title(f"{name}: accuracy vs λ (000 Fig. 2)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(ctx.path("toy_lambda.png"), dpi=110)
    plt.close(fig)
