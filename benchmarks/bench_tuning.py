"""Cost of tuning ``lam``: :class:`sklt.PriorShiftClassifierCV` against ``GridSearchCV``.

``GridSearchCV(PriorShiftClassifier(model), {"lam": grid}, cv=5)`` fits ``model``
once per grid value and fold (21 x 5 = 105 fits, plus the refit);
``PriorShiftClassifierCV(model, lams=grid, cv=5)`` fits it once per fold (5 fits,
plus the refit) and sweeps the grid over each fold's held-out log-scores. Both run
in the same process on the same splits with the same scorer (balanced accuracy),
on a long-tailed problem (default: 20,000 samples, 10 classes, imbalance ratio 50)
with a :class:`~sklearn.ensemble.HistGradientBoostingClassifier`; the benchmark
reports both wall times, their ratio and the chosen ``lam`` of each: the tuner with
GridSearchCV's rule (``selection="score", cv_score="mean", tie_rule=None``, which must
choose the same ``lam``), the same with ``search="peak"``, and the tuner's default rule
(the calibrated strength for balanced accuracy; its ``lam`` may differ by design).

Run ``python benchmarks/bench_tuning.py`` (``--n-samples``, ``--n-values``,
``--quick``); the benchmark suite calls :func:`run`.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklt import PriorShiftClassifier, PriorShiftClassifierCV
from sklt.priors import long_tail_counts


def _long_tailed(n_samples, n_classes, imbalance_ratio, seed):
    counts = long_tail_counts(1000, n_classes, imbalance_ratio)
    weights = counts / counts.sum()
    return make_classification(
        n_samples=n_samples, n_features=20, n_informative=10, n_redundant=2,
        n_classes=n_classes, n_clusters_per_class=1, weights=list(weights), class_sep=0.8,
        random_state=seed,
    )


def run(quick=True, n_samples=None, n_values=21, n_splits=5, n_classes=10,
        imbalance_ratio=50, seed=0):
    """Time PriorShiftClassifierCV against the equivalent GridSearchCV.

    Parameters
    ----------
    quick : bool, default=True
        Smaller gradient-boosting models (``max_iter=10`` instead of 100): the
        ratio of fits (106 against 6) is what the quick suite demonstrates.
    n_samples : int, default=None
        Problem size; 20,000 by default.
    n_values : int, default=21
        Size of the ``lam`` grid, evenly spaced on ``[0, 2]``.
    n_splits : int, default=5
        Stratified folds (the same splits for every method).
    n_classes, imbalance_ratio : int, float
        The long-tailed problem: exponential profile with this ``n_max / n_min``.
    seed : int, default=0
        Seed of the data, the splits and the models.

    Returns
    -------
    rows : list of dict
        One per method: ``method``, ``seconds``, ``speedup`` (GridSearchCV time
        over this one), ``best_lam``, ``same_lam_as_grid_search`` (required for
        GridSearchCV's rule; the default rule may differ), ``best_score``,
        ``inner_fits``, ``score_evaluations``, ``n_samples``, ``n_values``,
        ``n_splits``.
    """
    n_samples = n_samples or 20_000
    X, y = _long_tailed(n_samples, n_classes, imbalance_ratio, seed)
    lams = np.linspace(0, 2, n_values)
    splits = list(StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(X, y))
    model = HistGradientBoostingClassifier(max_iter=10 if quick else 100, early_stopping=False,
                                           random_state=seed)

    start = time.perf_counter()
    gs = GridSearchCV(PriorShiftClassifier(model), {"lam": lams}, cv=splits,
                      scoring="balanced_accuracy").fit(X, y)
    gs_seconds = time.perf_counter() - start
    gs_lam = float(gs.best_params_["lam"])
    rows = [dict(
        method="GridSearchCV(PriorShiftClassifier)", seconds=gs_seconds, speedup=1.0,
        best_lam=gs_lam, same_lam_as_grid_search=True, best_score=float(gs.best_score_),
        inner_fits=n_values * n_splits + 1, score_evaluations=n_values,
    )]
    # GridSearchCV's rule is the score rule (older sklt versions had no other)
    score = ({"selection": "score"} if "selection" in PriorShiftClassifierCV().get_params()
             else {})
    variants = [
        ("PriorShiftClassifierCV(GridSearchCV's rule)",
         dict(search="grid", cv_score="mean", tie_rule=None, **score)),
        ("PriorShiftClassifierCV(GridSearchCV's rule, search='peak')",
         dict(search="peak", cv_score="mean", tie_rule=None, **score)),
        ("PriorShiftClassifierCV(default rule)", dict()),
    ]
    for method, params in variants:
        start = time.perf_counter()
        tuner = PriorShiftClassifierCV(model, lams=lams, cv=splits, **params).fit(X, y)
        seconds = time.perf_counter() - start
        rows.append(dict(
            method=method, seconds=seconds,
            speedup=gs_seconds / seconds, best_lam=tuner.best_lam_,
            same_lam_as_grid_search=bool(tuner.best_lam_ == gs_lam),
            best_score=tuner.best_score_, inner_fits=n_splits + 1,
            score_evaluations=tuner.n_evaluations_,
        ))
    for row in rows:
        row.update(n_samples=n_samples, n_values=n_values, n_splits=n_splits)
    return rows


def _print(rows):
    header = f"{'method':<60} {'seconds':>8} {'speedup':>8} {'best lam':>9} {'same':>5} " \
             f"{'score':>7} {'fits':>5} {'evals':>6}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['method']:<60} {r['seconds']:>8.2f} {r['speedup']:>7.1f}x {r['best_lam']:>9.2f} "
              f"{'yes' if r['same_lam_as_grid_search'] else 'NO':>5} {r['best_score']:>7.4f} "
              f"{r['inner_fits']:>5} {r['score_evaluations']:>6}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-values", type=int, default=21)
    parser.add_argument("--quick", action="store_true", help="smaller boosting models")
    args = parser.parse_args()
    rows = run(quick=args.quick, n_samples=args.n_samples, n_values=args.n_values)
    first = rows[0]
    print(f"{first['n_samples']} samples, {first['n_values']} lam values, "
          f"{first['n_splits']} folds, HistGradientBoostingClassifier")
    _print(rows)
