"""Performance ratios: the ``run()`` functions of ``benchmarks/bench_adjust.py``,
``bench_tuning.py``, ``bench_tuning_quality.py``, ``bench_losses.py``,
``bench_training_methods.py`` and ``bench_fusion.py`` (written beside the features they
measure).

Each module is imported if present and its ``run`` called with ``quick`` (and ``seeds``)
when it accepts them; whatever it returns (a DataFrame, a list of dicts or a dict) is stored as
``perf_<name>.csv``. A module that is missing is reported as ``not implemented``.
"""

import importlib
import inspect

import pandas as pd

from ._common import NOT_IMPLEMENTED, Timer, run_method

MODULES = {
    "bench_adjust": "post-hoc adjustment (sklt.adjust / sklt.posthoc)",
    "bench_tuning": "λ / τ tuners (sklt.tuning)",
    "bench_tuning_quality": "tuned τ at the extreme tail (ρ = 100) against τ = 1 and the "
    "test-set oracle; binary data against a hand-widened grid; six model families on "
    "held-out problems (issue #11)",
    "bench_losses": "training losses (sklt.nn)",
    "bench_training_methods": "training-time methods: mixup, UniMix, Bayias, estimated offset "
    "(003 Table 4, 001 Table 3)",
    "bench_fusion": "multimodal fusion (UNO-IC, 000 Table 5, synthetic)",
    "bench_offsets": "per-class decision offsets (sklt.ClassOffsetClassifierCV) against "
    "TunedThresholdClassifierCV and LogitAdjusterCV",
    "bench_label_shift": "label-shift estimators against plain NumPy (sklt.label_shift)",
    "bench_stream": "streaming a Dask array through the adjustment (2x10^6 rows when quick)",
}


# problem sizes for the quick suite (the module's own default otherwise): bench_tuning's
# GridSearchCV baseline refits 21 x 5 times: about 2 of make demo's minutes at 20,000 samples
# and still about 2.5 CPU minutes at 5,000; the speed-up it demonstrates holds at 2,000
QUICK_SIZES = {"bench_tuning": 2_000,
               # 50,000 x 1,000 float32 (200 MB) is still far beyond the caches: the ratios to
               # np.log hold, at a quarter of the full run's 200,000 rows
               "bench_adjust": 50_000}


def _as_frame(result):
    if isinstance(result, pd.DataFrame):
        return result
    if isinstance(result, dict):
        if all(not isinstance(v, list | tuple | dict) for v in result.values()):
            return pd.DataFrame([result])
        return pd.DataFrame(result)
    if isinstance(result, list | tuple):
        return pd.DataFrame(list(result))
    return pd.DataFrame({"result": [repr(result)]})


def _call(name, cfg):
    try:
        module = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as exc:
        if exc.name in (f"benchmarks.{name}",):
            return None, f"{NOT_IMPLEMENTED} (benchmarks/{name}.py)"
        raise
    fn = getattr(module, "run", None)
    if fn is None:
        return None, f"{NOT_IMPLEMENTED} (benchmarks/{name}.py has no run())"
    params = inspect.signature(fn).parameters
    kwargs = {}
    if "quick" in params:
        kwargs["quick"] = cfg.perf_quick
    if "seeds" in params:
        # every claim verdict rests on the suite's seeds (2 quick, 3 full); the modules that
        # only time things take no seeds
        kwargs["seeds"] = cfg.seeds
    if "repeats" in params and cfg.perf_quick:
        kwargs["repeats"] = 3
    if "max_epochs" in params:
        kwargs["max_epochs"] = cfg.epochs
    if "n_samples" in params and cfg.perf_quick and name in QUICK_SIZES:
        # what only demonstrates a ratio runs on less data in the quick suite
        kwargs["n_samples"] = QUICK_SIZES[name]
    return _as_frame(fn(**kwargs)), "ok"


def run(ctx):
    rows = []
    for name, what in ctx.tqdm(list(MODULES.items()), desc="performance"):
        with Timer() as t:
            result, status = run_method(_call, name, ctx.cfg)
        if result is not None:
            frame, status = result
            if frame is not None:
                frame.to_csv(ctx.path(f"perf_{name}.csv"), index=False)
        rows.append(dict(module=f"benchmarks/{name}.py", measures=what, status=status,
                         seconds=t.seconds))
    df = pd.DataFrame(rows)
    df.to_csv(ctx.path("perf.csv"), index=False)
    return df
