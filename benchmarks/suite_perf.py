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
    "test-set oracle; binary data against a hand-widened grid (issue #11)",
    "bench_losses": "training losses (sklt.nn)",
    "bench_training_methods": "training-time methods: mixup, UniMix, Bayias, estimated offset "
    "(003 Table 4, 001 Table 3)",
    "bench_fusion": "multimodal fusion (UNO-IC, 000 Table 5, synthetic)",
    "bench_label_shift": "label-shift estimators against plain NumPy (sklt.label_shift)",
    "bench_stream": "streaming a Dask array through the adjustment (2x10^6 rows when quick)",
}


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
        # the quick suite keeps the feature benchmarks short: one seed, few timing rounds
        kwargs["seeds"] = cfg.seeds if not cfg.perf_quick else 1
    if "repeats" in params and cfg.perf_quick:
        kwargs["repeats"] = 3
    if "max_epochs" in params and cfg.perf_quick:
        kwargs["max_epochs"] = cfg.epochs
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
