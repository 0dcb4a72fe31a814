"""Long-tailed tables: MNIST-1D-LT and Digits-LT at imbalance ratios 10 and 100.

Two model families, every method sklt has:

- gradient boosting (:class:`~sklearn.ensemble.HistGradientBoostingClassifier`): plain
  training (CE), ``class_weight="balanced"``, imbalanced-learn random over- and
  under-sampling, and the post-hoc corrections of the plain model;
- a neural net (:class:`sklt.nn.LongTailClassifier` with Adam; :class:`sklt.nn.CNN1d` on
  MNIST-1D, the default MLP on digits): the same
  baselines, focal, class-balanced, LDAM (+ DRW) losses, the training losses that remove the
  prior (logit-adjusted, Balanced Softmax, Bayias, LADE), and the post-hoc corrections of the
  cross-entropy net.

Post-hoc rows: LA τ = 1 (:class:`sklt.LogitAdjuster`), LA with τ tuned by cross-validation on
the training set (:class:`sklt.tuning.LogitAdjusterCV`; the folds come from
:class:`sklt.model_selection.TailSafeStratifiedKFold`, in which every training fold holds
every class), IC with tuned λ
(:class:`sklt.tuning.PriorShiftClassifierCV`), PC Softmax (:class:`sklt.PriorShiftClassifier`,
λ = 1, uniform target — identical to LA τ = 1 on these balanced test sets, listed because the
papers list both). Test sets are balanced; metrics are balanced accuracy, many/medium/few-shot
accuracy (> 100, 20–100, < 20 training samples) and ECE (15 bins), mean ± std over seeds.
"""

import inspect

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import StandardScaler

from sklt.datasets import load_digits_lt, load_mnist1d_lt

from ._common import (
    Context,
    TailSafeStratifiedKFold,
    Timer,
    evaluate,
    fit_net,
    make_hgb,
    make_net,
    optional,
    require,
    run_method,
    set_torch_threads,
)

TAUS = np.linspace(0, 2.5, 26)
LAMS = np.linspace(0, 2.5, 26)

DATASET_NAMES = {"mnist1d": "MNIST-1D-LT", "digits": "Digits-LT"}


def load(ctx, dataset, ratio, seed):
    """The long-tailed split, standardised on the training set, float32 (cached)."""
    key = ("data", dataset, float(ratio), seed)
    if key in ctx.cache:
        return ctx.cache[key]
    cfg = ctx.cfg
    if dataset == "mnist1d":
        data = load_mnist1d_lt(imbalance_ratio=ratio, n_samples=cfg.mnist1d_samples,
                               n_test_per_class=cfg.mnist1d_test_per_class, random_state=seed)
    elif dataset == "digits":
        data = load_digits_lt(imbalance_ratio=ratio, n_test_per_class=cfg.digits_test_per_class,
                              random_state=seed)
    else:
        raise ValueError(dataset)
    scaler = StandardScaler().fit(data.X_train)
    data.X_train = scaler.transform(data.X_train).astype(np.float32)
    data.X_test = scaler.transform(data.X_test).astype(np.float32)
    data.source_prior = data.train_counts / data.train_counts.sum()
    # MNIST-1D is a 1-D signal: a small 1-D CNN, as in 001/003's use of convolutional nets
    data.net_module = "cnn1d" if dataset == "mnist1d" else "mlp"
    ctx.cache[key] = data
    return data


def load_balanced(ctx, dataset, seed, n_train=None):
    """Balanced MNIST-1D from the same generator: ``n_train`` training samples (``None``:
    every sample left after the test split), standardised on its training set (cached)."""
    key = ("balanced", dataset, n_train, seed)
    if key in ctx.cache:
        return ctx.cache[key]
    if dataset != "mnist1d":
        raise ValueError("the balanced oracle rows are for MNIST-1D")
    cfg = ctx.cfg
    n_max = None if n_train is None else max(1, int(round(n_train / 10)))
    data = load_mnist1d_lt(imbalance_ratio=1, n_samples=cfg.mnist1d_samples, n_max=n_max,
                           n_test_per_class=cfg.mnist1d_test_per_class, random_state=seed)
    scaler = StandardScaler().fit(data.X_train)
    data.X_train = scaler.transform(data.X_train).astype(np.float32)
    data.X_test = scaler.transform(data.X_test).astype(np.float32)
    data.source_prior = data.train_counts / data.train_counts.sum()
    data.net_module = "cnn1d"
    ctx.cache[key] = data
    return data


def _kwargs_for(cls, name_options, value):
    params = inspect.signature(cls).parameters
    for name in name_options:
        if name in params:
            return {name: value}
    return {}


def _tuner(path, grid_names, grid, estimator, cfg):
    Tuner = require(path)
    kwargs = _kwargs_for(Tuner, grid_names, grid)
    public = optional("sklt.model_selection:TailSafeStratifiedKFold")
    splitter = None
    if public is not None:  # sklt's own tail-safe splitter (issue #11) once it is there
        try:
            splitter = public(n_splits=cfg.cv)
        except TypeError:
            splitter = None
    splitter = splitter or TailSafeStratifiedKFold(cfg.cv)
    kwargs.update(_kwargs_for(Tuner, ("cv",), splitter))
    return Tuner(estimator, **kwargs)


def _base(family, ctx, data, seed, **params):
    if family == "HGB":
        return make_hgb(ctx.cfg, seed, **params)
    return make_net(params.pop("criterion", "cross_entropy"), ctx.cfg, seed,
                    module=data.net_module, **params)


def _fit(family, model, data, seed):
    if family == "NN":
        return fit_net(model, data.X_train, data.y_train, seed)
    return model.fit(data.X_train, data.y_train)


def _sampler(kind, seed):
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    return (RandomOverSampler if kind == "over" else RandomUnderSampler)(random_state=seed)


def _drw_callback(cfg):
    DRW = require("sklt.nn:DeferredReweighting")
    start = max(1, int(round(0.8 * cfg.epochs)))  # LDAM-DRW: re-weight for the last 20%
    return DRW(**_kwargs_for(DRW, ("start_epoch", "epoch", "start"), start))


def _plain(ctx, family, data, seed):
    key = ("model", family, "CE", data.imbalance_ratio, id(data), seed)
    if key not in ctx.cache:
        ctx.cache[key] = _fit(family, _base(family, ctx, data, seed), data, seed)
    return ctx.cache[key]


def method_table(family):
    """(name, kind, builder) for a family; kind 'baseline', 'loss' or 'post-hoc'."""
    def plain(ctx, data, seed):
        return _plain(ctx, family, data, seed), None

    def resampled(kind):
        def build(ctx, data, seed):
            from imblearn.pipeline import make_pipeline

            model = make_pipeline(_sampler(kind, seed), _base(family, ctx, data, seed))
            if family == "NN":
                import torch

                torch.manual_seed(seed)
            return model.fit(data.X_train, data.y_train), None
        return build

    def posthoc(cls_path, **params):
        def build(ctx, data, seed):
            cls = require(cls_path)
            inner = _plain(ctx, family, data, seed)
            model = cls(FrozenEstimator(inner), source_prior=data.source_prior, **params)
            return model.fit(data.X_train, data.y_train), None
        return build

    def tuned(path, grid_names, grid, attr):
        def build(ctx, data, seed):
            tuner = _tuner(path, grid_names, grid, _base(family, ctx, data, seed), ctx.cfg)
            if family == "NN":
                import torch

                torch.manual_seed(seed)
            tuner.fit(data.X_train, data.y_train)
            return tuner, float(getattr(tuner, attr))
        return build

    def loss(criterion, **params):
        def build(ctx, data, seed):
            net = make_net(criterion, ctx.cfg, seed, module=data.net_module, **params)
            return fit_net(net, data.X_train, data.y_train, seed), None
        return build

    def ldam_drw(ctx, data, seed):
        net = make_net("ldam", ctx.cfg, seed, module=data.net_module,
                       callbacks=[_drw_callback(ctx.cfg)])
        return fit_net(net, data.X_train, data.y_train, seed), None

    def oracle(same_n):
        """CE on balanced MNIST-1D: the same number of training samples as the long-tailed
        set (the gap each method closes), or every generated sample (the network's
        strength). Scored on that draw's own balanced test set (same size)."""
        def build(ctx, data, seed):
            key = ("oracle", same_n, data.imbalance_ratio if same_n else None, seed)
            if key not in ctx.cache:
                n = int(data.train_counts.sum()) if same_n else None
                bal = load_balanced(ctx, "mnist1d", seed, n)
                net = make_net("cross_entropy", ctx.cfg, seed, module="cnn1d")
                ctx.cache[key] = (fit_net(net, bal.X_train, bal.y_train, seed), bal)
            model, bal = ctx.cache[key]
            return model, None, bal
        return build

    def lade(form):
        """LADE with ``criterion__form`` (issue #15: "paper" = eq. 12-13, the default row
        "LADE"; "reference" = the authors' code)."""
        def build(ctx, data, seed):
            LADELoss = require("sklt.nn.losses:LADELoss")
            if "form" not in inspect.signature(LADELoss).parameters:
                from ._common import Unavailable

                raise Unavailable("sklt.nn.losses.LADELoss(form=...)")
            net = make_net("lade", ctx.cfg, seed, module=data.net_module, criterion__form=form)
            return fit_net(net, data.X_train, data.y_train, seed), None
        return build

    def weighted(ctx, data, seed):
        return _fit(family, make_hgb(ctx.cfg, seed, class_weight="balanced"), data, seed), None

    table = [("CE (plain training)", "baseline", plain)]
    if family == "HGB":
        table.append(('class_weight="balanced"', "baseline", weighted))
    table += [
        ("RandomOverSampler", "baseline", resampled("over")),
        ("RandomUnderSampler", "baseline", resampled("under")),
    ]
    if family == "NN":
        table += [
            ("Focal loss", "baseline", loss("focal")),
            ("Class-balanced loss", "baseline", loss("class_balanced")),
            ("LDAM", "baseline", loss("ldam")),
            ("LDAM + DRW", "baseline", ldam_drw),
            ("Logit-adjusted loss (τ=1)", "loss", loss("logit_adjusted")),
            ("Balanced Softmax", "loss", loss("balanced_softmax")),
            ("Bayias-compensated CE", "loss", loss("bayias")),
            ("LADE", "loss", loss("lade")),
            ("LADE (authors' code form)", "loss", lade("reference")),
        ]
    table += [
        ("Post-hoc LA (τ=1)", "post-hoc", posthoc("sklt:LogitAdjuster", tau=1.0)),
        ("Post-hoc LA (tuned τ)", "post-hoc",
         tuned("sklt.tuning:LogitAdjusterCV", ("taus", "tau_grid", "grid"), TAUS, "best_tau_")),
        ("IC (tuned λ)", "post-hoc",
         tuned("sklt.tuning:PriorShiftClassifierCV", ("lams", "lam_grid", "grid"), LAMS,
               "best_lam_")),
        ("PC Softmax (p_t uniform)", "post-hoc",
         posthoc("sklt:PriorShiftClassifier", lam=1.0, target_prior="uniform")),
    ]
    if family == "NN":
        table += [
            ("Balanced oracle (same n, CE)", "oracle", oracle(True)),
            ("Balanced, all samples (strength check, CE)", "oracle", oracle(False)),
        ]
    return table


def _units(cfg):
    """The tasks, grouped into units that share a trained model: one unit per data set,
    ratio, seed and family (the post-hoc rows reuse the plain model), plus one per data set,
    seed and family for the balanced oracles (the all-samples oracle serves every ratio).
    Each task keeps its index, so that the rows come out in one order however the units run."""
    tasks = []
    for dataset in cfg.lt_datasets:
        for ratio in cfg.lt_ratios:
            for seed in range(cfg.seeds):
                for family in ("HGB", "NN"):
                    for name, kind, _ in method_table(family):
                        if kind == "oracle" and dataset != "mnist1d":
                            continue
                        tasks.append((dataset, ratio, seed, family, name, kind))
    units = {}
    for index, (dataset, ratio, seed, family, name, kind) in enumerate(tasks):
        key = ((dataset, seed, family, "oracle") if kind == "oracle"
               else (dataset, seed, family, ratio))
        units.setdefault(key, []).append((index, dataset, ratio, seed, family, name, kind))

    def cost(key):  # the heaviest first, so that two workers finish together
        dataset, _, family, rest = key
        return (dataset == "mnist1d", family == "NN", rest == "oracle",
                -(rest if isinstance(rest, int | float) else 0))

    return [units[k] for k in sorted(units, key=cost, reverse=True)], len(tasks)


def _run_unit(ctx, unit):
    """Rows of one unit, ``[(index, row)]``, and the models the shift part reuses."""
    cfg = ctx.cfg
    nn_available = optional("sklt.nn:LongTailClassifier") is not None
    rows, models = [], {}
    for index, dataset, ratio, seed, family, name, kind in unit:
        build = {n: b for n, _, b in method_table(family)}[name]
        data, status = run_method(load, ctx, dataset, ratio, seed)
        row = dict(dataset=DATASET_NAMES[dataset], imbalance_ratio=ratio, seed=seed,
                   family=family, method=name, kind=kind, param=np.nan)
        if data is None:
            rows.append((index, {**row, "status": status}))
            continue
        if family == "NN" and not nn_available:
            rows.append((index, {**row, "status": "not implemented (sklt.nn.LongTailClassifier)"}))
            continue
        with Timer() as t:
            result, status = run_method(build, ctx, data, seed)
        row.update(status=status, fit_seconds=t.seconds)
        if result is not None:
            model, param, *scored_on = result
            row["param"] = np.nan if param is None else param
            test = scored_on[0] if scored_on else data  # the oracles have their own test set
            scored, sstatus = run_method(
                lambda m=model, d=test, c=data.train_counts: evaluate(
                    d.y_test, m.predict_proba(d.X_test), d.classes, c))
            if scored is None:
                row["status"] = sstatus
            else:
                row.update(scored)
            if dataset == cfg.shift_dataset and ratio == cfg.shift_train_ratio:
                models[("shift-model", family, name, seed)] = model
        rows.append((index, row))
    return rows, models


def _run_unit_in_worker(cfg, out, unit):
    """:func:`_run_unit` in a worker process, with its own cache (one unit's data and models)."""
    import warnings

    set_torch_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _run_unit(Context(cfg=cfg, out=out, progress=False), unit)


def run(ctx):
    """The long-tailed tables; with ``cfg.jobs > 1`` (``--jobs``) the units run in that many
    worker processes (each task single-threaded, as in one process)."""
    cfg = ctx.cfg
    units, n_tasks = _units(cfg)
    jobs = int(getattr(cfg, "jobs", 1) or 1)
    indexed = []
    if jobs > 1 and len(units) > 1:
        from joblib import Parallel, delayed
        from joblib.externals.loky import get_reusable_executor

        results = Parallel(n_jobs=jobs, return_as="generator")(
            delayed(_run_unit_in_worker)(cfg, ctx.out, unit) for unit in units)
        for rows, models in ctx.tqdm(results, total=len(units), desc="long-tail units"):
            indexed += rows
            ctx.cache.update(models)
        # end the workers so that their CPU time is counted (the runner reports it)
        get_reusable_executor().shutdown(wait=True)
    else:
        bar = ctx.tqdm(total=n_tasks, desc="long-tail")
        for unit in units:
            rows, models = _run_unit(ctx, unit)
            indexed += rows
            ctx.cache.update(models)
            if bar is not None:
                bar.update(len(unit))
        if bar is not None:
            bar.close()
    df = pd.DataFrame([row for _, row in sorted(indexed, key=lambda r: r[0])])
    df.to_csv(ctx.path("longtail.csv"), index=False)
    _plot(ctx, df)
    return df


def _plot(ctx, df):
    import matplotlib.pyplot as plt

    ok = df[df.status == "ok"]
    if ok.empty:
        return
    panels = list(ok.groupby(["dataset", "imbalance_ratio"], sort=False).groups)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 6), squeeze=False)
    for ax, (dataset, ratio) in zip(axes[0], panels, strict=True):
        sub = ok[(ok.dataset == dataset) & (ok.imbalance_ratio == ratio)]
        agg = sub.groupby(["family", "method"], sort=False).balanced_accuracy.agg(["mean", "std"])
        labels = [f"{f}: {m}" for f, m in agg.index]
        colors = ["tab:orange" if f == "HGB" else "tab:blue" for f, _ in agg.index]
        y = np.arange(len(agg))
        ax.barh(y, 100 * agg["mean"], xerr=100 * agg["std"].fillna(0), color=colors)
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("balanced accuracy (%)")
        ax.set_title(f"{dataset}, ρ = {ratio:g}")
    fig.tight_layout()
    fig.savefig(ctx.path("longtail.png"), dpi=110)
    plt.close(fig)
