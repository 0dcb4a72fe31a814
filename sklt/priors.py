"""Class priors: turn a prior specification into a validated array, and long-tail profiles.

A *prior specification* is what users pass as ``source_prior`` or ``target_prior``:

- ``"uniform"``: ``1/K`` for each of the ``K`` classes;
- ``"auto"``: the (optionally weighted) class frequencies of a label vector ``y``;
- an array-like of ``K`` non-negative weights, in the order of ``classes``;
- a dict ``{label: weight}`` naming every class.

Weights are normalised to sum to one. Everything in sklt that needs a prior goes
through :func:`check_prior`, so every estimator reports bad priors the same way.
"""

from numbers import Integral, Real

import numpy as np

from ._utils import _as_array, _as_numeric_array, _encode, _isnan, _label_kind

__all__ = [
    "check_prior",
    "class_counts",
    "class_frequencies",
    "long_tail_counts",
]


# Counts up to 2**53 are exact in float64, where the profiles are computed.
_MAX_COUNT = 2**53
# More classes than any dataset has; bounds the profile's memory (8 bytes per class).
_MAX_CLASSES = 2**24


def _format_classes(classes, limit=6):
    classes = list(classes)
    shown = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in classes[:limit])
    return "[" + shown + (", ...]" if len(classes) > limit else "]")


def _check_classes(classes):
    """``classes`` as a non-empty 1-D array of distinct labels (any order)."""
    if isinstance(classes, (str, bytes)) or np.ndim(_as_array(classes, "classes")) == 0:
        raise TypeError(
            f"classes must be a 1-D array-like of class labels; got {classes!r}."
        )
    if isinstance(classes, dict):
        raise TypeError("classes must be a 1-D array-like of class labels; got a dict.")
    if isinstance(classes, (list, tuple)) and len(
        {isinstance(c, (str, bytes, np.str_)) for c in classes}
    ) > 1:
        raise TypeError(
            f"classes mixes strings and numbers: {_format_classes(classes)}; use labels of "
            "one type."
        )
    classes = _as_array(classes, "classes")
    if classes.ndim != 1:
        raise ValueError(
            f"classes must be a 1-D array-like of class labels; got an array of shape "
            f"{classes.shape}."
        )
    if classes.size == 0:
        raise ValueError("classes is empty; pass the labels of at least one class.")
    try:
        n_unique = len(np.unique(classes))
    except TypeError as exc:
        raise TypeError(
            f"classes mixes labels that cannot be compared: {_format_classes(classes)}; "
            "use labels of one type."
        ) from exc
    if n_unique != classes.size:
        raise ValueError(f"classes has duplicate labels: {_format_classes(classes)}.")
    if np.any(_isnan(classes)):
        raise ValueError(
            f"classes contains NaN: {_format_classes(classes)}; class labels must be "
            "integers or strings."
        )
    if classes.dtype.kind == "O" and _label_kind(classes) == "mixed":
        raise TypeError(
            f"classes mixes strings and numbers: {_format_classes(classes)}; use labels of "
            "one type."
        )
    return classes


def _check_sample_weight(sample_weight, n_samples):
    """Validate ``sample_weight`` for class counts: finite, non-negative, one per sample.

    A scalar is broadcast to every sample. Returns a float64 array (a copy: the
    caller's array is never modified). Every message names ``sample_weight``.
    """
    if isinstance(sample_weight, (str, bytes, dict)):
        raise TypeError(
            f"sample_weight must be an array-like of numbers; got {type(sample_weight).__name__}."
        )
    try:
        weights = np.asarray(sample_weight)
    except Exception as exc:  # ragged nested sequences and the like
        raise TypeError(f"sample_weight must be an array-like of numbers: {exc}") from exc
    if weights.dtype.kind not in "biuf":
        raise TypeError(
            f"sample_weight must be numeric; got an array of dtype {weights.dtype}."
        )
    weights = weights.astype(np.float64)  # a copy
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has shape {weights.shape} but there are {n_samples} samples; pass "
            "one weight per sample."
        )
    bad = ~np.isfinite(weights)
    if np.any(bad):
        raise ValueError(
            f"sample_weight contains NaN or infinite values (at indices "
            f"{np.flatnonzero(bad)[:5].tolist()}); pass finite weights."
        )
    negative = weights < 0
    if np.any(negative):
        first = int(np.flatnonzero(negative)[0])
        raise ValueError(
            f"sample_weight must be non-negative; got {float(weights[first])!r} at index {first}. "
            "Give such samples weight 0 or drop them."
        )
    return weights


def _normalise(values):
    """``values / values.sum()`` for finite non-negative values with a positive sum.

    When the sum overflows (weights near the largest float) or underflows, the
    values are first divided by their maximum, so the result is exact whatever
    their scale.
    """
    total = values.sum()
    if not (np.isfinite(total) and total >= np.finfo(np.float64).tiny):
        values = values / values.max()
        total = values.sum()
    return values / total


def _weighted_counts(y, classes, sample_weight):
    """``(counts, scale)``: class sums of ``sample_weight / scale``, in ``classes`` order.

    ``scale`` is 1, or the largest weight when the plain sums would overflow.
    """
    y = np.asarray(y)
    classes = _check_classes(classes)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got an array of shape {y.shape}.")
    weights = None
    if sample_weight is not None:
        weights = _check_sample_weight(sample_weight, y.shape[0])
    if y.size == 0:
        return np.zeros(len(classes)), 1.0
    idx = _encode(y, classes, name="y", classes_name="classes")
    counts = np.bincount(idx, weights=weights, minlength=len(classes)).astype(np.float64)
    if weights is not None and not np.all(np.isfinite(counts)):
        scale = weights.max()
        return np.bincount(idx, weights=weights / scale, minlength=len(classes)), scale
    return counts, 1.0


def class_counts(y, classes, sample_weight=None):
    """Count (or sum the weights of) the samples of each class.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    classes : array-like of shape (n_classes,)
        Distinct class labels, in any order; the output follows this order.
        Labels of ``y`` absent from ``classes`` raise a ``ValueError``.
    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights; counts are sums of weights when given.

    Returns
    -------
    counts : ndarray of shape (n_classes,), dtype float64

    Examples
    --------
    >>> from sklt.priors import class_counts
    >>> class_counts(["a", "b", "b", "c"], classes=["a", "b", "c"])
    array([1., 2., 1.])
    """
    counts, scale = _weighted_counts(y, classes, sample_weight)
    if sample_weight is not None and np.size(y) and not counts.sum() > 0:
        raise ValueError(
            "sample_weight sums to zero; give at least one sample a positive weight."
        )
    if scale != 1.0:
        counts = counts * scale
        if not np.all(np.isfinite(counts)):
            raise ValueError(
                "The class sums of sample_weight exceed the largest float64; rescale "
                "sample_weight (only the ratios of the weights matter for class "
                "frequencies and priors)."
            )
    return counts


def class_frequencies(y, classes, sample_weight=None):
    """Class frequencies of ``y`` (weighted by ``sample_weight``), in ``classes`` order.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    classes : array-like of shape (n_classes,)
        Distinct class labels, in any order; the output follows this order.
    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative sample weights. Weights of any scale are exact:
        they are divided by their maximum when their sum would overflow.

    Returns
    -------
    prior : ndarray of shape (n_classes,)
        Non-negative, sums to one.

    Examples
    --------
    >>> from sklt.priors import class_frequencies
    >>> class_frequencies([0, 0, 0, 1], classes=[0, 1])
    array([0.75, 0.25])
    """
    counts, _ = _weighted_counts(y, classes, sample_weight)
    if not counts.sum() > 0:
        if np.size(y) == 0:
            raise ValueError("Cannot compute class frequencies: y is empty.")
        raise ValueError(
            "Cannot compute class frequencies: sample_weight sums to zero; give at least "
            "one sample a positive weight."
        )
    return _normalise(counts)


def check_prior(
    prior,
    classes,
    *,
    name="prior",
    y=None,
    sample_weight=None,
    allow_zero=True,
):
    """Validate a prior specification and return it as a normalised array.

    Parameters
    ----------
    prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict
        The specification: ``"uniform"``; ``"auto"`` for the class frequencies
        of ``y``; non-negative weights in ``classes`` order; or a dict mapping
        every class label to its weight.
    classes : array-like of shape (n_classes,)
        The distinct class labels, in the order of the estimator's ``classes_``
        (any order).
    name : str, default="prior"
        Name of the parameter, used in error messages.
    y : array-like of shape (n_samples,), default=None
        Labels; needed for ``"auto"``.
    sample_weight : array-like of shape (n_samples,), default=None
        Finite, non-negative weights for ``"auto"``.
    allow_zero : bool, default=True
        Whether entries may be zero. Pass ``False`` where the prior is divided
        by (a source prior), so that a zero gets a clear error instead of an
        infinite correction.

    Returns
    -------
    prior : ndarray of shape (n_classes,), dtype float64
        Non-negative entries summing to one. Weights of any scale (up to the
        largest float) give the exact ratios: they are divided by their
        maximum when their sum would overflow.

    Raises
    ------
    ValueError
        If the specification has the wrong length, negative, NaN or infinite
        entries, names unknown classes, sums to zero, or has a zero entry
        while ``allow_zero=False``; if ``sample_weight`` is not finite and
        non-negative with one entry per sample.
    TypeError
        If the specification or ``classes`` is not of a supported type.

    Examples
    --------
    >>> from sklt.priors import check_prior
    >>> check_prior("uniform", classes=["cat", "dog"])
    array([0.5, 0.5])
    >>> check_prior({"cat": 3, "dog": 1}, classes=["cat", "dog"])
    array([0.75, 0.25])
    >>> check_prior("auto", classes=[0, 1], y=[0, 0, 1, 0])
    array([0.75, 0.25])
    """
    classes = _check_classes(classes)
    n_classes = len(classes)
    if not isinstance(name, str):
        raise TypeError(f"name must be a string; got {name!r}.")
    from_y = False
    prior = _series_as_dict(prior, classes, name)
    if isinstance(prior, str):
        if prior == "uniform":
            return np.full(n_classes, 1.0 / n_classes)
        if prior == "auto":
            if y is None:
                raise ValueError(f"{name}='auto' needs the labels y to compute class frequencies.")
            values, _ = _weighted_counts(y, classes, sample_weight)
            from_y = True
            if not values.sum() > 0:
                what = "y is empty" if np.size(y) == 0 else "sample_weight sums to zero"
                raise ValueError(
                    f"{name}='auto' cannot be computed: {what}. Give at least one sample a "
                    "positive weight."
                )
        else:
            raise ValueError(
                f"{name} must be 'uniform', 'auto', an array of {n_classes} weights or a dict "
                f"{{label: weight}}; got the string {prior!r}."
            )
    elif isinstance(prior, dict):
        known = {(c.item() if hasattr(c, "item") else c) for c in classes}
        unknown = [k for k in prior if k not in known]
        if unknown:
            raise ValueError(
                f"{name} names classes {unknown!r} that the classifier does not know; its classes "
                f"are {_format_classes(classes)}."
            )
        missing = [c for c in classes if (c.item() if hasattr(c, "item") else c) not in prior]
        if missing:
            raise ValueError(
                f"{name} is missing classes {_format_classes(missing)}; a dict prior must give "
                f"a weight for every class of {_format_classes(classes)}."
            )
        values = _as_weights(
            [prior[c.item() if hasattr(c, "item") else c] for c in classes], name
        )
    else:
        values = _as_weights(prior, name)
        if values.ndim == 0:
            raise ValueError(
                f"{name} must have one weight per class of {_format_classes(classes)}; got "
                f"the scalar {prior!r}."
            )
        if values.ndim != 1 or values.shape[0] != n_classes:
            raise ValueError(
                f"{name} has {values.size if values.ndim == 1 else values.shape} entries but the "
                f"classifier has {n_classes} classes {_format_classes(classes)}; give one "
                "weight per class."
            )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite entries: {values}.")
    if np.any(values < 0):
        raise ValueError(f"{name} must be non-negative; got {values}.")
    if not values.sum() > 0:
        raise ValueError(f"{name} sums to zero; at least one class needs a positive weight.")
    positive = values > 0
    values = _normalise(values)
    if not allow_zero and np.any(values == 0):
        zero = classes[values == 0]
        if np.all(positive[values == 0]):
            raise ValueError(
                f"{name} gives classes {_format_classes(zero)} a positive weight so far below "
                "the largest that it is 0 in float64 once normalised, and the correction "
                "divides by it. Give these classes a larger weight (smoothing), or drop them."
            )
        if from_y:
            why = (
                "no sample of y belongs to them"
                if sample_weight is None
                else "their samples in y have zero total sample_weight"
            )
            raise ValueError(
                f"{name}='auto' is zero for classes {_format_classes(zero)}: {why}, and the "
                "correction divides by the prior. Pass a source_prior with a positive weight "
                "for every class, or fit on data where every class has weight."
            )
        raise ValueError(
            f"{name} is zero for classes {_format_classes(zero)}: the correction divides by it. "
            "Give these classes a small positive weight (smoothing), or drop them."
        )
    return values


def _series_as_dict(prior, classes, name):
    """A pandas Series indexed by class labels as a ``{label: weight}`` dict.

    Its index says which class each weight belongs to, whatever its order. A Series
    with pandas' default ``RangeIndex`` is positional (like a list) unless its index is
    exactly the set of classes; an index that names other labels is an error (reading
    it by position would silently give weights to the wrong classes).
    """
    if type(prior).__module__.split(".")[0] != "pandas" or not hasattr(prior, "index"):
        return prior
    if getattr(prior, "ndim", 1) != 1:
        return prior
    index = list(prior.index)
    known = [(c.item() if hasattr(c, "item") else c) for c in classes]
    try:
        same = len(index) == len(known) and set(index) == set(known)
    except TypeError:  # unhashable labels
        same = False
    if same:
        return dict(zip(index, prior.tolist(), strict=True))
    if type(prior.index).__name__ == "RangeIndex":
        return prior.to_numpy()
    raise ValueError(
        f"{name} is a pandas Series whose index {index!r} is not the classes "
        f"{_format_classes(classes)}; index it by class label, or pass an array in class "
        "order."
    )


def _as_weights(prior, name):
    """``prior`` as a float64 array, or a ``TypeError`` naming ``name``."""
    if prior is None or isinstance(prior, (bytes, set)):
        raise TypeError(
            f"{name} must be 'uniform', 'auto', an array of weights or a dict; got {prior!r}."
        )
    try:
        # real numbers only (an object array of floats included); no numeric strings, no
        # complex numbers
        return _as_numeric_array(prior, name)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be 'uniform', 'auto', an array of non-negative numbers or a dict "
            f"{{label: weight}}; got {prior!r}."
        ) from exc


def long_tail_counts(n_max, n_classes, imbalance_ratio, *, profile="exponential"):
    """Per-class sample counts of a long-tailed profile.

    Parameters
    ----------
    n_max : int
        Count of the most frequent class (class 0), at most ``2**53`` (the
        largest count a float64 holds exactly).
    n_classes : int
        Number of classes ``K``.
    imbalance_ratio : float
        ``rho = n_max / n_min``, finite and at least 1.
    profile : {"exponential", "step"}, default="exponential"
        ``"exponential"``: ``n_c = int(n_max * rho ** (-c / (K - 1)))`` (CIFAR-LT);
        ``"step"``: the first ``K // 2`` classes keep ``n_max``, the rest get
        ``int(n_max / rho)`` (with ``K = 1`` the single class keeps ``n_max``).

    Returns
    -------
    counts : ndarray of shape (n_classes,), dtype int64
        Non-increasing counts, ``counts[0] == n_max``; every count is at least 1.

    Raises
    ------
    TypeError
        If ``n_max`` or ``n_classes`` is not an integer (booleans included) or
        ``imbalance_ratio`` is not a number.
    ValueError
        If a value is out of range or ``profile`` is unknown.

    Examples
    --------
    >>> from sklt.priors import long_tail_counts
    >>> long_tail_counts(100, 5, imbalance_ratio=100)
    array([100,  31,  10,   3,   1])
    >>> long_tail_counts(100, 4, imbalance_ratio=10, profile="step")
    array([100, 100,  10,  10])
    """
    for value, pname in ((n_max, "n_max"), (n_classes, "n_classes")):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{pname} must be a positive integer; got {value!r}.")
        if value < 1:
            raise ValueError(f"{pname} must be a positive integer; got {value!r}.")
    if n_max > _MAX_COUNT:
        raise ValueError(
            f"n_max={n_max} is too large: counts are exact only up to 2**53 = {_MAX_COUNT}."
        )
    if n_classes > _MAX_CLASSES:
        raise ValueError(
            f"n_classes={n_classes} is too large: at most 2**24 = {_MAX_CLASSES} classes."
        )
    if isinstance(imbalance_ratio, bool) or not isinstance(imbalance_ratio, Real):
        raise TypeError(f"imbalance_ratio must be a number >= 1; got {imbalance_ratio!r}.")
    given = imbalance_ratio
    try:
        imbalance_ratio = float(imbalance_ratio)  # Python ints beyond int64 included
    except OverflowError:
        imbalance_ratio = np.inf
    if not (np.isfinite(imbalance_ratio) and imbalance_ratio >= 1):
        raise ValueError(f"imbalance_ratio must be a finite number >= 1; got {given!r}.")
    n_max, n_classes = int(n_max), int(n_classes)
    if profile == "exponential":
        if n_classes == 1:
            return np.array([n_max], dtype=np.int64)
        exponents = -np.arange(n_classes) / (n_classes - 1)
        counts = np.floor(n_max * np.power(float(imbalance_ratio), exponents) + 1e-9)
        counts[0] = n_max
    elif profile == "step":
        counts = np.full(n_classes, float(n_max))
        counts[max(1, n_classes // 2) :] = np.floor(n_max / float(imbalance_ratio) + 1e-9)
    else:
        raise ValueError(f"profile must be 'exponential' or 'step'; got {profile!r}.")
    return np.clip(counts, 1, n_max).astype(np.int64)
