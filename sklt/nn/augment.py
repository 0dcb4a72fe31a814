"""Batch augmentations for long-tailed training: mixup, Remix and UniMix (``METHODS.md`` §3).

Each augmentation is a small scikit-learn-style object (``get_params`` /
``set_params``, so ``augmentation__tau`` works in ``GridSearchCV``) whose method
:meth:`~UniMix.mix` takes one training batch and returns the mixed inputs and
soft targets ``(X_mixed, Y_soft)``, or ``None`` when mixing is switched off
(from ``stop_epoch`` on, as in 003 Algorithm 1). Plugged into
:class:`~sklt.nn.LongTailClassifier` with ``augmentation=UniMix(...)``, the
criterion receives ``Y_soft`` in place of the labels.

For every pair ``(i, j)`` the mixed input is ``x~ = xi_i x_i + (1 - xi_i) x_j``
(per sample ``xi``, broadcast over any trailing shape: ``(N, F)``,
``(N, C, L)``, ``(N, C, H, W)``) and the soft target is
``Y_i = lam_i e_{y_i} + (1 - lam_i) e_{y_j}`` (``lam = xi`` except for Remix).
For a loss linear in its target — the whole cross-entropy family of
:mod:`sklt.nn.losses` (cross-entropy, logit-adjusted, balanced softmax, Bayias,
LDAM with its soft margin, the CE part of LADE) and the estimated-offset loss —
the loss of ``Y_i`` is exactly the mixed loss
``lam l(x~, y_i) + (1 - lam) l(x~, y_j)`` of 003 eq. 11. For losses that are not
linear in the target (focal loss's weighting, LADE's batch regulariser, the
class-balanced weights when ``y_i`` and ``y_j`` differ only through their
weights) the soft target is a convex combination of the two labels plugged
into the loss, which is the usual soft-label generalisation, not eq. 11.

Random numbers come from a NumPy generator: ``random_state=None`` seeds one per
batch from torch's global generator (so ``torch.manual_seed`` makes training
reproducible); an int seeds one generator per object (a fresh copy, such as the
one :class:`~sklt.nn.LongTailClassifier` clones at ``fit``, starts over).
"""

import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator

from sklt.nn._validation import (
    check_counts,
    check_int,
    check_labels,
    check_real,
    check_sample_weight,
)

__all__ = ["Mixup", "Remix", "UniMix"]

#: numpy's Beta sampler overflows (a + b = inf) beyond ~9e307; from 1e300 on, Beta(a, a)
#: is 0.5 to within 1e-150, so larger alphas are capped there (the exact answer).
_ALPHA_CAP = 1e300


def _check_positive(value, name):
    return check_real(value, name, low=0.0, low_open=True)


def _check_finite(value, name):
    return check_real(value, name)


def _check_stop_epoch(stop_epoch):
    return check_int(
        stop_epoch, "stop_epoch", low=0, allow_none=True,
        hint=" (None or the first 0-based epoch without mixing)",
    )


def _check_counts(class_counts):
    counts = check_counts(class_counts)
    if counts.size < 2:
        raise ValueError(
            f"class_counts must have one count per class (at least 2); got shape {counts.shape}."
        )
    return counts


def _check_random_state(random_state):
    """A NumPy generator from ``random_state`` (None, an int >= 0 or a Generator)."""
    if isinstance(random_state, bool) or not (
        random_state is None
        or isinstance(random_state, np.random.Generator | np.random.SeedSequence)
        or (isinstance(random_state, numbers.Integral) and random_state >= 0)
    ):
        raise ValueError(
            "random_state must be None, a non-negative int or a numpy.random.Generator; got "
            f"{random_state!r}."
        )
    return np.random.default_rng(random_state)


def _check_batch_labels(y, counts):
    """Encoded labels of a batch, each with a positive count in ``counts``."""
    y = check_labels(y, np.iinfo(np.int64).max, name="y")
    if y.size and y.max() >= counts.size:
        raise ValueError(
            f"y holds class index {int(y.max())}, outside the {counts.size} classes of "
            f"class_counts (0..{counts.size - 1}); pass one training count per class."
        )
    if y.size and np.any(counts[y] <= 0):
        raise ValueError(
            "class_counts gives a zero count to a class present in the batch; pass the "
            "training class counts."
        )
    return y


#: Beta(a, a) for a below this is Bernoulli(1/2) on {0, 1} to within float64 resolution.
_ALPHA_FLOOR = 1e-300


def _beta(rng, alpha, size):
    """``n = size`` draws of Beta(alpha, alpha), for any ``alpha > 0``.

    For ``alpha >= 1`` NumPy's sampler. Below 1 NumPy < 2 uses Jöhnk's
    algorithm, which never returns for tiny ``alpha`` (``U ** (1 / a)``
    underflows to 0 on every try): Beta(a, a) is sampled instead as
    ``G1 / (G1 + G2)`` with ``G ~ Gamma(a) = Gamma(a + 1) * U ** (1 / a)``
    (Marsaglia and Tsang), in log space, where it is exact and finite for every
    ``a`` down to ``_ALPHA_FLOOR``.
    """
    a = min(alpha, _ALPHA_CAP)
    if a >= 1.0:
        return rng.beta(a, a, size=size)
    a = max(a, _ALPHA_FLOOR)
    # 1 - random() is in (0, 1]: its log is finite
    log_g = np.log(rng.standard_gamma(a + 1.0, size=(2, size))) + np.log1p(
        -rng.random(size=(2, size))) / a
    # G1 / (G1 + G2) = 1 / (1 + exp(log G2 - log G1)); exp overflows to inf -> 0, exactly
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(log_g[1] - log_g[0]))


class _BaseMix(BaseEstimator):
    """Shared machinery: validation, random numbers, the convex combination."""

    def _validate(self):
        """Check the hyperparameters (subclasses extend); clear ValueErrors."""
        _check_stop_epoch(self.stop_epoch)

    def _rng(self):
        if self.random_state is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
            return np.random.default_rng(seed)
        rng = getattr(self, "_rng_", None)
        if rng is None or getattr(self, "_rng_seed_", None) is not self.random_state:
            rng = _check_random_state(self.random_state)
            self._rng_, self._rng_seed_ = rng, self.random_state
        return rng

    def is_active(self, epoch):
        """Whether the batch of 0-based ``epoch`` is mixed (``epoch < stop_epoch``).

        Parameters
        ----------
        epoch : int
            0-based epoch.

        Returns
        -------
        active : bool
        """
        stop = _check_stop_epoch(self.stop_epoch)
        epoch = check_int(epoch, "epoch", low=0, hint=" (the 0-based epoch)")
        return stop is None or epoch < stop

    def sample(self, y, class_counts, *, rng=None):
        """Draw the partners and the mixing factors of one batch.

        Parameters
        ----------
        y : array-like of int of shape (n_samples,)
            Encoded labels of the batch.
        class_counts : array-like of shape (n_classes,)
            Training samples per class.
        rng : numpy.random.Generator, default=None
            Source of randomness (``None``: the object's own, see ``random_state``).

        Returns
        -------
        partner : ndarray of int of shape (n_samples,)
            Index ``j`` of each sample's partner in the batch.
        xi : ndarray of shape (n_samples,)
            Input mixing factor: ``x~ = xi x_i + (1 - xi) x_partner``.
        lam : ndarray of shape (n_samples,)
            Label mixing factor: ``Y = lam e_{y_i} + (1 - lam) e_{y_partner}``.
        """
        self._validate()
        counts = _check_counts(class_counts)
        y = _check_batch_labels(y, counts)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be None or a numpy.random.Generator; got {rng!r}.")
        rng = self._rng() if rng is None else rng
        return self._sample(y, counts, rng)

    def mix(self, X, y, *, class_counts, epoch=0, sample_weight=None):
        """Mix one training batch (the :class:`~sklt.nn.LongTailClassifier` hook).

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, ...)
            Batch of inputs: ``(N, F)``, ``(N, C, L)``, ``(N, C, H, W)``, ...
        y : torch.Tensor of int of shape (n_samples,)
            Encoded labels.
        class_counts : torch.Tensor or array-like of shape (n_classes,)
            Training samples per class.
        epoch : int, default=0
            0-based current epoch; no mixing from ``stop_epoch`` on.
        sample_weight : torch.Tensor of shape (n_samples,), default=None
            Per-sample weights of the batch. When given, the mixed samples'
            weights are returned too (see below).

        Returns
        -------
        mixed : None or tuple (X_mixed, Y_soft) or (X_mixed, Y_soft, weight)
            ``None`` when mixing is off for this epoch; otherwise the mixed
            inputs (same shape, dtype and device as ``X``) and the soft targets,
            a float tensor of shape ``(n_samples, n_classes)`` (float32 unless
            ``X`` is float64) on ``X``'s device. With ``sample_weight``, a third
            element: the mixed samples' weights ``w~_i = lam_i w_i + (1 - lam_i)
            w_j``, and ``Y_soft_i = (lam_i w_i e_{y_i} + (1 - lam_i) w_j e_{y_j})
            / w~_i``: for a loss linear in its target, the weighted mixed loss
            ``lam w_i l(x~, y_i) + (1 - lam) w_j l(x~, y_j)`` exactly.
        """
        self._validate()
        if not self.is_active(epoch):
            return None
        if not torch.is_tensor(X) or not torch.is_floating_point(X):
            raise TypeError(
                f"{type(self).__name__}.mix needs X as a floating-point torch tensor; got "
                f"{type(X).__name__}{'' if not torch.is_tensor(X) else ' of ' + str(X.dtype)}."
            )
        if X.ndim < 2 or (torch.is_tensor(y) and y.shape[0] != X.shape[0]) or len(y) != len(X):
            raise ValueError(
                f"X must be (n_samples, ...) with one label per sample; got X of shape "
                f"{tuple(X.shape)} and {len(y)} labels."
            )
        counts = _check_counts(class_counts)
        n_classes = counts.size
        if sample_weight is not None:
            sw = sample_weight.detach().cpu().numpy() if torch.is_tensor(sample_weight) \
                else sample_weight
            # scaled to a maximum of one: only the ratios enter the soft targets, and the
            # mixed weights stay finite in float32 whatever the caller's scale. A batch
            # whose weights are all zero is valid (it adds nothing to the loss).
            weights = np.zeros(X.shape[0]) if np.shape(sw) == (X.shape[0],) and not np.any(
                np.asarray(sw, dtype=object) != 0) else check_sample_weight(
                sw, X.shape[0], normalize=False)
            scale = weights.max() if weights.size and weights.max() > 0 else 1.0
            weights = weights / scale
        partner, xi, lam = self.sample(y, counts)
        device = X.device
        ydev = torch.as_tensor(np.asarray(y.detach().cpu() if torch.is_tensor(y) else y),
                               dtype=torch.long, device=device)
        partner_t = torch.as_tensor(partner, device=device)
        xi_t = torch.as_tensor(xi, dtype=X.dtype, device=device).reshape(
            (-1,) + (1,) * (X.ndim - 1)
        )
        X_mixed = xi_t * X + (1.0 - xi_t) * X[partner_t]
        target_dtype = torch.float64 if X.dtype == torch.float64 else torch.float32
        lam_t = torch.as_tensor(lam, dtype=target_dtype, device=device)[:, None]
        onehot = torch.nn.functional.one_hot(ydev, n_classes).to(target_dtype)
        if sample_weight is None:
            Y_soft = lam_t * onehot + (1.0 - lam_t) * onehot[partner_t]
            return X_mixed, Y_soft
        w = torch.as_tensor(weights, dtype=target_dtype, device=device)
        part_i, part_j = lam_t * w[:, None], (1.0 - lam_t) * w[partner_t][:, None]
        w_mixed = (part_i + part_j).squeeze(1)
        Y_soft = part_i * onehot + part_j * onehot[partner_t]
        unweighted = lam_t * onehot + (1.0 - lam_t) * onehot[partner_t]
        safe = torch.where(w_mixed > 0, w_mixed, 1.0)[:, None]
        Y_soft = torch.where(w_mixed[:, None] > 0, Y_soft / safe, unweighted)
        w_mixed = w_mixed * scale  # back to the caller's units
        if not bool(torch.all(torch.isfinite(w_mixed))):
            raise ValueError(
                f"sample_weight up to {scale:.3g} overflows the mixed weights in "
                f"{target_dtype}; rescale sample_weight (only the ratios of the weights "
                "matter for the loss's minimiser)."
            )
        return X_mixed, Y_soft, w_mixed


class Mixup(_BaseMix):
    """mixup (Zhang et al. 2018; 003 eq. 2): ``xi ~ Beta(alpha, alpha)``, random partners.

    Each sample ``i`` of the batch is mixed with a partner ``j`` given by a
    random permutation of the batch, with its own factor ``xi_i ~ Beta(alpha,
    alpha)``: ``x~ = xi x_i + (1 - xi) x_j``, target
    ``xi e_{y_i} + (1 - xi) e_{y_j}``. (Zhang et al.'s code draws one factor per
    batch; the marginal distribution of ``xi`` is the same.)

    Parameters
    ----------
    alpha : float, default=1.0
        Beta parameter, ``> 0``.
    stop_epoch : int or None, default=None
        First 0-based epoch without mixing (``None``: mix in every epoch).
    random_state : int, numpy Generator or None, default=None
        ``None``: seeded from torch's global generator at each batch.

    See Also
    --------
    UniMix : mixup with a tail-favouring factor and partner sampler.
    Remix : mixup with tail-favouring labels.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.augment import Mixup
    >>> X, y = torch.arange(8.0).reshape(4, 2), torch.tensor([0, 0, 0, 1])
    >>> X_mixed, Y_soft = Mixup(alpha=0.4, random_state=0).mix(X, y, class_counts=[3, 1])
    >>> X_mixed.shape, Y_soft.shape
    (torch.Size([4, 2]), torch.Size([4, 2]))
    >>> bool(torch.allclose(Y_soft.sum(dim=1), torch.ones(4)))
    True
    """

    def __init__(self, alpha=1.0, *, stop_epoch=None, random_state=None):
        self.alpha = alpha
        self.stop_epoch = stop_epoch
        self.random_state = random_state

    def _validate(self):
        super()._validate()
        _check_positive(self.alpha, "alpha")

    def _sample(self, y, counts, rng):
        n = y.size
        partner = rng.permutation(n)
        xi = _beta(rng, self.alpha, n)
        return partner, xi, xi


class Remix(_BaseMix):
    """Remix (Chou et al. 2020, baseline in 003): mixup with tail-favouring labels.

    Inputs are mixed as in :class:`Mixup` (``xi ~ Beta(alpha, alpha)``, random
    partners); the label factor is moved to the minority sample when the pair is
    imbalanced enough::

        lam = 0    if n_{y_i} / n_{y_j} >= kappa  and  xi < tau
        lam = 1    if n_{y_i} / n_{y_j} <= 1/kappa and  1 - xi < tau
        lam = xi   otherwise

    Parameters
    ----------
    alpha : float, default=1.0
        Beta parameter, ``> 0``.
    kappa : float, default=3.0
        Imbalance ratio of a pair above which the label goes to the rarer
        sample, ``>= 1`` (the paper's default 3; below 1 both of its rules would
        apply to the same pairs).
    tau : float, default=0.5
        In ``[0, 1]`` (the paper's default 0.5): when the majority sample's
        input share is below ``tau``, the label goes entirely to the minority
        sample.
    stop_epoch : int or None, default=None
        First 0-based epoch without mixing.
    random_state : int, numpy Generator or None, default=None

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.augment import Remix
    >>> X, y = torch.randn(6, 3), torch.tensor([0, 0, 0, 0, 0, 1])
    >>> _, Y_soft = Remix(kappa=3.0, tau=0.5, random_state=0).mix(X, y, class_counts=[100, 5])
    >>> Y_soft.shape
    torch.Size([6, 2])
    """

    def __init__(self, alpha=1.0, *, kappa=3.0, tau=0.5, stop_epoch=None, random_state=None):
        self.alpha = alpha
        self.kappa = kappa
        self.tau = tau
        self.stop_epoch = stop_epoch
        self.random_state = random_state

    def _validate(self):
        super()._validate()
        _check_positive(self.alpha, "alpha")
        # kappa < 1 makes both rules of Remix apply to the pairs whose count ratio lies in
        # [kappa, 1 / kappa] (the second silently wins): the paper's kappa is a ratio >= 1
        check_real(self.kappa, "kappa", low=1.0)
        tau = _check_finite(self.tau, "tau")
        if not 0.0 <= tau <= 1.0:
            raise ValueError(f"tau must be in [0, 1]; got {self.tau!r}.")

    def _sample(self, y, counts, rng):
        n = y.size
        partner = rng.permutation(n)
        xi = _beta(rng, self.alpha, n)
        n_i, n_j = counts[y], counts[y[partner]]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = n_i / n_j
        lam = np.where((ratio >= self.kappa) & (xi < self.tau), 0.0, xi)
        lam = np.where((ratio <= 1.0 / self.kappa) & (1.0 - xi < self.tau), 1.0, lam)
        return partner, xi, lam


class UniMix(_BaseMix):
    """UniMix (Xu et al. 2021, 003 §3.1): tail-favouring mixing factor and partner sampler.

    **Sampler** (eq. 9, as the authors' code implements it): each sample ``i``
    of the batch gets a partner ``j`` drawn from the same batch, with
    replacement, with probability ``proportional to n_{y_j}^tau``. The class of
    the partner thus has probability ``proportional to b_c n_c^tau`` (``b_c``
    samples of class ``c`` in the batch), ``~ n_c^(1 + tau)`` on average:
    ``tau = 0`` is the plain random sampler, ``tau = -1`` draws the partner's
    class uniformly, ``tau < 0`` favours the tail. (Eq. 9 of the paper writes
    the class probability as ``proportional to p_s^tau``, which puts the random
    sampler at ``tau = 1``; the paper's experiments — Fig. 4, ``tau = -1`` best on
    CIFAR-10-LT, and the reference defaults — use the code's convention, which
    sklt follows so that those values carry over.)

    **Factor** (eq. 6): with ``m_ij = n_{y_j} / (n_{y_i} + n_{y_j})`` and
    ``b ~ Beta(alpha, alpha)``::

        xi_ij = (b + m_ij) mod 1

    whose density is eq. 6's shifted Beta density. For ``alpha < 1`` the Beta
    mass sits near 0 and 1, so ``xi`` concentrates near ``m_ij`` (from both
    sides): when ``x_i`` is from the head and ``x_j`` from the tail, ``xi`` is
    small and the tail sample dominates ``x~ = xi x_i + (1 - xi) x_j`` and its
    target ``xi e_{y_i} + (1 - xi) e_{y_j}`` (eq. 7). With ``alpha = 1`` the
    factor is uniform whatever the counts, the distribution of mixup with
    ``alpha = 1`` (a shifted uniform mod 1 is uniform); ``alpha > 1`` moves the
    mode to ``m_ij + 1/2 mod 1``, against the method's intent.

    **Loss** (eq. 11): the soft target makes the criterion compute
    ``xi l(x~, y_i) + (1 - xi) l(x~, y_j)`` exactly for losses linear in the
    target (see :mod:`sklt.nn.augment`); the paper pairs UniMix with the Bayias
    loss (``criterion="bayias"``). Mixing is switched off from ``stop_epoch``
    on (Algorithm 1, ``T1``).

    Parameters
    ----------
    alpha : float, default=0.8
        Beta parameter, ``> 0`` (the reference value 0.8).
    tau : float, default=-0.5
        Sampler exponent (reference: -0.5 on CIFAR-10-LT, -0.1 on CIFAR-100-LT;
        the paper's Fig. 4 sweeps -1 to 1).
    stop_epoch : int or None, default=None
        First 0-based epoch without mixing (``None``: mix in every epoch).
    random_state : int, numpy Generator or None, default=None
        ``None``: seeded from torch's global generator at each batch.

    Notes
    -----
    Classes with zero training count cannot appear in a batch; their count is
    not used.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.augment import UniMix
    >>> X, y = torch.randn(8, 1, 5), torch.tensor([0, 0, 0, 0, 0, 0, 1, 2])
    >>> aug = UniMix(alpha=0.8, tau=-0.5, stop_epoch=10, random_state=0)
    >>> X_mixed, Y_soft = aug.mix(X, y, class_counts=[600, 60, 6], epoch=0)
    >>> X_mixed.shape, Y_soft.shape
    (torch.Size([8, 1, 5]), torch.Size([8, 3]))
    >>> aug.mix(X, y, class_counts=[600, 60, 6], epoch=10) is None
    True
    """

    def __init__(self, alpha=0.8, tau=-0.5, *, stop_epoch=None, random_state=None):
        self.alpha = alpha
        self.tau = tau
        self.stop_epoch = stop_epoch
        self.random_state = random_state

    def _validate(self):
        super()._validate()
        _check_positive(self.alpha, "alpha")
        _check_finite(self.tau, "tau")

    def partner_probabilities(self, y, class_counts):
        """Probability of each batch sample to be drawn as a partner (eq. 9).

        Parameters
        ----------
        y : array-like of int of shape (n_samples,)
            Encoded labels of the batch.
        class_counts : array-like of shape (n_classes,)
            Training samples per class.

        Returns
        -------
        p : ndarray of shape (n_samples,)
            ``n_{y_j}^tau / sum_k n_{y_k}^tau``.

        Examples
        --------
        >>> from sklt.nn.augment import UniMix
        >>> UniMix(tau=-1.0).partner_probabilities([0, 0, 1], class_counts=[2, 1])
        array([0.25, 0.25, 0.5 ])
        """
        self._validate()
        counts = _check_counts(class_counts)
        y = _check_batch_labels(y, counts)
        if not y.size:
            return np.zeros(0)
        # n^tau normalised, in log space relative to the largest term: for any finite tau
        # (1e308 too) the differences are finite or -inf, never inf - inf.
        log_n = np.log(counts[y] / counts[y].max())
        ref = log_n.max() if self.tau >= 0 else log_n.min()
        with np.errstate(over="ignore"):
            log_w = self.tau * (log_n - ref)
        w = np.exp(log_w)
        return w / w.sum()

    def _sample(self, y, counts, rng):
        n = y.size
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        p = self.partner_probabilities(y, counts)
        partner = rng.choice(n, size=n, replace=True, p=p)
        n_i, n_j = counts[y], counts[y[partner]]
        m = n_j / (n_i + n_j)
        xi = np.mod(_beta(rng, self.alpha, n) + m, 1.0)
        return partner, xi, xi
