"""Synthetic Gaussians (004 §6.1, Fig. 2): affine classifiers against the Bayes balanced error.

Per trial: a training and a test set of ``gauss_n`` samples each from
:func:`sklt.datasets.make_imbalanced_gaussians` (P(y=1) = 5%), and

- ERM: :class:`~sklearn.linear_model.LogisticRegression`;
- class weighting: ``LogisticRegression(class_weight="balanced")``;
- post-hoc logit adjustment (τ = 1): :class:`sklt.LogitAdjuster` around ERM;
- logit-adjusted loss (τ = 1): the same affine model trained with the LA loss
  (:class:`benchmarks._linear.LogitAdjustedLinearClassifier`, scipy L-BFGS);

balanced error on the test set. The τ sweep of post-hoc logit adjustment (Fig. 2 right) uses
:func:`sklt.adjust.adjust_logits` on the ERM logits.
"""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from sklt.adjust import adjust_logits
from sklt.datasets import gaussians_bayes_balanced_error, make_imbalanced_gaussians

from ._common import Timer, require, run_method
from ._linear import LogitAdjustedLinearClassifier

METHODS = ["ERM", "Class weighting", "Post-hoc LA (τ=1)", "LA loss (τ=1)"]
TAUS = np.linspace(0, 2, 21)


def _erm(X, y):
    return LogisticRegression().fit(X, y)


def _fit(method, X, y, erm):
    if method == "ERM":
        return erm
    if method == "Class weighting":
        return LogisticRegression(class_weight="balanced").fit(X, y)
    if method == "Post-hoc LA (τ=1)":
        LogitAdjuster = require("sklt:LogitAdjuster")
        from sklearn.frozen import FrozenEstimator

        prior = np.bincount(y, minlength=2) / len(y)
        return LogitAdjuster(FrozenEstimator(erm), tau=1.0, source_prior=prior).fit(X, y)
    if method == "LA loss (τ=1)":
        return LogitAdjustedLinearClassifier(tau=1.0).fit(X, y)
    raise ValueError(method)


def run(ctx):
    cfg = ctx.cfg
    rows, sweep = [], []
    models_for_plot = {}
    for trial in ctx.tqdm(range(cfg.gauss_trials), desc="gaussians"):
        X, y = make_imbalanced_gaussians(cfg.gauss_n, random_state=2 * trial)
        X_test, y_test = make_imbalanced_gaussians(cfg.gauss_n, random_state=2 * trial + 1)
        erm = _erm(X, y)
        for method in METHODS:
            with Timer() as t:
                model, status = run_method(_fit, method, X, y, erm)
            err = np.nan
            if model is not None:
                err = 1 - balanced_accuracy_score(y_test, model.predict(X_test))
                if trial == 0:
                    models_for_plot[method] = model
            rows.append(dict(trial=trial, method=method, balanced_error=err, status=status,
                             fit_seconds=t.seconds))
        # 004 Fig. 2 right: post-hoc logit adjustment for a range of τ
        log_p = erm.predict_log_proba(X_test)
        prior = np.bincount(y, minlength=2) / len(y)
        for tau in TAUS:
            p = adjust_logits(log_p, prior, None, input="log_proba",
                              strength=float(tau)).argmax(axis=-1)
            sweep.append(dict(trial=trial, tau=tau,
                              balanced_error=1 - balanced_accuracy_score(y_test, p)))
    df = pd.DataFrame(rows)
    df["bayes_error"] = gaussians_bayes_balanced_error()
    df["n_samples"] = cfg.gauss_n
    df.to_csv(ctx.path("gaussians.csv"), index=False)
    sweep = pd.DataFrame(sweep)
    sweep.to_csv(ctx.path("gaussians_tau_sweep.csv"), index=False)
    _plot(ctx, df, sweep, models_for_plot)
    return df


def _plot(ctx, df, sweep, models):
    import matplotlib.pyplot as plt

    bayes = gaussians_bayes_balanced_error()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    ok = df[df.status == "ok"]
    methods = [m for m in METHODS if m in set(ok.method)]
    data = [100 * ok[ok.method == m].balanced_error.to_numpy() for m in methods]
    ax = axes[0]
    if data:
        ax.boxplot(data, tick_labels=methods)
    ax.axhline(100 * bayes, color="k", ls="--", label=f"Bayes {100 * bayes:.2f}%")
    ax.set_ylabel("balanced error (%)")
    ax.set_title(f"Gaussians, {df.trial.nunique()} trials")
    ax.tick_params(axis="x", rotation=20)
    ax.legend()

    ax = axes[1]
    X, y = make_imbalanced_gaussians(2000, random_state=0)
    ax.scatter(*X[y == 0].T, s=3, alpha=0.3, label="head (0)")
    ax.scatter(*X[y == 1].T, s=6, alpha=0.8, label="tail (1)")
    xs = np.linspace(-4, 4, 2)
    ax.plot(xs, -xs, "k--", label="Bayes (x1 + x2 = 0)")
    for method, model in models.items():
        score = getattr(model, "decision_function", None)
        if score is None:
            continue
        grid = np.stack(np.meshgrid(np.linspace(-4, 4, 200), np.linspace(-4, 4, 200)), -1)
        flat = grid.reshape(-1, 2)
        s = np.asarray(model.decision_function(flat))
        s = s if s.ndim == 1 else s[:, 1] - s[:, 0]
        ax.contour(grid[..., 0], grid[..., 1], s.reshape(200, 200), levels=[0],
                   colors=[f"C{2 + METHODS.index(method)}"], linewidths=1.5)
        ax.plot([], [], color=f"C{2 + METHODS.index(method)}", label=method)
    ax.set_xlim(-4, 4)
    ax.set_ylim(-4, 4)
    ax.set_title("separators (trial 0)")
    ax.legend(fontsize=7, loc="lower right")

    ax = axes[2]
    curve = sweep.groupby("tau").balanced_error.agg(["mean", "std"])
    ax.plot(curve.index, 100 * curve["mean"], marker="o", label="post-hoc LA (ERM logits)")
    ax.fill_between(curve.index, 100 * (curve["mean"] - curve["std"]),
                    100 * (curve["mean"] + curve["std"]), alpha=0.2)
    ax.axhline(100 * bayes, color="k", ls="--", label="Bayes")
    ax.set_xlabel("τ")
    ax.set_ylabel("balanced error (%)")
    ax.set_title("004 Fig. 2 (right): post-hoc LA vs τ")
    ax.legend()
    fig.tight_layout()
    fig.savefig(ctx.path("gaussians.png"), dpi=110)
    plt.close(fig)
