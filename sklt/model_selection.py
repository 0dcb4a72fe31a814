"""Cross-validation that holds at the extreme tail of a long-tailed label distribution.

At an imbalance ratio of 100 the rarest classes of a long-tailed training set have
one to three samples. scikit-learn's :class:`~sklearn.model_selection.StratifiedKFold`
then either fails (more folds than samples in every class) or builds training folds
that lack a class, which no classifier of ``K`` classes can be fit on. The splitters
here are stratified k-fold splits with one rule added: **every training fold holds
every class**. A class with a single sample stays in every training fold (it is
never held out); the samples of every other class, however rare, are spread over
the held-out folds, each held out exactly once, so they are scored.

:class:`TailSafeStratifiedKFold` is the default splitter of sklt's tuners
(:class:`sklt.LogitAdjusterCV`, :class:`sklt.PriorShiftClassifierCV`), and works in
any scikit-learn tool that takes ``cv``: :class:`~sklearn.model_selection.GridSearchCV`,
:func:`~sklearn.model_selection.cross_validate`,
:func:`~sklearn.model_selection.cross_val_predict`,
:class:`~sklearn.model_selection.TunedThresholdClassifierCV`.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator, check_cv
from sklearn.utils import indexable
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from ._compat import _num_samples
from ._utils import (
    _as_array,
    _as_numeric_array,
    _check_random_state,
    _encode,
    _estimator_labels,
    _isnan,
)
from .priors import _format_classes

__all__ = ["RepeatedTailSafeStratifiedKFold", "TailSafeStratifiedKFold", "adjustment_curve"]


def _check_n_splits(n_splits, name="n_splits"):
    if not isinstance(n_splits, Integral) or isinstance(n_splits, bool):
        raise ValueError(f"{name} must be an integer of at least 2; got {n_splits!r}.")
    if n_splits < 2:
        raise ValueError(
            f"{name} must be at least 2 (one held-out fold and one training fold); "
            f"got {n_splits}."
        )
    return int(n_splits)


def _encode_targets(y, owner):
    """``y`` as codes by order of first appearance (as StratifiedKFold), with the classes."""
    if y is None:
        raise ValueError(f"{owner} needs the labels y to stratify; got y=None.")
    if isinstance(y, (str, bytes, dict)):
        raise ValueError(f"{owner} needs y as an array-like of labels; got {type(y).__name__}.")
    y = _as_array(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    if np.any(_isnan(y)):
        raise ValueError(
            f"{owner}: y contains NaN or None (at {int(_isnan(y).sum())} positions); class "
            "labels must be integers or strings. Drop or impute the missing labels."
        )
    if y.ndim == 1:
        y = _estimator_labels(y)
    kind = type_of_target(y, input_name="y")
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"{owner} stratifies binary or multiclass labels; got a {kind!r} target."
        )
    y = column_or_1d(y)
    classes, first, inverse = np.unique(y, return_index=True, return_inverse=True)
    # Order of appearance makes the folds invariant to a relabelling of the classes.
    _, perm = np.unique(first, return_inverse=True)
    return perm[inverse.ravel()], classes[np.argsort(perm)]


def _tail_safe_test_folds(y, n_splits, shuffle, rng, owner, *, partition=False):
    """Held-out fold of each sample; ``-1`` for the samples never held out (singletons).

    ``partition=True`` holds out single-sample classes too (every sample exactly
    once): for a frozen model, whose "training folds" are never fit.

    Round robin over the samples sorted by class (StratifiedKFold's allocation),
    applied to the classes with at least two samples: a class with ``n_c`` samples
    has ``floor(n_c / k)`` or ``ceil(n_c / k)`` of them in each held-out fold when
    ``n_c >= k``, and one sample in each of ``n_c`` different folds when
    ``2 <= n_c < k``; in both cases every training fold keeps at least one.
    """
    codes, classes = _encode_targets(y, owner)
    if len(codes) == 0:
        raise ValueError(f"{owner}: cannot split 0 samples; y is empty.")
    counts = np.bincount(codes)
    largest = counts.max()
    if partition:
        if n_splits > len(codes):
            raise ValueError(
                f"{owner}: n_splits={n_splits} is greater than the number of samples "
                f"({len(codes)}). Use at most n_splits={len(codes)}."
            )
    elif n_splits > largest:
        if largest < 2:
            raise ValueError(
                f"{owner}: every class has 1 sample, so no split can hold a sample "
                "out and keep its class in training."
            )
        raise ValueError(
            f"{owner}: n_splits={n_splits} is greater than the number of samples of the "
            f"largest class ({largest}), so some held-out folds would be empty. Use at most "
            f"n_splits={largest}."
        )
    singletons = np.zeros_like(counts, dtype=bool) if partition else counts == 1
    if singletons.any():
        warnings.warn(
            f"Classes {_format_classes(classes[singletons])} have a single sample: "
            f"{owner} keeps it in every training fold and never holds it out, so no "
            "held-out fold scores these classes.",
            UserWarning,
            stacklevel=4,
        )
    n_classes = len(counts)
    held = ~singletons[codes]
    order = np.sort(codes[held])
    allocation = np.stack(
        [np.bincount(order[i::n_splits], minlength=n_classes) for i in range(n_splits)]
    )
    test_folds = np.full(len(codes), -1, dtype=np.intp)
    for k in np.flatnonzero(~singletons):
        folds_for_class = np.repeat(np.arange(n_splits), allocation[:, k])
        if shuffle:
            rng.shuffle(folds_for_class)
        test_folds[codes == k] = folds_for_class
    return test_folds


class TailSafeStratifiedKFold(BaseCrossValidator):
    """Stratified K-fold in which every training fold holds every class.

    Like :class:`~sklearn.model_selection.StratifiedKFold` (the same round-robin
    allocation, so the held-out folds keep the class proportions and differ in
    size by at most one sample), with one rule for the extreme tail of a
    long-tailed label distribution:

    - a class with ``n_c >= n_splits`` samples is split as by
      ``StratifiedKFold``: each held-out fold has ``floor(n_c / n_splits)`` or
      ``ceil(n_c / n_splits)`` of its samples;
    - a class with ``2 <= n_c < n_splits`` samples has **one sample in each of**
      ``n_c`` **different held-out folds** (and none in the others); every
      training fold keeps at least ``n_c - 1`` of them;
    - a class with **a single sample** is in **every training fold and never
      held out** (a fold that held it out would train without the class). A
      ``UserWarning`` names these classes, since no held-out fold scores them.

    Every other sample is held out exactly once. (With single-sample classes the
    held-out folds are therefore not a partition of the data, which
    :func:`~sklearn.model_selection.cross_val_predict` requires; sklt's tuners
    pool the held-out predictions themselves.) The number of folds may exceed
    the size of a rare class, but not the size of the largest class (a
    ``ValueError`` says how many folds fit).

    Read more in the :doc:`User Guide </user_guide/tuning>`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle each class's samples before they are assigned to folds (which
        folds a rare class lands in follows the allocation; which of its samples
        goes to which of those folds is shuffled).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle; leave it ``None`` when ``shuffle=False``.

    See Also
    --------
    RepeatedTailSafeStratifiedKFold : This split repeated with different shuffles.
    sklearn.model_selection.StratifiedKFold : The split it extends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.model_selection import TailSafeStratifiedKFold
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3])
    >>> cv = TailSafeStratifiedKFold(n_splits=3)
    >>> import warnings
    >>> with warnings.catch_warnings():   # class 3 has a single sample
    ...     warnings.simplefilter("ignore")
    ...     folds = list(cv.split(np.zeros((len(y), 1)), y))
    >>> [np.unique(y[train]).tolist() for train, _ in folds]
    [[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]
    >>> [y[test].tolist() for _, test in folds]
    [[0, 0, 1, 2], [0, 0, 1, 2], [0, 0, 1]]

    It works wherever scikit-learn takes ``cv``. On Digits-LT at an imbalance
    ratio of 100 (class 9 has one training sample, class 8 two), every fold's
    model knows all ten classes:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_validate
    >>> from sklt.datasets import load_digits_lt
    >>> data = load_digits_lt(imbalance_ratio=100, random_state=0)
    >>> data.train_counts
    array([124,  74,  44,  26,  16,   9,   5,   3,   2,   1])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     cv_results = cross_validate(LogisticRegression(max_iter=200), data.X_train / 16,
    ...                                 data.y_train, cv=TailSafeStratifiedKFold(5),
    ...                                 scoring="balanced_accuracy", return_estimator=True)
    >>> [len(model.classes_) for model in cv_results["estimator"]]
    [10, 10, 10, 10, 10]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _check_params(self):
        n_splits = _check_n_splits(self.n_splits)
        if not isinstance(self.shuffle, bool | np.bool_):
            raise TypeError(f"shuffle must be True or False; got {self.shuffle!r}.")
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False. Leave "
                "random_state to its default (None), or set shuffle=True."
            )
        return n_splits

    def _make_test_folds(self, y):
        n_splits = self._check_params()
        rng = _check_random_state(self.random_state)
        return _tail_safe_test_folds(y, n_splits, self.shuffle, rng, type(self).__name__)

    def _iter_test_masks(self, X=None, y=None, groups=None):
        test_folds = self._make_test_folds(y)
        for i in range(self.n_splits):
            yield test_folds == i

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and held-out sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its length is used (``np.zeros(n_samples)``
            works as a placeholder).
        y : array-like of shape (n_samples,)
            Class labels; the folds are stratified on them.
        groups : object
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split (every class).
        test : ndarray
            The held-out set indices for that split.
        """
        if groups is not None:
            warnings.warn(
                f"The groups parameter is ignored by {type(self).__name__}.",
                UserWarning,
                stacklevel=2,
            )
        if y is None:
            raise ValueError(f"{type(self).__name__} needs the labels y to stratify; got y=None.")
        X, y = indexable(X, y)
        if _num_samples(X) != _num_samples(y):
            raise ValueError(
                f"X has {_num_samples(X)} samples but y has {_num_samples(y)}."
            )
        return super().split(X, y)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Always ignored, exist for API compatibility.

        Returns
        -------
        n_splits : int
            Number of splitting iterations.
        """
        return _check_n_splits(self.n_splits)


class RepeatedTailSafeStratifiedKFold(BaseCrossValidator):
    """:class:`TailSafeStratifiedKFold` repeated ``n_repeats`` times with different shuffles.

    Each repetition is a ``TailSafeStratifiedKFold(n_splits, shuffle=True)``
    drawn from ``random_state``, so every sample of a class with at least two
    samples is held out exactly ``n_repeats`` times, and every training fold
    holds every class. Repeating averages out the luck of which samples of a
    rare class share a fold; it costs ``n_repeats`` times the fits.

    Read more in the :doc:`User Guide </user_guide/tuning>`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds per repetition, at least 2.
    n_repeats : int, default=10
        Number of repetitions, at least 1.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffles.

    See Also
    --------
    TailSafeStratifiedKFold : One repetition.
    sklearn.model_selection.RepeatedStratifiedKFold : The same for StratifiedKFold.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.model_selection import RepeatedTailSafeStratifiedKFold
    >>> y = np.array([0] * 8 + [1] * 3 + [2] * 2)
    >>> cv = RepeatedTailSafeStratifiedKFold(n_splits=4, n_repeats=3, random_state=0)
    >>> cv.get_n_splits()
    12
    >>> held_out = np.concatenate([test for _, test in cv.split(np.zeros(len(y)), y)])
    >>> np.bincount(held_out, minlength=len(y))   # each sample held out 3 times
    array([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3])
    """

    def __init__(self, n_splits=5, *, n_repeats=10, random_state=None):
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def _check_n_repeats(self):
        n_repeats = self.n_repeats
        if not isinstance(n_repeats, Integral) or isinstance(n_repeats, bool) or n_repeats < 1:
            raise ValueError(f"n_repeats must be an integer of at least 1; got {n_repeats!r}.")
        return int(n_repeats)

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and held-out sets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its length is used.
        y : array-like of shape (n_samples,)
            Class labels; the folds are stratified on them.
        groups : object
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split (every class).
        test : ndarray
            The held-out set indices for that split.
        """
        if groups is not None:
            warnings.warn(
                f"The groups parameter is ignored by {type(self).__name__}.",
                UserWarning,
                stacklevel=2,
            )
        n_splits = _check_n_splits(self.n_splits)
        n_repeats = self._check_n_repeats()
        rng = _check_random_state(self.random_state)
        X, y = indexable(X, y)
        for repeat in range(n_repeats):
            cv = TailSafeStratifiedKFold(n_splits, shuffle=True, random_state=rng)
            with warnings.catch_warnings():
                if repeat:  # name the single-sample classes once, not once per repetition
                    warnings.simplefilter("ignore", UserWarning)
                yield from cv.split(X, y)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: ``n_splits * n_repeats``.

        Parameters
        ----------
        X, y, groups : object
            Always ignored, exist for API compatibility.

        Returns
        -------
        n_splits : int
            Number of splitting iterations.
        """
        return _check_n_splits(self.n_splits) * self._check_n_repeats()


class _TailSafeHoldOut(BaseCrossValidator):
    """One stratified train/validation split in which the training part holds every class.

    Each class with ``n_c >= 2`` samples puts ``round(test_size * n_c)`` of them,
    clipped to ``[1, n_c - 1]``, in the validation part; a class with one sample
    stays in training. Used for a float ``cv`` of sklt's tuners.
    """

    def __init__(self, test_size=0.25, random_state=None):
        self.test_size = test_size
        self.random_state = random_state

    def _iter_test_masks(self, X=None, y=None, groups=None):
        if not isinstance(self.test_size, Real) or not 0 < self.test_size < 1:
            raise ValueError(
                f"test_size must be a fraction in (0, 1); got {self.test_size!r}."
            )
        rng = _check_random_state(self.random_state)
        codes, classes = _encode_targets(y, "cv")
        counts = np.bincount(codes)
        if counts.max() < 2:
            raise ValueError(
                "Every class has a single sample: no validation split can keep every "
                "class in training."
            )
        mask = np.zeros(len(codes), dtype=bool)
        for k in np.flatnonzero(counts >= 2):
            members = np.flatnonzero(codes == k)
            n_test = int(np.clip(np.round(self.test_size * len(members)), 1, len(members) - 1))
            mask[rng.choice(members, size=n_test, replace=False)] = True
        yield mask

    def get_n_splits(self, X=None, y=None, groups=None):
        return 1


class _StratifiedPartition(BaseCrossValidator):
    """Stratified folds that hold out every sample exactly once, rare classes included.

    The allocation of :class:`TailSafeStratifiedKFold` without its training-fold
    rule: for a frozen model nothing is fit on the training folds, so a class
    with one sample can be held out (scored) too. Used for an int ``cv`` of
    sklt's tuners around a :class:`~sklearn.frozen.FrozenEstimator`.
    """

    def __init__(self, n_splits=5):
        self.n_splits = n_splits

    def _iter_test_masks(self, X=None, y=None, groups=None):
        n_splits = _check_n_splits(self.n_splits)
        test_folds = _tail_safe_test_folds(y, n_splits, False, None, "cv", partition=True)
        for i in range(n_splits):
            yield test_folds == i

    def get_n_splits(self, X=None, y=None, groups=None):
        return _check_n_splits(self.n_splits)


def _check_tail_safe_cv(cv=5, y=None, *, random_state=None, frozen=False):
    """``check_cv`` with sklt's tail-safe defaults.

    ``None`` or an int ``k`` gives :class:`TailSafeStratifiedKFold` with ``k``
    folds (5 for ``None``), or for a frozen model (``frozen=True``, nothing fit
    on the training folds) a stratified partition that holds out every sample
    once; a float in ``(0, 1)`` one tail-safe stratified validation split of
    that fraction; anything else goes through
    :func:`sklearn.model_selection.check_cv`.
    """
    if cv is None:
        cv = 5
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if frozen:
            return _StratifiedPartition(int(cv))
        return TailSafeStratifiedKFold(int(cv))
    if isinstance(cv, Real) and not isinstance(cv, bool):
        return _TailSafeHoldOut(test_size=float(cv), random_state=random_state)
    try:
        return check_cv(cv, y=y, classifier=True)
    except TypeError as exc:  # e.g. a 0-d array: check_cv lists what is not a splitter
        raise ValueError(
            "cv must be a number of folds, a cross-validation splitter or an iterable of "
            f"(train, test) index arrays; got {cv!r} ({exc})."
        ) from exc


def _materialise_splits(cv, X, y, n_samples, name="cv", **split_params):
    """``list(cv.split(X, y))`` with every split checked: a pair of 1-D integer index
    arrays (or boolean masks of length ``n_samples``) within ``[0, n_samples)``, a
    non-empty held-out part. A malformed iterable of splits is a ``ValueError`` naming
    ``name`` instead of an unpacking or indexing error deep inside the fit."""
    hint = (f"{name} must be a number of folds, a cross-validation splitter or an iterable "
            "of (train, test) index arrays")
    try:
        raw = list(cv.split(X, y, **split_params))
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{hint}; splitting failed: {exc}") from exc
    splits = []
    for i, split in enumerate(raw):
        try:
            train, test = split
        except (TypeError, ValueError):
            raise ValueError(f"{hint}; split {i} is {split!r}, not a (train, test) pair.") from None
        parts = []
        for part_name, part in (("train", train), ("test", test)):
            try:
                part = np.asarray(part)
            except ValueError as exc:
                raise ValueError(f"{hint}; the {part_name} part of split {i} is ragged.") from exc
            if part.dtype == bool and part.ndim == 1 and len(part) == n_samples:
                part = np.flatnonzero(part)
            if part.ndim != 1 or (part.size and part.dtype.kind not in "iu"):
                raise ValueError(
                    f"{hint}; the {part_name} part of split {i} is not a 1-D array of integer "
                    f"indices (got dtype {part.dtype}, shape {part.shape}).")
            if part.size and (part.min() < -n_samples or part.max() >= n_samples):
                raise ValueError(
                    f"{hint}; the {part_name} part of split {i} has indices outside "
                    f"[0, {n_samples}) (X has {n_samples} samples).")
            parts.append(part)
        if parts[1].size == 0:
            raise ValueError(f"{hint}; split {i} holds out no sample.")
        splits.append(tuple(parts))
    if not splits:
        raise ValueError(f"{hint}; it gave no split.")
    return splits


# --------------------------------------------------------------------------- adjustment curve
def _predict_time_params(estimator):
    """Parameters of an sklt estimator that act at prediction time (no refit needed)."""
    from .fusion import NoisyOrFusionClassifier
    from .posthoc import LogitAdjuster, PriorShiftClassifier

    if isinstance(estimator, PriorShiftClassifier):
        return ("lam", "temperature")
    if isinstance(estimator, LogitAdjuster):
        return ("tau",)
    if isinstance(estimator, NoisyOrFusionClassifier):
        return ("lam",)  # its temperatures are fixed at fit (UNO's statistics)
    return ()


def _check_predict_time_param(estimator, param_name):
    if not callable(getattr(estimator, "get_params", None)) or isinstance(estimator, type):
        raise TypeError(
            "estimator must be a fitted sklt corrector or NoisyOrFusionClassifier (or a "
            f"pipeline holding one); got {estimator!r}."
        )
    if not isinstance(param_name, str):
        raise TypeError(f"param_name must be a string; got {param_name!r}.")
    params = estimator.get_params()
    if param_name not in params:
        raise ValueError(
            f"param_name={param_name!r}: {type(estimator).__name__} has no parameter "
            f"{param_name!r}; its prediction-time strengths are "
            f"{sorted(k for k in params if k.rsplit('__', 1)[-1] in ('lam', 'tau'))}."
        )
    prefix, _, name = param_name.rpartition("__")
    owner = params[prefix] if prefix else estimator
    allowed = _predict_time_params(owner)
    if name not in allowed:
        where = f"{type(owner).__name__}'s {name!r}"
        detail = (
            f"only {', '.join(repr(a) for a in allowed)} act{'s' if len(allowed) == 1 else ''}"
            " at prediction time there" if allowed else
            "it is not one of the prediction-time strengths of sklt's correctors and fusion "
            "('lam', 'tau', a corrector's 'temperature')"
        )
        raise ValueError(
            f"param_name={param_name!r}: {where} is used at fit, so setting it on the fitted "
            f"model would not change its predictions ({detail}). Tune it with a refit, e.g. "
            "sklearn.model_selection.GridSearchCV."
        )


def _check_param_range(param_range):
    try:
        values = _as_numeric_array(param_range, "param_range")
    except (TypeError, ValueError):
        raise ValueError(
            f"param_range must be a 1-D array of numbers; got {param_range!r}."
        ) from None
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"param_range must be a non-empty 1-D array; got shape {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"param_range must hold finite numbers; got {values}.")
    if np.any(values < 0):
        raise ValueError(
            f"param_range must be non-negative (a strength); got {values[values < 0].tolist()}."
        )
    return np.unique(values)


class _FittedGridScorer:
    """Scores of a fitted estimator with its strength set to each value: no refit."""

    def __init__(self, estimator, param_name, X, y, scorer, splits):
        from ._compat import _safe_indexing

        self.estimator = estimator
        self.param_name = param_name
        self.scorer = scorer
        self.targets = [(X, y)] + [
            (_safe_indexing(X, test), _safe_indexing(y, test)) for _, test in splits
        ]

    def _one(self, target, value):
        X, y = target
        self.estimator.set_params(**{self.param_name: float(value)})
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
            score = self.scorer(self.estimator, X, y)
        try:
            return float(score)
        except (TypeError, ValueError):
            raise ValueError(f"The scorer must return a single number; got {score!r}.") from None

    def pooled(self, value, _temperature=None):
        return self._one(self.targets[0], value)

    def per_fold(self, value, _temperature=None):
        return np.array([self._one(t, value) for t in self.targets[1:]])


def adjustment_curve(
    estimator,
    X,
    y,
    *,
    param_name="lam",
    param_range=None,
    scoring="balanced_accuracy",
    cv=5,
    tie_rule="se",
    tie_break="middle",
):
    """Score a fitted model over a grid of its correction strength, without refitting.

    The validation-set protocol of the papers (Tian et al. 2020, §3.2.3; Menon
    et al. 2021, §4): the model is trained once and its strength tuned on a
    validation set. The strengths of sklt's post-hoc correctors (``lam``,
    ``tau``, a :class:`~sklt.PriorShiftClassifier`'s ``temperature``) and of
    :class:`~sklt.NoisyOrFusionClassifier` (``lam``) act at prediction time, so
    each value is set on the *fitted* ``estimator`` with ``set_params`` and
    scored on ``X, y``; the estimator keeps its own value afterwards. The
    choice follows the rules of sklt's tuners: each value is scored once on all
    of ``X`` (pooled), the default range is extended while the best score is on
    its upper edge (up to 10), a given range whose best score is on an edge is
    a warning, and near-ties follow ``tie_rule`` (the standard error comes from
    the scores on ``cv`` stratified folds of ``X``).

    This is the tuning path of the fusion's ``lam``;
    :class:`~sklt.LogitAdjusterCV` / :class:`~sklt.PriorShiftClassifierCV`
    with a :class:`~sklearn.frozen.FrozenEstimator` do the same for a
    corrector (faster: they compute the inner model's scores once).

    Read more in the :doc:`User Guide </user_guide/tuning>`.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted sklt corrector or :class:`~sklt.NoisyOrFusionClassifier`, or
        a pipeline holding one (``param_name`` then is nested, e.g.
        ``"logitadjuster__tau"``).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Validation data.
    y : array-like of shape (n_samples,)
        Validation labels.
    param_name : str, default="lam"
        The strength to sweep; it must act at prediction time (a ``ValueError``
        says so for a parameter that is used at fit, such as the fusion's
        ``temperature``).
    param_range : array-like of shape (n_values,), default=None
        Non-negative values (used sorted, without duplicates); ``None`` is 21
        values on ``[0, 2]``, extended while the best score is on its upper
        edge.
    scoring : str or callable, default="balanced_accuracy"
        A scorer name (sklt's and scikit-learn's, see
        :func:`sklt.metrics.get_scorer`) or a callable
        ``scorer(estimator, X, y)``.
    cv : int or cross-validation generator, default=5
        Folds of ``X`` whose scores give the standard error of ``tie_rule="se"``
        (an int: stratified folds that hold out every sample once).
    tie_rule : "se", float or None, default="se"
        As in :class:`~sklt.LogitAdjusterCV`: the plateau of values within one
        paired standard error (or this tolerance) of the best score; ``None``:
        the best score, the smallest value on ties.
    tie_break : {"middle", "closest_to_one"}, default="middle"
        The value chosen on the plateau, as in :class:`~sklt.LogitAdjusterCV`.

    Returns
    -------
    curve : sklearn.utils.Bunch
        ``param_name``; ``param_range`` (the values scored, extension
        included); ``scores`` (on all of ``X``); ``fold_scores`` of shape
        (n_splits, n_values); ``best_value``,
        ``best_score`` and ``best_index`` (the choice); ``top_index`` (the best
        score); ``tolerance`` (of each value examined by the tie rule, NaN
        elsewhere); ``tied`` (the plateau); ``extended`` (values added by the
        range extension).

    See Also
    --------
    sklt.plotting.AdjustmentCurveDisplay.from_estimator : Plot this curve.
    sklearn.model_selection.validation_curve : The same idea for any
        hyperparameter, refitting at each value.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklt import LogitAdjuster
    >>> from sklt.model_selection import adjustment_curve
    >>> X, y = make_classification(n_samples=2000, weights=[0.9], random_state=0)
    >>> clf = LogitAdjuster(tau=0.0).fit(X[:1000], y[:1000])
    >>> curve = adjustment_curve(clf, X[1000:], y[1000:], param_name="tau")
    >>> curve.param_range.shape, bool(0 < curve.best_value <= 2)
    ((21,), True)
    >>> clf.tau        # the estimator keeps its own value
    0.0
    """
    from sklearn.utils import Bunch
    from sklearn.utils.validation import check_is_fitted

    from .metrics import get_scorer
    from .tuning import _DEFAULT_RANGE, _scorer_name, _StrengthCurve

    _check_predict_time_param(estimator, param_name)
    check_is_fitted(estimator)
    default = param_range is None
    grid = np.linspace(*_DEFAULT_RANGE, num=21) if default else _check_param_range(param_range)
    if param_name.rsplit("__", 1)[-1] == "temperature" and not np.all(grid > 0):
        raise ValueError(
            "param_range must hold positive temperatures for param_name="
            f"{param_name!r} (a temperature divides the scores); got "
            f"{'the default strength range [0, 2]' if default else grid.tolist()}. Pass e.g. "
            "param_range=np.linspace(0.5, 2, 16)."
        )
    if callable(scoring):
        scorer = scoring
    elif isinstance(scoring, str):
        scorer = get_scorer(scoring)
    else:
        raise ValueError(f"scoring must be a scorer name or a callable; got {scoring!r}.")
    if not (tie_rule is None or tie_rule == "se"
            or (isinstance(tie_rule, Real) and not isinstance(tie_rule, bool) and tie_rule >= 0)):
        raise ValueError(f"tie_rule must be 'se', a number >= 0 or None; got {tie_rule!r}.")
    if tie_break not in ("middle", "closest_to_one"):
        raise ValueError(
            f"tie_break must be 'middle' or 'closest_to_one'; got {tie_break!r}."
        )
    if isinstance(y, (list, tuple)):
        y = _as_array(y, "y")
    X, y = indexable(X, y)
    y_array = np.asarray(y)
    if y_array.ndim == 1:
        y = _estimator_labels(y_array)
    y = column_or_1d(y)
    if _num_samples(X) == 0:
        raise ValueError("adjustment_curve needs validation samples; X has 0 samples.")
    if getattr(estimator, "classes_", None) is not None:
        # the curve scores the estimator's predictions, which can never be other labels
        _encode(y, np.asarray(estimator.classes_), classes_name="the estimator's classes")
    splits = _materialise_splits(_check_tail_safe_cv(cv, y, frozen=True), X, y,
                                 _num_samples(X))
    original = estimator.get_params()[param_name]
    try:
        curve = _StrengthCurve(
            _FittedGridScorer(estimator, param_name, X, y, scorer, splits),
            lambda value: (value, None), pooled=True, all_folds=True,
        )
        curve.search(grid, "grid", extend=default)
        name = param_name.rsplit("__", 1)[-1]
        choice = curve.choose(tie_rule, tie_break, name=name,
                              scorer_name=_scorer_name(scoring, scorer),
                              user_grid=not default, grid_name="param_range",
                              default_hint="leave param_range=None: the default range is "
                              "extended automatically")
    finally:
        estimator.set_params(**{param_name: original})
    return Bunch(
        param_name=param_name,
        param_range=curve.values,
        scores=curve.pooled_score,
        fold_scores=curve.fold_scores,
        best_value=float(curve.values[choice.index]),
        best_score=float(curve.pooled_score[choice.index]),
        best_index=choice.index,
        top_index=choice.top,
        tolerance=choice.tolerance,
        tied=choice.tied,
        extended=curve.extended,
    )
