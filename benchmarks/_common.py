"""Shared pieces of the benchmark suites: configuration, run context, optional sklt
features detected at run time, model factories and metrics."""

import importlib
import os
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

# The tuners' tail-safe folds (every training fold holds every class), re-exported for the
# suites that pass them explicitly.
from sklt.model_selection import TailSafeStratifiedKFold  # noqa: F401

NOT_IMPLEMENTED = "not implemented"


class Unavailable(Exception):
    """Raised by a method runner when the sklt feature it needs has not landed yet."""


def optional(path):
    """``"module:attr"`` → the object, or ``None`` if the module or attribute is missing.

    This is how the suites detect methods that other parts of sklt provide, so
    that their rows fill in as soon as the code lands.
    """
    module, _, attr = path.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError:
        return None
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def require(path):
    obj = optional(path)
    if obj is None:
        raise Unavailable(path.replace(":", "."))
    return obj


# --- configuration -------------------------------------------------------------------


@dataclass
class Config:
    """Sizes of one suite level (``smoke`` for tests, ``quick`` for ``make demo``, ``full``)."""

    name: str
    seeds: int
    # synthetic Gaussians (004 §6.1)
    gauss_trials: int
    gauss_n: int
    # toy λ curves (000 §4.1)
    toy_n_train: int
    toy_n_test: int
    toy_hidden: tuple
    toy_lams: np.ndarray
    # long-tailed tables
    lt_datasets: tuple
    lt_ratios: tuple
    mnist1d_samples: int
    mnist1d_test_per_class: int
    digits_test_per_class: int
    epochs: int
    hgb_iter: int
    cv: int
    batch_size: int
    lr: float
    # shifted test sets (002 Table 6)
    shift_dataset: str
    shift_train_ratio: float
    shift_ratios: tuple
    # performance ratios from the bench_* modules
    perf: bool
    perf_quick: bool = True
    # real imbalanced data (benchmarks/suite_real.py): data sets, base models, outer folds,
    # parallel jobs over (data set, fold)
    # networks: CNN1d convolutions (MNIST-1D) and AdamW weight decay
    cnn_channels: tuple = (32, 32, 32)
    weight_decay: float = 1e-4
    real_datasets: tuple = ()
    real_models: tuple = ("LR", "HGB", "LGBM")
    real_folds: int = 5
    real_jobs: int = 2  # the machines this targets have 2 cores
    jobs: int = 1  # worker processes of the long-tail part (--jobs)
    notes: list = field(default_factory=list)


REAL_ALL = ("pima", "haberman", "vehicle0", "segment0", "page-blocks0", "vowel0", "ecoli4",
            "abalone9-18", "yeast4", "winequality-red-4", "yeast6", "poker-8-9_vs_5", "abalone19",
            "contraceptive", "satimage", "winequality-red", "yeast")
REAL_QUICK = ("pima", "yeast4", "abalone19", "winequality-red")


def get_config(suite, seeds=None):
    if suite == "real":
        cfg = get_config("full", seeds)
        cfg.name = "real"
        return cfg
    if suite == "smoke":
        cfg = Config(
            name="smoke", seeds=1, gauss_trials=2, gauss_n=2000, toy_n_train=200,
            toy_n_test=400, toy_hidden=(16,), toy_lams=np.linspace(0, 2, 5),
            lt_datasets=("digits",), lt_ratios=(10,), mnist1d_samples=1000,
            mnist1d_test_per_class=20, digits_test_per_class=30, epochs=2, hgb_iter=5, cv=2,
            batch_size=128, lr=1e-2,
            shift_dataset="digits", shift_train_ratio=10, shift_ratios=(10, 1), perf=False,
            real_datasets=("pima",), real_models=("LR",), real_folds=3,
        )
    elif suite == "quick":
        cfg = Config(
            name="quick", seeds=2, gauss_trials=20, gauss_n=10_000, toy_n_train=1000,
            toy_n_test=2000, toy_hidden=(32, 32), toy_lams=np.linspace(0, 2, 21),
            # rho = 100 only: every claim and headline table is at rho = 100 (the full suite
            # adds rho = 10); it keeps make demo under 10 minutes with its installation
            lt_datasets=("mnist1d", "digits"), lt_ratios=(100,), mnist1d_samples=4000,
            mnist1d_test_per_class=100, digits_test_per_class=50, epochs=30, hgb_iter=40,
            cv=2, batch_size=128, lr=5e-3, shift_dataset="digits", shift_train_ratio=100,
            shift_ratios=(50, 10, 2, 1), perf=True, perf_quick=True,
            real_datasets=REAL_QUICK, real_models=("LR",),
        )
    elif suite == "full":
        cfg = Config(
            name="full", seeds=3, gauss_trials=100, gauss_n=10_000, toy_n_train=2000,
            toy_n_test=4000, toy_hidden=(64, 64), toy_lams=np.linspace(0, 2, 41),
            lt_datasets=("mnist1d", "digits"), lt_ratios=(10, 100), mnist1d_samples=10_000,
            mnist1d_test_per_class=200, digits_test_per_class=50, epochs=60, hgb_iter=200,
            cv=3, batch_size=128, lr=3e-3, shift_dataset="digits", shift_train_ratio=100,
            shift_ratios=(50, 25, 10, 5, 2, 1), perf=True, perf_quick=False,
            real_datasets=REAL_ALL,
        )
    else:
        raise ValueError(f"suite must be 'smoke', 'quick', 'full' or 'real'; got {suite!r}.")
    if seeds is not None:
        if seeds < 1:
            raise ValueError(f"--seeds must be a positive integer; got {seeds}.")
        cfg.seeds = int(seeds)
    return cfg


@dataclass
class Context:
    """What a suite needs: the configuration, the output folder, a progress bar factory and a
    cache of trained models shared between suites (the shift suite reuses the long-tail nets)."""

    cfg: Config
    out: str
    progress: bool = True
    cache: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    def tqdm(self, iterable=None, **kwargs):
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover
            return iterable
        return tqdm(iterable, disable=not self.progress, leave=False, dynamic_ncols=True,
                    **kwargs)

    def path(self, name):
        return os.path.join(self.out, name)


def run_method(fn, *args, **kwargs):
    """Run one method; return ``(result, status)`` where status is ``"ok"``,
    ``"not implemented"`` or ``"failed: <message>"``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs), "ok"
    except Unavailable as exc:
        return None, f"{NOT_IMPLEMENTED} ({exc})"
    except Exception as exc:  # noqa: BLE001 - a failing method is a result, not a crash
        if os.environ.get("SKLT_BENCH_DEBUG"):
            traceback.print_exc()
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"failed: {type(exc).__name__}: {message[:160]}"


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


# --- metrics -------------------------------------------------------------------------


def evaluate(y_true, proba, classes, train_counts):
    """Balanced accuracy, accuracy, many/medium/few-shot accuracy and ECE (15 bins).

    The shot accuracies and the ECE are :mod:`sklt.metrics`' (one per-class recall and one
    calibration binning for the library and the benchmarks). Shot groups follow 002 §5:
    > 100, 20–100, < 20 training samples.
    """
    from sklearn.metrics import balanced_accuracy_score

    from sklt.metrics import expected_calibration_error, shot_accuracy

    classes = np.asarray(classes)
    proba = np.asarray(proba, dtype=np.float64)
    y_pred = classes[proba.argmax(axis=1)]
    out = {
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "accuracy": float(np.mean(y_pred == y_true)),
    }
    groups = shot_accuracy(y_true, y_pred, train_counts=np.asarray(train_counts), labels=classes)
    out.update({f"{k}_shot": float(v) for k, v in groups.items()})
    out["ece"] = float(expected_calibration_error(y_true, proba, n_bins=15, labels=classes))
    return out


# --- models ----------------------------------------------------------------------------

# The prior each training loss's logits are entangled with (METHODS.md §2): "source" = the
# training class frequencies, "uniform" = balanced. Used to inject a target prior and by EM.
ENTANGLED = {
    "cross_entropy": "source", "focal": "source", "ldam": "source", "class_balanced": "source",
    "logit_adjusted": "uniform", "balanced_softmax": "uniform", "bayias": "uniform",
    "lade": "uniform",
}


def set_torch_threads():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch
    except ImportError:
        return
    # one thread: the suite's networks are tiny, and two threads spin-waiting on a busy
    # 2-core machine made the MNIST-1D CNN fits several times slower
    torch.set_num_threads(1)


def make_net(criterion, cfg, seed, module=None, **params):
    """A :class:`sklt.nn.LongTailClassifier` with the suite's training budget.

    ``module``: ``"cnn1d"`` for :class:`sklt.nn.CNN1d` (MNIST-1D signals; ``cfg.cnn_channels``
    convolutions), otherwise the default MLP. Every net trains with AdamW (weight decay
    ``cfg.weight_decay``) and a cosine learning-rate schedule over ``cfg.epochs`` epochs;
    callbacks passed in ``params`` come after the schedule.
    """
    LongTailClassifier = require("sklt.nn:LongTailClassifier")
    import torch
    from skorch.callbacks import LRScheduler

    if module == "cnn1d":
        params["module"] = require("sklt.nn:CNN1d")
        params.setdefault("module__channels", cfg.cnn_channels)

    torch.manual_seed(seed)
    callbacks = [("lr_schedule", LRScheduler(policy="CosineAnnealingLR", T_max=cfg.epochs))]
    callbacks += list(params.pop("callbacks", None) or [])
    base = dict(
        criterion=criterion, max_epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
        optimizer=torch.optim.AdamW, optimizer__weight_decay=cfg.weight_decay,
        train_split=None, verbose=0, iterator_train__shuffle=True, random_state=seed,
        callbacks=callbacks,
    )
    base.update(params)
    return LongTailClassifier(**base)


def fit_net(net, X, y, seed):
    import torch

    torch.manual_seed(seed)
    return net.fit(X, y)


def make_hgb(cfg, seed, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=cfg.hgb_iter, early_stopping=False, random_state=seed, **params
    )


def summarise(df, by, value_cols):
    """Mean ± std over seeds as strings, for the Markdown tables."""
    import pandas as pd

    rows = []
    for key, group in df.groupby(list(by), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        status = group["status"].iloc[0] if "status" in group else "ok"
        ok = group[group["status"] == "ok"] if "status" in group else group
        for col in value_cols:
            vals = ok[col].astype(float).dropna() if col in ok else pd.Series(dtype=float)
            if not str(status).startswith("ok") and len(vals) == 0:
                row[col] = status if col == value_cols[0] else ""
            elif len(vals) == 0:
                row[col] = "–"
            else:
                row[col] = fmt_pct(vals.mean(), vals.std(ddof=0), len(vals))
        rows.append(row)
    return pd.DataFrame(rows)


def fmt_pct(mean, std=None, n=1):
    if mean is None or not np.isfinite(mean):
        return "–"
    if std is None or n <= 1 or not np.isfinite(std):
        return f"{100 * mean:.1f}"
    return f"{100 * mean:.1f} ± {100 * std:.1f}"
