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

Built for the extreme tail of a long-tailed training set (a class with one to
three samples): the default folds are
:class:`~sklt.model_selection.TailSafeStratifiedKFold` (every training fold holds
every class); each value is scored once on all folds' held-out predictions
pooled (:class:`_HeldOutScores`); the default range is extended while the best
score is on its upper edge; near-ties are resolved on the plateau of values
within one paired standard error of the best (:func:`_choose`). For the balanced
scorers the default choice is the calibrated strength (:func:`_calibrated_strength`):
the strength that is best for the held-out posteriors once recalibrated, estimated
from every held-out row rather than read off a step-like score.

``search="peak"`` implements the O(log N) peak search over the sorted grid that
Tian et al. (2020, §3.2.3) describe for the (empirically unimodal) validation
score; see :func:`_peak_search` for the rule used on the plateaus of step-like
scores.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import check_scoring
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed

from ._compat import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    _check_method_params,
    _fit_context,
    _num_samples,
    _safe_indexing,
    routing_enabled,
)
from ._utils import _as_numeric_array, _encode
from .adjust import adjust_logits
from .metrics import get_scorer
from .model_selection import _check_tail_safe_cv, _materialise_splits
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

#: Most values a grid given as a number may have (each value is one pass over the held-out
#: scores; 10**6 of them ran for minutes). An explicit array is used as given.
_MAX_GRID_VALUES = 100_000

#: Default range of the correction strength when the grid is given as a number of values.
_DEFAULT_RANGE = (0.0, 2.0)
#: Largest strength the automatic range extension reaches (five times the default range).
_MAX_STRENGTH = 10.0
#: The theory value of the strength: ``tau = lam = 1`` is the Bayes rule for a calibrated
#: model (Menon et al. 2021, eq. 9; Tian et al. 2020, eq. 5); near-ties go to the value
#: closest to it.
_REFERENCE_STRENGTH = 1.0

#: Scorers whose optimum the calibrated strength estimates (balanced error under a
#: uniform target prior); ``selection="auto"`` uses it for them.
_BALANCED_SCORERS = frozenset({"balanced_accuracy", "neg_balanced_error"})


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


# --------------------------------------------------------------------------- choice
def _standard_error(fold_scores):
    """Standard error of a mean over folds: ``std(ddof=1) / sqrt(n)`` of the finite scores."""
    finite = np.asarray(fold_scores, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size < 2:
        return 0.0
    return float(finite.std(ddof=1) / np.sqrt(finite.size))


def _tie_tolerance(fold_scores, top, i, tie_rule):
    """How far below the best score value ``i`` may score and still be tied with it.

    ``"se"``: one standard error of the *paired* per-fold difference between the
    best value and this one, ``std_f(s_f(top) - s_f(i), ddof=1) / sqrt(n_f)``
    over the folds where both are finite (0 with fewer than two): folds that
    are hard for every value (a rare class with one held-out sample) cancel
    out, so a value is tied only if the folds do not agree that it is worse.
    ``"se_unpaired"`` (for the benchmarks' ablation): the standard error of the
    best value's per-fold scores. A number: itself.
    """
    if not isinstance(tie_rule, str):
        return float(tie_rule)
    if tie_rule == "se_unpaired":
        return _standard_error(fold_scores[:, top])
    return _standard_error(fold_scores[:, top] - fold_scores[:, i])


def _choose(values, score, tolerance_of, tie_rule, tie_break="middle",
            reference=_REFERENCE_STRENGTH):
    """The grid index a tuner picks, by the tie rule, among the finite scores.

    ``tie_rule=None``: the best score, the smallest value on an exact tie (the
    choice of :class:`~sklearn.model_selection.GridSearchCV`). Otherwise the
    *plateau* of the best score is the contiguous run of grid values around it
    whose scores are below the best by at most their tolerance
    (``tolerance_of(i)``), and ``tie_break`` picks one of them: ``"middle"``,
    the value nearest the middle of the plateau's range, or ``"closest_to_one"``,
    the value closest to ``reference`` (on equal distances, the smaller value).

    Parameters
    ----------
    values : ndarray of shape (n_values,)
        Sorted grid.
    score : ndarray of shape (n_values,)
        The score to maximise; NaN for values not scored or not selectable.
    tolerance_of : callable
        ``tolerance_of(i)``: the tolerance of value ``i`` (evaluated lazily,
        only along the plateau and at its two ends).
    tie_rule : "se", float or None
        ``None`` disables the plateau (see above).
    tie_break : {"middle", "closest_to_one"}
        See above.
    reference : float
        The value ``"closest_to_one"`` prefers.

    Returns
    -------
    chosen : int
        Index of the chosen value.
    top : int
        Index of the best score (first on ties).
    tolerance : ndarray of shape (n_values,)
        The tolerance of each value examined (NaN elsewhere).
    tied : ndarray of bool of shape (n_values,)
        The plateau.
    """
    n = len(values)
    finite = np.isfinite(score)
    top_score = score[finite].max()
    top = int(np.flatnonzero(finite & (score == top_score))[0])
    tolerance = np.full(n, np.nan)
    if tie_rule is None:
        return top, top, np.zeros(n), finite & (score == top_score)
    # a relative epsilon keeps exact ties tied across floating-point paths
    eps = 1e-12 * max(1.0, abs(top_score))

    def tied_with_top(i):
        if not finite[i]:
            return False
        tolerance[i] = tolerance_of(i)
        return score[i] >= top_score - tolerance[i] - eps

    tolerance[top] = 0.0
    lo = hi = top
    while lo > 0 and tied_with_top(lo - 1):
        lo -= 1
    while hi < n - 1 and tied_with_top(hi + 1):
        hi += 1
    plateau = np.arange(lo, hi + 1)
    if tie_break == "middle":
        target = 0.5 * (values[lo] + values[hi])
    else:
        target = reference
    chosen = int(plateau[np.argmin(np.abs(values[plateau] - target))])  # first: the smaller
    tied = np.zeros(n, dtype=bool)
    tied[plateau] = True
    return chosen, top, tolerance, tied


#: Weight of the uniform component of the recalibrated posterior
#: ``(1 - eps) q + eps / K`` in the fit of :func:`_calibrated_strength`: a held-out row
#: whose label the model rules out (probability 0 or astronomically small, as k-NN or
#: naive Bayes give) costs at most ``log(K / eps)``. No strength can make such a row
#: correct, so it should not set the temperature of every other row.
_CALIBRATION_EPS = 0.05
#: Strength of the Gaussian prior on the slope ``r`` of the class-dependent temperature:
#: the penalty ``_SLOPE_PRIOR * r ** 2`` is added to the log-loss summed over the
#: effective number of held-out rows (a prior with standard deviation ``1 / sqrt(2)``,
#: which pulls ``r`` towards 0 when only a few held-out rows say otherwise).
_SLOPE_PRIOR = 1.0
#: Lattice (in units of the strength applied to the raw log-scores) on which the expected
#: score of the recalibrated posteriors is maximised: coarse, then refined around the best.
_CALIBRATION_STEP, _CALIBRATION_FINE = 0.1, 0.01


def _recalibration_fit(z, delta, ell, codes, weight, n_classes, slope, start=(1.0, 1.0)):
    """Fit ``q = softmax(a (1 + r ell) z + b delta)`` (``r = 0`` unless ``slope``) by the
    weighted log-loss of the eps-mixture ``(1 - eps) q + eps / K``.

    Returns ``(a, r, b, q)``; ``z``, ``delta`` and ``ell`` are already scaled to unit
    spread. Started at ``(a, r, b) = (start[0], 0, start[1])`` (for the slope fit: the
    fit without it).
    """
    eps = _CALIBRATION_EPS
    rows = np.arange(len(codes))
    zl = z * ell
    n_eff = 1.0 / np.sum(weight**2)  # weights sum to 1
    penalty = _SLOPE_PRIOR / n_eff

    def posteriors(theta):
        a, r, b = theta
        return softmax(a * z + (a * r) * zl + b * delta, axis=1)

    def loss_and_grad(theta):
        a, r, b = theta
        q = posteriors(theta)
        q_true = q[rows, codes]
        p_true = (1 - eps) * q_true + eps / n_classes
        # d log p_true / d s_k = g (1[k = y] - q_k), g = (1 - eps) q_y / p_true
        wg = weight * ((1 - eps) * q_true / p_true)

        def grad(f):
            return wg @ (np.einsum("ij,ij->i", q, f) - f[rows, codes])

        g_z, g_zl, g_d = grad(z), grad(zl), grad(delta)
        loss = -(weight @ np.log(p_true)) + penalty * r * r
        return loss, np.array([g_z + r * g_zl, a * g_zl + 2 * penalty * r, g_d])

    bounds = [(0.0, None), (-1.0, 1.0) if slope else (0.0, 0.0), (None, None)]
    result = minimize(loss_and_grad, np.array([start[0], 0.0, start[1]]), jac=True,
                      method="L-BFGS-B", bounds=bounds, options={"maxiter": 200})
    a, r, b = result.x
    return a, r, b, posteriors(result.x)


def _calibrated_strength(held, y, temperature=1.0, sample_weight=None):
    """The strength that is Bayes-optimal for the held-out scores once recalibrated.

    The held-out log-scores ``z`` (as log-probabilities: a probability of 0 stays
    impossible) are recalibrated twice, by the log-loss under the target prior (each
    row weighted by ``p_t(y_i) / n_{y_i}``, ``n_c``: held-out rows, or their
    ``sample_weight``, of class ``c``: the proper counterpart of a balanced score),
    with ``Δ = log p_t - log p_s`` of each row's fold:

    1. ``q = softmax(a z + b Δ)``: one inverse temperature ``a`` for every class and
       the prior shift ``b`` the held-out labels support. Its Bayes decision under
       ``p_t``, ``argmax a z + b Δ = argmax z / T + (b / (a T)) Δ``, is the strength
       ``b / (a T)`` at the tuner's temperature ``T`` (1 for a calibrated model).
    2. ``q = softmax(a (1 + r ℓ_k) z_k + b Δ_k)`` with ``ℓ_k`` the log source prior of
       class ``k`` (centred, scaled to ``[-1, 1]``): the temperature may depend on how
       frequent the class was in training. A network trained to near-zero loss on a
       long-tailed set gives its rare classes' scores less information than its
       frequent ones' (measured per class on MNIST-1D-LT and Digits-LT networks), so
       fit 1 trusts a rare class's score too much and asks for too strong a
       correction. Its Bayes decision is no longer a strength; the strength is the
       one whose decisions maximise the recall the recalibrated posteriors expect,
       ``Σ_k p_t(k) E[q_k 1(pred = k)] / E[q_k]`` over the reweighted held-out rows
       (the balanced accuracy for a uniform ``p_t``), on a lattice of step 0.1 refined
       to 0.01.

    Both fits use the mixture ``(1 - eps) q + eps / K`` (``eps = 0.05``): a row whose
    label the model rules out (probability 0 from k-NN or a tree, a naive Bayes
    log-odds of hundreds) costs at most ``log(K / eps)`` instead of setting the
    temperature of every other row. The slope ``r`` (``|r| <= 1``: no temperature is
    negative) has a Gaussian prior of standard deviation ``1 / sqrt(2)``
    (``_SLOPE_PRIOR``), so a few held-out samples of each rare class do not decide it.
    The strength returned is fit 2's, but never below ``min(1, fit 1's)``: with one or
    two held-out samples of each rare class fit 2 can read their scores as worthless
    and ask for no correction at all; the correction is then kept at the theory value
    (or at fit 1's, if that is weaker: an under-confident model). The loss is
    minimised by L-BFGS on scores scaled to unit spread, so the result does not depend
    on the scale of the scores.

    Parameters
    ----------
    held : _HeldOutScores
        Stored held-out log-scores and each fold's priors.
    y : ndarray of shape (n_held_out,)
        Label of each held-out row.
    temperature : float, default=1.0
        The tuner's fixed temperature ``T``.
    sample_weight : ndarray of shape (n_held_out,), default=None
        Weights of the held-out rows.

    Returns
    -------
    strength : float
        The strength above, or NaN where it is undefined: the strength changes no
        score (``Δ = 0``, e.g. ``target_prior="auto"``), fewer than two classes are
        held out, or the fit finds no information in the scores (``a = 0``).
    """
    classes = held.classes
    y = np.asarray(y)
    codes, known = _encode(y, classes, return_found=True)  # classes_ in any order
    with np.errstate(divide="ignore"):
        log_target = np.log(held.target_priors)
        log_source = np.log(held.source_priors)
    delta = (log_target - log_source)[held.fold]
    # classes the target prior rules out (p_t = 0) are never predicted: leave them out
    allowed = np.all(np.isfinite(log_target), axis=0)
    codes = np.where(known, codes, 0)
    keep = known & allowed[codes]
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    keep &= weight > 0
    if not keep.any():
        return np.nan
    z = np.asarray(held.log_scores, dtype=np.float64)[keep][:, allowed]
    delta = delta[keep][:, allowed]
    ell = log_source[held.fold[keep]][:, allowed]
    target = held.target_priors[held.fold[keep]][:, allowed]
    remap = np.cumsum(allowed) - 1
    codes = remap[codes[keep]]
    weight = weight[keep]
    n_rows, n_classes = z.shape
    totals = np.bincount(codes, weights=weight, minlength=n_classes)
    if np.count_nonzero(totals) < 2 or n_classes < 2:
        return np.nan
    rows = np.arange(n_rows)
    weight = weight * target[rows, codes] / totals[codes]
    weight /= weight.sum()
    # log-probabilities (softmax-invariant): a zero probability (-inf) is floored at
    # log(tiny), where no strength in range moves it, as in the tuners' decisions
    floor = np.log(np.finfo(np.float64).tiny)
    if np.isnan(z).any() or np.isposinf(z).any():
        return np.nan
    z = np.maximum(z, floor)
    z = np.maximum(z - logsumexp(z, axis=1, keepdims=True), floor)
    delta = delta - delta.mean(axis=1, keepdims=True)
    ell = ell - ell.mean(axis=1, keepdims=True)
    # scale the inputs to unit spread (the fit is the same at any scale; this conditions
    # L-BFGS): the mean magnitude of the log-probabilities, which a few astronomically
    # small ones (naive Bayes) do not dominate as the maximum would
    informative = z > floor / 2
    z_scale = np.abs(z[informative]).mean() if informative.any() else 0.0
    delta_scale = np.abs(delta).max()
    if not (z_scale > 0 and delta_scale > 0):
        return np.nan
    ell_scale = np.abs(ell).max()
    ell = ell / ell_scale if ell_scale > 0 else np.zeros_like(ell)
    zn, dn = z / z_scale, delta / delta_scale
    a, _, b, _ = _recalibration_fit(zn, dn, ell, codes, weight, n_classes, slope=False)
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 1e-12:
        return np.nan
    single = (b / delta_scale) / (a / z_scale)  # strength on z (temperature 1)
    a3, r3, b3, q = _recalibration_fit(zn, dn, ell, codes, weight, n_classes, slope=True,
                                       start=(a, b))
    if r3 == 0.0 or not np.all(np.isfinite(q)):
        strength = single
    else:
        strength = _expected_recall_strength(z, delta, q, weight, target[0])
    strength = max(strength, min(1.0, single))
    return float(strength / temperature)


def _expected_recall_strength(z, delta, q, weight, target):
    """The strength ``u`` (on the raw log-scores) whose decisions ``argmax z + u Δ``
    maximise the recall that the posteriors ``q`` expect, weighted by ``target``:
    ``Σ_k p_t(k) [Σ_i w_i q_ik 1(pred_i = k)] / [Σ_i w_i q_ik]``. The first maximum on
    a lattice of step ``_CALIBRATION_STEP`` up to :data:`_MAX_STRENGTH`, refined to
    ``_CALIBRATION_FINE`` around it."""
    n_classes = z.shape[1]
    mass = q * weight[:, None]
    expected = mass.sum(axis=0)
    share = np.where(expected > 0, target / np.where(expected > 0, expected, 1.0), 0.0)
    # As u grows, a row's argmax moves along the upper envelope of the lines
    # z_k + u delta_k (slopes increasing) and never returns to a class it left: a row
    # predicted alike at both ends of the range is constant over it, and is left out.
    first = np.argmax(z, axis=1)
    moves = first != np.argmax(z + _MAX_STRENGTH * delta, axis=1)
    z, delta, mass = z[moves], delta[moves], mass[moves]
    rows = np.arange(len(z))

    def value(u):
        pred = np.argmax(z + u * delta, axis=1)
        return np.bincount(pred, weights=mass[rows, pred], minlength=n_classes) @ share

    coarse = np.round(np.arange(0.0, _MAX_STRENGTH + 1e-9, _CALIBRATION_STEP), 10)
    scores = np.array([value(u) for u in coarse])
    best = coarse[int(np.argmax(scores))]
    fine = np.round(np.arange(max(0.0, best - _CALIBRATION_STEP),
                              min(_MAX_STRENGTH, best + _CALIBRATION_STEP) + 1e-9,
                              _CALIBRATION_FINE), 10)
    scores = np.array([value(u) for u in fine])
    return float(fine[int(np.argmax(scores))])


def _scorer_name(scoring, scorer):
    if isinstance(scoring, str):
        return repr(scoring)
    if scoring is None:
        return "the estimator's score (accuracy)"
    return getattr(scoring, "__name__", None) or repr(scorer)


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
    if routing_enabled():
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
    # the classes first: an inner model fit on a fold without them fails in its own words
    missing = np.setdiff1d(classes, np.unique(np.asarray(_safe_indexing(y, train))))
    if missing.size:
        raise ValueError(
            f"A training fold lacks classes {_format_classes(missing)}: every class needs "
            "samples in every training fold. Use sklt.model_selection.TailSafeStratifiedKFold "
            "(the default cv) or another split whose training folds hold every class."
        )
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
        # the frozen model's classes; the validation labels may lack a rare one
        final = clone(corrector).fit(X, y, **fit_params)
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

    def __init__(self, estimator, held_out, X, y, score_params, scorer,
                 scorer_name="the scorer"):
        self.scorer = scorer
        self.scorer_name = scorer_name
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
        with warnings.catch_warnings():
            # A held-out fold without a rare class is expected under tail-safe splits
            # (and a class never held out is absent from every fold's labels).
            warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
            try:
                value = self.scorer(estimator, X, y, **params)
            except Exception as exc:  # noqa: BLE001 - re-raised with the scorer named
                raise ValueError(
                    f"scoring: the scorer {self.scorer_name} failed on the held-out adjusted "
                    "predictions "
                    f"({type(exc).__name__}: {exc}). Choose a scorer that applies to this "
                    "problem (e.g. 'balanced_accuracy'; multiclass ROC AUC is 'roc_auc_ovr')."
                ) from exc
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"The scorer must return a single number; got {value!r}.") from None

    def pooled(self, strength, temperature):
        return self._one(self.targets[0], strength, temperature)

    def per_fold(self, strength, temperature):
        return np.array([self._one(t, strength, temperature) for t in self.targets[1:]])


class _Choice:
    def __init__(self, index, top, tolerance, tied):
        self.index = index
        self.top = top
        self.tolerance = tolerance
        self.tied = tied


class _StrengthCurve:
    """The score of a tuner's grid values, evaluated lazily and extended on demand.

    Holds, for every grid value scored so far, the pooled held-out score and the
    per-fold scores; ``score`` is the one the choice maximises (pooled, or the
    mean over folds). ``search`` scores the grid (all of it, or the values a
    peak search visits) and, for the default range, extends it upwards while the
    best score sits on its upper edge (up to :data:`_MAX_STRENGTH`).
    """

    def __init__(self, grid_scorer, settings, pooled=True, all_folds=True):
        self.grid_scorer = grid_scorer
        self.settings = settings
        self.pooled = pooled
        # per-fold scores of every value (for cv_results_ and cv_score="mean"), or only
        # where the choice needs them (the paired standard errors along the plateau)
        self.store = all_folds  # every score of every value, for cv_results_
        self.all_folds = all_folds or not pooled
        self.capped = False  # the extension reached _MAX_STRENGTH with the best on the edge
        n_splits = len(grid_scorer.targets) - 1
        self.values = np.empty(0)
        self.pooled_score = np.empty(0)
        self.fold_scores = np.empty((n_splits, 0))
        self.evaluated = np.empty(0, dtype=bool)
        self.folds_evaluated = np.empty(0, dtype=bool)
        self.extended = np.empty(0, dtype=bool)

    # -- data ----------------------------------------------------------------------
    def _append(self, values, extended):
        n = len(values)
        self.values = np.concatenate([self.values, values])
        self.pooled_score = np.concatenate([self.pooled_score, np.full(n, np.nan)])
        self.fold_scores = np.hstack([self.fold_scores,
                                      np.full((self.fold_scores.shape[0], n), np.nan)])
        self.evaluated = np.concatenate([self.evaluated, np.zeros(n, dtype=bool)])
        self.folds_evaluated = np.concatenate([self.folds_evaluated, np.zeros(n, dtype=bool)])
        self.extended = np.concatenate([self.extended, np.full(n, extended)])

    @property
    def mean_score(self):
        with np.errstate(invalid="ignore"):
            return self.fold_scores.mean(axis=0)

    @property
    def std_score(self):
        with np.errstate(invalid="ignore"):
            return self.fold_scores.std(axis=0)

    @property
    def score(self):
        return self.pooled_score if self.pooled else self.mean_score

    def _evaluate_folds(self, i):
        if not self.folds_evaluated[i]:
            self.fold_scores[:, i] = self.grid_scorer.per_fold(*self.settings(self.values[i]))
            self.folds_evaluated[i] = True

    def _evaluate(self, i):
        if not self.evaluated[i]:
            if self.pooled or self.store:
                self.pooled_score[i] = self.grid_scorer.pooled(*self.settings(self.values[i]))
            if self.all_folds:
                self._evaluate_folds(i)
            self.evaluated[i] = True
        value = self.score[i]
        return value if np.isfinite(value) else -np.inf  # NaN is never the best

    # -- search --------------------------------------------------------------------
    def search(self, grid, method, extend):
        self._append(grid, extended=False)
        step = grid[1] - grid[0] if len(grid) > 1 else 0.0
        block = len(grid) - 1
        while True:
            if method == "grid":
                for i in range(len(self.values)):
                    self._evaluate(i)
            else:
                _peak_search(self._evaluate, len(self.values))
            if not (extend and step > 0 and self._top_at_upper_edge()):
                return
            if self.values[-1] >= _MAX_STRENGTH - 1e-9:
                self.capped = True
                return
            new = np.round(self.values[-1] + step * np.arange(1, block + 1), 12)
            new = new[new <= _MAX_STRENGTH + 1e-9]
            self._append(new, extended=True)

    def index_of(self, value, step):
        """Index of the grid value nearest ``value``; on the default lattice (``step``
        > 0) the range is first extended to reach ``value`` (up to the cap)."""
        value = float(np.clip(value, 0.0, _MAX_STRENGTH))
        if step > 0 and value > self.values[-1] + step / 2:
            count = int(np.floor((value - self.values[-1]) / step + 0.5))
            new = np.round(self.values[-1] + step * np.arange(1, count + 1), 12)
            new = new[new <= _MAX_STRENGTH + 1e-9]
            if new.size:
                self._append(new, extended=True)
        index = int(np.argmin(np.abs(self.values - value)))  # first: the smaller on ties
        self._evaluate(index)
        return index

    def _top_at_upper_edge(self):
        score = np.where(self.evaluated, self.score, np.nan)
        finite = np.isfinite(score)
        if not finite[-1] or finite.sum() < 2:
            return False
        # A score flat over the whole range also extends it: a very over-confident model
        # needs strengths beyond the range before any prediction changes.
        return score[-1] == score[finite].max()

    # -- choice --------------------------------------------------------------------
    def choose(self, tie_rule, tie_break="middle", *, name, scorer_name, user_grid,
               grid_name=None,
               default_hint="pass a number of values: the default range is extended "
               "automatically"):
        """Apply the tie rule; warn about NaN scores, constant scores and edges."""
        grid_name = name + "s" if grid_name is None else grid_name
        score = np.where(self.evaluated, self.score, np.nan)
        failed = self.evaluated & ~np.isfinite(score)
        if not np.isfinite(score).any():
            raise ValueError(
                f"The scorer {scorer_name} returned NaN (or an infinite value) for every "
                f"value of {grid_name} on the held-out data; use a scorer that is defined on "
                "these folds."
            )
        if failed.any():
            warnings.warn(
                f"The scorer {scorer_name} returned NaN or infinite scores for {name} in "
                f"{_format_values(self.values[failed])}; these values are left out of the "
                "choice.",
                UserWarning,
                stacklevel=4,
            )
        finite = np.isfinite(score)
        scale = max(1.0, np.abs(score[finite]).max())
        if finite.sum() > 1 and np.ptp(score[finite]) <= 1e-12 * scale:
            warnings.warn(
                f"The score {scorer_name} is the same for every value of {grid_name} "
                f"({self.values[finite][0]:g} to {self.values[finite][-1]:g}): either the "
                "scorer does not depend on the correction strength (a prior shift leaves a "
                "ranking score such as 'roc_auc' unchanged: tune with a decision score such as "
                "'balanced_accuracy') or no prediction changes over this grid. "
                f"{name} = the value closest to {_REFERENCE_STRENGTH:g} is kept.",
                UserWarning,
                stacklevel=4,
            )
            index, top, tolerance, tied = _choose(self.values, score, lambda i: np.inf,
                                                  np.inf, "closest_to_one")
            return _Choice(index, top, np.zeros(len(score)), tied)

        top_index = int(np.flatnonzero(score == np.nanmax(score))[0])

        def tolerance_of(i):  # per-fold scores only where the plateau needs them
            if isinstance(tie_rule, str):
                self._evaluate_folds(top_index)
                self._evaluate_folds(i)
            return _tie_tolerance(self.fold_scores, top_index, i, tie_rule)

        index, top, tolerance, tied = _choose(self.values, score, tolerance_of, tie_rule,
                                              tie_break)
        top_score = score[top]
        if self.capped and not user_grid:
            warnings.warn(
                f"The score still rises at {name} = {self.values[-1]:g}, the largest value the "
                f"automatic range reaches; pass a wider grid as {grid_name} to search beyond it.",
                UserWarning,
                stacklevel=4,
            )
        if user_grid and finite.sum() > 1:
            if finite[-1] and score[-1] == top_score:
                warnings.warn(
                    f"The best score is at the largest value of {grid_name} "
                    f"({self.values[-1]:g}): the score may keep rising beyond it. Extend "
                    f"{grid_name} (or {default_hint}).",
                    UserWarning,
                    stacklevel=4,
                )
            if self.values[0] > 0 and finite[0] and score[0] == top_score:
                warnings.warn(
                    f"The best score is at the smallest value of {grid_name} "
                    f"({self.values[0]:g}): smaller values may score better. Extend "
                    f"{grid_name} towards 0.",
                    UserWarning,
                    stacklevel=4,
                )
        return _Choice(index, top, tolerance, tied)


def _format_values(values, limit=8):
    shown = ", ".join(f"{v:g}" for v in values[:limit])
    return "[" + shown + (", ...]" if len(values) > limit else "]")


def _tune_strength(held_out, estimator, X, y, scorer, *, grid, extend=False,
                   settings=lambda value: (float(value), 1.0), cv_score="pooled",
                   tie_rule="se", tie_break="middle", search="grid", score_params=None,
                   all_folds=False, selection="score",
                   name="tau", scorer_name="the scorer"):
    """Choose a correction strength on stored held-out scores: the tuners' whole rule.

    Scores ``grid`` (all of it, or a peak search) on the held-out log-scores of
    :func:`_held_out_scores` without any refit, extends the range while the
    best score is on its upper edge when ``extend``, and applies ``tie_rule``,
    with the tuners' warnings. ``settings`` maps a grid value to the
    ``(strength, temperature)`` of :func:`~sklt.adjust.adjust_logits`.

    Returns
    -------
    curve : _StrengthCurve
        Grid (extension included), pooled and per-fold scores.
    choice : _Choice
        ``index`` (chosen), ``top`` (best score), ``tolerance``, ``tied``.
    """
    if isinstance(tie_rule, (bool, np.bool_)):  # a bool is no tolerance (True would be 1.0)
        raise ValueError(f"tie_rule must be 'se', a number >= 0 or None; got {tie_rule!r}.")
    grid_scorer = _GridScorer(estimator, held_out, X, y, score_params or {}, scorer,
                              scorer_name)
    curve = _StrengthCurve(grid_scorer, settings, pooled=cv_score == "pooled",
                           all_folds=all_folds)
    grid = np.asarray(grid, dtype=float)
    curve.search(grid, search, extend=extend)
    curve.calibrated = np.nan
    if selection == "calibrated":
        rows = held_out.indices
        weight = (score_params or {}).get("sample_weight")
        curve.calibrated = _calibrated_strength(
            held_out, np.asarray(_safe_indexing(y, rows)), temperature=settings(1.0)[1],
            sample_weight=None if weight is None else np.asarray(_safe_indexing(weight, rows)),
        )
        if np.isfinite(curve.calibrated):
            step = grid[1] - grid[0] if extend and len(grid) > 1 else 0.0
            index = curve.index_of(curve.calibrated, step)
            score = np.where(curve.evaluated, curve.score, np.nan)
            top = int(np.nanargmax(score)) if np.isfinite(score).any() else index
            tied = np.zeros(len(curve.values), dtype=bool)
            tied[index] = True
            return curve, _Choice(index, top, np.full(len(curve.values), np.nan), tied)
    choice = curve.choose(tie_rule, tie_break, name=name, scorer_name=scorer_name,
                          user_grid=not extend)
    return curve, choice


# --------------------------------------------------------------------------- estimators
def _cv_routing(owner):
    """Routing of a cross-validated meta-estimator: ``fit`` to the inner ``fit``, the
    splitter's ``split`` and the scorer's ``score``."""
    return (
        MetadataRouter(owner=owner)
        .add_self_request(owner)
        .add(
            estimator=owner._get_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        .add(
            splitter=owner._check_cv(),
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        .add(
            scorer=owner._get_scorer(),
            method_mapping=MethodMapping().add(caller="fit", callee="score"),
        )
    )


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
        "cv_score": [StrOptions({"pooled", "mean"})],
        "tie_rule": [StrOptions({"se"}), Interval(Real, 0, None, closed="left"), None],
        "tie_break": [StrOptions({"middle", "closest_to_one"})],
        "selection": [StrOptions({"auto", "calibrated", "score"})],
        "scoring": [str, callable, None],
        "cv": ["cv_object", Interval(RealNotInt, 0.0, 1.0, closed="neither")],
        "refit": ["boolean"],
        "n_jobs": [Interval(Integral, None, 2**31 - 1, closed="right"), None],
        "random_state": ["random_state"],
        "store_cv_results": ["boolean"],
        "source_prior": _PRIOR_CONSTRAINT,
        "target_prior": _PRIOR_CONSTRAINT,
    }

    # -- helpers -------------------------------------------------------------------
    def _grid(self):
        """The sorted grid, and whether it is the default range (which may be extended)."""
        grid = getattr(self, self._grid_name)
        name = self._grid_name
        if isinstance(grid, Integral) and not isinstance(grid, bool):
            if grid < 2:
                raise ValueError(f"{name} as a number of values must be at least 2; got {grid}.")
            return np.linspace(*_DEFAULT_RANGE, num=int(grid)), True
        try:
            values = _as_numeric_array(grid, name)  # no numeric strings, no complex numbers
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
        return np.unique(values), False

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

    def _selection(self):
        """``selection`` with ``"auto"`` resolved: ``"calibrated"`` for the balanced scorers
        under a uniform target prior (the calibrated strength is the Bayes rule for the
        balanced error), ``"score"`` otherwise."""
        if self.selection != "auto":
            return self.selection
        balanced = isinstance(self.scoring, str) and self.scoring in _BALANCED_SCORERS
        uniform = self.target_prior is None or (
            isinstance(self.target_prior, str) and self.target_prior == "uniform")
        return "calibrated" if balanced and uniform else "score"

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
        if _num_samples(X) == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={getattr(X, 'shape', (0,))}) while "
                f"{type(self).__name__} needs samples of at least two classes."
            )
        grid, default_grid = self._grid()
        scorer = self._get_scorer()
        estimator = self._get_estimator()
        frozen = isinstance(estimator, FrozenEstimator)
        fit_params, split_params, score_params = _route_fit_params(
            self, scorer, sample_weight, params)

        cv = self._check_cv(y, frozen=frozen)
        splits = _materialise_splits(cv, X, y, _num_samples(X), **split_params)
        if not self.refit and not frozen and len(splits) > 1:
            raise ValueError(
                "refit=False needs a single split (e.g. cv=0.25), whose training part gives "
                f"the final model; cv gives {len(splits)} splits."
            )
        held_out = _held_out_scores(self._make_corrector(), X, y, splits,
                                    fit_params=fit_params, n_jobs=self.n_jobs,
                                    keep_estimators=not self.refit and not frozen)
        curve, choice = _tune_strength(
            held_out, estimator, X, y, scorer, grid=grid, extend=default_grid,
            settings=self._settings, cv_score=self.cv_score, tie_rule=self.tie_rule,
            tie_break=self.tie_break, selection=self._selection(),
            search=self.search, score_params=score_params, all_folds=self.store_cv_results,
            name=self._param_name, scorer_name=_scorer_name(self.scoring, scorer),
        )
        if frozen:
            final = held_out.final
        elif self.refit:
            final = self._make_corrector().fit(X, y, **fit_params)
        else:
            final = held_out.estimators[0]

        for attr in ("estimator_", "classes_", "n_features_in_", "feature_names_in_",
                     "source_prior_", "target_prior_"):
            if hasattr(final, attr):
                setattr(self, attr, getattr(final, attr))
        setattr(self, f"best_{self._param_name}_", float(curve.values[choice.index]))
        setattr(self, self._grid_name + "_", curve.values.copy())
        self.best_score_ = float(curve.score[choice.index])
        self.selection_ = "calibrated" if np.isfinite(curve.calibrated) else "score"
        setattr(self, f"calibrated_{self._param_name}_", float(curve.calibrated))
        self.range_extended_ = bool(curve.extended.any())
        self.n_evaluations_ = int(curve.evaluated.sum())
        if self.store_cv_results:
            self.cv_results_ = {
                self._grid_name: curve.values,
                "scores": curve.fold_scores,
                "mean_score": curve.mean_score,
                "std_score": curve.std_score,
                "pooled_score": curve.pooled_score,
                "score": curve.score,
                "tied": choice.tied,
                "extended": curve.extended,
                "tolerance": choice.tolerance,
                "n_evaluations": self.n_evaluations_,
            }
        return self

    def get_metadata_routing(self):
        """Metadata routing: to the inner ``fit``, the splitter and the scorer.

        Returns
        -------
        routing : MetadataRouter
            Routing information.
        """
        return _cv_routing(self)


_COMMON_PARAMS_DOC = """
    search : {"grid", "peak"}, default="grid"
        ``"grid"`` scores every value (one vectorised pass over the held-out
        log-scores per value and fold); ``"peak"`` runs the O(log N) peak search
        of Tian et al. (2020, §3.2.3) over the sorted grid, which assumes a
        unimodal score (see the user guide for its rule on plateaus).
    cv_score : {"pooled", "mean"}, default="pooled"
        How a value is scored. ``"pooled"``: once, on the held-out predictions
        of all folds together (as :func:`~sklearn.model_selection.cross_val_predict`
        would stack them), so a class with three samples contributes three
        samples to one score instead of zero or one to each fold's.
        ``"mean"``: the mean of the per-fold scores, as
        :class:`~sklearn.model_selection.GridSearchCV` scores. Both are kept
        in ``cv_results_``.
    tie_rule : "se", float or None, default="se"
        Stable choice among near-ties. The *plateau* of the best score is the
        contiguous run of grid values around it whose scores are below the best
        by at most a tolerance, and ``tie_break`` picks one of them. ``"se"``:
        the tolerance of a value is one standard error of its difference to
        the best, estimated from the paired per-fold scores
        (``std(s_f(best) - s_f(value), ddof=1) / sqrt(n_splits)``; 0 with a
        single split), so a value is kept only if the folds do not agree that
        it is worse. A number: that tolerance for every value. ``None``: no
        plateau; the best score, the smallest value on an exact tie
        (GridSearchCV's choice).
    tie_break : {"middle", "closest_to_one"}, default="middle"
        The value chosen on the plateau: ``"middle"``, the one nearest the
        middle of its range (a stable estimate of where the near-best values
        lie); ``"closest_to_one"``, the one closest to 1, the Bayes rule for a
        calibrated model (conservative: it gives up gains when the model is
        over-confident, where the best strength is above 1).
    selection : {"auto", "calibrated", "score"}, default="auto"
        How the strength is chosen from the held-out log-scores.
        ``"score"``: the grid value that maximises ``scoring`` (pooled or mean,
        as ``cv_score``), with ``tie_rule`` and ``tie_break`` on near-ties.
        ``"calibrated"``: the strength that is best for the recalibrated
        held-out posteriors, estimated from every held-out row rather than read
        off a step-like score (the one or two samples of a rare class decide
        little). The pooled held-out log-scores ``z`` are recalibrated by the
        log-loss, each row weighted by ``p_t(y) / n_y``, with ``Δ = log p_t -
        log p_s`` of each row's fold: first ``softmax(a z + b Δ)``, whose Bayes
        decision under ``p_t`` is the strength ``b / (a T)`` (1 for a calibrated
        model); then ``softmax(a (1 + r ℓ_k) z_k + b Δ_k)``, whose temperature
        may vary with the class's log training prior ``ℓ_k`` (networks give their
        rare classes' scores less information), and the strength is the one
        whose decisions maximise the balanced recall these posteriors expect.
        Both fits mix ``q`` with 5 % of the uniform distribution (a row whose
        label the model rules out, as k-NN and naive Bayes do, cannot set the
        temperature), and ``r`` has a weak Gaussian prior. The strength is
        never below ``min(1, b / (a T))``. The chosen value is the grid value
        nearest it (the default range is extended to reach it, up to 10);
        where it is undefined (``Δ = 0``, fewer than two classes held out) the
        ``"score"`` rule is used. ``"auto"``: ``"calibrated"`` when ``scoring``
        is ``"balanced_accuracy"`` or ``"neg_balanced_error"`` and
        ``target_prior="uniform"``, else ``"score"``. Measured in
        ``benchmarks/bench_tuning_quality.py`` (see the user guide, "The
        calibrated strength", and the benchmark report): against the
        one-temperature fit it replaced, it no longer overshoots on networks
        trained to near-zero loss and no longer fails on k-NN and naive Bayes;
        it still falls short of the test-set optimum, and with a validation set
        of a few dozen rows it can give up part of the gain; check a choice
        with :meth:`~sklt.plotting.AdjustmentCurveDisplay.from_tuner`.
    scoring : str, callable or None, default="balanced_accuracy"
        Objective to maximise: a scorer name (sklt's, e.g.
        ``"neg_balanced_error"`` or ``"geometric_mean"``, or scikit-learn's; see
        :func:`sklt.metrics.get_scorer`), a callable ``scorer(estimator, X, y)``,
        or ``None`` for the estimator's ``score`` (accuracy). A score that is the
        same for every value (e.g. ``"roc_auc"``, which a prior shift does not
        change) is a warning naming the scorer, and the value closest to 1 is
        kept. Values whose score is NaN are left out of the choice with a
        warning; NaN for every value is an error.
    cv : int, float, cross-validation generator or iterable, default=5
        Splitting strategy: an int is a number of tail-safe stratified folds
        (:class:`~sklt.model_selection.TailSafeStratifiedKFold`: every training
        fold holds every class, a class with one sample is never held out, the
        samples of other rare classes are each held out once), a float in
        ``(0, 1)`` one tail-safe stratified validation split of that fraction,
        or any scikit-learn splitter / iterable of ``(train, test)`` indices
        (every training fold must then hold every class). With a
        :class:`~sklearn.frozen.FrozenEstimator`, nothing is fit: each split
        only scores its validation part, and an int gives stratified folds
        that hold out every sample once (this replaces the ``cv="prefit"`` of
        older scikit-learn meta-estimators).
    refit : bool, default=True
        Refit the inner model on all the data once the best value is found.
        ``refit=False`` needs a single split and keeps the model fit on its
        training part. Ignored for a frozen inner model, which is never refit.
    n_jobs : int, default=None
        Folds are fit in parallel with joblib (use
        ``joblib.parallel_config(backend="dask")`` for a Dask cluster).
    random_state : int, RandomState instance or None, default=None
        Seed of the validation split when ``cv`` is a float.
    store_cv_results : bool, default=False
        Store ``cv_results_``.
    source_prior : {"auto", "uniform"}, array-like of shape (n_classes,) or dict, default="auto"
        As in the corrector: the prior the inner posteriors are entangled with.
    target_prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict, default="uniform"
        As in the corrector: the prior to predict under."""

_COMMON_ATTRIBUTES_DOC = """
    best_score_ : float
        Cross-validated score (pooled or mean, as ``cv_score``) of the chosen
        value.
    selection_ : {"calibrated", "score"}
        The rule that chose the value (``selection`` resolved; ``"score"``
        where the calibrated strength is undefined).
    range_extended_ : bool
        Whether the default range was extended because the best score was on
        its upper edge.
    n_evaluations_ : int
        Number of grid values scored (the whole grid, extension included, for
        ``search="grid"``).
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
        Only with ``store_cv_results=True``; arrays over the searched grid
        (NaN where ``search="peak"`` did not evaluate): ``"{grid_name}"`` (the
        grid, extension included), ``"scores"`` of shape (n_splits, n_values)
        (per-fold scores), ``"mean_score"`` and ``"std_score"`` (over folds),
        ``"pooled_score"`` (all folds' held-out predictions scored together),
        ``"score"`` (the one the choice maximises, as ``cv_score``),
        ``"tied"`` (values within their tie tolerance of the best),
        ``"tolerance"`` (each value's tolerance), ``"extended"`` (values added
        by the range extension), and ``"n_evaluations"``."""


class PriorShiftClassifierCV(_BasePriorCorrectorCV):
    __doc__ = f"""Prior rebalancing with ``lam`` tuned by cross-validation, one fit per fold.

    The inner model is fit once per fold (not once per fold and value, as
    ``GridSearchCV(PriorShiftClassifier(estimator), {{"lam": lams}})`` would):
    on each fold its held-out log-scores are computed once and every ``lam`` is
    scored on ``z / T + lam * (log p_t - log p_s)`` (Tian et al., 2020, eq.
    5-9). Built for the extreme tail: tail-safe folds (every training fold
    holds every class), each value scored once on all folds' held-out
    predictions pooled, the default range extended while the best score is on
    its edge, and a stable choice among near-ties (``tie_rule``) — or, for the
    balanced scorers (``selection="auto"``), the calibrated strength: the Bayes
    rule of the recalibrated held-out posteriors. With ``selection="score",
    cv_score="mean", tie_rule=None`` and the same splits, the scores and the
    choice are GridSearchCV's. Then the model is refit on all the data and
    predicts with ``best_lam_``, exactly as
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
        Grid of ``lam >= 0``: an int (2 to 100,000) is that many values evenly spaced on
        ``[0, 2]`` (``lam = 1`` is the Bayes rule under the target prior, values
        above 1 extrapolate), **extended** upwards in steps of the same spacing,
        one range width at a time, while the best score is on its upper edge
        (up to ``lam = 10``); an array is used as given (sorted, without
        duplicates), with a warning when the best score is on its edge. Near-ties
        follow ``tie_rule``.
    temperature : float, default=1.0
        Likelihood flattening ``T > 0`` (000 eq. 9), fixed during the search.{_COMMON_PARAMS_DOC}

    Attributes
    ----------
    best_lam_ : float
        The chosen ``lam``.
    calibrated_lam_ : float
        The calibrated strength (see ``selection``) before it is rounded to
        the grid; NaN when ``selection_ == "score"``.
    lams_ : ndarray of shape (n_values,)
        The grid searched, extension included.{_COMMON_ATTRIBUTES_DOC}{_cv_results_doc("lams")}

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
        "lams": [Interval(Integral, 2, _MAX_GRID_VALUES, closed="both"), "array-like"],
        "temperature": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        lams=21,
        temperature=1.0,
        search="grid",
        cv_score="pooled",
        tie_rule="se",
        tie_break="middle",
        selection="auto",
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
        self.cv_score = cv_score
        self.tie_rule = tie_rule
        self.tie_break = tie_break
        self.selection = selection
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

    The inner model is fit once per fold (not once per fold and value, as
    ``GridSearchCV(LogitAdjuster(estimator), {{"tau": taus}})`` would): every
    ``tau`` is scored on the held-out log-scores
    ``z - tau * log p_s + tau * log p_t`` (Menon et al., 2021, eq. 9), pooled
    over the tail-safe folds, with the default range extended while the best
    score is on its edge and a stable choice among near-ties, or for the
    balanced scorers the calibrated strength (``selection``; see
    :class:`PriorShiftClassifierCV` and the user guide). Then the model is refit
    on all the data and predicts with ``best_tau_``.

    Read more in the :doc:`User Guide </user_guide/tuning>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba`` or ``decision_function``; ``None``
        means :class:`~sklearn.linear_model.LogisticRegression`. A
        :class:`~sklearn.frozen.FrozenEstimator` is never refit.
    taus : int or array-like of shape (n_values,), default=21
        Grid of ``tau >= 0``: an int (2 to 100,000) is that many values evenly spaced on
        ``[0, 2]`` (``tau = 1`` is Bayes-optimal for the balanced error with a
        calibrated model), **extended** upwards in steps of the same spacing,
        one range width at a time, while the best score is on its upper edge
        (up to ``tau = 10``); an array is used as given (sorted, without
        duplicates), with a warning when the best score is on its edge.
        Near-ties follow ``tie_rule``.{_COMMON_PARAMS_DOC}

    Attributes
    ----------
    best_tau_ : float
        The chosen ``tau``.
    calibrated_tau_ : float
        The calibrated strength (see ``selection``) before it is rounded to
        the grid; NaN when ``selection_ == "score"``.
    taus_ : ndarray of shape (n_values,)
        The grid searched, extension included.{_COMMON_ATTRIBUTES_DOC}{_cv_results_doc("taus")}

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
        "taus": [Interval(Integral, 2, _MAX_GRID_VALUES, closed="both"), "array-like"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        taus=21,
        search="grid",
        cv_score="pooled",
        tie_rule="se",
        tie_break="middle",
        selection="auto",
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
        self.cv_score = cv_score
        self.tie_rule = tie_rule
        self.tie_break = tie_break
        self.selection = selection
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.store_cv_results = store_cv_results
