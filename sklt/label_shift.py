"""Estimate an unknown target prior from unlabelled target data (label shift).

Under *label shift* the class-conditional densities stay fixed between the
source (training) and the target (deployment) distribution, ``p_t(x | y) =
p_s(x | y)``; only the class prior moves from ``p_s(y)`` to an unknown
``p_t(y)``. The posteriors then differ by Bayes' rule only::

    P_t(y | x)  ∝  P_s(y | x) · p_t(y) / p_s(y)

which is exactly the correction that :func:`sklt.adjust.adjust_logits` applies.
This module estimates ``p_t`` from unlabelled target samples, so that it can be
passed as ``target_prior`` to any sklt estimator (``METHODS.md`` §1, "Unknown
target prior"):

- :func:`em_prior`: the EM algorithm of Saerens, Latinne & Decaestecker (2002),
  a maximum-likelihood estimate that needs calibrated source posteriors;
- :func:`bbse_prior`: black-box shift estimation (Lipton, Wang & Smola, 2018),
  a moment-matching estimate that needs a labelled validation set from the
  source distribution but no calibration;
- :func:`fit_bias_corrected_temperature`: bias-corrected temperature scaling
  (Alexandari, Kundaje & Shrikumar, 2020), the calibration that makes EM hard to
  beat;
- :func:`estimate_target_prior`: all of the above from a fitted estimator.

Estimating the prior is a separate step on a batch of target data: it never runs
inside ``predict_proba`` (predictions stay row-wise).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.linalg import get_lapack_funcs
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from ._compat import _num_features
from ._utils import _as_numeric_array, _encode
from .adjust import _adjust, _as_float_array, adjust_logits
from .posthoc import _inner_log_scores
from .priors import check_prior, class_frequencies

__all__ = [
    "bbse_prior",
    "em_prior",
    "estimate_target_prior",
    "fit_bias_corrected_temperature",
]


def _check_scores(scores, name, input, *, return_row_sums=False):
    """Validate a 2-D score array; return it as float64 (no copy when it already is).

    Validation is one pass for the row sums and one for the minimum (for
    probabilities) or the row maxima: NaN, ``+inf``, rows without probability mass
    (all ``-inf`` in log space) and, for probabilities, negative values raise a ``ValueError``
    naming ``name``. With ``return_row_sums``, also the row sums of
    probabilities (None for other inputs), which BBSE-soft reuses.
    """
    if not isinstance(input, str) or input not in ("proba", "log_proba", "logits"):
        raise ValueError(f"input must be 'proba', 'log_proba' or 'logits'; got {input!r}.")
    scores = _as_float_array(scores, name)
    if scores.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_classes); got shape "
                         f"{scores.shape}.")
    if scores.shape[0] == 0:
        raise ValueError(f"{name} has no samples.")
    if scores.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 classes (columns); got {scores.shape[1]}.")
    scores = scores.astype(np.float64, copy=False)
    total = None
    if input == "proba":
        # NaN and +inf show in the row sums, rows without mass too
        total = np.einsum("ij->i", scores)
        low, high = total.min(), total.max()
        if not (scores.min() >= 0 and high < np.inf):  # False for NaN too
            raise ValueError(f"{name} must hold finite, non-negative probabilities.")
        if not low > 0:
            rows = np.flatnonzero(~(total > 0))
            raise ValueError(
                f"{name} has {rows.size} row(s) in which every class has probability 0 (first: "
                f"{rows[:5].tolist()}); posteriors must have positive mass."
            )
    else:
        row_max = scores.max(axis=1)  # NaN propagates
        if not row_max.max() < np.inf:
            raise ValueError(f"{name} contains NaN or +inf.")
        if not row_max.min() > -np.inf:
            rows = np.flatnonzero(~(row_max > -np.inf))
            raise ValueError(
                f"{name} has {rows.size} row(s) in which every class has log-score -inf "
                f"(first: {rows[:5].tolist()}): probability 0 for every class; posteriors "
                "must have positive mass."
            )
    return (scores, total) if return_row_sums else scores


def _check_tol_max_iter(tol, max_iter):
    if (not isinstance(max_iter, Integral) or isinstance(max_iter, (bool, np.bool_))
            or max_iter < 1):
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    try:
        finite = isinstance(tol, Real) and bool(np.isfinite(float(tol)))
    except OverflowError:  # an int beyond the float range
        finite = False
    if not finite or isinstance(tol, (bool, np.bool_)) or tol <= 0:
        raise ValueError(f"tol must be a positive, finite number; got {tol!r}.")


def _unit_max(prior):
    """Numeric prior weights divided by their maximum (so that their sum cannot overflow);
    anything else unchanged, for check_prior to validate and name."""
    if isinstance(prior, (str, dict)) or prior is None:
        return prior
    try:
        values = _as_numeric_array(prior, "prior")  # no numeric strings, no complex numbers
    except (TypeError, ValueError):
        return prior
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        return prior
    top = values.max()
    return values / top if top > 0 else prior


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def _check_sample_weight(sample_weight, n_samples):
    """Finite non-negative weights with a positive sum, normalised to sum to one.

    Normalised by their maximum first, so that huge finite weights are exact.
    """
    if isinstance(sample_weight, (str, bytes, dict)):
        raise TypeError(
            f"sample_weight must be an array-like of numbers; got {type(sample_weight).__name__}."
        )
    try:
        weights = np.asarray(sample_weight)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"sample_weight must be an array-like of numbers: {exc}") from None
    if weights.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be numeric; got dtype {weights.dtype}.")
    weights = weights.astype(np.float64)
    if weights.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {weights.shape} but scores has {n_samples} "
                         "samples; pass one weight per sample.")
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight contains NaN or infinite values; pass finite weights.")
    if np.any(weights < 0):
        raise ValueError(f"sample_weight must be non-negative; got {weights.min()!r}. Give such "
                         "samples weight 0 or drop them.")
    top = weights.max()
    if not top > 0:
        raise ValueError("sample_weight sums to zero; give some samples a positive weight.")
    weights = weights / top
    return weights / weights.sum()


def _encode_labels(y, n_classes, classes, name="y_val"):
    """Map labels to column indices ``0..K-1``."""
    if isinstance(y, (str, bytes, dict)):
        raise TypeError(f"{name} must be a 1-D array-like of labels; got {y!r}.")
    try:
        y = np.asarray(y)
    except ValueError:  # ragged nested sequences
        raise ValueError(
            f"{name} must be a 1-D array-like of labels; got a ragged nested sequence."
        ) from None
    if y.ndim == 0:
        raise TypeError(f"{name} must be a 1-D array-like of labels; got {y!r}.")
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {y.shape}.")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} contains NaN labels; drop those samples.")
    if classes is None:
        if y.dtype.kind == "O":  # integers in an object array (e.g. from pandas)
            try:
                y = y.astype(np.float64) if all(
                    isinstance(v, (Integral, float, np.floating)) and not isinstance(v, bool)
                    for v in y) else y
            except (TypeError, ValueError, OverflowError):
                pass
        if y.dtype.kind not in "iub" and not (
            y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))
        ):
            raise ValueError(
                f"{name} must hold integer column indices in [0, {n_classes}) when classes is "
                "None; pass classes= to use other labels."
            )
        idx = y.astype(np.intp)
        if np.any(idx < 0) or np.any(idx >= n_classes):
            raise ValueError(
                f"{name} has indices outside [0, {n_classes}) (the scores have {n_classes} "
                "columns, one per class); check that the scores and the labels match."
            )
        return idx
    classes = np.asarray(classes)
    if classes.ndim != 1 or len(classes) != n_classes:
        raise ValueError(
            f"classes has shape {classes.shape} but the scores have {n_classes} columns."
        )
    try:
        n_unique = len(np.unique(classes))
    except TypeError:
        n_unique = len(classes)  # mixed types: _encode names the problem
    if n_unique != len(classes):
        raise ValueError(f"classes has duplicate labels: {classes.tolist()[:8]}; pass each class "
                         "once, in the order of the score columns.")
    return _encode(y, classes, name=name, classes_name="classes")


def _soft_predictions(scores, row_sums, input, name):
    """``(P, c)``: probabilities up to a row scale and the scale ``c`` (``P * c[:, None]``
    sums to one per row); BBSE-soft folds ``c`` into its products. ``row_sums``: the
    validated row sums of probabilities (reused, not recomputed)."""
    if input == "proba":
        if row_sums.min() < 1e-150:
            # rows with tiny (e.g. subnormal) mass: 1 / sum would overflow; dividing such a
            # row by its maximum first is exact and leaves its normalised values unchanged
            row_max = scores.max(axis=1)
            tiny = row_sums < 1e-150
            scores = scores.copy()
            scores[tiny] /= row_max[tiny, None]
            row_sums = np.where(tiny, np.einsum("ij->i", scores), row_sums)
        return scores, 1.0 / row_sums
    proba = _adjust(scores, None, None, 1.0, 1.0, -1, input, "proba", name)
    return proba, np.ones(len(proba))


def _posteriors(scores, input):
    """Row posteriors (float64) from validated scores (rows need not be normalised).

    Rows whose largest probability is tiny are divided by it (an exact rescaling of the
    row): products with the prior ratio would underflow to 0 / 0 otherwise.
    """
    if input == "proba":
        row_max = scores.max(axis=1)
        if row_max.min() < 1e-150:
            scores = scores / row_max[:, None]
        return scores
    return adjust_logits(scores, output="proba")


def em_prior(
    scores,
    source_prior,
    *,
    input="proba",
    init=None,
    sample_weight=None,
    max_iter=1000,
    tol=1e-6,
    return_n_iter=False,
):
    """Maximum-likelihood target prior by EM (Saerens et al., 2002).

    Starting from ``p = init`` (default: the source prior), iterate::

        E-step:  P_t(y | x_i) ∝ P_s(y | x_i) · p(y) / p_s(y)    (sklt.adjust.adjust_logits)
        M-step:  p(y) ← mean_i P_t(y | x_i)

    until the largest change of ``p`` is below ``tol``. Each iteration is
    one vectorised pass over the target posteriors. The fixed point maximises
    the likelihood of the unlabelled target sample under the label-shift model
    (Saerens, Latinne & Decaestecker, *Neural Computation* 14, 2002, eq. 2.9-2.10).

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes)
        Source-model posteriors of the unlabelled **target** samples (see
        ``input``), entangled with ``source_prior``.
    source_prior : array-like of shape (n_classes,)
        Prior the posteriors are entangled with (usually the training class
        frequencies). Strictly positive.
    input : {"proba", "log_proba", "logits"}, default="proba"
        What ``scores`` holds; logits are normalised with a softmax first.
    init : array-like of shape (n_classes,), default=None
        Starting point; ``None`` starts at ``source_prior``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the target samples in the M-step mean.
    max_iter : int, default=1000
        Maximum number of EM iterations; a ``ConvergenceWarning`` is issued
        when it is reached.
    tol : float, default=1e-6
        Stop when ``max|p_new - p| < tol``.
    return_n_iter : bool, default=False
        Also return the number of iterations run.

    Returns
    -------
    target_prior : ndarray of shape (n_classes,)
        The estimate; non-negative, sums to one.
    n_iter : int
        Only when ``return_n_iter=True``.

    Notes
    -----
    EM relies on the posteriors being calibrated for the source distribution:
    over-confident or biased posteriors bias the estimate (Alexandari et al.,
    2020). Calibrate them first, e.g. with
    :func:`fit_bias_corrected_temperature`, or use :func:`bbse_prior`.

    See Also
    --------
    bbse_prior : Black-box shift estimation.
    estimate_target_prior : The same from a fitted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.label_shift import em_prior
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(5000) < 0.8                  # target: 20 % / 80 %, labels unknown
    >>> x = np.where(y, 1.0, -1.0) + rng.normal(size=5000)
    >>> # exact posteriors of the source distribution, whose prior is 50 % / 50 %
    >>> proba = np.c_[1 / (1 + np.exp(2 * x)), 1 / (1 + np.exp(-2 * x))]
    >>> em_prior(proba, source_prior=[0.5, 0.5]).round(2)
    array([0.2, 0.8])
    """
    _check_tol_max_iter(tol, max_iter)
    return_n_iter = _check_flag(return_n_iter, "return_n_iter")
    scores = _check_scores(scores, "scores", input)
    n_samples, n_classes = scores.shape
    classes = np.arange(n_classes)
    source_prior = check_prior(_unit_max(source_prior), classes, name="source_prior",
                               allow_zero=False)
    prior = source_prior
    if init is not None:
        prior = check_prior(_unit_max(init), classes, name="init", allow_zero=True)
        if np.any(prior == 0):
            raise ValueError(
                f"init is zero for classes {np.flatnonzero(prior == 0).tolist()}: EM multiplies "
                "the prior, so a class started at 0 stays at 0. Give every class a positive "
                "starting weight (or init=None: the source prior)."
            )
    proba = _posteriors(scores, input)
    weights = None
    if sample_weight is not None:
        weights = _check_sample_weight(sample_weight, n_samples)
        keep = weights > 0
        if not keep.all():  # a zero-weight row must not turn 0 / 0 into NaN
            proba, weights = proba[keep], weights[keep]
    prior, n_iter, delta = _em(proba, source_prior, prior, weights, max_iter, tol)
    if delta >= tol:
        warnings.warn(
            f"EM did not converge in max_iter={max_iter} iterations (last change {delta:.2e} "
            f">= tol={tol}); increase max_iter.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return (prior, n_iter) if return_n_iter else prior


def _em(proba, source_prior, prior, weights, max_iter, tol):
    """The EM iterations on posteriors ``proba`` (rows need not be normalised).

    With ``r = p / p_s`` the E-step posteriors are ``P_ik r_k / (P_i . r)``
    (Bayes' rule, what ``adjust_logits(P, p_s, p, input="proba")`` computes) and
    the M-step mean over samples is ``r_k * sum_i w_i P_ik / (P_i . r)``: two
    matrix-vector products per iteration and no ``(n, K)`` temporary.
    Returns ``(prior, n_iter, last_change)``.
    """
    n_samples = proba.shape[0]
    delta = np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (used after the loop)
        ratio = prior / source_prior
        denom = proba @ ratio
        if weights is None:
            new_prior = ratio * (proba.T @ (1.0 / denom)) / n_samples
        else:
            new_prior = ratio * (proba.T @ (weights / denom))
        new_prior /= new_prior.sum()
        delta = np.max(np.abs(new_prior - prior))
        prior = new_prior
        if delta < tol:
            break
    return prior, n_iter, delta


def _solve_confusion(joint, mu):
    """``(w, rank)`` with ``C w = mu``.

    An LU factorisation solves it when LAPACK's estimate of the reciprocal
    condition number (1-norm) is above ``1e-6`` (the usual case, a few
    microseconds; the answer then agrees with the SVD's to about ``1e-10``);
    otherwise an SVD gives the numerical rank (singular values above
    ``max * n_classes * eps``) and the minimum-norm least-squares solution, as
    ``np.linalg.lstsq`` would.
    """
    k = joint.shape[0]
    if not (np.all(np.isfinite(joint)) and np.all(np.isfinite(mu))):  # never reach LAPACK
        raise ValueError("BBSE's confusion matrix or target predictions are not finite; the "
                         "scores overflow float64.")
    getrf, getrs, gecon = get_lapack_funcs(("getrf", "getrs", "gecon"), (joint,))
    lu, piv, info = getrf(joint)
    if info == 0:
        rcond, info = gecon(lu, np.abs(joint).sum(axis=0).max())
        if info == 0 and rcond > 1e-6:
            w, info = getrs(lu, piv, mu)
            if info == 0:
                return w, k
    u, sing, vt = np.linalg.svd(joint)
    keep = sing > sing.max() * k * np.finfo(np.float64).eps
    w = vt[keep].T @ ((u[:, keep].T @ mu) / sing[keep])
    return w, int(keep.sum())


def bbse_prior(
    val_scores,
    y_val,
    target_scores,
    *,
    soft=False,
    classes=None,
    input="proba",
):
    """Target prior by black-box shift estimation (Lipton et al., 2018).

    For a fixed classifier ``f``, label shift gives ``P_t(f(x) = i) =
    Σ_j P_s(f(x) = i, y = j) · w_j`` with ``w = p_t / p_s``. BBSE estimates
    the joint confusion matrix ``C_ij = P_s(f(x) = i, y = j)`` on labelled
    validation data (from the source distribution), the prediction rates
    ``μ_i = P_t(f(x) = i)`` on the unlabelled target data, solves ``C w = μ``
    (Lipton, Wang & Smola, ICML 2018, Theorem 1) and returns
    ``p_t = w · p_val`` (``p_val`` = class frequencies of ``y_val`` = column
    sums of ``C``).

    With ``soft=False`` (BBSE-hard), ``f(x)`` is the arg-max prediction. With
    ``soft=True`` (BBSE-soft), the one-hot predictions are replaced by the
    predicted probabilities, ``C_ij = mean_k P(i | x_k) [y_k = j]``.

    Parameters
    ----------
    val_scores : array-like of shape (n_val, n_classes)
        Scores of the classifier on the labelled validation samples.
    y_val : array-like of shape (n_val,)
        Validation labels: column indices ``0..K-1``, or labels from
        ``classes``.
    target_scores : array-like of shape (n_target, n_classes)
        Scores of the same classifier on the unlabelled target samples.
    soft : bool, default=False
        Use predicted probabilities instead of hard predictions.
    classes : array-like of shape (n_classes,), default=None
        Labels of the score columns (e.g. ``estimator.classes_``); needed when
        ``y_val`` does not hold column indices.
    input : {"proba", "log_proba", "logits"}, default="proba"
        What the scores hold (only matters for ``soft=True``; the arg-max is the
        same for all three).

    Returns
    -------
    target_prior : ndarray of shape (n_classes,)
        Non-negative, sums to one.

    Warns
    -----
    UserWarning
        If the confusion matrix is singular (a class is never predicted on the
        validation set, or has no validation sample, or two classes are
        predicted identically): ``p_t / p_s`` is not identifiable and the
        minimum-norm least-squares solution is used instead. Also when the
        solution has negative entries (finite-sample noise): they are clipped
        to zero and the prior renormalised.

    Notes
    -----
    BBSE is consistent for any fixed classifier, calibrated or not, as long as
    ``C`` is invertible; its error grows with the condition number of ``C``
    and shrinks as ``1/sqrt(n_val) + 1/sqrt(n_target)``.

    See Also
    --------
    em_prior : Maximum-likelihood estimate by EM.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.label_shift import bbse_prior
    >>> val_pred = np.eye(2)[[0, 0, 0, 0, 1, 1, 1, 1]]   # one-hot predictions
    >>> y_val = [0, 0, 0, 1, 1, 1, 1, 0]                  # right 3 times out of 4
    >>> target_pred = np.eye(2)[[0, 0, 1, 1, 1, 1]]
    >>> bbse_prior(val_pred, y_val, target_pred).round(3)
    array([0.167, 0.833])
    """
    soft = _check_flag(soft, "soft")
    val_scores, val_sums = _check_scores(val_scores, "val_scores", input, return_row_sums=True)
    target_scores, target_sums = _check_scores(target_scores, "target_scores", input,
                                               return_row_sums=True)
    n_classes = val_scores.shape[1]
    if target_scores.shape[1] != n_classes:
        raise ValueError(f"target_scores has {target_scores.shape[1]} columns but val_scores has "
                         f"{n_classes}.")
    y_idx = _encode_labels(y_val, n_classes, classes)
    if y_idx.shape[0] != val_scores.shape[0]:
        raise ValueError(f"y_val has {y_idx.shape[0]} labels but val_scores has "
                         f"{val_scores.shape[0]} rows.")
    n_val = y_idx.shape[0]
    if soft:
        # BBSE-soft: rows normalised (1 / row sum folded into the label weights)
        val_proba, val_scale = _soft_predictions(val_scores, val_sums, input, "val_scores")
        target_proba, target_scale = _soft_predictions(target_scores, target_sums, input,
                                                       "target_scores")
        mu = target_proba.T @ target_scale / len(target_proba)
        # C[i, j] = mean_k P(i | x_k) [y_k = j]: a one-hot product for few classes
        # (BLAS), one sparse product (O(n K), no (n, K) one-hot) for many
        if n_classes <= 32:
            onehot = np.zeros((n_val, n_classes))
            onehot[np.arange(n_val), y_idx] = val_scale
            joint = val_proba.T @ onehot / n_val
        else:
            by_label = sparse.csr_matrix(
                (val_scale, (y_idx, np.arange(n_val))), shape=(n_classes, n_val)
            )
            joint = np.asarray(by_label @ val_proba).T / n_val
    else:
        # joint confusion matrix C[i, j] = P_s(f(x) = i, y = j), counted in one pass
        pred = np.argmax(val_scores, axis=1)
        joint = np.bincount(pred * n_classes + y_idx, minlength=n_classes**2).reshape(
            n_classes, n_classes) / n_val
        mu = np.bincount(np.argmax(target_scores, axis=1), minlength=n_classes) / len(
            target_scores)
    p_val = joint.sum(axis=0)
    w, rank = _solve_confusion(joint, mu)
    if rank < n_classes:
        never_predicted = np.flatnonzero(joint.sum(axis=1) == 0).tolist()
        no_samples = np.flatnonzero(p_val == 0).tolist()
        warnings.warn(
            f"The validation confusion matrix is singular (rank {rank} < {n_classes} classes; "
            f"never predicted: {never_predicted}, no validation samples: {no_samples}): "
            "p_t / p_s is not identifiable. Falling back to the minimum-norm least-squares "
            "solution; use more validation data, a classifier that predicts every class, "
            "or method='em'.",
            UserWarning,
            stacklevel=2,
        )
    prior = w * p_val
    if np.any(prior < 0):
        warnings.warn(
            f"BBSE gave negative prior entries {np.round(prior[prior < 0], 4).tolist()} at "
            f"classes {np.flatnonzero(prior < 0).tolist()} (finite-sample noise); clipping "
            "them to 0 and renormalising.",
            UserWarning,
            stacklevel=2,
        )
        prior = np.clip(prior, 0, None)
    if not prior.sum() > 0:
        raise ValueError("BBSE produced an all-zero prior; the confusion matrix is too poorly "
                         "estimated. Use more validation data or method='em'.")
    return prior / prior.sum()


def fit_bias_corrected_temperature(scores, y, *, classes=None, input="logits"):
    """Fit bias-corrected temperature scaling (BCTS) by minimising the NLL.

    Calibrated posteriors are ``softmax(z / T + b)`` with a temperature ``T > 0``
    and per-class biases ``b`` (Alexandari, Kundaje & Shrikumar, ICML 2020,
    §3): temperature scaling (Guo et al., 2017) plus the class bias terms that
    make EM prior estimation hard to beat. ``T`` and ``b`` minimise the mean
    negative log-likelihood of the labelled validation set (L-BFGS with the
    analytic gradient; ``b`` is fixed to 0 on the first class, softmax being
    invariant to a common shift).

    At the optimum the mean calibrated posterior equals the class frequencies
    of ``y`` (the gradient in ``b`` vanishes): calibrated posteriors are
    entangled with the validation prior.

    Parameters
    ----------
    scores : array-like of shape (n_samples, n_classes)
        Validation scores (logits, or log-probabilities of a probabilistic model).
    y : array-like of shape (n_samples,)
        Validation labels (column indices, or labels from ``classes``).
    classes : array-like of shape (n_classes,), default=None
        Labels of the columns.
    input : {"logits", "log_proba", "proba"}, default="logits"
        What ``scores`` holds; probabilities are mapped to log space.

    Returns
    -------
    temperature : float
    bias : ndarray of shape (n_classes,)
        Calibrated log-posteriors are
        ``adjust_logits(z + bias * temperature, temperature=temperature)``, i.e.
        ``log_softmax(z / temperature + bias)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.label_shift import fit_bias_corrected_temperature
    >>> rng = np.random.default_rng(0)
    >>> z = 2 * rng.normal(size=(5000, 3))                     # calibrated logits
    >>> y = np.argmax(z + rng.gumbel(size=z.shape), axis=1)     # y ~ softmax(z)
    >>> T, b = fit_bias_corrected_temperature(3 * z, y)         # over-confident by 3
    >>> round(T)
    3
    """
    scores = _check_scores(scores, "scores", input)
    if input == "proba":
        with np.errstate(divide="ignore"):
            scores = np.log(scores)
    n_samples, n_classes = scores.shape
    if not np.all(np.isfinite(scores)):
        # zero probabilities (-inf): floor them so that the NLL stays finite
        scores = np.maximum(scores, np.log(np.finfo(np.float64).tiny))
    y_idx = _encode_labels(y, n_classes, classes, name="y")
    if y_idx.shape[0] != n_samples:
        raise ValueError(f"y has {y_idx.shape[0]} labels but scores has {n_samples} rows.")
    # centre the scores per row (softmax-invariant) and divide them by their
    # spread: the fit is then the same at any scale (no overflow for huge
    # logits) and starts at a temperature equal to that spread
    z = scores - scores.mean(axis=1, keepdims=True)
    peak = np.abs(z).max()
    spread = peak * np.std(z / peak) if peak > 0 else 1.0
    if not spread > 0:
        spread = 1.0
    z /= spread
    rows = np.arange(n_samples)
    z_true = z[rows, y_idx]
    z_true_mean = z_true.mean()
    label_freq = np.bincount(y_idx, minlength=n_classes) / n_samples

    def nll_and_grad(theta):
        beta = np.exp(theta[0])  # inverse temperature of the standardised scores
        bias = np.concatenate(([0.0], theta[1:]))
        s = z * beta
        s += bias
        top = s.max(axis=1, keepdims=True)
        s -= top
        np.exp(s, out=s)
        total = s.sum(axis=1)
        nll = np.mean(top[:, 0] + np.log(total)) - (beta * z_true_mean + bias[y_idx].mean())
        s /= total[:, None]  # the calibrated posteriors
        grad_beta = np.einsum("ij,ij->", s, z) / n_samples - z_true_mean
        grad_bias = s.mean(axis=0) - label_freq
        return nll, np.concatenate(([beta * grad_beta], grad_bias[1:]))

    bounds = [(-50.0, 50.0)] + [(None, None)] * (n_classes - 1)
    res = minimize(nll_and_grad, np.zeros(n_classes), jac=True, method="L-BFGS-B",
                   bounds=bounds, options={"maxiter": 1000})
    temperature = float(spread * np.exp(-res.x[0]))
    bias = np.concatenate(([0.0], res.x[1:]))
    return temperature, bias


def _is_sklt_corrector(estimator):
    return all(hasattr(estimator, a) for a in ("estimator_", "source_prior_", "target_prior_"))


def estimate_target_prior(
    estimator,
    X_target,
    *,
    method="em",
    X_val=None,
    y_val=None,
    source_prior="auto",
    calibrate=False,
    max_iter=1000,
    tol=1e-6,
):
    """Estimate the class prior of unlabelled target data under label shift.

    The result is aligned with ``estimator.classes_`` and can be passed as
    ``target_prior`` to any sklt estimator.

    Assumptions: *label shift only* — the class-conditional densities
    ``p(x | y)`` are the same in the source and the target data; only the
    class prior differs. Under covariate shift or concept drift the estimate
    is meaningless.

    Parameters
    ----------
    estimator : fitted classifier
        Any fitted classifier with ``predict_proba`` or ``decision_function``.
        For an sklt post-hoc corrector (:class:`sklt.PriorShiftClassifier`,
        :class:`sklt.LogitAdjuster` and their CV versions) EM uses the inner
        model's posteriors and the corrector's ``source_prior_``, so that the
        estimate does not depend on the corrector's current ``target_prior``.
    X_target : array-like of shape (n_target, n_features)
        Unlabelled target samples.
    method : {"em", "bbse", "bbse-soft"}, default="em"
        ``"em"``: :func:`em_prior` (Saerens et al., 2002); ``"bbse"`` and
        ``"bbse-soft"``: :func:`bbse_prior` with hard or soft predictions of
        ``estimator`` (Lipton et al., 2018; needs ``X_val`` and ``y_val``).
    X_val, y_val : array-like, default=None
        Labelled validation data from the source distribution, not used to fit
        ``estimator``. Needed by BBSE and by ``calibrate=True``.
    source_prior : "auto", array-like of shape (n_classes,) or dict, default="auto"
        EM only: the prior the estimator's posteriors are entangled with.
        ``"auto"`` takes, in order: the class frequencies of ``y_val`` when
        ``calibrate=True`` (calibrated posteriors are entangled with them);
        ``estimator.source_prior_`` (sklt correctors);
        ``estimator.class_prior_`` (e.g. naive Bayes); the class frequencies of
        ``y_val`` (assumed drawn from the training distribution). Otherwise pass
        it explicitly, e.g. the training class frequencies.
    calibrate : bool, default=False
        EM only: first fit bias-corrected temperature scaling on
        ``(X_val, y_val)`` (:func:`fit_bias_corrected_temperature`) and run EM on
        the calibrated posteriors (Alexandari et al., 2020).
    max_iter : int, default=1000
        Maximum number of EM iterations.
    tol : float, default=1e-6
        EM tolerance on the change of the prior.

    Returns
    -------
    target_prior : ndarray of shape (n_classes,)
        The estimated prior, in the order of ``estimator.classes_``.

    Notes
    -----
    Failure modes: EM is biased when the posteriors are miscalibrated (deep
    nets are over-confident; use ``calibrate=True``); BBSE needs an invertible
    confusion matrix — every class must be predicted on the validation set —
    and enough validation data (its error grows with the condition number of
    the confusion matrix); both degrade when the target sample is small.

    See Also
    --------
    em_prior, bbse_prior, fit_bias_corrected_temperature

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklt.label_shift import estimate_target_prior
    >>> rng = np.random.default_rng(0)
    >>> def sample(n0, n1):
    ...     X = np.r_[rng.normal(-1, 1, size=(n0, 2)), rng.normal(1, 1, size=(n1, 2))]
    ...     return X, np.r_[np.zeros(n0, int), np.ones(n1, int)]
    >>> X, y = sample(1800, 200)            # source: 90 % / 10 %
    >>> X_target, _ = sample(1000, 3000)    # target: 25 % / 75 %, labels unknown
    >>> clf = LogisticRegression().fit(X, y)
    >>> estimate_target_prior(clf, X_target, source_prior=[0.9, 0.1]).round(2)
    array([0.25, 0.75])
    """
    if not isinstance(method, str) or method not in ("em", "bbse", "bbse-soft"):
        raise ValueError(f"method must be 'em', 'bbse' or 'bbse-soft'; got {method!r}.")
    calibrate = _check_flag(calibrate, "calibrate")
    _check_tol_max_iter(tol, max_iter)
    check_is_fitted(estimator)
    if not hasattr(estimator, "classes_"):
        raise ValueError("estimator must be a fitted classifier with a classes_ attribute.")
    classes = np.asarray(estimator.classes_)
    _check_n_features(estimator, X_target, "X_target")
    needs_val = method != "em" or calibrate
    if needs_val:
        if X_val is None or y_val is None:
            what = f"method={method!r}" if method != "em" else "calibrate=True"
            raise ValueError(f"{what} needs labelled validation data: pass X_val and y_val.")
        _check_n_features(estimator, X_val, "X_val")
    if method != "em":
        val_scores = _inner_log_scores(estimator, X_val)
        target_scores = _inner_log_scores(estimator, X_target)
        return bbse_prior(val_scores, y_val, target_scores, soft=method == "bbse-soft",
                          classes=classes, input="logits")

    model = estimator.estimator_ if _is_sklt_corrector(estimator) else estimator
    target_scores = _inner_log_scores(model, X_target)
    if calibrate:
        val_scores = _inner_log_scores(model, X_val)
        temperature, bias = fit_bias_corrected_temperature(val_scores, y_val, classes=classes)
        target_scores = target_scores / temperature + bias
        auto_prior = class_frequencies(y_val, classes)
        if isinstance(source_prior, str) and source_prior == "auto" and np.any(auto_prior == 0):
            raise ValueError(
                f"calibrate=True needs validation samples of every class: y_val has none of "
                f"classes {classes[auto_prior == 0].tolist()[:6]}, so the calibrated "
                "posteriors cannot be entangled with its class frequencies. Use a larger "
                "validation set or calibrate=False."
            )
    elif _is_sklt_corrector(estimator):
        auto_prior = estimator.source_prior_
    elif hasattr(estimator, "class_prior_"):
        auto_prior = estimator.class_prior_
    elif y_val is not None:
        auto_prior = class_frequencies(y_val, classes)
    else:
        auto_prior = None
    if isinstance(source_prior, str) and source_prior == "auto":
        if auto_prior is None:
            raise ValueError(
                f"source_prior='auto' cannot be determined for {type(estimator).__name__}: it "
                "has no source_prior_ or class_prior_. Pass source_prior= (e.g. the class "
                "frequencies of the training labels) or labelled source data y_val."
            )
        source_prior = auto_prior
    source_prior = check_prior(source_prior, classes, name="source_prior", allow_zero=False)
    return em_prior(target_scores, source_prior, input="logits", max_iter=max_iter, tol=tol)


def _check_n_features(estimator, X, name):
    n_expected = getattr(estimator, "n_features_in_", None)
    try:
        n_features = _num_features(X)
    except TypeError as exc:
        raise ValueError(f"{name} must be a 2-D array-like of samples; {exc}") from exc
    if n_expected is not None and n_features != n_expected:
        raise ValueError(
            f"{name} has {n_features} features but {type(estimator).__name__} was fitted with "
            f"{n_expected} features."
        )
