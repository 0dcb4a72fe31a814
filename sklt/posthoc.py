"""Post-hoc prior correction of any classifier: ``LogitAdjuster`` and ``PriorShiftClassifier``.

Both are parametrisations of one mechanism (``METHODS.md`` §1, implemented once in
:func:`sklt.adjust.adjust_logits`)::

    z' = z / T + s * (log p_t - log p_s)

on the inner model's log-posteriors ``z`` (``log predict_proba``, or the decision
function when the model has no probabilities). They share one private base class,
:class:`_BasePriorCorrector`, which owns the scikit-learn contract; each public class
only maps its own parameters onto ``(s, T)``.
"""

import sys
import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags, indexable
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, has_fit_parameter

from ._compat import HasMethods, Interval, StrOptions, _fit_context, routing_enabled
from .adjust import adjust_logits, log_prior_ratio
from .priors import _check_sample_weight, _format_classes, check_prior, class_counts

__all__ = ["LogitAdjuster", "PriorShiftClassifier"]

_PRIOR_CONSTRAINT = [StrOptions({"auto", "uniform"}), "array-like", dict]


def _inner_log_scores(estimator, X):
    """Log-scores of a fitted classifier, shape ``(n_samples, n_classes)``.

    ``log predict_proba`` when the model has it (a zero probability gives
    ``-inf``, i.e. a class that stays impossible), else its decision function
    (for binary problems the 1-D margin ``d`` becomes ``[-d/2, d/2]``, which has
    the same softmax as the logistic model ``sigmoid(d)``).

    Raises a ``ValueError`` naming the model if it outputs NaN or infinite
    values.
    """
    name = type(estimator).__name__
    if hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(X))
        if proba.dtype.kind != "f":
            proba = proba.astype(np.float64)
        if proba.ndim != 2:
            raise ValueError(
                f"{name}.predict_proba returned an array of shape {proba.shape}; expected "
                "(n_samples, n_classes)."
            )
        if not np.all(np.isfinite(proba)):
            raise ValueError(
                f"{name}.predict_proba returned NaN or infinite probabilities; sklt cannot "
                "correct them. Check the inner model and its input."
            )
        if np.any(proba < 0):
            raise ValueError(f"{name}.predict_proba returned negative probabilities.")
        if proba.shape[1] and np.any(proba.max(axis=1) <= 0):
            raise ValueError(
                f"{name}.predict_proba returned a row of zeros; sklt cannot correct it."
            )
        with np.errstate(divide="ignore"):
            return np.log(proba)
    scores = np.asarray(estimator.decision_function(X))
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            f"{name}.decision_function returned NaN or infinite scores; sklt cannot correct them."
        )
    if scores.ndim == 1:
        half = scores / 2
        scores = np.column_stack([-half, half])
    return scores


def _validate_fit_data(owner, X, y, sample_weight):
    """Common checks of ``fit``'s data: ``y`` given, 1-D, classification labels.

    ``sample_weight`` must be finite and non-negative, with one entry per sample
    and a positive sum; errors name it.
    """
    if y is None:
        raise ValueError(
            f"{type(owner).__name__} requires y to be passed, but the target y is None."
        )
    X, y = indexable(X, y)
    y = column_or_1d(y, warn=True)
    if y.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={y.shape}) while a minimum of 1 is "
            f"required by {type(owner).__name__}; fit needs at least one sample per class."
        )
    check_classification_targets(y)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, y.shape[0])
        if not sample_weight.sum() > 0:
            raise ValueError(
                "sample_weight sums to zero; give at least one sample a positive weight."
            )
    return X, y, sample_weight


def _check_enough_classes(owner, classes):
    """A prior correction needs at least two classes."""
    if len(classes) < 2:
        raise ValueError(
            f"{type(owner).__name__} needs samples of at least 2 classes, but the inner "
            f"model knows only one class {_format_classes(classes)}: there is no prior to "
            "correct. Fit on data with at least two classes."
        )


def _centred(scores):
    """``scores - max(scores)`` per row (rows of ``-inf`` stay ``-inf``).

    A per-row shift leaves every normalised output unchanged, and with the
    largest score at 0, dividing by a small temperature cannot overflow to
    ``+inf``.
    """
    row_max = scores.max(axis=1, keepdims=True)
    row_max[~np.isfinite(row_max)] = 0
    return scores - row_max


def _adjustment_dtype(scores, source_prior, target_prior, strength, temperature, names):
    """The float dtype the adjustment can be computed in exactly, or a ``ValueError``.

    ``strength * (log p_t - log p_s)`` and ``1 / temperature`` must be finite
    in the dtype of ``scores``; float32 scores move to float64 when they only
    fit there. Beyond float64 the error names the parameter (``names`` maps
    ``"strength"`` and ``"temperature"`` to the public parameter names).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = log_prior_ratio(source_prior, target_prior) if strength > 0 else np.zeros(1)
        spread = np.max(np.abs(ratio[np.isfinite(ratio)]), initial=0.0)
        offset = strength * spread
        inv_temp = 1.0 / temperature
    for dtype in (scores.dtype, np.float64):
        big = np.finfo(dtype).max
        if offset < big and inv_temp < big:
            return dtype
    if not offset < np.finfo(np.float64).max:
        raise ValueError(
            f"{names['strength']}={strength!r} is too large: {names['strength']} * (log "
            "target_prior - log source_prior) overflows float64 for these priors. Use "
            f"{names['strength']} < {np.finfo(np.float64).max / spread:.3g}."
        )
    raise ValueError(
        f"{names['temperature']}={temperature!r} is too small: 1 / {names['temperature']} "
        f"overflows float64. Use {names['temperature']} >= "
        f"{1 / np.finfo(np.float64).max:.3g}."
    )


def _check_allowed_rows(scores, target_prior, strength, estimator):
    """Raise if a row puts all its mass on classes that the target prior forbids.

    With ``strength > 0`` a zero ``target_prior`` entry makes its class
    impossible (probability 0, log-probability ``-inf``, never predicted). A row
    whose inner posterior is exactly zero on every other class has no defined
    corrected posterior: every prediction method raises for it alike.
    """
    if not strength > 0:
        return
    allowed = target_prior > 0
    if np.all(allowed):
        return
    dead = ~np.any(np.isfinite(scores[:, allowed]), axis=1)
    if np.any(dead):
        rows = np.flatnonzero(dead)
        raise ValueError(
            f"{type(estimator).__name__} gives probability 0 to every class that "
            f"target_prior allows at {rows.size} row(s) (first: {rows[:5].tolist()}), so the "
            "corrected posterior is undefined there. Give those classes a small positive "
            "target_prior, or use a model whose probabilities are never exactly 0 (for "
            "instance sklearn.calibration.CalibratedClassifierCV)."
        )


def _has_scores(self):
    """``available_if`` check: the inner model gives probabilities or decision scores."""
    estimator = getattr(self, "estimator_", None)
    if estimator is None:
        estimator = self._get_estimator()
    return hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function")


def _resampled_class_counts(estimator, y, classes):
    """Class counts seen by the final step of an imbalanced-learn pipeline, or None.

    Follows the samplers of a fitted :class:`imblearn.pipeline.Pipeline`: a sampler that
    records ``sample_indices_`` (random under/over-sampling, Tomek links, edited nearest
    neighbours, ...) gives the exact resampled labels; otherwise the counts follow its
    ``sampling_strategy_`` (numbers kept for under-sampling, added for over-sampling).
    Returns None when ``estimator`` is not a resampling pipeline.
    """
    # Never import imbalanced-learn here: importing it adds fit_resample to
    # scikit-learn's metadata-routing method lists, which breaks the routing
    # requests created before the import. An imbalanced-learn pipeline can only
    # exist if the user has imported imbalanced-learn already.
    imb_pipeline = sys.modules.get("imblearn.pipeline")
    if imb_pipeline is None or not isinstance(estimator, imb_pipeline.Pipeline):
        return None
    samplers = [step for _, step in estimator.steps[:-1] if hasattr(step, "fit_resample")]
    if not samplers:
        return None
    y_cur = np.asarray(y)
    counts = class_counts(y_cur, classes)
    exact = True
    for sampler in samplers:
        indices = getattr(sampler, "sample_indices_", None)
        if exact and indices is not None:
            y_cur = y_cur[indices]
            counts = class_counts(y_cur, classes)
            continue
        exact = False
        strategy = getattr(sampler, "sampling_strategy_", None)
        kind = getattr(sampler, "_sampling_type", None)
        if isinstance(strategy, dict) and kind == "over-sampling":
            counts = counts + np.array([strategy.get(c, 0) for c in classes], dtype=float)
        elif isinstance(strategy, dict) and kind == "under-sampling":
            counts = np.array(
                [strategy.get(c, n) for c, n in zip(classes, counts, strict=True)], dtype=float
            )
        else:
            warnings.warn(
                f"Cannot tell the class counts after {type(sampler).__name__}; "
                "source_prior='auto' falls back to the class frequencies of y. Pass the "
                "resampled prior explicitly as source_prior.",
                UserWarning,
                stacklevel=4,
            )
            return None
    return counts


def _frozen_source_prior(frozen, classes):
    """The training prior a frozen model reports about itself, or None."""
    inner = frozen.estimator
    for attr in ("source_prior_", "class_prior_"):
        value = getattr(inner, attr, None)
        if value is not None and np.ndim(value) == 1 and len(value) == len(classes):
            return np.asarray(value, dtype=np.float64)
    value = getattr(inner, "class_count_", None)
    if value is not None and np.ndim(value) == 1 and len(value) == len(classes):
        return np.asarray(value, dtype=np.float64)
    return None


def _resolve_source_prior(spec, estimator, classes, y, sample_weight):
    """Resolve a ``source_prior`` specification for a fitted inner model.

    ``"auto"``: the prior a frozen model reports about itself (``source_prior_``,
    ``class_prior_``, ``class_count_``), else the class counts after the samplers
    of an imbalanced-learn pipeline, else the (weighted) class frequencies of ``y``
    — with a warning for a frozen model, whose training data ``y`` may not be.
    Every entry must be positive: the correction divides by it.
    """
    if not (isinstance(spec, str) and spec == "auto"):
        return check_prior(spec, classes, name="source_prior", allow_zero=False)
    if isinstance(estimator, FrozenEstimator):
        counts = _frozen_source_prior(estimator, classes)
        if counts is None:
            warnings.warn(
                "source_prior='auto' with a FrozenEstimator uses the class frequencies of the "
                "y passed to fit, which may differ from the data the model was trained on. "
                "Pass the training prior explicitly as source_prior.",
                UserWarning,
                stacklevel=4,
            )
    else:
        counts = _resampled_class_counts(estimator, y, classes)
    if counts is not None:
        return check_prior(counts, classes, name="source_prior", allow_zero=False)
    return check_prior(
        "auto", classes, name="source_prior", y=y, sample_weight=sample_weight, allow_zero=False
    )


class _BasePriorCorrector(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Shared contract of the post-hoc correctors.

    Subclasses implement :meth:`_strength_temperature`, returning ``(s, T)`` of
    ``z' = z / T + s (log p_t - log p_s)``.
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            None,
        ],
        "source_prior": _PRIOR_CONSTRAINT,
        "target_prior": _PRIOR_CONSTRAINT,
    }

    def __init__(self, estimator=None, *, source_prior="auto", target_prior="uniform"):
        self.estimator = estimator
        self.source_prior = source_prior
        self.target_prior = target_prior

    def _get_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    def _strength_temperature(self):  # pragma: no cover - abstract
        raise NotImplementedError

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the inner estimator and set the source and target priors.

        A :class:`~sklearn.frozen.FrozenEstimator` is used as it is (not refit);
        ``X`` and ``y`` then only serve to set the priors and check the classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, passed to the inner estimator as is (pandas and
            sparse inputs included).
        y : array-like of shape (n_samples,)
            Target labels, of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights: used for ``"auto"`` priors and passed to the inner
            ``fit`` when it accepts them (with metadata routing: when requested).
        **fit_params : dict
            Passed to the inner ``fit`` (with metadata routing enabled: routed).

        Returns
        -------
        self : object
            The fitted corrector.
        """
        X, y, sample_weight = _validate_fit_data(self, X, y, sample_weight)

        estimator = self._get_estimator()
        if routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **fit_params)
            inner_params = routed.estimator.fit
        else:
            inner_params = dict(fit_params)
            if sample_weight is not None:
                if has_fit_parameter(estimator, "sample_weight"):
                    inner_params["sample_weight"] = sample_weight
                else:
                    warnings.warn(
                        f"{type(estimator).__name__}.fit does not accept sample_weight; the "
                        "weights are used only for the 'auto' priors.",
                        UserWarning,
                        stacklevel=2,
                    )
        self.estimator_ = clone(estimator).fit(X, y, **inner_params)
        if not hasattr(self.estimator_, "classes_"):
            raise ValueError(
                f"The inner estimator {type(estimator).__name__} has no classes_ after fit; "
                "sklt needs a classifier."
            )
        classes = np.asarray(self.estimator_.classes_)
        _check_enough_classes(self, classes)
        self.classes_ = classes
        unknown = np.setdiff1d(np.unique(y), classes)
        if unknown.size:
            raise ValueError(
                f"y contains classes {_format_classes(unknown)} that the inner estimator does "
                f"not know; its classes are {_format_classes(classes)}."
            )
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))

        self.source_prior_ = _resolve_source_prior(
            self.source_prior, self.estimator_, classes, y, sample_weight
        )
        self.target_prior_ = check_prior(
            self.target_prior, classes, name="target_prior", y=y, sample_weight=sample_weight
        )
        # Fail at fit, not at the first predict, for a strength or temperature
        # that no float can hold.
        strength, temperature = self._strength_temperature()
        _adjustment_dtype(
            np.empty((0, len(classes))), self.source_prior_, self.target_prior_, strength,
            temperature, self._PARAM_NAMES,
        )
        return self

    @property
    def _PARAM_NAMES(self):
        """Public names of ``(strength, temperature)`` for error messages."""
        strength = getattr(self, "_param_name", None) or "strength"
        return {"strength": strength, "temperature": "temperature"}

    def _adjusted(self, X, output="log_proba"):
        """Corrected log-posteriors: the one computation behind every prediction method.

        The prediction methods call it with ``output="log_proba"``:
        ``predict_proba`` is its ``exp``, ``decision_function`` its (binary:
        difference of) columns, ``predict`` its ``argmax``, so the four agree on
        every row and raise for the same inputs. ``output="proba"`` gives the
        ``exp``; ``"logits"`` the log-posteriors too (normalised logits).
        Subclasses that score precomputed log-scores override this hook.
        """
        check_is_fitted(self)
        scores = _inner_log_scores(self.estimator_, X)
        if scores.shape[1] != len(self.classes_):
            raise ValueError(
                f"The inner estimator returned {scores.shape[1]} scores per sample for "
                f"{len(self.classes_)} classes."
            )
        strength, temperature = self._strength_temperature()
        dtype = _adjustment_dtype(
            scores, self.source_prior_, self.target_prior_, strength, temperature,
            self._PARAM_NAMES,
        )
        _check_allowed_rows(scores, self.target_prior_, strength, self.estimator_)
        with np.errstate(over="ignore"):  # centred scores / small T: -inf is exact
            log_proba = adjust_logits(
                _centred(scores.astype(dtype, copy=False)),
                self.source_prior_,
                self.target_prior_,
                strength=strength,
                temperature=temperature,
                output="log_proba",
            )
        return np.exp(log_proba) if output == "proba" else log_proba

    @available_if(_has_scores)
    def predict_proba(self, X):
        """Posteriors corrected from the source to the target prior.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``. Classes with a zero
            ``target_prior`` get probability 0.
        """
        return np.exp(self._adjusted(X, "log_proba"))

    @available_if(_has_scores)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed in log space.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Corrected log-posteriors (``-inf`` where the probability is 0).
        """
        return self._adjusted(X, "log_proba")

    @available_if(_has_scores)
    def decision_function(self, X):
        """Adjusted logits; for binary problems the log-odds of ``classes_[1]``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``predict`` returns the class of the largest score (binary: positive
            scores mean ``classes_[1]``).
        """
        log_proba = self._adjusted(X, "log_proba")
        if log_proba.shape[1] == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

    @available_if(_has_scores)
    def predict(self, X):
        """Class with the largest corrected posterior.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        log_proba = self._adjusted(X, "log_proba")
        return self.classes_[np.argmax(log_proba, axis=1)]

    def get_metadata_routing(self):
        """Metadata routing of this object: ``fit`` metadata goes to the inner ``fit``.

        Returns
        -------
        routing : MetadataRouter
            Routing information.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                estimator=self._get_estimator(),
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._get_estimator())
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.pairwise = inner.input_tags.pairwise
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        tags.classifier_tags.poor_score = inner.classifier_tags.poor_score
        return tags


class LogitAdjuster(_BasePriorCorrector):
    """Post-hoc logit adjustment of any classifier (Menon et al., 2021, eq. 9).

    Predicts ``argmax_y  z_y(x) - tau * log p_s(y)`` (to a uniform target), where
    ``z`` are the inner model's log-posteriors and ``p_s`` the training class
    prior. With ``tau = 1`` this is the Bayes-optimal rule for the *balanced*
    error when the inner model is calibrated; ``tau`` is usually tuned on
    held-out data (:class:`~sklt.LogitAdjusterCV`, or
    :class:`~sklearn.model_selection.GridSearchCV` over ``tau``).
    ``predict_proba`` returns ``softmax(z - tau log p_s + tau log p_t)``.

    Read more in the :doc:`User Guide </user_guide/posthoc>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba`` or ``decision_function``. ``None``
        means :class:`~sklearn.linear_model.LogisticRegression`. A
        :class:`~sklearn.frozen.FrozenEstimator` is used without refitting.
    tau : float, default=1.0
        Adjustment strength, ``tau >= 0``; 0 gives the inner model unchanged.
    source_prior : {"auto", "uniform"}, array-like of shape (n_classes,) or dict, default="auto"
        Prior the inner model's posteriors are entangled with. ``"auto"``: the
        (``sample_weight``-weighted) class frequencies of the labels the inner
        model was fit on, following imbalanced-learn samplers inside the inner
        pipeline; for a frozen model, its ``source_prior_``/``class_prior_`` if
        it has one, else the frequencies of ``y`` with a warning. Every entry
        must be positive.
    target_prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict, default="uniform"
        Prior to predict under. ``"uniform"`` minimises the balanced error;
        ``"auto"`` is the class frequencies of the ``y`` given to ``fit`` (use it
        to correct a model fit on resampled data back to the original prior).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted inner classifier.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    source_prior_ : ndarray of shape (n_classes,)
        Resolved source prior, in ``classes_`` order.
    target_prior_ : ndarray of shape (n_classes,)
        Resolved target prior, in ``classes_`` order.
    n_features_in_ : int
        Number of features seen during fit (when the inner model defines it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit (when the inner model defines it).

    See Also
    --------
    PriorShiftClassifier : Prior rebalancing with strength ``lam``, any target
        prior and likelihood flattening.
    sklt.adjust.adjust_logits : The functional form.

    References
    ----------
    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit, S. Kumar.
    "Long-tail learning via logit adjustment", ICLR 2021, section 4, eq. 9.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.metrics import balanced_accuracy_score
    >>> from sklt import LogitAdjuster
    >>> X, y = make_classification(n_samples=2000, weights=[0.95], random_state=0)
    >>> clf = LogitAdjuster(tau=1.0).fit(X, y)
    >>> clf.source_prior_.round(2)
    array([0.94, 0.06])
    >>> clf.predict_proba(X[:2]).sum(axis=1)
    array([1., 1.])
    >>> plain = clf.estimator_
    >>> adjusted_score = balanced_accuracy_score(y, clf.predict(X))
    >>> bool(adjusted_score > balanced_accuracy_score(y, plain.predict(X)))
    True
    """

    _parameter_constraints: dict = {
        **_BasePriorCorrector._parameter_constraints,
        "tau": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, estimator=None, *, tau=1.0, source_prior="auto", target_prior="uniform"):
        super().__init__(estimator, source_prior=source_prior, target_prior=target_prior)
        self.tau = tau

    _PARAM_NAMES: dict = {"strength": "tau", "temperature": "temperature"}

    def _strength_temperature(self):
        return float(self.tau), 1.0


class PriorShiftClassifier(_BasePriorCorrector):
    """Posterior re-calibration for a new class prior (Tian et al., 2020, eq. 5-9).

    Moves the inner model's posteriors from the training prior ``p_s`` to a
    target prior ``p_t`` with strength ``lam`` after likelihood flattening by
    ``temperature`` ``T``::

        log P(y|x) = log P_s(y|x) / T + lam * (log p_t(y) - log p_s(y)) + const

    With ``T = 1`` this is the paper's ``P_d^(1-lam) * P_r^lam`` with the
    Bayes-rebalanced posterior ``P_r ∝ P_d p_t / p_s`` (000 eq. 5, 7): ``lam = 0``
    keeps the model, ``lam = 1`` is the Bayes rule under ``p_t`` (PC Softmax,
    Hong et al. 2021, eq. 4), ``lam > 1`` extrapolates. With a uniform target,
    ``PriorShiftClassifier(lam=t)`` equals ``LogitAdjuster(tau=t)``.
    Computations happen in log space, so large ``lam`` never overflows.

    Read more in the :doc:`User Guide </user_guide/posthoc>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba`` or ``decision_function``. ``None``
        means :class:`~sklearn.linear_model.LogisticRegression`. A
        :class:`~sklearn.frozen.FrozenEstimator` is used without refitting.
    lam : float, default=1.0
        Rebalancing strength ``lam >= 0``.
    temperature : float, default=1.0
        Likelihood flattening (000 eq. 9): the log-posteriors are divided by
        ``T > 0`` before rebalancing; ``T > 1`` flattens (``delta = 1/T``).
    source_prior : {"auto", "uniform"}, array-like of shape (n_classes,) or dict, default="auto"
        Prior the inner posteriors are entangled with; see
        :class:`LogitAdjuster`. Every entry must be positive.
    target_prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict, default="uniform"
        Prior to predict under: uniform, the class frequencies of the ``y``
        given to ``fit`` (``"auto"``), weights in ``classes_`` order, or a dict
        ``{label: weight}``. Zero entries make a class impossible.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted inner classifier.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    source_prior_ : ndarray of shape (n_classes,)
        Resolved source prior.
    target_prior_ : ndarray of shape (n_classes,)
        Resolved target prior.
    n_features_in_ : int
        Number of features seen during fit (when the inner model defines it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit (when the inner model defines it).

    See Also
    --------
    LogitAdjuster : The uniform-target special case, parametrised by ``tau``.
    sklt.adjust.adjust_logits : The functional form.

    References
    ----------
    J. Tian, Y.-C. Liu, N. Glaser, Y.-C. Hsu, Z. Kira. "Posterior Re-calibration
    for Imbalanced Datasets", NeurIPS 2020, section 3.2-3.3, eq. 5, 7, 9.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklt import PriorShiftClassifier
    >>> X, y = make_classification(n_samples=1000, n_classes=3, n_informative=4,
    ...                            weights=[0.7, 0.2, 0.1], random_state=0)
    >>> clf = PriorShiftClassifier(lam=1.0, target_prior={0: 1, 1: 1, 2: 2}).fit(X, y)
    >>> clf.target_prior_
    array([0.25, 0.25, 0.5 ])
    >>> n_rare = np.bincount(clf.predict(X), minlength=3)[2]
    >>> bool(n_rare > np.bincount(clf.estimator_.predict(X), minlength=3)[2])
    True
    """

    _parameter_constraints: dict = {
        **_BasePriorCorrector._parameter_constraints,
        "lam": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        lam=1.0,
        temperature=1.0,
        source_prior="auto",
        target_prior="uniform",
    ):
        super().__init__(estimator, source_prior=source_prior, target_prior=target_prior)
        self.lam = lam
        self.temperature = temperature

    _PARAM_NAMES: dict = {"strength": "lam", "temperature": "temperature"}

    def _strength_temperature(self):
        return float(self.lam), float(self.temperature)
