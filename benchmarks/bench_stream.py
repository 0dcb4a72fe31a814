"""Streaming a prediction set larger than memory through the adjustment with Dask.

The scores of ``n_rows x n_classes`` float32 logits (default 10^8 x 10: 4 GB,
more than a laptop's free memory) are generated lazily in blocks of
``block_rows`` rows (``dask.array.random``), adjusted with
:func:`sklt.adjust.adjust_logits` (``output="proba"``, a source prior and a
temperature) and reduced to the mean posterior (an EM M-step), block by block:
no step ever holds more than a few blocks. Each variant runs in a fresh
process, so that its peak resident memory (``ru_maxrss``) is its own:

- ``generate + mean``: the same pipeline without the adjustment (the floor);
- ``generate + adjust_logits + mean``: with it.

Reported: seconds, rows per second, the adjustment's share, peak memory. Run
``python benchmarks/bench_stream.py`` (``--n-rows``, ``--n-classes``,
``--block-rows``, ``--workers``); the benchmark suite calls :func:`run`
(2 x 10^6 rows when quick).
"""

import argparse
import multiprocessing
import resource
import time

import numpy as np


def _pipeline(n_rows, n_classes, block_rows, adjust, workers, queue):
    import dask
    import dask.array as da

    from sklt.adjust import adjust_logits

    logits = da.random.default_rng(0).standard_normal(
        (n_rows, n_classes), chunks=(block_rows, n_classes), dtype=np.float32)
    prior = np.linspace(1, 10, n_classes)
    if adjust:
        out = adjust_logits(logits, prior, temperature=1.5, output="proba")
    else:
        out = logits
    start = time.perf_counter()
    with dask.config.set(scheduler="threads", num_workers=workers):
        mean = out.mean(axis=0).compute()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    queue.put({"seconds": seconds, "peak_bytes": peak, "finite": bool(np.all(np.isfinite(mean)))})


class _ListQueue:
    def __init__(self):
        self.items = []

    def put(self, item):
        self.items.append(item)


def _in_fresh_process(*args):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_pipeline, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def run(quick=True, n_rows=None, n_classes=10, block_rows=1_000_000, workers=2, isolate=True):
    """Stream ``n_rows`` rows through the adjustment; one dict per variant.

    Parameters
    ----------
    quick : bool, default=True
        2 x 10^6 rows instead of 10^8.
    n_rows : int, default=None
        Overrides ``quick``.
    n_classes, block_rows, workers : int
        Classes, rows per Dask block, threads of the Dask scheduler.
    isolate : bool, default=True
        Run each pipeline in a fresh process (its own peak memory); False runs
        them here (faster; the peak is then this process's).

    Returns
    -------
    rows : list of dict
        Keys ``pipeline``, ``seconds``, ``rows_per_second``, ``adjust_share``,
        ``peak_mib``, ``data_mib`` (the float32 scores' total size),
        ``n_rows``, ``n_classes``, ``block_rows``, ``workers``.
    """
    n_rows = n_rows or (2 * 10**6 if quick else 10**8)
    block_rows = min(block_rows, n_rows)
    results = {}
    for name, adjust in (("generate + mean (floor)", False),
                         ("generate + adjust_logits + mean", True)):
        if isolate:
            results[name] = _in_fresh_process(n_rows, n_classes, block_rows, adjust, workers)
        else:
            queue = _ListQueue()
            _pipeline(n_rows, n_classes, block_rows, adjust, workers, queue)
            results[name] = queue.items[0]
    floor = results["generate + mean (floor)"]["seconds"]
    rows = []
    for name, res in results.items():
        rows.append({
            "pipeline": name, "seconds": res["seconds"],
            "rows_per_second": n_rows / res["seconds"],
            "adjust_share": None if name.startswith("generate + mean") else
            1 - floor / res["seconds"],
            "peak_mib": res["peak_bytes"] / 2**20, "data_mib": n_rows * n_classes * 4 / 2**20,
            "finite": res["finite"], "n_rows": n_rows, "n_classes": n_classes,
            "block_rows": block_rows, "workers": workers,
        })
    return rows


def format_table(rows):
    """Markdown table of :func:`run`'s rows."""
    lines = ["| pipeline | seconds | rows / s | adjustment's share | peak memory (MiB) | "
             "scores' size (MiB) |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        share = "—" if r["adjust_share"] is None else f"{100 * r['adjust_share']:.0f} %"
        lines.append(f"| {r['pipeline']} | {r['seconds']:.1f} | {r['rows_per_second']:.3g} | "
                     f"{share} | {r['peak_mib']:.0f} | {r['data_mib']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-rows", type=int, default=10**8)
    parser.add_argument("--n-classes", type=int, default=10)
    parser.add_argument("--block-rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    rows = run(quick=False, n_rows=args.n_rows, n_classes=args.n_classes,
               block_rows=args.block_rows, workers=args.workers)
    print(f"{args.n_rows:,} x {args.n_classes} float32 logits streamed in blocks of "
          f"{args.block_rows:,} rows ({args.workers} threads):\n")
    print(format_table(rows))


if __name__ == "__main__":
    main()
