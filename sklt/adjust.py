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

With many classes on the last axis (the usual ``(n_samples, n_classes)``
layout) and a large array, each chunk is one block of rows and the work per
row uses BLAS, on one thread: the row sums are matrix-vector products (the
prior ratio ``r = p_t / p_s`` weighting them, so that log-probabilities never
add the offset before the exponential), and ``ln2 * u + b - log S`` is one
rank-2 update of the chunk; probabilities are multiplied by ``1 / S`` (still
``<= 1`` exactly). Each path then costs its first pass over memory plus a few
passes over the cached chunk: ``benchmarks/bench_adjust.py`` measures them.
Scores held in a Dask array are adjusted lazily, block by block.
"""

import contextlib
import functools
import operator
import threading
from numbers import Real

import numpy as np

from ._utils import _as_numeric_array

__all__ = [
    "adjust_logits",
    "log_prior_ratio",
    "noisy_or",
    "softmax",
]

# Elements processed per chunk: large enough to amortise the Python overhead of
# a dozen calls per chunk, small enough that a chunk of the output and its
# scratch buffer (1 MiB each in float32) are read from memory once and stay in
# the cache while every pass runs over them (measured: 2^17 and 2^19 elements
# are slower on the log-probability paths).
_CHUNK_ELEMENTS = 1 << 18

# Rows of more than _SHORT_CLASSES classes on the last axis, in arrays of at
# least _BLAS_MIN_ELEMENTS elements, take the row path: row sums are BLAS
# matrix-vector products and the per-row and per-class offsets of
# log-probabilities are one BLAS rank-1 or rank-2 update (``gemm`` with ``k`` of
# 1 or 2), about three times cheaper than NumPy's broadcast arithmetic. Fewer
# classes use column-by-column loops instead (few, long operations).
_SHORT_CLASSES = 16
_BLAS_MIN_ELEMENTS = 1 << 18

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
    bound = ">= 0" if low_inclusive else "> 0"
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be a finite number {bound}; got an integer too large "
                         "for a float.") from None
    ok = value >= low if low_inclusive else value > low
    if not (np.isfinite(value) and ok):
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}.")
    return value


def _check_choice(value, name, choices):
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}.")
    return value


def _is_uniform(prior):
    return prior is None or (isinstance(prior, str) and prior == "uniform")


def _check_prior_array(prior, n_classes, name, allow_zero, log=False, against=None):
    """Validate one prior and return it normalised (float64), or None for uniform.

    Priors are divided by their maximum before they are normalised, so that any
    finite non-negative weights give the exact prior (``[1e308] * 3`` is uniform).
    With ``log=True`` the log of the normalised prior, computed in log space, so
    that a positive weight far below the largest one (``[1e308, 1, 5e-324]``)
    keeps a finite log instead of underflowing to a zero probability.
    ``n_classes`` may be None when no other argument tells it; ``against`` says
    where it comes from in the error for a wrong length (default: the scores).
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
        # real numbers only: NumPy would parse numeric strings and drop imaginary parts
        values = _as_numeric_array(prior, name)
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
        if against is None:
            against = f"the scores have {n_classes} classes along the class axis"
        raise ValueError(
            f"{name} has shape {values.shape} but {against}; pass one weight per class."
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
    if log:
        with np.errstate(divide="ignore"):
            return np.log(values) - (np.log(top) + np.log(np.sum(values / top)))
    values = values / top
    return values / values.sum()


_MAX_CLASSES = np.iinfo(np.int32).max


def _check_n_classes(n_classes):
    if isinstance(n_classes, (bool, np.bool_)):
        raise TypeError(f"n_classes must be a positive integer; got {n_classes!r}.")
    try:
        n_classes = operator.index(n_classes)
    except TypeError:
        raise TypeError(f"n_classes must be a positive integer; got {n_classes!r}.") from None
    if n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer; got {n_classes}.")
    if n_classes > _MAX_CLASSES:
        raise ValueError(
            f"n_classes={n_classes} is larger than sklt supports ({_MAX_CLASSES}, the "
            "largest 32-bit index)."
        )
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
    return _log_prior_ratio(source_prior, target_prior, n_classes)


def _log_prior_ratio(source_prior, target_prior, n_classes=None, against=None):
    """:func:`log_prior_ratio`; ``against`` names where an explicit ``n_classes`` comes
    from in the error for a prior of the wrong length (default: ``n_classes``)."""
    if n_classes is not None:
        n_classes = _check_n_classes(n_classes)
        source_against = target_against = against or f"n_classes={n_classes}"
    else:
        n_classes = _prior_length(source_prior)
        source_against = None
        target_against = f"source_prior has {n_classes} entries"
        if n_classes is None:
            n_classes = _prior_length(target_prior)
            source_against = f"target_prior has {n_classes} entries"
        if n_classes is None:
            if _is_uniform(source_prior) and _is_uniform(target_prior):
                raise ValueError("n_classes is needed when both priors are None or 'uniform'.")
            # neither prior has a length: the checks below name the malformed one
            _check_prior_array(source_prior, None, "source_prior", allow_zero=False)
            _check_prior_array(target_prior, None, "target_prior", allow_zero=True)
    log_source = _check_prior_array(source_prior, n_classes, "source_prior", allow_zero=False,
                                    log=True, against=source_against)
    log_target = _check_prior_array(target_prior, n_classes, "target_prior", allow_zero=True,
                                    log=True, against=target_against)
    offset = np.zeros(n_classes)
    offset += log_target if log_target is not None else -np.log(n_classes)
    offset -= log_source if log_source is not None else -np.log(n_classes)
    return offset


# --------------------------------------------------------------------------- the kernel
_blas_lock = threading.Lock()
_blas_state = {"users": 0, "libraries": None, "restore": []}


def _blas_libraries():
    """threadpoolctl's controllers of the BLAS libraries loaded (NumPy's, SciPy's)."""
    if _blas_state["libraries"] is None:
        import scipy.linalg  # noqa: F401  (its BLAS must be loaded to be found)
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController().select(user_api="blas")
        _blas_state["libraries"] = list(controller.lib_controllers)
    return _blas_state["libraries"]


@contextlib.contextmanager
def _single_threaded_blas():
    """BLAS on one thread while the row path runs.

    OpenBLAS spreads even the small per-chunk products over every core, which
    costs far more than it saves on a chunk that sits in one core's cache. The
    limit is set by the first concurrent caller and restored by the last one
    (Dask's threaded scheduler runs the kernel in several threads at once), as
    scikit-learn limits BLAS around its own chunked kernels.
    """
    with _blas_lock:
        if _blas_state["users"] == 0:
            restore = []
            for lib in _blas_libraries():
                n_threads = lib.get_num_threads()
                if n_threads is not None and n_threads != 1:
                    lib.set_num_threads(1)
                    restore.append((lib, n_threads))
            _blas_state["restore"] = restore
        _blas_state["users"] += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_state["users"] -= 1
            if _blas_state["users"] == 0:
                for lib, n_threads in _blas_state["restore"]:
                    lib.set_num_threads(n_threads)
                _blas_state["restore"] = []


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
        ratio = _log_prior_ratio(
            source_prior, target_prior, n_classes,
            against=f"the scores have {n_classes} classes along the class axis")
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
    src, dst, ndim = scores, out, scores.ndim
    rows = (axis == ndim - 1 and n_classes > _SHORT_CLASSES
            and scores.size >= _BLAS_MIN_ELEMENTS and output != "logits")
    if rows and offset is not None:
        # the row path holds the offsets in base-2 units (times log2(e)) and adds them to
        # row terms in the dtype: offsets near the dtype's maximum take the general path
        finite = offset[np.isfinite(offset)]
        rows = finite.size == 0 or float(np.abs(finite).max()) <= float(finfo.max) / 8
    if rows and ndim != 2:
        if scores.flags.c_contiguous:  # a view: the classes of every position are one row
            src, dst, axis, ndim = scores.reshape(-1, n_classes), out.reshape(-1, n_classes), 1, 2
        else:
            rows = False
    kernel = _Kernel(dtype, finfo, n_classes, axis, ndim, inv_t, offset, input, output,
                     name, strength, temperature, rows=rows)
    if rows:
        with _single_threaded_blas():
            kernel.run(src, dst)
    else:
        kernel.run(src, dst)
    return out


@functools.cache
def _gemm(dtype):
    from scipy.linalg import get_blas_funcs

    return get_blas_funcs("gemm", dtype=dtype)


class _Kernel:
    """Chunked evaluation of one adjustment; see the module's implementation notes."""

    def __init__(self, dtype, finfo, n_classes, axis, ndim, inv_t, offset, input, output, name,
                 strength, temperature, rows=False):
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
        # class vectors tiled over a few rows (see _colwise)
        self._tiles = {}
        # few classes on the contiguous last axis: per-row ufunc loops would be
        # dominated by their dispatch, so row-wise operations go column by column
        self.short = axis == ndim - 1 and n_classes <= _SHORT_CLASSES
        letters = "abcdefghijklmnopqrstuvwxyz"[:ndim]
        self._sum_spec = f"{letters}->{letters.replace(letters[axis], '')}"
        # the row path (2-D, classes on axis 1, BLAS): see _fast_rows
        self.rows = rows
        if rows:
            self._init_rows(n_classes, offset, finfo)

    def _init_rows(self, n_classes, offset, finfo):
        t = self.dtype.type
        self.gemm = _gemm(self.dtype)
        self.ones = np.ones(n_classes, dtype=self.dtype)
        step = max(1, _CHUNK_ELEMENTS // n_classes)
        # the prior ratio r = exp(offset) can weight the row sums (a matrix-vector
        # product, no pass over the chunk) unless a finite offset underflows the
        # dtype, which would drop that class from the sums
        finite = offset[np.isfinite(offset)] if offset is not None else None
        self.r_ok = finite is None or finite.size == 0 or finite.min() >= np.log(finfo.tiny)
        self.r_vec = self.ones if offset is None else self.r.ravel()
        # gemm operands, Fortran order so that no call copies them: the output
        # chunk d (n, K), C-contiguous, is updated as d.T (K, n) in Fortran order,
        # d.T = beta * d.T + B @ A with B (K, k) and A (k, n)
        ones_col = np.ones((n_classes, 1), dtype=self.dtype, order="F")
        if offset is not None:
            b = np.asfortranarray(self.b.reshape(n_classes, 1))
            self.B_b_L = np.asfortranarray(np.hstack([b, ones_col]))  # + b_c - L_i
            self.B_b2 = np.asfortranarray(self.b2.reshape(n_classes, 1))  # + b2_c
        self.B_L = ones_col  # - L_i
        self.A_b_L = np.ones((2, step), dtype=self.dtype, order="F")  # row 1: -L
        self.A_b = np.ones((1, step), dtype=self.dtype, order="F")
        self.A_L = np.ones((1, step), dtype=self.dtype, order="F")
        self.one = t(1)

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

    # ---------------------------------------------------------------- fast path
    def _logits(self, src, d):
        """``d = a * z + b``; False when a row maximum is not finite (NaN, +inf, overflow)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self._affine_natural(src, d)
            return bool(np.all(np.isfinite(self._max(d))))

    def _fast(self, src, d, s):
        """Unshifted evaluation; False when the row sums say it is not exact."""
        inp, out = self.input, self.output
        if self.rows:
            return self._fast_rows(src, d, s)
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

    # ---------------------------------------------------------------- row path
    def _update(self, d, beta, B, A):
        """``d = beta * d + (B @ A).T`` in place: one BLAS pass (rank-1 or rank-2 update)."""
        c = d.T
        res = self.gemm(self.one, B, A, beta=beta, c=c, overwrite_c=1)
        if res.ctypes.data != c.ctypes.data:  # f2py copied (not for these layouts): write back
            np.copyto(c, res)

    def _fast_rows(self, src, d, s, shift=False):
        """The unshifted evaluation on rows (2-D, classes on axis 1), with BLAS.

        Passes over a cached chunk of ``n`` rows (``u``: base-2 exponents):

        - to probabilities: ``u = a2 z + b2`` (or ``a log2 p + b2``, one
          rank-1 update), ``exp2``, row sums (matrix-vector), one division;
        - to log-probabilities: ``u = a2 z`` (or ``log2 p``), ``exp2`` into the
          scratch buffer, row sums weighted by ``r = p_t / p_s`` (matrix-vector),
          then ``d = ln2 * u + b - log S`` as one rank-2 update, and a maximum
          that catches rounding above 0 (and NaN from negative probabilities);
        - probabilities without temperature need no transcendental for
          probabilities and one ``log`` for log-probabilities.

        With ``shift`` (logits whose sums leave the safe range), each row's
        maximum of ``a2 z`` is subtracted first, one more rank-1 update.
        """
        n = d.shape[0]
        a, inp = self.a, self.input
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if inp == "proba" and a == 1 and self.r_ok:
                # the first pass reads the chunk from memory and writes the output;
                # the row sums then read the cached chunk
                if self.output == "proba":
                    if self.r is not None:
                        self._colwise(np.multiply, src, "r", d)
                    else:
                        np.copyto(d, src)
                    total = d @ self.ones
                    if not self._safe(total):
                        return False
                    np.multiply(d, self._reciprocal(total), out=d)
                    return bool(d.min() >= 0)  # False for NaN and negative probabilities
                np.log(src, out=d)
                total = src @ self.r_vec
                if not self._safe(total):
                    return False
                self._add_offsets(d, self.one, total, n)
                return self._clip_log(d)
            if self.output == "proba":
                if inp == "proba":
                    np.log2(src, out=d)
                    if self.b2 is not None:
                        self.A_b[:, :n] = 1
                        self._update(d, a, self.B_b2, self.A_b[:, :n])
                    elif a != 1:
                        d *= a
                else:
                    np.multiply(src, self.a2, out=d)
                    if shift and not self._subtract_row_max(d, n):
                        return False
                    if self.b2 is not None:
                        self._colwise(np.add, d, "b2", d)
                np.exp2(d, out=d)
                total = d @ self.ones
                if not self._safe(total):
                    return False
                np.multiply(d, self._reciprocal(total), out=d)
                return True
            # log-probabilities: d holds u in base 2, beta brings it back to natural units
            if inp == "proba":
                np.log2(src, out=d)
                scale, beta = a, self.dtype.type(self.inv_t * _LN2)
            else:
                np.multiply(src, self.a2, out=d)
                if shift and not self._subtract_row_max(d, n):
                    return False
                scale, beta = None, self.ln2
            if not self.r_ok:  # add the offset before the exponential instead
                self.A_b[:, :n] = 1
                self._update(d, scale if scale is not None else self.one, self.B_b2,
                             self.A_b[:, :n])
                scale, beta = None, self.ln2
            if scale is None or scale == 1:
                np.exp2(d, out=s)
            else:
                np.multiply(d, scale, out=s)
                np.exp2(s, out=s)
            total = s @ (self.r_vec if self.r_ok else self.ones)
            if not self._safe(total):
                return False
            if self.r_ok:
                self._add_offsets(d, beta, total, n)
            else:
                self.A_L[0, :n] = -np.log(total)
                self._update(d, beta, self.B_L, self.A_L[:, :n])
            return self._clip_log(d)

    def _colwise(self, ufunc, x, key, out):
        """``out = ufunc(x, self.<key>)`` for a class vector, over blocks of rows.

        A ``(1, K)`` operand broadcast over the rows costs one short inner loop
        per row; a small tile of ``R`` rows lets NumPy run inner loops ``R``
        times longer, without a chunk-sized tile to allocate on every call.
        """
        vec = getattr(self, key)
        if x.ndim != 2 or self.axis != 1 or not (x.flags.c_contiguous and out.flags.c_contiguous):
            return ufunc(x, vec, out=out)  # the classes are not the inner axis: no short loops
        tile = self._tiles.get(key)
        if tile is None:
            n_rows = max(1, (1 << 14) // vec.shape[-1])
            tile = self._tiles[key] = np.ascontiguousarray(
                np.broadcast_to(vec, (n_rows, vec.shape[-1]))).reshape(1, -1)
        n, k = x.shape
        per = tile.shape[1] // k
        m = n - n % per
        if per == 1 or not m:
            return ufunc(x, vec, out=out)
        ufunc(x[:m].reshape(-1, per * k), tile, out=out[:m].reshape(-1, per * k))
        if m < n:
            ufunc(x[m:], vec, out=out[m:])
        return out

    def _subtract_row_max(self, d, n):
        """``d -= max(d, axis=1)`` (a rank-1 update); False on a non-finite maximum."""
        top = d.max(axis=1)
        if not np.all(np.isfinite(top)):
            return False
        self.A_L[0, :n] = top
        self.A_L[0, :n] *= -1
        self._update(d, self.one, self.B_L, self.A_L[:, :n])
        return True

    @staticmethod
    def _reciprocal(total):
        """``1 / S`` per row, as a column: multiplying by it is cheaper than dividing.

        Still ``t * fl(1/S) <= 1`` for ``0 <= t <= S``: the exact product is at
        most ``1 + u`` (``u`` the unit roundoff), which rounds to 1 (a tie goes to
        the even 1), so probabilities stay <= 1 exactly.
        """
        inv = np.reciprocal(total)
        return inv[:, None]

    def _add_offsets(self, d, beta, total, n):
        """``d = beta * d + b - log(total)`` (per class ``b``, per row ``log total``)."""
        if self.b is not None:
            A = self.A_b_L[:, :n]
            A[1] = np.log(total)
            A[1] *= -1
            self._update(d, beta, self.B_b_L, A)
        else:
            A = self.A_L[:, :n]
            A[0] = np.log(total)
            A[0] *= -1
            self._update(d, beta, self.B_L, A)

    def _clip_log(self, d):
        """Log-probabilities rounded above 0 are set to 0; False on NaN."""
        top = d.max()
        if top <= 0:
            return True
        if not top > 0:  # NaN: log of a negative probability
            return False
        high = np.flatnonzero(d.max(axis=1) > 0)
        d[high] = np.minimum(d[high], 0)
        return True

    def _fast_linear(self, src, d, s):
        """Probabilities without temperature: ``p * r / sum(p * r)``, no transcendental."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.output == "proba":
                if self.r is not None:
                    self._colwise(np.multiply, src, "r", d)
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
                prod = self._colwise(np.multiply, src, "r", s)
            total = self._sum(prod)
            if not (self._safe(total) and prod.min() >= 0):
                return False
            with np.errstate(divide="ignore"):
                np.log(src, out=d)
            if self.b is not None:
                self._colwise(np.add, d, "b", d)
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
                self._colwise(np.add, d, "b", d)
            return d
        if a != 1:
            np.multiply(src, a, out=d)
            if b is not None:
                self._colwise(np.add, d, "b", d)
            return d
        if b is not None:
            self._colwise(np.add, src, "b", d)
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
            self._colwise(np.add, d, "b2", d)
        return d

    # ---------------------------------------------------------------- shifted path
    def _shifted(self, src, d, s):
        """Classic evaluation with row maxima subtracted; False on non-finite maxima.

        The maximum of the scores is subtracted before the temperature and the
        offset are applied, so that a huge score cannot absorb the offset in
        rounding (``1e30 + b == 1e30``); a second maximum, after the offset,
        keeps the largest exponent at 0.
        """
        if self.rows and self.input != "proba":
            return self._fast_rows(src, d, s, shift=True)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.input == "proba":
                np.log(src, out=d)
            else:
                np.copyto(d, src)
            m = self._max(d)
            if not np.all(np.isfinite(m)):  # NaN, +inf, rows without a finite score
                return False
            self._rowwise(np.subtract, d, m)  # <= 0, exact near the maximum
            if self.a != 1:
                d *= self.a
            if self.b is not None:
                self._colwise(np.add, d, "b", d)
                m = self._max(d)
                if not np.all(np.isfinite(m)):  # no class left: the exact path says so
                    return False
                self._rowwise(np.subtract, d, m)
            if self.output == "proba":
                np.exp(d, out=d)
                self._rowwise(np.divide, d, self._sum(d))
                return True
            np.exp(d, out=s)
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
