"""Metrics for long-tailed and label-shifted classification, and their scorers.

What the papers report (``METHODS.md`` §4):

- :func:`balanced_error`: the balanced error of 004 eq. 2, ``1 -``
  scikit-learn's :func:`~sklearn.metrics.balanced_accuracy_score`;
- :func:`shot_accuracy`: mean per-class accuracy of the *many*-, *medium*- and
  *few*-shot classes (001, 002, 004);
- :func:`expected_calibration_error`, :func:`classwise_calibration_error` and
  :func:`maximum_calibration_error`: binned calibration errors (002 §6.5,
  003 Table 2);
- :func:`mean_iou`, :func:`mean_class_accuracy` and
  :func:`segmentation_confusion_matrix`: dense (segmentation) metrics of label
  maps (000 Tables 4-5).

Metrics that scikit-learn and imbalanced-learn already compute are reused, not
rewritten: :func:`~sklearn.metrics.balanced_accuracy_score`,
:func:`~sklearn.metrics.log_loss`, :func:`~sklearn.metrics.brier_score_loss` and
``imblearn.metrics.geometric_mean_score(..., correction=0.001)`` (001 §4.4).

Every scalar metric has a scorer for ``scoring=`` in
:class:`~sklearn.model_selection.GridSearchCV`: :func:`get_scorer` knows sklt's
names and falls back to :func:`sklearn.metrics.get_scorer`; :func:`make_scorer`
is scikit-learn's, except that metrics of predicted probabilities receive the
fitted estimator's ``classes_`` as ``labels`` (so a cross-validation fold that
misses a class still scores).
"""

import copy
import inspect
from numbers import Integral, Real

import numpy as np
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, log_loss
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names as _sklearn_get_scorer_names
from sklearn.metrics import make_scorer as _sklearn_make_scorer

from ._compat import InvalidParameterError
from ._utils import (
    _CHUNK_ELEMENTS,
    _as_array,
    _calibration_bins,
    _check_label_kinds,
    _check_labels,
    _check_n_bins,
    _check_sample_weight,
    _check_strategy,
    _encode,
    _format_labels,
    _per_class_recall,
    _unique_labels,
    _unsorted_order,
)

__all__ = [
    "balanced_error",
    "classwise_calibration_error",
    "expected_calibration_error",
    "get_scorer",
    "get_scorer_names",
    "make_scorer",
    "maximum_calibration_error",
    "mean_class_accuracy",
    "mean_iou",
    "segmentation_confusion_matrix",
    "shot_accuracy",
]

# Rows of ``y_proba`` must sum to one within this absolute tolerance. It is loose
# enough for probabilities computed in float32 over many classes (a softmax over
# 1000 classes in float32 sums to one only to ~1e-5), and tight enough to catch
# scores that are not probabilities at all.
_PROBA_SUM_TOL = 1e-3

# The dense metrics hold a (n_classes, n_classes) int64 confusion matrix: 32,768 classes
# take 8 GiB. Larger label indices are a mistake (unmapped labels), not a task.
_MAX_DENSE_CLASSES = 1 << 15


def _check_predicted_labels(y_true, y_pred):
    """Validate a pair of label vectors of one length and the same label type."""
    y_true = _check_labels(y_true, "y_true")
    y_pred = _check_labels(y_pred, "y_pred")
    if y_pred.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true has {y_true.shape[0]} samples but y_pred has {y_pred.shape[0]}; pass one "
            "prediction per sample."
        )
    _check_label_kinds([("y_true", y_true), ("y_pred", y_pred)])
    return y_true, y_pred


# --------------------------------------------------------------------------------------
# Classification metrics on predicted labels
# --------------------------------------------------------------------------------------


def balanced_error(y_true, y_pred, *, sample_weight=None):
    """Balanced error: the mean of the per-class error rates (004 eq. 2).

    ``BER = 1/K sum_y P(y_pred != y | y) = 1 - balanced accuracy``, computed as
    ``1 -`` :func:`sklearn.metrics.balanced_accuracy_score` (classes are those
    present in ``y_true``). It is the error that post-hoc logit adjustment
    (004 eq. 9) minimises, and the error of a classifier on a test set with a
    uniform label distribution.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    error : float
        In ``[0, 1]``; ``1 - 1/K`` for a classifier that always predicts one of
        ``K`` classes.

    See Also
    --------
    sklearn.metrics.balanced_accuracy_score : ``1 - balanced_error``.

    Examples
    --------
    >>> from sklt.metrics import balanced_error
    >>> y_true = [0, 0, 0, 0, 1, 1]
    >>> y_pred = [0, 0, 0, 0, 0, 1]
    >>> balanced_error(y_true, y_pred)   # (0/4 + 1/2) / 2
    0.25
    """
    y_true, y_pred = _check_predicted_labels(y_true, y_pred)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, y_true.shape[0])
    return float(1.0 - balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def _labels_array(values, name):
    """Labels given as a list or dict keys, as an array of their natural dtype."""
    values = list(values)
    holder = np.empty(len(values), dtype=object)
    holder[:] = values
    if len(values):
        _check_labels(holder, name)  # NaN, continuous, mixed types
    return np.array(values)


def _train_counts_per_class(classes, train_counts, y_train, labels):
    """Training counts of each of ``classes`` (sorted test classes), float64."""
    if (train_counts is None) == (y_train is None):
        raise ValueError(
            "Pass exactly one of train_counts (a dict {label: count}, or counts aligned "
            "with labels) and y_train (the training labels)."
        )
    if y_train is not None:
        y_train = _check_labels(y_train, "y_train")
        known, counts = np.unique(y_train, return_counts=True)
        _check_label_kinds([("y_true", classes), ("y_train", known)])
        # A class never seen in training has zero training samples: few-shot.
        idx, found = _encode(classes, known, name="y_true", classes_name="y_train",
                             return_found=True)
        return np.where(found, counts[idx], 0.0)
    if isinstance(train_counts, dict):
        known = _labels_array(train_counts.keys(), "the labels of train_counts")
        counts = np.array(list(train_counts.values()), dtype=object)
        source = "the labels of train_counts"
    else:
        if labels is None:
            raise ValueError(
                "train_counts is an array: pass labels (the class of each entry, in the same "
                "order), or pass train_counts as a dict {label: count}."
            )
        known = _check_labels(labels, "labels")
        counts = np.asarray(train_counts)
        if counts.shape != known.shape:
            raise ValueError(
                f"train_counts has shape {counts.shape} but labels has {known.shape[0]} entries; "
                "they must be aligned."
            )
        source = "labels"
    if counts.dtype.kind not in "iuf" and not all(
        isinstance(c, Real) and not isinstance(c, bool) for c in counts.tolist()
    ):
        raise ValueError(f"train_counts must give numeric counts; got {counts.tolist()}.")
    counts = counts.astype(np.float64)
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"train_counts must give finite, non-negative counts; got {counts}.")
    if len(_unique_labels(known, source)) != len(known):
        raise ValueError(f"{source} must not contain duplicates.")
    try:
        idx = _encode(classes, known, name="y_true", classes_name=source)
    except ValueError as exc:
        raise ValueError(
            f"{exc} train_counts must give the training count of every class of y_true."
        ) from None
    return counts[idx]


def shot_accuracy(
    y_true,
    y_pred,
    *,
    train_counts=None,
    y_train=None,
    labels=None,
    group=None,
    many_threshold=100,
    few_threshold=20,
    sample_weight=None,
):
    """Many-, medium- and few-shot accuracy: mean per-class accuracy per group.

    Classes are grouped by their number of *training* samples ``n``
    (001 Table 1, 002 §5, 004 Fig. 4, following Liu et al. 2019):

    - ``"many"``: ``n > many_threshold`` (default: more than 100);
    - ``"medium"``: ``few_threshold <= n <= many_threshold`` (20 to 100, both
      included);
    - ``"few"``: ``n < few_threshold`` (fewer than 20).

    The score of a group is the mean over its classes of the per-class
    accuracy (recall) ``P(y_pred = c | y = c)`` on the test set, each class
    counting once. On the papers' balanced test sets this is also the accuracy
    of the group's samples. Only classes present in ``y_true`` are scored.

    The papers state the boundaries differently: 002 uses exactly the defaults,
    001 writes medium as ``(20, 100]``, 004 as ``[20, 100]`` with many ``>= 100``
    and few ``<= 20``; change ``many_threshold`` and ``few_threshold`` to match
    another convention.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of the test samples.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    train_counts : dict or array-like of shape (n_labels,), default=None
        Training samples per class: a dict ``{label: count}``, or counts aligned
        with ``labels``. Every class of ``y_true`` needs a count. Give exactly
        one of ``train_counts`` and ``y_train``.
    y_train : array-like of shape (n_train_samples,), default=None
        The training labels; the counts are computed from them (a test class
        absent from ``y_train`` has zero training samples: few-shot).
    labels : array-like of shape (n_labels,), default=None
        The class of each entry of an array ``train_counts``. Not used
        otherwise.
    group : {"many", "medium", "few"}, default=None
        Return only this group's accuracy, as a float (handy with
        :func:`~sklearn.metrics.make_scorer`).
    many_threshold : int, default=100
        Classes with more training samples than this are many-shot.
    few_threshold : int, default=20
        Classes with fewer training samples than this are few-shot.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the test samples in the per-class accuracies.

    Returns
    -------
    scores : dict or float
        ``{"many": ..., "medium": ..., "few": ...}``, always with the three
        keys; a group with no class in ``y_true`` has the value ``nan``. A
        float if ``group`` is given.

    See Also
    --------
    balanced_error : ``1 -`` the mean per-class accuracy over all classes.

    Examples
    --------
    >>> from sklt.metrics import shot_accuracy
    >>> y_train = ["a"] * 150 + ["b"] * 50 + ["c"] * 5
    >>> y_true = ["a", "a", "b", "b", "c", "c"]
    >>> y_pred = ["a", "a", "b", "a", "a", "c"]
    >>> shot_accuracy(y_true, y_pred, y_train=y_train)
    {'many': 1.0, 'medium': 0.5, 'few': 0.5}
    >>> shot_accuracy(y_true, y_pred, train_counts={"a": 150, "b": 50, "c": 5}, group="few")
    0.5
    """
    if group is not None and not (isinstance(group, str) and group in ("many", "medium", "few")):
        raise ValueError(f"group must be None, 'many', 'medium' or 'few'; got {group!r}.")
    for name, value in (("many_threshold", many_threshold), ("few_threshold", few_threshold)):
        if not isinstance(value, Real) or isinstance(value, bool) or not value >= 0:
            raise ValueError(f"{name} must be a non-negative number; got {value!r}.")
    if few_threshold > many_threshold:
        raise ValueError(
            f"few_threshold ({few_threshold}) must not exceed many_threshold ({many_threshold})."
        )
    y_true, y_pred = _check_predicted_labels(y_true, y_pred)
    sample_weight = _check_sample_weight(sample_weight, y_true.shape[0])

    classes, idx = _unique_labels(y_true, "y_true", return_inverse=True)
    counts = _train_counts_per_class(classes, train_counts, y_train, labels)
    per_class, support = _per_class_recall(idx, y_pred == y_true, len(classes), sample_weight)
    scored = support > 0

    masks = {
        "many": counts > many_threshold,
        "medium": (counts >= few_threshold) & (counts <= many_threshold),
        "few": counts < few_threshold,
    }
    scores = {}
    for name, mask in masks.items():
        members = mask & scored
        scores[name] = float(per_class[members].mean()) if members.any() else float("nan")
    return scores if group is None else scores[group]


# --------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------


def _check_proba(y_true, y_proba, labels, sample_weight, *, name="y_proba", pos_label=None):
    """Validate and return ``(y_idx, proba (n, K), weights, classes)``.

    Columns follow the sorted ``labels`` (default: the sorted labels of ``y_true``). A
    1-D ``y_proba`` is the probability of ``pos_label`` (default: the second of the
    two classes) in a binary problem.
    """
    y_true = _check_labels(y_true, "y_true")
    if y_proba is None or isinstance(y_proba, (str, bytes, dict)):
        raise ValueError(
            f"{name} must be an array-like of probabilities; got {type(y_proba).__name__}."
        )
    y_proba = _as_array(y_proba, name)
    if y_proba.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be numeric; got dtype {y_proba.dtype}.")
    if y_proba.dtype not in (np.float32, np.float64):
        y_proba = y_proba.astype(np.float64)
    if y_proba.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (binary: probability of the positive class) or 2-D "
            f"(n_samples, n_classes); got shape {y_proba.shape}."
        )
    if y_proba.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"y_true has {y_true.shape[0]} samples but {name} has {y_proba.shape[0]}."
        )
    if not np.all(np.isfinite(y_proba)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    if y_proba.size and (y_proba.min() < 0 or y_proba.max() > 1):
        raise ValueError(
            f"{name} must be probabilities in [0, 1]; got values in "
            f"[{y_proba.min():.4g}, {y_proba.max():.4g}]."
        )

    if labels is None:
        classes = _unique_labels(y_true, "y_true")
    else:
        classes = _check_labels(labels, "labels")
        if len(_unique_labels(classes, "labels")) != len(classes):
            raise ValueError(f"labels contains duplicates: {_format_labels(classes)}.")
        classes = np.sort(classes)
        _check_label_kinds([("y_true", y_true[:1]), ("labels", classes)])
    if y_proba.ndim == 1:
        if len(classes) > 2:
            raise ValueError(
                f"{name} is 1-D (binary) but there are {len(classes)} classes "
                f"{_format_labels(classes)}; pass the (n_samples, n_classes) probabilities."
            )
        if len(classes) < 2:
            raise ValueError(
                f"y_true contains only the label {_format_labels(classes)}: pass the two "
                f"classes as labels, the second being the class whose probability {name} is."
            )
        if pos_label is not None and _encode([pos_label], classes, name="pos_label",
                                              classes_name="the classes")[0] == 0:
            y_proba = np.stack([y_proba, 1 - y_proba], axis=1)
        else:
            y_proba = np.stack([1 - y_proba, y_proba], axis=1)
    if y_proba.shape[1] != len(classes):
        hint = (
            " Pass labels (e.g. the classifier's classes_) when y_true misses some classes."
            if labels is None
            else ""
        )
        source = "the labels of y_true" if labels is None else "labels"
        raise ValueError(
            f"{name} has {y_proba.shape[1]} columns but there are {len(classes)} classes "
            f"{_format_labels(classes)} (from {source}): give one column per class.{hint}"
        )
    sums = y_proba.sum(axis=1, dtype=np.float64)
    bad = np.abs(sums - 1) > _PROBA_SUM_TOL
    if np.any(bad):
        raise ValueError(
            f"The rows of {name} must sum to one; {int(bad.sum())} rows do not (e.g. row "
            f"{int(np.flatnonzero(bad)[0])} sums to {sums[bad][0]:.6g}). Pass probabilities, "
            "e.g. from predict_proba, not scores or logits."
        )
    y_idx = _encode(y_true, classes, name="y_true", classes_name="labels")
    sample_weight = _check_sample_weight(sample_weight, y_true.shape[0])
    return y_idx, y_proba, sample_weight, classes


def _top_label_bins(y_true, y_proba, n_bins, strategy, labels, sample_weight):
    """Calibration bins of the top-label confidence, and the total weight."""
    _check_n_bins(n_bins)
    _check_strategy(strategy)
    y_idx, y_proba, w, _ = _check_proba(y_true, y_proba, labels, sample_weight)
    pred = np.argmax(y_proba, axis=1)
    confidence = y_proba[np.arange(len(pred)), pred]
    _, weight, hits, conf_sum = _calibration_bins(
        confidence, pred == y_idx, n_bins=n_bins, strategy=strategy, sample_weight=w
    )
    return weight, np.abs(hits - conf_sum), w.sum()


def expected_calibration_error(
    y_true, y_proba, *, n_bins=15, strategy="uniform", labels=None, sample_weight=None
):
    """Expected calibration error (ECE) of the top-label confidence.

    With ``M = n_bins`` equal-width bins ``B_b = {i : b/M < conf_i <= (b+1)/M}``
    of the confidence ``conf_i = max_k p_ik`` (003 Table 2 and its appendix;
    002 §6.5 eq. 28; Naeini et al. 2015, Guo et al. 2017)::

        ECE = sum_b |B_b| / N * |acc(B_b) - conf(B_b)|

    where ``acc(B_b)`` is the accuracy of the arg-max predictions in the bin and
    ``conf(B_b)`` their mean confidence. 003 uses ``M = 15`` (the default), 002
    uses ``M = 20``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in the sorted order of ``labels`` (as
        ``predict_proba`` returns them). A 1-D array is the probability of the
        second of two classes (binary).
    n_bins : int, default=15
        Number of bins ``M``.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins ``(b/M, (b+1)/M]`` (the papers');
        ``"quantile"``: bins at the quantiles of the binned probabilities, so
        that each holds about the same number of samples (as
        :func:`sklearn.calibration.calibration_curve`; weighted quantiles with
        ``sample_weight``).
    labels : array-like of shape (n_classes,), default=None
        The classes of the columns of ``y_proba`` (sorted, as for
        :func:`~sklearn.metrics.log_loss`). Default: the sorted labels of
        ``y_true``; pass the classifier's ``classes_`` when ``y_true`` may miss
        some classes.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (``|B_b|`` and ``N`` become sums of weights).

    Returns
    -------
    ece : float
        In ``[0, 1]``; 0 for a perfectly calibrated classifier.

    See Also
    --------
    maximum_calibration_error : The largest gap over the bins.
    classwise_calibration_error : The same per class, averaged.

    Notes
    -----
    Ties of the arg-max go to the first column, as ``predict`` does. Rows must
    sum to one within ``1e-3``.

    Examples
    --------
    >>> from sklt.metrics import expected_calibration_error
    >>> y_true = [0, 1, 1, 0]
    >>> y_proba = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]
    >>> # with 2 bins every confidence is in (0.5, 1]: accuracy 3/4, confidence 0.75
    >>> round(expected_calibration_error(y_true, y_proba, n_bins=2), 4)
    0.0
    >>> # 10 bins: gaps 0.1, 0.2, 0.6 (the wrong 0.6), 0.3, one sample each
    >>> round(expected_calibration_error(y_true, y_proba, n_bins=10), 4)
    0.3
    """
    weight, gap, total = _top_label_bins(y_true, y_proba, n_bins, strategy, labels,
                                         sample_weight)
    return float(gap.sum() / total)


def maximum_calibration_error(
    y_true, y_proba, *, n_bins=15, strategy="uniform", labels=None, sample_weight=None
):
    """Maximum calibration error (MCE): the largest gap over the non-empty bins.

    ``MCE = max_b |acc(B_b) - conf(B_b)|`` over the bins of
    :func:`expected_calibration_error` that hold samples (003 Table 2; Naeini
    et al. 2015). An empty bin has no gap (counts as 0). ``MCE >= ECE`` always,
    since the ECE is a weighted mean of the same gaps.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in the sorted order of ``labels``; 1-D
        for the probability of the second of two classes.
    n_bins : int, default=15
        Number of bins ``M``.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins ``(b/M, (b+1)/M]`` (the papers');
        ``"quantile"``: bins at the quantiles of the binned probabilities, so
        that each holds about the same number of samples (as
        :func:`sklearn.calibration.calibration_curve`; weighted quantiles with
        ``sample_weight``).
    labels : array-like of shape (n_classes,), default=None
        The classes of the columns of ``y_proba``; default: sorted labels of
        ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    mce : float
        In ``[0, 1]``.

    See Also
    --------
    expected_calibration_error : The weighted mean of the same gaps.

    Examples
    --------
    >>> from sklt.metrics import maximum_calibration_error
    >>> y_true = [0, 1, 1, 0]
    >>> y_proba = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]
    >>> # bins (0.5, 0.6]: wrong at 0.6; (0.6, 0.7]: right at 0.7; ...
    >>> round(maximum_calibration_error(y_true, y_proba, n_bins=10), 4)
    0.6
    """
    weight, gap, _ = _top_label_bins(y_true, y_proba, n_bins, strategy, labels, sample_weight)
    nonempty = weight > 0
    return float(np.max(gap[nonempty] / weight[nonempty]))


def classwise_calibration_error(
    y_true, y_proba, *, n_bins=15, strategy="uniform", labels=None, sample_weight=None
):
    """Classwise expected calibration error (classwise-ECE).

    For each class ``j``, every sample's predicted probability ``p_ij`` is
    binned into ``M`` equal-width bins ``B_bj = {i : b/M < p_ij <= (b+1)/M}``
    (``p_ij = 0`` in the first bin), and compared with the frequency of class
    ``j`` in the bin; the errors are averaged over classes (Kull et al. 2019,
    which 002 §6.5 eq. 29 follows)::

        classwise-ECE = 1/K sum_j sum_b |B_bj| / N * |freq_j(B_bj) - conf_j(B_bj)|

    with ``freq_j(B_bj)`` the fraction of the bin's samples whose label is
    ``j`` and ``conf_j(B_bj)`` their mean ``p_ij``. (002 writes eq. 29 without
    the ``1/N``; with it, as in Kull et al., the error lies in ``[0, 1]``.)

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in the sorted order of ``labels``; 1-D
        for the probability of the second of two classes.
    n_bins : int, default=15
        Number of bins ``M``.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins ``(b/M, (b+1)/M]`` (the papers');
        ``"quantile"``: bins at the quantiles of the binned probabilities, so
        that each holds about the same number of samples (as
        :func:`sklearn.calibration.calibration_curve`; weighted quantiles with
        ``sample_weight``).
    labels : array-like of shape (n_classes,), default=None
        The classes of the columns of ``y_proba``; default: sorted labels of
        ``y_true``. Every class counts in the mean, also one absent from
        ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    error : float
        In ``[0, 1]``.

    See Also
    --------
    expected_calibration_error : The top-label version.

    Examples
    --------
    >>> from sklt.metrics import classwise_calibration_error
    >>> y_true = [0, 1, 1, 0]
    >>> y_proba = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]
    >>> round(classwise_calibration_error(y_true, y_proba, n_bins=2), 4)
    0.1
    """
    _check_n_bins(n_bins)
    _check_strategy(strategy)
    y_idx, y_proba, w, _ = _check_proba(y_true, y_proba, labels, sample_weight)
    # Column j is the one-vs-rest problem of class j: its bins hold sum w (1[y = j] - p_j).
    _, _, hits, prob_sum = _calibration_bins(
        y_proba, y_idx, n_bins=n_bins, strategy=strategy, sample_weight=w
    )
    per_class = np.abs(hits - prob_sum).sum(axis=1) / w.sum()
    return float(per_class.mean())


# --------------------------------------------------------------------------------------
# Dense (segmentation) metrics
# --------------------------------------------------------------------------------------


def segmentation_confusion_matrix(y_true, y_pred, *, n_classes=None, ignore_index=None):
    """Confusion matrix of two label maps of any shape, over the non-ignored pixels.

    ``C[i, j]`` counts the pixels of true class ``i`` predicted as class ``j``,
    computed with one :func:`numpy.bincount` over the flattened valid pixels
    (those where ``y_true != ignore_index``). Confusion matrices of batches add
    up, so a dataset too large for memory is evaluated batch by batch.

    Parameters
    ----------
    y_true : array-like of int, any shape (e.g. (n_images, height, width))
        True class indices in ``[0, n_classes)``, or ``ignore_index``.
    y_pred : array-like of int, same shape as ``y_true``
        Predicted class indices in ``[0, n_classes)`` (e.g. ``scores.argmax(1)``
        of a ``(N, K, H, W)`` score map).
    n_classes : int, default=None
        Number of classes ``K``; default: one more than the largest index
        found in ``y_true`` (valid pixels) and ``y_pred``.
    ignore_index : int, default=None
        Label of pixels to leave out (e.g. 255), wherever ``y_true`` has it.

    Returns
    -------
    confusion : ndarray of shape (n_classes, n_classes), dtype int64

    Examples
    --------
    >>> from sklt.metrics import segmentation_confusion_matrix
    >>> y_true = [[0, 0, 1], [1, 2, 255]]
    >>> y_pred = [[0, 1, 1], [1, 2, 0]]
    >>> segmentation_confusion_matrix(y_true, y_pred, n_classes=3, ignore_index=255)
    array([[1, 1, 0],
           [0, 2, 0],
           [0, 0, 1]])
    """
    y_true = _as_array(y_true, "y_true")
    y_pred = _as_array(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must be label maps of the same shape; got {y_true.shape} and "
            f"{y_pred.shape}. For a score map of shape (N, K, H, W) pass scores.argmax(axis=1)."
        )
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.dtype.kind not in "iub":
            raise ValueError(
                f"{name} must hold integer class indices; got dtype {arr.dtype}. Pass label "
                "maps (class indices), not scores or probabilities."
            )
    if ignore_index is not None and (
        not isinstance(ignore_index, Integral) or isinstance(ignore_index, bool)
    ):
        raise ValueError(f"ignore_index must be an integer or None; got {ignore_index!r}.")
    t = y_true.ravel()
    p = y_pred.ravel()
    if ignore_index is not None:
        valid = t != ignore_index
        t, p = t[valid], p[valid]
    if t.size == 0:
        raise ValueError("There are no pixels to evaluate: all are ignored, or the maps are empty.")
    ranges = {"y_true": (int(t.min()), int(t.max())), "y_pred": (int(p.min()), int(p.max()))}
    if n_classes is None:
        n_classes = max(ranges["y_true"][1], ranges["y_pred"][1]) + 1
    elif not isinstance(n_classes, Integral) or isinstance(n_classes, bool) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer; got {n_classes!r}.")
    n_classes = int(n_classes)
    for name, (lo, hi) in ranges.items():
        if lo < 0 or hi >= n_classes:
            extra = ""
            if name == "y_true" and ignore_index is not None:
                extra = f" (besides ignore_index={ignore_index})"
            raise ValueError(
                f"{name} has class indices in [{lo}, {hi}]{extra} but they must lie in "
                f"[0, {n_classes - 1}] for n_classes={n_classes}."
            )
    if n_classes > _MAX_DENSE_CLASSES:
        raise ValueError(
            f"n_classes={n_classes} (the largest class index + 1 when not given) needs a "
            f"{n_classes} x {n_classes} confusion matrix; at most {_MAX_DENSE_CLASSES} classes "
            "are supported. Map the labels to consecutive indices first."
        )
    # One bincount of the pair index t * K + p, in chunks so that the int64 temporaries
    # stay small for large label maps kept in uint8.
    flat = np.zeros(n_classes * n_classes, dtype=np.int64)
    for start in range(0, t.size, _CHUNK_ELEMENTS):
        pair = n_classes * t[start : start + _CHUNK_ELEMENTS].astype(np.int64)
        pair += p[start : start + _CHUNK_ELEMENTS]
        flat += np.bincount(pair, minlength=flat.size)
    return flat.reshape(n_classes, n_classes)


def _check_average(average):
    if average not in ("macro", None):
        raise ValueError(f"average must be 'macro' or None; got {average!r}.")


def mean_iou(y_true, y_pred, *, n_classes=None, ignore_index=None, average="macro"):
    """Mean intersection over union of two label maps (000 Tables 4-5).

    From the confusion matrix ``C`` of :func:`segmentation_confusion_matrix`
    (ignored pixels excluded), ``IoU_c = C_cc / (sum_j C_cj + sum_i C_ic - C_cc)``
    and mIoU is their mean. A class absent from both truth and prediction has
    an undefined IoU (0/0): it is left out of the mean (NaN-mean), so listing
    extra classes in ``n_classes`` does not change the score.

    Parameters
    ----------
    y_true : array-like of int, any shape (e.g. (n_images, height, width))
        True class indices in ``[0, n_classes)``, or ``ignore_index``.
    y_pred : array-like of int, same shape as ``y_true``
        Predicted class indices.
    n_classes : int, default=None
        Number of classes; default: inferred from the data.
    ignore_index : int, default=None
        Label of pixels to leave out (where ``y_true`` has it).
    average : {"macro", None}, default="macro"
        ``"macro"``: the NaN-mean over classes; ``None``: the per-class IoU
        (NaN for classes absent from both maps).

    Returns
    -------
    iou : float or ndarray of shape (n_classes,)

    See Also
    --------
    mean_class_accuracy : Mean per-class pixel accuracy.
    sklearn.metrics.jaccard_score : The same for flat labels.

    Examples
    --------
    >>> from sklt.metrics import mean_iou
    >>> y_true = [[0, 0, 1], [1, 2, 255]]
    >>> y_pred = [[0, 1, 1], [1, 2, 0]]
    >>> mean_iou(y_true, y_pred, ignore_index=255, average=None)
    array([0.5       , 0.66666667, 1.        ])
    >>> round(mean_iou(y_true, y_pred, ignore_index=255), 4)
    0.7222
    """
    _check_average(average)
    cm = segmentation_confusion_matrix(
        y_true, y_pred, n_classes=n_classes, ignore_index=ignore_index
    ).astype(np.float64)
    tp = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp
    iou = np.divide(tp, union, out=np.full_like(tp, np.nan), where=union > 0)
    return iou if average is None else float(np.nanmean(iou))


def mean_class_accuracy(y_true, y_pred, *, n_classes=None, ignore_index=None, average="macro"):
    """Mean per-class pixel accuracy of two label maps (000 Tables 4-5).

    From the confusion matrix ``C`` of :func:`segmentation_confusion_matrix`,
    ``acc_c = C_cc / sum_j C_cj`` (the recall of class ``c``) and the score is
    their mean over the classes present in ``y_true`` (after excluding ignored
    pixels); a class absent from the truth has no accuracy (NaN) and is left
    out. This is the balanced accuracy of the valid pixels.

    Parameters
    ----------
    y_true : array-like of int, any shape (e.g. (n_images, height, width))
        True class indices in ``[0, n_classes)``, or ``ignore_index``.
    y_pred : array-like of int, same shape as ``y_true``
        Predicted class indices.
    n_classes : int, default=None
        Number of classes; default: inferred from the data.
    ignore_index : int, default=None
        Label of pixels to leave out (where ``y_true`` has it).
    average : {"macro", None}, default="macro"
        ``"macro"``: the NaN-mean over classes; ``None``: the per-class
        accuracy (NaN for classes absent from ``y_true``).

    Returns
    -------
    accuracy : float or ndarray of shape (n_classes,)

    See Also
    --------
    mean_iou : Mean intersection over union.
    sklearn.metrics.balanced_accuracy_score : The same for flat labels.

    Examples
    --------
    >>> from sklt.metrics import mean_class_accuracy
    >>> y_true = [[0, 0, 1], [1, 2, 255]]
    >>> y_pred = [[0, 1, 1], [1, 2, 0]]
    >>> mean_class_accuracy(y_true, y_pred, ignore_index=255, average=None)
    array([0.5, 1. , 1. ])
    >>> round(mean_class_accuracy(y_true, y_pred, ignore_index=255), 4)
    0.8333
    """
    _check_average(average)
    cm = segmentation_confusion_matrix(
        y_true, y_pred, n_classes=n_classes, ignore_index=ignore_index
    ).astype(np.float64)
    support = cm.sum(axis=1)
    acc = np.divide(np.diag(cm), support, out=np.full(len(cm), np.nan), where=support > 0)
    return acc if average is None else float(np.nanmean(acc))


# --------------------------------------------------------------------------------------
# Scorers
# --------------------------------------------------------------------------------------

_PROBA_METHODS = ("predict_proba", "predict_log_proba")
_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function", "predict_log_proba")


def _accepts_labels(score_func):
    try:
        return "labels" in inspect.signature(score_func).parameters
    except (TypeError, ValueError):
        return False


def _uses_proba(response_method):
    methods = (response_method,) if isinstance(response_method, str) else response_method
    return any(m in _PROBA_METHODS for m in methods)


class _ClassesScorer:
    """A scorer that gives a metric of probabilities the estimator's ``classes_``.

    The columns of ``predict_proba`` are the fitted estimator's ``classes_``; a
    metric of probabilities needs them as ``labels``, or a test fold that misses a
    class fails ("y_true and y_prob contain different number of classes"). Built
    from scikit-learn's public :func:`sklearn.metrics.make_scorer` only: each call
    scores with a scikit-learn scorer whose ``labels`` are the estimator's classes.
    ``labels`` given to ``make_scorer`` or passed as metadata take precedence.
    Metadata requests (``set_score_request``) are those of the wrapped scorer.
    """

    def __init__(self, score_func, response_method, greater_is_better, kwargs):
        self._score_func = score_func
        self._response_method = response_method
        self._greater_is_better = greater_is_better
        self._kwargs = kwargs
        self._scorer = _sklearn_make_scorer(
            score_func,
            response_method=response_method,
            greater_is_better=greater_is_better,
            **kwargs,
        )

    def __call__(self, estimator, X, y_true, sample_weight=None, **kwargs):
        """Score ``estimator`` on ``X, y_true``; greater is better.

        Parameters
        ----------
        estimator : fitted estimator
            Its ``classes_`` become the metric's ``labels``.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test data.
        y_true : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to the metric.
        **kwargs : dict
            Metadata routed to the metric (with metadata routing enabled).

        Returns
        -------
        score : float
        """
        scorer = self._scorer
        classes = getattr(estimator, "classes_", None)
        if classes is not None and "labels" not in self._kwargs and "labels" not in kwargs:
            classes = np.asarray(classes)
            order = _unsorted_order(classes)
            method = self._method_of(estimator)
            if method is not None and order is not None:  # columns into sorted-label order
                response = getattr(estimator, method)(X)[:, order]
                if sample_weight is not None:
                    kwargs["sample_weight"] = sample_weight
                sign = 1 if self._greater_is_better else -1
                return sign * self._score_func(y_true, response, labels=classes[order],
                                               **self._kwargs, **kwargs)
            scorer = _sklearn_make_scorer(
                self._score_func,
                response_method=self._response_method,
                greater_is_better=self._greater_is_better,
                **self._kwargs,
                labels=classes,
            )
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return scorer(estimator, X, y_true, **kwargs)

    def __repr__(self):
        return repr(self._scorer)

    def _method_of(self, estimator):
        """The probability method the scorer calls on ``estimator`` (None: another one)."""
        methods = self._response_method
        methods = (methods,) if isinstance(methods, str) else methods
        for method in methods:
            if hasattr(estimator, method):
                return method if method in _PROBA_METHODS else None
        return None

    def _accept_sample_weight(self):
        # scikit-learn's scorers answer this (without metadata routing, sklt's tuners ask it)
        return "sample_weight" in inspect.signature(self._score_func).parameters

    def set_score_request(self, **kwargs):
        """Request metadata for the metric (metadata routing), as scikit-learn's scorers.

        Parameters
        ----------
        **kwargs : dict
            ``param_name=alias``, alias one of ``{True, False, None, str}``.

        Returns
        -------
        self : object
        """
        self._scorer.set_score_request(**kwargs)
        return self

    def get_metadata_routing(self):
        """Metadata routing of the metric: that of the wrapped scikit-learn scorer.

        Returns
        -------
        routing : MetadataRequest
        """
        return self._scorer.get_metadata_routing()


def make_scorer(score_func, *, response_method="predict", greater_is_better=True, **kwargs):
    """Make a scorer from a metric, as :func:`sklearn.metrics.make_scorer` does.

    The arguments are validated as scikit-learn validates them (an
    :class:`~sklearn.utils._param_validation.InvalidParameterError` at
    construction for a non-callable ``score_func``, a ``greater_is_better`` that
    is not a bool or an unknown ``response_method``). The one difference: when
    ``response_method`` asks for probabilities (``"predict_proba"``) and
    ``score_func`` takes a ``labels`` parameter, the scorer passes the fitted
    estimator's ``classes_`` as ``labels`` (unless ``labels`` is given here). The
    columns of ``predict_proba`` are exactly those classes, so a cross-validation
    fold whose test part misses a class still scores. Otherwise the result is
    scikit-learn's own scorer.

    Parameters
    ----------
    score_func : callable
        Metric ``score_func(y_true, y_pred, **kwargs)``. For a scorer by name,
        use :func:`get_scorer`.
    response_method : {"predict", "predict_proba", "decision_function"} or list of them, \
            default="predict"
        The estimator method(s) that give ``y_pred``, as in scikit-learn (a list
        means the first one the estimator has).
    greater_is_better : bool, default=True
        ``False`` for a loss: the scorer returns its negative.
    **kwargs
        Fixed keyword arguments of ``score_func`` (e.g. ``n_bins=20``).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; greater is better.

    Raises
    ------
    InvalidParameterError
        For a bad ``score_func``, ``response_method`` or ``greater_is_better``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklt.metrics import expected_calibration_error, make_scorer
    >>> ece20 = make_scorer(expected_calibration_error, response_method="predict_proba",
    ...                     greater_is_better=False, n_bins=20)   # 002's M = 20
    >>> X, y = [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]], [0, 0, 1, 1, 2, 2]
    >>> clf = LogisticRegression().fit(X, y)
    >>> ece20(clf, X[:4], y[:4]) <= 0   # the test part misses class 2: still scores
    True
    """
    if isinstance(score_func, str):
        raise InvalidParameterError(
            f"The 'score_func' parameter of make_scorer must be a callable (a metric); got "
            f"the string {score_func!r}. For a scorer by name use "
            f"sklt.metrics.get_scorer({score_func!r})."
        )
    if isinstance(response_method, list | tuple):
        bad = [m for m in response_method if not (isinstance(m, str) and m in _RESPONSE_METHODS)]
        if bad or not response_method:
            raise InvalidParameterError(
                "The 'response_method' parameter of make_scorer must be a str among "
                f"{set(_RESPONSE_METHODS)} or a non-empty list of them; got {response_method!r}."
            )
    # scikit-learn's make_scorer validates the parameters (InvalidParameterError)
    scorer = _sklearn_make_scorer(
        score_func, response_method=response_method, greater_is_better=greater_is_better,
        **kwargs,
    )
    if _uses_proba(response_method) and _accepts_labels(score_func):
        return _ClassesScorer(score_func, response_method, greater_is_better, kwargs)
    return scorer


def _geometric_mean(y_true, y_pred, *, sample_weight=None):
    # 001 §4.4: geometric mean of per-class accuracies, zeros replaced by 0.001. The
    # classes are those of y_true (as in balanced accuracy): a class that is only
    # predicted has no accuracy, and must not enter the product as 0.001.
    return geometric_mean_score(
        y_true,
        y_pred,
        labels=np.unique(y_true),
        average="multiclass",
        sample_weight=sample_weight,
        correction=0.001,
    )


def _build_scorers():
    calibration = {
        f"neg_{f.__name__}": make_scorer(
            f, response_method="predict_proba", greater_is_better=False
        )
        for f in (
            expected_calibration_error,
            classwise_calibration_error,
            maximum_calibration_error,
        )
    }
    return {
        # Scores are "greater is better": the scorer of a loss is named neg_<loss>.
        "neg_balanced_error": make_scorer(balanced_error, greater_is_better=False),
        "geometric_mean": make_scorer(_geometric_mean),
        **calibration,
        # scikit-learn's names, made robust to test folds that miss a class.
        "neg_log_loss": make_scorer(
            log_loss, response_method="predict_proba", greater_is_better=False
        ),
        "neg_brier_score": make_scorer(
            brier_score_loss, response_method="predict_proba", greater_is_better=False
        ),
    }


_SCORERS = _build_scorers()

# Losses of sklt.metrics by their bare names: as scorers they are negated, so their
# scorer names carry the neg_ prefix (scikit-learn's convention); the bare names raise.
_LOSS_NAMES = {
    "balanced_error",
    "expected_calibration_error",
    "classwise_calibration_error",
    "maximum_calibration_error",
}


def get_scorer(scoring):
    """Get a scorer by name: sklt's names first, then scikit-learn's.

    sklt's names (see :func:`get_scorer_names`) follow scikit-learn's convention:
    scorers are "greater is better", and the scorer of a loss is named after
    the loss with a ``neg_`` prefix and returns its negative:

    - ``"neg_balanced_error"``: ``-`` :func:`balanced_error`;
    - ``"geometric_mean"``: imbalanced-learn's ``geometric_mean_score`` with
      ``correction=0.001`` (001 §4.4), over the classes of ``y``;
    - ``"neg_expected_calibration_error"``, ``"neg_classwise_calibration_error"``,
      ``"neg_maximum_calibration_error"``: ``-`` the calibration errors with 15
      bins, from ``predict_proba``;
    - ``"neg_log_loss"``, ``"neg_brier_score"``: scikit-learn's metrics.

    All probability scorers pass the estimator's ``classes_`` as ``labels`` (see
    :func:`make_scorer`), so a test fold missing a class does not break them.
    Any other name goes to :func:`sklearn.metrics.get_scorer`; a callable or
    ``None`` is returned as is. Shot accuracy needs the training counts: build
    its scorer with ``make_scorer(shot_accuracy, group="few", train_counts=...)``.

    sklt's tuners (:class:`~sklt.LogitAdjusterCV`,
    :class:`~sklt.PriorShiftClassifierCV`) accept sklt's names as strings.
    scikit-learn's :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_validate` and the like know only
    scikit-learn's names: pass them the scorer object,
    ``scoring=sklt.metrics.get_scorer("neg_balanced_error")``.

    Parameters
    ----------
    scoring : str, callable or None
        A scorer name, a scorer, or ``None``.

    Returns
    -------
    scorer : callable or None
        A new copy of the scorer for a name.

    Raises
    ------
    ValueError
        For an unknown name, or the bare name of a loss (e.g.
        ``"balanced_error"``: use ``"neg_balanced_error"``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklt.metrics import get_scorer
    >>> X, y = [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]] * 3, [0, 0, 0, 1, 1, 1] * 3
    >>> search = GridSearchCV(
    ...     LogisticRegression(), {"C": [0.1, 1.0]}, cv=3,
    ...     scoring=get_scorer("neg_expected_calibration_error"),
    ... ).fit(X, y)
    >>> float(search.best_score_) <= 0
    True
    >>> get_scorer("accuracy")   # scikit-learn's
    make_scorer(accuracy_score, response_method='predict')
    """
    if isinstance(scoring, str):
        if scoring in _SCORERS:
            return copy.deepcopy(_SCORERS[scoring])
        if scoring in _sklearn_get_scorer_names():
            return _sklearn_get_scorer(scoring)
        if scoring in _LOSS_NAMES:
            raise ValueError(
                f"{scoring!r} is a loss, and scorers are 'greater is better': use "
                f"'neg_{scoring}', which returns -{scoring} (scikit-learn's convention for "
                "losses, as in 'neg_log_loss')."
            )
        raise ValueError(
            f"{scoring!r} is not a valid scoring value. Use sklt.metrics.get_scorer_names() "
            "for the names sklt and scikit-learn know."
        )
    return _sklearn_get_scorer(scoring)


def get_scorer_names():
    """Names :func:`get_scorer` accepts: sklt's and scikit-learn's.

    Returns
    -------
    names : list of str
        Sorted, without duplicates.

    Examples
    --------
    >>> from sklt.metrics import get_scorer_names
    >>> "neg_expected_calibration_error" in get_scorer_names()
    True
    >>> "balanced_accuracy" in get_scorer_names()   # scikit-learn's
    True
    """
    return sorted(set(_SCORERS) | set(_sklearn_get_scorer_names()))
