"""Per-class decision offsets: :class:`sklt.ClassOffsetClassifierCV` against its baselines.

Two questions, each answered on held-out test data with the verdicts computed from the
numbers (:func:`summarise`):

1. **Binary**: does it match scikit-learn's
   :class:`~sklearn.model_selection.TunedThresholdClassifierCV` given a fine, log-spaced
   grid of probability thresholds (1,000 values from 1e-6 to 1 - 1e-6, which over-confident
   trees need), within 1 point of the scorer, at no more of its time? Same model, same
   folds (:class:`~sklearn.model_selection.StratifiedKFold`, 5), same scorer (balanced
   accuracy, F1), on four imbalanced binary problems (two in the quick run).
2. **Multiclass** (Digits-LT and MNIST-1D-LT at imbalance ratios 10 and 100, balanced test
   sets): asked for macro-F1, does it beat :class:`sklt.LogitAdjusterCV` tuned for macro-F1
   on average; asked for balanced accuracy, does it not lose to it? Both with their default
   tail-safe folds. Paired over (data set, ratio, seed, model) cells: wins / ties / losses
   (a tie is a difference below 0.1 point), mean difference and a two-sided Wilcoxon
   signed-rank test. The regularisation towards logit adjustment is measured by the same
   estimator with ``alpha=0`` (no penalty) and ``alpha=inf`` (tuned logit adjustment only).
   Macro-F1 depends on the class prior of the data it is measured on (precision does): the
   estimator with ``target_prior="uniform"`` scores its held-out samples re-weighted to the
   balanced test prior, which ``LogitAdjusterCV`` cannot; it is reported as its own row.

Run ``python -m benchmarks.bench_offsets`` (``--seeds``, ``--binary-seeds``, ``--all-binary``,
``--full``, ``--models``; the numbers quoted in the user guide come from
``--seeds 5 --binary-seeds 3 --all-binary --models LR HGB``); the
suite calls :func:`run` (the quick suite: one seed, logistic regression for the multiclass
part, imbalance ratio 100 only). :func:`make_offset_classifier` is the estimator as the
benchmarks build it.
"""

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

#: The fine log-spaced probability grid given to TunedThresholdClassifierCV.
THRESHOLDS = np.unique(np.r_[np.logspace(-6, np.log10(0.5), 500),
                             1 - np.logspace(np.log10(0.5), -6, 500)])

TIE = 1e-3  # a difference below 0.1 point is a tie

#: Binary data sets of the quick run (TunedThresholdClassifierCV's 1,000 thresholds cost
#: 6-20 s per fit on two busy cores; the full run has all four).
QUICK_BINARY = ("synthetic 1:99", "digits 9 vs rest")


def make_offset_classifier(estimator, scoring="balanced_accuracy", cv=5, random_state=0,
                           **params):
    """``ClassOffsetClassifierCV`` as the benchmarks use it (defaults otherwise)."""
    from sklt import ClassOffsetClassifierCV

    return ClassOffsetClassifierCV(estimator, scoring=scoring, cv=cv,
                                   random_state=random_state, **params)


def _model(name, seed, quick):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    if name == "HGB":
        return HistGradientBoostingClassifier(max_iter=30 if quick else 100,
                                              early_stopping=False, random_state=seed)
    return LogisticRegression(max_iter=1000)


# --------------------------------------------------------------------------- binary
def _binary_datasets(seed, quick):
    from sklearn.datasets import load_breast_cancer, load_digits, make_classification

    n = 4000 if quick else 10_000
    X, y = make_classification(n_samples=n, n_features=20, n_informative=6, weights=[0.95],
                               flip_y=0.02, class_sep=0.8, random_state=seed)
    yield "synthetic 1:19", X, y
    X, y = make_classification(n_samples=2 * n, n_features=20, n_informative=6,
                               weights=[0.99], flip_y=0.0, class_sep=1.0, random_state=seed)
    yield "synthetic 1:99", X, y
    digits = load_digits()
    yield "digits 9 vs rest", digits.data / 16, (digits.target == 9).astype(int)
    cancer = load_breast_cancer()
    yield "breast cancer", cancer.data, cancer.target


def binary_rows(seeds=1, quick=True, models=("HGB",), datasets=None):
    """One row per (data set, seed, model, scorer): test score and fit time of both tuners.

    ``datasets``: names to run (default: :data:`QUICK_BINARY` when ``quick``, else all).
    """
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import (
        StratifiedKFold,
        TunedThresholdClassifierCV,
        train_test_split,
    )
    from sklearn.preprocessing import StandardScaler

    rows = []
    for seed in range(seeds):
        for name, X, y in _binary_datasets(seed, quick):
            wanted = datasets if datasets is not None else (QUICK_BINARY if quick else None)
            if wanted is not None and name not in wanted:
                continue
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y,
                                                      random_state=seed)
            scaler = StandardScaler().fit(X_tr)
            X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
            cv = StratifiedKFold(5, shuffle=True, random_state=seed)
            for model_name in models:
                for scoring in ("balanced_accuracy", "f1"):
                    scorer = get_scorer(scoring)
                    model = _model(model_name, seed, quick)
                    start = time.perf_counter()
                    ttcv = TunedThresholdClassifierCV(model, scoring=scoring, cv=cv,
                                                      thresholds=THRESHOLDS).fit(X_tr, y_tr)
                    t_ttcv = time.perf_counter() - start
                    start = time.perf_counter()
                    off = make_offset_classifier(model, scoring, cv=cv,
                                                 random_state=seed).fit(X_tr, y_tr)
                    t_off = time.perf_counter() - start
                    rows.append(dict(
                        part="binary", dataset=name, seed=seed, model=model_name,
                        scoring=scoring, tuned_threshold=scorer(ttcv, X_te, y_te),
                        offsets=scorer(off, X_te, y_te), seconds_tuned_threshold=t_ttcv,
                        seconds_offsets=t_off, time_ratio=t_off / t_ttcv,
                        alpha=off.alpha_, n_train=len(y_tr), positives=int(y_tr.sum()),
                    ))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- multiclass
def _multiclass_data(dataset, ratio, seed, quick):
    from sklearn.preprocessing import StandardScaler

    from sklt.datasets import load_digits_lt, load_mnist1d_lt

    if dataset == "Digits-LT":
        data = load_digits_lt(imbalance_ratio=ratio, n_test_per_class=50, random_state=seed)
    else:
        data = load_mnist1d_lt(imbalance_ratio=ratio, n_samples=4000 if quick else 10_000,
                               n_test_per_class=100 if quick else 200, random_state=seed)
    scaler = StandardScaler().fit(data.X_train)
    return (scaler.transform(data.X_train), data.y_train, scaler.transform(data.X_test),
            data.y_test, data.train_counts)


def multiclass_rows(seeds=1, quick=True, models=("LR",), datasets=("Digits-LT", "MNIST-1D-LT"),
                    ratios=(10, 100)):
    """One row per (data set, ratio, seed, model, method, metric) with the test score."""
    from sklearn.metrics import balanced_accuracy_score, f1_score

    from sklt import LogitAdjusterCV

    metrics = {"f1_macro": lambda y, p: f1_score(y, p, average="macro"),
               "balanced_accuracy": balanced_accuracy_score}
    rows = []
    for seed in range(seeds):
        for dataset in datasets:
            for ratio in ratios:
                X_tr, y_tr, X_te, y_te, counts = _multiclass_data(dataset, ratio, seed, quick)
                few = counts < 20
                for model_name in models:
                    model = _model(model_name, seed, quick)
                    for scoring, metric in metrics.items():
                        methods = {
                            "LogitAdjusterCV": LogitAdjusterCV(model, scoring=scoring),
                            "offsets": make_offset_classifier(model, scoring,
                                                              random_state=seed),
                        }
                        if scoring == "f1_macro":
                            # the test sets are balanced: score the held-out samples so
                            methods["offsets, target_prior=uniform"] = make_offset_classifier(
                                model, scoring, random_state=seed, target_prior="uniform")
                        if scoring == "balanced_accuracy" or not quick:
                            methods["offsets, alpha=0"] = make_offset_classifier(
                                model, scoring, random_state=seed, alpha=0.0)
                            methods["offsets, alpha=inf"] = make_offset_classifier(
                                model, scoring, random_state=seed, alpha=np.inf)
                        for method, est in methods.items():
                            start = time.perf_counter()
                            est.fit(X_tr, y_tr)
                            seconds = time.perf_counter() - start
                            pred = est.predict(X_te)
                            recall = np.array([np.mean(pred[y_te == c] == c)
                                               for c in est.classes_])
                            rows.append(dict(
                                part="multiclass", dataset=dataset, ratio=ratio, seed=seed,
                                model=model_name, scoring=scoring, method=method,
                                score=metric(y_te, pred), few_shot_recall=recall[few].mean()
                                if few.any() else np.nan, seconds=seconds,
                                alpha=getattr(est, "alpha_", np.nan),
                                tau=getattr(est, "best_tau_", getattr(est, "init_tau_", np.nan)),
                            ))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- verdicts
def _paired(a, b):
    """W/T/L of ``a`` over ``b``, mean difference (points) and Wilcoxon p-value."""
    from scipy.stats import wilcoxon

    d = np.asarray(a, float) - np.asarray(b, float)
    wins, losses = int(np.sum(d > TIE)), int(np.sum(d < -TIE))
    ties = len(d) - wins - losses
    p = np.nan
    if np.any(np.abs(d) > 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = float(wilcoxon(d, zero_method="zsplit").pvalue)
    return wins, ties, losses, 100 * float(np.mean(d)), p


def summarise(binary, multiclass):
    """The verdict rows: one per question, computed from the measured rows."""
    out = []
    if binary is not None and len(binary):
        d = binary.offsets - binary.tuned_threshold
        w, t, l, mean, p = _paired(binary.offsets, binary.tuned_threshold)
        within = int(np.sum(np.abs(d) <= 0.01))
        ratio = float(np.median(binary.time_ratio))
        out.append(dict(
            question="binary: matches TunedThresholdClassifierCV (1,000 log-spaced "
                     "thresholds) within 1 point",
            cells=len(d), wins=w, ties=t, losses=l, mean_diff_points=mean, p_value=p,
            detail=f"{within}/{len(d)} within 1 point; worst {100 * d.min():+.1f}, "
                   f"best {100 * d.max():+.1f}",
            verdict="yes" if within == len(d) else ("partly" if within else "no")))
        out.append(dict(
            question="binary: at no more of its time (fit time ratio offsets / TTCV)",
            cells=len(d), wins=np.nan, ties=np.nan, losses=np.nan, mean_diff_points=np.nan,
            p_value=np.nan,
            detail=f"median ratio {ratio:.2f}, max {binary.time_ratio.max():.2f}",
            verdict="yes" if ratio <= 1 else "no"))
    if multiclass is not None and len(multiclass):
        keys = ["dataset", "ratio", "seed", "model"]
        for scoring, baseline, rule in [
            ("f1_macro", "LogitAdjusterCV", "beats"),
            ("balanced_accuracy", "LogitAdjusterCV", "does not lose to"),
        ]:
            sub = multiclass[multiclass.scoring == scoring]
            wide = sub.pivot_table(index=keys, columns="method", values="score")
            for method in [m for m in ("offsets", "offsets, target_prior=uniform",
                                       "offsets, alpha=0", "offsets, alpha=inf") if m in wide]:
                w, t, l, mean, p = _paired(wide[method], wide[baseline])
                if method == "offsets":
                    ok = (mean > 0) if rule == "beats" else (mean > -0.5 and not (
                        p < 0.05 and mean < 0))
                    verdict = "yes" if ok else "no"
                    question = f"{scoring}: {method} {rule} {baseline}"
                elif "target_prior" in method:
                    verdict = "yes" if mean > 0 else "no"
                    question = f"{scoring}: {method} {rule} {baseline}"
                else:
                    verdict = "(ablation)"
                    question = f"{scoring}: {method} vs {baseline}"
                few = sub.pivot_table(index=keys, columns="method", values="few_shot_recall")
                out.append(dict(
                    question=question, cells=len(wide), wins=w, ties=t, losses=l,
                    mean_diff_points=mean, p_value=p,
                    detail=f"mean {100 * wide[method].mean():.1f} vs "
                           f"{100 * wide[baseline].mean():.1f}; few-shot recall "
                           f"{100 * few[method].mean():.1f} vs {100 * few[baseline].mean():.1f}",
                    verdict=verdict))
    return pd.DataFrame(out)


def run(quick=True, seeds=None, models=None, multiclass_models=None, binary_seeds=None,
        binary_datasets=None):
    """The benchmark as the suite calls it: the summary rows (see :func:`summarise`).

    Parameters
    ----------
    quick : bool, default=True
        Smaller data and boosting models; the multiclass part uses logistic regression only,
        at imbalance ratio 100 only.
    seeds : int, default=None
        Seeds (1 quick, 5 otherwise).
    models, multiclass_models : tuple of {"HGB", "LR"}, default=None
        Models of the binary part (``("HGB",)``) and of the multiclass part (``("LR",)``
        quick, ``("LR", "HGB")`` otherwise).
    binary_seeds : int, default=None
        Seeds of the binary part (default: ``seeds``).
    binary_datasets : tuple of str, default=None
        Binary data sets (default: two when ``quick``, all four otherwise).
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    seeds = seeds or (1 if quick else 5)
    binary = binary_rows(binary_seeds or seeds, quick, models or ("HGB",), binary_datasets)
    # the quick run (make demo) keeps the extreme tail (rho = 100) only
    multiclass = multiclass_rows(seeds, quick, multiclass_models or (
        ("LR",) if quick else ("LR", "HGB")), ratios=(100,) if quick else (10, 100))
    run.binary, run.multiclass = binary, multiclass  # raw rows, for the command line
    return summarise(binary, multiclass)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--full", action="store_true", help="larger data and models")
    parser.add_argument("--models", nargs="+", default=None, choices=("HGB", "LR"),
                        help="multiclass models")
    parser.add_argument("--binary-seeds", type=int, default=None,
                        help="seeds of the binary part (default: --seeds)")
    parser.add_argument("--all-binary", action="store_true",
                        help="all four binary data sets also in the quick run")
    parser.add_argument("--out", default=None, help="folder for the raw CSV files")
    args = parser.parse_args(argv)
    names = [name for name, _, _ in _binary_datasets(0, True)] if args.all_binary else None
    summary = run(quick=not args.full, seeds=args.seeds, multiclass_models=args.models,
                  binary_seeds=args.binary_seeds, binary_datasets=names)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 90)
    print(run.binary.round(4).to_string())
    print(run.multiclass.round(4).to_string())
    print(summary.round(4).to_string())
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        run.binary.to_csv(os.path.join(args.out, "offsets_binary.csv"), index=False)
        run.multiclass.to_csv(os.path.join(args.out, "offsets_multiclass.csv"), index=False)
        summary.to_csv(os.path.join(args.out, "offsets_summary.csv"), index=False)


if __name__ == "__main__":
    main()
