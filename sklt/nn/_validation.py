"""Validation helpers shared by sklt.nn: every error names the parameter and says what to do."""

import math
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import torch

F32_MAX = float(np.finfo(np.float32).max)
F32_TINY = float(np.finfo(np.float32).tiny)
#: Largest weight of a loss term (LADE's alpha and lam, the estimated-offset lambdas):
#: the papers use values below 1; beyond 1e6 float32 losses overflow on ordinary logits.
MAX_LOSS_WEIGHT = 1e6
#: Largest layer width or class count: beyond, torch cannot index (nor memory hold) a layer.
MAX_SIZE = 2**31 - 1
#: Probabilities below the smallest normal float64 are reported as it (log: about -708.4).
LOG_TINY64 = math.log(np.finfo(np.float64).tiny)


def _describe(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(value, name, *, low=None, high=None, allow_none=False, hint=""):
    """An integer (bool excluded, numpy integers accepted) in ``[low, high]``."""
    if value is None and allow_none:
        return None
    what = ("None or " if allow_none else "") + "an int" + (
        f" >= {low}" if low is not None else "") + (f" <= {high}" if high is not None else "")
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be {what}{hint}; got {_describe(value)}.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {what}{hint}; got {_describe(value)}.")
    return int(value)


def check_real(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """A finite real number (bool and strings excluded) in the given range."""
    if low is not None and high is not None:
        rng = f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        rng = f" {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        rng = f" {'<' if high_open else '<='} {high:g}"
    else:
        rng = ""
    message = f"{name} must be a finite number{rng}; got {_describe(value)}."
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(message)
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(message) from None
    if not finite:
        raise ValueError(message)
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or bad_low or bad_high:
        raise ValueError(message)
    return float(value)


def check_units(value, name, *, allow_empty=True):
    """A positive int or a sequence of positive ints (layer widths)."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        units = (value,)
    elif isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__") or (
        isinstance(value, np.ndarray) and value.ndim == 0
    ):
        raise TypeError(
            f"{name} must be a positive int or a sequence of positive ints; got "
            f"{_describe(value)}."
        )
    else:
        units = tuple(value)
    if any(isinstance(u, bool) or not isinstance(u, Integral) or not 1 <= u <= MAX_SIZE
           for u in units) or (not units and not allow_empty):
        need = "a positive int or a non-empty sequence" if not allow_empty \
            else "a positive int or a sequence"
        raise ValueError(
            f"{name} must be {need} of positive ints (at most {MAX_SIZE}); got "
            f"{_describe(value)}."
        )
    return tuple(int(u) for u in units)


def check_counts(class_counts, name="class_counts", *, float32=False):
    """Per-class counts as a float64 array: 1-D, finite, non-negative, not all zero.

    With ``float32=True`` the non-zero counts must also be representable as
    normal float32 numbers (the losses store them in a float32 buffer).
    """
    if torch.is_tensor(class_counts):
        raw = class_counts.detach().cpu().numpy()
    elif isinstance(class_counts, str | bytes | Mapping) or class_counts is None:
        raise TypeError(
            f"{name} must be an array-like of per-class counts (numbers); got "
            f"{_describe(class_counts)}."
        )
    else:
        try:
            raw = np.asarray(class_counts)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be an array-like of per-class counts (numbers); got "
                f"{_describe(class_counts)}."
            ) from None
    if raw.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold numbers (int or float); got {_describe(class_counts)} "
            f"of dtype {raw.dtype}."
        )
    counts = raw.astype(np.float64)
    if counts.ndim != 1 or counts.size < 1:
        raise ValueError(
            f"{name} must be a 1-D array with one count per class; got shape {counts.shape}."
        )
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"{name} must be finite and non-negative; got {counts.tolist()}.")
    if not counts.max() > 0:
        raise ValueError(f"{name} sums to zero; at least one class needs samples.")
    if float32:
        positive = counts[counts > 0]
        if positive.max() > F32_MAX or positive.min() < F32_TINY:
            raise ValueError(
                f"{name} must be 0 or between {F32_TINY:.3g} and {F32_MAX:.3g} (float32); got "
                f"{counts.tolist()}. Rescale the counts (only their ratios matter, except for "
                "the class-balanced weights)."
            )
    return counts


def log_prior(counts):
    """``log(counts / counts.sum())`` in float64 without overflow; empty classes -> -inf."""
    scaled = counts / counts.max()
    with np.errstate(divide="ignore"):
        return np.log(scaled) - np.log(scaled.sum())


def check_labels(y, n_classes, name="y"):
    """Integer class indices in ``[0, n_classes)`` as an int64 NumPy array.

    Fractional, negative or too large labels are a ValueError naming ``name``
    (never truncated or wrapped).
    """
    arr = y.detach().cpu().numpy() if torch.is_tensor(y) else np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices; got shape {arr.shape}.")
    if arr.dtype.kind == "f":
        if arr.size and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise ValueError(
                f"{name} must hold integer class indices in [0, {n_classes}); got fractional "
                "or non-finite values. Encode the labels first."
            )
    elif arr.dtype.kind not in "iu" and not (arr.dtype.kind == "b" and arr.size == 0):
        raise ValueError(
            f"{name} must hold integer class indices in [0, {n_classes}); got dtype "
            f"{arr.dtype}. Encode the labels first."
        )
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(
            f"{name} holds class indices outside [0, {n_classes}) (min {arr.min()}, max "
            f"{arr.max()}); encode the labels as 0..{n_classes - 1} first."
        )
    return arr.astype(np.int64)


def check_sample_weight(sample_weight, n_samples, *, normalize=True):
    """Non-negative finite weights, not all zero, as float64 (overflow-safe).

    ``normalize=True``: divided by their mean (computed after dividing by the
    maximum), so that scaling all weights changes nothing; unit weights give ones.
    """
    if isinstance(sample_weight, str | bytes | Mapping):
        raise TypeError(
            f"sample_weight must be an array of numbers; got {_describe(sample_weight)}."
        )
    try:
        raw = np.asarray(sample_weight)
    except (TypeError, ValueError):
        raise TypeError(
            f"sample_weight must be an array of numbers; got {_describe(sample_weight)}."
        ) from None
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"sample_weight must hold numbers; got dtype {raw.dtype}.")
    w = raw.astype(np.float64)
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {w.shape}; expected ({n_samples},), one weight per sample."
        )
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight must be finite; it contains NaN or infinite values.")
    if np.any(w < 0):
        raise ValueError(f"sample_weight must be non-negative; got min {w.min()!r}.")
    if not w.max() > 0:
        raise ValueError("sample_weight is all zero: at least one sample needs a positive weight.")
    if not normalize:
        return w
    w = w / w.max()
    return w / w.mean()


def check_finite_float32(X, name="X"):
    """Raise if ``X`` (float64 or float32, NaN/inf already excluded) overflows float32."""
    if X.dtype == np.float64 and X.size and np.abs(X).max() > F32_MAX:
        raise ValueError(
            f"{name} contains values of magnitude up to {np.abs(X).max():.3g}, beyond float32's "
            f"largest {F32_MAX:.3g}: the network computes in float32. Rescale {name} (e.g. "
            "sklearn.preprocessing.StandardScaler)."
        )


def log_proba_and_proba(log_proba):
    """Floor float64 log-probabilities at log(tiny) so that ``exp`` of them has no zeros.

    ``proba = exp(log_proba)`` then holds exactly what ``log_proba`` holds: a
    probability below the smallest normal float64 (2.2e-308) is reported as that
    number instead of 0 (an error of at most 2.2e-308 per entry).
    """
    log_proba = np.maximum(log_proba.astype(np.float64, copy=False), LOG_TINY64)
    return log_proba, np.exp(log_proba)
