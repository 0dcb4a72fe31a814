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


# --------------------------------------------------------------------------- held-out scores
def _route_fit_params(owner, scorer, sample_weight, params):
    """Split ``fit``'s metadata between the inner ``fit``, the splitter and the scorer.

    With metadata routing enabled, everything is routed as requested (``owner``
    must define ``get_metadata_routing`` with ``estimator``, ``splitter`` and
    ``scorer`` children); ``sample_weight`` always also goes to the corrector's
    ``fit`` (its ``"auto"`` priors), which routes it on to the inner ``fit``.
    Without routing, as :class:`~sklearn.model_selection.GridSearchCV` does:
    ``groups`` goes to the splitter, ``sample_weight`` to the inner ``fit`` and to
    the scorer when the scorer accepts it, anything else to the inner ``fit``.

    Returns
    -------
    fit_params, split_params, score_params : dict
        Full-length metadata for the corrector's ``fit``, the splitter's
        ``split`` and the scorer.
    """
    if _routing_enabled():
        routed = process_routing(owner, "fit", sample_weight=sample_weight, **params)
        fit_params = dict(routed.estimator.fit)
        if sample_weight is not None:
            fit_params["sample_weight"] = sample_weight
        return fit_params, dict(routed.splitter.split), dict(routed.scorer.score)
    fit_params = dict(params)
    groups = fit_params.pop("groups", None)
    split_params = {"groups": groups} if groups is not None else {}
    score_params = {}
    if sample_weight is not None:
        fit_params["sample_weight"] = sample_weight
        if getattr(scorer, "_accept_sample_weight", lambda: False)():
            score_params["sample_weight"] = sample_weight
    return fit_params, split_params, score_params


class _HeldOutScores:
    """Out-of-fold log-scores of a corrector's inner model: one fit per fold.

    Built by :func:`_held_out_scores`. The held-out rows of all folds are stacked,
    fold after fold (as :func:`~sklearn.model_selection.cross_val_predict` would
    pool them), so one scorer call can score them all together.

    Attributes
    ----------
    indices : ndarray of shape (n_held_out,)
        Row of ``X`` of each held-out score (a row appears once per split that
        holds it out: repeated splits repeat it; a row no split holds out, such
        as a single-sample class under tail-safe folds, is absent).
    fold : ndarray of shape (n_held_out,)
        Split index of each row, non-decreasing.
    bounds : ndarray of shape (n_splits + 1,)
        Rows ``bounds[f]:bounds[f + 1]`` belong to split ``f``.
    log_scores : ndarray of shape (n_held_out, n_classes)
        The inner model's log-scores (``log predict_proba``, or the decision
        function) from the model fit without these rows.
    source_priors, target_priors : ndarray of shape (n_splits, n_classes)
        The priors each fold's corrector resolved (``"auto"`` follows the
        training fold's labels and weights).
    classes : ndarray of shape (n_classes,)
        Class labels, shared by every fold.
    estimators : list of fitted correctors or None
        The fold correctors (with ``keep_estimators=True``).
    final : fitted corrector or None
        For a frozen inner model: the one corrector, fit (never refit) on all
        the data; its scores on each fold are the held-out scores.
    """

    def __init__(self, indices, fold, log_scores, source_priors, target_priors, classes,
                 estimators=None, final=None):
        self.indices = indices
        self.fold = fold
        self.log_scores = log_scores
        self.source_priors = source_priors
        self.target_priors = target_priors
        self.classes = classes
        self.estimators = estimators
        self.final = final
        self.bounds = np.searchsorted(fold, np.arange(len(source_priors) + 1))

    @property
    def n_splits(self):
        return len(self.source_priors)

    def rows(self, fold=None):
        """Slice of the stacked rows of one split (``None``: all of them)."""
        if fold is None:
            return slice(0, len(self.indices))
        return slice(self.bounds[fold], self.bounds[fold + 1])

    def adjusted(self, strength=1.0, temperature=1.0, output="log_proba", fold=None):
        """Held-out scores adjusted with each fold's priors (:func:`~sklt.adjust.adjust_logits`).

        Parameters
        ----------
        strength, temperature : float
            ``s`` and ``T`` of ``z / T + s (log p_t - log p_s)``.
        output : {"log_proba", "proba", "logits"}
            As in :func:`~sklt.adjust.adjust_logits`.
        fold : int or None
            One split's rows, or all of them (``None``).

        Returns
        -------
        adjusted : ndarray of shape (n_rows, n_classes)
        """
        folds = range(self.n_splits) if fold is None else [fold]
        parts = [
            adjust_logits(self.log_scores[self.rows(f)], self.source_priors[f],
                          self.target_priors[f], strength=strength,
                          temperature=temperature, output=output)
            for f in folds
        ]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.empty((0, len(self.classes)))


def _check_fold_classes(corrector, classes):
    if len(corrector.classes_) != len(classes) or np.any(corrector.classes_ != classes):
        missing = np.setdiff1d(classes, corrector.classes_)
        raise ValueError(
            f"A training fold lacks classes {_format_classes(missing)}: every class needs "
            "samples in every training fold. Use sklt.model_selection.TailSafeStratifiedKFold "
            "(the default cv) or another split whose training folds hold every class."
        )


def _fit_fold(corrector, X, y, train, test, fit_params, classes, keep_estimator):
    """Fit ``corrector`` on one training fold; its inner log-scores on the held-out fold."""
    corrector.fit(_safe_indexing(X, train), _safe_indexing(y, train),
                  **_check_method_params(X, fit_params, indices=train))
    _check_fold_classes(corrector, classes)
    log_scores = _inner_log_scores(corrector.estimator_, _safe_indexing(X, test))
    return (log_scores, corrector.source_prior_, corrector.target_prior_,
            corrector if keep_estimator else None)


def _held_out_scores(corrector, X, y, splits, *, fit_params=None, n_jobs=None,
                     keep_estimators=False):
    """Fit a corrector once per split and pool its inner model's held-out log-scores.

    The one-fit-per-fold core of sklt's tuners (and of anything else that tunes
    a decision rule on out-of-fold scores). Each split's training part fits an
    unfitted clone of ``corrector`` (the inner model and the priors it resolves:
    ``source_prior="auto"`` follows the training fold, with ``sample_weight``),
    in parallel with joblib; the inner model's log-scores on the held-out part
    are computed once. A :class:`~sklearn.frozen.FrozenEstimator` inner model
    is never refit: the corrector is fit once on all of ``X, y`` (which only
    sets its priors), its log-scores on ``X`` computed once and sliced by the
    held-out parts.

    Parameters
    ----------
    corrector : sklt corrector
        An unfitted :class:`~sklt.LogitAdjuster` or
        :class:`~sklt.PriorShiftClassifier` (its strength does not matter),
        holding the inner estimator and the prior specifications.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data.
    y : ndarray of shape (n_samples,)
        Labels.
    splits : list of (train, test) index arrays
        The splits, materialised (e.g. ``list(cv.split(X, y))``).
    fit_params : dict, default=None
        Full-length metadata for the corrector's ``fit`` (``sample_weight``
        included), sliced per training fold; see :func:`_route_fit_params`.
    n_jobs : int, default=None
        Folds fit in parallel.
    keep_estimators : bool, default=False
        Keep the fitted fold correctors (otherwise workers do not send them
        back).

    Returns
    -------
    held_out : _HeldOutScores
        Stacked held-out log-scores, their rows and folds, and each fold's
        priors.
    """
    fit_params = {} if fit_params is None else fit_params
    classes = np.unique(y)
    if not splits:
        raise ValueError("cv gave no split.")
    test_sets = [np.asarray(test, dtype=np.intp) for _, test in splits]
    if any(len(test) == 0 for test in test_sets):
        raise ValueError("A split has an empty held-out part; use fewer folds.")
    indices = np.concatenate(test_sets)
    fold = np.repeat(np.arange(len(splits)), [len(test) for test in test_sets])
    if isinstance(corrector._get_estimator(), FrozenEstimator):
        final = clone(corrector).fit(X, y, **fit_params)
        _check_fold_classes(final, classes)
        all_scores = _inner_log_scores(final.estimator_, X)
        n = len(splits)
        return _HeldOutScores(
            indices, fold, all_scores[indices],
            np.tile(final.source_prior_, (n, 1)), np.tile(final.target_prior_, (n, 1)),
            final.classes_, estimators=[final] * n if keep_estimators else None, final=final,
        )
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fit_fold)(clone(corrector), X, y, train, test, fit_params, classes,
                           keep_estimators)
        for train, test in splits
    )
    return _HeldOutScores(
        indices, fold, np.concatenate([r[0] for r in results]),
        np.stack([r[1] for r in results]), np.stack([r[2] for r in results]), classes,
        estimators=[r[3] for r in results] if keep_estimators else None,
    )


# --------------------------------------------------------------------------- scoring
class _HeldOutCorrector(_BasePriorCorrector):
    """A corrector that answers for precomputed held-out log-scores.

    Scorers need an estimator: this one answers ``predict``, ``predict_proba``,
    ``predict_log_proba`` and ``decision_function`` for the held-out rows of one
    split (or of all splits pooled) with exactly the arithmetic of the real
    corrector (the shared base class), from the log-scores computed once.
    Setting ``strength`` sweeps the grid without touching the inner model (the
    trick of scikit-learn's ``_CurveScorer``).
    """

    def __init__(self, estimator, held_out, fold=None, strength=1.0, temperature=1.0):
        self.estimator = estimator  # the unfitted inner model: its methods and tags
        self.held_out = held_out
        self.fold = fold
        self.strength = strength
        self.temperature = temperature
        self.classes_ = held_out.classes

    def _adjusted(self, X, output):
        rows = self.held_out.rows(self.fold)
        n_rows = rows.stop - rows.start
        if _num_samples(X) != n_rows:
            raise ValueError(
                "The scorer asked for predictions on data other than the held-out rows "
                f"({_num_samples(X)} samples instead of {n_rows})."
            )
        return self.held_out.adjusted(self.strength, self.temperature, output, fold=self.fold)


class _GridScorer:
    """Scores of any strength on the pooled held-out rows and on each split's rows."""

    def __init__(self, estimator, held_out, X, y, score_params, scorer):
        self.scorer = scorer
        self.targets = []  # (estimator, X, y, params): all splits pooled first, then each
        for fold in [None, *range(held_out.n_splits)]:
            rows = held_out.rows(fold)
            idx = held_out.indices[rows]
            self.targets.append((
                _HeldOutCorrector(estimator, held_out, fold), _safe_indexing(X, idx),
                _safe_indexing(y, idx), _check_method_params(X, score_params, indices=idx),
            ))

    def _one(self, target, strength, temperature):
        estimator, X, y, params = target
        estimator.strength, estimator.temperature = strength, temperature
        value = self.scorer(estimator, X, y, **params)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"The scorer must return a single number; got {value!r}.") from None

    def pooled(self, strength, temperature):
        return self._one(self.targets[0], strength, temperature)

    def per_fold(self, strength, temperature):
        return np.array([self._one(t, strength, temperature) for t in self.targets[1:]])


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

    def _check_cv(self, y=None, frozen=False):
        return _check_tail_safe_cv(self.cv, y, random_state=self.random_state, frozen=frozen)

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
        fit_params, split_params, score_params = _route_fit_params(
            self, scorer, sample_weight, params)

        cv = self._check_cv(y, frozen=frozen)
        splits = list(cv.split(X, y, **split_params))  # materialised once
        if not self.refit and not frozen and len(splits) > 1:
            raise ValueError(
                "refit=False needs a single split (e.g. cv=0.25), whose training part gives "
                f"the final model; cv gives {len(splits)} splits."
            )
        held_out = _held_out_scores(self._make_corrector(), X, y, splits,
                                    fit_params=fit_params, n_jobs=self.n_jobs,
                                    keep_estimators=not self.refit and not frozen)
        grid_scorer = _GridScorer(estimator, held_out, X, y, score_params, scorer)
        if frozen:
            final = held_out.final
        elif self.refit:
            final = self._make_corrector().fit(X, y, **fit_params)
        else:
            final = held_out.estimators[0]

        n_values = len(grid)
        scores = np.full((len(splits), n_values), np.nan)

        def objective(i):
            scores[:, i] = grid_scorer.per_fold(*settings[i])
            if np.isnan(scores[:, i]).any():
                raise ValueError(
                    f"The scorer returned NaN for {self._param_name}={grid[i]!r} on a held-out "
                    "fold; use a scorer that is defined on every fold."
                )
            return scores[:, i].mean()

        if self.search == "grid":
            for i in range(n_values):
                objective(i)
            mean = scores.mean(axis=0)
            best = int(np.argmax(mean))
            n_evaluations = n_values
        else:
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
