"""Long-tail training losses, one :class:`torch.nn.Module` each (``METHODS.md`` §2).

Every loss takes the training ``class_counts`` (a buffer, so it moves with the
module's device and is saved in its ``state_dict``) and declares, through
:meth:`~LongTailLoss.entangled_log_prior`, the prior its logits are entangled
with. :class:`~sklt.nn.LongTailClassifier` uses that declaration to inject a
target prior at inference (``z + log p_t - entangled``, through
:func:`sklt.adjust.adjust_logits`).

Targets are either hard labels (an integer tensor of shape ``(N,)``) or soft
targets (a float tensor of shape ``(N, K)`` whose rows are probability vectors,
as mixup-style augmentations produce). For the cross-entropy family the loss
with soft targets is ``-sum_k Y_k log softmax(z')_k``; a one-hot ``Y`` gives
exactly the hard-label loss.

All losses also hold a per-class weight buffer ``class_weight`` (ones by
default; :class:`ClassBalancedLoss` and the
:class:`~sklt.nn.callbacks.DeferredReweighting` callback set it). The batch
loss is ``mean_i w_i * loss_i`` with ``w_i = sum_k Y_ik class_weight_k``
(``class_weight[y_i]`` for hard labels): with unit weights this is the plain
mean. A weighting ``w`` changes the population minimiser of the loss from
``P(y|x)`` to ``P(y|x) w_y / Z(x)``, so :meth:`~LongTailLoss.entangled_log_prior`
adds ``log w``.

Classes with zero training count are allowed: their log-prior is floored at
``log(tiny)`` of float32 (about -87) instead of ``-inf``, so no NaN appears.
"""

import math
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

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


def _check_real(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """Validate a scalar hyperparameter, raising a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}.")
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        if low is not None and high is not None:
            rng = f"in {lo}, {hi}"
        elif low is not None:
            rng = (">" if low_open else ">=") + f" {low}"
        else:
            rng = ("<" if high_open else "<=") + f" {high}"
        raise ValueError(f"{name} must be {rng}; got {value!r}.")
    return float(value)


def _check_counts(class_counts):
    counts = torch.as_tensor(
        np.asarray(class_counts.detach().cpu() if torch.is_tensor(class_counts) else class_counts,
                   dtype=np.float64)
    )
    if counts.ndim != 1 or counts.numel() < 1:
        raise ValueError(
            f"class_counts must be a 1-D array with one count per class; got shape "
            f"{tuple(counts.shape)}."
        )
    if not torch.all(torch.isfinite(counts)) or torch.any(counts < 0):
        raise ValueError(f"class_counts must be finite and non-negative; got {counts.tolist()}.")
    if not counts.sum() > 0:
        raise ValueError("class_counts sums to zero; at least one class needs samples.")
    return counts.to(torch.float32)


def _log_prior_from_counts(counts):
    """``log(counts / counts.sum())`` floored at log(tiny) so empty classes stay finite."""
    counts = counts.to(torch.float64)
    with torch.no_grad():
        log_prior = torch.log(counts / counts.sum())
    return log_prior.clamp_min(_LOG_TINY)


def _refresh_weighted(module, incompatible_keys):
    module._weighted = bool(torch.any(module.class_weight != 1))


def class_balanced_weights(class_counts, beta):
    """Class-balanced weights of Cui et al. (2019): ``(1 - beta) / (1 - beta ** n_c)``.

    The inverse of the *effective number of samples* ``(1 - beta^n) / (1 - beta)``
    of each class, normalised so that the weights of the non-empty classes sum
    to their number (as in the paper's code); ``beta = 0`` gives all ones,
    ``beta -> 1`` approaches inverse class frequency. Empty classes get weight 0.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
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
    beta = _check_real(beta, "beta", low=0.0, high=1.0, high_open=True)
    counts = _check_counts(class_counts).to(torch.float64)
    present = counts > 0
    if beta == 0.0:
        effective = torch.ones_like(counts)
    else:
        # (1 - beta^n) / (1 - beta), computed as -expm1(n log beta) / (1 - beta).
        effective = -torch.expm1(counts * math.log(beta)) / (1.0 - beta)
    weights = torch.where(present, 1.0 / torch.where(present, effective, 1.0), 0.0)
    weights = weights * present.sum() / weights.sum()
    return weights.to(torch.float32)


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
    """

    #: Whether the loss needs the module's whole output (e.g. a tuple
    #: ``(logits, features)``) rather than only the logits.
    requires_module_output = False
    #: Factor the classifier applies to the logits at inference (LDAM's scale).
    logit_scale = 1.0

    def __init__(self, class_counts):
        super().__init__()
        counts = _check_counts(class_counts)
        self.register_buffer("class_counts", counts)
        self.register_buffer("class_weight", torch.ones_like(counts))
        self.register_buffer("log_prior", _log_prior_from_counts(counts).float())
        # Skip the per-sample weighting while all class weights are one (fast path).
        self._weighted = False
        self.register_load_state_dict_post_hook(_refresh_weighted)

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
                weight = torch.as_tensor(weight, dtype=self.class_weight.dtype)
                if weight.shape != self.class_weight.shape:
                    raise ValueError(
                        f"class weight has shape {tuple(weight.shape)}; expected "
                        f"({self.n_classes},)."
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
        if logits.ndim != 2 or logits.shape[1] != self.n_classes:
            raise ValueError(
                f"{type(self).__name__} expects logits of shape (N, {self.n_classes}); got "
                f"{tuple(logits.shape)}."
            )
        if target.ndim == 1 and not torch.is_floating_point(target):
            return target.long()
        if target.ndim == 1:
            return target.long()
        if target.ndim == 2 and target.shape == logits.shape:
            return target.to(logits.dtype)
        raise ValueError(
            f"targets must be class indices of shape (N,) or probabilities of shape "
            f"(N, {self.n_classes}); got {tuple(target.shape)}."
        )

    def _reduce(self, losses, target):
        if not self._weighted:
            return losses.mean()
        weight = self.class_weight.to(losses.dtype)
        if target.ndim == 1:
            sample_weight = weight[target]
        else:
            sample_weight = target @ weight
        return (losses * sample_weight).mean()

    @staticmethod
    def _ce(logits, target):
        """Per-sample cross-entropy, hard labels or soft targets."""
        return F.cross_entropy(logits, target, reduction="none")

    def forward(self, logits, target):
        """Batch loss: ``mean_i w_i * loss_i``.

        Parameters
        ----------
        logits : torch.Tensor of shape (N, K)
        target : torch.Tensor of shape (N,) (labels) or (N, K) (soft targets)

        Returns
        -------
        loss : torch.Tensor, scalar
        """
        target = self._check_target(logits, target)
        return self._reduce(self._per_sample(logits, target), target)

    def _per_sample(self, logits, target):  # pragma: no cover - abstract
        raise NotImplementedError


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
        self.tau = _check_real(tau, "tau", low=0.0)
        self.tau1 = self.tau if tau1 is None else _check_real(tau1, "tau1", low=0.0)
        self.tau2 = self.tau if tau2 is None else _check_real(tau2, "tau2", low=0.0)
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
        if isinstance(target_prior, str):
            if target_prior != "uniform":
                raise ValueError(
                    f"target_prior must be 'uniform' or an array of {self.n_classes} positive "
                    f"weights; got {target_prior!r}."
                )
            prior = torch.full((self.n_classes,), 1.0 / self.n_classes, dtype=torch.float64)
        else:
            prior = torch.as_tensor(np.asarray(target_prior, dtype=np.float64))
            if prior.shape != (self.n_classes,):
                raise ValueError(
                    f"target_prior has shape {tuple(prior.shape)}; expected ({self.n_classes},)."
                )
            if not torch.all(torch.isfinite(prior)) or torch.any(prior <= 0):
                raise ValueError(
                    f"target_prior must be finite and strictly positive; got {prior.tolist()}."
                )
            prior = prior / prior.sum()
        self.target_prior = target_prior
        self.register_buffer("log_target_prior", torch.log(prior).float())

    def _per_sample(self, logits, target):
        offset = self.log_source_prior(logits.dtype) - self.log_target_prior.to(logits.dtype)
        return self._ce(logits + offset, target)

    def _entangled_log_prior(self):
        return self.log_target_prior.to(torch.float64)


class LADELoss(LongTailLoss):
    """LADE: label distribution disentangling loss (Hong et al. 2021, 002 eq. 15-20).

    ``LADE = CE(z + log p_s, y) + alpha * LADER`` with the regulariser (eq. 15-16),
    for a batch of ``N`` samples, ``n_c`` of class ``c``::

        T1_c = (1/n_c) sum_{i: y_i = c} z_ic
        T2_c = logsumexp_i(z_ic) - log N + log(1/K) - log p_s(c)
        LADER = sum_{c present} p_s(c) * (-T1_c + T2_c + lam * T2_c ** 2)

    The logits are entangled with the uniform prior (inject ``p_t`` at inference
    with ``softmax(z + log p_t)``).

    The sum runs over the classes present in the batch, as the paper writes it.
    The reference code (hyperconnect/LADE, ``loss/LADELoss.py``) does not mask
    absent classes: their ``T1`` is 0 but their ``T2`` terms still enter the
    sum. With soft targets ``Y``, ``n_c = sum_i Y_ic`` and
    ``T1_c = sum_i Y_ic z_ic / n_c`` (a class is present when ``n_c > 0``);
    one-hot targets reduce to the hard-label formula.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    alpha : float, default=0.1
        Weight of LADER, ``>= 0``; 0 gives :class:`BalancedSoftmaxLoss`.
    lam : float, default=0.01
        Weight of the ``T2^2`` term (the paper's lambda), ``>= 0``. Reference
        settings: CIFAR-100-LT ``lam=0.01, alpha=0.1``; Places-LT ``lam=0.1,
        alpha=0.005``; ImageNet-LT ``lam=0.5, alpha=0.05``.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.losses import LADELoss
    >>> torch.manual_seed(0) and None
    >>> z, y = torch.randn(8, 3), torch.tensor([0, 0, 0, 0, 1, 1, 2, 0])
    >>> loss = LADELoss([60, 30, 10], alpha=0.1, lam=0.01)
    >>> bool(torch.isfinite(loss(z, y)))
    True
    """

    def __init__(self, class_counts, alpha=0.1, lam=0.01):
        super().__init__(class_counts)
        self.alpha = _check_real(alpha, "alpha", low=0.0)
        self.lam = _check_real(lam, "lam", low=0.0)

    def _per_sample(self, logits, target):
        return self._ce(logits + self.log_source_prior(logits.dtype), target)

    def forward(self, logits, target):
        """LADE-CE (mean, with class weights) plus ``alpha * LADER`` of the batch."""
        target = self._check_target(logits, target)
        loss = self._reduce(self._per_sample(logits, target), target)
        if self.alpha > 0:
            loss = loss + self.alpha * self.regularizer(logits, target)
        return loss

    def regularizer(self, logits, target):
        """LADER of one batch (002 eq. 15-16), summed over the classes present."""
        target = self._check_target(logits, target)
        n = logits.shape[0]
        log_p = self.log_source_prior(logits.dtype)
        if target.ndim == 1:
            n_c = torch.bincount(target, minlength=self.n_classes).to(logits.dtype)
            t1_sum = torch.zeros_like(n_c).index_add(
                0, target, logits.gather(1, target[:, None]).squeeze(1)
            )
        else:
            n_c = target.sum(dim=0)
            t1_sum = (target * logits).sum(dim=0)
        present = n_c > 0
        t1 = t1_sum / torch.where(present, n_c, 1.0)
        # T2_c = log((1/N) sum_i (u_c / p_s(c)) exp(z_ic)), u_c = 1/K.
        t2 = torch.logsumexp(logits, dim=0) - (log_p + math.log(n * self.n_classes))
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
        Logit scale ``s``, ``> 0``.

    Examples
    --------
    >>> from sklt.nn.losses import LDAMLoss
    >>> LDAMLoss([10000, 1], max_margin=0.5).margins
    tensor([0.0500, 0.5000])
    """

    def __init__(self, class_counts, max_margin=0.5, scale=30.0):
        super().__init__(class_counts)
        self.max_margin = _check_real(max_margin, "max_margin", low=0.0)
        self.scale = _check_real(scale, "scale", low=0.0, low_open=True)
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
        return self._ce(self.scale * (logits - shift), target)


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
        self.gamma = _check_real(gamma, "gamma", low=0.0)

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
            raise ValueError(
                f"base must be a loss name in {sorted(_BASE_LOSSES)} or a LongTailLoss "
                f"subclass; got {base!r}."
            )
        self.base = base
        self.beta = _check_real(beta, "beta", low=0.0, high=1.0, high_open=True)
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

    def forward(self, logits, target):
        """Weighted base loss."""
        return self.base_(logits, target)
