"""Private helpers shared by sklt's modules: labels, calibration bins, per-class recall.

One implementation of each, used everywhere:

- :func:`_check_labels`, :func:`_unique_labels` and :func:`_encode` validate label
  vectors and map labels to class positions (any label type; classes in any order);
- :func:`_bin_edges` and :func:`_calibration_bins` bin predicted probabilities
  (equal-width or equal-mass bins, right-closed) and sum the outcomes and the
  probabilities of each bin; the calibration errors of :mod:`sklt.metrics` and the
  reliability diagram of :mod:`sklt.plotting` are computed from them;
- :func:`_per_class_recall` gives the (weighted) recall of every class.

The public helpers of scikit-learn and NumPy do the work where they can
(:func:`~sklearn.utils.validation.column_or_1d`,
:func:`~sklearn.utils.multiclass.type_of_target`, :func:`numpy.unique`,
:func:`numpy.searchsorted`, :func:`numpy.bincount`); what is added here are error
messages that name the parameter and say what to do.
"""

import numbers
import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

#: Elements per chunk of (n_samples, n_classes) computations: bounds the temporaries.
_CHUNK_ELEMENTS = 1 << 20


def _format_labels(labels, limit=6):
    """``[a, b, ...]`` for error messages (at most ``limit`` labels shown)."""
    labels = list(labels)
    shown = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in labels[:limit])
    return "[" + shown + (", ...]" if len(labels) > limit else "]")


def _check_sample_weight(sample_weight, n_samples):
    """Validated sample weights of ``n_samples`` samples (ones when None), float64.

    Weights must be finite and non-negative with a positive sum; errors name
    ``sample_weight``. The result is scaled to a maximum of one (for metrics, which
    are ratios of weighted sums and do not change).
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=np.float64)
    sample_weight = _as_numeric_array(sample_weight, "sample_weight")
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sample_weight.shape} but there are {n_samples} samples."
        )
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight contains NaN or infinite values; weights must be finite.")
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight contains negative values; weights must be non-negative.")
    if not np.any(sample_weight > 0):  # not the sum, which may overflow
        raise ValueError("sample_weight sums to zero: there is nothing to evaluate.")
    # Every metric here is a ratio of weighted sums: scaling the weights by their maximum
    # keeps the answer and keeps huge (finite) weights from overflowing the sums.
    return sample_weight / sample_weight.max()


def _as_array(value, name):
    """``np.asarray(value)``, with a ``ValueError`` naming ``name`` for ragged input."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError):  # ragged nested sequences and the like
        raise ValueError(
            f"{name} must be a rectangular array-like; got a ragged nested sequence (rows "
            "of different lengths) or an object that is not an array."
        ) from None


def _as_numeric_array(value, name):
    """``value`` as a float64 array of real numbers, or a ``TypeError`` naming ``name``.

    Complex numbers, strings, dicts and objects that are not real numbers are refused
    (NumPy would drop imaginary parts and parse numeric strings silently).
    """
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{name} must be an array-like of numbers; got {type(value).__name__}.")
    arr = _as_array(value, name)
    if arr.dtype.kind == "O" and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in arr.ravel().tolist()
    ):
        arr = arr.astype(np.float64)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}.")
    return arr.astype(np.float64)


def _check_random_state(random_state, name="random_state"):
    """:func:`sklearn.utils.check_random_state` with an error that names ``name``."""
    try:
        return check_random_state(random_state)
    except (ValueError, TypeError):
        raise ValueError(
            f"{name} must be None, an int in [0, 2**32 - 1] or a numpy.random.RandomState; "
            f"got {random_state!r}."
        ) from None


# --------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------


def _label_kind(values):
    """``"string"``, ``"number"`` or ``"mixed"`` for an array of (unique) labels."""
    kind = values.dtype.kind
    if kind in "US":
        return "string"
    if kind in "biufc":
        return "number"
    kinds = {"string" if isinstance(v, str | bytes) else "number" for v in values.tolist()}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _as_1d(y, name):
    """``y`` as a 1-D array; a column vector is raveled (with scikit-learn's warning)."""
    if y is None or isinstance(y, (str, bytes, dict)):
        raise ValueError(
            f"{name} must be a 1-D array-like of class labels; got {type(y).__name__}."
        )
    y = _as_array(y, name)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            f"{name} is a column vector; pass a 1-D array of shape (n_samples,).",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels; got an array of shape {y.shape}.")
    return y


def _unsorted_order(classes):
    """The stable order that sorts ``classes``, or None when they are sorted already.

    Metrics of probabilities read the columns in sorted-label order (as scikit-learn's
    do); a model's columns follow its ``classes_``, which need not be sorted.
    """
    order = np.argsort(np.asarray(classes), kind="stable")
    return None if np.array_equal(order, np.arange(len(order))) else order


def _finite_log_scores(z):
    """Log-scores with ``-inf`` (a probability of exactly 0) raised to the log of the
    smallest positive normal float of their dtype (about -708 in float64, -87 in float32).

    A decision function must stay finite: scikit-learn's calibrators
    (:class:`~sklearn.calibration.CalibratedClassifierCV` prefers ``decision_function``) and
    ranking metrics turn ``-inf`` into NaN or errors. The floor changes no ``argmax`` of a
    row whose largest score is finite, and ``exp`` of it is still 0 or the smallest
    normal number. A copy only where something is raised.
    """
    z = np.asarray(z)
    if z.dtype.kind != "f" or not np.isneginf(z).any():
        return z
    return np.maximum(z, np.log(np.finfo(z.dtype).tiny).astype(z.dtype))


def _isnan(y):
    """Element-wise NaN test of a label array of any dtype (object arrays included)."""
    if y.dtype.kind in "fc":
        return np.isnan(y)
    if y.dtype.kind == "O":
        # NaN is the only value unequal to itself; None is a missing label too
        return np.asarray(y != y, dtype=bool) | np.asarray(np.equal(y, None), dtype=bool)
    return np.zeros(y.shape, dtype=bool)


def _estimator_labels(y, name="y"):
    """Fit-time labels of an estimator: ``y`` checked for what scikit-learn reports badly.

    ``y`` must already be 1-D (:func:`~sklearn.utils.validation.column_or_1d`).
    Numbers held in an object array get their own dtype (scikit-learn calls such a
    target ``'unknown'``); complex labels raise a ``ValueError`` naming ``name``.
    Everything else is left to scikit-learn's checks (whose messages its estimator
    checks expect).
    """
    if y.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} must hold class labels, not complex numbers."
        )
    if y.dtype.kind == "O" and y.size and np.any(np.equal(y, None)):
        raise ValueError(
            f"{name} contains None (missing labels, at {int(np.sum(np.equal(y, None)))} "
            "positions); class labels must be integers or strings. Drop or impute them."
        )
    if y.dtype.kind == "O" and y.size and all(
        isinstance(v, numbers.Real) and v == v for v in y.tolist()
    ):
        y = np.asarray(y.tolist())
    if y.dtype.kind == "O" and y.size:
        _unique_labels(y, name)  # labels that mix strings and numbers: named, not a TypeError
    return y


class _LabelsScoreMixin:
    """``score`` that reads ``y`` as ``fit`` does (before :class:`~sklearn.base.ClassifierMixin`
    in the bases): integer labels held in an object array, which ``fit`` accepts, are scored
    as integers instead of failing as scikit-learn's "unknown" target type."""

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y``.

        As :meth:`sklearn.base.ClassifierMixin.score`, with ``y`` read as ``fit``
        reads it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklt import LogitAdjuster
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> y = np.array([0, 0, 1, 1], dtype=object)
        >>> float(LogitAdjuster(LogisticRegression()).fit(X, y).score(X, y))
        1.0
        """
        y_array = np.asarray(y)
        if y_array.ndim == 1:
            y = _estimator_labels(y_array)
        return super().score(X, y, sample_weight=sample_weight)


def _check_labels(y, name, *, allow_empty=False):
    """Validate a vector of class labels and return it as a 1-D array.

    Raises a ``ValueError`` naming ``name`` for NaN, continuous values (non-integer
    floats), multi-label or multi-output input, labels that mix strings and numbers,
    and (unless ``allow_empty``) an empty vector.
    """
    y = _as_1d(y, name)
    if y.shape[0] == 0:
        if allow_empty:
            return y
        raise ValueError(f"{name} is empty.")
    nan = _isnan(y)
    if np.any(nan):
        raise ValueError(
            f"{name} contains NaN or None (at {int(nan.sum())} of {len(y)} positions); class "
            "labels must be integers or strings. Drop or impute the missing labels."
        )
    if y.dtype.kind == "O" and _label_kind(_unique_labels(y, name)) == "number":
        y = np.asarray(y.tolist())  # numbers held in an object array: their own dtype
    if y.dtype.kind == "c":
        raise ValueError(f"{name} must hold class labels; got complex values.")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name} contains infinite values; class labels must be finite.")
        fractional = y != np.round(y)
        if np.any(fractional):
            raise ValueError(
                f"{name} must hold class labels, but it has continuous values (e.g. "
                f"{y[fractional][0]!r}). For a regression target use a regression metric; "
                "for probabilities pass them as y_prob/y_proba."
            )
    target = type_of_target(y, input_name=name)
    if target not in ("binary", "multiclass"):
        raise ValueError(
            f"{name} must hold class labels (binary or multiclass); got a {target!r} target."
        )
    return y


def _unique_labels(y, name="y", *, return_inverse=False):
    """Sorted unique labels of ``y`` (and each sample's position among them).

    :func:`numpy.unique`, with a ``ValueError`` naming ``name`` when the labels mix
    strings and numbers (which cannot be sorted).
    """
    try:
        out = np.unique(y, return_inverse=return_inverse)
    except TypeError as exc:
        raise ValueError(
            f"{name} mixes label types (e.g. strings and numbers); use one type for all labels."
        ) from exc
    classes = out[0] if return_inverse else out
    if classes.dtype.kind == "O" and _label_kind(classes) == "mixed":
        raise ValueError(
            f"{name} mixes label types (e.g. strings and numbers); use one type for all labels."
        )
    if return_inverse:
        return classes, np.asarray(out[1]).reshape(-1)
    return classes


def _check_label_kinds(named_labels):
    """Raise a ``ValueError`` when label arrays mix strings and numbers.

    ``named_labels`` is a list of ``(name, labels)``; the labels are few (unique
    labels, classes) or typed arrays, so checking them is cheap.
    """
    kinds = {}
    for name, labels in named_labels:
        labels = np.asarray(labels)
        if labels.size:
            kinds[name] = _label_kind(labels.ravel())
    if len(set(kinds.values())) > 1:
        described = ", ".join(f"{name} holds {kind} labels" for name, kind in kinds.items())
        raise ValueError(
            f"Label types do not match: {described}. Use the same label type everywhere "
            "(e.g. convert the integer labels to strings, or the reverse)."
        )


def _encode(y, classes, *, name="y", classes_name="classes", return_found=False):
    """Positions of the labels of ``y`` in ``classes``; an unknown label raises.

    ``classes`` holds unique labels in any order (a classifier's ``classes_``);
    ``classes[_encode(y, classes)] == y``. The one label encoder of sklt: it works
    for any label type and reports NaN, mixed types and unknown labels naming
    ``name`` and ``classes_name``.

    With ``return_found=True`` unknown labels do not raise: the function returns
    ``(idx, found)``, where ``found`` marks the labels present in ``classes`` (``idx``
    is meaningless elsewhere).

    Returns
    -------
    idx : ndarray of shape (n_samples,), dtype intp
    found : ndarray of shape (n_samples,), dtype bool
        Only with ``return_found=True``.
    """
    y = np.asarray(y)
    classes = np.asarray(classes)
    if len(classes) == 0:
        raise ValueError(f"{classes_name} is empty; there is no class to map {name} to.")
    if y.size == 0:
        idx = np.zeros(y.shape, dtype=np.intp)
        return (idx, np.zeros(y.shape, dtype=bool)) if return_found else idx
    nan = _isnan(y)
    if np.any(nan) and not np.any(_isnan(classes)):
        raise ValueError(
            f"{name} contains NaN (at {int(nan.sum())} of {y.size} positions); class labels "
            "must be integers or strings."
        )
    y_kind = _label_kind(_unique_labels(y, name) if y.dtype.kind == "O" else y.ravel()[:1])
    classes_kind = _label_kind(classes)
    if y_kind != classes_kind:
        raise ValueError(
            f"Label types do not match: {name} holds {y_kind} labels, {classes_name} holds "
            f"{classes_kind} labels {_format_labels(classes)}. Use the same label type "
            "everywhere (e.g. convert the integer labels to strings, or the reverse)."
        )
    sorter = np.argsort(classes, kind="stable")
    pos = np.searchsorted(classes, y, sorter=sorter)
    idx = sorter[np.clip(pos, 0, len(classes) - 1)]
    unknown = classes[idx] != y
    if return_found:
        return idx, ~unknown
    if np.any(unknown):
        raise ValueError(
            f"{name} contains labels {_format_labels(_unique_labels(y[unknown], name))} that "
            f"are not in {classes_name} {_format_labels(classes)}."
        )
    return idx


# --------------------------------------------------------------------------------------
# Calibration bins
# --------------------------------------------------------------------------------------

_STRATEGIES = ("uniform", "quantile")


#: Bins of a calibration error or diagram: each costs a few float64 per column.
_MAX_BINS = 1_000_000


def _check_n_bins(n_bins):
    from numbers import Integral

    if not isinstance(n_bins, Integral) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}.")
    if n_bins > _MAX_BINS:
        raise ValueError(
            f"n_bins={n_bins} is too large: at most {_MAX_BINS:,} bins (the papers use 15 or "
            "20; more bins than samples leave most of them empty)."
        )
    return int(n_bins)


def _check_strategy(strategy):
    if not isinstance(strategy, str) or strategy not in _STRATEGIES:
        raise ValueError(
            f"strategy must be 'uniform' (equal-width bins) or 'quantile' (bins with equal "
            f"numbers of samples); got {strategy!r}."
        )
    return strategy


def _bin_edges(scores, n_bins, strategy="uniform", sample_weight=None):
    """Edges of ``n_bins`` bins of probabilities ``scores`` (1-D, in [0, 1]).

    ``"uniform"``: ``b / M`` for ``b = 0 .. M``. ``"quantile"``: the quantiles of
    ``scores`` at ``b / M`` (:func:`numpy.percentile`, as
    :func:`sklearn.calibration.calibration_curve` does), weighted by
    ``sample_weight`` when the weights differ (inverted empirical CDF of the weighted
    scores); coinciding quantiles give empty bins.
    """
    n_bins = _check_n_bins(n_bins)
    if _check_strategy(strategy) == "uniform":
        return np.arange(n_bins + 1) / n_bins
    scores = np.asarray(scores, dtype=np.float64)
    levels = np.linspace(0, 1, n_bins + 1)
    if sample_weight is None or np.all(sample_weight == sample_weight[0]):
        # the expression of calibration_curve, so that the edges agree to the last bit
        return np.percentile(scores, levels * 100)
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    cdf = np.cumsum(sample_weight[order])
    cdf /= cdf[-1]
    positions = np.searchsorted(cdf, levels[1:-1], side="left")
    inner = sorted_scores[np.clip(positions, 0, len(scores) - 1)]
    return np.concatenate([[sorted_scores[0]], inner, [sorted_scores[-1]]])


def _bin_index(scores, edges):
    """Bin ``b`` of each score with ``edges[b] < score <= edges[b + 1]``.

    Bins are closed on the right (as in :func:`sklearn.calibration.calibration_curve`);
    a score at or below ``edges[1]`` goes to the first bin and one above
    ``edges[-2]`` to the last.
    """
    return np.searchsorted(edges[1:-1], scores, side="left")


def _calibration_bins(scores, outcomes, *, n_bins=15, strategy="uniform", sample_weight=None):
    """Sums over the calibration bins of probabilities: weight, outcome and score.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,) or (n_samples, n_columns)
        Probabilities in ``[0, 1]``; each column is binned on its own.
    outcomes : ndarray of shape (n_samples,)
        For 1-D ``scores``: the outcome of each sample in ``[0, 1]`` (1 for a correct
        top-label prediction, or for a sample of the positive class). For 2-D
        ``scores``: the column of each sample's true class (integer), i.e. one-hot
        outcomes, so that column ``j`` is the one-vs-rest problem of class ``j``.
    n_bins : int, default=15
        Number of bins ``M``.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins ``(b/M, (b+1)/M]``, or bins at the quantiles of each
        column (see :func:`_bin_edges`).
    sample_weight : ndarray of shape (n_samples,), default=None
        Validated, non-negative weights.

    Returns
    -------
    edges : ndarray of shape (n_bins + 1,) or (n_columns, n_bins + 1)
    weight, outcome_sum, score_sum : ndarray of shape (n_bins,) or (n_columns, n_bins)
        Per bin: the total weight ``|B|``, ``sum w * outcome`` and ``sum w * score``.
    """
    n_bins = _check_n_bins(n_bins)
    _check_strategy(strategy)
    scores = np.asarray(scores)
    one_d = scores.ndim == 1
    scores2 = scores[:, None] if one_d else scores
    n_samples, n_columns = scores2.shape
    w = np.ones(n_samples) if sample_weight is None else np.asarray(sample_weight, np.float64)
    if strategy == "uniform":
        edges = np.broadcast_to(_bin_edges(None, n_bins), (n_columns, n_bins + 1))
    else:
        edges = np.stack(
            [_bin_edges(scores2[:, j], n_bins, strategy, sample_weight) for j in range(n_columns)]
        )
    size = n_bins * n_columns
    weight = np.zeros(size)
    outcome_sum = np.zeros(size)
    score_sum = np.zeros(size)
    offset = n_bins * np.arange(n_columns)
    rows = max(1, _CHUNK_ELEMENTS // n_columns)
    for start in range(0, n_samples, rows):
        stop = start + rows
        chunk = scores2[start:stop].astype(np.float64, copy=False)
        wc = w[start:stop]
        if strategy == "uniform":
            bins = _bin_index(chunk, edges[0])
        else:
            bins = np.column_stack(
                [_bin_index(chunk[:, j], edges[j]) for j in range(n_columns)]
            )
        bins = bins + offset
        weight += np.bincount(bins.ravel(), weights=np.repeat(wc, n_columns), minlength=size)
        score_sum += np.bincount(
            bins.ravel(), weights=(wc[:, None] * chunk).ravel(), minlength=size
        )
        if one_d:
            outcome_sum += np.bincount(
                bins[:, 0], weights=wc * outcomes[start:stop], minlength=size
            )
        else:
            true_bins = bins[np.arange(len(chunk)), outcomes[start:stop]]
            outcome_sum += np.bincount(true_bins, weights=wc, minlength=size)
    shape = (n_bins,) if one_d else (n_columns, n_bins)
    edges = np.array(edges[0]) if one_d else np.array(edges)
    return (
        edges,
        weight.reshape(shape),
        outcome_sum.reshape(shape),
        score_sum.reshape(shape),
    )


# --------------------------------------------------------------------------------------
# Per-class recall
# --------------------------------------------------------------------------------------


def _per_class_recall(y_idx, correct, n_classes, sample_weight=None):
    """Weighted recall ``P(y_pred = c | y = c)`` of every class, and its support.

    Parameters
    ----------
    y_idx : ndarray of shape (n_samples,)
        Position of each sample's true class.
    correct : ndarray of shape (n_samples,)
        Whether each prediction is right (bool or 0/1).
    n_classes : int
        Number of classes.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    recall : ndarray of shape (n_classes,)
        NaN for a class without (weighted) support.
    support : ndarray of shape (n_classes,)
        Total weight of each class.
    """
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    support = np.bincount(y_idx, weights=w, minlength=n_classes).astype(np.float64)
    hit_weights = correct.astype(np.float64) if w is None else w * correct
    hits = np.bincount(y_idx, weights=hit_weights, minlength=n_classes)
    recall = np.divide(hits, support, out=np.full(n_classes, np.nan), where=support > 0)
    return recall, support
