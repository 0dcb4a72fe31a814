"""The functional core: the one place where priors touch logits.

Every post-hoc correction in sklt is one mechanism (``METHODS.md`` §1)::

    z' = delta * z + s * (log p_t - log p_s),      P_f = softmax(z')

with ``z`` the model's logits (for a probabilistic model ``log p``), ``delta`` a
temperature (likelihood flattening, 000 eq. 9), ``s`` the strength of the
adjustment (``tau`` of post-hoc logit adjustment, 004 eq. 9; ``lam`` of prior
rebalancing, 000 eq. 5-7), ``p_s`` and ``p_t`` the source and target priors.

All functions work in log space, along any class axis (a segmentation map of
shape ``(N, K, H, W)`` uses ``axis=1``), keep float32 as float32, never modify
their input and process large arrays in cache-sized chunks.

Implementation notes (speed and exactness)
------------------------------------------
:func:`adjust_logits` allocates its output and one chunk-sized scratch buffer,
nothing else, and makes one transcendental pass per element where the maths
allows: the temperature, the prior offset and the change to base 2 are fused
into one affine map ``u = z * (log2(e) / T) + s * log2(p_t / p_s)`` followed by
one ``exp2`` (or ``log2`` then ``exp2`` for probabilities with a temperature).
The usual subtraction of the row maximum is skipped while the row sums of
``2**u`` stay in a safe range (checked on the sums, a vector ``K`` times
smaller than the data); a chunk whose sums leave it is recomputed with the
shift, and a chunk whose values overflow the dtype in float64 with exact
log-space arithmetic. NaN and infinite inputs are detected the same way, on
the row sums or row maxima, so validation costs no extra pass over the data.
Scores held in a Dask array are adjusted lazily, block by block.
"""

import functools
import operator
from numbers import Real

import numpy as np

__all__ = [
    "adjust_logits",
    "log_prior_ratio",
    "noisy_or",
    "softmax",
]

# Elements processed per chunk: large enough to amortise Python overhead, small
# enough that a chunk and its scratch buffer stay in the CPU cache.
_CHUNK_ELEMENTS = 1 << 18

_LOG2E = float(np.log2(np.e))
_LN2 = float(np.log(2.0))

# Row sums S of 2**u accepted without the max-shift, per dtype and output:
# below the lower bound small probabilities would lose precision (terms
# underflow); for probabilities, above the upper bound 1/S would be subnormal;
# for log-probabilities, ``u - log S`` loses about eps * |log S| to cancellation,
# so the bound keeps that within a few units in the last place.
_SAFE_SUM = {
    (np.dtype(np.float32), "proba"): (2.0**-20, 2.0**100),
    (np.dtype(np.float32), "log_proba"): (2.0**-20, 2.0**40),
    (np.dtype(np.float64), "proba"): (2.0**-100, 2.0**1000),
    (np.dtype(np.float64), "log_proba"): (2.0**-100, 2.0**100),
}

_INPUTS = ("logits", "proba", "log_proba")
_OUTPUTS = ("log_proba", "proba", "logits")


# --------------------------------------------------------------------------- validation
def _as_float_array(scores, name="scores"):
    """``scores`` as a float32 (kept) or float64 ndarray; never a copy when already so."""
    if isinstance(scores, (str, bytes, dict)):
        raise TypeError(f"{name} must be an array-like of numbers; got {type(scores).__name__}.")
    try:
        scores = np.asarray(scores)
    except (ValueError, TypeError) as exc:  # ragged nested sequences and the like
        raise ValueError(f"{name} must be a rectangular array-like of numbers: {exc}") from None
    if scores.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric; got dtype {scores.dtype}.")
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    return scores


def _check_axis(axis, ndim, name="axis", shape=None):
    """A valid axis index in ``[0, ndim)``; non-integers and out-of-range values raise."""
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer; got the boolean {axis!r}.")
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name} must be an integer; got {axis!r}.") from None
    if not -ndim <= axis < ndim:
        where = f"shape {shape}" if shape is not None else f"{ndim} dimensions"
        raise ValueError(f"{name}={axis} is out of range for an array of {where}.")
    return axis % ndim


def _check_number(value, name, *, low, low_inclusive):
    """A finite real number above ``low``; returned as a Python float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    ok = value >= low if low_inclusive else value > low
    if not (np.isfinite(value) and ok):
        bound = ">= 0" if low_inclusive else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}.")
    return value


def _check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")
    return value


def _is_uniform(prior):
    return prior is None or (isinstance(prior, str) and prior == "uniform")


def _check_prior_array(prior, n_classes, name, allow_zero):
    """Validate one prior and return it normalised (float64), or None for uniform.

    Priors are divided by their maximum before they are normalised, so that any
    finite non-negative weights give the exact prior (``[1e308] * 3`` is uniform).
    ``n_classes`` may be None when no other argument tells it.
    """
    if _is_uniform(prior):
        return None
    n_weights = "weights" if n_classes is None else f"{n_classes} weights"
    if isinstance(prior, str):
        raise ValueError(
            f"{name} must be None, 'uniform' or an array of {n_weights} (one per class); got "
            f"the string {prior!r}."
        )
    if isinstance(prior, (dict, set)):
        raise TypeError(
            f"{name} must be an array of {n_weights} in class order; got a "
            f"{type(prior).__name__}. Convert a {{label: weight}} dict with "
            "sklt.priors.check_prior(prior, classes) first."
        )
    try:
        values = np.asarray(prior, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be an array of {n_weights}, non-negative numbers; got {prior!r} ({exc})."
        ) from None
    if values.ndim != 1:
        what = "a scalar" if values.ndim == 0 else f"an array of shape {values.shape}"
        raise ValueError(f"{name} must be a 1-D array of weights, one per class; got {what}.")
    if values.shape[0] == 0:
        raise ValueError(f"{name} is empty; pass one weight per class.")
    if n_classes is not None and values.shape[0] != n_classes:
        raise ValueError(
            f"{name} has shape {values.shape} but the scores have {n_classes} classes along "
            "the class axis; pass one weight per class."
        )
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{name} must be finite and non-negative; got {values}.")
    zero = values == 0
    if not allow_zero and np.any(zero):
        raise ValueError(
            f"{name} has zero entries at classes {np.flatnonzero(zero).tolist()}: the "
            "correction divides by it. Smooth the prior or drop those classes."
        )
    top = values.max()
    if not top > 0:
        raise ValueError(f"{name} sums to zero; give at least one class a positive weight.")
    values = values / top
    return values / values.sum()


def _check_n_classes(n_classes):
    if isinstance(n_classes, (bool, np.bool_)):
        raise TypeError(f"n_classes must be a positive integer; got {n_classes!r}.")
    try:
        n_classes = operator.index(n_classes)
    except TypeError:
        raise TypeError(f"n_classes must be a positive integer; got {n_classes!r}.") from None
    if n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer; got {n_classes}.")
    return n_classes


def _prior_length(prior):
    if _is_uniform(prior) or isinstance(prior, (str, dict, set)):
        return None
    try:
        return len(prior)
    except TypeError:
        return None


def log_prior_ratio(source_prior, target_prior, n_classes=None):
    """``log p_t - log p_s``, the offset that moves logits from one prior to another.

    Parameters
    ----------
    source_prior : array-like of shape (n_classes,), "uniform" or None
        Prior the logits are entangled with (``None`` or ``"uniform"``:
        uniform). Must be strictly positive. Any finite non-negative weights
        are accepted and normalised (exactly, also near the largest float).
    target_prior : array-like of shape (n_classes,), "uniform" or None
        Prior to move to (``None`` or ``"uniform"``: uniform). Zero entries give
        ``-inf``: the class is never predicted.
    n_classes : int, default=None
        Number of classes, needed when both priors are uniform.

    Returns
    -------
    offset : ndarray of shape (n_classes,), dtype float64

    See Also
    --------
    sklt.priors.check_prior : Turns ``"auto"`` and ``{label: weight}`` specifications
        into the arrays this function takes.

    Examples
    --------
    >>> from sklt.adjust import log_prior_ratio
    >>> log_prior_ratio([0.8, 0.2], None).round(3)
    array([-0.47 ,  0.916])
    >>> log_prior_ratio([1e308, 1e308], [1e308, 1e307]).round(3)
    array([ 0.598, -1.705])
    """
    if n_classes is not None:
        n_classes = _check_n_classes(n_classes)
    else:
        n_classes = _prior_length(source_prior)
        if n_classes is None:
            n_classes = _prior_length(target_prior)
        if n_classes is None:
            if _is_uniform(source_prior) and _is_uniform(target_prior):
                raise ValueError("n_classes is needed when both priors are None or 'uniform'.")
            # neither prior has a length: the checks below name the malformed one
            _check_prior_array(source_prior, None, "source_prior", allow_zero=False)
            _check_prior_array(target_prior, None, "target_prior", allow_zero=True)
    source = _check_prior_array(source_prior, n_classes, "source_prior", allow_zero=False)
    target = _check_prior_array(target_prior, n_classes, "target_prior", allow_zero=True)
    offset = np.zeros(n_classes)
    with np.errstate(divide="ignore"):
        offset += np.log(target) if target is not None else -np.log(n_classes)
        offset -= np.log(source) if source is not None else -np.log(n_classes)
    return offset


# --------------------------------------------------------------------------- the kernel
def _is_dask_array(x):
    return type(x).__module__.split(".")[0] == "dask" and hasattr(x, "map_blocks")


def adjust_logits(
    scores,
    source_prior=None,
    target_prior=None,
    *,
    strength=1.0,
    temperature=1.0,
    axis=-1,
    input="logits",
    output="log_proba",
):
    """Move scores from the source prior to the target prior: ``delta z + s (log p_t - log p_s)``.

    This is the mechanism of every post-hoc correction in sklt (``METHODS.md`` §1):

    ===================================== =================== ================= ==========
    method                                ``strength`` (s)    ``temperature``   ``p_t``
    ===================================== =================== ================= ==========
    post-hoc logit adjustment (004 eq. 9) tau                 1                 uniform
    PC Softmax (002 eq. 4)                1                   1                 any
    prior rebalancing, IC (000 eq. 5-7)   lambda              1                 any
    likelihood flattening (000 eq. 9)     any                 1 / delta         any
    ===================================== =================== ================= ==========

    The temperature divides the scores: ``delta = 1 / temperature``.

    Parameters
    ----------
    scores : array-like or dask array
        Logits, probabilities or log-probabilities (see ``input``), with the
        classes along ``axis``. Any number of other dimensions. A Dask array
        gives a Dask array, computed block by block (see :ref:`scaling`).
    source_prior : array-like of shape (n_classes,), "uniform" or None, default=None
        Prior the scores are entangled with; ``None`` is uniform. Strictly
        positive.
    target_prior : array-like of shape (n_classes,), "uniform" or None, default=None
        Prior to predict under; ``None`` is uniform. A zero entry gives the class
        probability 0.
    strength : float, default=1.0
        ``s >= 0``; 0 leaves the scores unchanged (up to the temperature),
        values above 1 extrapolate.
    temperature : float, default=1.0
        Positive; the scores are divided by it before the prior offset is added.
    axis : int, default=-1
        The class axis.
    input : {"logits", "proba", "log_proba"}, default="logits"
        What ``scores`` holds. Probabilities are mapped to log space with
        ``log`` (an exact zero stays a zero probability).
    output : {"log_proba", "proba", "logits"}, default="log_proba"
        ``"log_proba"``: normalised log-posteriors (``log_softmax``);
        ``"proba"``: posteriors (rows sum to one); ``"logits"``: the adjusted,
        unnormalised scores ``z'``.

    Returns
    -------
    adjusted : ndarray
        Same shape as ``scores``; float32 if ``scores`` is float32, else float64.

    Raises
    ------
    ValueError
        If the scores hold NaN or ``+inf`` (or negative probabilities), if a row
        has no class left with a positive probability, or if a parameter is out
        of range. The message names the parameter. Huge but finite scores,
        strengths and inverse temperatures give the exact (finite) answer for
        ``"proba"`` and ``"log_proba"``; for ``"logits"``, whose values cannot be
        shifted, an overflow raises.

    Notes
    -----
    The work is one fused pass per cache-sized chunk: no temporaries beyond
    the output and one chunk-sized buffer (see the module's notes). The
    results equal ``log_softmax(z / T + s * (log p_t - log p_s))`` to a few
    units in the last place.

    See Also
    --------
    sklt.LogitAdjuster : The meta-estimator for post-hoc logit adjustment.
    sklt.PriorShiftClassifier : The meta-estimator for prior rebalancing.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.adjust import adjust_logits
    >>> proba = np.array([[0.7, 0.3], [0.9, 0.1]])
    >>> adjust_logits(proba, source_prior=[0.9, 0.1], input="proba", output="proba").round(3)
    array([[0.206, 0.794],
           [0.5  , 0.5  ]])

    A segmentation map with classes on axis 1:

    >>> maps = np.random.default_rng(0).normal(size=(2, 3, 4, 4)).astype(np.float32)
    >>> adjust_logits(maps, source_prior=[0.6, 0.3, 0.1], axis=1, output="proba").dtype
    dtype('float32')
    """
    if _is_dask_array(scores):
        return _adjust_dask(
            scores, source_prior, target_prior, strength=strength, temperature=temperature,
            axis=axis, input=input, output=output,
        )
    return _adjust(scores, source_prior, target_prior, strength, temperature, axis, input,
                   output, "scores")


def _adjust(scores, source_prior, target_prior, strength, temperature, axis, input, output,
            name):
    scores = _as_float_array(scores, name)
    if scores.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the class axis).")
    input = _check_choice(input, "input", _INPUTS)
    output = _check_choice(output, "output", _OUTPUTS)
    strength = _check_number(strength, "strength", low=0.0, low_inclusive=True)
    temperature = _check_number(temperature, "temperature", low=0.0, low_inclusive=False)
    axis = _check_axis(axis, scores.ndim, shape=scores.shape)
    n_classes = scores.shape[axis]
    if n_classes == 0:
        raise ValueError(
            f"{name} has no classes: axis {axis} of its shape {scores.shape} has length 0."
        )
    dtype = scores.dtype
    finfo = np.finfo(dtype)

    ratio = None
    if not (_is_uniform(source_prior) and _is_uniform(target_prior)):
        ratio = log_prior_ratio(source_prior, target_prior, n_classes)
        if strength == 0 or not np.any(ratio):
            ratio = None
    with np.errstate(over="ignore", divide="ignore"):
        inv_t = 1.0 / temperature
    if not inv_t <= np.finfo(np.float64).max:
        raise ValueError(
            f"temperature={temperature!r} is too small: 1/temperature overflows float64. "
            f"Use a temperature of at least {1 / np.finfo(np.float64).max:.3g}."
        )
    offset = None
    if ratio is not None:
        if output != "logits":
            # Softmax is invariant to a constant offset: shifting the ratio so
            # that its maximum is 0 keeps ``strength * ratio`` from overflowing.
            ratio = ratio - ratio.max()
        with np.errstate(over="ignore", invalid="ignore"):
            offset = strength * ratio
            cast = offset.astype(dtype)
        if output == "logits" and not np.all(cast < np.inf):
            raise ValueError(
                f"strength={strength!r} times log(target_prior / source_prior) overflows "
                f"{dtype}: the adjusted logits cannot be represented. Lower strength, or use "
                "output='log_proba', which is computed without overflow."
            )

    out = np.empty(scores.shape, dtype=dtype)
    if scores.size == 0:
        return out
    kernel = _Kernel(dtype, finfo, n_classes, axis, scores.ndim, inv_t, offset, input, output,
                     name, strength, temperature)
    kernel.run(scores, out)
    return out


class _Kernel:
    """Chunked evaluation of one adjustment; see the module's implementation notes."""

    def __init__(self, dtype, finfo, n_classes, axis, ndim, inv_t, offset, input, output, name,
                 strength, temperature):
        self.dtype, self.axis, self.ndim = dtype, axis, ndim
        self.input, self.output, self.name = input, output, name
        self.strength, self.temperature = strength, temperature
        self.inv_t = inv_t  # float64
        self.offset = offset  # float64 natural units (<= 0 for probability outputs) or None
        bshape = [1] * ndim
        bshape[axis] = n_classes
        self.bshape = tuple(bshape)
        t = dtype.type
        self.lo, self.hi = (t(v) for v in _SAFE_SUM.get((dtype, output), (1.0, 1.0)))
        self.log2e, self.ln2 = t(_LOG2E), t(_LN2)
        # inverse temperature in the dtype; None when it does not fit or is 1
        self.a_fits = inv_t <= float(finfo.max)
        self.a = t(inv_t) if self.a_fits else None
        self.a2 = t(inv_t * _LOG2E) if inv_t * _LOG2E <= float(finfo.max) else None
        with np.errstate(over="ignore"):
            if offset is not None:
                self.b = offset.astype(dtype).reshape(self.bshape)
                self.b2 = (offset * _LOG2E).astype(dtype).reshape(self.bshape)
                self.r = np.exp(offset).astype(dtype).reshape(self.bshape)
            else:
                self.b = self.b2 = self.r = None
        # the max-shift is used from the first chunk that needs it on
        self.shift = False
        # offsets tiled to the chunk's shape: a contiguous add is cheaper than a
        # broadcast one (no per-row dispatch)
        self._tiles = {}
        # few classes on the contiguous last axis: per-row ufunc loops would be
        # dominated by their dispatch, so row-wise operations go column by column
        self.short = axis == ndim - 1 and n_classes <= 16
        letters = "abcdefghijklmnopqrstuvwxyz"[:ndim]
        self._sum_spec = f"{letters}->{letters.replace(letters[axis], '')}"

    # ---------------------------------------------------------------- driver
    def run(self, src, dst):
        exact_only = not (self.a_fits and self.a2 is not None)  # 1/T does not fit the dtype
        scratch = None
        for sl in self._chunks(src.shape):
            s, d = src[sl], dst[sl]
            if exact_only:
                self._exact(s, d)
                continue
            if self.output == "logits":
                if not self._logits(s, d):
                    self._exact(s, d)
                continue
            if self.output == "log_proba" and (scratch is None or scratch.shape != d.shape):
                scratch = np.empty(d.shape, dtype=self.dtype)
            if not self.shift and self._fast(s, d, scratch):
                continue
            self.shift = True
            if not self._shifted(s, d, scratch):
                self._exact(s, d)

    def _chunks(self, shape):
        ndim, axis = len(shape), self.axis
        if ndim == 1:
            yield (slice(None),)
            return
        cax = 0 if axis != 0 else 1
        per_unit = int(np.prod(shape, dtype=np.int64)) // max(1, shape[cax])
        step = max(1, _CHUNK_ELEMENTS // max(1, per_unit))
        n = shape[cax]
        for start in range(0, n, step):
            sl = [slice(None)] * ndim
            sl[cax] = slice(start, min(start + step, n))
            yield tuple(sl)

    def _sum(self, x):
        """Sums along the class axis (keepdims); einsum's SIMD reduction, no temporary."""
        total = np.einsum(self._sum_spec, x)
        return np.expand_dims(total, self.axis)

    def _max(self, x):
        """Maxima along the class axis (keepdims); NaN propagates."""
        if self.short and x.dtype == self.dtype:
            # few classes on the last axis: column by column, not one tiny reduction per row
            top = x[..., 0].copy()
            for j in range(1, x.shape[-1]):
                np.maximum(top, x[..., j], out=top)
            return top[..., None]
        return x.max(axis=self.axis, keepdims=True)

    def _rowwise(self, ufunc, d, v):
        """``d = ufunc(d, v)`` for one value per row ``v`` (keepdims shape), in place."""
        if self.short:
            v = v[..., 0]
            for j in range(d.shape[-1]):
                ufunc(d[..., j], v, out=d[..., j])
        else:
            ufunc(d, v, out=d)

    def _tile(self, key, shape):
        """``self.<key>`` (class-axis vector) broadcast to ``shape`` as a contiguous array."""
        tile = self._tiles.get(key)
        if tile is None or any(t < n for t, n in zip(tile.shape, shape, strict=True)):
            tile = np.ascontiguousarray(np.broadcast_to(getattr(self, key), shape))
            self._tiles[key] = tile
        if tile.shape != shape:
            tile = tile[tuple(slice(0, n) for n in shape)]
        return tile

    # ---------------------------------------------------------------- fast path
    def _logits(self, src, d):
        """``d = a * z + b``; False when a row maximum is not finite (NaN, +inf, overflow)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._affine_natural(src, d)
            return bool(np.all(np.isfinite(self._max(d))))

    def _fast(self, src, d, s):
        """Unshifted evaluation; False when the row sums say it is not exact."""
        inp, out = self.input, self.output
        if inp == "proba" and self.a == 1:
            return self._fast_linear(src, d, s)
        if out == "proba":
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._affine_base2(src, d)
                np.exp2(d, out=d)
                total = self._sum(d)
                if not self._safe(total):
                    return False
                self._rowwise(np.divide, d, total)  # t / S <= 1 exactly
            return True
        # log_proba
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            base = self._affine_natural(src, d)
            np.multiply(base, self.log2e, out=s)
            np.exp2(s, out=s)
            total = self._sum(s)
            if not self._safe(total):
                return False
            if self.short:
                if base is not d:
                    np.copyto(d, base)
                self._rowwise(np.subtract, d, np.log(total))
            else:
                np.subtract(base, np.log(total), out=d)
            # unshifted, the largest entry may round a few ulps above 0: clip, so that
            # exp(log_proba) <= 1
            np.minimum(d, 0, out=d)
        return True

    def _fast_linear(self, src, d, s):
        """Probabilities without temperature: ``p * r / sum(p * r)``, no transcendental."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.output == "proba":
                if self.r is not None:
                    np.multiply(src, self._tile("r", d.shape), out=d)
                else:
                    np.copyto(d, src)
                total = self._sum(d)
                if not (self._safe(total) and d.min() >= 0):
                    return False
                self._rowwise(np.divide, d, total)  # t / S <= 1 exactly
                return True
            # log_proba: log p + b - log sum(p r); exact also for tiny p
            prod = src
            if self.r is not None:
                prod = np.multiply(src, self._tile("r", d.shape), out=s)
            total = self._sum(prod)
            if not (self._safe(total) and prod.min() >= 0):
                return False
            with np.errstate(divide="ignore"):
                np.log(src, out=d)
            if self.b is not None:
                d += self._tile("b", d.shape)
            self._rowwise(np.subtract, d, np.log(total))
            np.minimum(d, 0, out=d)  # rounding may put the largest entry just above 0
        return True

    def _safe(self, total):
        # False for NaN too
        return bool(total.min() >= self.lo) and bool(total.max() <= self.hi)

    def _affine_natural(self, src, d):
        """``d = a * z + b`` (natural units; ``z = log p`` for probabilities); returns the array."""
        a, b = self.a, self.b
        if self.input == "proba":
            with np.errstate(divide="ignore", invalid="ignore"):
                if a == 1:
                    np.log(src, out=d)
                else:
                    np.log2(src, out=d)
                    d *= self.dtype.type(self.inv_t * _LN2)
            if b is not None:
                d += self._tile("b", d.shape)
            return d
        if a != 1:
            np.multiply(src, a, out=d)
            if b is not None:
                d += self._tile("b", d.shape)
            return d
        if b is not None:
            np.add(src, self._tile("b", d.shape), out=d)
            return d
        if self.output == "logits":
            np.copyto(d, src)
            return d
        return src

    def _affine_base2(self, src, d):
        """``d = (a * z + b) * log2(e)``, fused."""
        if self.input == "proba":
            np.log2(src, out=d)
            if self.a != 1:
                d *= self.a
        else:
            np.multiply(src, self.a2, out=d)
        if self.b2 is not None:
            d += self._tile("b2", d.shape)
        return d

    # ---------------------------------------------------------------- shifted path
    def _shifted(self, src, d, s):
        """Classic evaluation with the row maximum subtracted; False on non-finite maxima."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.output == "proba":
                self._affine_base2(src, d)
                m = self._max(d)
                if not np.all(np.isfinite(m)):
                    return False
                self._rowwise(np.subtract, d, m)
                np.exp2(d, out=d)
                self._rowwise(np.divide, d, self._sum(d))
                return True
            base = self._affine_natural(src, d)
            m = self._max(base)
            if not np.all(np.isfinite(m)):
                return False
            if base is not d:
                np.copyto(d, base)
            self._rowwise(np.subtract, d, m)  # exact near the maximum: no cancellation below
            np.multiply(d, self.log2e, out=s)
            np.exp2(s, out=s)
            self._rowwise(np.subtract, d, np.log(self._sum(s)))
        return True

    # ---------------------------------------------------------------- exact path
    def _exact(self, src, d):
        """float64 log-space evaluation that cannot overflow; raises the clear errors."""
        x = src.astype(np.float64)
        name, proba = self.name, self.input == "proba"
        if np.isnan(x).any():
            raise ValueError(f"{name} contains NaN; remove or impute those rows first.")
        if proba and (x < 0).any():
            raise ValueError(
                f"{name} must hold non-negative probabilities when input='proba'; got negative "
                f"values (min {x.min():.3g})."
            )
        if np.isposinf(x).any():
            raise ValueError(f"{name} contains +inf; pass finite scores.")
        if proba:
            with np.errstate(divide="ignore"):
                np.log(x, out=x)
        m = self._max(x)
        dead = np.isneginf(m)
        if dead.any():
            zero = "zero probability" if proba else "a -inf score"
            raise ValueError(
                f"{name} has {int(dead.sum())} row(s) in which every class has {zero}; they "
                "cannot be normalised."
            )
        if self.output == "logits":
            finite_in = np.isfinite(x)
            with np.errstate(over="ignore", invalid="ignore"):
                x *= self.inv_t
                if self.offset is not None:
                    offset = self.offset.reshape(self.bshape)
                    finite_in &= np.isfinite(offset)
                    x += offset
                    # a class with target_prior 0 is -inf, even where a*z overflowed
                    np.copyto(x, -np.inf, where=np.isneginf(offset))
            finite = np.isfinite(x)
            largest = np.abs(x, where=finite, out=np.zeros_like(x)).max()
            too_big = np.any(finite_in & ~finite) or largest > float(np.finfo(self.dtype).max)
            if too_big:
                raise ValueError(
                    f"The adjusted logits overflow {self.dtype}: temperature="
                    f"{self.temperature!r} and strength={self.strength!r} scale {name} beyond "
                    "the largest float. Use a larger temperature or a smaller strength, or "
                    "output='log_proba' (computed without overflow)."
                )
            if self.offset is not None and np.isneginf(self._max(x)).any():
                self._raise_no_class_left(x)
            d[...] = x
            return
        with np.errstate(over="ignore"):  # below the range: -inf, probability 0
            x -= m
            x *= self.inv_t  # <= 0, possibly -inf; never NaN (0 * a = 0)
            if self.offset is not None:
                x += self.offset.reshape(self.bshape)
        m = self._max(x)
        if np.isneginf(m).any():
            self._raise_no_class_left(m)
        x -= m
        if self.output == "proba":
            np.exp(x, out=x)
            x /= x.sum(axis=self.axis, keepdims=True)
        else:
            x -= np.log(np.exp(x).sum(axis=self.axis, keepdims=True))
        with np.errstate(over="ignore"):  # log-probabilities below the dtype's range are -inf
            d[...] = x

    def _raise_no_class_left(self, x):
        n_dead = int(np.isneginf(self._max(x)).sum())
        raise ValueError(
            f"In {n_dead} row(s) of {self.name} every class with a positive probability has "
            "target_prior 0 (or an offset strength * log(p_t / p_s) so negative that it "
            "underflows): no class is left to predict. Give those classes a positive "
            "target_prior, or lower strength."
        )


def _adjust_dask(scores, source_prior, target_prior, **kwargs):
    """Lazy adjustment of a Dask array: the class axis in one block, then map_blocks."""
    if scores.dtype.kind not in "fiub":
        raise TypeError(f"scores must be numeric; got dtype {scores.dtype}.")
    if scores.ndim == 0:
        raise ValueError("scores must have at least one dimension (the class axis).")
    axis = _check_axis(kwargs["axis"], scores.ndim, shape=scores.shape)
    n_classes = scores.shape[axis]
    if not np.isfinite(n_classes):
        raise ValueError("scores has an unknown number of classes; call compute_chunk_sizes().")
    dtype = np.dtype(np.float32) if scores.dtype == np.float32 else np.dtype(np.float64)
    kwargs["axis"] = axis
    # validate every parameter now, not at compute time
    probe = [1] * scores.ndim
    probe[axis] = int(n_classes)
    _adjust(np.zeros(probe, dtype=dtype) + (0.5 if kwargs["input"] == "proba" else 0.0),
            source_prior, target_prior, kwargs["strength"], kwargs["temperature"], axis,
            kwargs["input"], kwargs["output"], "scores")
    scores = scores.rechunk({axis: -1})
    block = functools.partial(adjust_logits, source_prior=source_prior,
                              target_prior=target_prior, **kwargs)
    return scores.map_blocks(block, dtype=dtype, meta=np.empty((0,) * scores.ndim, dtype=dtype))


def softmax(scores, *, axis=-1):
    """Numerically stable softmax along ``axis``, keeping float32 as float32.

    Parameters
    ----------
    scores : array-like
        Logits.
    axis : int, default=-1
        The class axis.

    Returns
    -------
    proba : ndarray
        Non-negative, sums to one along ``axis``.

    Examples
    --------
    >>> from sklt.adjust import softmax
    >>> softmax([[0.0, 0.0], [1e4, 0.0]])
    array([[0.5, 0.5],
           [1. , 0. ]])
    """
    if _is_dask_array(scores):
        return adjust_logits(scores, axis=axis, output="proba")
    return _adjust(scores, None, None, 1.0, 1.0, axis, "logits", "proba", "scores")


def noisy_or(probas, *, axis=0, class_axis=-1):
    """Noisy-or fusion of several posteriors: ``normalise(1 - prod_m (1 - P_m))``.

    UNO-IC (000, Algorithm 1) fuses the per-modality posteriors this way: a
    class is likely if *any* modality is confident in it. Computed in log space
    as ``log(-expm1(sum_m log1p(-P_m)))``, so no information is lost when the
    product is close to one.

    Parameters
    ----------
    probas : array-like
        Stacked posteriors of the modalities, modalities along ``axis``.
    axis : int, default=0
        The modality axis.
    class_axis : int, default=-1
        The class axis of ``probas`` (before the modality axis is removed).

    Returns
    -------
    fused : ndarray
        Posteriors with the modality axis removed; they sum to one along the
        class axis.

    Examples
    --------
    >>> import numpy as np
    >>> from sklt.adjust import noisy_or
    >>> p1 = np.array([[0.8, 0.2]])
    >>> p2 = np.array([[0.5, 0.5]])
    >>> noisy_or(np.stack([p1, p2])).round(3)
    array([[0.6, 0.4]])
    """
    probas = _as_float_array(probas, "probas")
    if probas.ndim < 2:
        raise ValueError(
            "probas must stack posteriors along a modality axis and a class axis (at least 2 "
            f"dimensions); got shape {probas.shape}."
        )
    axis = _check_axis(axis, probas.ndim, "axis", probas.shape)
    class_axis = _check_axis(class_axis, probas.ndim, "class_axis", probas.shape)
    if class_axis == axis:
        raise ValueError(f"axis and class_axis must differ; both are {axis}.")
    if probas.shape[axis] == 0:
        raise ValueError(f"probas has no modalities: axis {axis} of shape {probas.shape} is empty.")
    if probas.shape[class_axis] == 0:
        raise ValueError(
            f"probas has no classes: class_axis {class_axis} of shape {probas.shape} is empty."
        )
    if not (np.all(probas >= 0) and np.all(probas <= 1)):  # False for NaN too
        raise ValueError("probas must be probabilities in [0, 1] without NaN.")
    with np.errstate(divide="ignore"):  # a certain class: log1p(-1) = -inf
        log_none = np.log1p(-probas).sum(axis=axis)
    with np.errstate(divide="ignore"):
        fused = np.log(-np.expm1(log_none))
    new_class_axis = class_axis - (1 if axis < class_axis else 0)
    if fused.size and np.any(np.isneginf(fused.max(axis=new_class_axis))):
        raise ValueError(
            "probas has rows in which every modality gives every class probability 0; noisy-or "
            "cannot normalise them. Posteriors must sum to one over the classes."
        )
    return _adjust(fused, None, None, 1.0, 1.0, new_class_axis, "logits", "proba", "probas")
