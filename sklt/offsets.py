"""Metric-optimal per-class decision offsets for any classifier.

Logit adjustment and prior rebalancing move every class along one direction,
``tau * (log p_t - log p_s)``: the Bayes rule for the balanced error of a
calibrated model. :class:`ClassOffsetClassifierCV` instead learns a whole vector
of per-class offsets ``b`` and predicts::

    argmax_y  z_y(x) + b_y

(``z``: the inner model's log-posteriors, or its decision function), with ``b``
chosen to maximise any scorer on pooled held-out log-scores, one inner fit per
fold. For every metric that depends on the confusion matrix only through its
diagonal (balanced accuracy, accuracy, class-weighted recall), for costs that
depend only on the true class, and for any binary metric that is
linear-fractional in the confusion matrix (F1, ...), the Bayes-optimal
classifier of a calibrated model is of this form (Koyejo et al., 2014;
Narasimhan et al., 2015; Hiranandani et al., 2019); see the user guide.

The search (:func:`_coordinate_ascent`) starts from the logit-adjustment
solution and maximises one offset at a time *exactly*: as ``b_k`` moves, a
sample's prediction changes only where ``z_k + b_k`` crosses the best other
class, so the N breakpoints are sorted once and the metric is swept over all
N + 1 intervals in one vectorised pass, updating the confusion matrix
incrementally (:class:`_ConfusionMetric`). An arbitrary user scorer is evaluated
at most at ``max_candidates`` of those intervals (:class:`_ScorerMetric`).
"""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
)
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ._compat import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    _check_method_params,
    _fit_context,
    _num_samples,
    _safe_indexing,
    _Scorer,
)
from ._utils import _as_numeric_array, _encode, _finite_log_scores, _LabelsScoreMixin
from .adjust import adjust_logits
from .metrics import get_scorer
from .metrics import make_scorer as _make_scorer
from .model_selection import (
    TailSafeStratifiedKFold,
    _check_tail_safe_cv,
    _materialise_splits,
)
from .posthoc import (
    _PRIOR_CONSTRAINT,
    LogitAdjuster,
    _has_scores,
    _inner_log_scores,
    _validate_fit_data,
    _with_inner_tags,
)
from .priors import _format_classes, check_prior
from .tuning import _cv_routing, _held_out_scores, _route_fit_params

__all__ = ["ClassOffsetClassifierCV"]

#: Candidate regularisation strengths of ``alpha="auto"`` (``inf``: keep the initial offsets).
_AUTO_ALPHAS = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, np.inf)

#: Strengths ``tau`` tried along the logit-adjustment line by ``init="auto"``.
_INIT_TAUS = np.r_[np.linspace(0.0, 4.0, 41), 5.0, 6.0, 7.0, 8.0, 10.0]

#: A chosen offset keeps this fraction of its interval's width from the interval's ends.
_INTERVAL_MARGIN = 0.25

#: Width (in score units) given to the unbounded first and last intervals for that margin.
_UNBOUNDED_WIDTH = 1.0

#: Scorer names with an exact incremental sweep (see :class:`_ConfusionMetric`).
_FAST_SCORERS = (
    "accuracy",
    "balanced_accuracy",
    "balanced_error",
    "f1",
    "f1_macro",
    "f1_weighted",
    "geometric_mean",
    "neg_balanced_error",
    "worst_class_recall",
)


# --------------------------------------------------------------------------- metrics
def _worst_class_recall(y_true, y_pred, *, sample_weight=None):
    """Smallest recall over the classes of ``y_true``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, float)
    classes, inverse = np.unique(y_true, return_inverse=True)
    total = np.bincount(inverse, weights=w, minlength=len(classes))
    hits = np.bincount(inverse, weights=w * (y_true == y_pred), minlength=len(classes))
    keep = total > 0
    return float(np.min(hits[keep] / total[keep]))


def _mean_cost(y_true, y_pred, *, cost_matrix, classes, sample_weight=None):
    """Mean cost ``cost_matrix[true, predicted]`` (rows and columns in ``classes`` order)."""
    classes = np.asarray(classes)
    i = _encode(y_true, classes, name="y_true", classes_name="classes")
    j = _encode(y_pred, classes, name="y_pred", classes_name="classes")
    w = np.ones(len(i)) if sample_weight is None else np.asarray(sample_weight, float)
    return float(np.sum(w * np.asarray(cost_matrix)[i, j]) / np.sum(w))


class _ConfusionMetric:
    """A metric of the weighted confusion matrix, evaluated exactly along offset sweeps.

    ``kind`` is one of

    - ``"linear"``: ``const + sum_i w_i G[y_i, pred_i]`` (accuracy, balanced
      accuracy and error, negative mean cost);
    - ``"classwise"``: ``combine(sum_c u_c(TP_c, P_c), sum_c v_c(P_c))`` with
      ``TP_c`` the weighted true positives and ``P_c`` the weighted predictions
      of class ``c`` (F1 scores, geometric mean);
    - ``"min"``: ``min_c u_c(TP_c)`` over the classes present (worst-class
      recall).

    Only classes with positive held-out weight (``present``) enter the averages,
    as in scikit-learn's :func:`~sklearn.metrics.balanced_accuracy_score`.
    """

    def __init__(self, name, y, w, n_classes, *, cost_matrix=None, pos_index=None,
                 count_weights=None):
        self.name = name
        self.y = y
        self.w = w
        self.K = n_classes
        self.cost_matrix = cost_matrix
        self.pos_index = pos_index
        self.count_weights = count_weights
        self.n = np.bincount(y, weights=w, minlength=n_classes)
        # the evidence per class: samples counted with their sample_weight (frequency
        # weights), not with the target-prior importance weights
        self.count = np.bincount(y, weights=count_weights, minlength=n_classes)
        self.present = self.n > 0
        self.total = float(w.sum())
        self.scale = 1.0
        self.unit = 1.0  # a cost metric: the largest cost (G holds the costs divided by it)
        self.const = 0.0
        n_present = int(self.present.sum())
        safe_n = np.where(self.present, self.n, 1.0)
        if name in ("balanced_accuracy", "neg_balanced_error", "balanced_error"):
            self.kind = "linear"
            self.G = np.diag(np.where(self.present, 1.0 / (n_present * safe_n), 0.0))
            if name != "balanced_accuracy":
                self.const = -1.0
        elif name == "accuracy":
            self.kind = "linear"
            self.G = np.eye(n_classes) / self.total
        elif name == "cost":
            self.kind = "linear"
            # costs divided by the largest: the decisions depend on their ratios only, and
            # sums of costs near the float limit would overflow (reported scores are
            # multiplied back by ``unit``)
            top = float(np.max(np.abs(cost_matrix)))
            self.unit = self.scale = top if top > 0 else 1.0
            self.G = -(np.asarray(cost_matrix, dtype=np.float64) / self.unit) / self.total
        elif name in ("f1_macro", "f1_weighted", "f1", "geometric_mean"):
            self.kind = "classwise"
        elif name == "worst_class_recall":
            self.kind = "min"
        else:  # pragma: no cover - guarded by _make_metric
            raise ValueError(name)
        self._safe_n = safe_n
        self._n_present = n_present

    # -- per-class terms ---------------------------------------------------------------
    def _u(self, c, tp, p):
        """Per-class term of classes ``c`` with true positives ``tp``, predictions ``p``."""
        n = self.n[c]
        present = self.present[c]
        if self.name in ("f1_macro", "f1_weighted", "f1"):
            denom = n + p
            f1 = np.where(denom > 0, 2.0 * tp / np.where(denom > 0, denom, 1.0), 0.0)
            if self.name == "f1_weighted":
                return np.where(present, f1 * n / self.total, 0.0)
            if self.name == "f1":
                return np.where(c == self.pos_index, f1, 0.0)
            return np.where(present, f1, 0.0)
        recall = tp / self._safe_n[c]
        if self.name == "geometric_mean":
            # imbalanced-learn's correction: a zero recall counts as 0.001 (001 §4.4); the
            # incremental sums leave round-off of ~1e-16 where a recall falls to zero
            recall = np.where(recall > 1e-9, recall, 0.001)
            return np.where(present, np.log(recall), 0.0)
        return np.where(present, recall, np.inf)  # "min"

    def _v(self, c, n_pred):
        """Per-class count of the macro average: a class only predicted counts, as in sklearn.

        ``n_pred`` is the number of samples predicted as ``c`` (not their weight).
        """
        if self.name == "f1_macro":
            return (self.present[c] | (n_pred > 0)).astype(np.float64)
        return np.zeros(np.shape(c))

    def _combine(self, U, V):
        if self.name == "f1_macro":
            return U / V
        if self.name == "geometric_mean":
            return np.exp(U / self._n_present)
        return U  # f1, f1_weighted

    # -- exact values ------------------------------------------------------------------
    def _stats(self, pred, y=None, w=None):
        y = self.y if y is None else y
        w = self.w if w is None else w
        tp = np.bincount(pred, weights=w * (pred == y), minlength=self.K)
        p = np.bincount(pred, weights=w, minlength=self.K)
        return tp, p

    def score(self, pred):
        """The metric of integer predictions ``pred`` (same rows as ``y``), in its own units
        (a cost metric: ``G`` holds the costs divided by ``unit``, multiplied back here)."""
        if self.kind == "linear":
            return self.unit * float(self.const + np.sum(self.w * self.G[self.y, pred]))
        c = np.arange(self.K)
        tp, p = self._stats(pred)
        if self.kind == "min":
            return float(np.min(self._u(c, tp, p)))
        n_pred = np.bincount(pred, minlength=self.K)
        return float(self._combine(self._u(c, tp, p).sum(), self._v(c, n_pred).sum()))

    # -- the sweep ---------------------------------------------------------------------
    def sweep(self, k, y_s, w_s, src):
        """Metric after ``s = 0 .. n`` samples moved to class ``k``, in the given order.

        Before any move (``b_k = -inf``) sample ``i`` predicts ``src[i]``; the
        ``s``-th move switches the ``s``-th sample of the order from ``src`` to
        ``k``. One vectorised pass; the confusion matrix is updated
        incrementally (class ``k`` by a cumulative sum, every other class by a
        cumulative sum within its group of moves).
        """
        n = len(y_s)
        out = np.empty(n + 1)
        if self.kind == "linear":
            base = self.const + np.sum(w_s * self.G[y_s, src])
            out[0] = base
            out[1:] = base + np.cumsum(w_s * (self.G[y_s, k] - self.G[y_s, src]))
            return out * self.unit if self.unit != 1.0 else out
        c = np.arange(self.K)
        tp0, p0 = self._stats(src, y_s, w_s)  # nothing predicts k yet
        tp_k = tp0[k] + np.concatenate([[0.0], np.cumsum(w_s * (y_s == k))])
        p_k = p0[k] + np.concatenate([[0.0], np.cumsum(w_s)])
        kk = np.full(n + 1, k)
        u_k = self._u(kk, tp_k, p_k)
        # other classes: group the moves by source class, cumulate within each group
        g = np.argsort(src, kind="stable")
        src_g = src[g]
        d_p = w_s[g]
        d_tp = (w_s * (y_s == src))[g]
        if n:
            start = np.r_[True, src_g[1:] != src_g[:-1]]
            group = np.cumsum(start) - 1
            first = np.flatnonzero(start)
            c_p, c_tp = np.cumsum(d_p), np.cumsum(d_tp)
            moved_p = c_p - (c_p - d_p)[first][group]
            moved_tp = c_tp - (c_tp - d_tp)[first][group]
        else:
            moved_p = moved_tp = np.zeros(0)
        p_after, tp_after = p0[src_g] - moved_p, tp0[src_g] - moved_tp
        u_after = self._u(src_g, tp_after, p_after)
        others = c != k
        if self.kind == "min":
            after = np.empty(n)
            after[g] = u_after
            base = np.min(self._u(c[others], tp0[others], p0[others]), initial=np.inf)
            running = np.minimum.accumulate(np.concatenate([[base], after]))
            return np.minimum(running, u_k)
        p_before, tp_before = p_after + d_p, tp_after + d_tp
        du = np.empty(n)
        du[g] = u_after - self._u(src_g, tp_before, p_before)
        # predicted-sample counts, exact integers: does a class still have predictions?
        n0 = np.bincount(src, minlength=self.K)
        rank = np.arange(n) - (np.flatnonzero(start)[group] if n else 0)
        cnt_after = n0[src_g] - rank - 1
        dv = np.empty(n)
        dv[g] = self._v(src_g, cnt_after) - self._v(src_g, cnt_after + 1)
        U = self._u(c[others], tp0[others], p0[others]).sum() + np.concatenate(
            [[0.0], np.cumsum(du)]) + u_k
        V = self._v(c[others], n0[others]).sum() + np.concatenate(
            [[0.0], np.cumsum(dv)]) + self._v(kk, np.arange(n + 1))
        return self._combine(U, V)

    def subset(self, idx):
        cw = None if self.count_weights is None else self.count_weights[idx]
        return _ConfusionMetric(self.name, self.y[idx], self.w[idx], self.K,
                                cost_matrix=self.cost_matrix, pos_index=self.pos_index,
                                count_weights=cw)


class _HeldOutOffsets(ClassifierMixin, BaseEstimator):
    """A fitted classifier answering for stored held-out log-scores plus offsets.

    What a scorer is given for a candidate offset vector: ``decision_function``
    is ``log_scores + offsets`` (``offsets`` of shape ``(n_classes,)`` or one
    row per sample), ``predict`` its argmax, ``predict_proba`` its softmax.
    """

    def __init__(self, log_scores, classes, offsets):
        self.log_scores = log_scores
        self.classes = classes
        self.offsets = offsets
        self.classes_ = classes

    def _scores(self, X):
        if _num_samples(X) != self.log_scores.shape[0]:
            raise ValueError(
                "The scorer asked for predictions on data other than the held-out samples "
                f"({_num_samples(X)} samples instead of {self.log_scores.shape[0]})."
            )
        return self.log_scores + self.offsets

    def predict(self, X):
        return self.classes_[np.argmax(self._scores(X), axis=1)]

    def decision_function(self, X):
        z = _finite_log_scores(self._scores(X))
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_log_proba(self, X):
        return adjust_logits(self._scores(X), output="log_proba")

    def predict_proba(self, X):
        return adjust_logits(self._scores(X), output="proba")


def _confusion_function(scorer, params):
    """``score_func`` of a scikit-learn scorer of predicted labels that weights samples.

    The metrics of scikit-learn, imbalanced-learn and sklt that take a
    ``sample_weight`` treat it as a multiplicity, so such a metric is a function
    of the weighted confusion matrix: it can be called on one weighted sample per
    confusion cell instead of on every held-out sample. Returns None for any other
    scorer (a user function, a probability scorer, extra metadata).
    """
    if not isinstance(scorer, _Scorer) or scorer._response_method != "predict":
        return None
    func = scorer._score_func
    module = getattr(func, "__module__", "") or ""
    if not module.startswith(("sklearn.metrics", "imblearn.metrics", "sklt.metrics")):
        return None
    try:
        accepts = "sample_weight" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        accepts = False
    if not accepts or set(params) - {"sample_weight"}:
        return None
    return func


class _ScorerMetric:
    """Any scorer ``scorer(estimator, X, y, **params)``, called on :class:`_HeldOutOffsets`.

    Used for scorers without an exact sweep: the 1-D search evaluates it at no
    more than ``max_candidates`` of the intervals between breakpoints. A
    scikit-learn scorer of labels that weights samples (see
    :func:`_confusion_function`) is called on the confusion cells instead, with
    the same result at O(K^2) instead of O(N) per call.
    """

    kind = "scorer"
    scale = 1.0

    def __init__(self, scorer, name, X, y_labels, log_scores, classes, y, w, params,
                 max_candidates, count_weights=None):
        self.scorer = scorer
        self.name = name
        self.X = X
        self.y_labels = y_labels
        self.log_scores = log_scores
        self.classes = classes
        self.y = y
        self.w = w
        self.params = params
        self.max_candidates = max_candidates
        self.K = len(classes)
        self.count_weights = count_weights
        self.n = np.bincount(y, weights=w, minlength=self.K)
        self.count = np.bincount(y, weights=count_weights, minlength=self.K)
        self.present = self.n > 0
        self.n_calls = 0
        self._func = _confusion_function(scorer, params)

    def _call(self, offsets, log_scores):
        if self._func is None:
            estimator = _HeldOutOffsets(log_scores, self.classes, offsets)
            return self.scorer(estimator, self.X, self.y_labels, **self.params)
        K = self.K
        pred = np.argmax(log_scores + offsets, axis=1)
        cell = self.y * K + pred
        weight = np.bincount(cell, weights=self.w, minlength=K * K)
        seen = np.bincount(cell, minlength=K * K) > 0  # cells with samples (even weight 0)
        true_idx, pred_idx = np.divmod(np.flatnonzero(seen), K)
        kwargs = dict(self.scorer._kwargs)
        kwargs["sample_weight"] = weight[seen]
        value = self._func(self.classes[true_idx], self.classes[pred_idx], **kwargs)
        return self.scorer._sign * value

    def score_offsets(self, offsets, log_scores=None):
        value = self._call(offsets, self.log_scores if log_scores is None else log_scores)
        self.n_calls += 1
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"The scorer must return a single number; got {value!r}.") from None
        if not np.isfinite(value):
            raise ValueError(
                f"The scorer {self.name} returned {value} on the held-out samples; use a "
                "scorer that is finite for every prediction (e.g. one that does not divide "
                "by a count that can be zero)."
            )
        return value

    def score(self, pred):  # pragma: no cover - the scorer path scores offsets
        raise NotImplementedError

    def subset(self, idx):
        return _ScorerMetric(
            self.scorer, self.name, _safe_indexing(self.X, idx), _safe_indexing(self.y_labels, idx),
            self.log_scores[idx], self.classes, self.y[idx], self.w[idx],
            _check_method_params(self.X, self.params, indices=idx), self.max_candidates,
            None if self.count_weights is None else self.count_weights[idx])


# --------------------------------------------------------------------------- the search
def _interval_points(lo, hi, target):
    """The point of each open interval ``(lo, hi)`` nearest ``target``, kept off its ends.

    A point keeps ``_INTERVAL_MARGIN`` of the interval's width from either end
    (an unbounded interval counts as ``_UNBOUNDED_WIDTH`` wide), so a chosen
    offset never sits on a held-out sample's breakpoint.
    """
    finite = np.isfinite(lo) & np.isfinite(hi)
    with np.errstate(invalid="ignore"):  # inf - inf where an end is unbounded: not used
        width = np.where(finite, hi - lo, _UNBOUNDED_WIDTH)
    margin = _INTERVAL_MARGIN * np.where(finite, width, _UNBOUNDED_WIDTH)
    with np.errstate(invalid="ignore"):
        lower = np.where(np.isfinite(lo), lo + margin, -np.inf)
        upper = np.where(np.isfinite(hi), hi - margin, np.inf)
    return np.clip(target, lower, upper)


class _TopTwo:
    """The two best classes of every row of ``Z = L + b``, kept up to date as offsets move.

    ``first`` is ``argmax_j Z_ij`` and ``second`` the argmax over the other
    classes, both with the lowest index on ties (as :func:`numpy.argmax`), so
    ``first`` is the prediction. Moving one offset ``b_k`` updates them in
    O(N): rows whose first or second class is ``k`` are recomputed, the others
    compare ``Z_ik`` with their two values.
    """

    def __init__(self, L, b):
        self.Z = L + b
        n = len(self.Z)
        self.first = np.zeros(n, dtype=np.intp)
        self.second = np.zeros(n, dtype=np.intp)
        self.v1 = np.zeros(n)
        self.v2 = np.zeros(n)
        self._recompute(np.arange(n))

    def _recompute(self, rows):
        if not len(rows):
            return
        Z = self.Z[rows]
        first = np.argmax(Z, axis=1)
        r = np.arange(len(rows))
        v1 = Z[r, first]
        Z[r, first] = -np.inf
        second = np.argmax(Z, axis=1)
        self.first[rows], self.v1[rows] = first, v1
        self.second[rows], self.v2[rows] = second, Z[r, second]

    def others(self, k):
        """Best class other than ``k`` and its score, per row."""
        is_k = self.first == k
        return np.where(is_k, self.second, self.first), np.where(is_k, self.v2, self.v1)

    def move(self, k, L_k, b_k):
        """Column ``k`` becomes ``L_k + b_k`` (the offset ``b_k`` moved)."""
        self.Z[:, k] = L_k + b_k
        v = self.Z[:, k]
        stale = (self.first == k) | (self.second == k)
        keep = ~stale
        with np.errstate(invalid="ignore"):
            above = keep & ((v > self.v1) | ((v == self.v1) & (k < self.first)))
            middle = keep & ~above & ((v > self.v2) | ((v == self.v2) & (k < self.second)))
        self.second[above], self.v2[above] = self.first[above], self.v1[above]
        self.first[above], self.v1[above] = k, v[above]
        self.second[middle], self.v2[middle] = k, v[middle]
        self._recompute(np.flatnonzero(stale))


def _line_search(L, b, k, metric, anchor, pen, alpha, top=None):
    """Exact maximisation of the penalised objective over offset ``b_k`` alone.

    With the other offsets fixed, sample ``i`` predicts ``k`` iff
    ``b_k > t_i = max_{j != k} (L_ij + b_j) - L_ik``, and otherwise
    ``src_i``, the best other class. Returns ``(objective, value, b_k)`` of the
    best interval between sorted breakpoints. The objective is
    ``value / metric.scale - alpha * pen[k] * (b_k - anchor[k])**2`` (the other
    offsets' penalty is constant here). Ties go to the point nearest
    ``anchor[k]``. ``top``: the :class:`_TopTwo` of ``L + b`` (built if None).
    """
    top = _TopTwo(L, b) if top is None else top
    src, best = top.others(k)
    with np.errstate(invalid="ignore"):
        t = best - L[:, k]
    t[np.isnan(t)] = np.inf  # a class impossible everywhere on the row: never k
    order = np.argsort(t, kind="stable")
    ts = t[order]
    lo = np.concatenate([[-np.inf], ts])
    hi = np.concatenate([ts, [np.inf]])
    tiny = 1e-10 * np.maximum(1.0, np.maximum(np.abs(np.where(np.isfinite(lo), lo, 0)),
                                              np.abs(np.where(np.isfinite(hi), hi, 0))))
    with np.errstate(invalid="ignore"):
        valid = (hi - lo > tiny) & ~(np.isinf(lo) & np.isinf(hi) & (lo == hi))
    points = _interval_points(lo, hi, anchor[k])
    if metric.kind == "scorer":
        positions = _candidate_positions(valid, ts, b[k], anchor[k], metric.max_candidates)
        values = np.full(len(lo), -np.inf)
        trial = np.array(b, dtype=np.float64)
        for s in positions:
            trial[k] = points[s]
            values[s] = metric.score_offsets(trial)
        valid = np.zeros_like(valid)
        valid[positions] = True
    else:
        values = metric.sweep(k, metric.y[order], metric.w[order], src[order])
    objective = values / metric.scale
    if alpha:
        objective = objective - alpha * pen[k] * (points - anchor[k]) ** 2
    objective = np.where(valid, objective, -np.inf)
    top = np.max(objective)
    ties = np.flatnonzero(objective >= top - 1e-12 * max(1.0, abs(top)))
    best = ties[np.argmin(np.abs(points[ties] - anchor[k]))]
    return float(objective[best]), float(values[best]), float(points[best])


def _candidate_positions(valid, ts, b_k, anchor_k, max_candidates):
    """Interval indices a generic scorer is evaluated at: all, or an evenly spaced subset.

    The subset always holds the interval of the current offset and the one of
    the anchor, and the first and last valid intervals.
    """
    positions = np.flatnonzero(valid)
    if len(positions) <= max_candidates:
        return positions
    keep = positions[np.unique(np.linspace(0, len(positions) - 1, max_candidates - 2)
                               .round().astype(int))]
    extra = np.searchsorted(ts, [b_k, anchor_k], side="left")
    extra = extra[valid[extra]]
    return np.unique(np.concatenate([keep, extra]))


def _objective(metric, L, b, anchor, pen, alpha, pred=None):
    """Penalised objective at offsets ``b`` (exact predictions, argmax ties to the lowest class).

    ``pred``: the predictions ``argmax(L + b)`` when already known.
    """
    if metric.kind == "scorer":
        value = metric.score_offsets(b)
    else:
        value = metric.score(np.argmax(L + b, axis=1) if pred is None else pred)
    penalty = 0.0 if alpha == 0 else alpha * float(np.sum(pen * (b - anchor) ** 2))
    return value / metric.scale - penalty, value


def _penalty_weights(metric):
    """Per-class penalty weights: ``mean count / count`` of the searched classes, over K.

    A class with few held-out samples pays more for moving away from the
    anchor, so its offset moves only when the gain holds up (the score gain
    of one sample of class ``c`` is about ``1 / n_c`` for a class average).
    The counts are numbers of samples weighted by ``sample_weight`` (frequency
    weights: the evidence), not by the ``target_prior`` importance weights.
    """
    n = metric.count.astype(np.float64)
    present = metric.present
    pen = np.zeros(len(n))
    if present.any():
        pen[present] = n[present].mean() / n[present]
    return pen / len(n)


def _coordinate_ascent(L, metric, init, alpha, *, max_iter, tol, order=None):
    """Maximise ``metric`` over offsets by cyclic exact 1-D searches.

    Classes with held-out samples are visited in ``order`` (default: from the
    rarest to the most frequent, ties to the class whose held-out samples have the
    lower mean own log-score, then by index; a binary problem moves only the
    rarer class's offset, a threshold on the log-odds). Each step replaces
    one offset by the exact maximiser of the penalised objective
    ``score / scale - alpha * sum_c pen_c (b_c - init_c)**2`` along that
    coordinate, if it beats the current objective by more than ``tol``.
    Stopping rule: a full pass in which no offset moves, or ``max_iter``
    passes. ``alpha = inf`` keeps ``init``.

    Returns
    -------
    b : ndarray of shape (n_classes,)
    path : list of float
        Objective before the first pass and after each pass.
    """
    K = L.shape[1]
    b = np.array(init, dtype=np.float64)
    anchor = np.array(init, dtype=np.float64)
    pen = _penalty_weights(metric)
    objective, value = _objective(metric, L, b, anchor, pen,
                                  alpha if np.isfinite(alpha) else 0.0)
    path = [objective]
    if not np.isfinite(alpha) or L.shape[0] == 0:
        return b, path
    if order is None:
        counts = metric.count  # numbers of samples, whatever their weights
        # ties in the counts go to the class whose samples score lower for it (the
        # harder one), not to its position in classes_: the result must not depend on
        # how the labels sort
        rows = np.arange(L.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):  # per-row shifts cancel
            own = L[rows, metric.y] - logsumexp(L, axis=1)
        own = np.where(np.isfinite(own), own, -1e300)
        weight = np.ones(len(rows)) if metric.count_weights is None else metric.count_weights
        own = np.bincount(metric.y, weights=weight * own, minlength=K) / np.where(
            counts > 0, counts, 1.0)  # weighted mean: a weight equals repeated samples
        order = [k for k in np.lexsort((np.arange(K), own, counts)) if metric.present[k]]
        if K == 2:  # the offset of one class (the rarer), a threshold on the log-odds
            order = order[:1] if len(order) == 2 else ([1] if metric.present.any() else [])
    top = _TopTwo(L, b)
    for _ in range(max_iter):
        moved = False
        for k in order:
            best, new_value, point = _line_search(L, b, k, metric, anchor, pen, alpha, top)
            # the current objective in the same terms (only k's own penalty)
            penalty_k = alpha * pen[k] * (b[k] - anchor[k]) ** 2 if alpha else 0.0
            if best - (value / metric.scale - penalty_k) > tol:
                b[k] = point
                top.move(k, L[:, k], point)
                # the point lies strictly inside its interval: its value is exact
                value = new_value
                objective = value / metric.scale - (
                    alpha * float(np.sum(pen * (b - anchor) ** 2)) if alpha else 0.0)
                moved = True
        path.append(objective)
        if not moved:
            break
    return b, path


def _tune_strength(L, metric, direction, theory):
    """Best ``tau`` of the offsets ``tau * direction`` over :data:`_INIT_TAUS`.

    The logit-adjustment line (``direction = -log p_s``) scored exactly on the
    held-out scores; ties go to the value closest to ``theory`` (the Bayes value
    for a calibrated model).
    """
    values = np.array([_objective(metric, L, t * direction, direction, np.zeros(len(direction)),
                                  0.0)[1] for t in _INIT_TAUS])
    top = values.max()
    # tolerance in the metric's units (a cost metric: relative to its largest cost)
    ties = np.flatnonzero(values >= top - 1e-12 * max(metric.scale, abs(top)))
    return float(_INIT_TAUS[ties[np.argmin(np.abs(_INIT_TAUS[ties] - theory))]])


def _resolve_init(spec, L, metric):
    """Starting offsets from an init spec: ``("fixed", b)`` or ``("tuned", direction, theory)``.

    Returns ``(offsets, tau)`` (``tau`` NaN for fixed offsets).
    """
    if spec[0] == "fixed":
        return np.array(spec[1], dtype=np.float64), np.nan
    _, direction, theory = spec
    tau = _tune_strength(L, metric, direction, theory)
    return tau * direction, tau


def _fit_fold_offsets(L, metric, init_spec, alpha, train, max_iter, tol):
    """Initial and final offsets fit on the ``train`` rows of the held-out scores."""
    sub = metric.subset(train)
    init, _ = _resolve_init(init_spec, L[train], sub)
    b, path = _coordinate_ascent(L[train], sub, init, alpha, max_iter=max_iter, tol=tol)
    return b, len(path) - 1


# --------------------------------------------------------------------------- the estimator
def _fast_name(scoring, n_classes, classes):
    """The exact-sweep metric of a scoring spec, or None."""
    if isinstance(scoring, str):
        if scoring == "f1":
            return "f1" if n_classes == 2 and 1 in set(np.asarray(classes).tolist()) else None
        return scoring if scoring in _FAST_SCORERS else None
    if type(scoring) is _Scorer and scoring._sign == 1 and scoring._response_method == "predict":
        func, kwargs = scoring._score_func, scoring._kwargs
        if func is balanced_accuracy_score and not kwargs.get("adjusted", False) and set(
                kwargs) <= {"adjusted"}:
            return "balanced_accuracy"
        if func is accuracy_score and not kwargs:
            return "accuracy"
        if func is f1_score and kwargs in ({"average": "macro"}, {"average": "weighted"}):
            return "f1_" + kwargs["average"]
    return None


class ClassOffsetClassifierCV(_LabelsScoreMixin, ClassifierMixin, MetaEstimatorMixin,
                              BaseEstimator):
    """Per-class decision offsets tuned for any metric, one inner fit per fold.

    Predicts ``argmax_y z_y(x) + b_y`` where ``z`` are the inner model's
    log-posteriors (``log predict_proba``, or its decision function) and ``b``
    a vector of per-class offsets chosen to maximise ``scoring`` on the pooled
    held-out log-scores of a cross-validation (each sample scored once, by the
    model of the fold that held it out). This generalises scikit-learn's
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV` to any number
    of classes: for two classes ``b_1 - b_0`` is a threshold on the log-odds.
    For metrics of the confusion-matrix diagonal, costs that depend on the
    true class and any binary linear-fractional metric, the Bayes-optimal
    classifier of a calibrated model has this form (Koyejo et al., 2014;
    Narasimhan et al., 2015; Hiranandani et al., 2019).

    The search starts from ``init`` (by default the logit-adjustment offsets
    ``-log p_s``, Menon et al., 2021) and runs cyclic coordinate ascent: each
    step maximises the objective over one class's offset *exactly*, by sorting
    the N breakpoints where a held-out prediction changes and sweeping the
    metric over all intervals at once, with the confusion matrix updated
    incrementally. Stopping rule: a pass over the classes in which no offset
    improves the objective by more than ``tol``, or ``max_iter`` passes. The
    objective is penalised towards ``init``,
    ``score - alpha * sum_c w_c (b_c - init_c)**2 / K`` with ``w_c`` the mean
    held-out class count over class ``c``'s, so classes with two or three
    held-out samples do not chase them; ``alpha="auto"`` picks ``alpha`` by
    cross-validation on the pooled held-out scores (no refit).

    Read more in the :doc:`User Guide </user_guide/offsets>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba`` or ``decision_function``; ``None``
        means :class:`~sklearn.linear_model.LogisticRegression`. A
        :class:`~sklearn.frozen.FrozenEstimator` is never refit: ``fit`` then
        tunes the offsets on the data it is given (a validation set).
    scoring : str, callable or None, default=None
        The metric to maximise. ``None`` is ``"balanced_accuracy"``, or the
        negative mean cost when ``cost_matrix`` is given. These names are
        swept exactly and fast: ``"balanced_accuracy"``, ``"accuracy"``,
        ``"f1_macro"``, ``"f1_weighted"``, ``"f1"`` (binary, positive label
        1), ``"geometric_mean"`` (imbalanced-learn's, with ``correction=0.001``),
        ``"neg_balanced_error"`` and ``"worst_class_recall"`` (the smallest
        per-class recall), as are scorers made by
        :func:`~sklearn.metrics.make_scorer` from
        :func:`~sklearn.metrics.balanced_accuracy_score`,
        :func:`~sklearn.metrics.accuracy_score` or
        :func:`~sklearn.metrics.f1_score` (``average="macro"`` or
        ``"weighted"``). Any other scorer name (see
        :func:`sklt.metrics.get_scorer`) or callable
        ``scorer(estimator, X, y)`` is called on the held-out predictions at
        no more than ``max_candidates`` offsets per step (slower, and no
        longer an exact 1-D search when there are more intervals). Averages
        run over the classes present in the held-out labels.
    cost_matrix : array-like of shape (n_classes, n_classes), default=None
        ``cost_matrix[i, j]``: the cost of predicting ``classes_[j]`` for a
        sample of class ``classes_[i]`` (finite, non-negative). The objective
        is then minus the mean cost, and the starting direction is the Bayes
        decision under costs, ``b_j = log c_j`` with ``c_j`` the mean cost of
        misclassifying class ``j`` (exact when costs depend only on the true
        class: ``argmax_j c_j P(j|x)``).
    init : {"auto", "logit_adjustment", "zeros"} or array-like of shape (n_classes,), default="auto"
        Starting offsets, which the penalty pulls towards.
        ``"logit_adjustment"``: ``d = -log p_s`` (Bayes for the balanced error
        of a calibrated model; with a ``cost_matrix``, ``d = log c``);
        ``"zeros"``: the model's own ``argmax`` (Bayes for accuracy);
        ``"auto"``: ``tau * d`` with ``tau`` in ``0, 0.1, ..., 4, 5, 6, 7, 8, 10`` maximising
        the score on the held-out scores (the logit-adjustment line searched
        exactly as :class:`~sklt.LogitAdjusterCV` would on pooled scores; ties
        go to ``tau = 1``, or ``tau = 0`` for ``"accuracy"``), so that
        ``alpha=inf`` is tuned logit adjustment.
    alpha : "auto", float or array-like of float, default="auto"
        Strength of the penalty towards ``init`` (``>= 0``; ``inf`` keeps
        ``init``). Several values, or ``"auto"`` for
        ``(0, 1e-4, 1e-3, 1e-2, 1e-1, 1, inf)``, are compared by fitting the
        offsets on all but one cross-validation fold's held-out scores and
        predicting that fold's, pooled over folds, and scored once; the best
        is kept (ties: the larger ``alpha``). For two classes ``"auto"`` is
        ``0``: the one threshold is fit on every held-out sample, and
        pulling it towards the grid-tuned logit-adjustment threshold (the same
        line, searched coarsely) only lost score in ``benchmarks/bench_offsets.py``.
    cv : int, float, cross-validation generator or iterable, default=5
        Splitting strategy. An int is a number of tail-safe stratified folds
        (every training fold holds every class; a class with fewer samples
        than folds has its samples held out in distinct folds, a single sample
        is never held out), a float in ``(0, 1)`` one stratified shuffle split
        with that held-out fraction, or a splitter / iterable of
        ``(train, test)`` whose held-out sets do not overlap. With a
        :class:`~sklearn.frozen.FrozenEstimator` nothing is fit: all of ``X``
        is held out, and the splits only serve to choose ``alpha``.
    refit : bool, default=True
        Refit the inner model on all the data. ``False`` needs a single split
        and keeps the model fit on its training part. Ignored for a frozen
        inner model.
    max_iter : int, default=10
        Most passes of coordinate ascent over the classes.
    tol : float, default=1e-6
        An offset moves only if the objective rises by more than ``tol``.
    max_candidates : int, default=32
        For scorers without an exact sweep: most offsets per 1-D step at which
        the scorer is called (evenly spaced over the intervals, always with
        the current and the initial offset's intervals).
    n_jobs : int, default=None
        Folds are fit, and ``alpha`` values compared, in parallel with joblib.
    random_state : int, RandomState instance or None, default=None
        Seed of the tail-safe folds and of the shuffle split (``cv`` float).
    source_prior : {"auto", "uniform"}, array-like of shape (n_classes,) or dict, default="auto"
        The prior the inner posteriors are entangled with, for the
        logit-adjustment ``init``; as in :class:`~sklt.LogitAdjuster`.
    target_prior : {"uniform", "auto"}, array-like of shape (n_classes,) or dict, default=None
        The class prior of the data the model will be *scored* on. ``None``:
        the held-out samples count as they are (the metric under the training
        distribution). Otherwise each held-out sample of class ``y`` is
        weighted by ``p_t(y) / p_held(y)`` (``p_held``: the held-out class
        frequencies), so the search maximises the metric under ``p_t`` (label
        shift: ``E_t[f] = E_s[f p_t / p_s]``), and the logit-adjustment
        direction becomes ``log p_t - log p_s``. Recall-based metrics
        (balanced accuracy, G-mean, worst-class recall) do not depend on it;
        precision-based ones (F1), accuracy and costs do: for a balanced test
        set pass ``"uniform"``. The scorer must accept ``sample_weight``.

    Attributes
    ----------
    offsets_ : ndarray of shape (n_classes,)
        The learned offsets ``b`` (defined up to a common constant).
    init_offsets_ : ndarray of shape (n_classes,)
        The starting offsets the penalty pulls towards.
    init_tau_ : float
        The ``tau`` of ``init="auto"`` (NaN for other ``init``).
    alpha_ : float
        The penalty strength used for ``offsets_``.
    best_score_ : float
        Score of ``offsets_`` on the pooled held-out scores it was fit on
        (optimistic: use ``cv_results_`` for an honest estimate).
    init_score_ : float
        Score of ``init_offsets_`` on the same pooled held-out scores.
    n_iter_ : int
        Passes of coordinate ascent for ``offsets_`` (1 when ``alpha_`` is
        ``inf``: nothing is searched).
    objective_path_ : list of float
        Penalised objective before the first pass and after each pass.
    cv_results_ : dict
        Only when several ``alpha`` values are compared: ``"alpha"`` (the
        values), ``"pooled_score"`` (the score of the pooled fold-wise
        predictions, the selection criterion), ``"fold_scores"`` of shape
        ``(n_alphas, n_folds)`` (each fold's held-out part; NaN where the
        scorer is undefined on a fold), ``"n_iter"`` (mean passes).
    estimator_ : estimator object
        The fitted inner classifier.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    source_prior_ : ndarray of shape (n_classes,)
        Resolved source prior.
    target_prior_ : ndarray of shape (n_classes,) or None
        Resolved target prior (None when ``target_prior=None``).
    n_features_in_ : int
        Number of features seen during fit (when the inner model defines it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names seen during fit (when the inner model defines it).

    See Also
    --------
    sklt.LogitAdjusterCV : One scalar ``tau`` along the logit-adjustment direction.
    sklearn.model_selection.TunedThresholdClassifierCV : The binary threshold
        tuner this generalises.

    Notes
    -----
    ``decision_function`` returns ``z + b`` (binary: the log-odds
    ``z_1 + b_1 - z_0 - b_0``) and ``predict`` its argmax, row by row.
    ``predict_proba`` returns ``softmax(z + b)``, the re-weighted posteriors
    ``P(y|x) exp(b_y)`` normalised: its argmax is ``predict``, but the offsets
    are *decision* offsets, not a prior, so these are not calibrated
    probabilities unless the metric is the balanced error; use
    ``estimator_.predict_proba`` for the model's own probabilities.

    References
    ----------
    O. Koyejo, N. Natarajan, P. Ravikumar, I. Dhillon. "Consistent binary
    classification with generalized performance metrics", NeurIPS 2014.

    H. Narasimhan, H. Ramaswamy, A. Saha, S. Agarwal. "Consistent multiclass
    algorithms for complex performance measures", ICML 2015.

    G. Hiranandani, S. Boodaghians, R. Mehta, O. Koyejo. "Multiclass
    performance metric elicitation", NeurIPS 2019.

    A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit, S. Kumar.
    "Long-tail learning via logit adjustment", ICLR 2021.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklt import ClassOffsetClassifierCV
    >>> X, y = make_classification(n_samples=1000, n_classes=3, n_informative=4,
    ...                            weights=[0.8, 0.15, 0.05], random_state=0)
    >>> clf = ClassOffsetClassifierCV(scoring="f1_macro", random_state=0).fit(X, y)
    >>> clf.offsets_.shape
    (3,)
    >>> bool(clf.best_score_ >= clf.init_score_)
    True
    >>> bool((clf.predict(X) == clf.classes_[clf.decision_function(X).argmax(1)]).all())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "decision_function"]),
            None,
        ],
        "scoring": [str, callable, None],
        "cost_matrix": ["array-like", None],
        "init": [StrOptions({"auto", "logit_adjustment", "zeros"}), "array-like"],
        "alpha": [StrOptions({"auto"}), Real, "array-like"],
        "cv": ["cv_object", Interval(RealNotInt, 0.0, 1.0, closed="neither")],
        "refit": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_candidates": [Interval(Integral, 2, None, closed="left")],
        "n_jobs": [Interval(Integral, None, 2**31 - 1, closed="right"), None],
        "random_state": ["random_state"],
        "source_prior": _PRIOR_CONSTRAINT,
        "target_prior": [*_PRIOR_CONSTRAINT, None],
    }

    def __init__(
        self,
        estimator=None,
        *,
        scoring=None,
        cost_matrix=None,
        init="auto",
        alpha="auto",
        cv=5,
        refit=True,
        max_iter=10,
        tol=1e-6,
        max_candidates=32,
        n_jobs=None,
        random_state=None,
        source_prior="auto",
        target_prior=None,
    ):
        self.estimator = estimator
        self.scoring = scoring
        self.cost_matrix = cost_matrix
        self.init = init
        self.alpha = alpha
        self.cv = cv
        self.refit = refit
        self.max_iter = max_iter
        self.tol = tol
        self.max_candidates = max_candidates
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.source_prior = source_prior
        self.target_prior = target_prior

    # -- helpers -------------------------------------------------------------------------
    def _get_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    def _scoring_name(self):
        if self.scoring is None:
            return "cost" if self.cost_matrix is not None else "balanced_accuracy"
        if self.cost_matrix is not None:
            raise ValueError(
                f"Pass either cost_matrix or scoring, not both (scoring={self.scoring!r}): "
                "with a cost matrix the objective is minus the mean cost."
            )
        return self.scoring

    def _get_scorer(self, classes=None):
        """A scikit-learn scorer object for the objective (also used for metadata routing)."""
        name = self._scoring_name()
        if name == "cost":
            return _make_scorer(_mean_cost, greater_is_better=False,
                                cost_matrix=self.cost_matrix, classes=classes)
        if name == "worst_class_recall":
            return _make_scorer(_worst_class_recall)
        if isinstance(name, str):
            try:
                return get_scorer(name)
            except ValueError:
                raise ValueError(
                    f"scoring={name!r} is not a scorer name. Use one of the exactly swept "
                    f"names {list(_FAST_SCORERS)}, a name from sklt.metrics.get_scorer_names(), "
                    "or a callable scorer(estimator, X, y)."
                ) from None
        return name

    def _check_cv(self, y=None, frozen=False):
        return _check_tail_safe_cv(self.cv, y, random_state=self.random_state, frozen=frozen)

    def _check_cost_matrix(self, n_classes):
        if self.cost_matrix is None:
            return None
        try:
            cost = _as_numeric_array(self.cost_matrix, "cost_matrix")
        except (TypeError, ValueError):
            raise ValueError(
                f"cost_matrix must be a numeric array; got {self.cost_matrix!r}."
            ) from None
        if cost.shape != (n_classes, n_classes):
            raise ValueError(
                f"cost_matrix has shape {cost.shape} but there are {n_classes} classes "
                f"{_format_classes(self.classes_)}: pass an ({n_classes}, {n_classes}) array, "
                "rows for the true class and columns for the predicted class in classes_ order."
            )
        if not np.all(np.isfinite(cost)) or np.any(cost < 0):
            raise ValueError("cost_matrix must be finite and non-negative.")
        return cost

    def _init_spec(self, name, cost):
        """``("fixed", offsets)`` or ``("tuned", direction, theory)``; see ``init``."""
        K = len(self.classes_)
        init = self.init
        shift = np.log(self.target_prior_) if self.target_prior_ is not None else 0.0
        shift = shift - np.log(self.source_prior_)  # log p_t - log p_s (uniform p_t if None)
        if cost is not None:
            cost = cost / max(float(cost.max()), 1e-300)  # only ratios matter; no overflow
            miss = (cost.sum(axis=1) - np.diag(cost) * K) / max(K - 1, 1)
            miss = np.maximum(miss, 1e-12 * max(float(miss.max()), 1e-300))
            direction = np.log(miss) + (shift if self.target_prior_ is not None else 0.0)
        else:
            direction = shift
        direction = direction - direction.mean()
        theory = 0.0 if name == "accuracy" and self.target_prior_ is None else 1.0
        if isinstance(init, str):
            if init == "auto":
                return ("tuned", direction, theory)
            if init == "zeros":
                return ("fixed", np.zeros(K))
            return ("fixed", direction)  # "logit_adjustment" (the cost offsets with costs)
        try:
            init = _as_numeric_array(init, "init")
        except (TypeError, ValueError):
            raise ValueError(
                f"init must be 'auto', 'logit_adjustment', 'zeros' or an array of {K} numbers; "
                f"got {init!r}."
            ) from None
        if init.shape != (K,):
            raise ValueError(
                f"init has shape {init.shape} but there are {K} classes "
                f"{_format_classes(self.classes_)}."
            )
        if not np.all(np.isfinite(init)):
            raise ValueError("init must be finite.")
        return ("fixed", init)

    def _alphas(self, n_classes):
        if isinstance(self.alpha, str):
            # binary: one threshold fit on every held-out sample; a penalty towards the
            # (grid-tuned) logit-adjustment threshold only lost accuracy in the benchmark
            return np.array([0.0]) if n_classes == 2 else np.array(_AUTO_ALPHAS)
        try:
            alphas = np.atleast_1d(_as_numeric_array(self.alpha, "alpha"))
        except (TypeError, ValueError):
            raise ValueError(
                f"alpha must be 'auto', a number or an array of numbers; got {self.alpha!r}."
            ) from None
        if alphas.ndim != 1 or alphas.size == 0:
            raise ValueError(f"alpha must be a non-empty 1-D array; got shape {alphas.shape}.")
        if np.any(np.isnan(alphas)) or np.any(alphas < 0):
            raise ValueError(f"alpha must be non-negative (inf allowed); got {alphas.tolist()}.")
        return np.unique(alphas)

    # -- fit -----------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit the inner model once per fold and learn the offsets on its held-out scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (validation data for a frozen inner model), passed to
            the inner estimator as is.
        y : array-like of shape (n_samples,)
            Labels, of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights for the inner ``fit`` (when it accepts them), the ``"auto"``
            source prior and the scorer (when it accepts them). With metadata
            routing enabled they go where they are requested.
        **params : dict
            Other metadata: ``groups`` goes to the splitter, the rest to the
            inner ``fit``; with metadata routing enabled, routed to the inner
            ``fit``, the splitter and the scorer.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X, y, sample_weight = _validate_fit_data(self, X, y, sample_weight)
        estimator = self._get_estimator()
        frozen = isinstance(estimator, FrozenEstimator)
        name = self._scoring_name()
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                "ClassOffsetClassifierCV needs samples of at least 2 classes; got 1 class "
                f"{_format_classes(classes)}."
            )
        alphas = self._alphas(len(classes))
        scorer = self._get_scorer(classes)
        fit_params, split_params, score_params = _route_fit_params(
            self, scorer, sample_weight, params)

        # -- held-out log-scores: one fit per fold (a frozen model: none), pooled
        cv = self._check_cv(y, frozen=frozen)
        splits = _materialise_splits(cv, X, y, _num_samples(X), **split_params)
        if not self.refit and not frozen and len(splits) > 1:
            raise ValueError(
                "refit=False needs a single split (e.g. cv=0.25), whose training part gives "
                f"the final model; cv gives {len(splits)} splits."
            )
        n_samples = _num_samples(X)
        held = np.concatenate([test for _, test in splits]) % max(n_samples, 1)
        if len(np.unique(held)) != len(held):
            raise ValueError(
                "cv holds out some samples more than once (e.g. ShuffleSplit or a repeated "
                "k-fold): the offsets are scored on the pooled held-out samples and alpha is "
                "chosen across those folds, so every sample must be held out at most once. "
                "Use a k-fold splitter (the default) or a single split."
            )
        corrector = LogitAdjuster(estimator, source_prior=self.source_prior)
        held_out = _held_out_scores(corrector, X, y, splits, fit_params=fit_params,
                                    n_jobs=self.n_jobs,
                                    keep_estimators=not self.refit and not frozen)
        if frozen:
            final = held_out.final
        elif self.refit:
            final = clone(corrector).fit(X, y, **fit_params)
        else:
            final = held_out.estimators[0]
        log_scores, held, fold_of = held_out.log_scores, held_out.indices, held_out.fold
        for attr in ("estimator_", "classes_", "n_features_in_", "feature_names_in_",
                     "source_prior_"):
            if hasattr(final, attr):
                setattr(self, attr, getattr(final, attr))
        classes = self.classes_
        cost = self._check_cost_matrix(len(classes))

        # -- the metric on the pooled held-out samples
        y_held = _safe_indexing(y, held)
        y_idx = _encode(y_held, classes, name="y", classes_name="classes_")
        held_params = _check_method_params(X, score_params, indices=held)
        w = held_params.get("sample_weight")
        w = np.ones(len(held)) if w is None else np.asarray(w, dtype=np.float64)
        count_weights = w  # sample weights: how much evidence each held-out sample is
        self.target_prior_ = None
        if self.target_prior is not None:
            # score as if the held-out classes had the target prior: importance weights
            self.target_prior_ = check_prior(self.target_prior, classes, name="target_prior",
                                             y=y, sample_weight=sample_weight, allow_zero=True)
            if np.any(self.target_prior_ == 0):
                raise ValueError(
                    f"target_prior is zero for classes "
                    f"{_format_classes(classes[self.target_prior_ == 0])}: the offsets start "
                    "from log p_t and weigh the held-out samples by p_t, so every class needs "
                    "a positive target weight. Give these classes a small weight, or drop them."
                )
            held_prior = np.bincount(y_idx, weights=w, minlength=len(classes))
            held_prior = held_prior / held_prior.sum()
            ratio = np.divide(self.target_prior_, held_prior, out=np.zeros(len(classes)),
                              where=held_prior > 0)
            w = w * ratio[y_idx]
            if "sample_weight" not in held_params and not getattr(
                    scorer, "_accept_sample_weight", lambda: False)():
                raise ValueError(
                    f"target_prior re-weights the held-out samples, but the scorer "
                    f"{self.scoring!r} does not accept sample_weight."
                )
            held_params["sample_weight"] = w
        fast = _fast_name(name if isinstance(name, str) else scorer, len(classes), classes)
        extra = set(held_params) - {"sample_weight"}
        if name == "cost":
            metric = _ConfusionMetric("cost", y_idx, w, len(classes), cost_matrix=cost,
                                      count_weights=count_weights)
        elif fast is not None and not extra:
            pos = int(np.flatnonzero(np.asarray(classes) == 1)[0]) if fast == "f1" else None
            metric = _ConfusionMetric(fast, y_idx, w, len(classes), pos_index=pos,
                                      count_weights=count_weights)
        else:
            metric = _ScorerMetric(
                scorer, repr(self.scoring), _safe_indexing(X, held), y_held, log_scores,
                classes, y_idx, w, held_params, self.max_candidates, count_weights)
        if not metric.present.any():
            raise ValueError("No held-out sample has a positive weight; cannot score offsets.")

        # -- choose alpha on the pooled scores, then fit the offsets on all of them
        init_spec = self._init_spec(name, cost)
        self.init_offsets_, self.init_tau_ = _resolve_init(init_spec, log_scores, metric)
        if len(alphas) > 1:
            self.cv_results_ = self._select_alpha(log_scores, metric, alphas, fold_of, y_idx,
                                                  init_spec)
            self.alpha_ = float(self.cv_results_["alpha"][self.cv_results_["best_index"]])
        else:
            self.alpha_ = float(alphas[0])
        self.offsets_, self.objective_path_ = _coordinate_ascent(
            log_scores, metric, self.init_offsets_, self.alpha_,
            max_iter=self.max_iter, tol=self.tol)
        self.n_iter_ = max(len(self.objective_path_) - 1, 1)
        self.best_score_ = self._score_offsets(metric, log_scores, self.offsets_)
        self.init_score_ = self._score_offsets(metric, log_scores, self.init_offsets_)
        if metric.kind == "scorer" and np.isfinite(self.alpha_):
            self._warn_if_constant(metric, log_scores)
        return self

    @staticmethod
    def _score_offsets(metric, log_scores, offsets):
        """The reported score of ``offsets`` (a cost metric in the costs' own units)."""
        if metric.kind == "scorer":
            return metric.score_offsets(offsets)
        return metric.score(np.argmax(log_scores + offsets, axis=1))

    def _warn_if_constant(self, metric, log_scores):
        # offsets that send everything to one class, then to another: a scorer that
        # cannot tell them apart (e.g. roc_auc on argmax-invariant scores) is constant
        K = log_scores.shape[1]
        spread = float(np.ptp(log_scores[np.isfinite(log_scores)])) if log_scores.size else 0.0
        probes = []
        for k in range(min(K, 3)):
            b = np.zeros(K)
            b[k] = 2 * spread + 10
            probes.append(metric.score_offsets(b))
        probes += [self.best_score_, self.init_score_]
        if np.ptp(probes) == 0:
            warnings.warn(
                f"scoring={self.scoring!r} gives the same score whatever the offsets (e.g. a "
                "ranking metric such as ROC AUC is unchanged by them); the offsets stay at "
                "init. Use a metric of the predicted classes.",
                UserWarning, stacklevel=3,
            )

    def _select_alpha(self, log_scores, metric, alphas, fold_of, y_idx, init_spec):
        """Pooled cross-validation of ``alpha`` over the held-out samples (no model refit)."""
        folds = np.unique(fold_of)
        if len(folds) < 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # single-sample classes stay in training
                inner = list(TailSafeStratifiedKFold(
                    5, shuffle=True, random_state=self.random_state).split(y_idx, y_idx))
        else:
            inner = [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f))
                     for f in folds]
        jobs = [(a, f) for a in range(len(alphas)) for f in range(len(inner))]
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_fold_offsets)(log_scores, metric, init_spec, alphas[a], inner[f][0],
                                       self.max_iter, self.tol)
            for a, f in jobs
        )
        n, K = log_scores.shape
        pooled = np.zeros(len(alphas))
        fold_scores = np.full((len(alphas), len(inner)), np.nan)
        n_iter = np.zeros(len(alphas))
        covered = np.zeros(n, dtype=bool)
        for _, test in inner:
            covered[test] = True
        rows = np.flatnonzero(covered)
        for a in range(len(alphas)):
            offsets = np.tile(self.init_offsets_, (n, 1))
            for f, (_, test) in enumerate(inner):
                b, iters = results[a * len(inner) + f]
                offsets[test] = b
                n_iter[a] += iters / len(inner)
                sub = metric.subset(test)
                if sub.present.any():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            fold_scores[a, f] = self._score_offsets(sub, log_scores[test], b)
                        except ValueError:
                            pass
            sub = metric.subset(rows)
            if sub.kind == "scorer":
                pooled[a] = sub.score_offsets(offsets[rows], log_scores[rows])
            else:
                pooled[a] = sub.score(np.argmax(log_scores[rows] + offsets[rows], axis=1))
        top = pooled.max()
        best = int(np.flatnonzero(pooled >= top - 1e-12 * max(metric.scale, abs(top)))[-1])
        return {"alpha": alphas, "pooled_score": pooled, "fold_scores": fold_scores,
                "n_iter": n_iter, "best_index": best}

    # -- prediction ----------------------------------------------------------------------
    def _offset_scores(self, X):
        check_is_fitted(self)
        scores = _inner_log_scores(self.estimator_, X)
        if scores.shape[1] != len(self.classes_):
            raise ValueError(
                f"The inner estimator returned {scores.shape[1]} scores per sample for "
                f"{len(self.classes_)} classes."
            )
        return scores + self.offsets_

    @available_if(_has_scores)
    def decision_function(self, X):
        """Offset log-scores ``z + b``; for binary problems the log-odds of ``classes_[1]``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            ``predict`` returns the class of the largest score (binary:
            positive scores mean ``classes_[1]``).
            Finite: a probability of exactly 0 scores the log of the smallest
            normal float (about -708), not -inf.
        """
        z = _finite_log_scores(self._offset_scores(X))
        if z.shape[1] == 2:
            with np.errstate(invalid="ignore"):
                d = z[:, 1] - z[:, 0]
            return np.where(np.isnan(d), 0.0, d)
        return z

    @available_if(_has_scores)
    def predict(self, X):
        """Class of the largest offset log-score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        z = self._offset_scores(X)
        return self.classes_[np.argmax(z, axis=1)]

    @available_if(_has_scores)
    def predict_proba(self, X):
        """Re-weighted posteriors ``softmax(z + b)``, whose argmax is :meth:`predict`.

        Not calibrated probabilities in general: the offsets are decision
        offsets (see the Notes of the class); ``estimator_.predict_proba``
        gives the inner model's own.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, as accepted by the inner estimator.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        return adjust_logits(self._offset_scores(X), output="proba")

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
            ``log_softmax(z + b)``.
        """
        return adjust_logits(self._offset_scores(X), output="log_proba")

    def get_metadata_routing(self):
        """Metadata routing: to the inner ``fit``, the splitter and the scorer.

        Returns
        -------
        routing : MetadataRouter
            Routing information.
        """
        return _cv_routing(self)

    def __sklearn_tags__(self):
        return _with_inner_tags(super().__sklearn_tags__(), self._get_estimator())
