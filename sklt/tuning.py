"""Tune the correction strength (``lam`` or ``tau``) by cross-validation without refitting.

``GridSearchCV(PriorShiftClassifier(model), {"lam": grid})`` fits ``model`` once per
grid value and fold although ``lam`` never changes the model: it only moves the
model's log-posteriors by ``lam * (log p_t - log p_s)`` (``METHODS.md`` §1). The
tuners here fit the inner model **once per fold**, take its held-out log-scores once
and sweep the whole grid over them with :func:`sklt.adjust.adjust_logits`, in the
way scikit-learn's :class:`~sklearn.model_selection.TunedThresholdClassifierCV`
tunes a decision threshold. The papers tune ``lam``/``tau`` post-training on a
validation set (Tian et al. 2020, §3.2.3; Menon et al. 2021, §4): pass a
:class:`~sklearn.frozen.FrozenEstimator` to do exactly that.

``search="peak"`` implements the O(log N) peak search over the sorted grid that
Tian et al. (2020, §3.2.3) describe for the (empirically unimodal) validation
score; see :func:`_peak_search` for the rule used on the plateaus of step-like
scores.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import check_scoring
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_method_params,
    _num_samples,
)

from .adjust import adjust_logits
from .metrics import get_scorer
from .model_selection import _check_tail_safe_cv
from .posthoc import (
    _PRIOR_CONSTRAINT,
    LogitAdjuster,
    PriorShiftClassifier,
    _BasePriorCorrector,
    _inner_log_scores,
    _validate_fit_data,
)
from .priors import _format_classes

__all__ = ["LogitAdjusterCV", "PriorShiftClassifierCV"]

#: Default range of the correction strength when the grid is given as a number of values.
_DEFAULT_RANGE = (0.0, 2.0)


# --------------------------------------------------------------------------- peak search
def _gallop(f, start, stop, direction, value):
    """Probe ``start + direction * d`` for ``d = 1, 2, 4, ...`` (and ``stop`` last).

    Stops at the first probe whose score differs from ``value``. Returns
    ``("higher" | "lower" | "edge", last)`` with ``last`` the farthest probe still
    equal to ``value`` (``start`` if none).
    """
    last = start
    step = 1
    while last != stop:
        j = start + direction * step
        if (j - stop) * direction > 0:
            j = stop
        current = f(j)
        if current > value:
            return "higher", last
        if current < value:
            return "lower", last
        last = j
        step *= 2
    return "edge", last


def _peak_search(score, n_values):
    """Grid index of the maximum of a unimodal sequence in O(log N) evaluations.

    The "modified binary search" of Tian et al. (2020, §3.2.3): on the window
    ``[lo, hi]`` compare ``score(mid)`` with ``score(mid + 1)`` and keep the half
    that rises (``lo = mid + 1`` if the right one is higher, ``hi = mid`` if the
    left one is). Each evaluation is cached, so no value is scored twice.

    Tie rule (plateaus of step-like scores such as balanced accuracy): when
    ``score(mid) == score(mid + 1) == v`` the comparison is widened by galloping
    outwards, first to the right of ``mid + 1`` then to the left of ``mid``, with
    offsets 1, 2, 4, ... (the window edge is probed last), until a score differs
    from ``v``. A higher score on one side moves the window to that side,
    beyond the last probe equal to ``v``, and the binary search goes on. If
    neither side rises, the tied pair is taken as the top plateau and the search
    stops. The best score evaluated is returned (ties: the smallest index).

    Guarantees (tested): on a curve that rises strictly, stays flat at its
    maximum (a plateau of any width) and falls strictly, the grid maximum is
    found with at most ``2 ceil(log2 N) + 2`` evaluations; on step curves whose
    plateaus below the maximum are at most two values wide it is found with at
    most ``3 ceil(log2 N) + 2``. No O(log N) method can be exact on every
    weakly unimodal sequence (a one-point spike in a long plateau has to be
    looked for everywhere): with long plateaus below the maximum the search can
    stop early or step over a narrow peak. Exhaustive ``search="grid"`` has no
    such caveat.

    Parameters
    ----------
    score : callable
        ``score(i)`` for a grid index ``i`` in ``[0, n_values)``; larger is
        better.
    n_values : int
        Grid size, at least 1.

    Returns
    -------
    best : int
        Index of the best score evaluated.
    evaluated : dict
        ``{index: score}`` of every evaluation; ``len(evaluated)`` is the number
        of evaluations.
    """
    cache = {}

    def f(i):
        if i not in cache:
            cache[i] = score(i)
        return cache[i]

    lo, hi = 0, n_values - 1
    while lo < hi:
        mid = (lo + hi) // 2
        left, right = f(mid), f(mid + 1)
        if left < right:
            lo = mid + 1
        elif left > right:
            hi = mid
        else:
            side, last = _gallop(f, mid + 1, hi, 1, left)
            if side == "higher":
                lo = last + 1
                continue
            side, last = _gallop(f, mid, lo, -1, left)
            if side == "higher":
                hi = last - 1
                continue
            break
    if lo == hi:
        f(lo)
    best = max(cache, key=lambda i: (cache[i], -i))
    return best, cache


# --------------------------------------------------------------------------- fold scoring
class _HeldOutCorrector(_BasePriorCorrector):
    """A fitted corrector whose inner log-scores on one held-out set are precomputed.

    Scorers need an estimator: this one answers ``predict``, ``predict_proba``,
    ``predict_log_proba`` and ``decision_function`` for the held-out samples with
    exactly the arithmetic of the real corrector (the shared base class), from
    log-scores computed once per fold. Setting ``strength`` sweeps the grid
    without touching the inner model (the trick of scikit-learn's ``_CurveScorer``).
    """

    def __init__(self, estimator, log_scores, classes, source_prior, target_prior,
                 strength=1.0, temperature=1.0):
        self.estimator = estimator
        self.log_scores = log_scores
        self.classes = classes
        self.source_prior = source_prior
        self.target_prior = target_prior
        self.strength = strength
        self.temperature = temperature
        self.estimator_ = estimator
        self.classes_ = classes
        self.source_prior_ = source_prior
        self.target_prior_ = target_prior

    def _adjusted(self, X, output):
        if _num_samples(X) != self.log_scores.shape[0]:
            raise ValueError(
                "The scorer asked for predictions on data other than the held-out fold "
                f"({_num_samples(X)} samples instead of {self.log_scores.shape[0]})."
            )
        return adjust_logits(
            self.log_scores,
            self.source_prior_,
            self.target_prior_,
            strength=self.strength,
            temperature=self.temperature,
            output=output,
        )


class _HeldOutFold:
    """Everything needed to score any grid value on one fold: no model refit."""

    def __init__(self, corrector, X_val, y_val, score_params):
        self.corrector = corrector
        self.X_val = X_val
        self.y_val = y_val
        self.score_params = score_params

    def score(self, scorer, strength, temperature):
        self.corrector.strength = strength
        self.corrector.temperature = temperature
        value = scorer(self.corrector, self.X_val, self.y_val, **self.score_params)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"The scorer must return a single number; got {value!r}."
            ) from None
        if np.isnan(value):
            raise ValueError(
                f"The scorer returned NaN for strength {strength!r} on a held-out fold of "
                f"{len(self.y_val)} samples; use a scorer that is defined on every fold (e.g. "
                "one that does not divide by a class count that can be zero)."
            )
        return value


def _fit_and_score_over_grid(
    corrector,
    X,
    y,
    *,
    train_idx,
    val_idx,
    fit_params,
    score_params,
    scorer,
    classes,
    settings,
    keep_data,
    keep_model=False,
):
    """Fit ``corrector`` on one training fold and score every grid value on its held-out fold.

    The inner model is fit once; its held-out log-scores are computed once; each grid
    value only re-runs :func:`sklt.adjust.adjust_logits` and the scorer.

    Parameters
    ----------
    corrector : _BasePriorCorrector
        Unfitted clone of the corrector (its own strength is irrelevant).
    X, y : array-like
        All the data.
    train_idx, val_idx : ndarray
        The split.
    fit_params, score_params : dict
        Metadata for the corrector's ``fit`` and for the scorer (full length;
        sliced here).
    scorer : callable
        ``scorer(estimator, X, y, **score_params)``.
    classes : ndarray
        All classes; every training fold must contain each of them.
    settings : list of (strength, temperature) or None
        Grid to score now; ``None`` scores nothing (peak search scores lazily).
    keep_data : bool
        Keep the fold's held-out data for later scoring.
    keep_model : bool, default=False
        Return the fitted corrector (for ``refit=False``); otherwise it is not
        sent back from the worker.

    Returns
    -------
    scores : ndarray of shape (len(settings),) or None
    fold : _HeldOutFold or None
        The held-out fold (when ``keep_data``).
    corrector : _BasePriorCorrector or None
        The corrector fitted on the training fold (when ``keep_model``).
    """
    X_train, y_train = _safe_indexing(X, train_idx), _safe_indexing(y, train_idx)
    X_val, y_val = _safe_indexing(X, val_idx), _safe_indexing(y, val_idx)
    corrector.fit(X_train, y_train, **_check_method_params(X, fit_params, indices=train_idx))
    if len(corrector.classes_) != len(classes) or np.any(corrector.classes_ != classes):
        missing = np.setdiff1d(classes, corrector.classes_)
        raise ValueError(
            f"A training fold lacks classes {_format_classes(missing)}: every class needs "
            "samples in every training fold. Use fewer folds or a stratified splitter."
        )
    held_out = _HeldOutCorrector(
        corrector.estimator_,
        _inner_log_scores(corrector.estimator_, X_val),
        corrector.classes_,
        corrector.source_prior_,
        corrector.target_prior_,
    )
    fold = _HeldOutFold(held_out, X_val, y_val,
                        _check_method_params(X, score_params, indices=val_idx))
    scores = None
    if settings is not None:
        scores = np.array([fold.score(scorer, s, t) for s, t in settings])
    return scores, (fold if keep_data else None), (corrector if keep_model else None)


# --------------------------------------------------------------------------- estimators
class _BasePriorCorrectorCV(_BasePriorCorrector):
    """Shared machinery of the CV tuners: subclasses name the grid and the corrector."""

    _grid_name = None  # "lams" or "taus"
    _param_name = None  # "lam" or "tau"
    _corrector_class = None

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            None,
        ],
        "search": [StrOptions({"grid", "peak"})],
        "scoring": [str, callable, None],
        "cv": ["cv_object", Interval(RealNotInt, 0.0, 1.0, closed="neither")],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "store_cv_results": ["boolean"],
        "source_prior": _PRIOR_CONSTRAINT,
        "target_prior": _PRIOR_CONSTRAINT,
    }

    # -- helpers -------------------------------------------------------------------
    def _grid(self):
        grid = getattr(self, self._grid_name)
        name = self._grid_name
        if isinstance(grid, Integral) and not isinstance(grid, bool):
            if grid < 2:
                raise ValueError(f"{name} as a number of values must be at least 2; got {grid}.")
            return np.linspace(*_DEFAULT_RANGE, num=int(grid))
        try:
            values = np.asarray(grid, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a number of values or an array of values; got {grid!r}."
            ) from None
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D array; got shape {values.shape}.")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or infinite values: {values}.")
        if np.any(values < 0):
            raise ValueError(
                f"{name} must be non-negative (a correction strength); got negative values "
                f"{values[values < 0].tolist()}."
            )
        return np.unique(values)

    def _settings(self, value):
        """``(strength, temperature)`` of ``adjust_logits`` for one grid value."""
        return float(value), 1.0

    def _make_corrector(self, value=1.0):
        return self._corrector_class(
            self._get_estimator(),
            **{self._param_name: value},
            **self._corrector_extra_params(),
            source_prior=self.source_prior,
            target_prior=self.target_prior,
        )

    def _corrector_extra_params(self):
        return {}

    def _check_cv(self, y=None):
        return _check_tail_safe_cv(self.cv, y, random_state=self.random_state)

    def _get_scorer(self):
        if isinstance(self.scoring, str):
            return get_scorer(self.scoring)  # sklt's scorer names first, then sklearn's
        return check_scoring(self._get_estimator(), scoring=self.scoring)

    def _strength_temperature(self):
        return self._settings(self._best_value)

    @property
    def _best_value(self):
        return getattr(self, f"best_{self._param_name}_")

    # -- fit -------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit the inner model once per fold and pick the best correction strength.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (validation data for a frozen inner model).
        y : array-like of shape (n_samples,)
            Labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights for the inner ``fit`` and the ``"auto"`` priors (as
            in the corrector), and for the scorer when it accepts them (as in
            :class:`~sklearn.model_selection.GridSearchCV`). With metadata
            routing enabled they go where they are requested.
        **params : dict
            Other metadata: ``groups`` goes to the splitter, the rest to the
            inner ``fit``; with metadata routing enabled everything is routed to
            the inner ``fit``, the splitter's ``split`` and the scorer.

        Returns
        -------
        self : object
            The fitted tuner.
        """
        X, y, sample_weight = _validate_fit_data(self, X, y, sample_weight)
        grid = self._grid()
        settings = [self._settings(v) for v in grid]
        scorer = self._get_scorer()
        estimator = self._get_estimator()
        frozen = isinstance(estimator, FrozenEstimator)

        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            # the corrector uses sample_weight for its "auto" priors and routes it on
            fit_params = dict(routed.estimator.fit)
            if sample_weight is not None:
                fit_params["sample_weight"] = sample_weight
            split_params = routed.splitter.split
            score_params = routed.scorer.score
        else:
            # as GridSearchCV does without routing: groups go to the splitter, sample_weight
            # to the inner fit and to the scorer when it accepts it, the rest to the inner fit
            fit_params = dict(params)
            groups = fit_params.pop("groups", None)
            split_params = {"groups": groups} if groups is not None else {}
            score_params = {}
            if sample_weight is not None:
                fit_params["sample_weight"] = sample_weight
                if getattr(scorer, "_accept_sample_weight", lambda: False)():
                    score_params["sample_weight"] = sample_weight

        cv = self._check_cv(y)
        classes = np.unique(y)
        splits = list(cv.split(X, y, **split_params))  # materialised once
        if not self.refit and not frozen and len(splits) > 1:
            raise ValueError(
                "refit=False needs a single split (e.g. cv=0.25), whose training part gives "
                f"the final model; cv gives {len(splits)} splits."
            )
        search_now = settings if self.search == "grid" else None

        if frozen:
            # Nothing is refit: the frozen model scores each validation fold.
            final = self._make_corrector().fit(X, y, **fit_params)
            log_scores = _inner_log_scores(final.estimator_, X)
            folds = []
            for _, val_idx in splits:
                held_out = _HeldOutCorrector(final.estimator_, log_scores[val_idx],
                                             final.classes_, final.source_prior_,
                                             final.target_prior_)
                folds.append(_HeldOutFold(
                    held_out, _safe_indexing(X, val_idx), _safe_indexing(y, val_idx),
                    _check_method_params(X, score_params, indices=val_idx)))
            fold_scores = None
            if search_now is not None:
                fold_scores = [np.array([f.score(scorer, s, t) for s, t in settings])
                               for f in folds]
        else:
            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_and_score_over_grid)(
                    clone(self._make_corrector()),
                    X,
                    y,
                    train_idx=train_idx,
                    val_idx=val_idx,
                    fit_params=fit_params,
                    score_params=score_params,
                    scorer=scorer,
                    classes=classes,
                    settings=search_now,
                    keep_data=search_now is None,
                    keep_model=not self.refit,
                )
                for train_idx, val_idx in splits
            )
            fold_scores = [r[0] for r in results] if search_now is not None else None
            folds = [r[1] for r in results]
            if self.refit:
                final = self._make_corrector().fit(X, y, **fit_params)
            else:
                final = results[0][2]

        n_values = len(grid)
        if fold_scores is not None:
            scores = np.vstack(fold_scores)
            mean = scores.mean(axis=0)
            best = int(np.argmax(mean))
            n_evaluations = n_values
        else:
            scores = np.full((len(splits), n_values), np.nan)

            def objective(i):
                s, t = settings[i]
                scores[:, i] = [f.score(scorer, s, t) for f in folds]
                return scores[:, i].mean()

            best, evaluated = _peak_search(objective, n_values)
            mean = scores.mean(axis=0)
            n_evaluations = len(evaluated)

        for attr in ("estimator_", "classes_", "n_features_in_", "feature_names_in_",
                     "source_prior_", "target_prior_"):
            if hasattr(final, attr):
                setattr(self, attr, getattr(final, attr))
        setattr(self, f"best_{self._param_name}_", float(grid[best]))
        self.best_score_ = float(mean[best])
        self.n_evaluations_ = n_evaluations
        if self.store_cv_results:
            self.cv_results_ = {
                self._grid_name: grid,
                "scores": scores,
                "mean_score": mean,
                "std_score": scores.std(axis=0),
                "n_evaluations": n_evaluations,
            }
        return self

    def get_metadata_routing(self):
        """Metadata routing: to the inner ``fit``, the splitter and the scorer.

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
            .add(
                splitter=self._check_cv(),
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                scorer=self._get_scorer(),
                method_mapping=MethodMapping().add(caller="fit", callee="score"),
            )
        )


_COMMON_PARAMS_DOC = """
    search : {"grid", "peak"}, default="grid"
        ``"grid"`` scores every value (one vectorised pass over the held-out
        log-scores per value and fold); ``"peak"`` runs the O(log N) peak search
        of Tian et al. (2020, §3.2.3) over the sorted grid, which assumes a
        unimodal mean score (see the user guide for its rule on plateaus).
    scoring : str, callable or None, default="balanced_accuracy"
        Objective to maximise: a scorer name (sklt's, e.g.
        ``"neg_balanced_error"`` or ``"geometric_mean"``, or scikit-learn's; see
        :func:`sklt.metrics.get_scorer`), a callable ``scorer(estimator, X, y)``,
        or ``None`` for the estimator's ``score`` (accuracy).
    cv : int, float, cross-validation generator or iterable, default=5
        Splitting strategy: an int is a number of tail-safe stratified folds
        (:class:`~sklt.model_selection.TailSafeStratifiedKFold`: every training
        fold holds every class, a class with one sample is never held out, the
        samples of other rare classes are each held out once), a float in
        ``(0, 1)`` one tail-safe stratified validation split of that fraction,
        or any scikit-learn splitter / iterable of ``(train, test)`` indices
        (every training fold must then hold every class).
        With a :class:`~sklearn.frozen.FrozenEstimator`, nothing is fit: each
        split only scores its validation part (this replaces the
        ``cv="prefit"`` of older scikit-learn meta-estimators).
    refit : bool, default=True
        Refit the inner model on all the data once the best value is found.
        ``refit=False`` needs a single split and keeps the model fit on its
        training part. Ignored for a frozen inner model, which is never refit.
    n_jobs : int, default=None
        Folds are fit in parallel with joblib (use
        ``joblib.parallel_config(backend="dask")`` for a Dask cluster).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle split when ``cv`` is a float.
    store_cv_results : bool, default=False
        Store ``cv_results_``.
    source_prior : {"auto", "uniform"}, array-like of shape (n_classes,) or dict, default="auto"
        As in the corrector: the prior the inner posteriors are entangled with.
    target_prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict, default="uniform"
        As in the corrector: the prior to predict under."""

_COMMON_ATTRIBUTES_DOC = """
    best_score_ : float
        Mean cross-validated score of the best value.
    n_evaluations_ : int
        Number of grid values scored (``len(grid)`` for ``search="grid"``).
    estimator_ : estimator object
        The fitted inner classifier (the one a corrector with the best value
        would hold).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    source_prior_ : ndarray of shape (n_classes,)
        Resolved source prior.
    target_prior_ : ndarray of shape (n_classes,)
        Resolved target prior.
    n_features_in_ : int
        Number of features seen during fit (when the inner model defines it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit (when the inner model defines it)."""


def _cv_results_doc(grid_name):
    return f"""
    cv_results_ : dict
        Only with ``store_cv_results=True``: ``"{grid_name}"`` (the sorted grid),
        ``"scores"`` of shape (n_splits, n_values) (NaN where ``search="peak"``
        did not evaluate), ``"mean_score"``, ``"std_score"`` and
        ``"n_evaluations"``."""


class PriorShiftClassifierCV(_BasePriorCorrectorCV):
    __doc__ = f"""Prior rebalancing with ``lam`` tuned by cross-validation, one fit per fold.

    Equivalent to ``GridSearchCV(PriorShiftClassifier(estimator), {{"lam": lams}})``
    (same splits, same scorer: same chosen ``lam``) but the inner model is fit
    once per fold instead of once per fold and value: on each fold its held-out
    log-scores are computed once and every ``lam`` is scored on
    ``z / T + lam * (log p_t - log p_s)`` (Tian et al., 2020, eq. 5-9). Then the
    model is refit on all the data and predicts with ``best_lam_``, exactly as
    ``PriorShiftClassifier(estimator, lam=best_lam_)`` fit on the same data.

    Read more in the :doc:`User Guide </user_guide/tuning>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba`` or ``decision_function``; ``None``
        means :class:`~sklearn.linear_model.LogisticRegression`. A
        :class:`~sklearn.frozen.FrozenEstimator` is never refit: ``fit`` then
        tunes ``lam`` on the data it is given (a validation set), the papers'
        protocol.
    lams : int or array-like of shape (n_values,), default=21
        Grid of ``lam >= 0``: an int is that many values evenly spaced on
        ``[0, 2]`` (``lam = 1`` is the Bayes rule under the target prior, values
        above 1 extrapolate); an array is used sorted, without duplicates. Ties
        go to the smallest value.
    temperature : float, default=1.0
        Likelihood flattening ``T > 0`` (000 eq. 9), fixed during the search.{_COMMON_PARAMS_DOC}

    Attributes
    ----------
    best_lam_ : float
        The chosen ``lam``.{_COMMON_ATTRIBUTES_DOC}{_cv_results_doc("lams")}

    See Also
    --------
    PriorShiftClassifier : The corrector with a fixed ``lam``.
    LogitAdjusterCV : The same for post-hoc logit adjustment's ``tau``.
    sklearn.model_selection.TunedThresholdClassifierCV : The model for this design.

    References
    ----------
    J. Tian, Y.-C. Liu, N. Glaser, Y.-C. Hsu, Z. Kira. "Posterior Re-calibration
    for Imbalanced Datasets", NeurIPS 2020, section 3.2.3.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklt import PriorShiftClassifierCV
    >>> X, y = make_classification(n_samples=1000, n_classes=3, n_informative=4,
    ...                            weights=[0.8, 0.15, 0.05], random_state=0)
    >>> clf = PriorShiftClassifierCV(lams=11, store_cv_results=True).fit(X, y)
    >>> clf.cv_results_["scores"].shape       # 5 folds x 11 values, 5 inner fits
    (5, 11)
    >>> bool(clf.best_lam_ > 0)
    True
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _corrector_class = PriorShiftClassifier
    _grid_name = "lams"
    _param_name = "lam"

    _parameter_constraints: dict = {
        **_BasePriorCorrectorCV._parameter_constraints,
        "lams": [Interval(Integral, 2, None, closed="left"), "array-like"],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        lams=21,
        temperature=1.0,
        search="grid",
        scoring="balanced_accuracy",
        cv=5,
        refit=True,
        n_jobs=None,
        random_state=None,
        store_cv_results=False,
        source_prior="auto",
        target_prior="uniform",
    ):
        super().__init__(estimator, source_prior=source_prior, target_prior=target_prior)
        self.lams = lams
        self.temperature = temperature
        self.search = search
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.store_cv_results = store_cv_results

    def _settings(self, value):
        return float(value), float(self.temperature)

    def _corrector_extra_params(self):
        return {"temperature": self.temperature}


class LogitAdjusterCV(_BasePriorCorrectorCV):
    __doc__ = f"""Post-hoc logit adjustment with ``tau`` tuned by CV, one fit per fold.

    Equivalent to ``GridSearchCV(LogitAdjuster(estimator), {{"tau": taus}})``
    (same splits, same scorer: same chosen ``tau``) but the inner model is fit
    once per fold: every ``tau`` is scored on the fold's held-out log-scores
    ``z - tau * log p_s + tau * log p_t`` (Menon et al., 2021, eq. 9). Then the
    model is refit on all the data and predicts with ``best_tau_``.

    Read more in the :doc:`User Guide </user_guide/tuning>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba`` or ``decision_function``; ``None``
        means :class:`~sklearn.linear_model.LogisticRegression`. A
        :class:`~sklearn.frozen.FrozenEstimator` is never refit.
    taus : int or array-like of shape (n_values,), default=21
        Grid of ``tau >= 0``: an int is that many values evenly spaced on
        ``[0, 2]`` (``tau = 1`` is Bayes-optimal for the balanced error with a
        calibrated model); an array is used sorted, without duplicates. Ties go
        to the smallest value.{_COMMON_PARAMS_DOC}

    Attributes
    ----------
    best_tau_ : float
        The chosen ``tau``.{_COMMON_ATTRIBUTES_DOC}{_cv_results_doc("taus")}

    See Also
    --------
    LogitAdjuster : The corrector with a fixed ``tau``.
    PriorShiftClassifierCV : The same for prior rebalancing's ``lam``.

    References
    ----------
    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit, S. Kumar.
    "Long-tail learning via logit adjustment", ICLR 2021, section 4.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.ensemble import HistGradientBoostingClassifier
    >>> from sklt import LogitAdjusterCV
    >>> X, y = make_classification(n_samples=1000, weights=[0.95], random_state=0)
    >>> clf = LogitAdjusterCV(HistGradientBoostingClassifier(max_iter=20), taus=[0, 0.5, 1, 1.5],
    ...                       search="peak").fit(X, y)
    >>> clf.best_tau_ in {{0.0, 0.5, 1.0, 1.5}}
    True
    >>> clf.n_evaluations_ <= 4
    True
    """

    _corrector_class = LogitAdjuster
    _grid_name = "taus"
    _param_name = "tau"

    _parameter_constraints: dict = {
        **_BasePriorCorrectorCV._parameter_constraints,
        "taus": [Interval(Integral, 2, None, closed="left"), "array-like"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        taus=21,
        search="grid",
        scoring="balanced_accuracy",
        cv=5,
        refit=True,
        n_jobs=None,
        random_state=None,
        store_cv_results=False,
        source_prior="auto",
        target_prior="uniform",
    ):
        super().__init__(estimator, source_prior=source_prior, target_prior=target_prior)
        self.taus = taus
        self.search = search
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.store_cv_results = store_cv_results
