"""Cost of the post-hoc adjustment against the memory-bound floor.

Times :func:`sklt.adjust.adjust_logits` on an ``n_samples x n_classes`` float32
probability matrix (default 200,000 x 1,000, as in the foundation issue) against
one ``np.log`` pass over the same matrix, in the same process, and reports the
ratio and the peak memory each needs beyond its input (``tracemalloc`` sees
NumPy's allocations).

Run ``python benchmarks/bench_adjust.py`` (``--n-samples``, ``--n-classes``,
``--repeats``); the benchmark suite calls :func:`run`.
"""

import argparse
import time
import tracemalloc

import numpy as np

from sklt.adjust import adjust_logits


def _best_time(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
        del out
    return best


def _peak_bytes(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del out
    return peak


def run(quick=True, n_samples=200_000, n_classes=1_000, repeats=None, seed=0):
    """Measure the adjustment against ``np.log``; return one dict per operation.

    Parameters
    ----------
    quick : bool, default=True
        Fewer repeats.
    n_samples, n_classes : int
        Size of the probability matrix.
    repeats : int, default=None
        Timing repeats (best of); 3 when quick, 7 otherwise.
    seed : int, default=0
        Seed of the random matrix.

    Returns
    -------
    rows : list of dict
        Keys ``operation``, ``seconds``, ``ratio_to_log``, ``peak_mib``,
        ``peak_over_input``, ``n_samples``, ``n_classes``, ``dtype``.
    """
    repeats = repeats or (3 if quick else 7)
    rng = np.random.default_rng(seed)
    proba = rng.random((n_samples, n_classes), dtype=np.float32) + np.float32(1e-6)
    proba /= proba.sum(axis=1, keepdims=True)
    source = rng.dirichlet(np.full(n_classes, 0.3)) + 1e-6
    input_bytes = proba.nbytes

    operations = {
        "np.log (floor)": lambda: np.log(proba),
        "adjust_logits -> log_proba": lambda: adjust_logits(
            proba, source, None, strength=1.0, input="proba", output="log_proba"
        ),
        "adjust_logits -> proba": lambda: adjust_logits(
            proba, source, None, strength=1.0, input="proba", output="proba"
        ),
        "adjust_logits, temperature + lam -> proba": lambda: adjust_logits(
            proba, source, None, strength=0.7, temperature=1.5, input="proba", output="proba"
        ),
    }
    # warm up: first touches of fresh pages are not what we measure
    for fn in operations.values():
        del_me = fn()
        del del_me
    rows = []
    floor = None
    for name, fn in operations.items():
        seconds = _best_time(fn, repeats)
        floor = seconds if floor is None else floor
        peak = _peak_bytes(fn)
        rows.append(
            {
                "operation": name,
                "seconds": seconds,
                "ratio_to_log": seconds / floor,
                "peak_mib": peak / 2**20,
                "peak_over_input": peak / input_bytes,
                "n_samples": n_samples,
                "n_classes": n_classes,
                "dtype": "float32",
            }
        )
    return rows


def format_table(rows):
    """Markdown table of :func:`run`'s rows."""
    lines = [
        "| operation | seconds | ratio to np.log | peak memory (MiB) | peak / input size |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['operation']} | {r['seconds']:.3f} | {r['ratio_to_log']:.2f}x | "
            f"{r['peak_mib']:.0f} | {r['peak_over_input']:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-classes", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rows = run(quick=False, n_samples=args.n_samples, n_classes=args.n_classes,
               repeats=args.repeats)
    print(f"Adjustment of a {args.n_samples:,} x {args.n_classes:,} float32 matrix "
          "(best of repeats; same process):\n")
    print(format_table(rows))


if __name__ == "__main__":
    main()
