"""Multimodal fusion under prior and likelihood shift: UNO-IC (000, Algorithm 1).

:class:`NoisyOrFusionClassifier` fits one classifier per modality (each usually a
pipeline that selects its columns) and combines their posteriors in three steps,
per modality ``m`` and sample ``x`` (``METHODS.md`` §1, "Multimodal fusion"):

1. *likelihood flattening* (000 §3.3, eq. 9): the modality's log-scores are
   divided by a temperature ``T_m(x)``; UNO's uncertainty-aware temperature
   ``T_m(x) = 1 + max(0, H_m(x) - mu_m - sigma_m) / mu_m`` flattens only inputs
   that are unusually uncertain for that modality;
2. *prior rebalancing* (000 §3.2, eq. 5 and 7) with strength ``lam``, from the
   source prior to the target prior;
3. *fusion* of the calibrated posteriors ``P_m``: noisy-or
   ``normalise(1 - prod_m (1 - P_m))`` (000 Algorithm 1, line 6), their mean
   ("SoftAve" in 000 Table 5) or their normalised product.

Steps 1 and 2 go through :func:`sklt.adjust.adjust_logits`, step 3 through
:func:`sklt.adjust.noisy_or`.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import entr, logsumexp
from sklearn.base import ClassifierMixin, clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, indexable
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, column_or_1d, has_fit_parameter

from ._compat import (
    Interval,
    StrOptions,
    _BaseHeterogeneousEnsemble,
    _check_method_params,
    _fit_context,
    _raise_for_params,
    _safe_indexing,
    _VisualBlock,
    routing_enabled,
)
from ._utils import _as_array, _estimator_labels, _finite_log_scores, _LabelsScoreMixin
from .adjust import _check_number, adjust_logits, noisy_or
from .posthoc import (
    _adjustment_dtype,
    _centred,
    _check_allowed_rows,
    _check_enough_classes,
    _check_rectangular,
    _inner_log_scores,
    _resolve_source_prior,
)
from .priors import _check_sample_weight, _format_classes, check_prior

__all__ = ["NoisyOrFusionClassifier"]

_FUSION_RULES = ("noisy_or", "mean", "product")


def _entropy(log_scores):
    """Shannon entropy (nats) of ``softmax(log_scores)`` along the last axis."""
    proba = adjust_logits(log_scores, output="proba")
    return entr(proba).sum(axis=-1)


def _uno_temperature(entropy, mean, std):
    """UNO's uncertainty-aware temperature ``1 + max(0, H - mu - sigma) / mu`` (>= 1)."""
    return 1.0 + np.maximum(0.0, entropy - mean - std) / mean


def _weighted_mean_std(values, sample_weight):
    if sample_weight is not None:
        sample_weight = sample_weight / sample_weight.max()  # no overflow in the sums
    mean = np.average(values, weights=sample_weight)
    std = np.sqrt(np.average((values - mean) ** 2, weights=sample_weight))
    return mean, std


def _fit_modality(estimator, X, y, params, name=None):
    """Fit a clone of one modality (a ``FrozenEstimator`` ignores ``fit``).

    With ``name``, an error of the modality's fit names the modality (an index error,
    e.g. a column selector on an ``X`` without its columns, becomes a ``ValueError``).
    """
    try:
        return clone(estimator).fit(X, y, **params)
    except (IndexError, KeyError, ValueError) as exc:
        if name is None:
            raise
        shape = getattr(X, "shape", None) or (np.shape(X) if isinstance(X, list) else None)
        message = (f"modality {name!r} ({type(estimator).__name__}) failed to fit X"
                   + (f" of shape {tuple(shape)}" if shape is not None else "")
                   + f": {type(exc).__name__}: {exc}")
        if isinstance(exc, (IndexError, KeyError)):
            raise ValueError(
                message + ". Each modality selects its own columns of X: check that X is 2-D "
                "and has the columns every modality selects."
            ) from exc
        try:
            wrapped = type(exc)(message)
        except Exception:  # noqa: BLE001 - an exception type with another signature
            raise exc from None
        raise wrapped from exc


def _fit_fold_entropy(estimator, X, y, train, test, params):
    """Fit a clone on ``train`` and return the entropies of its posteriors on ``test``."""
    fold_params = _check_method_params(X, params, indices=train)
    estimator = _fit_modality(
        estimator, _safe_indexing(X, train), _safe_indexing(y, train), fold_params
    )
    return test, _entropy(_inner_log_scores(estimator, _safe_indexing(X, test)))


class NoisyOrFusionClassifier(_LabelsScoreMixin, ClassifierMixin, _BaseHeterogeneousEnsemble):
    """Fuse one classifier per modality under prior and likelihood shift (UNO-IC).

    Implements Algorithm 1 of Tian et al. (000, "Posterior re-calibration for
    imbalanced datasets", NeurIPS 2020). For each modality ``m`` with
    log-scores ``z_m(x)`` (log ``predict_proba``, or ``decision_function``):

    .. math::

        \\log P_m(y|x) = \\log\\operatorname{softmax}\\big(z_m(x) / T_m(x)
            + \\lambda (\\log p_t(y) - \\log p_s(y))\\big)

    (likelihood flattening, 000 eq. 9, then prior rebalancing, 000 eq. 5 and 7:
    ``P_d^{1-lam} P_r^lam`` with ``P_r ∝ P_d p_t / p_s`` is exactly this
    offset), and the modalities are fused by noisy-or
    ``P(y|x) ∝ 1 - prod_m (1 - P_m(y|x))`` (Algorithm 1, line 6). UNO's
    uncertainty-aware temperature (Tian et al. 2019, ref. [19] of 000) is

    .. math::

        T_m(x) = 1 + \\frac{\\max(0, H_m(x) - \\mu_m - \\sigma_m)}{\\mu_m}

    with ``H_m(x)`` the entropy (nats) of the modality's untempered posterior
    and ``mu_m``, ``sigma_m`` the mean and standard deviation of ``H_m`` over
    the statistics set: an input that a modality finds unusually uncertain (a
    degraded sensor) is flattened and loses its say in the fusion; ordinary
    inputs keep ``T = 1``.

    Read more in the :doc:`user guide </user_guide/fusion>`.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        One classifier per modality, usually a pipeline whose first step
        selects the modality's columns (``ColumnTransformer`` or
        ``FunctionTransformer``). Each is cloned and fit on ``(X, y)``; a
        :class:`~sklearn.frozen.FrozenEstimator` is used as is. An entry can be
        set to ``"drop"`` with :meth:`set_params`. All modalities must predict
        the same ``classes_``.
    lam : float, default=1.0
        Strength ``lambda >= 0`` of the prior rebalancing (000 eq. 7): 0 keeps
        the modalities' posteriors, 1 is the Bayes-rebalanced posterior
        (000 eq. 5), values above 1 extrapolate.
    target_prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict, \
            default="uniform"
        Prior ``p_t`` to predict under; see :func:`sklt.priors.check_prior`.
    source_prior : {"auto", "uniform"}, array-like of shape (n_classes,) or dict, \
            default="auto"
        Prior ``p_s`` the modalities' posteriors are entangled with.
        ``"auto"``: resolved per modality (see ``source_prior_``) by the rule of
        the post-hoc correctors (:ref:`source-prior-auto`): the class
        frequencies of ``y``, weighted by the ``sample_weight`` and
        ``class_weight`` the modality's classifier was trained with, after its
        samplers; any other specification is shared by all modalities. Must be
        positive for every class.
    temperature : "uno", float, None or list, default="uno"
        Likelihood flattening per modality (000 §3.3). ``"uno"``: the
        uncertainty-aware temperature ``T_m(x)`` above, with ``mu_m`` and
        ``sigma_m`` gathered at fit; a float ``T > 0``: the log-scores are
        divided by ``T`` for every sample; ``None``: no flattening (``T = 1``).
        A list gives one such entry per element of ``estimators``.
    fusion : {"noisy_or", "mean", "product"}, default="noisy_or"
        How the calibrated posteriors are combined: noisy-or
        ``normalise(1 - prod_m (1 - P_m))`` (000 Algorithm 1), arithmetic mean
        ``mean_m P_m`` ("SoftAve" in 000 Table 5), or normalised product
        ``normalise(prod_m P_m)`` (computed in log space).
    uno_cv : int, cross-validation generator, iterable or None, default=None
        Where the entropy statistics ``mu_m``, ``sigma_m`` of ``"uno"``
        modalities come from. ``None``: the posteriors of the fitted
        modalities on the fit data itself, as the reference code does (it uses
        training statistics). Models that fit their training data closely are
        more confident there than on new data, which lowers ``mu_m + sigma_m``
        and makes the temperature fire more often; pass a number of folds or a
        splitter (as for :func:`~sklearn.model_selection.cross_val_predict`)
        to gather the statistics from held-out predictions instead (one extra
        fit per fold and modality). The predictions always use the modalities
        fit on all of ``(X, y)``.
    n_jobs : int, default=None
        Number of jobs to fit the modalities (and the folds of ``uno_cv``) in
        parallel with joblib. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context; ``-1`` uses all processors.

    Attributes
    ----------
    estimators_ : list of classifiers
        The fitted modalities that are not ``"drop"``.
    named_estimators_ : :class:`~sklearn.utils.Bunch`
        The fitted modalities by name (a dropped one maps to ``"drop"``).
    classes_ : ndarray of shape (n_classes,)
        The class labels, shared by all modalities.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``; only defined when ``X`` has
        string column names.
    source_prior_ : ndarray of shape (n_modalities, n_classes)
        The source prior ``p_s`` of each fitted modality (rows follow
        ``estimators_``). With ``source_prior="auto"`` each row is resolved
        as :class:`sklt.PriorShiftClassifier` does: the prior a frozen model
        reports, the class counts after the samplers of an imbalanced-learn
        pipeline, else the class frequencies of ``y``; otherwise all rows are
        the given prior.
    target_prior_ : ndarray of shape (n_classes,)
        The target prior ``p_t``.
    temperatures_ : list
        The temperature entry of each fitted modality (``"uno"``, a float or
        ``None``), aligned with ``estimators_``.
    entropy_mean_ : ndarray of shape (n_modalities,)
        ``mu_m``, the mean entropy (nats) of each fitted modality on the
        statistics set; NaN for modalities whose temperature is not ``"uno"``.
    entropy_std_ : ndarray of shape (n_modalities,)
        ``sigma_m``, the standard deviation (``ddof=0``, weighted by
        ``sample_weight``) of the entropies; NaN where ``mu_m`` is NaN.

    See Also
    --------
    sklt.PriorShiftClassifier : Prior rebalancing for a single model; with one
        modality and ``temperature=None`` this classifier gives the same
        probabilities.
    sklt.adjust.noisy_or : The fusion rule as an array function, e.g. for
        dense (segmentation) score maps.
    sklearn.ensemble.VotingClassifier : Soft voting without prior correction.

    References
    ----------
    .. [1] J. Tian, Y.-C. Liu, N. Glaser, Y.-C. Hsu and Z. Kira, "Posterior
       re-calibration for imbalanced datasets", NeurIPS 2020, §3.3 and
       Algorithm 1.
    .. [2] J. Tian, W. Cheung, N. Glaser, Y.-C. Liu and Z. Kira, "UNO:
       Uncertainty-aware noisy-or multimodal fusion for unanticipated input
       degradation", ICRA 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklt import NoisyOrFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(3, size=300, p=[0.7, 0.2, 0.1])
    >>> X = np.hstack([y[:, None] + rng.normal(size=(300, 2)),   # modality "a"
    ...                y[:, None] + rng.normal(size=(300, 2))])  # modality "b"
    >>> def columns(cols):
    ...     return make_pipeline(FunctionTransformer(lambda X: X[:, cols]),
    ...                          LogisticRegression())
    >>> clf = NoisyOrFusionClassifier([("a", columns([0, 1])), ("b", columns([2, 3]))],
    ...                               lam=0.5).fit(X, y)
    >>> clf.predict_proba(X[:2]).round(3)
    array([[0.662, 0.306, 0.032],
           [0.774, 0.213, 0.014]])
    >>> clf.entropy_mean_.round(3)
    array([0.547, 0.586])
    """

    _parameter_constraints: dict = {
        "estimators": [list],
        "lam": [Interval(Real, 0, None, closed="left")],
        "target_prior": [StrOptions({"uniform", "auto"}), "array-like", dict],
        "source_prior": [StrOptions({"uniform", "auto"}), "array-like", dict],
        "temperature": [StrOptions({"uno"}), Interval(Real, 0, None, closed="neither"), list, None],
        "fusion": [StrOptions(set(_FUSION_RULES))],
        "uno_cv": ["cv_object", None],
        # joblib hands n_jobs to the OS as a C int
        "n_jobs": [None, Interval(Integral, None, 2**31 - 1, closed="right")],
    }

    def __init__(
        self,
        estimators,
        *,
        lam=1.0,
        target_prior="uniform",
        source_prior="auto",
        temperature="uno",
        fusion="noisy_or",
        uno_cv=None,
        n_jobs=None,
    ):
        super().__init__(estimators=estimators)
        self.lam = lam
        self.target_prior = target_prior
        self.source_prior = source_prior
        self.temperature = temperature
        self.fusion = fusion
        self.uno_cv = uno_cv
        self.n_jobs = n_jobs

    def _validate_estimators(self):
        """Names and estimators; each entry a classifier with scores, or ``"drop"``.

        scikit-learn's check, preceded by one that names ``estimators`` for entries
        that are not estimators at all (a string other than ``"drop"``, a class).
        """
        for item in self.estimators if isinstance(self.estimators, list) else []:
            if not (isinstance(item, tuple | list) and len(item) == 2):
                raise ValueError(
                    "estimators must be a list of (name, estimator) pairs; got the entry "
                    f"{item!r}."
                )
            name, est = item
            if isinstance(est, str) and est == "drop":
                continue
            if isinstance(est, type) or not (
                hasattr(est, "fit")
                and (hasattr(est, "predict_proba") or hasattr(est, "decision_function"))
            ):
                raise ValueError(
                    f"estimators[{name!r}] must be a classifier instance with fit and "
                    f"predict_proba or decision_function, or 'drop'; got {est!r}."
                )
        try:
            return super()._validate_estimators()
        except ValueError as exc:
            if "not unique" not in str(exc):
                raise
            raise ValueError(f"estimators: each modality needs its own name ({exc}).") from None

    def _check_temperatures(self, n_estimators):
        """One temperature entry per element of ``estimators``."""
        if not isinstance(self.temperature, list):
            return [self.temperature] * n_estimators
        if len(self.temperature) != n_estimators:
            raise ValueError(
                f"temperature has {len(self.temperature)} entries but there are "
                f"{n_estimators} estimators; give one entry per modality."
            )
        for entry in self.temperature:
            ok = entry is None or (isinstance(entry, str) and entry == "uno")
            ok = ok or (
                isinstance(entry, Real)
                and not isinstance(entry, bool)
                and np.isfinite(entry)
                and entry > 0
            )
            if not ok:
                raise ValueError(
                    "Each entry of temperature must be 'uno', a finite number > 0 or None; "
                    f"got {entry!r}."
                )
        return list(self.temperature)

    @_fit_context(
        # the modalities are validated when they are fit
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit each modality, gather the entropy statistics and the priors.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            All modalities' features; each estimator selects its own.
        y : array-like of shape (n_samples,)
            Target labels, of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights ``target_prior="auto"``, the ``source_prior="auto"`` of the
            modalities that receive it, and the entropy statistics; passed to
            each modality's ``fit`` that
            accepts it (a modality that does not gets a warning; with metadata
            routing enabled: to the modalities that request it).
        **fit_params : dict
            Only with metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``): routed to
            the modalities' ``fit``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        names, estimators = self._validate_estimators()
        temperatures = self._check_temperatures(len(estimators))
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        _check_rectangular(X)
        if isinstance(y, (list, tuple)):
            y = _as_array(y, "y")
        X, y = indexable(X, y)
        y_array = np.asarray(y)
        if y_array.ndim == 1:
            y = _estimator_labels(y_array)
        if len(y) == 0:
            raise ValueError(
                f"Found array with 0 sample(s) while a minimum of 1 is required by "
                f"{type(self).__name__}; fit needs at least one sample per class."
            )
        y_type = type_of_target(y, input_name="y")
        if y_type in ("unknown", "continuous"):
            raise ValueError(
                f"Unknown label type: {y_type}. Maybe you are trying to fit a classifier, "
                "which expects discrete classes, on a regression target with continuous values."
            )
        if y_type not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass targets only; "
                f"got a {y_type!r} target."
            )
        y = column_or_1d(y, warn=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, y.shape[0])
            if not sample_weight.sum() > 0:
                raise ValueError(
                    "sample_weight sums to zero; give at least one sample a positive weight."
                )

        active = [
            (name, est, temp)
            for name, est, temp in zip(names, estimators, temperatures, strict=True)
            if not (isinstance(est, str) and est == "drop")
        ]
        params = self._modality_fit_params(active, sample_weight, fit_params)
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_modality)(est, X, y, params[name], name) for name, est, _ in active
        )
        self.named_estimators_ = Bunch()
        fitted = iter(self.estimators_)
        for name, est in zip(names, estimators, strict=True):
            dropped = isinstance(est, str) and est == "drop"
            self.named_estimators_[name] = est if dropped else next(fitted)

        self.classes_ = self._check_classes([name for name, _, _ in active])
        _check_enough_classes(self, self.classes_)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains classes {_format_classes(unknown)} that the modalities do not "
                f"know; their classes are {_format_classes(self.classes_)}."
            )
        # Like VotingClassifier: the modalities validate X, and report its width and names.
        for attr in ("n_features_in_", "feature_names_in_"):
            for est in self.estimators_:
                if hasattr(est, attr):
                    setattr(self, attr, getattr(est, attr))
                    break

        self.source_prior_ = np.stack(
            [
                _resolve_source_prior(self.source_prior, est, self.classes_, y, sample_weight,
                                      params[name])  # the fit parameters the modality got
                for (name, _, _), est in zip(active, self.estimators_, strict=True)
            ]
        )
        self.target_prior_ = check_prior(
            self.target_prior, self.classes_, name="target_prior", y=y, sample_weight=sample_weight
        )
        self.temperatures_ = [temp for _, _, temp in active]
        for source_prior in self.source_prior_:  # fail at fit for a lam no float holds
            _adjustment_dtype(
                np.empty((0, len(self.classes_))), source_prior, self.target_prior_,
                _check_number(self.lam, "lam", low=0.0, low_inclusive=True), 1.0, self._PARAM_NAMES,
            )
        self._fit_entropy_statistics(X, y, sample_weight, params, active)
        return self

    _PARAM_NAMES: dict = {"strength": "lam", "temperature": "temperature"}

    def _modality_fit_params(self, active, sample_weight, fit_params):
        """The ``fit`` parameters of each active modality, by name."""
        if routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **fit_params)
            return {name: dict(routed[name].fit) for name, _, _ in active}
        _raise_for_params(fit_params, self, "fit")
        params = {}
        for name, est, _ in active:
            params[name] = {}
            if sample_weight is None:
                continue
            if has_fit_parameter(est, "sample_weight"):
                params[name]["sample_weight"] = sample_weight
            else:
                warnings.warn(
                    f"Estimator {name!r} ({type(est).__name__}.fit) does not accept "
                    "sample_weight; the weights are used only for the 'auto' priors and the "
                    "entropy statistics. Enable metadata routing to pass them into a pipeline.",
                    UserWarning,
                    stacklevel=3,
                )
        return params

    def _check_classes(self, names):
        classes = []
        for name, est in zip(names, self.estimators_, strict=True):
            if not hasattr(est, "classes_"):
                raise ValueError(
                    f"Estimator {name!r} has no classes_ after fit; every modality must be a "
                    "fitted classifier."
                )
            classes.append(np.asarray(est.classes_))
        first = classes[0]
        for name, cls in zip(names[1:], classes[1:], strict=True):
            if cls.shape != first.shape or not np.array_equal(cls, first):
                raise ValueError(
                    f"The modalities disagree on classes: {names[0]!r} predicts "
                    f"{_format_classes(first)} but {name!r} predicts {_format_classes(cls)}. "
                    "Every modality must predict the same classes in the same order."
                )
        return first

    def _fit_entropy_statistics(self, X, y, sample_weight, params, active):
        n_modalities = len(active)
        self.entropy_mean_ = np.full(n_modalities, np.nan)
        self.entropy_std_ = np.full(n_modalities, np.nan)
        uno = [i for i, (_, _, temp) in enumerate(active) if temp == "uno"]
        if not uno:
            return
        if self.uno_cv is None:
            entropies = {i: _entropy(_inner_log_scores(self.estimators_[i], X)) for i in uno}
        else:
            try:
                cv = check_cv(self.uno_cv, y, classifier=True)
                splits = [(np.asarray(train), np.asarray(test)) for train, test in cv.split(X, y)]
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    "uno_cv must be None, a number of folds (int >= 2), a cross-validation "
                    f"splitter or an iterable of (train, test) index arrays; got "
                    f"{self.uno_cv!r} ({exc})."
                ) from None
            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_fold_entropy)(active[i][1], X, y, train, test, params[active[i][0]])
                for i in uno
                for train, test in splits
            )
            entropies = {}
            for k, i in enumerate(uno):
                held_out = np.full(len(y), np.nan)
                for test, h in results[k * len(splits) : (k + 1) * len(splits)]:
                    held_out[test] = h
                if np.any(np.isnan(held_out)):
                    raise ValueError(
                        "uno_cv must be a partition: every sample must be in exactly one test "
                        "fold to gather the entropy statistics."
                    )
                entropies[i] = held_out
        for i in uno:
            mean, std = _weighted_mean_std(entropies[i], sample_weight)
            if not mean > 1e-12:
                raise ValueError(
                    f"Modality {active[i][0]!r} is certain of every sample of the statistics set "
                    f"(mean entropy {mean:.3g}): the UNO temperature 1 + max(0, H - mu - sigma) / "
                    "mu is undefined. Gather the statistics on held-out predictions "
                    "(uno_cv=5), or give this modality a fixed temperature."
                )
            self.entropy_mean_[i] = mean
            self.entropy_std_[i] = std

    def _modality_log_scores(self, X):
        """Log-scores and per-sample temperatures of each fitted modality."""
        check_is_fitted(self)
        scores, temps = [], []
        for est, temp, mean, std in zip(
            self.estimators_,
            self.temperatures_,
            self.entropy_mean_,
            self.entropy_std_,
            strict=True,
        ):
            z = _inner_log_scores(est, X)
            if temp == "uno":
                t = _uno_temperature(_entropy(z), mean, std)
            else:
                t = np.full(z.shape[0], 1.0 if temp is None else float(temp))
            scores.append(z)
            temps.append(t)
        return scores, temps

    def modality_temperatures(self, X):
        """Per-sample temperature ``T_m(x)`` of each modality (likelihood flattening).

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        temperatures : ndarray of shape (n_samples, n_modalities)
            ``T_m(x) >= 1`` for ``"uno"`` modalities, the fixed temperature (or
            1 for ``None``) otherwise; columns follow ``estimators_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklt import NoisyOrFusionClassifier
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(2, size=200)
        >>> X = y[:, None] + rng.normal(size=(200, 2))
        >>> clf = NoisyOrFusionClassifier([("a", LogisticRegression()),
        ...                                ("b", LogisticRegression())],
        ...                               temperature=["uno", 2.0]).fit(X, y)
        >>> clf.modality_temperatures(np.array([[0.5, 0.5], [5.0, -5.0]])).round(3)
        array([[1.045, 2.   ],
               [1.   , 2.   ]])
        """
        _, temps = self._modality_log_scores(X)
        return np.stack(temps, axis=1)

    def _calibrated_log_proba(self, X):
        """Per-modality calibrated log-posteriors, shape (n_modalities, n_samples, n_classes)."""
        scores, temps = self._modality_log_scores(X)
        out = []
        lam = _check_number(self.lam, "lam", low=0.0, low_inclusive=True)
        for z, t, source_prior, est in zip(
            scores, temps, self.source_prior_, self.estimators_, strict=True
        ):
            dtype = _adjustment_dtype(
                z, source_prior, self.target_prior_, lam, 1.0, self._PARAM_NAMES
            )
            _check_allowed_rows(z, self.target_prior_, lam, est)
            # Per-sample likelihood flattening: dividing the log-posteriors by T(x)
            # equals dividing the logits (a per-row constant shift cancels). The
            # scores are centred first, so a small T cannot overflow to +inf.
            with np.errstate(over="ignore"):  # centred scores / small T: -inf is exact
                z = _centred(z.astype(dtype, copy=False)) / t.astype(dtype, copy=False)[:, None]
            out.append(
                adjust_logits(
                    z,
                    source_prior,
                    self.target_prior_,
                    strength=lam,
                    output="log_proba",
                )
            )
        dtype = np.result_type(*out)
        return np.stack([o.astype(dtype, copy=False) for o in out])

    def predict_log_proba(self, X):
        """Log of the fused posteriors.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Fused log-posteriors (``-inf`` where a posterior is exactly zero).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklt import NoisyOrFusionClassifier
        >>> X, y = np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.array([0, 0, 1, 1])
        >>> clf = NoisyOrFusionClassifier([("a", LogisticRegression())]).fit(X, y)
        >>> np.exp(clf.predict_log_proba(X)).sum(axis=1)
        array([1., 1., 1., 1.])
        """
        if not isinstance(self.fusion, str) or self.fusion not in _FUSION_RULES:
            # set after fit (fit validates it): never fall through to another rule
            raise ValueError(
                f"fusion must be one of {sorted(_FUSION_RULES)}; got {self.fusion!r}."
            )
        log_proba = self._calibrated_log_proba(X)
        if self.fusion == "mean":
            # the shift in the scores' dtype: float32 stays float32 (and exact to it)
            shift = log_proba.dtype.type(np.log(log_proba.shape[0]))
            return logsumexp(log_proba, axis=0) - shift
        if self.fusion == "product":
            # sum_m log P_m as M * (mean - row max): no overflow before the shift.
            n_modalities = log_proba.shape[0]
            mean = (log_proba / n_modalities).sum(axis=0)
            dead = ~np.any(np.isfinite(mean), axis=1)
            if np.any(dead):
                rows = np.flatnonzero(dead)
                raise ValueError(
                    f"fusion='product': at {rows.size} row(s) (first: {rows[:5].tolist()}) "
                    "every class has probability 0 under some modality, so the product of "
                    "the posteriors is zero and cannot be normalised. Use fusion='noisy_or' "
                    "or 'mean', or modalities whose probabilities are never exactly 0."
                )
            with np.errstate(over="ignore"):  # -inf is the exact rounding
                joint = n_modalities * _centred(mean)
            return adjust_logits(joint, output="log_proba")
        with np.errstate(divide="ignore"):  # a posterior of exactly 1 or 0
            fused = noisy_or(np.exp(log_proba), axis=0, class_axis=-1)
            return np.log(fused)

    def predict_proba(self, X):
        """Fused posteriors ``P(y|x)``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklt import NoisyOrFusionClassifier
        >>> X, y = np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.array([0, 0, 1, 1])
        >>> clf = NoisyOrFusionClassifier([("a", LogisticRegression())]).fit(X, y)
        >>> clf.predict_proba([[0.0]]).round(3)
        array([[0.5, 0.5]])
        """
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X):
        """Fused log-posteriors; for binary problems ``log P(classes_[1]) - log P(classes_[0])``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            1-D for binary problems (positive means ``classes_[1]``), the
            fused log-posteriors otherwise. Finite: a probability of exactly 0
            scores the log of the smallest normal float (about -708), not -inf.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklt import NoisyOrFusionClassifier
        >>> X, y = np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.array([0, 0, 1, 1])
        >>> clf = NoisyOrFusionClassifier([("a", LogisticRegression())]).fit(X, y)
        >>> (clf.decision_function(X) > 0).astype(int)
        array([0, 0, 1, 1])
        """
        check_is_fitted(self)
        log_proba = _finite_log_scores(self.predict_log_proba(X))
        if len(self.classes_) == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

    def predict(self, X):
        """Class with the highest fused posterior.

        Parameters
        ----------
        X : {array-like, sparse matrix, dataframe} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels from ``classes_``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklt import NoisyOrFusionClassifier
        >>> X, y = np.array([[-1.0], [-0.5], [0.5], [1.0]]), np.array(["a", "a", "b", "b"])
        >>> clf = NoisyOrFusionClassifier([("m", LogisticRegression())]).fit(X, y)
        >>> clf.predict(X)
        array(['a', 'a', 'b', 'b'], dtype='<U1')
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]

    def get_metadata_routing(self):
        """Metadata routing of this object: ``fit`` metadata goes to each modality's ``fit``.

        Returns
        -------
        routing : MetadataRouter
            Routing information.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        for name, estimator in self.estimators:
            if isinstance(estimator, str) and estimator == "drop":
                continue
            router.add(
                **{name: estimator},
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        return router

    if _VisualBlock is not None:  # the HTML diagram, where scikit-learn provides it

        def _sk_visual_block_(self):
            names, estimators = zip(*self.estimators, strict=True)
            return _VisualBlock("parallel", estimators, names=names)
