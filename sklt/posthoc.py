"""Post-hoc prior correction of any classifier: ``LogitAdjuster`` and ``PriorShiftClassifier``.

Both are parametrisations of one mechanism (``METHODS.md`` §1, implemented once in
:func:`sklt.adjust.adjust_logits`)::

    z' = z / T + s * (log p_t - log p_s)

on the inner model's log-posteriors ``z`` (``log predict_proba``, or the decision
function when the model has no probabilities). They share one private base class,
:class:`_BasePriorCorrector`, which owns the scikit-learn contract; each public class
only maps its own parameters onto ``(s, T)``.
"""

import inspect
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

from ._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    _num_samples,
    _safe_indexing,
    routing_enabled,
)
from ._utils import _as_array, _estimator_labels, _finite_log_scores, _LabelsScoreMixin
from .adjust import _check_number, adjust_logits, log_prior_ratio
from .priors import _check_sample_weight, _format_classes, check_prior, class_counts

__all__ = ["LogitAdjuster", "PriorShiftClassifier"]

_PRIOR_CONSTRAINT = [StrOptions({"auto", "uniform"}), "array-like", dict]


def _check_rectangular(X):
    """A list or tuple ``X`` must be rectangular (it goes to the inner model as is).

    The inner model's own validation reports a ragged nested list from inside NumPy
    ("setting an array element with a sequence"); this names ``X`` instead.
    """
    if isinstance(X, list | tuple):
        _as_array(X, "X")


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
    _check_rectangular(X)
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
    _check_rectangular(X)
    if isinstance(y, (list, tuple)):
        y = _as_array(y, "y")
    X, y = indexable(X, y)
    y_array = np.asarray(y)
    if y_array.ndim == 1:
        y = _estimator_labels(y_array)
    y = column_or_1d(y, warn=True)
    if y.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={y.shape}) while a minimum of 1 is "
            f"required by {type(owner).__name__}; fit needs at least one sample per class."
        )
    check_classification_targets(y)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, y.shape[0])
        with np.errstate(over="ignore"):  # an overflowing sum is refused where it matters
            total = sample_weight.sum()
        if not total > 0:
            raise ValueError(
                "sample_weight sums to zero; give at least one sample a positive weight."
            )
    return X, y, sample_weight


def _check_inner_weight_sum(fitted, X, params):
    """Weights whose float64 sum overflows can make a model's weighted sums overflow to
    NaN probabilities (a tree does; ``LogisticRegression`` does not). Where they did,
    say so at ``fit``, naming ``sample_weight``, instead of at the first ``predict``:
    the fitted model predicts a few training rows (only when the sum overflows)."""
    weight = params.get("sample_weight")
    if weight is None or isinstance(fitted, FrozenEstimator):
        return
    weight = np.asarray(weight)
    if weight.dtype.kind not in "fiu":
        return
    with np.errstate(over="ignore"):
        total = weight.sum(dtype=float)
    if np.isfinite(total):
        return
    try:
        _inner_log_scores(fitted, _safe_indexing(X, np.arange(min(5, _num_samples(X)))))
    except ValueError as exc:
        raise ValueError(
            f"sample_weight sums to infinity in float64 (largest weight {weight.max():.3g}) "
            f"and {type(fitted).__name__} fit on it predicts NaN or infinite scores ({exc}). "
            "Divide sample_weight by its maximum (sklt's priors use only the weights' ratios)."
        ) from None


def _check_prefit_width(fitted, X):
    """A prefitted (frozen) inner model is not refit on ``X``: ``X`` must have the width
    it was fitted on, or ``fit`` would succeed and every ``predict`` fail."""
    expected = getattr(fitted, "n_features_in_", None)
    if expected is None or len(getattr(X, "shape", ())) != 2:
        return
    if X.shape[1] != expected:
        raise ValueError(
            f"X has {X.shape[1]} features, but the inner estimator "
            f"{type(fitted).__name__} was fitted on {expected}: a FrozenEstimator (or any "
            "model that fit does not refit) needs X of the width it was fitted on."
        )


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


# --------------------------------------------------------------------------------------
# The training prior of a fitted model: what source_prior="auto" resolves to
# --------------------------------------------------------------------------------------
#
# A classifier fit by weighted maximum likelihood learns posteriors entangled with the
# class prior of its *weighted* training distribution: for a class c,
#
#     p_s(c)  ∝  Σ_{i : y_i = c} w_i,      w_i = sample_weight_i × class_weight[y_i],
#
# summed over the samples the final classifier was fit on (after any imbalanced-learn
# sampler). Every way of rebalancing — class_weight (a dict or "balanced"),
# sample_weight, samplers, and their combinations — changes one factor of that sum.
# docs/user_guide/posthoc.rst ("How source_prior='auto' is resolved") states the rule.

# Estimators whose class_weight="balanced" is computed from the *weighted* class
# frequencies (scikit-learn >= 1.7 passes sample_weight to compute_class_weight); the
# others (trees, forests, gradient boosting, SGD, ridge, SVC) count samples.
_WEIGHTED_BALANCED = frozenset({"LogisticRegression", "LogisticRegressionCV", "LinearSVC"})


def _balanced_uses_sample_weight(final):
    try:
        from sklearn.utils.class_weight import compute_class_weight

        supported = "sample_weight" in inspect.signature(compute_class_weight).parameters
    except (ImportError, TypeError, ValueError):  # pragma: no cover - defensive
        supported = False
    return supported and type(final).__name__ in _WEIGHTED_BALANCED


def _final_classifier(estimator, fit_params):
    """Unwrap (nested) pipelines and fitted searches down to the final classifier.

    Returns ``(final, samplers, params)``: the estimator that produces the scores,
    the imbalanced-learn samplers run before it (in order), and the ``fit``
    parameters that reached it.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.metadata_routing import get_routing_for_object

    samplers = []
    node, params = estimator, dict(fit_params)
    for _ in range(32):  # nesting depth; a cycle is impossible but stay bounded
        if isinstance(node, Pipeline):  # imbalanced-learn's Pipeline subclasses it
            samplers += [step for _, step in node.steps[:-1] if hasattr(step, "fit_resample")]
            name, last = node.steps[-1]
            if routing_enabled():
                consumed = get_routing_for_object(last).consumes("fit", ["sample_weight"])
                params = {"sample_weight": params["sample_weight"]} if (
                    "sample_weight" in params and consumed
                ) else {}
            else:
                prefix = f"{name}__"
                params = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
            node = last
        elif hasattr(node, "best_estimator_"):  # a fitted GridSearchCV and the like
            node = node.best_estimator_
        else:
            break
    return node, samplers, params


def _is_over_sampler(sampler):
    return getattr(sampler, "_sampling_type", None) == "over-sampling"


def _resampled_counts(samplers, y, weights, classes):
    """Class counts and weight sums of the labels the final classifier saw.

    Follows the samplers: one that records ``sample_indices_`` (random under/over-
    sampling, Tomek links, edited nearest neighbours, ...) gives the exact resampled
    labels (and weights); otherwise the counts follow its ``sampling_strategy_``
    (numbers kept for under-sampling, added for over-sampling), and the weights
    cannot be followed. Returns ``(n, s)``: the number of samples and the sum of
    their weights per class, or ``(None, None)`` when a sampler cannot be followed
    (after a warning).
    """
    y_cur = np.asarray(y)
    w_cur = None if weights is None else np.asarray(weights, dtype=np.float64)
    exact = True
    n = None
    for sampler in samplers:
        indices = getattr(sampler, "sample_indices_", None)
        if exact and indices is not None:
            y_cur = y_cur[indices]
            w_cur = None if w_cur is None else w_cur[indices]
            continue
        if exact:
            n = class_counts(y_cur, classes)
            exact, w_cur = False, None
        strategy = getattr(sampler, "sampling_strategy_", None)
        kind = getattr(sampler, "_sampling_type", None)
        if isinstance(strategy, dict) and kind == "over-sampling":
            n = n + np.array([strategy.get(c, 0) for c in classes], dtype=float)
            if type(sampler).__name__ == "ADASYN":
                warnings.warn(
                    "ADASYN generates a density-dependent number of samples per class, not "
                    "exactly its sampling_strategy_; source_prior='auto' assumes the counts "
                    "it aims at, which can be off by several percent. Pass the resampled "
                    "prior explicitly as source_prior for an exact correction.",
                    UserWarning,
                    stacklevel=5,
                )
        elif isinstance(strategy, dict) and kind == "under-sampling":
            n = np.array([strategy.get(c, m) for c, m in zip(classes, n, strict=True)],
                         dtype=float)
        else:
            warnings.warn(
                f"Cannot tell the class counts after {type(sampler).__name__}; "
                "source_prior='auto' falls back to the class frequencies of y. Pass the "
                "resampled prior explicitly as source_prior.",
                UserWarning,
                stacklevel=5,
            )
            return None, None
    if exact:
        n = class_counts(y_cur, classes)
        s = n if w_cur is None else class_counts(y_cur, classes, w_cur)
        return n, s
    return n, n


def _class_weight_vector(final, classes, n, s):
    """The per-class factor ``class_weight[c]`` the final classifier trained with, or None.

    ``n`` and ``s`` are the class counts and weight sums of the samples it saw
    (``"balanced"`` is computed from them as scikit-learn does).
    """
    try:
        spec = final.get_params(deep=False).get("class_weight")
    except Exception:  # noqa: BLE001 - not a scikit-learn estimator
        spec = getattr(final, "class_weight", None)
    if spec is None:
        return None
    from sklearn.svm import SVC, NuSVC

    if isinstance(final, SVC | NuSVC) and getattr(final, "probability", False):
        # libsvm's Platt scaling fits the probabilities to the unweighted labels
        return None
    if isinstance(spec, list | tuple) and len(spec) == 1:
        spec = spec[0]
    if isinstance(spec, str) and spec in ("balanced", "balanced_subsample"):
        base = s if _balanced_uses_sample_weight(final) else n
        with np.errstate(divide="ignore"):
            return np.where(base > 0, base.sum() / (len(classes) * base), 0.0)
    if isinstance(spec, dict):
        weights = []
        for c in classes:
            value = c.item() if hasattr(c, "item") else c
            try:  # scikit-learn looks up int(label), else str(label)
                key = int(value)
            except (TypeError, ValueError):
                key = str(value)
            weights.append(spec.get(key, spec.get(value, 1.0)))
        try:
            weights = np.asarray(weights, dtype=np.float64)
        except (TypeError, ValueError):
            weights = None
        if weights is not None and np.all(np.isfinite(weights)) and np.all(weights >= 0):
            return weights
    warnings.warn(
        f"source_prior='auto' cannot interpret class_weight={spec!r} of "
        f"{type(final).__name__} and ignores it. Pass the training prior explicitly as "
        "source_prior.",
        UserWarning,
        stacklevel=5,
    )
    return None


def _reported_prior(model, classes):
    """The prior a fitted model's scores are entangled with, when it says so; else None.

    - an sklt corrector (or CV tuner): its outputs are
      ``z / T + s (log p_t - log p_s)`` of scores entangled with ``p_s``, so they are
      entangled with ``p_s^(1/T - s) * p_t^s`` (``p_t`` for ``s = T = 1``);
    - a model with ``source_prior_`` (sklt's neural nets: the loss's entangled prior);
    - naive Bayes, discriminant analysis and the like: ``class_prior_``, ``priors_`` or
      ``exp(class_log_prior_)`` (their ``priors`` / ``fit_prior`` settings included),
      else ``class_count_``.
    """
    n_classes = len(classes)

    def vector(value):
        if value is None or np.ndim(value) != 1 or len(value) != n_classes:
            return None
        value = np.asarray(value, dtype=np.float64)
        return value if np.all(np.isfinite(value)) and np.all(value >= 0) else None

    if isinstance(model, _BasePriorCorrector) and hasattr(model, "target_prior_"):
        source, target = vector(model.source_prior_), vector(model.target_prior_)
        if source is None or target is None:
            return None
        strength, temperature = model._strength_temperature()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_prior = (1.0 / temperature - strength) * np.log(source)
            log_prior = log_prior + (strength * np.log(target) if strength else 0.0)
        log_prior = np.where(np.isnan(log_prior), -np.inf, log_prior)
        if not np.any(np.isfinite(log_prior)):
            return None
        return np.exp(log_prior - np.max(log_prior))
    for attr in ("source_prior_", "class_prior_", "priors_"):
        value = vector(getattr(model, attr, None))
        if value is not None:
            return value
    value = vector(getattr(model, "class_log_prior_", None))
    if value is not None:
        return np.exp(value - np.max(value))
    return vector(getattr(model, "class_count_", None))


def _training_prior(estimator, classes, y, sample_weight, fit_params):
    """Unnormalised training prior of a fitted inner model, and notes about it.

    Returns ``(mass, notes)``: the prior the final classifier reports
    (:func:`_reported_prior`), else ``mass[c] = Σ_{i: y_i = c} w_i`` over the samples
    it was fit on, ``w_i = sample_weight_i × class_weight[y_i]``; ``notes`` holds
    ``over_sampled`` (the mass was read through an over-sampler).
    """
    notes = {"over_sampled": False}
    if isinstance(estimator, FrozenEstimator):
        final, samplers, _ = _final_classifier(estimator.estimator, {})
        for model in (estimator.estimator, final):
            reported = _reported_prior(model, classes)
            if reported is not None:
                return reported, notes
        n = s = class_counts(y, classes)
        if sample_weight is not None:
            s = class_counts(y, classes, sample_weight)
        factor = _class_weight_vector(final, classes, n, s)
        spec = getattr(final, "class_weight", None)
        if isinstance(spec, str) and spec.startswith("balanced") and factor is not None:
            # balanced on whatever data it was trained on: a uniform training prior
            return np.ones(len(classes)), notes
        warnings.warn(
            "source_prior='auto' with a FrozenEstimator uses the class frequencies of the "
            "y passed to fit, which may differ from the data the model was trained on"
            + (" (and cannot follow the samplers of its pipeline)" if samplers else "")
            + ". Pass the training prior explicitly as source_prior.",
            UserWarning,
            stacklevel=4,
        )
        return s if factor is None else s * factor, notes
    final, samplers, params = _final_classifier(estimator, fit_params)
    reported = _reported_prior(final, classes)
    if reported is not None:
        return reported, notes
    weights = params.get("sample_weight")
    if weights is not None and np.ndim(weights) != 1:
        weights = None
    n, s = _resampled_counts(samplers, y, weights, classes)
    if n is None:  # a sampler that cannot be followed: the class frequencies of y
        n = class_counts(y, classes)
        s = n if weights is None else class_counts(y, classes, weights)
        samplers = []
    notes["over_sampled"] = any(_is_over_sampler(sampler) for sampler in samplers)
    factor = _class_weight_vector(final, classes, n, s)
    return (s if factor is None else s * factor), notes


def _resolve_source_prior(spec, estimator, classes, y, sample_weight, fit_params=None):
    """Resolve a ``source_prior`` specification for a fitted inner model.

    ``"auto"``: the prior of the weighted training distribution of the model's final
    classifier (see :func:`_training_prior`): ``p_s(c) ∝ Σ_{i: y_i = c} w_i`` with
    ``w_i = sample_weight_i × class_weight[y_i]`` over the samples it was fit on,
    following pipelines, imbalanced-learn samplers and ``class_weight`` (a dict,
    ``"balanced"``). A model that reports the prior its scores are entangled with
    (:func:`_reported_prior`: sklt's correctors and nets, naive Bayes) is taken at
    its word. A frozen model that does not report one gets the class frequencies
    of ``y`` — with a warning, since its training data may differ.

    ``fit_params`` are the parameters that reached the inner ``fit`` (where the
    sample weights the model saw are found, also as ``<step>__sample_weight`` of a
    pipeline); ``None`` means that ``sample_weight`` reached it. Every entry must be
    positive: the correction divides by it.
    """
    return _resolve_source_prior_and_notes(
        spec, estimator, classes, y, sample_weight, fit_params
    )[0]


def _relative(weights):
    """Finite non-negative 1-D weights divided by their maximum; anything else as is."""
    if weights is None or np.ndim(weights) != 1:
        return weights
    w = np.asarray(weights)
    if w.dtype.kind not in "biuf" or w.size == 0:
        return weights
    top = np.max(w)
    return w / top if np.isfinite(top) and top > 0 else weights


def _resolve_source_prior_and_notes(spec, estimator, classes, y, sample_weight, fit_params):
    if not (isinstance(spec, str) and spec == "auto"):
        return check_prior(spec, classes, name="source_prior", allow_zero=False), {}
    if fit_params is None:
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    # The prior is a ratio of weight sums: weights scaled to a maximum of one give the
    # same prior, and sums of weights near the largest float cannot overflow.
    sample_weight = _relative(sample_weight)
    fit_params = {
        k: (_relative(v) if k == "sample_weight" or k.endswith("__sample_weight") else v)
        for k, v in fit_params.items()
    }
    mass, notes = _training_prior(estimator, classes, y, sample_weight, fit_params)
    if sample_weight is not None and np.any(np.asarray(mass) == 0):
        # a class whose samples all weigh 0: check_prior's message names sample_weight
        check_prior("auto", classes, name="source_prior", y=y, sample_weight=sample_weight,
                    allow_zero=False)
    return check_prior(mass, classes, name="source_prior", allow_zero=False), notes


# --------------------------------------------------------------------------------------
# Traps: configurations that silently undo or skip the correction
# --------------------------------------------------------------------------------------

# Modules of scikit-learn meta-estimators that re-fit a classifier's outputs to the
# training labels: a corrector fit inside them has its correction undone.
_RECALIBRATING_MODULES = {
    "sklearn.calibration": "CalibratedClassifierCV",
    "sklearn.ensemble._stacking": "StackingClassifier",
}


def _enclosing_recalibrator(corrector, max_depth=60):
    """Name of a scikit-learn meta-estimator fitting ``corrector`` for its outputs, or None.

    Whether the fit is called from :class:`~sklearn.calibration.CalibratedClassifierCV`
    or as a base estimator of :class:`~sklearn.ensemble.StackingClassifier` (not as its
    final estimator) cannot be observed through any API; the call stack shows it when
    the fit runs in this thread (always for CalibratedClassifierCV, whose workers run
    its own module's function; for StackingClassifier with ``n_jobs=None``).
    """
    frame = inspect.currentframe()
    try:
        depth = 0
        while frame is not None and depth < max_depth:
            module = frame.f_globals.get("__name__")
            if module in _RECALIBRATING_MODULES:
                owner = frame.f_locals.get("self")
                if getattr(owner, "final_estimator_", None) is corrector:
                    return None  # the final estimator of a stack: the right place
                return _RECALIBRATING_MODULES[module]
            frame = frame.f_back
            depth += 1
        return None
    except Exception:  # noqa: BLE001 - a best-effort check must never break fit
        return None
    finally:
        del frame


def _warn_about_traps(corrector, notes):
    """Warn about fitted configurations that silently undo or skip the correction."""
    name = type(corrector).__name__
    _, temperature = corrector._strength_temperature()
    auto_target = isinstance(corrector.target_prior, str) and corrector.target_prior == "auto"
    auto_source = isinstance(corrector.source_prior, str) and corrector.source_prior == "auto"
    same = np.allclose(corrector.source_prior_, corrector.target_prior_, rtol=1e-9, atol=0)
    if auto_target and auto_source and same and temperature == 1:
        warnings.warn(
            f"{name}: source_prior_ equals target_prior_, so the correction does nothing "
            "(the predictions are the inner model's). target_prior='auto' is the class "
            "frequencies of the y given to fit; after a sampler in an imbalanced-learn "
            "pipeline that y is resampled, and 'auto' is the resampled prior. Put the sampler "
            "inside the corrector, PriorShiftClassifier(make_pipeline(sampler, model), "
            "target_prior='auto'), or pass the original class frequencies as target_prior.",
            UserWarning,
            stacklevel=4,
        )
    if notes.get("over_sampled") and not same:
        warnings.warn(
            f"{name} corrects a model fit on over-sampled data from the over-sampled prior. "
            "Over-sampling repeats or interpolates samples, so flexible models (trees, "
            "forests, boosting, nearest neighbours) memorise them and their posteriors are "
            "not those of the resampled distribution: the correction may make calibration "
            "and log-loss worse. Prefer under-sampling or class_weight with a correction, "
            "and check the corrected model on held-out data.",
            UserWarning,
            stacklevel=4,
        )
    enclosing = _enclosing_recalibrator(corrector)
    if enclosing == "CalibratedClassifierCV":
        warnings.warn(
            f"{name} is being fit inside CalibratedClassifierCV, which re-calibrates its "
            "outputs to the class frequencies of the training data and so undoes the prior "
            f"correction. Calibrate the inner model instead: {name}(CalibratedClassifierCV"
            "(model)).",
            UserWarning,
            stacklevel=4,
        )
    elif enclosing == "StackingClassifier":
        warnings.warn(
            f"{name} is being fit as a base estimator of StackingClassifier, whose final "
            "estimator is fit on the training labels and learns their prior back from the "
            f"corrected outputs. Correct the stack instead, {name}(StackingClassifier(...)), "
            f"or make the final estimator the corrector: final_estimator={name}().",
            UserWarning,
            stacklevel=4,
        )


def _with_inner_tags(tags, estimator):
    """``tags`` with the input tags and ``poor_score`` of the inner ``estimator``."""
    inner = get_tags(estimator)
    tags.input_tags.sparse = inner.input_tags.sparse
    tags.input_tags.allow_nan = inner.input_tags.allow_nan
    tags.input_tags.pairwise = inner.input_tags.pairwise
    tags.input_tags.string = inner.input_tags.string
    tags.input_tags.categorical = inner.input_tags.categorical
    tags.classifier_tags.poor_score = inner.classifier_tags.poor_score
    return tags


class _BasePriorCorrector(_LabelsScoreMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
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
                        f"{type(estimator).__name__}.fit does not accept sample_weight: the "
                        "model is fit without the weights, and they are used only for "
                        "target_prior='auto'. To weight a pipeline's step, pass "
                        "<step>__sample_weight=... to fit (or enable metadata routing).",
                        UserWarning,
                        stacklevel=2,
                    )
        self.estimator_ = clone(estimator).fit(X, y, **inner_params)
        _check_inner_weight_sum(self.estimator_, X, inner_params)
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
        _check_prefit_width(self.estimator_, X)

        self.source_prior_, notes = _resolve_source_prior_and_notes(
            self.source_prior, self.estimator_, classes, y, sample_weight, inner_params
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
        _warn_about_traps(self, notes)
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
            Finite: a probability of exactly 0 scores the log of the smallest
            normal float (about -708), not -inf.
        """
        log_proba = _finite_log_scores(self._adjusted(X, "log_proba"))
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
        return _with_inner_tags(super().__sklearn_tags__(), self._get_estimator())


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
        class prior of the model's weighted training distribution,
        ``p_s(c) ∝ Σ_{i: y_i = c} sample_weight_i × class_weight[c]`` over the
        samples its final classifier was fit on — following ``class_weight``
        (a dict or ``"balanced"``, also on the last step of a pipeline),
        ``sample_weight`` and imbalanced-learn samplers inside the inner
        pipeline; for a frozen model, its ``source_prior_``/``class_prior_`` if
        it has one, else the frequencies of ``y`` with a warning. The rule in
        full: :ref:`source-prior-auto`. Every entry must be positive.
    target_prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict, default="uniform"
        Prior to predict under. ``"uniform"`` minimises the balanced error;
        ``"auto"`` is the class frequencies of the ``y`` given to ``fit`` (use it
        to correct a model fit with class weights or on resampled data back to
        the original prior; after a sampler in an imbalanced-learn pipeline it
        is the *resampled* prior: see :ref:`posthoc-pitfalls`).

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
        return _check_number(self.tau, "tau", low=0.0, low_inclusive=True), 1.0


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
        Prior the inner posteriors are entangled with; ``"auto"`` follows
        ``class_weight``, ``sample_weight`` and samplers (see
        :class:`LogitAdjuster` and :ref:`source-prior-auto`). Every entry must
        be positive.
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
        return (_check_number(self.lam, "lam", low=0.0, low_inclusive=True),
                _check_number(self.temperature, "temperature", low=0.0, low_inclusive=False))
