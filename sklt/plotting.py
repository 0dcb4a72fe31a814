"""Plots for long-tailed classification, as scikit-learn Displays.

Three Displays, each built like :class:`sklearn.calibration.CalibrationDisplay`:
a class method ``from_estimator`` (a fitted model and data) or
``from_predictions`` (labels and model outputs) computes the plotted data, stores
it as attributes and calls ``plot``, which draws on ``ax`` (a new figure when
``None``) and sets ``ax_`` and ``figure_``.

- :class:`ReliabilityDisplay`: the multiclass top-label reliability diagram of
  Hong et al. 2021 (LADE, Fig. 4), or scikit-learn's positive-class calibration
  curve (the default for a binary problem), with the calibration error in the
  legend;
- :class:`AdjustmentCurveDisplay`: a validation score against the adjustment
  strength ``lam`` or ``tau`` (Tian et al. 2020, Fig. 2), from a fitted tuner
  (``from_tuner``: pooled or mean score, each fold's curve, ± std over folds)
  or from a fitted corrector or fusion model and validation data;
- :class:`ClassAccuracyDisplay`: per-class accuracy against the number of
  training samples of the class, with the many/medium/few-shot bands
  (Kim et al. 2020, Fig. 4; Menon et al. 2021, Fig. 4), one line per model.

Matplotlib is imported only when something is drawn: ``import sklt.plotting``
does not need it (``pip install "sklt[plot]"`` installs it).
"""

from collections.abc import Mapping
from numbers import Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["AdjustmentCurveDisplay", "ClassAccuracyDisplay", "ReliabilityDisplay"]


def _check_matplotlib(caller):
    """Import matplotlib.pyplot, or raise an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib. Install it with: pip install \"sklt[plot]\" "
            "(or pip install matplotlib)."
        ) from exc
    return plt


def _get_ax(ax, caller):
    """``(ax, figure)``: the given matplotlib Axes, or those of a new figure."""
    plt = _check_matplotlib(caller)
    if ax is None:
        _, ax = plt.subplots()
    else:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(
                f"ax must be a matplotlib Axes or None; got {type(ax).__name__} {ax!r}. "
                "Pass e.g. the ax of fig, ax = plt.subplots()."
            )
    return ax, ax.figure


def _style(defaults, kwargs, artist="line"):
    """Merge user style ``kwargs`` over ``defaults``, matplotlib aliases resolved."""
    from matplotlib.cbook import normalize_kwargs

    if artist == "line":
        from matplotlib.lines import Line2D as cls
    else:
        from matplotlib.patches import Patch as cls
    merged = normalize_kwargs(dict(defaults), cls)
    user = normalize_kwargs(dict(kwargs), cls)
    unknown = sorted(k for k in user if not callable(getattr(cls, f"set_{k}", None)))
    if unknown:
        raise TypeError(
            f"Unknown style keyword argument(s) {unknown}: the extra keyword arguments are "
            f"passed to matplotlib's {cls.__name__} (e.g. color, linestyle, alpha, label)."
        )
    merged.update(user)
    return merged


# --------------------------------------------------------------------------------------
# Reliability diagram
# --------------------------------------------------------------------------------------

_CALIBRATIONS = ("auto", "top_label", "positive_class")


def _reliability_bins(y_true, y_prob, *, n_bins, strategy, pos_label, calibration, labels,
                      sample_weight):
    """Reliability bins: edges, observed frequency, mean probability, weight, ECE.

    The validation of :mod:`sklt.metrics` and the one calibration binning of sklt
    (:func:`sklt._utils._calibration_bins`), so that the diagram and the metrics agree
    by construction. Returns ``(edges, prob_true, prob_pred, counts, ece,
    calibration, pos_label)``; empty bins have NaN ``prob_true`` and ``prob_pred``.
    """
    from ._utils import _calibration_bins, _check_n_bins, _check_strategy, _encode
    from .metrics import _check_proba

    _check_n_bins(n_bins)
    _check_strategy(strategy)
    if not isinstance(calibration, str) or calibration not in _CALIBRATIONS:
        raise ValueError(
            f"calibration must be 'auto', 'top_label' or 'positive_class'; got {calibration!r}."
        )
    y_idx, proba, weight, classes = _check_proba(
        y_true, y_prob, labels, sample_weight, name="y_prob", pos_label=pos_label
    )
    if calibration == "auto":
        calibration = "positive_class" if len(classes) == 2 else "top_label"
    if pos_label is not None:  # an unknown class is an error whichever the diagram
        _encode([pos_label], classes, name="pos_label", classes_name="the classes")
    if calibration == "positive_class":
        if pos_label is None:
            if len(classes) != 2:
                raise ValueError(
                    f"calibration='positive_class' with {len(classes)} classes needs pos_label: "
                    "the class whose one-vs-rest calibration curve to draw."
                )
            column = 1
        else:
            column = int(_encode([pos_label], classes, name="pos_label",
                                 classes_name="the classes")[0])
        pos_label = classes[column]
        pos_label = pos_label.item() if hasattr(pos_label, "item") else pos_label
        scores, outcomes = proba[:, column], y_idx == column
    else:
        pred = np.argmax(proba, axis=1)
        scores, outcomes = proba[np.arange(len(pred)), pred], pred == y_idx
        pos_label = None
    edges, counts, hits, score_sum = _calibration_bins(
        scores, outcomes, n_bins=n_bins, strategy=strategy, sample_weight=weight
    )
    nonempty = counts > 0
    prob_true = np.full(len(counts), np.nan)
    prob_pred = np.full(len(counts), np.nan)
    prob_true[nonempty] = hits[nonempty] / counts[nonempty]
    prob_pred[nonempty] = score_sum[nonempty] / counts[nonempty]
    ece = float(np.abs(hits - score_sum).sum() / weight.sum())
    # the counts in the caller's units (the weights were scaled to a maximum of one)
    scale = 1.0 if sample_weight is None else float(np.max(np.asarray(sample_weight, float)))
    with np.errstate(over="ignore"):
        counts = counts * scale
    if not np.all(np.isfinite(counts)):
        raise ValueError(
            "The bin sums of sample_weight exceed the largest float64, so the counts cannot "
            "be drawn; rescale sample_weight (only the ratios of the weights matter for the "
            "diagram)."
        )
    return edges, prob_true, prob_pred, counts, ece, calibration, pos_label


def _check_1d_numbers(value, name, length=None, length_source=""):
    """``value`` as a 1-D float array (of ``length`` entries), or a ValueError naming it."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers; got {value!r}.") from exc
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {array.shape}.")
    if length is not None and len(array) != length:
        raise ValueError(
            f"{name} has {len(array)} entries; expected {length}{length_source}."
        )
    return array


def _check_name(name):
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str or None; got {type(name).__name__} {name!r}.")


class ReliabilityDisplay:
    """Reliability diagram (calibration curve), with the calibration error in the legend.

    Two diagrams, chosen by ``calibration``:

    - ``"top_label"``: the multiclass top-label diagram of Hong et al. 2021
      (LADE, Fig. 4, 20 bins) and Guo et al. 2017. The predictions are binned
      by their confidence (the largest predicted probability); each bin shows
      the accuracy of its arg-max predictions against their mean confidence.
      The legend holds the expected calibration error
      ``ECE = Σ_b |B_b|/N · |acc(B_b) − conf(B_b)|``, the value of
      :func:`sklt.metrics.expected_calibration_error` with the same bins.
    - ``"positive_class"``: the binary calibration curve of
      :class:`sklearn.calibration.CalibrationDisplay`: the predicted
      probability of ``pos_label`` against the fraction of samples of that
      class in each bin (one-vs-rest for a multiclass problem). The legend
      holds the same weighted gap for this curve.

    ``"auto"`` (the default of the constructors) draws the positive-class curve
    for a binary problem, as scikit-learn's ``CalibrationDisplay`` does, and the
    top-label diagram otherwise. A calibrated model has its bars (or markers) on
    the diagonal.

    Create it with :meth:`from_estimator` or :meth:`from_predictions`; all
    parameters are stored as attributes.

    Parameters
    ----------
    bin_edges : ndarray of shape (n_bins + 1,)
        Edges of the probability bins.
    prob_true : ndarray of shape (n_bins,)
        Observed frequency in each bin: the accuracy of the predictions
        (top-label) or the fraction of samples of the positive class; NaN for
        an empty bin.
    prob_pred : ndarray of shape (n_bins,)
        Mean predicted probability in each bin: the confidence (top-label) or
        the probability of the positive class; NaN for an empty bin.
    counts : ndarray of shape (n_bins,)
        Number (sum of sample weights) of predictions in each bin.
    ece : float
        Calibration error of the binned curve,
        ``Σ_b counts_b / Σ counts · |prob_true_b − prob_pred_b|``.
    name : str, default=None
        Name of the model, for the legend.
    calibration : {"top_label", "positive_class"}, default="top_label"
        Which diagram the data describe (sets the axis labels).
    pos_label : int, float, bool or str, default=None
        The positive class of a ``"positive_class"`` diagram.

    Attributes
    ----------
    bars_ : matplotlib BarContainer or None
        The bars of the observed frequencies (``kind="bar"``).
    gap_bars_ : matplotlib BarContainer or None
        The gap bars from the observed frequency to the mean predicted
        probability (``kind="bar"``, ``show_gaps=True``).
    line_ : matplotlib Line2D or None
        Observed frequency against mean predicted probability (``kind="line"``).
    count_texts_ : list of matplotlib Text
        Bin counts written above the bins (``show_counts=True``).
    ax_ : matplotlib Axes
        Axes with the diagram.
    figure_ : matplotlib Figure
        Figure containing the diagram.

    See Also
    --------
    sklearn.calibration.CalibrationDisplay : The binary calibration curve.
    sklt.metrics.expected_calibration_error : The top-label ECE alone.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklt.plotting import ReliabilityDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=1000).fit(X, y)
    >>> disp = ReliabilityDisplay.from_estimator(clf, X, y, n_bins=10)
    >>> disp.calibration     # three classes: the top-label diagram
    'top_label'
    >>> bool(disp.counts.sum() == len(y))
    True
    >>> round(disp.ece, 3)
    0.071
    """

    def __init__(self, bin_edges, prob_true, prob_pred, counts, ece, *, name=None,
                 calibration="top_label", pos_label=None):
        self.bin_edges = bin_edges
        self.prob_true = prob_true
        self.prob_pred = prob_pred
        self.counts = counts
        self.ece = ece
        self.name = name
        self.calibration = calibration
        self.pos_label = pos_label

    def _checked_data(self):
        """The stored data as arrays, checked against each other."""
        edges = _check_1d_numbers(self.bin_edges, "bin_edges")
        if len(edges) < 2 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) < 0):
            raise ValueError(
                "bin_edges must hold at least two finite, non-decreasing edges; got "
                f"{self.bin_edges!r}."
            )
        n_bins = len(edges) - 1
        per_bin = " (one per bin: bin_edges has n_bins + 1 entries)"
        prob_true = _check_1d_numbers(self.prob_true, "prob_true", n_bins, per_bin)
        prob_pred = _check_1d_numbers(self.prob_pred, "prob_pred", n_bins, per_bin)
        counts = _check_1d_numbers(self.counts, "counts", n_bins, per_bin)
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(f"counts must be finite and non-negative; got {self.counts!r}.")
        for name, values in (("prob_true", prob_true), ("prob_pred", prob_pred)):
            known = values[~np.isnan(values)]
            if np.any((known < 0) | (known > 1)):
                raise ValueError(
                    f"{name} must hold frequencies in [0, 1] (NaN for an empty bin); got "
                    f"{values}."
                )
        if (
            not isinstance(self.ece, Real)
            or isinstance(self.ece, bool)
            or not 0 <= self.ece <= 1
        ):
            raise ValueError(f"ece must be a calibration error in [0, 1]; got {self.ece!r}.")
        if self.calibration not in ("top_label", "positive_class"):
            raise ValueError(
                "calibration must be 'top_label' or 'positive_class'; got "
                f"{self.calibration!r}."
            )
        return edges, prob_true, prob_pred, counts

    def plot(
        self,
        *,
        ax=None,
        name=None,
        kind="bar",
        show_gaps=True,
        show_counts=False,
        ref_line=True,
        **kwargs,
    ):
        """Draw the reliability diagram.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str, default=None
            Name for the legend; default: the ``name`` attribute.
        kind : {"bar", "line"}, default="bar"
            ``"bar"``: one bar per bin at its observed frequency (the papers'
            diagram); ``"line"``: observed frequency against mean predicted
            probability, markers at the non-empty bins (as scikit-learn's
            ``CalibrationDisplay``), which lets several models share one axes.
        show_gaps : bool, default=True
            With ``kind="bar"``, draw the gap from each bin's observed frequency
            to its mean predicted probability as a hatched bar.
        show_counts : bool, default=False
            Write the number of predictions of each non-empty bin above it.
        ref_line : bool, default=True
            Draw the diagonal of a perfectly calibrated model.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.bar` (``kind="bar"``) or
            :meth:`matplotlib.axes.Axes.plot` (``kind="line"``).

        Returns
        -------
        display : ReliabilityDisplay
            This object, with ``ax_``, ``figure_`` and the artists set.
        """
        if not isinstance(kind, str) or kind not in ("bar", "line"):
            raise ValueError(f"kind must be 'bar' or 'line'; got {kind!r}.")
        _check_name(name)
        _check_name(self.name)
        edges, prob_true, prob_pred, counts = self._checked_data()
        self.ax_, self.figure_ = _get_ax(ax, "ReliabilityDisplay.plot")
        ax = self.ax_
        name = self.name if name is None else name
        label = f"ECE = {100 * self.ece:.2f}%"
        if name is not None:
            label = f"{name} ({label})"

        centers = (edges[:-1] + edges[1:]) / 2
        widths = np.diff(edges)
        nonempty = np.isfinite(prob_true)
        self.bars_ = self.gap_bars_ = self.line_ = None
        ref_label = "Perfectly calibrated"
        if ref_line and ref_label not in ax.get_legend_handles_labels()[1]:
            ax.plot([0, 1], [0, 1], linestyle=":", color="k", label=ref_label)
        if kind == "bar":
            style = _style(
                {"edgecolor": "black", "linewidth": 0.8, "alpha": 0.9, "label": label},
                kwargs,
                artist="patch",
            )
            self.bars_ = ax.bar(
                centers[nonempty], prob_true[nonempty], width=widths[nonempty], **style
            )
            if show_gaps:
                gap = prob_pred[nonempty] - prob_true[nonempty]
                self.gap_bars_ = ax.bar(
                    centers[nonempty],
                    gap,
                    bottom=prob_true[nonempty],
                    width=widths[nonempty],
                    facecolor="tab:red",
                    edgecolor="tab:red",
                    alpha=0.3,
                    hatch="//",
                    label="Gap",
                )
        else:
            style = _style({"marker": "s", "linestyle": "-", "label": label}, kwargs)
            (self.line_,) = ax.plot(prob_pred[nonempty], prob_true[nonempty], **style)
        self.count_texts_ = []
        if show_counts:
            # Inside the foot of each non-empty bin, clear of the bars' tops.
            for x, n in zip(centers[nonempty], counts[nonempty], strict=True):
                text = f"{n:.0f}" if float(n).is_integer() else f"{n:.3g}"
                self.count_texts_.append(
                    ax.text(x, 0.01, text, ha="center", va="bottom", fontsize="x-small",
                            rotation=90 if len(counts) > 20 else 0)
                )
        if self.calibration == "positive_class":
            which = "" if self.pos_label is None else f" (Positive class: {self.pos_label})"
            xlabel, ylabel = f"Mean predicted probability{which}", f"Fraction of positives{which}"
        else:
            xlabel, ylabel = "Confidence", "Accuracy"
        ax.set(xlim=(0, 1), ylim=(0, 1.05), xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="upper left")
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_prob,
        *,
        n_bins=15,
        strategy="uniform",
        pos_label=None,
        calibration="auto",
        labels=None,
        sample_weight=None,
        name=None,
        ax=None,
        kind="bar",
        show_gaps=True,
        show_counts=False,
        ref_line=True,
        **kwargs,
    ):
        """Reliability diagram from true labels and predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Predicted probabilities, columns in the sorted order of ``labels``
            (as ``predict_proba`` returns them). A 1-D array is the probability
            of ``pos_label`` in a binary problem (as for scikit-learn's
            ``CalibrationDisplay``).
        n_bins : int, default=15
            Number of bins (003 uses 15, 002 uses 20).
        strategy : {"uniform", "quantile"}, default="uniform"
            ``"uniform"``: equal-width bins ``(b/M, (b+1)/M]``; ``"quantile"``:
            bins at the quantiles of the binned probabilities, each holding about
            the same number of samples (as
            :func:`sklearn.calibration.calibration_curve`).
        pos_label : int, float, bool or str, default=None
            The positive class: the class whose probability a 1-D ``y_prob``
            is, and whose curve ``calibration="positive_class"`` draws. Default:
            the second of two sorted classes (``classes_[1]``); a multiclass
            positive-class curve needs it.
        calibration : {"auto", "top_label", "positive_class"}, default="auto"
            ``"top_label"``: accuracy against confidence (the largest
            probability); ``"positive_class"``: fraction of ``pos_label``
            against its predicted probability. ``"auto"``: positive class for
            a binary problem (as scikit-learn), top label otherwise.
        labels : array-like of shape (n_classes,), default=None
            The classes of the columns of ``y_prob``; default: the sorted
            labels of ``y_true``. Pass the classifier's ``classes_`` when
            ``y_true`` may miss a class.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        name : str, default=None
            Name for the legend.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        kind, show_gaps, show_counts, ref_line, **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ReliabilityDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklt.plotting import ReliabilityDisplay
        >>> y_true = [0, 1, 2, 2]
        >>> y_prob = [[0.9, 0.05, 0.05], [0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0, 0.2, 0.8]]
        >>> disp = ReliabilityDisplay.from_predictions(y_true, y_prob, n_bins=5)
        >>> disp.prob_true    # bins (0.4, 0.6], (0.6, 0.8] and (0.8, 1] are not empty
        array([nan, nan, 0.5, 1. , 1. ])
        >>> round(disp.ece, 3)     # (2 * |0.5 - 0.55| + |1 - 0.8| + |1 - 0.9|) / 4
        0.1

        A binary problem gets scikit-learn's positive-class curve:

        >>> disp = ReliabilityDisplay.from_predictions(
        ...     ["no", "yes", "yes", "no"], [0.2, 0.7, 0.9, 0.6], n_bins=2, pos_label="yes")
        >>> disp.calibration, disp.pos_label
        ('positive_class', 'yes')
        >>> disp.prob_true    # fraction of "yes" in (0, 0.5] and (0.5, 1]
        array([0.        , 0.66666667])
        """
        _check_name(name)
        edges, prob_true, prob_pred, counts, ece, calibration, pos_label = _reliability_bins(
            y_true, y_prob, n_bins=n_bins, strategy=strategy, pos_label=pos_label,
            calibration=calibration, labels=labels, sample_weight=sample_weight,
        )
        disp = cls(edges, prob_true, prob_pred, counts, ece, name=name,
                   calibration=calibration, pos_label=pos_label)
        return disp.plot(
            ax=ax,
            kind=kind,
            show_gaps=show_gaps,
            show_counts=show_counts,
            ref_line=ref_line,
            **kwargs,
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        n_bins=15,
        strategy="uniform",
        pos_label=None,
        calibration="auto",
        sample_weight=None,
        name=None,
        ax=None,
        kind="bar",
        show_gaps=True,
        show_counts=False,
        ref_line=True,
        **kwargs,
    ):
        """Reliability diagram of a fitted classifier on data ``X, y``.

        Parameters
        ----------
        estimator : fitted classifier
            Must have ``predict_proba`` and ``classes_``.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,)
            True labels.
        n_bins : int, default=15
            Number of bins.
        strategy : {"uniform", "quantile"}, default="uniform"
            Equal-width or equal-mass bins; see :meth:`from_predictions`.
        pos_label : int, float, bool or str, default=None
            The positive class (default: ``estimator.classes_[1]`` for a binary
            problem); see :meth:`from_predictions`.
        calibration : {"auto", "top_label", "positive_class"}, default="auto"
            Top-label or positive-class diagram; ``"auto"``: positive class for
            a binary classifier, top label otherwise.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        name : str, default=None
            Name for the legend; default: the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        kind, show_gaps, show_counts, ref_line, **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ReliabilityDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.naive_bayes import GaussianNB
        >>> from sklt.plotting import ReliabilityDisplay
        >>> X, y = load_iris(return_X_y=True)
        >>> disp = ReliabilityDisplay.from_estimator(GaussianNB().fit(X, y), X, y)
        >>> disp.ax_.get_legend_handles_labels()[1][1]
        'GaussianNB (ECE = 3.25%)'
        """
        _check_matplotlib("ReliabilityDisplay.from_estimator")
        if not hasattr(estimator, "predict_proba"):
            raise ValueError(
                f"{type(estimator).__name__} has no predict_proba: a reliability diagram "
                "needs predicted probabilities."
            )
        check_is_fitted(estimator)
        y_prob = estimator.predict_proba(X)
        labels = getattr(estimator, "classes_", None)
        if labels is not None:
            from ._utils import _unsorted_order

            labels = np.asarray(labels)
            order = _unsorted_order(labels)  # from_predictions reads sorted-label columns
            if order is not None and np.ndim(y_prob) == 2 and y_prob.shape[1] == len(order):
                y_prob, labels = np.asarray(y_prob)[:, order], labels[order]
        name = type(estimator).__name__ if name is None else name
        return cls.from_predictions(
            y,
            y_prob,
            n_bins=n_bins,
            strategy=strategy,
            pos_label=pos_label,
            calibration=calibration,
            labels=labels,
            sample_weight=sample_weight,
            name=name,
            ax=ax,
            kind=kind,
            show_gaps=show_gaps,
            show_counts=show_counts,
            ref_line=ref_line,
            **kwargs,
        )


# --------------------------------------------------------------------------------------
# Score against the adjustment strength
# --------------------------------------------------------------------------------------

_PARAM_LABELS = {"lam": r"$\lambda$", "tau": r"$\tau$", "temperature": "temperature"}


def _param_label(param):
    return _PARAM_LABELS.get(param.rsplit("__", 1)[-1], param)


def _check_ax(ax):
    """Reject a wrong ``ax`` before any work (``_get_ax`` checks it again when drawing)."""
    if ax is not None:
        from matplotlib.axes import Axes

        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes or None; got {ax!r}.")


def _optional_array(value, name, shape):
    if value is None:
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers; got {value!r}.") from None
    if array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}; expected {shape}.")
    if np.any(np.isinf(array)) or np.any(array < 0):
        raise ValueError(
            f"{name} must hold finite non-negative numbers (NaN where unknown); got {array}."
        )
    return array


def _optional_number(value, name):
    if value is None:
        return None
    if not isinstance(value, Real) or isinstance(value, bool):
        raise ValueError(f"{name} must be a number or None; got {value!r}.")
    if not np.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number or None; got {value!r}.")
    return float(value)


class AdjustmentCurveDisplay:
    """Score against the correction strength ``lam`` or ``tau``: per fold and pooled.

    Tian et al. 2020 (Fig. 2) observe that the validation accuracy is concave
    in the rebalancing strength ``λ`` and pick its peak (§3.2.3); Menon et al.
    2021 tune ``τ`` the same way. This Display draws that curve, optionally the
    curve of each cross-validation fold, and marks the chosen value. The
    parameter names follow :class:`~sklearn.model_selection.ValidationCurveDisplay`
    (``param_name``, ``param_range``):

    - :meth:`from_tuner`: from a fitted tuner
      (:class:`sklt.PriorShiftClassifierCV`, :class:`sklt.LogitAdjusterCV`, or a
      :class:`~sklearn.model_selection.GridSearchCV` over one parameter): the
      score the tuner maximised (sklt's tuners: pooled over the folds by
      default; a search: the mean over folds) with a ± one standard deviation
      band over the folds, and each fold's curve with ``show_folds=True``;
    - :meth:`from_estimator`: from a fitted sklt corrector or fusion model and
      validation data (:func:`sklt.model_selection.adjustment_curve`): each
      value set with ``set_params`` without refitting (the papers' protocol:
      the model trained once, the strength tuned on a validation set).

    (scikit-learn's ``from_cv_results`` methods, e.g.
    :meth:`sklearn.metrics.RocCurveDisplay.from_cv_results`, take the output of
    :func:`~sklearn.model_selection.cross_validate`; this Display reads a fitted
    tuner instead, hence :meth:`from_tuner`.)

    Parameters
    ----------
    param_range : array-like of shape (n_values,)
        The values of the parameter.
    scores : array-like of shape (n_values,)
        The score at each value (pooled over folds, or their mean); NaN for a
        value that was not scored (``search="peak"`` of the tuners), which is
        left out of the plot.
    param_name : str, default="lam"
        Name of the parameter (``"lam"``, ``"tau"``, ``"temperature"``, or a
        nested name such as ``"priorshiftclassifier__lam"``).
    std : array-like of shape (n_values,), default=None
        Standard deviation of the score over the folds.
    fold_scores : array-like of shape (n_splits, n_values), default=None
        The score of each fold at each value.
    best_value : float, default=None
        The chosen value, marked on the plot.
    best_score : float, default=None
        The score at the chosen value.
    scoring : str, default=None
        Name of the score, for the y-axis label.
    name : str, default=None
        Name of the model, for the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The score curve.
    band_ : matplotlib PolyCollection or None
        The ± std band (when ``std`` is given).
    fold_lines_ : list of matplotlib Line2D
        One curve per fold (``show_folds=True``), else empty.
    best_line_ : matplotlib Line2D or None
        The vertical line at the chosen value.
    ax_ : matplotlib Axes
        Axes with the curve.
    figure_ : matplotlib Figure
        Figure containing the curve.

    See Also
    --------
    sklt.model_selection.adjustment_curve : The curve without a plot.
    sklearn.model_selection.ValidationCurveDisplay : The same idea for any
        hyperparameter, refitting at each value.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklt.plotting import AdjustmentCurveDisplay
    >>> disp = AdjustmentCurveDisplay([0.0, 0.5, 1.0], [0.70, 0.78, 0.76], param_name="tau",
    ...                               best_value=0.5).plot()
    >>> disp.ax_.get_xlabel()
    '$\\\\tau$'
    """

    def __init__(
        self,
        param_range,
        scores,
        *,
        param_name="lam",
        std=None,
        fold_scores=None,
        best_value=None,
        best_score=None,
        scoring=None,
        name=None,
    ):
        self.param_range = param_range
        self.scores = scores
        self.param_name = param_name
        self.std = std
        self.fold_scores = fold_scores
        self.best_value = best_value
        self.best_score = best_score
        self.scoring = scoring
        self.name = name

    def plot(self, *, ax=None, name=None, show_best=True, band=True, show_folds=False,
             **kwargs):
        """Draw the score curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str, default=None
            Name for the legend; default: the ``name`` attribute.
        show_best : bool, default=True
            Mark ``best_value`` with a vertical dashed line.
        band : bool, default=True
            Shade ± std when ``std`` is known.
        show_folds : bool, default=False
            Draw each fold's curve (thin lines) when ``fold_scores`` is known.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the curve.

        Returns
        -------
        display : AdjustmentCurveDisplay
            This object, with ``ax_``, ``figure_`` and the artists set.
        """
        _check_ax(ax)
        try:
            values = np.asarray(self.param_range, dtype=float)
            scores = np.asarray(self.scores, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("param_range and scores must hold numbers.") from None
        if values.shape != scores.shape or values.ndim != 1:
            raise ValueError(
                f"param_range and scores must be 1-D arrays of the same length; got shapes "
                f"{values.shape} and {scores.shape}."
            )
        if not np.all(np.isfinite(values)):
            raise ValueError(f"param_range must hold finite numbers; got {values}.")
        if np.any(np.isinf(scores)):
            raise ValueError(
                f"scores must be finite (NaN for a value that was not scored); got {scores}."
            )
        std = _optional_array(self.std, "std", values.shape)
        fold_scores = None
        if self.fold_scores is not None:
            try:
                fold_scores = np.asarray(self.fold_scores, dtype=float)
            except (TypeError, ValueError):
                raise ValueError(
                    f"fold_scores must be an (n_splits, n_values) array of numbers; got "
                    f"{self.fold_scores!r}."
                ) from None
            if fold_scores.ndim != 2 or fold_scores.shape[1] != len(values):
                raise ValueError(
                    f"fold_scores has shape {fold_scores.shape}; expected (n_splits, "
                    f"{len(values)})."
                )
        best_value = _optional_number(self.best_value, "best_value")
        best_score = _optional_number(self.best_score, "best_score")
        if not isinstance(self.param_name, str):
            raise ValueError(f"param_name must be a string; got {self.param_name!r}.")

        self.ax_, self.figure_ = _get_ax(ax, "AdjustmentCurveDisplay.plot")
        ax = self.ax_
        name = self.name if name is None else name
        # A peak search scores only some values (NaN elsewhere): draw those.
        scored = np.isfinite(scores)
        style = _style({"marker": "o", "markersize": 3}, kwargs)
        if name is not None:
            style.setdefault("label", name)
        (self.line_,) = ax.plot(values[scored], scores[scored], **style)
        color = self.line_.get_color()
        self.fold_lines_ = []
        if show_folds and fold_scores is not None:
            for i, fold in enumerate(fold_scores):
                ok = np.isfinite(fold)
                (line,) = ax.plot(values[ok], fold[ok], color=color, alpha=0.35, linewidth=0.8,
                                  label="each fold" if i == 0 else None)
                self.fold_lines_.append(line)
        self.band_ = None
        if band and std is not None:
            ok = scored & np.isfinite(std)
            self.band_ = ax.fill_between(
                values[ok], scores[ok] - std[ok], scores[ok] + std[ok], color=color,
                alpha=0.2, linewidth=0, label="± 1 std over folds",
            )
        self.best_line_ = None
        if show_best and best_value is not None:
            best_label = f"chosen {_param_label(self.param_name)} = {best_value:.3g}"
            self.best_line_ = ax.axvline(
                best_value, color=color, linestyle="--", linewidth=1, label=best_label
            )
            if best_score is not None:
                ax.plot([best_value], [best_score], marker="*", markersize=12,
                        color=color, linestyle="none")
        ylabel = "score" if not isinstance(self.scoring, str) else self.scoring.replace("_", " ")
        ax.set(xlabel=_param_label(self.param_name), ylabel=ylabel)
        if ax.get_legend_handles_labels()[1]:
            ax.legend(loc="best")
        return self

    @classmethod
    def from_tuner(cls, tuner, *, param_name=None, name=None, ax=None, show_best=True,
                   band=True, show_folds=False, **kwargs):
        """Score curve of a fitted tuner, with its spread over the folds.

        Reads ``tuner.cv_results_``:

        - sklt's tuners (``PriorShiftClassifierCV``, ``LogitAdjusterCV``, fit
          with ``store_cv_results=True``): the grid ``"lams"`` or ``"taus"``
          (range extension included), the score the choice maximised
          (``"score"``: pooled over the folds, or their mean, as the tuner's
          ``cv_score``), ``"std_score"``, the per-fold ``"scores"``, and the
          chosen ``best_lam_`` or ``best_tau_`` with ``best_score_``;
        - a :class:`~sklearn.model_selection.GridSearchCV` (or any search with
          scikit-learn's ``cv_results_``) over a single numeric parameter:
          ``"param_<name>"``, ``"mean_test_score"``, ``"std_test_score"``,
          ``"split<i>_test_score"`` and ``best_params_``.

        Parameters
        ----------
        tuner : fitted tuner
            See above.
        param_name : str, default=None
            For a scikit-learn search: the parameter on the x axis (e.g.
            ``"lam"`` or ``"priorshiftclassifier__lam"``); default: the only
            parameter searched. Not used for sklt's tuners.
        name : str, default=None
            Name for the legend; default: the tuner's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        show_best, band, show_folds, **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AdjustmentCurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> from sklearn.model_selection import GridSearchCV
        >>> from sklt import PriorShiftClassifier
        >>> from sklt.plotting import AdjustmentCurveDisplay
        >>> X, y = make_classification(n_samples=400, weights=[0.9], random_state=0)
        >>> search = GridSearchCV(PriorShiftClassifier(), {"lam": np.linspace(0, 2, 5)},
        ...                       scoring="balanced_accuracy", cv=3).fit(X, y)
        >>> disp = AdjustmentCurveDisplay.from_tuner(search)
        >>> disp.fold_scores.shape
        (3, 5)
        >>> bool(disp.best_value == search.best_params_["lam"])
        True
        """
        _check_matplotlib("AdjustmentCurveDisplay.from_tuner")
        results = getattr(tuner, "cv_results_", None)
        if not isinstance(results, dict):
            raise ValueError(
                f"{type(tuner).__name__} has no cv_results_: pass a fitted "
                "PriorShiftClassifierCV or LogitAdjusterCV built with "
                "store_cv_results=True, or a fitted GridSearchCV."
            )
        name = type(tuner).__name__ if name is None else name
        grid_key = next((key for key in ("lams", "taus") if key in results), None)
        if grid_key is not None:
            param_name = grid_key[:-1]
            missing = {"mean_score", "std_score", "scores"} - set(results)
            if missing:
                raise ValueError(
                    f"{type(tuner).__name__}.cv_results_ lacks the keys {sorted(missing)}."
                )
            values = np.asarray(results[grid_key], dtype=float)
            scores = np.asarray(results.get("score", results["mean_score"]), dtype=float)
            std = np.asarray(results["std_score"], dtype=float)
            fold_scores = np.asarray(results["scores"], dtype=float)
            best_value = getattr(tuner, f"best_{param_name}_", None)
            best_score = getattr(tuner, "best_score_", None)
        else:
            values, scores, std, fold_scores, best_value, best_score, param_name = (
                _from_search_results(tuner, results, param_name)
            )
        scoring = getattr(tuner, "scoring", None)
        disp = cls(
            values,
            scores,
            param_name=param_name,
            std=std,
            fold_scores=fold_scores,
            best_value=None if best_value is None else float(best_value),
            best_score=None if best_score is None else float(best_score),
            scoring=scoring if isinstance(scoring, str) else None,
            name=name,
        )
        return disp.plot(ax=ax, show_best=show_best, band=band, show_folds=show_folds,
                         **kwargs)

    @classmethod
    def from_estimator(
        cls,
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
        name=None,
        ax=None,
        show_best=True,
        show_folds=False,
        **kwargs,
    ):
        """Score of a fitted corrector or fusion model on ``X, y`` over a grid of strengths.

        Computed by :func:`sklt.model_selection.adjustment_curve`: for each
        value the parameter is set on the *fitted* ``estimator`` with
        ``set_params`` and the model is scored on ``X, y``; nothing is refit,
        and ``estimator`` keeps its own value. Only parameters that act at
        prediction time are accepted: ``lam``, ``tau`` and ``temperature`` of
        sklt's correctors and ``lam`` of :class:`sklt.NoisyOrFusionClassifier`
        (also nested, as in ``"priorshiftclassifier__lam"`` for a pipeline).
        The chosen value follows the tuners' rules (default range extended
        while the best score is on its edge, ``tie_rule`` for near-ties).

        Parameters
        ----------
        estimator : fitted estimator
            A fitted :class:`sklt.PriorShiftClassifier`,
            :class:`sklt.LogitAdjuster` or :class:`sklt.NoisyOrFusionClassifier`,
            or a pipeline ending with one.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Validation data.
        y : array-like of shape (n_samples,)
            Validation labels.
        param_name : str, default="lam"
            The parameter to sweep.
        param_range : array-like of shape (n_values,), default=None
            The grid; default 21 values on ``[0, 2]``, extended while the best
            score is on its upper edge.
        scoring : str or callable, default="balanced_accuracy"
            A scorer name (sklt's names and scikit-learn's, see
            :func:`sklt.metrics.get_scorer`) or a callable
            ``scorer(estimator, X, y)``.
        cv : int or cross-validation generator, default=5
            Folds of ``X`` for the per-fold curves and the standard error of
            ``tie_rule="se"``.
        tie_rule : "se", float or None, default="se"
            Near-ties, as in :class:`sklt.LogitAdjusterCV`.
        tie_break : {"middle", "closest_to_one"}, default="middle"
            The value chosen among near-ties, as in :class:`sklt.LogitAdjusterCV`.
        name : str, default=None
            Name for the legend; default: the estimator's class name.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        show_best, show_folds, **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : AdjustmentCurveDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklearn.datasets import make_classification
        >>> from sklt import LogitAdjuster
        >>> from sklt.plotting import AdjustmentCurveDisplay
        >>> X, y = make_classification(n_samples=600, weights=[0.9], random_state=0)
        >>> clf = LogitAdjuster().fit(X[:300], y[:300])
        >>> disp = AdjustmentCurveDisplay.from_estimator(
        ...     clf, X[300:], y[300:], param_name="tau", param_range=[0.0, 0.5, 1.0, 1.5])
        >>> disp.scores.shape
        (4,)
        >>> clf.tau    # the estimator keeps its value
        1.0
        """
        _check_matplotlib("AdjustmentCurveDisplay.from_estimator")
        _check_ax(ax)
        from .model_selection import adjustment_curve

        curve = adjustment_curve(estimator, X, y, param_name=param_name,
                                 param_range=param_range, scoring=scoring, cv=cv,
                                 tie_rule=tie_rule, tie_break=tie_break)
        name = type(estimator).__name__ if name is None else name
        disp = cls(
            curve.param_range,
            curve.scores,
            param_name=param_name,
            fold_scores=curve.fold_scores,
            best_value=curve.best_value,
            best_score=curve.best_score,
            scoring=scoring if isinstance(scoring, str) else None,
            name=name,
        )
        return disp.plot(ax=ax, show_best=show_best, show_folds=show_folds, **kwargs)


def _from_search_results(search, results, param):
    """Curve data from scikit-learn's ``cv_results_`` of a one-parameter search."""
    searched = [key[len("param_"):] for key in results if key.startswith("param_")]
    if "mean_test_score" not in results or not searched:
        raise ValueError(
            f"{type(search).__name__}.cv_results_ has neither sklt's keys ('lams' or 'taus') "
            "nor scikit-learn's ('param_<name>', 'mean_test_score')."
        )
    if param is None:
        if len(searched) != 1:
            raise ValueError(
                f"The search varies several parameters {searched}: pass param_name= to choose "
                "the one on the x axis."
            )
        param = searched[0]
    if param not in searched:
        raise ValueError(f"param_name {param!r} was not searched; the search varies {searched}.")
    if len(searched) > 1:
        raise ValueError(
            f"The search varies several parameters {searched}; the curve of {param!r} "
            "needs the others fixed."
        )
    try:
        values = np.asarray(results[f"param_{param}"], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The values of {param!r} are not numbers.") from exc
    order = np.argsort(values, kind="stable")
    split_keys = sorted(
        (key for key in results if key.startswith("split") and key.endswith("_test_score")),
        key=lambda key: int(key[len("split"):-len("_test_score")]),
    )
    fold_scores = (
        np.vstack([np.asarray(results[key], dtype=float)[order] for key in split_keys])
        if split_keys
        else None
    )
    std = results.get("std_test_score")
    best_params = getattr(search, "best_params_", None)
    best_value = None if best_params is None else best_params.get(param)
    return (
        values[order],
        np.asarray(results["mean_test_score"], dtype=float)[order],
        None if std is None else np.asarray(std, dtype=float)[order],
        fold_scores,
        best_value,
        getattr(search, "best_score_", None),
        param,
    )


# --------------------------------------------------------------------------------------
# Per-class accuracy against training-class size
# --------------------------------------------------------------------------------------


def _check_thresholds(many_threshold, few_threshold):
    """The shot-group thresholds: positive numbers, ``few <= many``."""
    for label, value in (("many_threshold", many_threshold), ("few_threshold", few_threshold)):
        if not isinstance(value, Real) or isinstance(value, bool) or not value > 0:
            raise ValueError(f"{label} must be a positive number; got {value!r}.")
    if few_threshold > many_threshold:
        raise ValueError(
            f"few_threshold ({few_threshold}) must not exceed many_threshold ({many_threshold})."
        )


class ClassAccuracyDisplay:
    """Per-class accuracy against the number of training samples of the class.

    One point per class and one line per model, classes ordered by their
    training count on a logarithmic x axis; the many-shot (more than
    ``many_threshold`` training samples), medium-shot and few-shot (fewer than
    ``few_threshold``) regions are shaded, with the thresholds of
    :func:`sklt.metrics.shot_accuracy` (100 and 20). This is the view of
    Kim et al. 2020 (Fig. 4, class-wise accuracy) and Menon et al. 2021 (Fig. 4,
    per-group errors): corrections for the prior trade head accuracy for tail
    accuracy.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The classes of ``y_true``, sorted by decreasing training count.
    train_counts : ndarray of shape (n_classes,)
        Training samples of each class.
    accuracies : dict of str to ndarray of shape (n_classes,)
        Per-class accuracy (recall) of each model, in the order of ``classes``.
    many_threshold : float, default=100
        Classes with more training samples are many-shot.
    few_threshold : float, default=20
        Classes with fewer training samples are few-shot.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        One line per model.
    bands_ : dict of str to matplotlib artist
        The shaded ``"many"``, ``"medium"`` and ``"few"`` regions.
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    sklt.metrics.shot_accuracy : The mean accuracy of each group.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklt.plotting import ClassAccuracyDisplay
    >>> y_true = ["a", "a", "b", "b", "c", "c"]
    >>> disp = ClassAccuracyDisplay.from_predictions(
    ...     y_true,
    ...     {"plain": ["a", "a", "b", "a", "a", "a"], "adjusted": ["a", "b", "b", "b", "c", "a"]},
    ...     train_counts={"a": 500, "b": 60, "c": 8},
    ... )
    >>> disp.classes
    array(['a', 'b', 'c'], dtype='<U1')
    >>> disp.accuracies["plain"]
    array([1. , 0.5, 0. ])
    """

    def __init__(self, classes, train_counts, accuracies, *, many_threshold=100,
                 few_threshold=20):
        self.classes = classes
        self.train_counts = train_counts
        self.accuracies = accuracies
        self.many_threshold = many_threshold
        self.few_threshold = few_threshold

    def _checked_data(self):
        """``(train_counts, {model: accuracies})`` as float arrays, checked together."""
        classes = np.asarray(self.classes)
        if classes.ndim != 1 or len(classes) == 0:
            raise ValueError(
                f"classes must be a non-empty 1-D array of labels; got {self.classes!r}."
            )
        n_classes = len(classes)
        try:
            n_unique = len(np.unique(classes))
        except TypeError:
            n_unique = len(set(classes.tolist()))
        if n_unique != n_classes:
            raise ValueError(f"classes has duplicate labels: {self.classes!r}.")
        counts = _check_1d_numbers(self.train_counts, "train_counts", n_classes,
                                   " (one per entry of classes)")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(
                f"train_counts must be finite and non-negative; got {self.train_counts!r}."
            )
        if not isinstance(self.accuracies, Mapping) or not self.accuracies:
            raise TypeError(
                "accuracies must be a non-empty dict {model name: per-class accuracies}; got "
                f"{type(self.accuracies).__name__}."
            )
        accuracies = {}
        for key, values in self.accuracies.items():
            acc = _check_1d_numbers(values, f"accuracies[{key!r}]", n_classes)
            known = acc[~np.isnan(acc)]
            if np.any((known < 0) | (known > 1)):
                raise ValueError(
                    f"accuracies[{key!r}] must hold accuracies in [0, 1] (NaN for a class "
                    f"without test samples); got {acc}."
                )
            accuracies[key] = acc
        _check_thresholds(self.many_threshold, self.few_threshold)
        return counts, accuracies

    def plot(self, *, ax=None, name=None, bands=True, group_means=True, **kwargs):
        """Draw one line per model.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str or list of str, default=None
            Legend names replacing the keys of ``accuracies``, in order.
        bands : bool, default=True
            Shade and label the many/medium/few-shot regions.
        group_means : bool, default=True
            Draw each model's mean accuracy of each group as a short dashed
            segment over the group's region.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for every line.

        Returns
        -------
        display : ClassAccuracyDisplay
            This object, with ``ax_``, ``figure_``, ``lines_`` and ``bands_``.
        """
        counts, accuracies = self._checked_data()
        keys = list(accuracies)
        if name is None:
            names = keys
        else:
            names = [name] if isinstance(name, str) else list(name)
            if len(names) != len(keys):
                raise ValueError(f"name has {len(names)} entries for {len(keys)} models.")
            if not all(isinstance(n, str) for n in names):
                raise TypeError(f"name must be a str or a list of str; got {name!r}.")
        for label, value in (("bands", bands), ("group_means", group_means)):
            if not isinstance(value, bool | np.bool_):
                raise TypeError(f"{label} must be True or False; got {value!r}.")
        self.ax_, self.figure_ = _get_ax(ax, "ClassAccuracyDisplay.plot")
        ax = self.ax_
        if np.any(counts <= 0):
            # A log axis cannot show a class never seen in training; put it at 0.5.
            counts = np.where(counts > 0, counts, 0.5)
        lo, hi = counts.min() / 1.5, counts.max() * 1.5
        masks = {
            "many": counts > self.many_threshold,
            "medium": (counts >= self.few_threshold) & (counts <= self.many_threshold),
            "few": counts < self.few_threshold,
        }
        spans = {
            "few": (lo, self.few_threshold),
            "medium": (self.few_threshold, self.many_threshold),
            "many": (self.many_threshold, hi),
        }
        self.bands_ = {}
        if bands:
            colors = {"many": "tab:blue", "medium": "tab:green", "few": "tab:orange"}
            for group, (left, right) in spans.items():
                left, right = max(left, lo), min(right, hi)
                if left >= right:
                    continue
                self.bands_[group] = ax.axvspan(left, right, color=colors[group], alpha=0.08,
                                                linewidth=0)
                ax.text(np.sqrt(left * right), 1.04, f"{group}-shot", ha="center",
                        va="bottom", fontsize="small")
        self.lines_ = {}
        markers = "osD^v<>ph*"
        for i, (key, label) in enumerate(zip(keys, names, strict=True)):
            acc = accuracies[key]
            style = _style({"marker": markers[i % len(markers)], "markersize": 4,
                            "linewidth": 1, "label": label}, kwargs)
            (line,) = ax.plot(counts, acc, **style)
            self.lines_[key] = line
            if group_means:
                for group, mask in masks.items():
                    if mask.any():
                        left, right = spans[group]
                        ax.hlines(acc[mask].mean(), max(left, lo), min(right, hi),
                                  colors=line.get_color(), linestyles="--", linewidth=1,
                                  alpha=0.8)
        ax.set_xscale("log")
        ax.set(xlim=(lo, hi), ylim=(-0.02, 1.12), xlabel="Training samples of the class",
               ylabel="Per-class accuracy")
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.legend(loc="lower right")
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        *,
        train_counts=None,
        y_train=None,
        labels=None,
        sample_weight=None,
        many_threshold=100,
        few_threshold=20,
        ax=None,
        bands=True,
        group_means=True,
        **kwargs,
    ):
        """Per-class accuracy of one or several models' predictions.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels of the test samples.
        y_pred : array-like of shape (n_samples,) or dict of str to array-like
            Predicted labels, or ``{model name: predicted labels}`` for
            several models.
        train_counts : dict or array-like of shape (n_labels,), default=None
            Training samples per class: a dict ``{label: count}``, or counts
            aligned with ``labels``. Give exactly one of ``train_counts`` and
            ``y_train`` (as for :func:`sklt.metrics.shot_accuracy`).
        y_train : array-like of shape (n_train_samples,), default=None
            The training labels, to count the classes.
        labels : array-like of shape (n_labels,), default=None
            The class of each entry of an array ``train_counts``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the test samples.
        many_threshold : float, default=100
            Classes with more training samples are many-shot.
        few_threshold : float, default=20
            Classes with fewer training samples are few-shot.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        bands, group_means, **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ClassAccuracyDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from sklt.plotting import ClassAccuracyDisplay
        >>> y_train = [0] * 200 + [1] * 50 + [2] * 10
        >>> disp = ClassAccuracyDisplay.from_predictions(
        ...     [0, 1, 2, 2], [0, 1, 2, 0], y_train=y_train)
        >>> disp.train_counts
        array([200.,  50.,  10.])
        >>> disp.accuracies
        {'Classifier': array([1. , 1. , 0.5])}
        """
        _check_matplotlib("ClassAccuracyDisplay.from_predictions")
        _check_thresholds(many_threshold, few_threshold)
        from ._utils import _check_sample_weight, _per_class_recall, _unique_labels
        from .metrics import _check_predicted_labels, _train_counts_per_class

        predictions = dict(y_pred) if isinstance(y_pred, Mapping) else {"Classifier": y_pred}
        if not predictions:
            raise ValueError("y_pred is an empty dict: give at least one model's predictions.")
        checked = {}
        for key, pred in predictions.items():
            try:
                y_true_checked, checked[str(key)] = _check_predicted_labels(y_true, pred)
            except ValueError as exc:
                if len(predictions) == 1 and not isinstance(y_pred, Mapping):
                    raise
                raise ValueError(f"y_pred[{key!r}]: {exc}") from None
        y_true = y_true_checked
        weight = _check_sample_weight(sample_weight, y_true.shape[0])
        classes, idx = _unique_labels(y_true, "y_true", return_inverse=True)
        accuracies = {
            key: _per_class_recall(idx, pred == y_true, len(classes), weight)[0]
            for key, pred in checked.items()
        }
        counts = _train_counts_per_class(classes, train_counts, y_train, labels)
        order = np.lexsort((np.arange(len(classes)), -counts))
        disp = cls(
            classes[order],
            counts[order],
            {key: acc[order] for key, acc in accuracies.items()},
            many_threshold=many_threshold,
            few_threshold=few_threshold,
        )
        return disp.plot(ax=ax, bands=bands, group_means=group_means, **kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        train_counts=None,
        y_train=None,
        labels=None,
        sample_weight=None,
        many_threshold=100,
        few_threshold=20,
        ax=None,
        bands=True,
        group_means=True,
        **kwargs,
    ):
        """Per-class accuracy of one or several fitted classifiers on ``X, y``.

        Parameters
        ----------
        estimator : fitted classifier, or dict of str to fitted classifier, or list
            One model, ``{name: model}``, or a list of models (named by class,
            numbered when two share a class name).
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test data.
        y : array-like of shape (n_samples,)
            Test labels.
        train_counts, y_train, labels, sample_weight, many_threshold, few_threshold
            As in :meth:`from_predictions`.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        bands, group_means, **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ClassAccuracyDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from sklearn.datasets import load_digits
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklt import LogitAdjuster
        >>> from sklt.plotting import ClassAccuracyDisplay
        >>> X, y = load_digits(return_X_y=True)
        >>> keep = np.concatenate([np.flatnonzero(y == c)[: 150 // (c + 1)] for c in range(10)])
        >>> model = LogisticRegression(max_iter=2000).fit(X[keep], y[keep])
        >>> adjusted = LogitAdjuster(model).fit(X[keep], y[keep])
        >>> disp = ClassAccuracyDisplay.from_estimator(
        ...     {"plain": model, "adjusted": adjusted}, X, y, y_train=y[keep])
        >>> list(disp.lines_)
        ['plain', 'adjusted']
        """
        _check_matplotlib("ClassAccuracyDisplay.from_estimator")
        if isinstance(estimator, dict):
            models = dict(estimator)
        elif isinstance(estimator, (list, tuple)):
            names = [type(est).__name__ for est in estimator]
            models = {
                (n if names.count(n) == 1 else f"{n} {i + 1}"): est
                for i, (n, est) in enumerate(zip(names, estimator, strict=True))
            }
        else:
            models = {type(estimator).__name__: estimator}
        if not models:
            raise ValueError("estimator is empty: give at least one fitted classifier.")
        predictions = {}
        for key, model in models.items():
            check_is_fitted(model)
            predictions[key] = model.predict(X)
        return cls.from_predictions(
            y,
            predictions,
            train_counts=train_counts,
            y_train=y_train,
            labels=labels,
            sample_weight=sample_weight,
            many_threshold=many_threshold,
            few_threshold=few_threshold,
            ax=ax,
            bands=bands,
            group_means=group_means,
            **kwargs,
        )
