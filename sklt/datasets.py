"""Long-tailed and label-shifted datasets: splits, the papers' toy problems, generated data.

Everything here returns plain NumPy arrays (the loaders wrap them in a
:class:`~sklearn.utils.Bunch`) and is deterministic given ``random_state``.

- :func:`make_long_tailed` sub-samples a dataset to a long-tailed profile
  (exponential, as CIFAR-LT, or step), on top of imbalanced-learn's
  :func:`~imblearn.datasets.make_imbalance`.
- :func:`make_shifted_test` builds the forward / backward shifted test sets of
  LADE (Hong et al. 2021, §4.3).
- :func:`make_imbalanced_gaussians` is the synthetic problem of logit adjustment
  (Menon et al. 2021, §6.1); :func:`gaussians_bayes_balanced_error` is its
  Bayes-optimal balanced error.
- :func:`make_imbalanced_moons` and :func:`make_imbalanced_circles` are the toy
  problems of posterior re-calibration (Tian et al. 2020, §4.1).
- :func:`load_digits_lt` and :func:`load_mnist1d_lt` return a long-tailed
  training set and a balanced test set.

Head and tail: in every long-tailed set, the *class order* lists classes from
the most to the least frequent in training. For the binary toy problems class
``0`` is the head (majority) class and class ``1`` the tail (minority) class.
"""

import random
from numbers import Integral, Real

import numpy as np
from imblearn.under_sampling import RandomUnderSampler
from scipy.stats import norm
from sklearn.datasets import load_digits, make_circles, make_moons
from sklearn.utils import Bunch, check_X_y

from ._utils import _as_numeric_array
from ._utils import _check_labels as _check_label_vector
from ._utils import _check_random_state as check_random_state
from .priors import long_tail_counts

__all__ = [
    "gaussians_bayes_balanced_error",
    "load_digits_lt",
    "load_mnist1d_lt",
    "make_imbalanced_circles",
    "make_imbalanced_gaussians",
    "make_imbalanced_moons",
    "make_long_tailed",
    "make_shifted_test",
]


#: Samples a generator makes at most: beyond, the arrays do not fit in memory (and
#: mnist1d's generator, a Python loop, would run for days).
_MAX_SAMPLES = 10**8


def _as_float(value):
    """``float(value)`` for a real number; Python ints beyond float64 give ``inf``."""
    try:
        return float(value)
    except OverflowError:
        return float("inf")


def _check_ratio(imbalance_ratio, name="imbalance_ratio"):
    if (
        isinstance(imbalance_ratio, bool)
        or not isinstance(imbalance_ratio, Real)
        or not np.isfinite(_as_float(imbalance_ratio))
        or not imbalance_ratio >= 1
    ):
        raise ValueError(
            f"{name} must be a finite number >= 1 (n_max / n_min); got {imbalance_ratio!r}."
        )
    return float(imbalance_ratio)


def _check_positive_int(value, name, *, allow_none=False, maximum=None, hint=""):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name}={value} is too large: at most {maximum:,}{hint}.")
    return int(value)


def _seed_from(random_state):
    """A reproducible integer seed drawn from ``random_state``."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _check_labels(X, y):
    y = _check_label_vector(y, "y")
    X, y = check_X_y(X, y, accept_sparse=["csr", "csc"], dtype=None, ensure_all_finite=False)
    classes, counts = np.unique(y, return_counts=True)
    return X, y, classes, counts


def _check_noise(value, name):
    if isinstance(value, bool) or not isinstance(value, Real) or not (
        np.isfinite(_as_float(value)) and value >= 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")
    return float(value)


def _check_finite_output(X, name, value):
    """Raise if a generator's ``X`` overflowed (a huge ``noise``)."""
    if not np.all(np.isfinite(X)):
        raise ValueError(
            f"{name}={value!r} is too large: the generated X overflows float64. Use a "
            "smaller noise (the papers use 0.1 to 0.3)."
        )
    return X


def _undersample(X, y, wanted, classes, random_state):
    """Keep ``wanted[i]`` samples of ``classes[i]``, drawn without replacement.

    What :func:`imblearn.datasets.make_imbalance` does (the same draws for the
    same ``random_state``), with sparse ``X`` accepted.
    """
    strategy = {c: int(n) for c, n in zip(classes.tolist(), wanted.tolist(), strict=True)}
    sampler = RandomUnderSampler(
        sampling_strategy=strategy, replacement=False, random_state=random_state
    )
    return sampler.fit_resample(X, y)


def _class_order(classes, class_order):
    """Validate ``class_order`` (head first) against ``classes``; positions into ``classes``."""
    if class_order is None:
        return np.arange(len(classes))
    order = np.asarray(class_order)
    if order.ndim != 1 or len(order) != len(classes) or set(order.tolist()) != set(
        classes.tolist()
    ):
        raise ValueError(
            f"class_order must list each of the {len(classes)} classes {classes.tolist()} once; "
            f"got {order.tolist()}."
        )
    return np.searchsorted(classes, order)


def _check_enough(wanted, available, classes, what):
    short = wanted > available
    if np.any(short):
        details = ", ".join(
            f"class {c!r} needs {w} but has {a}"
            for c, w, a in zip(
                classes[short].tolist(), wanted[short].tolist(), available[short].tolist(),
                strict=True,
            )
        )
        raise ValueError(
            f"Not enough samples for the requested {what}: {details}. Lower n_max or "
            "imbalance_ratio, or provide more data."
        )


def make_long_tailed(
    X,
    y,
    *,
    imbalance_ratio,
    profile="exponential",
    n_max=None,
    class_order=None,
    random_state=None,
):
    """Sub-sample a dataset so that its class counts follow a long-tailed profile.

    The counts come from :func:`sklt.priors.long_tail_counts`: the ``c``-th class
    of ``class_order`` keeps ``int(n_max * imbalance_ratio ** (-c / (K - 1)))``
    samples (``profile="exponential"``, the CIFAR-LT protocol of Cui et al. 2019
    used by all five papers), or the first ``K // 2`` classes keep ``n_max`` and
    the others ``int(n_max / imbalance_ratio)`` (``profile="step"``, Buda et al.
    2018). The samples are drawn without replacement by imbalanced-learn's
    :func:`~imblearn.datasets.make_imbalance`.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input samples (a sparse matrix stays sparse).
    y : array-like of shape (n_samples,)
        Labels (at least two classes).
    imbalance_ratio : float
        ``rho = n_max / n_min``, at least 1 (1 gives a balanced set).
    profile : {"exponential", "step"}, default="exponential"
        Shape of the class counts.
    n_max : int, default=None
        Count of the head class. ``None`` uses the size of the smallest class,
        the largest value for which every profile fits whatever the class order.
    class_order : array-like of shape (n_classes,), default=None
        The class labels from head (most frequent) to tail. ``None`` uses the
        sorted labels: the first class is the head.
    random_state : int, RandomState instance or None, default=None
        Controls which samples are kept.

    Returns
    -------
    X_lt : ndarray or sparse matrix of shape (n_kept, n_features)
        The kept samples, grouped by class.
    y_lt : ndarray of shape (n_kept,)
        Their labels.

    Raises
    ------
    ValueError
        If ``imbalance_ratio < 1``, the profile is unknown, ``class_order`` does
        not list every class, or a class has fewer samples than its count.

    See Also
    --------
    sklt.priors.long_tail_counts : the counts.
    make_shifted_test : long-tailed test sets in either direction.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.datasets import make_long_tailed
    >>> X = np.arange(300.0).reshape(-1, 1)
    >>> y = np.repeat([0, 1, 2], 100)
    >>> X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, random_state=0)
    >>> np.bincount(y_lt)
    array([100,  31,  10])
    >>> X_lt, y_lt = make_long_tailed(X, y, imbalance_ratio=10, class_order=[2, 1, 0],
    ...                               n_max=50, random_state=0)
    >>> np.bincount(y_lt)
    array([ 5, 15, 50])
    """
    imbalance_ratio = _check_ratio(imbalance_ratio)
    if profile not in ("exponential", "step"):
        raise ValueError(f"profile must be 'exponential' or 'step'; got {profile!r}.")
    X, y, classes, available = _check_labels(X, y)
    if len(classes) < 2:
        raise ValueError(f"y needs at least two classes; got {classes.tolist()}.")
    n_max = _check_positive_int(n_max, "n_max", allow_none=True)
    if n_max is None:
        n_max = int(available.min())
    positions = _class_order(classes, class_order)
    wanted = np.empty(len(classes), dtype=np.int64)
    wanted[positions] = long_tail_counts(n_max, len(classes), imbalance_ratio, profile=profile)
    _check_enough(wanted, available, classes, f"{profile} profile (n_max={n_max})")
    return _undersample(X, y, wanted, classes, random_state)


def make_shifted_test(
    X,
    y,
    *,
    train_counts,
    imbalance_ratio,
    direction="forward",
    n_max=None,
    random_state=None,
):
    """Sub-sample a (balanced) test set to a forward or backward shifted label distribution.

    The protocol of LADE (Hong et al. 2021, §4.3, Table 6): classes are sorted by
    descending training frequency (index ``0`` = most frequent, ties broken by
    label order). ``direction="forward"`` keeps
    ``int(n_max * imbalance_ratio ** (-idx / (K - 1)))`` test samples of the class
    at index ``idx``: the test set resembles the training skew.
    ``direction="backward"`` reverses the order: the rarest training class gets
    ``n_max``. ``imbalance_ratio=1`` gives the uniform test set.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Test pool, usually balanced.
    y : array-like of shape (n_samples,)
        Its labels.
    train_counts : array-like of shape (n_classes,) or dict
        Training count (or frequency) of each class: an array in the order of
        the sorted labels of ``y``, or a dict ``{label: count}``.
    imbalance_ratio : float
        ``rho`` of the test profile, at least 1.
    direction : {"forward", "backward"}, default="forward"
        Whether the test skew follows (forward) or opposes (backward) the
        training skew.
    n_max : int, default=None
        Count of the largest test class; ``None`` uses the size of the smallest
        class of the pool (50 for ImageNet-LT in the paper).
    random_state : int, RandomState instance or None, default=None
        Controls which samples are kept.

    Returns
    -------
    X_shift : ndarray or sparse matrix of shape (n_kept, n_features)
    y_shift : ndarray of shape (n_kept,)

    Raises
    ------
    ValueError
        If ``imbalance_ratio < 1``, ``direction`` is unknown, ``train_counts``
        does not match the classes of ``y``, or a class has too few samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.datasets import make_shifted_test
    >>> X = np.zeros((300, 1))
    >>> y = np.repeat([0, 1, 2], 100)
    >>> train_counts = [10, 500, 50]            # class 1 is the head, class 0 the tail
    >>> _, y_fwd = make_shifted_test(X, y, train_counts=train_counts, imbalance_ratio=10,
    ...                              random_state=0)
    >>> np.bincount(y_fwd)
    array([ 10, 100,  31])
    >>> _, y_bwd = make_shifted_test(X, y, train_counts=train_counts, imbalance_ratio=10,
    ...                              direction="backward", random_state=0)
    >>> np.bincount(y_bwd)
    array([100,  10,  31])
    """
    imbalance_ratio = _check_ratio(imbalance_ratio)
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be 'forward' or 'backward'; got {direction!r}.")
    X, y, classes, available = _check_labels(X, y)
    if isinstance(train_counts, dict):
        unknown = set(train_counts) - set(classes.tolist())
        missing = [c for c in classes.tolist() if c not in train_counts]
        if unknown or missing:
            raise ValueError(
                f"train_counts must give a count for each class of y {classes.tolist()}; "
                f"unknown: {sorted(unknown, key=str)}, missing: {missing}."
            )
        train_counts = [train_counts[c] for c in classes.tolist()]
    if train_counts is None:
        raise TypeError(
            "train_counts must be an array of per-class training counts or a dict "
            "{label: count}; got None."
        )
    train_counts = _as_numeric_array(train_counts, "train_counts")
    if train_counts.ndim != 1 or len(train_counts) != len(classes):
        raise ValueError(
            f"train_counts has shape {train_counts.shape} but y has {len(classes)} classes "
            f"{classes.tolist()}."
        )
    if not np.all(np.isfinite(train_counts)) or np.any(train_counts < 0):
        raise ValueError(f"train_counts must be finite and non-negative; got {train_counts}.")
    if not train_counts.max() > 0:
        raise ValueError(
            "train_counts are all zero: give the training count (or frequency) of each class."
        )
    n_max = _check_positive_int(n_max, "n_max", allow_none=True)
    if n_max is None:
        n_max = int(available.min())
    # Index 0 = most frequent training class; a stable sort breaks ties by label order.
    by_frequency = np.argsort(-train_counts, kind="stable")
    profile = long_tail_counts(n_max, len(classes), imbalance_ratio)
    if direction == "backward":
        profile = profile[::-1]
    wanted = np.empty(len(classes), dtype=np.int64)
    wanted[by_frequency] = profile
    _check_enough(wanted, available, classes, f"{direction} shifted test set (n_max={n_max})")
    return _undersample(X, y, wanted, classes, random_state)


def gaussians_bayes_balanced_error():
    """Bayes-optimal balanced error of :func:`make_imbalanced_gaussians`: ``Φ(-√2)``.

    The balanced-error-optimal classifier ignores the prior and predicts the class
    of higher likelihood, ``x1 + x2 > 0`` (Menon et al. 2021, eq. 12). Projected
    on ``(1, 1)/√2`` the class means are ``±√2`` with unit variance, so each class
    has error ``Φ(-√2) ≈ 7.86%``.

    Returns
    -------
    error : float

    Examples
    --------
    >>> from sklt.datasets import gaussians_bayes_balanced_error
    >>> round(gaussians_bayes_balanced_error(), 4)
    0.0786
    """
    return float(norm.cdf(-np.sqrt(2.0)))


def make_imbalanced_gaussians(n_samples=10_000, *, minority_fraction=0.05, random_state=None):
    """Two imbalanced Gaussian classes: the synthetic problem of logit adjustment.

    Menon et al. 2021, §6.1: ``P(y = 1) = minority_fraction`` (5% in the paper),
    ``x | y ~ N(±(1, 1), I)`` with mean ``+(1, 1)`` for the minority class ``1``
    and ``-(1, 1)`` for the majority class ``0``. Labels are drawn i.i.d., so the
    minority count is binomial. Its Bayes-optimal balanced error is
    :func:`gaussians_bayes_balanced_error`.

    Parameters
    ----------
    n_samples : int, default=10_000
        Number of samples (the paper trains and tests on 10,000 each).
    minority_fraction : float, default=0.05
        ``P(y = 1)``, in ``(0, 1)``.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), dtype int64
        ``0`` = head (majority), ``1`` = tail (minority).

    Examples
    --------
    >>> from sklt.datasets import make_imbalanced_gaussians
    >>> X, y = make_imbalanced_gaussians(2000, random_state=0)
    >>> X.shape, round(float(y.mean()), 2)
    ((2000, 2), 0.05)
    """
    n_samples = _check_positive_int(n_samples, "n_samples", maximum=_MAX_SAMPLES)
    if (
        isinstance(minority_fraction, bool)
        or not isinstance(minority_fraction, Real)
        or not 0 < minority_fraction < 1
    ):
        raise ValueError(f"minority_fraction must be in (0, 1); got {minority_fraction!r}.")
    rng = check_random_state(random_state)
    y = (rng.uniform(size=n_samples) < minority_fraction).astype(np.int64)
    means = np.where(y[:, None] == 1, 1.0, -1.0)
    X = means + rng.standard_normal((n_samples, 2))
    return X, y


def _toy_counts(n_samples, imbalance_ratio):
    n_samples = _check_positive_int(n_samples, "n_samples", maximum=_MAX_SAMPLES)
    imbalance_ratio = _check_ratio(imbalance_ratio)
    n_minority = int(round(n_samples / (1.0 + imbalance_ratio)))
    n_majority = n_samples - n_minority
    if n_minority < 1:
        raise ValueError(
            f"n_samples={n_samples} is too small for imbalance_ratio={imbalance_ratio}: "
            "the minority class would be empty."
        )
    return n_majority, n_minority


def _shuffled(X, y, random_state):
    perm = check_random_state(random_state).permutation(len(y))
    return X[perm], y[perm].astype(np.int64)


def make_imbalanced_moons(n_samples=1000, *, imbalance_ratio=9, noise=0.2, random_state=None):
    """Two interleaving half circles with a step imbalance (Tian et al. 2020, §4.1).

    Class ``0`` (head) has ``imbalance_ratio`` times as many samples as class
    ``1`` (tail): ``round(n_samples / (1 + imbalance_ratio))`` tail samples, the
    rest head samples. Built on :func:`sklearn.datasets.make_moons`.

    Parameters
    ----------
    n_samples : int, default=1000
        Total number of samples.
    imbalance_ratio : float, default=9
        Ratio of head to tail samples (9 in the paper).
    noise : float, default=0.2
        Standard deviation of the Gaussian noise.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), dtype int64

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.datasets import make_imbalanced_moons
    >>> X, y = make_imbalanced_moons(1000, random_state=0)
    >>> np.bincount(y)
    array([900, 100])
    """
    n_major, n_minor = _toy_counts(n_samples, imbalance_ratio)
    noise = _check_noise(noise, "noise")
    seed = _seed_from(random_state)
    X, y = make_moons(n_samples=(n_major, n_minor), noise=noise, random_state=seed)
    _check_finite_output(X, "noise", noise)
    return _shuffled(X, y, seed + 1)


def make_imbalanced_circles(
    n_samples=1000, *, imbalance_ratio=9, noise=0.1, factor=0.5, random_state=None
):
    """Two concentric circles with a step imbalance (Tian et al. 2020, §4.1).

    Class ``0`` (outer circle, head) has ``imbalance_ratio`` times as many
    samples as class ``1`` (inner circle, tail). Built on
    :func:`sklearn.datasets.make_circles`.

    Parameters
    ----------
    n_samples : int, default=1000
        Total number of samples.
    imbalance_ratio : float, default=9
        Ratio of head to tail samples (9 in the paper).
    noise : float, default=0.1
        Standard deviation of the Gaussian noise.
    factor : float, default=0.5
        Scale of the inner circle relative to the outer one.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), dtype int64

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.datasets import make_imbalanced_circles
    >>> X, y = make_imbalanced_circles(500, random_state=0)
    >>> np.bincount(y)
    array([450,  50])
    """
    n_major, n_minor = _toy_counts(n_samples, imbalance_ratio)
    noise = _check_noise(noise, "noise")
    if isinstance(factor, bool) or not isinstance(factor, Real) or not 0 <= factor < 1:
        raise ValueError(f"factor must be a number in [0, 1); got {factor!r}.")
    seed = _seed_from(random_state)
    X, y = make_circles(n_samples=(n_major, n_minor), noise=noise, factor=factor,
                        random_state=seed)
    _check_finite_output(X, "noise", noise)
    return _shuffled(X, y, seed + 1)


def _balanced_indices(y, n_per_class, random_state):
    """Indices of ``n_per_class`` samples of each class, drawn without replacement."""
    classes = np.unique(y)
    sampler = RandomUnderSampler(
        sampling_strategy={c: n_per_class for c in classes.tolist()}, random_state=random_state
    )
    sampler.fit_resample(np.zeros((len(y), 1)), y)
    return sampler.sample_indices_


def _long_tailed_split(
    X, y, *, imbalance_ratio, profile, n_max, n_test_per_class, class_order, random_state,
    name,
):
    """Balanced test split, then a long-tailed training set from the remaining pool."""
    imbalance_ratio = _check_ratio(imbalance_ratio)
    n_test_per_class = _check_positive_int(n_test_per_class, "n_test_per_class")
    rng = check_random_state(random_state)
    classes, available = np.unique(y, return_counts=True)
    if np.any(available <= n_test_per_class):
        raise ValueError(
            f"{name}: n_test_per_class={n_test_per_class} leaves no training samples; the "
            f"smallest class has {available.min()} samples."
        )
    test_idx = _balanced_indices(y, n_test_per_class, rng)
    pool = np.ones(len(y), dtype=bool)
    pool[test_idx] = False
    X_pool, y_pool = X[pool], y[pool]
    X_train, y_train = make_long_tailed(
        X_pool, y_pool, imbalance_ratio=imbalance_ratio, profile=profile, n_max=n_max,
        class_order=class_order, random_state=rng,
    )
    perm = rng.permutation(len(y_train))
    X_train, y_train = X_train[perm], y_train[perm]
    test_perm = rng.permutation(test_idx)
    X_test, y_test = X[test_perm], y[test_perm]
    train_counts = np.array([(y_train == c).sum() for c in classes], dtype=np.int64)
    order = classes[np.argsort(-train_counts, kind="stable")]
    n_group = max(1, len(classes) // 3)
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        classes=classes,
        train_counts=train_counts,
        class_order=order,
        head_classes=np.sort(order[:n_group]),
        tail_classes=np.sort(order[-n_group:]),
        imbalance_ratio=imbalance_ratio,
        profile=profile,
    )


_BUNCH_DOC = """
    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the fields

        - ``X_train``, ``y_train``: the long-tailed training set (shuffled);
        - ``X_test``, ``y_test``: the balanced test set, disjoint from training;
        - ``classes``: the sorted labels;
        - ``train_counts``: training count of each class, in ``classes`` order;
        - ``class_order``: the labels from head (most frequent) to tail;
        - ``head_classes`` / ``tail_classes``: the ``max(1, K // 3)`` most /
          least frequent training classes (sorted);
        - ``imbalance_ratio``, ``profile``: the parameters used.
"""


def load_digits_lt(
    *,
    imbalance_ratio=10,
    profile="exponential",
    n_max=None,
    n_test_per_class=50,
    class_order=None,
    random_state=None,
):
    """Long-tailed scikit-learn digits: a long-tailed training set and a balanced test set.

    First ``n_test_per_class`` images of each digit are drawn for a balanced
    test set; the training set is then sub-sampled from the remaining images by
    :func:`make_long_tailed` (8×8 images, 64 features in ``[0, 16]``, 10 classes,
    174 to 183 images per class in all).

    Parameters
    ----------
    imbalance_ratio : float, default=10
        ``rho = n_max / n_min`` of the training set.
    profile : {"exponential", "step"}, default="exponential"
        Training count profile.
    n_max : int, default=None
        Training count of the head class; ``None`` uses the smallest number of
        images left for a class after the test split (124 with the defaults).
    n_test_per_class : int, default=50
        Test images per class.
    class_order : array-like of shape (10,), default=None
        Digits from head to tail; ``None`` is ``0, 1, ..., 9``.
    random_state : int, RandomState instance or None, default=None
        Seed of both splits.

    {bunch}
    Examples
    --------
    >>> from sklt.datasets import load_digits_lt
    >>> data = load_digits_lt(imbalance_ratio=10, random_state=0)
    >>> data.train_counts
    array([124,  96,  74,  57,  44,  34,  26,  20,  16,  12])
    >>> data.X_test.shape, data.head_classes, data.tail_classes
    ((500, 64), array([0, 1, 2]), array([7, 8, 9]))
    """
    digits = load_digits()
    return _long_tailed_split(
        digits.data, digits.target.astype(np.int64), imbalance_ratio=imbalance_ratio,
        profile=profile, n_max=n_max, n_test_per_class=n_test_per_class,
        class_order=class_order, random_state=random_state, name="load_digits_lt",
    )


def load_mnist1d_lt(
    *,
    imbalance_ratio=10,
    profile="exponential",
    n_samples=4000,
    n_max=None,
    n_test_per_class=100,
    class_order=None,
    random_state=None,
):
    """Long-tailed MNIST-1D, generated offline: a long-tailed training set and a balanced test set.

    MNIST-1D (Greydanus 2020) is a 10-class, 40-feature procedural dataset. It
    is generated here by ``mnist1d.data.make_dataset`` with ``num_samples`` and
    ``seed`` set (nothing is downloaded); its own train/test split is pooled, a
    balanced test set of ``n_test_per_class`` per class is drawn, and the
    training set is sub-sampled from the rest by :func:`make_long_tailed`.
    Needs the ``mnist1d`` package: ``pip install "sklt[bench]"``. The global
    random state that ``mnist1d`` seeds is restored afterwards.

    Parameters
    ----------
    imbalance_ratio : float, default=10
        ``rho = n_max / n_min`` of the training set.
    profile : {"exponential", "step"}, default="exponential"
        Training count profile.
    n_samples : int, default=4000
        Number of samples generated (``n_samples // 10`` per class).
    n_max : int, default=None
        Training count of the head class; ``None`` uses every sample left for
        a class after the test split (``n_samples // 10 - n_test_per_class``).
    n_test_per_class : int, default=100
        Test samples per class.
    class_order : array-like of shape (10,), default=None
        Classes from head to tail; ``None`` is ``0, 1, ..., 9``.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator and of both splits.

    {bunch}
    Raises
    ------
    ImportError
        If ``mnist1d`` is not installed.

    Examples
    --------
    >>> from sklt.datasets import load_mnist1d_lt
    >>> data = load_mnist1d_lt(imbalance_ratio=100, n_samples=2000, random_state=0)
    >>> data.train_counts
    array([100,  59,  35,  21,  12,   7,   4,   2,   1,   1])
    >>> data.X_train.shape[1], data.X_test.shape
    (40, (1000, 40))
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:
        raise ImportError(
            "load_mnist1d_lt needs the 'mnist1d' package; install the benchmark extra with "
            'pip install "sklt[bench]" (or pip install mnist1d).'
        ) from exc
    n_samples = _check_positive_int(
        n_samples, "n_samples", maximum=10**6, hint=" (mnist1d generates samples one by one)"
    )
    if n_samples < 20:
        raise ValueError(
            f"n_samples={n_samples} is too small: MNIST-1D has 10 classes, and each needs "
            "test and training samples (n_samples // 10 per class)."
        )
    rng = check_random_state(random_state)
    args = get_dataset_args()
    args.num_samples = n_samples
    args.seed = int(rng.randint(np.iinfo(np.int32).max))
    # mnist1d seeds the global generators (np.random.seed, random.seed): restore them.
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        raw = make_dataset(args)  # never get_dataset: it downloads
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
    X = np.concatenate([raw["x"], raw["x_test"]])
    y = np.concatenate([raw["y"], raw["y_test"]]).astype(np.int64)
    return _long_tailed_split(
        X, y, imbalance_ratio=imbalance_ratio, profile=profile, n_max=n_max,
        n_test_per_class=n_test_per_class, class_order=class_order, random_state=rng,
        name="load_mnist1d_lt",
    )


for _loader in (load_digits_lt, load_mnist1d_lt):
    if _loader.__doc__:  # None under python -OO
        _loader.__doc__ = _loader.__doc__.replace("{bunch}", _BUNCH_DOC.strip() + "\n")
del _loader
