"""Shifted test distributions (002 §4.3, Table 6 protocol).

Models trained on the long-tailed training set of ``cfg.shift_dataset`` at ratio
``cfg.shift_train_ratio`` (the nets are shared with the long-tail suite when it ran) are
evaluated on forward and backward shifted test sets
(:func:`sklt.datasets.make_shifted_test`, built from the balanced test set) for each test
imbalance ratio, reporting top-1 accuracy as 002 does. Each model is scored

- as trained (no prior injected): Softmax (CE), Balanced Softmax, LADE;
- with the true test prior injected (``target_prior``): PC Softmax, PC Balanced Softmax, LADE
  with its prior (002 §3.3);
- with the test prior estimated by EM from the unlabelled test inputs
  (:func:`sklt.label_shift.estimate_target_prior`, Saerens et al. 2002), then injected.

The prior is injected through each net's ``target_prior`` parameter (sklt.nn knows which prior
each loss is entangled with); the gradient-boosting rows use :class:`sklt.PriorShiftClassifier`.
"""

import copy

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator

from sklt.datasets import make_shifted_test
from sklt.priors import class_frequencies

from ._common import ENTANGLED, fit_net, make_hgb, make_net, require, run_method
from .suite_longtail import DATASET_NAMES, load

MODELS = [
    # (label as in 002 Table 6, family, criterion, long-tail suite method name)
    ("Softmax", "NN", "cross_entropy", "CE (plain training)"),
    ("Balanced Softmax", "NN", "balanced_softmax", "Balanced Softmax"),
    ("LADE", "NN", "lade", "LADE"),
    ("HGB", "HGB", None, "CE (plain training)"),
]
MODES = ["as trained", "true test prior", "EM-estimated prior"]


def _model(ctx, data, family, criterion, lt_name, seed):
    cached = ctx.cache.get(("shift-model", family, lt_name, seed))
    if cached is not None:
        return cached
    if family == "HGB":
        return make_hgb(ctx.cfg, seed).fit(data.X_train, data.y_train)
    net = make_net(criterion, ctx.cfg, seed, module=data.net_module)
    return fit_net(net, data.X_train, data.y_train, seed)


def _entangled(data, family, criterion):
    if family == "HGB" or ENTANGLED[criterion] == "source":
        return data.source_prior
    return np.full(len(data.classes), 1.0 / len(data.classes))


def _with_prior(model, family, data, prior):
    """The model predicting under ``prior`` (None: as trained)."""
    if prior is None:
        return model
    if family == "HGB":
        PSC = require("sklt:PriorShiftClassifier")
        return PSC(FrozenEstimator(model), lam=1.0, source_prior=data.source_prior,
                   target_prior=prior).fit(data.X_train, data.y_train)
    net = copy.copy(model)
    net.set_params(target_prior=np.asarray(prior))
    return net


def _em_prior(model, family, criterion, data, X):
    estimate = require("sklt.label_shift:estimate_target_prior")
    return np.asarray(estimate(model, X, method="em",
                               source_prior=_entangled(data, family, criterion)))


def run(ctx):
    cfg = ctx.cfg
    dataset = cfg.shift_dataset
    rows = []
    tasks = [(seed, m) for seed in range(cfg.seeds) for m in MODELS]
    for seed, (label, family, criterion, lt_name) in ctx.tqdm(tasks, desc="shifted tests"):
        data, status = run_method(load, ctx, dataset, cfg.shift_train_ratio, seed)
        model = None
        if data is not None:
            model, status = run_method(_model, ctx, data, family, criterion, lt_name, seed)
        for direction in ("forward", "backward"):
            for rho in cfg.shift_ratios:
                if direction == "backward" and rho == 1:
                    continue  # ρ = 1 is the uniform test set, listed once
                base = dict(dataset=DATASET_NAMES[dataset], train_ratio=cfg.shift_train_ratio,
                            seed=seed, model=label, direction="uniform" if rho == 1 else
                            direction, test_ratio=rho)
                if model is None:
                    rows += [{**base, "mode": mode, "status": status} for mode in MODES]
                    continue
                X_s, y_s = make_shifted_test(
                    data.X_test, data.y_test, train_counts=data.train_counts,
                    imbalance_ratio=rho, direction=direction, random_state=seed)
                true_prior = class_frequencies(y_s, data.classes)
                for mode in MODES:
                    if mode == "as trained":
                        prior, pstatus = None, "ok"
                    elif mode == "true test prior":
                        prior, pstatus = true_prior, "ok"
                    else:
                        prior, pstatus = run_method(_em_prior, model, family, criterion, data,
                                                    X_s)
                    row = {**base, "mode": mode, "status": pstatus}
                    if pstatus == "ok":
                        clf, cstatus = run_method(_with_prior, model, family, data, prior)
                        row["status"] = cstatus
                        if clf is not None:
                            pred, pst = run_method(clf.predict, X_s)
                            row["status"] = pst
                            if pred is not None:
                                row["accuracy"] = float(np.mean(pred == y_s))
                        if mode == "EM-estimated prior":
                            row["prior_l1_error"] = float(np.abs(prior - true_prior).sum())
                    rows.append(row)
    df = pd.DataFrame(rows)
    df.to_csv(ctx.path("shift.csv"), index=False)
    _plot(ctx, df)
    return df


def axis_order(df):
    """(direction, ratio) pairs in Table 6's left-to-right order."""
    fwd = sorted(df[df.direction == "forward"].test_ratio.unique(), reverse=True)
    bwd = sorted(df[df.direction == "backward"].test_ratio.unique())
    cols = [("forward", r) for r in fwd]
    if (df.direction == "uniform").any():
        cols.append(("uniform", 1))
    return cols + [("backward", r) for r in bwd]


def _plot(ctx, df):
    import matplotlib.pyplot as plt

    ok = df[df.status == "ok"]
    if ok.empty:
        return
    cols = axis_order(df)
    fig, ax = plt.subplots(figsize=(9, 5))
    styles = {"as trained": ":", "true test prior": "-", "EM-estimated prior": "--"}
    for i, (label, *_rest) in enumerate(MODELS):
        for mode, ls in styles.items():
            sub = ok[(ok.model == label) & (ok["mode"] == mode)]
            if sub.empty:
                continue
            means = [sub[(sub.direction == d) & (sub.test_ratio == r)].accuracy.mean()
                     for d, r in cols]
            ax.plot(range(len(cols)), 100 * np.array(means), ls=ls, marker="o", color=f"C{i}",
                    label=f"{label} ({mode})")
    ax.set_xticks(range(len(cols)), [f"{d[0].upper()}{r:g}" for d, r in cols])
    ax.set_xlabel("test distribution (F = forward, U = uniform, B = backward; number = ρ)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title("Shifted test sets (002 Table 6 protocol)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(ctx.path("shift.png"), dpi=110)
    plt.close(fig)
