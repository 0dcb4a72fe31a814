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
"""

from numbers import Real

import numpy as np

__all__ = [
    "adjust_logits",
    "log_prior_ratio",
    "noisy_or",
    "softmax",
]

# Elements processed per chunk: large enough to amortise Python overhead, small
# enough that a chunk's temporaries stay in the CPU cache.
_CHUNK_ELEMENTS = 1 << 16


def _as_float_array(scores, name="scores"):
    scores = np.asarray(scores)
    if scores.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric; got dtype {scores.dtype}.")
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    return scores


def _check_prior_array(prior, n_classes, name, allow_zero):
    if prior is None:
        return None
    prior = np.asarray(prior, dtype=np.float64)
    if prior.shape != (n_classes,):
        raise ValueError(
            f"{name} has shape {prior.shape} but the scores have {n_classes} classes along "
            "the class axis."
        )
    if not np.all(np.isfinite(prior)) or np.any(prior < 0):
        raise ValueError(f"{name} must be finite and non-negative; got {prior}.")
    if not allow_zero and np.any(prior == 0):
        raise ValueError(
            f"{name} has zero entries at classes {np.flatnonzero(prior == 0).tolist()}: "
            "the correction divides by it. Smooth the prior or drop those classes."
        )
    if not prior.sum() > 0:
        raise ValueError(f"{name} sums to zero.")
    return prior / prior.sum()


def log_prior_ratio(source_prior, target_prior, n_classes=None):
    """``log p_t - log p_s``, the offset that moves logits from one prior to another.

    Parameters
    ----------
    source_prior : array-like of shape (n_classes,) or None
        Prior the logits are entangled with (``None``: uniform). Must be
        strictly positive.
    target_prior : array-like of shape (n_classes,) or None
        Prior to move to (``None``: uniform). Zero entries give ``-inf``: the
        class is never predicted.
    n_classes : int, default=None
        Number of classes, needed when both priors are ``None``.

    Returns
    -------
    offset : ndarray of shape (n_classes,), dtype float64

    Examples
    --------
    >>> from sklt.adjust import log_prior_ratio
    >>> log_prior_ratio([0.8, 0.2], None).round(3)
    array([-0.47 ,  0.916])
    """
    if n_classes is None:
        ref = source_prior if source_prior is not None else target_prior
        if ref is None:
            raise ValueError("n_classes is needed when both priors are None.")
        n_classes = len(ref)
    source_prior = _check_prior_array(source_prior, n_classes, "source_prior", allow_zero=False)
    target_prior = _check_prior_array(target_prior, n_classes, "target_prior", allow_zero=True)
    offset = np.zeros(n_classes)
    with np.errstate(divide="ignore"):
        if target_prior is not None:
            offset += np.log(target_prior)
        else:
            offset -= np.log(n_classes)
        if source_prior is not None:
            offset -= np.log(source_prior)
        else:
            offset += np.log(n_classes)
    return offset


def _chunks(n_rows, row_size):
    step = max(1, _CHUNK_ELEMENTS // max(1, row_size))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


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
    scores : array-like
        Logits, probabilities or log-probabilities (see ``input``), with the
        classes along ``axis``. Any number of other dimensions.
    source_prior : array-like of shape (n_classes,) or None, default=None
        Prior the scores are entangled with; ``None`` is uniform. Strictly
        positive.
    target_prior : array-like of shape (n_classes,) or None, default=None
        Prior to predict under; ``None`` is uniform.
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
    scores = _as_float_array(scores)
    if scores.ndim == 0:
        raise ValueError("scores must have at least one dimension (the class axis).")
    if input not in ("logits", "proba", "log_proba"):
        raise ValueError(f"input must be 'logits', 'proba' or 'log_proba'; got {input!r}.")
    if output not in ("log_proba", "proba", "logits"):
        raise ValueError(f"output must be 'log_proba', 'proba' or 'logits'; got {output!r}.")
    if not isinstance(strength, Real) or not np.isfinite(strength) or strength < 0:
        raise ValueError(f"strength must be a finite number >= 0; got {strength!r}.")
    if not isinstance(temperature, Real) or not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0; got {temperature!r}.")
    axis = int(axis)
    try:
        n_classes = scores.shape[axis]
    except IndexError:
        raise ValueError(
            f"axis {axis} is out of range for scores of shape {scores.shape}."
        ) from None
    if source_prior is None and target_prior is None:
        offset = None
    else:
        offset = log_prior_ratio(source_prior, target_prior, n_classes)
        if strength == 0:
            offset = None
        else:
            offset = (strength * offset).astype(scores.dtype)
    inv_temp = None if temperature == 1 else scores.dtype.type(1.0 / temperature)

    out = np.empty_like(scores)
    src = np.moveaxis(scores, axis, -1)
    dst = np.moveaxis(out, axis, -1)
    # Flatten all non-class dims into rows when that is a view; otherwise chunk axis 0.
    if src.ndim == 1:
        src, dst = src[None], dst[None]
    lead = src.shape[:-1]
    row_size = int(np.prod(lead[1:], dtype=np.int64)) * n_classes
    for sl in _chunks(lead[0], row_size):
        _adjust_block(src[sl], dst[sl], offset, inv_temp, input, output)
    return out


def _adjust_block(src, dst, offset, inv_temp, input, output):
    """Adjust one block in place in ``dst``; the class axis is last."""
    if input == "proba":
        if np.any(src < 0):
            raise ValueError("Probabilities must be non-negative.")
        with np.errstate(divide="ignore"):
            np.log(src, out=dst)
    else:
        np.copyto(dst, src)
    if inv_temp is not None:
        dst *= inv_temp
    if offset is not None:
        dst += offset
    if output == "logits":
        return
    # log-softmax along the last axis, stable for |z| up to the dtype's max.
    row_max = dst.max(axis=-1, keepdims=True)
    if not np.all(np.isfinite(row_max)):
        raise ValueError(
            "Scores contain NaN or infinite values (or a row whose classes all have zero "
            "probability); cannot normalise."
        )
    dst -= row_max
    if output == "proba":
        np.exp(dst, out=dst)
        dst /= dst.sum(axis=-1, keepdims=True)
    else:
        lse = np.log(np.exp(dst).sum(axis=-1, keepdims=True))
        dst -= lse


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
    return adjust_logits(scores, axis=axis, output="proba")


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
        raise ValueError("probas must stack at least one posterior along the modality axis.")
    if not np.all(np.isfinite(probas)) or np.any(probas < 0) or np.any(probas > 1):
        raise ValueError("probas must be probabilities in [0, 1] without NaN.")
    class_axis = class_axis % probas.ndim
    axis = axis % probas.ndim
    if class_axis == axis:
        raise ValueError("axis and class_axis must differ.")
    log_none = np.log1p(-probas).sum(axis=axis)
    with np.errstate(divide="ignore"):
        fused = np.log(-np.expm1(log_none))
    new_class_axis = class_axis - (1 if axis < class_axis else 0)
    return adjust_logits(fused, axis=new_class_axis, output="proba")
