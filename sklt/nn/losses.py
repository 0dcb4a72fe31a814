"""Long-tail training losses, one :class:`torch.nn.Module` each (``METHODS.md`` §2).

Every loss takes the training ``class_counts`` (a buffer, so it moves with the
module's device and is saved in its ``state_dict``) and declares, through
:meth:`~LongTailLoss.entangled_log_prior`, the prior its logits are entangled
with. :class:`~sklt.nn.LongTailClassifier` uses that declaration to inject a
target prior at inference (``z + log p_t - entangled``, through
:func:`sklt.adjust.adjust_logits`).

Targets are either hard labels (an integer tensor of shape ``(N,)``, class
indices in ``[0, K)``) or soft targets (a float tensor of shape ``(N, K)`` of
finite non-negative entries, rows normally probability vectors, as mixup-style
augmentations produce). For the cross-entropy family the loss with soft
targets is ``-sum_k Y_k log softmax(z')_k``; a one-hot ``Y`` gives exactly the
hard-label loss. Fractional, negative or too large labels are a ValueError
(never truncated or wrapped).

All losses also hold a per-class weight buffer ``class_weight`` (ones by
default; :class:`ClassBalancedLoss` and the
:class:`~sklt.nn.callbacks.DeferredReweighting` callback set it), and take an
optional per-sample ``sample_weight`` in ``forward``. The batch loss is
``mean_i s_i w_i loss_i`` with ``w_i = sum_k Y_ik class_weight_k``
(``class_weight[y_i]`` for hard labels) and ``s_i`` the sample weight (1 when
none is given): with unit weights this is the plain mean.
:class:`~sklt.nn.LongTailClassifier` normalises the sample weights to mean one
over the training set, so that scaling them changes nothing. A class weighting
``w`` changes the population minimiser of the loss from ``P(y|x)`` to
``P(y|x) w_y / Z(x)``, so :meth:`~LongTailLoss.entangled_log_prior` adds
``log w``; sample weights instead change the training distribution itself, so
the classifier counts classes with them (``class_counts = sum of the weights``).

Classes with zero training count are allowed: their log-prior is floored at
``log(tiny)`` of float32 (about -87) instead of ``-inf``, so no NaN appears.
Non-zero counts must be representable in float32 (between 1.2e-38 and 3.4e38).
"""

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sklt.nn._validation import F32_MAX, MAX_LOSS_WEIGHT, check_counts, check_real, log_prior

__all__ = [
    "BalancedSoftmaxLoss",
    "BayiasLoss",
    "ClassBalancedLoss",
    "CrossEntropy",
    "FocalLoss",
    "LADELoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "LongTailLoss",
    "class_balanced_weights",
]

_LOG_TINY = math.log(np.finfo(np.float32).tiny)
#: Largest logit adjustment tau * |log p_s| accepted: far below float32's 3.4e38, so that
#: logits plus the adjustment stay finite.
_MAX_ADJUSTMENT = 1e30


def _log_prior_from_counts(counts):
    """``log(counts / counts.sum())`` floored at log(tiny) so empty classes stay finite."""
    counts = np.asarray(counts.detach().cpu() if torch.is_tensor(counts) else counts,
                        dtype=np.float64)
    return torch.as_tensor(np.maximum(log_prior(counts), _LOG_TINY))


def _refresh_weighted(module, incompatible_keys):
    module._weighted = bool(torch.any(module.class_weight != 1))


def class_balanced_weights(class_counts, beta):
    """Class-balanced weights of Cui et al. (2019): ``(1 - beta) / (1 - beta ** n_c)``.

    The inverse of the *effective number of samples* ``(1 - beta^n) / (1 - beta)``
    of each class, normalised so that the weights of the non-empty classes sum
    to their number (as in the paper's code); ``beta = 0`` gives all ones,
    ``beta -> 1`` approaches inverse class frequency. Empty classes get weight 0.
    Computed in log space from the float64 counts, so any finite counts (from
    1e-300 to 1e308) give finite weights.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class (non-negative, finite, not all zero).
    beta : float
        In ``[0, 1)``.

    Returns
    -------
    weights : torch.Tensor of shape (n_classes,), dtype float32

    Examples
    --------
    >>> from sklt.nn.losses import class_balanced_weights
    >>> class_balanced_weights([100, 10, 1], beta=0.0)
    tensor([1., 1., 1.])
    >>> class_balanced_weights([100, 10, 1], beta=0.99).round(decimals=3)
    tensor([0.0420, 0.2800, 2.6780])
    """
    beta = check_real(beta, "beta", low=0.0, high=1.0, high_open=True)
    counts = check_counts(class_counts)
    present = counts > 0
    n = counts[present]
    if beta == 0.0:
        log_w = np.zeros_like(n)
    else:
        # log w = log(1 - beta) - log(1 - beta^n), with 1 - beta^n = -expm1(n log beta);
        # for tiny n * log(beta) use -expm1(x) = -x (1 + x/2 + ...), x = n log beta.
        log_beta = math.log(beta)
        x = n * log_beta
        small = x > -1e-8
        with np.errstate(divide="ignore", invalid="ignore"):
            log_eff = np.where(
                small,
                np.log(np.where(small, n, 1.0)) + math.log(-log_beta) + np.log1p(x / 2),
                np.log(-np.expm1(np.where(small, -1.0, x))),
            )
        log_w = math.log1p(-beta) - log_eff
    w = np.exp(log_w - log_w.max())
    weights = np.zeros_like(counts)
    weights[present] = w * (present.sum() / w.sum())
    return torch.as_tensor(weights, dtype=torch.float32)


def _check_finite_loss(module, args, loss):
    """Forward hook of every sklt loss: a NaN or infinite loss is an error, not a result."""
    if torch.is_tensor(loss) and loss.ndim == 0 and not bool(torch.isfinite(loss)):
        raise ValueError(
            f"{type(module).__name__}: the loss is {loss.item()}; the logits hold NaN or "
            "infinite values, or are so large that the loss overflows their dtype. If this is "
            "training, it diverged: Lower lr or rescale X (e.g. "
            "sklearn.preprocessing.StandardScaler)."
        )


class LongTailLoss(nn.Module):
    """Base class of the sklt losses: class counts, class weights, targets, reduction.

    Subclasses implement ``_per_sample(logits, target)`` (``target``: int64
    labels of shape ``(N,)`` or a float ``(N, K)`` matrix) returning the
    ``(N,)`` unweighted per-sample losses, and ``_entangled_log_prior()``.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class (non-negative, not all zero). Stored as the
        float32 buffer ``class_counts``.

    Attributes
    ----------
    class_counts : torch.Tensor of shape (n_classes,)
        Buffer.
    log_prior : torch.Tensor of shape (n_classes,)
        Buffer: ``log p_s``, floored at log(tiny) of float32 for empty classes.
    class_weight : torch.Tensor of shape (n_classes,)
        Buffer of per-class loss weights, ones unless set by
        :meth:`set_class_weight`.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.losses import CrossEntropy
    >>> loss = CrossEntropy(class_counts=[90, 10])
    >>> loss.entangled_log_prior().exp()
    tensor([0.9000, 0.1000])
    >>> round(loss(torch.zeros(3, 2), torch.tensor([0, 1, 1])).item(), 4)  # log 2
    0.6931
    >>> w = torch.tensor([1.0, 0.0, 2.0])  # per-sample weights
    >>> round(loss(torch.zeros(3, 2), torch.tensor([0, 1, 1]), sample_weight=w).item(), 4)
    0.6931
    """

    #: Whether the loss needs the module's whole output (e.g. a tuple
    #: ``(logits, features)``) rather than only the logits.
    requires_module_output = False
    #: Factor the classifier applies to the logits at inference (LDAM's scale).
    logit_scale = 1.0

    def __init__(self, class_counts):
        super().__init__()
        counts_np = check_counts(class_counts, float32=True)
        counts = torch.as_tensor(counts_np, dtype=torch.float32)
        self.register_buffer("class_counts", counts)
        self.register_buffer("class_weight", torch.ones_like(counts))
        self.register_buffer("log_prior", _log_prior_from_counts(counts_np).float())
        # Skip the per-sample weighting while all class weights are one (fast path).
        self._weighted = False
        self.register_load_state_dict_post_hook(_refresh_weighted)
        self.register_forward_hook(_check_finite_loss)

    @property
    def n_classes(self):
        """Number of classes ``K``."""
        return self.class_counts.shape[0]

    def log_source_prior(self, dtype=None):
        """``log p_s`` from ``class_counts``, floored at log(tiny) for empty classes."""
        return self.log_prior if dtype is None else self.log_prior.to(dtype)

    def set_class_weight(self, weight=None):
        """Set the per-class weights in place (``None``: back to ones)."""
        with torch.no_grad():
            if weight is None:
                self.class_weight.fill_(1.0)
            else:
                try:
                    weight = torch.as_tensor(weight, dtype=self.class_weight.dtype)
                except (TypeError, ValueError, RuntimeError) as exc:
                    raise TypeError(
                        f"class weight must be a tensor or array of {self.n_classes} numbers; "
                        f"got {type(weight).__name__} ({exc})."
                    ) from None
                if weight.shape != self.class_weight.shape:
                    raise ValueError(
                        f"class weight has shape {tuple(weight.shape)}; expected "
                        f"({self.n_classes},)."
                    )
                if not torch.all(torch.isfinite(weight) & (weight >= 0)):
                    raise ValueError(
                        f"class weights must be finite and non-negative; got {weight.tolist()}."
                    )
                self.class_weight.copy_(weight.to(self.class_weight.device))
        self._weighted = bool(torch.any(self.class_weight != 1))
        return self

    def entangled_log_prior(self):
        """Log of the prior the trained logits are entangled with, shape ``(K,)``.

        Up to an additive constant. Includes ``log class_weight``. To predict under
        a target prior ``p_t``, add ``log p_t - entangled_log_prior()`` to the logits.
        """
        with torch.no_grad():
            weight = self.class_weight.to(torch.float64)
            log_w = torch.where(weight > 0, torch.log(weight.clamp_min(1e-300)), _LOG_TINY)
            return (self._entangled_log_prior().to(torch.float64) + log_w).to(torch.float32)

    def _entangled_log_prior(self):
        return self.log_source_prior(torch.float64)

    # ------------------------------------------------------------------ helpers
    def _check_target(self, logits, target):
        """Validate the targets: class indices in ``[0, K)`` or an ``(N, K)`` soft matrix."""
        k = self.n_classes
        if not torch.is_tensor(logits) or not logits.is_floating_point():
            what = (f"a {logits.dtype} tensor" if torch.is_tensor(logits)
                    else type(logits).__name__)
            raise TypeError(f"logits must be a floating-point torch tensor; got {what}.")
        if logits.ndim == 2 and logits.shape[0] == 0:
            raise ValueError(f"{type(self).__name__} got an empty batch (logits of shape "
                             f"{tuple(logits.shape)}): its mean loss is undefined.")
        if logits.ndim != 2 or logits.shape[1] != k:
            raise ValueError(
                f"{type(self).__name__} expects logits of shape (N, {k}); got "
                f"{tuple(logits.shape)}."
            )
        if not torch.is_tensor(target):
            raise TypeError(f"target must be a torch tensor; got {type(target).__name__}.")
        if target.ndim == 1:
            if target.shape[0] != logits.shape[0]:
                raise ValueError(
                    f"target has {target.shape[0]} labels but the logits have "
                    f"{logits.shape[0]} rows."
                )
            if torch.is_floating_point(target):
                if target.numel() and bool(torch.any(target != torch.floor(target))):
                    raise ValueError(
                        "target must hold integer class indices; got fractional or non-finite "
                        "labels (they are never truncated). Pass soft targets as an (N, K) "
                        "matrix."
                    )
            elif target.dtype == torch.bool or torch.is_complex(target):
                raise ValueError(f"target must hold integer class indices; got {target.dtype}.")
            target = target.long()
            if target.numel() and bool(torch.any((target < 0) | (target >= k))):
                raise ValueError(
                    f"target holds class indices outside [0, {k}) (min {int(target.min())}, "
                    f"max {int(target.max())}); encode the labels as 0..{k - 1}."
                )
            return target
        if target.ndim == 2 and target.shape == logits.shape:
            if not torch.is_floating_point(target):
                target = target.to(logits.dtype)
            if target.numel() and bool(torch.any(~torch.isfinite(target) | (target < 0))):
                raise ValueError(
                    "soft targets (an (N, K) target matrix) must be finite and non-negative; "
                    "got NaN, infinite or negative entries."
                )
            return target.to(logits.dtype)
        raise ValueError(
            f"targets must be class indices of shape (N,) or probabilities of shape "
            f"(N, {k}); got {tuple(target.shape)}."
        )

    @staticmethod
    def _check_sample_weight(sample_weight, logits):
        """``None`` or a finite, non-negative ``(N,)`` tensor in the logits' dtype."""
        if sample_weight is None:
            return None
        try:
            w = torch.as_tensor(sample_weight, device=logits.device)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(
                f"sample_weight must be a tensor or array of numbers, one per sample; got "
                f"{type(sample_weight).__name__} ({exc})."
            ) from None
        if w.is_complex():
            raise TypeError(f"sample_weight must hold real numbers; got dtype {w.dtype}.")
        if w.ndim != 1 or w.shape[0] != logits.shape[0]:
            raise ValueError(
                f"sample_weight must have shape ({logits.shape[0]},), one weight per sample; "
                f"got {tuple(w.shape)}."
            )
        w = w.to(logits.dtype)
        if w.numel():
            low, high = torch.aminmax(w)  # NaN propagates into both
            if not (bool(low >= 0) and bool(high < math.inf)):
                raise ValueError("sample_weight must be finite and non-negative.")
        return w

    def _reduce(self, losses, target, sample_weight=None):
        if self._weighted:
            weight = self.class_weight.to(losses.dtype)
            class_w = weight[target] if target.ndim == 1 else target @ weight
            losses = losses * class_w
        if sample_weight is not None:
            losses = losses * sample_weight
        return losses.mean()

    @staticmethod
    def _ce(logits, target):
        """Per-sample cross-entropy, hard labels or soft targets."""
        return F.cross_entropy(logits, target, reduction="none")

    def forward(self, logits, target, sample_weight=None):
        """Batch loss: ``mean_i s_i w_i loss_i``.

        Parameters
        ----------
        logits : torch.Tensor of shape (N, K)
        target : torch.Tensor of shape (N,) (labels) or (N, K) (soft targets)
        sample_weight : torch.Tensor of shape (N,), default=None
            Per-sample weights ``s_i`` (finite, non-negative); ``None``: ones.

        Returns
        -------
        loss : torch.Tensor, scalar
        """
        target = self._check_target(logits, target)
        sample_weight = self._check_sample_weight(sample_weight, logits)
        return self._reduce(self._per_sample(logits, target), target, sample_weight)

    def _per_sample(self, logits, target):
        raise NotImplementedError(
            f"{type(self).__name__} does not define _per_sample(logits, target): LongTailLoss "
            "is a base class. Use one of its subclasses (CrossEntropy, LogitAdjustedLoss, ...) "
            "or implement _per_sample, returning the (N,) per-sample losses."
        )


class CrossEntropy(LongTailLoss):
    """Softmax cross-entropy ``CE(z, y)``; logits entangled with ``p_s``.

    Accepts soft targets (``-sum_k Y_k log softmax(z)_k``).

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.losses import CrossEntropy
    >>> z, y = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])
    >>> loss = CrossEntropy(class_counts=[5, 5])
    >>> torch.allclose(loss(z, y), torch.nn.functional.cross_entropy(z, y))
    True
    """

    def _per_sample(self, logits, target):
        return self._ce(logits, target)


class LogitAdjustedLoss(LongTailLoss):
    """Logit-adjusted loss (Menon et al. 2021, 004 §5 eq. 10 and §5.2).

    ``CE(z + tau log p_s, y)``: the logits are entangled with ``p_s^(1 - tau)``
    (uniform for ``tau = 1``, where it equals :class:`BalancedSoftmaxLoss`).

    The generalised pairwise form of 004 §5.2 (eq. 11) uses margins
    ``Delta_{yy'} = tau1 log p_s(y') - tau2 log p_s(y)`` and optional label weights
    ``alpha_y = p_s(y)^(tau - 1)`` (``weighted=True``), which by Theorem 1 make the
    loss Fisher-consistent for the balanced error. It is computed as the
    cross-entropy of ``g_k = z_k + tau1 log p_s(k)`` with the target entry using
    ``tau2`` instead of ``tau1``. ``tau1 = tau2`` recovers eq. 10; ``tau1 = 0``
    gives an equalised-margin loss on the positive label only. (The paper prints
    ``tau1 log pi_y - tau2 log pi_y'``, with ``y`` and ``y'`` swapped: with that
    sign ``tau1 = tau2`` would not recover eq. 10, so sklt follows the reading that
    does.)

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    tau : float, default=1.0
        Adjustment strength, ``>= 0``. Default for ``tau1`` and ``tau2``, and the
        exponent of the optional weights.
    tau1, tau2 : float, default=None
        Negative- and positive-label strengths of the pairwise form (``None``:
        ``tau``).
    weighted : bool, default=False
        Multiply each sample's loss by ``alpha_y = p_s(y)^(tau - 1)`` (normalised
        to mean one over the classes).

    Notes
    -----
    Entangled prior: ``p_s^(1 - tau1) * alpha`` (exact for ``tau1 = tau2``; with
    ``weighted=True`` and ``tau1 = tau2 = tau`` it is uniform, Theorem 1).

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.losses import LogitAdjustedLoss, BalancedSoftmaxLoss
    >>> z, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    >>> counts = [50, 10, 1]
    >>> la, bs = LogitAdjustedLoss(counts, tau=1.0), BalancedSoftmaxLoss(counts)
    >>> bool(torch.allclose(la(z, y), bs(z, y)))
    True
    """

    def __init__(self, class_counts, tau=1.0, *, tau1=None, tau2=None, weighted=False):
        super().__init__(class_counts)
        self.tau = check_real(tau, "tau", low=0.0)
        self.tau1 = self.tau if tau1 is None else check_real(tau1, "tau1", low=0.0)
        self.tau2 = self.tau if tau2 is None else check_real(tau2, "tau2", low=0.0)
        spread = -float(self.log_source_prior(torch.float64).min())  # max |log p_s|
        for name in ("tau", "tau1", "tau2"):
            value = getattr(self, name)
            if value * spread > _MAX_ADJUSTMENT:
                raise ValueError(
                    f"{name}={value!r} times the largest |log p_s| ({spread:.3g}) is beyond "
                    f"{_MAX_ADJUSTMENT:.0e}: the adjusted float32 logits would overflow. Use "
                    f"{name} <= {_MAX_ADJUSTMENT / max(spread, 1e-300):.3g}."
                )
        self.weighted = bool(weighted)
        if self.weighted:
            log_p = self.log_source_prior(torch.float64)
            alpha = torch.exp((self.tau - 1.0) * (log_p - log_p.max()))
            alpha = torch.where(self.class_counts > 0, alpha, 0.0)
            self.set_class_weight((alpha * (alpha > 0).sum() / alpha.sum()).float())

    def _per_sample(self, logits, target):
        log_p = self.log_source_prior(logits.dtype)
        adjusted = logits + self.tau1 * log_p
        if self.tau2 != self.tau1:
            onehot = F.one_hot(target, self.n_classes).to(logits.dtype) if target.ndim == 1 \
                else target
            adjusted = adjusted + (self.tau2 - self.tau1) * onehot * log_p
        return self._ce(adjusted, target)

    def _entangled_log_prior(self):
        return (1.0 - self.tau1) * self.log_source_prior(torch.float64)


class BalancedSoftmaxLoss(LongTailLoss):
    """Balanced Softmax (Ren et al. 2020, cited in 002): ``CE(z + log p_s, y)``.

    The logits are entangled with the uniform prior: ``softmax(z)`` estimates the
    class-balanced posterior. Equal to :class:`LogitAdjustedLoss` with ``tau=1``.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.

    Examples
    --------
    >>> from sklt.nn.losses import BalancedSoftmaxLoss
    >>> BalancedSoftmaxLoss([90, 10]).entangled_log_prior()
    tensor([0., 0.])
    """

    def _per_sample(self, logits, target):
        return self._ce(logits + self.log_source_prior(logits.dtype), target)

    def _entangled_log_prior(self):
        return torch.zeros(self.n_classes, dtype=torch.float64, device=self.class_counts.device)


class BayiasLoss(LongTailLoss):
    """Bayias-compensated cross-entropy (Xu et al. 2021, 003 eq. 14-15).

    ``CE(z + log p_s - log p_t, y)``; the paper's ``+ log K`` is a constant shift
    of all logits and drops out of the softmax. The logits are entangled with the
    target prior ``p_t``: ``softmax(z)`` is the posterior under ``p_t``. With the
    default uniform ``p_t`` it equals :class:`BalancedSoftmaxLoss`.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    target_prior : "uniform" or array-like of shape (n_classes,), default="uniform"
        The test-time prior ``p_t`` compensated for at training time; strictly
        positive weights (normalised).

    Examples
    --------
    >>> from sklt.nn.losses import BayiasLoss
    >>> BayiasLoss([90, 10], target_prior=[0.5, 0.5]).entangled_log_prior().exp()
    tensor([0.5000, 0.5000])
    """

    def __init__(self, class_counts, target_prior="uniform"):
        super().__init__(class_counts)
        k = self.n_classes
        expected = (
            f"target_prior must be 'uniform' or an array-like of {k} positive weights (one per "
            "class index)"
        )
        if isinstance(target_prior, str):
            if target_prior != "uniform":
                raise ValueError(f"{expected}; got {target_prior!r}.")
            log_prior = torch.full((k,), -float(np.log(k)), dtype=torch.float64)
        elif isinstance(target_prior, Mapping):
            raise TypeError(
                f"{expected}; got a dict. The loss knows class indices only: pass an array, or "
                "give the dict {label: weight} to LongTailClassifier(criterion__target_prior=...),"
                " which maps it onto its classes."
            )
        else:
            try:
                raw = np.asarray(target_prior)
            except (TypeError, ValueError):
                raise TypeError(f"{expected}; got {target_prior!r}.") from None
            if raw.dtype.kind not in "iuf":
                raise TypeError(f"{expected}; got {target_prior!r} of dtype {raw.dtype}.")
            if raw.shape != (k,):
                raise ValueError(
                    f"target_prior has shape {raw.shape}; expected ({k},)."
                )
            prior = raw.astype(np.float64)
            if not np.all(np.isfinite(prior)) or np.any(prior <= 0):
                raise ValueError(
                    f"target_prior must be finite and strictly positive; got {prior.tolist()}."
                )
            # normalised in log space: a positive weight far below the largest (5e-324
            # against 1e308) keeps a finite log instead of underflowing to log 0
            top = prior.max()
            log_prior = torch.as_tensor(
                np.log(prior) - (np.log(top) + np.log(np.sum(prior / top))))
        self.target_prior = target_prior
        self.register_buffer("log_target_prior", log_prior.float())

    def _per_sample(self, logits, target):
        offset = self.log_source_prior(logits.dtype) - self.log_target_prior.to(logits.dtype)
        return self._ce(logits + offset, target)

    def _entangled_log_prior(self):
        return self.log_target_prior.to(torch.float64)


class _PaperLADER(torch.autograd.Function):
    """LADER (002 eq. 15-16, paper form) times a scale, one autograd node, closed-form gradient.

    ``value = sum_c a_c (T2_c + lam T2_c^2) + sum_ic B_ic z_ic`` with
    ``T2_c = logsumexp_i(z_ic + log_r_i) - log_total``, ``a = scale * alpha``
    (``alpha_c = p_s(c)``, 0 for the classes absent from the batch) and ``B``
    the negated ``T1`` weights (``-scale * alpha_c T1_c = sum_i B_ic z_ic``).
    The gradient is ``a_c (1 + 2 lam T2_c) q_ic + B_ic``, ``q`` the softmax of
    ``z + log r`` over the batch (per class).
    """

    @staticmethod
    def forward(ctx, logits, log_r, t1_weight, alpha, present, log_total, lam):
        shifted = logits + log_r[:, None]
        lse = torch.logsumexp(shifted, dim=0)
        # absent classes take no part; masked before the square (no inf * 0)
        t2 = torch.where(present, lse - log_total, 0.0)
        value = torch.dot(alpha, torch.addcmul(t2, t2, t2, value=lam))
        value = value + torch.dot(t1_weight.flatten(), logits.flatten())
        ctx.save_for_backward(shifted, lse, t2, alpha, t1_weight)
        ctx.lam = lam
        return value

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        shifted, lse, t2, alpha, t1_weight = ctx.saved_tensors
        coef = torch.addcmul(alpha, alpha, t2, value=2.0 * ctx.lam)
        grad_logits = torch.addcmul(t1_weight, (shifted - lse).exp_(), coef)
        return grad_logits.mul_(grad), None, None, None, None, None, None


class LADELoss(LongTailLoss):
    """LADE: label distribution disentangling loss (Hong et al. 2021, 002 eq. 12-20).

    ``LADE = CE(z + log p_s, y) + alpha * LADER`` with the regulariser (eq. 15-16),
    for a batch of ``N`` samples, ``n_c`` of class ``c``, ``u = 1/K``::

        T1_c = (1/n_c) sum_{i: y_i = c} z_ic
        T2_c = log( (1/N) sum_i (u / p_s(y_i)) exp(z_ic) )          form="paper"
        T2_c = logsumexp_i(z_ic) - log N + log u - log p_s(c)       form="reference"
        LADER = sum_{c present} p_s(c) * (-T1_c + T2_c + lam * T2_c ** 2)

    ``T2_c`` estimates ``log E_{P_u(x)} exp(z_c)`` by importance weighting. In
    the paper (eq. 12-13) each sample is weighted by the ratio of *its own*
    label, ``u / p_s(y_i)``, which turns the source sample into one from the
    balanced marginal ``P_u(x)``: the optimum of LADER is then
    ``z_c(x) = log P_u(c|x) + log K``, the same as LADE-CE's, so for any
    ``alpha`` the minimiser's ``softmax(z)`` is the balanced posterior
    ``P_u(y|x)``. The authors' code (hyperconnect/LADE, ``loss/LADELoss.py``)
    weights column ``c`` by ``u / p_s(c)`` instead, which estimates the source
    marginal and pulls ``softmax(z)`` toward ``P_s(y|x)``: on a discrete
    population its minimiser misses the balanced posterior by an amount that
    grows with ``alpha``. ``form="reference"`` keeps the code's form, to
    reproduce the authors' numbers (it is the form sklt used before 0.1).

    The logits are entangled with the uniform prior (inject ``p_t`` at inference
    with ``softmax(z + log p_t)``). The sum runs over the classes present in the
    batch, as the paper writes it; the reference code does not mask absent
    classes (their ``T1`` is 0 but their ``T2`` terms still enter the sum), and
    sklt masks them in both forms.

    With soft targets ``Y``, ``n_c = sum_i Y_ic``, ``T1_c = sum_i Y_ic z_ic / n_c``
    (a class is present when ``n_c > 0``) and, in the paper form, sample ``i``'s
    ratio is ``sum_k Y_ik u / p_s(k)``; one-hot targets reduce to the hard-label
    formulas. With sample weights ``s_i`` the batch is read as the weighted
    sample it stands for: the LADE-CE part is ``mean_i s_i CE_i``, ``n_c`` and
    ``T1_c`` are the weighted count and mean, and ``(1/N) sum_i`` in ``T2_c``
    becomes ``sum_i s_i (...) / sum_i s_i`` (``p_s`` is then the weighted class
    frequency that :class:`~sklt.nn.LongTailClassifier` passes as
    ``class_counts``). Integer weights therefore give exactly the loss of the
    batch with each sample repeated that many times (the LADE-CE part up to the
    weights' mean, which the classifier normalises to one).

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    alpha : float, default=0.1
        Weight of LADER, in ``[0, 1e6]``; 0 gives :class:`BalancedSoftmaxLoss`.
    lam : float, default=0.01
        Weight of the ``T2^2`` term (the paper's lambda), in ``[0, 1e6]`` (larger
        weights make float32 losses overflow). Reference
        settings: CIFAR-100-LT ``lam=0.01, alpha=0.1``; Places-LT ``lam=0.1,
        alpha=0.005``; ImageNet-LT ``lam=0.5, alpha=0.05``.
    form : {"paper", "reference"}, default="paper"
        How ``T2`` weights the samples: by the ratio ``u / p_s(y_i)`` of each
        sample's own label (paper eq. 12-13), or by the column's ``u / p_s(c)``
        (the authors' code). In :class:`~sklt.nn.LongTailClassifier`:
        ``criterion__form="reference"``.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.losses import LADELoss
    >>> torch.manual_seed(0) and None
    >>> z, y = torch.randn(8, 3), torch.tensor([0, 0, 0, 0, 1, 1, 2, 0])
    >>> loss = LADELoss([60, 30, 10], alpha=0.1, lam=0.01)
    >>> bool(torch.isfinite(loss(z, y)))
    True
    >>> paper = LADELoss([60, 30, 10], alpha=1.0).regularizer(z, y)
    >>> code = LADELoss([60, 30, 10], alpha=1.0, form="reference").regularizer(z, y)
    >>> bool(torch.isclose(paper, code))  # the two estimators of T2 differ
    False
    """

    _FORMS = ("paper", "reference")

    def __init__(self, class_counts, alpha=0.1, lam=0.01, form="paper"):
        super().__init__(class_counts)
        self.alpha = check_real(alpha, "alpha", low=0.0, high=MAX_LOSS_WEIGHT)
        self.lam = check_real(lam, "lam", low=0.0, high=MAX_LOSS_WEIGHT)
        if not isinstance(form, str) or form not in self._FORMS:
            raise ValueError(
                f"form must be 'paper' (eq. 12-13: each sample weighted by its own label's "
                f"u/p_s) or 'reference' (the authors' code); got {form!r}."
            )
        self.form = form

    def _per_sample(self, logits, target):
        return self._ce(logits + self.log_source_prior(logits.dtype), target)

    def forward(self, logits, target, sample_weight=None):
        """LADE-CE (mean, with class and sample weights) plus ``alpha * LADER`` of the batch."""
        target = self._check_target(logits, target)
        sample_weight = self._check_sample_weight(sample_weight, logits)
        loss = self._reduce(self._per_sample(logits, target), target, sample_weight)
        if self.alpha > 0:
            if self.form == "paper":  # alpha is applied inside the LADER node
                return loss + self._lader(logits, target, sample_weight, scale=self.alpha)
            loss = loss + self.alpha * self._lader(logits, target, sample_weight)
        return loss

    def regularizer(self, logits, target, sample_weight=None):
        """LADER of one batch (002 eq. 15-16), summed over the classes present.

        Parameters
        ----------
        logits : torch.Tensor of shape (N, K)
        target : torch.Tensor of shape (N,) (labels) or (N, K) (soft targets)
        sample_weight : torch.Tensor of shape (N,), default=None

        Returns
        -------
        lader : torch.Tensor, scalar
        """
        target = self._check_target(logits, target)
        sample_weight = self._check_sample_weight(sample_weight, logits)
        return self._lader(logits, target, sample_weight)

    def _lader(self, logits, target, sample_weight, scale=1.0):
        w = sample_weight
        total = None
        if w is not None:
            total = w.sum()
            if not bool(total > 0):
                return logits.sum() * 0.0  # an all-zero-weight batch has no class present
        if self.form == "paper":
            return self._lader_paper(logits, target, w, total, scale)
        return self._lader_reference(logits, target, w)

    def _paper_constants(self, dtype, scale):
        """``log(u / p_s)``, ``scale * p_s`` and ``arange(K)``, cached while ``log_prior`` and
        the arguments are unchanged."""
        log_p = self.log_prior
        cache = getattr(self, "_paper_cache", None)
        # the buffer itself (kept alive by the cache, so never confused with a new one)
        # and its version (load_state_dict and other in-place changes bump it)
        key = (log_p._version, dtype, scale)
        if cache is None or cache[0] is not log_p or cache[1] != key:
            log_p64 = log_p.to(torch.float64)
            cache = (log_p, key, (-math.log(self.n_classes) - log_p64).to(dtype),
                     (scale * log_p64.exp()).to(dtype),
                     torch.arange(self.n_classes, device=log_p.device))
            self._paper_cache = cache
        return cache[2:]

    def _lader_paper(self, logits, target, w, total, scale):
        """``scale * LADER`` of the paper form as one autograd node (:class:`_PaperLADER`).

        The weights (per-sample ``log(u / p_s(y_i) * s_i)`` of ``T2``, the ``T1``
        weights ``alpha_c s_i Y_ic / n_c``) do not depend on the logits: they are
        computed without autograd, and the node's backward is the closed form
        ``dLADER / dz_ic = alpha_c ((1 + 2 lam T2_c) q_ic - s_i Y_ic / n_c)``
        (``q_ic`` the softmax over the batch of column ``c`` of ``z + log r``).
        A class is present when its (weighted) count is at least the dtype's
        smallest normal number.
        """
        log_ratio, prior, classes = self._paper_constants(logits.dtype, scale)
        tiny = torch.finfo(logits.dtype).tiny
        with torch.no_grad():
            if target.ndim == 1:
                y = (target[:, None] == classes).to(logits.dtype)
                log_r = log_ratio[target]
            else:
                y = target
                log_r = torch.logsumexp(torch.log(target) + log_ratio, dim=1)
            if w is None:
                n_c = y.sum(dim=0)
                log_total = math.log(logits.shape[0])
            else:
                y = y * w[:, None]
                n_c = y.sum(dim=0)
                log_r = log_r + torch.log(w)  # -inf for zero weights: those rows drop out of T2
                log_total = math.log(float(total))
            present = n_c >= tiny
            alpha = prior * present
            t1_weight = y * (alpha / n_c.clamp_min(tiny).neg_())
        return _PaperLADER.apply(logits, log_r, t1_weight, alpha, present, log_total, self.lam)

    def _lader_reference(self, logits, target, w):
        k = self.n_classes
        log_p = self.log_source_prior(logits.dtype)
        hard = target.ndim == 1
        if hard:
            z_y = logits.gather(1, target[:, None]).squeeze(1)
            zeros = torch.zeros(k, dtype=logits.dtype, device=logits.device)
            if w is None:
                n_c = torch.bincount(target, minlength=k).to(logits.dtype)
                t1_sum = zeros.index_add(0, target, z_y)
            else:
                n_c = zeros.index_add(0, target, w)
                t1_sum = zeros.index_add(0, target, w * z_y)
        else:
            wY = target if w is None else target * w[:, None]
            n_c = wY.sum(dim=0)
            t1_sum = (wY * logits).sum(dim=0)
        present = n_c > 0
        t1 = t1_sum / torch.where(present, n_c, 1.0)
        if w is None:
            log_w, log_total = None, math.log(logits.shape[0])
        else:
            with torch.no_grad():
                log_w = torch.log(w)  # -inf for zero weights: those rows drop out of T2
            log_total = torch.log(w.sum())
        # T2_c = log((1/N) sum_i (u / p_s(c)) exp(z_ic)): column c weighted by u/p_s(c).
        if log_w is None:
            t2 = torch.logsumexp(logits, dim=0) - (log_p + math.log(logits.shape[0] * k))
        else:
            t2 = torch.logsumexp(logits + log_w[:, None], dim=0) - log_total \
                - (log_p + math.log(k))
        # Absent classes take no part; mask before the square so that a huge T2 of an
        # absent class cannot become inf * 0.
        t2 = torch.where(present, t2, 0.0)
        per_class = t2 * (1.0 + self.lam * t2) - t1
        alpha_c = torch.where(present, log_p.exp(), 0.0)
        return torch.dot(alpha_c, per_class)

    def _entangled_log_prior(self):
        return torch.zeros(self.n_classes, dtype=torch.float64, device=self.class_counts.device)


class LDAMLoss(LongTailLoss):
    """Label-distribution-aware margin loss (Cao et al. 2019; baseline in 000/004).

    ``CE(s * (z - Delta_y e_y), y)`` with ``Delta_c ∝ n_c^(-1/4)``, the largest
    margin equal to ``max_margin``. With soft targets the margin is
    ``Delta ⊙ Y``. The logits are entangled with ``p_s``. The classifier applies
    the same ``scale`` to the logits at inference (:attr:`logit_scale`), so its
    probabilities are those the loss trains. LDAM was designed for normalised
    (cosine) heads whose logits lie in ``[-1, 1]``; with an unnormalised head a
    smaller ``scale`` (e.g. 1) is usually better.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    max_margin : float, default=0.5
        Margin of the rarest class, ``>= 0``.
    scale : float, default=30.0
        Logit scale ``s``, in ``(0, 1e6]``.

    Examples
    --------
    >>> from sklt.nn.losses import LDAMLoss
    >>> LDAMLoss([10000, 1], max_margin=0.5).margins
    tensor([0.0500, 0.5000])
    """

    def __init__(self, class_counts, max_margin=0.5, scale=30.0):
        super().__init__(class_counts)
        self.max_margin = check_real(max_margin, "max_margin", low=0.0, high=F32_MAX)
        self.scale = check_real(scale, "scale", low=0.0, low_open=True, high=MAX_LOSS_WEIGHT)
        counts = self.class_counts.to(torch.float64)
        present = counts > 0
        inv = torch.where(present, torch.where(present, counts, 1.0) ** -0.25, 0.0)
        self.register_buffer("margins", (inv * (self.max_margin / inv.max())).float())

    @property
    def logit_scale(self):
        return self.scale

    def _per_sample(self, logits, target):
        margins = self.margins.to(logits.dtype)
        if target.ndim == 1:
            shift = F.one_hot(target, self.n_classes).to(logits.dtype) * margins
        else:
            shift = target * margins
        margin_logits = logits - shift
        # log_softmax is shift-invariant: subtract the row maximum before scaling, so that
        # scale * logits cannot overflow where the loss itself is representable.
        margin_logits = margin_logits - margin_logits.max(dim=1, keepdim=True).values.detach()
        return self._ce(self.scale * margin_logits, target)


class FocalLoss(LongTailLoss):
    """Focal loss (Lin et al. 2017; long-tail baseline): ``-(1 - p_y)^gamma log p_y``.

    With soft targets: ``-sum_k Y_k (1 - p_k)^gamma log p_k``. ``gamma = 0`` is
    the cross-entropy. Logits are entangled with ``p_s`` (approximately: focal
    loss is not a proper scoring rule).

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.losses import FocalLoss, CrossEntropy
    >>> z, y = torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    >>> bool(torch.allclose(FocalLoss([1, 1, 1], gamma=0.0)(z, y), CrossEntropy([1, 1, 1])(z, y)))
    True
    """

    def __init__(self, class_counts, gamma=2.0):
        super().__init__(class_counts)
        self.gamma = check_real(gamma, "gamma", low=0.0)

    def _per_sample(self, logits, target):
        log_p = F.log_softmax(logits, dim=1)
        if target.ndim == 1:
            log_p = log_p.gather(1, target[:, None]).squeeze(1)
            if self.gamma == 0:
                return -log_p
            return -torch.pow(-torch.expm1(log_p), self.gamma) * log_p
        if self.gamma == 0:
            return -(target * log_p).sum(dim=1)
        return -(target * torch.pow(-torch.expm1(log_p), self.gamma) * log_p).sum(dim=1)


_BASE_LOSSES = {
    "cross_entropy": CrossEntropy,
    "logit_adjusted": LogitAdjustedLoss,
    "balanced_softmax": BalancedSoftmaxLoss,
    "bayias": BayiasLoss,
    "lade": LADELoss,
    "ldam": LDAMLoss,
    "focal": FocalLoss,
}


class ClassBalancedLoss(LongTailLoss):
    """Class-balanced weighting (Cui et al. 2019) around any sklt loss.

    Each sample's loss is weighted by ``(1 - beta) / (1 - beta^{n_y})`` (see
    :func:`class_balanced_weights`); ``beta = 0`` is the unweighted base loss.
    The entangled prior is the base loss's times the weights.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    base : str or LongTailLoss subclass, default="cross_entropy"
        The loss to weight: a name (``"cross_entropy"``, ``"logit_adjusted"``,
        ``"balanced_softmax"``, ``"bayias"``, ``"lade"``, ``"ldam"``,
        ``"focal"``) or a class.
    beta : float, default=0.999
        In ``[0, 1)``.
    **base_params
        Hyperparameters of the base loss (e.g. ``gamma`` for focal). In
        :class:`~sklt.nn.LongTailClassifier`: ``criterion__base="focal"``,
        ``criterion__gamma=1.0``.

    Attributes
    ----------
    base_ : LongTailLoss
        The weighted base loss.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.losses import ClassBalancedLoss, FocalLoss
    >>> z, y = torch.randn(4, 2), torch.tensor([0, 1, 0, 0])
    >>> cb = ClassBalancedLoss([30, 3], base="focal", beta=0.0, gamma=1.0)
    >>> bool(torch.equal(cb(z, y), FocalLoss([30, 3], gamma=1.0)(z, y)))
    True
    """

    def __init__(self, class_counts, base="cross_entropy", beta=0.999, **base_params):
        nn.Module.__init__(self)
        if isinstance(base, str):
            if base not in _BASE_LOSSES:
                raise ValueError(
                    f"Unknown base loss {base!r}; valid names are {sorted(_BASE_LOSSES)}."
                )
            base_cls = _BASE_LOSSES[base]
        elif isinstance(base, type) and issubclass(base, LongTailLoss) \
                and not issubclass(base, ClassBalancedLoss):
            base_cls = base
        else:
            raise TypeError(
                f"base must be a loss name in {sorted(_BASE_LOSSES)} or a LongTailLoss "
                f"subclass (a class, not an instance); got {base!r}."
            )
        self.base = base
        self.beta = check_real(beta, "beta", low=0.0, high=1.0, high_open=True)
        self.base_ = base_cls(class_counts, **base_params)
        weight = class_balanced_weights(self.base_.class_counts, self.beta)
        self.base_.set_class_weight(self.base_.class_weight * weight)

    @property
    def class_counts(self):
        return self.base_.class_counts

    @property
    def class_weight(self):
        return self.base_.class_weight

    @property
    def requires_module_output(self):
        return self.base_.requires_module_output

    @property
    def logit_scale(self):
        return self.base_.logit_scale

    def set_class_weight(self, weight=None):
        """Set the base loss's per-class weights (``None``: ones)."""
        self.base_.set_class_weight(weight)
        return self

    def entangled_log_prior(self):
        """The base loss's entangled prior, times the class weights (log, shape ``(K,)``)."""
        return self.base_.entangled_log_prior()

    def forward(self, logits, target, sample_weight=None):
        """Weighted base loss (``sample_weight``: per-sample weights, as for every loss)."""
        return self.base_(logits, target, sample_weight=sample_weight)
