"""Cost of the label-shift estimators against plain NumPy, in the same process.

Rows (10 classes, 5,000 target samples by default):

- ``em_prior`` against the textbook NumPy EM loop (Saerens et al., 2002: E-step
  ``P * p / p_s`` normalised per row, M-step the column mean) at the same
  tolerance, and, when installed, against abstention's ``EMImbalanceAdapter``
  and QuaPy's ``EMQ.EM`` (optional: neither is a dependency of sklt);
- ``bbse_prior`` (hard and soft) against plain NumPy BBSE (one-hot confusion
  matrix by matrix product, ``np.linalg.solve``);
- ``fit_bias_corrected_temperature`` against a plain NumPy/SciPy BCTS (the same
  L-BFGS-B on the same standardised scores, the NLL through
  ``scipy.special.log_softmax`` and one-hot gradients).

Each ratio is the median over interleaved rounds of ``time(sklt) / time(plain)``
measured back to back (robust to other processes sharing the CPU); each time
is the mean of several calls. The rows also report the largest difference of
the answers and the iteration counts. Target: at most 1.2x. sklt's times
include its input validation.

Run ``python benchmarks/bench_label_shift.py`` (``--n-samples``, ``--n-classes``,
``--rounds``); the benchmark suite calls :func:`run`.
"""

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax

from sklt.label_shift import bbse_prior, em_prior, fit_bias_corrected_temperature

TARGET = 1.2


def make_posteriors(n_samples=5000, n_classes=10, seed=0, separation=1.2):
    """Exact source posteriors of a shifted Gaussian target sample.

    Class-conditionals ``N(mu_y, I)`` in 5 dimensions; the source prior is
    long-tailed (ratio 10), the target prior its reverse. The posteriors are the
    Bayes posteriors under the *source* prior, as a calibrated source model
    would output them. Returns ``(proba, source_prior, target_prior, y)``.
    """
    rng = np.random.default_rng(seed)
    means = separation * rng.normal(size=(n_classes, 5))
    source = 10.0 ** -np.linspace(0, 1, n_classes)
    source /= source.sum()
    target = source[::-1].copy()
    y = rng.choice(n_classes, size=n_samples, p=target)
    X = means[y] + rng.normal(size=(n_samples, 5))
    log_lik = -0.5 * ((X[:, None, :] - means[None]) ** 2).sum(-1)
    logits = log_lik + np.log(source)
    proba = np.exp(log_softmax(logits, axis=1))
    return proba, source, target, y


def plain_em(proba, source_prior, tol=1e-6, max_iter=10_000):
    """The textbook loop; returns ``(prior, n_iter)``."""
    prior = source_prior.copy()
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (returned)
        post = proba * (prior / source_prior)
        post /= post.sum(axis=1, keepdims=True)
        new = post.mean(axis=0)
        delta = np.max(np.abs(new - prior))
        prior = new
        if delta < tol:
            break
    return prior, n_iter


def plain_bbse(val_pred, y_val, target_pred, n_classes):
    """Plain NumPy BBSE-hard on predicted labels (one-hot matrices)."""
    eye = np.eye(n_classes)
    joint = eye[val_pred].T @ eye[y_val] / len(y_val)
    mu = eye[target_pred].mean(axis=0)
    w = np.linalg.solve(joint, mu)
    prior = np.clip(w * joint.sum(axis=0), 0, None)
    return prior / prior.sum()


def plain_bbse_soft(val_proba, y_val, target_proba, n_classes):
    joint = val_proba.T @ np.eye(n_classes)[y_val] / len(y_val)
    w = np.linalg.solve(joint, target_proba.mean(axis=0))
    prior = np.clip(w * joint.sum(axis=0), 0, None)
    return prior / prior.sum()


def plain_bcts(scores, y):
    """BCTS as one would write it with SciPy: same objective, parametrisation and start."""
    n, k = scores.shape
    z = scores - scores.mean(axis=1, keepdims=True)
    spread = np.std(z)
    z = z / spread
    onehot = np.eye(k)[y]

    def nll_and_grad(theta):
        beta = np.exp(theta[0])
        bias = np.concatenate(([0.0], theta[1:]))
        log_p = log_softmax(z * beta + bias, axis=1)
        nll = -np.mean(np.sum(onehot * log_p, axis=1))
        g = np.exp(log_p) - onehot
        return nll, np.concatenate(([beta * np.mean(np.sum(g * z, axis=1))], g.mean(0)[1:]))

    bounds = [(-50.0, 50.0)] + [(None, None)] * (k - 1)
    res = minimize(nll_and_grad, np.zeros(k), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 1000})
    return float(spread * np.exp(-res.x[0])), np.concatenate(([0.0], res.x[1:]))


def _peer_em():
    """Optional peers: {name: fn(proba, source_prior, tol) -> prior}."""
    peers = {}
    try:
        from abstention.label_shift import EMImbalanceAdapter

        def abstention_em(proba, source_prior, tol):
            # abstention takes the source prior as the mean validation posterior
            adapter = EMImbalanceAdapter(tolerance=tol, max_iterations=10_000)
            fn = adapter(tofit_initial_posterior_probs=proba,
                         valid_posterior_probs=np.tile(source_prior, (2, 1)))
            return fn.multipliers * source_prior

        peers["abstention EMImbalanceAdapter"] = abstention_em
    except ImportError:
        pass
    try:
        import quapy  # noqa: F401
        from quapy.method.aggregative import EMQ

        def quapy_em(proba, source_prior, tol):
            # QuaPy stops on the mean absolute change (and after 10 iterations at least)
            return EMQ.EM(source_prior, proba, epsilon=tol)[0]

        peers["QuaPy EMQ.EM"] = quapy_em
    except ImportError:
        pass
    return peers


def _ratio(fn_a, fn_b, rounds, calls):
    """Median over rounds of mean-time(a) / mean-time(b), interleaved; and the times."""
    ratios, ta, tb = [], [], []
    for r in range(rounds):
        pair = [(0, fn_a), (1, fn_b)] if r % 2 == 0 else [(1, fn_b), (0, fn_a)]
        times = [0.0, 0.0]
        for i, fn in pair:
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times[i] = (time.perf_counter() - start) / calls
        ratios.append(times[0] / times[1])
        ta.append(times[0])
        tb.append(times[1])
    return float(np.median(ratios)), float(np.median(ta)), float(np.median(tb))


def _bbse_rows(row, rows, p_all, y_all, n_classes, rounds):
    half = len(p_all) // 2
    val, y_val, tgt = p_all[:half], y_all[:half], p_all[half:]
    size = f"{len(p_all):,} samples"
    calls = 20 if len(p_all) <= 10_000 else 2
    ours = bbse_prior(val, y_val, tgt)
    ref = plain_bbse(val.argmax(1), y_val, tgt.argmax(1), n_classes)
    r, ts, tb = _ratio(lambda: bbse_prior(val, y_val, tgt),
                       lambda: plain_bbse(val.argmax(1), y_val, tgt.argmax(1), n_classes),
                       rounds, calls)
    row(f"bbse_prior (hard), {size}", "plain NumPy BBSE", r, ts, tb,
        float(np.abs(ours - ref).max()))
    ours = bbse_prior(val, y_val, tgt, soft=True)
    ref = plain_bbse_soft(val, y_val, tgt, n_classes)
    r, ts, tb = _ratio(lambda: bbse_prior(val, y_val, tgt, soft=True),
                       lambda: plain_bbse_soft(val, y_val, tgt, n_classes), rounds, calls)
    row(f"bbse_prior (soft), {size}", "plain NumPy BBSE", r, ts, tb,
        float(np.abs(ours - ref).max()))
    rows[-1]["n_samples"] = rows[-2]["n_samples"] = len(p_all)


def run(quick=True, n_samples=5000, n_classes=10, rounds=None, seed=0):
    """Time sklt's label-shift estimators against plain NumPy; one dict per row.

    Returns
    -------
    rows : list of dict
        Keys ``operation``, ``baseline``, ``ratio`` (median of interleaved
        ``sklt / baseline``), ``seconds`` (sklt, median), ``baseline_seconds``,
        ``max_abs_diff`` (between the answers), ``n_iter``, ``baseline_n_iter``,
        ``target``, ``meets_target``, ``n_samples``, ``n_classes``.
    """
    rounds = rounds or (9 if quick else 25)
    tol = 1e-6
    proba, source, _, y = make_posteriors(n_samples, n_classes, seed)
    rows = []

    def row(operation, baseline, ratio, t_sklt, t_base, diff, n_iter=None, base_iter=None,
            target=TARGET):
        rows.append({
            "operation": operation, "baseline": baseline, "ratio": ratio,
            "seconds": t_sklt, "baseline_seconds": t_base, "max_abs_diff": diff,
            "n_iter": n_iter, "baseline_n_iter": base_iter, "target": target,
            "meets_target": None if target is None else bool(ratio <= target),
            "n_samples": n_samples, "n_classes": n_classes,
        })

    # ---- EM
    ours, n_ours = em_prior(proba, source, tol=tol, max_iter=10_000, return_n_iter=True)
    ref, n_ref = plain_em(proba, source, tol)
    r, ts, tb = _ratio(lambda: em_prior(proba, source, tol=tol, max_iter=10_000),
                       lambda: plain_em(proba, source, tol), rounds, 5)
    row("em_prior", "plain NumPy EM loop", r, ts, tb, float(np.abs(ours - ref).max()), n_ours,
        n_ref)
    for name, peer in _peer_em().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer = peer(proba, source, tol)
            r, tp, tb = _ratio(lambda peer=peer: peer(proba, source, tol),
                               lambda: plain_em(proba, source, tol), rounds, 5)
        row(f"{name} (peer, not sklt)", "plain NumPy EM loop", r, tp, tb,
            float(np.abs(answer - ref).max()), None, n_ref, target=None)
        rows[-1]["sklt_over_peer"] = ts / tp

    # ---- BBSE: a validation half and a target half of the same posteriors, at the
    # issue's size and at a size where the passes over the data dominate
    big = make_posteriors(min(200_000 if not quick else 50_000, 40 * n_samples), n_classes,
                          seed + 1)
    for p_all, y_all in ((proba, y), (big[0], big[3])):
        _bbse_rows(row, rows, p_all, y_all, n_classes, rounds)

    # ---- BCTS on over-confident logits
    logits = 2.5 * np.log(proba + 1e-12)
    t_ours, b_ours = fit_bias_corrected_temperature(logits, y)
    t_ref, b_ref = plain_bcts(logits, y)
    r, ts, tb = _ratio(lambda: fit_bias_corrected_temperature(logits, y),
                       lambda: plain_bcts(logits, y), rounds, 2)
    row("fit_bias_corrected_temperature", "plain NumPy/SciPy BCTS", r, ts, tb,
        float(max(abs(t_ours - t_ref), np.abs(b_ours - b_ref).max())))
    return rows


def format_table(rows):
    """Markdown table of :func:`run`'s rows."""
    lines = [
        "| operation | baseline | ratio (median) | target | ms (sklt) | ms (baseline) | "
        "max abs diff | iterations |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        target = "—" if r["target"] is None else f"≤ {r['target']}x"
        if r["meets_target"] is False:
            target += " **missed**"
        iters = "—" if r["n_iter"] is None and r["baseline_n_iter"] is None else (
            f"{r['n_iter'] if r['n_iter'] is not None else '—'} / {r['baseline_n_iter']}")
        extra = ""
        if "sklt_over_peer" in r and r["sklt_over_peer"] == r["sklt_over_peer"]:
            extra = f" (em_prior / peer: {r['sklt_over_peer']:.2f}x)"
        lines.append(
            f"| {r['operation']}{extra} | {r['baseline']} | {r['ratio']:.2f}x | {target} | "
            f"{1e3 * r['seconds']:.2f} | {1e3 * r['baseline_seconds']:.2f} | "
            f"{r['max_abs_diff']:.1e} | {iters} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--n-classes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=25)
    args = parser.parse_args(argv)
    rows = run(quick=False, n_samples=args.n_samples, n_classes=args.n_classes,
               rounds=args.rounds)
    print(f"Label-shift estimators, {args.n_samples:,} samples x {args.n_classes} classes, "
          f"median of {args.rounds} interleaved rounds (sklt / baseline):\n")
    print(format_table(rows))


if __name__ == "__main__":
    main()
