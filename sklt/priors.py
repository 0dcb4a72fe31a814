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

from ._utils import _encode

__all__ = [
    "check_prior",
    "class_counts",
    "class_frequencies",
    "long_tail_counts",
]


def _format_classes(classes, limit=6):
    classes = list(classes)
    shown = ", ".join(repr(c.item() if hasattr(c, "item") else c) for c in classes[:limit])
    return "[" + shown + (", ...]" if len(classes) > limit else "]")


def class_counts(y, classes, sample_weight=None):
    """Count (or sum the weights of) the samples of each class.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    classes : array-like of shape (n_classes,)
        Sorted class labels; the output follows this order. Labels of ``y``
        absent from ``classes`` raise a ``ValueError``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights; counts are sums of weights when given.

    Returns
    -------
    counts : ndarray of shape (n_classes,), dtype float64

    Examples
    --------
    >>> from sklt.priors import class_counts
    >>> class_counts(["a", "b", "b", "c"], classes=["a", "b", "c"])
    array([1., 2., 1.])
    """
    y = np.asarray(y)
    classes = np.asarray(classes)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got an array of shape {y.shape}.")
    idx = _encode(y, classes, name="y", classes_name="classes")
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != y.shape:
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape} but y has shape {y.shape}."
            )
    return np.bincount(idx, weights=sample_weight, minlength=len(classes)).astype(
        np.float64
    )


def class_frequencies(y, classes, sample_weight=None):
    """Class frequencies of ``y`` (weighted by ``sample_weight``), in ``classes`` order.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.
    classes : array-like of shape (n_classes,)
        Sorted class labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

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
    counts = class_counts(y, classes, sample_weight)
    total = counts.sum()
    if not total > 0:
        raise ValueError("Cannot compute class frequencies: the total sample weight is zero.")
    return counts / total


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
        The class labels, in the order of the estimator's ``classes_``.
    name : str, default="prior"
        Name of the parameter, used in error messages.
    y : array-like of shape (n_samples,), default=None
        Labels; needed for ``"auto"``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights for ``"auto"``.
    allow_zero : bool, default=True
        Whether entries may be zero. Pass ``False`` where the prior is divided
        by (a source prior), so that a zero gets a clear error instead of an
        infinite correction.

    Returns
    -------
    prior : ndarray of shape (n_classes,), dtype float64
        Non-negative entries summing to one.

    Raises
    ------
    ValueError
        If the specification has the wrong length, negative, NaN or infinite
        entries, names unknown classes, sums to zero, or has a zero entry
        while ``allow_zero=False``.

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
    classes = np.asarray(classes)
    n_classes = len(classes)
    if isinstance(prior, str):
        if prior == "uniform":
            return np.full(n_classes, 1.0 / n_classes)
        if prior == "auto":
            if y is None:
                raise ValueError(f"{name}='auto' needs the labels y to compute class frequencies.")
            values = class_counts(y, classes, sample_weight)
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
        values = np.array(
            [prior[c.item() if hasattr(c, "item") else c] for c in classes], dtype=np.float64
        )
    else:
        try:
            values = np.asarray(prior, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must be 'uniform', 'auto', an array of weights or a dict; got {prior!r}."
            ) from exc
        if values.ndim != 1 or values.shape[0] != n_classes:
            raise ValueError(
                f"{name} has {values.size if values.ndim == 1 else values.shape} entries but the "
                f"classifier has {n_classes} classes {_format_classes(classes)}."
            )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite entries: {values}.")
    if np.any(values < 0):
        raise ValueError(f"{name} must be non-negative; got {values}.")
    total = values.sum()
    if not total > 0:
        raise ValueError(f"{name} sums to zero; at least one class needs a positive weight.")
    values = values / total
    if not allow_zero and np.any(values == 0):
        zero = classes[values == 0]
        raise ValueError(
            f"{name} is zero for classes {_format_classes(zero)}: the correction divides by it. "
            "Give these classes a small positive weight (smoothing), or drop them."
        )
    return values


def long_tail_counts(n_max, n_classes, imbalance_ratio, *, profile="exponential"):
    """Per-class sample counts of a long-tailed profile.

    Parameters
    ----------
    n_max : int
        Count of the most frequent class (class 0).
    n_classes : int
        Number of classes ``K``.
    imbalance_ratio : float
        ``rho = n_max / n_min`` (at least 1).
    profile : {"exponential", "step"}, default="exponential"
        ``"exponential"``: ``n_c = int(n_max * rho ** (-c / (K - 1)))`` (CIFAR-LT);
        ``"step"``: the first ``K // 2`` classes keep ``n_max``, the rest get
        ``int(n_max / rho)``.

    Returns
    -------
    counts : ndarray of shape (n_classes,), dtype int64
        Non-increasing counts, ``counts[0] == n_max``; every count is at least 1.

    Examples
    --------
    >>> from sklt.priors import long_tail_counts
    >>> long_tail_counts(100, 5, imbalance_ratio=100)
    array([100,  31,  10,   3,   1])
    >>> long_tail_counts(100, 4, imbalance_ratio=10, profile="step")
    array([100, 100,  10,  10])
    """
    if not isinstance(n_max, Integral) or n_max < 1:
        raise ValueError(f"n_max must be a positive integer; got {n_max!r}.")
    if not isinstance(n_classes, Integral) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer; got {n_classes!r}.")
    if not isinstance(imbalance_ratio, Real) or not imbalance_ratio >= 1:
        raise ValueError(f"imbalance_ratio must be a number >= 1; got {imbalance_ratio!r}.")
    if profile == "exponential":
        if n_classes == 1:
            return np.array([n_max], dtype=np.int64)
        exponents = -np.arange(n_classes) / (n_classes - 1)
        counts = np.floor(n_max * np.power(float(imbalance_ratio), exponents) + 1e-9)
    elif profile == "step":
        counts = np.full(n_classes, float(n_max))
        counts[n_classes // 2 :] = np.floor(n_max / imbalance_ratio + 1e-9)
    else:
        raise ValueError(f"profile must be 'exponential' or 'step'; got {profile!r}.")
    return np.maximum(counts, 1).astype(np.int64)
