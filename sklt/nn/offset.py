"""The estimated-offset head and loss (Kim et al. 2020, 001 §2.3-2.4, eq. 5-6).

A bias-free linear classifier on features ``f(x)`` whose offset is estimated
from learnable class centres ``c_k`` (``METHODS.md`` §3)::

    logit_k = w_k . f(x) - 1/2 c_k . w_k
    L = CE(logits, y) + lambda_center ||f(x) - c_y||^2
        + lambda_uniform (-H(softmax(-w~0))),       w~0_k = 1/2 c_k . w_k

:class:`EstimatedOffsetHead` wraps any feature extractor and returns the tuple
``(logits, features, center_sq_dist, offsets)``;
:class:`EstimatedOffsetLoss` (criterion name ``"estimated_offset"``) reads it.
:func:`empirical_offsets` and :func:`estimated_offsets` give the diagnostic of
001 Fig. 1 and 3.

Centre-update protocol: the centres are :class:`torch.nn.Parameter` s trained
by the net's optimiser, jointly with everything else, on the whole objective
(their gradient comes from the cross-entropy through the offset, from the
centre loss and from the uniform constraint). Wen et al.'s delta rule updates
centres from the centre loss alone with a separate rate; 001 says it follows
Wen's protocol but its centres also enter the offset, which the delta rule
ignores, so sklt trains them as ordinary parameters. (The delta rule
``Delta c_j = sum_{y_i=j} (c_j - f_i) / (1 + n_j)`` is gradient descent on the
centre loss alone with a per-class step ``1 / (1 + n_j)``.)
"""

import inspect

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import check_array
from torch import nn

from sklt._utils import _encode
from sklt.nn._validation import (
    MAX_LOSS_WEIGHT,
    MAX_SIZE,
    check_finite_float32,
    check_int,
    check_labels,
    check_real,
    check_units,
)
from sklt.nn.losses import LongTailLoss
from sklt.nn.modules import _check_input

__all__ = [
    "EstimatedOffsetHead",
    "EstimatedOffsetLoss",
    "empirical_offsets",
    "estimated_offsets",
    "uniform_constraint",
]



def _check_size(value, name, *, hint=""):
    if value is None:
        raise ValueError(f"{name} is not set{hint}.")
    return check_int(value, name, low=1, high=MAX_SIZE)


def _check_nonneg(value, name):
    return check_real(value, name, low=0.0, high=MAX_LOSS_WEIGHT)


class _Trunk(nn.Module):
    """Default feature extractor: ``Flatten -> [Linear -> ReLU] * len(hidden_units)``."""

    def __init__(self, input_dim, hidden_units):
        super().__init__()
        self.input_dim = input_dim
        layers, width = [nn.Flatten()], input_dim
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        _check_input(X, self, self.input_dim, owner="EstimatedOffsetHead")
        return self.layers(X)


class EstimatedOffsetHead(nn.Module):
    """Bias-free linear head with an offset estimated from learnable centres (001 eq. 6).

    ``logit_k = w_k . f(x) - 1/2 c_k . w_k`` with ``f`` the feature extractor,
    ``w_k`` the rows of a bias-free linear layer and ``c_k`` learnable class
    centres (zero at initialisation: the head starts as a bias-free linear
    classifier). The forward pass returns a tuple whose every element has one
    row per sample (so skorch concatenates batches correctly)::

        (logits, features, center_sq_dist, offsets)
         (N, K)   (N, d)      (N, K)        (N, K)

    with ``center_sq_dist[i, k] = ||f(x_i) - c_k||^2`` and ``offsets`` the
    estimated offsets ``1/2 c_k . w_k`` repeated on every row. Use it with
    ``criterion="estimated_offset"`` (:class:`EstimatedOffsetLoss`);
    :class:`~sklt.nn.LongTailClassifier` predicts from the first element.

    Parameters
    ----------
    extractor : None, torch.nn.Module class or instance, default=None
        The feature extractor ``f``, returning a tensor of shape
        ``(N, feature_dim)``. ``None``: ``Flatten -> [Linear -> ReLU]`` layers
        of ``hidden_units`` (needs ``input_dim``). A class is instantiated with
        ``input_dim`` / ``in_channels`` when its signature has them, and with
        ``n_classes=feature_dim`` when it has ``n_classes`` (so
        :class:`sklt.nn.MLP` and :class:`sklt.nn.CNN1d` end in a
        ``feature_dim``-wide layer). An *instance* of :class:`sklt.nn.MLP` or
        :class:`sklt.nn.CNN1d` given without ``feature_dim`` loses its last
        linear layer: the head replaces it, and the features are that layer's
        inputs (this is how :class:`~sklt.nn.LongTailClassifier` wraps its
        module for ``criterion="estimated_offset"``).
    input_dim : int, default=None
        Flattened input size (filled in by the classifier at fit).
    in_channels : int, default=None
        Input channels, for convolutional extractor classes (filled in at fit).
    n_classes : int, default=None
        Number of classes ``K`` (filled in at fit).
    feature_dim : int, default=None
        Feature size ``d``. Required for a given extractor; for the default one
        it is ``hidden_units[-1]``.
    hidden_units : int or sequence of int, default=(64,)
        Widths of the default extractor's layers.
    **extractor_params
        Further arguments of an extractor class (e.g. ``channels`` of
        :class:`sklt.nn.CNN1d`, given to the classifier as
        ``module__channels``).

    Attributes
    ----------
    extractor : torch.nn.Module
    linear : torch.nn.Linear
        Bias-free, ``weight`` of shape ``(K, d)``: the ``w_k``.
    centers : torch.nn.Parameter of shape (K, d)
        The ``c_k``.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.offset import EstimatedOffsetHead
    >>> head = EstimatedOffsetHead(input_dim=4, n_classes=3, hidden_units=(8,))
    >>> logits, features, sq_dist, offsets = head(torch.randn(5, 4))
    >>> logits.shape, features.shape, sq_dist.shape, offsets.shape
    (torch.Size([5, 3]), torch.Size([5, 8]), torch.Size([5, 3]), torch.Size([5, 3]))
    >>> with torch.no_grad():
    ...     _ = head.centers.normal_()
    >>> f = head.extractor(torch.ones(1, 4))
    >>> W, c = head.linear.weight, head.centers
    >>> bool(torch.allclose(head(torch.ones(1, 4))[0], f @ W.T - 0.5 * (c * W).sum(1)))
    True
    """

    def __init__(
        self,
        extractor=None,
        *,
        input_dim=None,
        in_channels=None,
        n_classes=None,
        feature_dim=None,
        hidden_units=(64,),
        **extractor_params,
    ):
        super().__init__()
        n_classes = _check_size(
            n_classes, "n_classes",
            hint=": fit the classifier (sizes come from the data) or pass module__n_classes",
        )
        if extractor_params and not isinstance(extractor, type):
            raise ValueError(
                f"Extractor arguments {sorted(extractor_params)} need an extractor class; got "
                f"{'the default extractor' if extractor is None else 'an instance'}."
            )
        if extractor is None:
            units = check_units(hidden_units, "hidden_units", allow_empty=False)
            input_dim = _check_size(
                input_dim, "input_dim",
                hint=": fit the classifier (sizes come from the data) or pass module__input_dim",
            )
            if feature_dim is not None and feature_dim != units[-1]:
                raise ValueError(
                    f"feature_dim={feature_dim!r} disagrees with the default extractor's last "
                    f"width hidden_units[-1]={units[-1]}."
                )
            feature_dim = units[-1]
            extractor = _Trunk(input_dim, units)
        elif feature_dim is None and not isinstance(extractor, type) \
                and hasattr(extractor, "_split_head"):
            # An sklt module (MLP, CNN1d): the head replaces its last linear layer.
            extractor, feature_dim = extractor._split_head()
        else:
            feature_dim = _check_size(
                feature_dim, "feature_dim",
                hint=": pass the size of the features your extractor returns "
                "(module__feature_dim=...)",
            )
            if isinstance(extractor, type):
                params = inspect.signature(extractor).parameters
                kwargs = dict(extractor_params)
                if "input_dim" in params and input_dim is not None:
                    kwargs["input_dim"] = input_dim
                if "in_channels" in params and in_channels is not None:
                    kwargs["in_channels"] = in_channels
                if "n_classes" in params:
                    kwargs["n_classes"] = feature_dim
                extractor = extractor(**kwargs)
            if not isinstance(extractor, nn.Module):
                raise TypeError(
                    f"extractor must be None, a torch.nn.Module class or instance; got "
                    f"{type(extractor).__name__}."
                )
        self.extractor = extractor
        self.feature_dim = feature_dim
        self.n_classes = n_classes
        self.linear = nn.Linear(feature_dim, n_classes, bias=False)
        self.centers = nn.Parameter(torch.zeros(n_classes, feature_dim))

    def offsets(self):
        """Estimated offsets ``1/2 c_k . w_k``, shape ``(K,)`` (001 §2.4).

        Returns
        -------
        offsets : torch.Tensor of shape (n_classes,)
        """
        return 0.5 * (self.centers * self.linear.weight).sum(dim=1)

    def forward(self, X):
        """``(logits, features, center_sq_dist, offsets)``, one row per sample."""
        f = self.extractor(X)
        if not torch.is_tensor(f) or f.ndim != 2 or f.shape[1] != self.feature_dim:
            got = f"a tensor of shape {tuple(f.shape)}" if torch.is_tensor(f) \
                else type(f).__name__
            raise ValueError(
                f"The extractor must return features of shape (N, {self.feature_dim}) "
                f"(feature_dim); got {got}. A network that returns logits or a tuple does not "
                "expose its features: pass its feature part as the extractor."
            )
        offsets = self.offsets().to(f.dtype)
        logits = self.linear(f) - offsets
        c = self.centers.to(f.dtype)
        sq_dist = (
            f.square().sum(dim=1, keepdim=True) - 2.0 * f @ c.T + c.square().sum(dim=1)
        ).clamp_min(0.0)
        return logits, f, sq_dist, offsets.expand(f.shape[0], -1)


def uniform_constraint(offsets):
    """Uniform constraint ``-H(softmax(-w0))`` of 001 eq. 5, minimal (``-log K``) at equal offsets.

    Parameters
    ----------
    offsets : torch.Tensor of shape (n_classes,)

    Returns
    -------
    loss : torch.Tensor, scalar

    Examples
    --------
    >>> import math, torch
    >>> from sklt.nn.offset import uniform_constraint
    >>> round(uniform_constraint(torch.zeros(4)).item(), 6) == round(-math.log(4), 6)
    True
    """
    if not torch.is_tensor(offsets) or not offsets.is_floating_point():
        raise TypeError(f"offsets must be a floating-point torch tensor; got {offsets!r}.")
    if offsets.ndim == 0 or offsets.shape[-1] == 0:
        raise ValueError(
            f"offsets must hold one offset per class; got shape {tuple(offsets.shape)}."
        )
    log_p = F.log_softmax(-offsets, dim=-1)
    loss = (log_p.exp() * log_p).sum(dim=-1)
    if loss.ndim == 0 and not bool(torch.isfinite(loss)):
        raise ValueError(f"offsets must be finite; the uniform constraint is {loss.item()}.")
    return loss


class EstimatedOffsetLoss(LongTailLoss):
    """Loss of the estimated-offset head (001 eq. 6); criterion name ``"estimated_offset"``.

    For the output ``(logits, features, center_sq_dist, offsets)`` of
    :class:`EstimatedOffsetHead`::

        L = mean_i [ CE(logits_i, y_i) + lambda_center ||f(x_i) - c_{y_i}||^2 ]
            + lambda_uniform * (-H(softmax(-w~0)))

    The paper uses ``lambda_center = lambda_uniform = 1``; ``lambda_uniform = 0``
    is its "w/o UC" ablation (Table 3). With soft targets ``Y`` (mixup) the
    per-sample terms are ``-sum_k Y_ik log softmax(z_i)_k`` and
    ``sum_k Y_ik ||f(x_i) - c_k||^2``, linear in ``Y``. The centres are trained
    by the optimiser (see :mod:`sklt.nn.offset`).

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training samples per class.
    lambda_center : float, default=1.0
        Weight of the centre loss, in ``[0, 1e6]``.
    lambda_uniform : float, default=1.0
        Weight of the uniform constraint, in ``[0, 1e6]``.

    Notes
    -----
    The loss needs the head's whole output (``requires_module_output = True``).
    Its logits are trained with cross-entropy, so in the population limit they
    are entangled with the training prior ``p_s``, as for
    :class:`~sklt.nn.losses.CrossEntropy`; the offset reparametrisation and the
    uniform constraint change what a finite network learns (the paper's
    claim), not that limit. :meth:`entangled_log_prior` therefore returns
    ``log p_s``, which only matters when a ``target_prior`` is injected.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.offset import EstimatedOffsetHead, EstimatedOffsetLoss
    >>> _ = torch.manual_seed(0)
    >>> head = EstimatedOffsetHead(input_dim=4, n_classes=3, hidden_units=(8,))
    >>> loss = EstimatedOffsetLoss([50, 10, 2], lambda_center=1.0, lambda_uniform=1.0)
    >>> value = loss(head(torch.randn(6, 4)), torch.tensor([0, 0, 0, 1, 1, 2]))
    >>> value.ndim, bool(torch.isfinite(value))
    (0, True)
    """

    requires_module_output = True

    def __init__(self, class_counts, lambda_center=1.0, lambda_uniform=1.0):
        super().__init__(class_counts)
        self.lambda_center = _check_nonneg(lambda_center, "lambda_center")
        self.lambda_uniform = _check_nonneg(lambda_uniform, "lambda_uniform")

    def _unpack(self, output):
        if not isinstance(output, tuple | list) or len(output) < 4:
            got = f"a tensor of shape {tuple(output.shape)}" if torch.is_tensor(output) \
                else f"{type(output).__name__}"
            if isinstance(output, tuple | list):
                got = f"a tuple of {len(output)} elements"
            raise ValueError(
                "EstimatedOffsetLoss needs the output (logits, features, center_sq_dist, "
                f"offsets) of an EstimatedOffsetHead; got {got}. Use "
                "module=EstimatedOffsetHead (wrapping your feature extractor)."
            )
        logits, features, sq_dist, offsets = output[:4]
        k = self.n_classes
        if logits.ndim != 2 or logits.shape[1] != k or sq_dist.shape != logits.shape \
                or offsets.shape != logits.shape:
            raise ValueError(
                f"EstimatedOffsetLoss expects logits, center_sq_dist and offsets of shape "
                f"(N, {k}); got {tuple(logits.shape)}, {tuple(sq_dist.shape)} and "
                f"{tuple(offsets.shape)}."
            )
        return logits, features, sq_dist, offsets

    def forward(self, output, target, sample_weight=None):
        """Batch loss of eq. 6.

        Parameters
        ----------
        output : tuple
            ``(logits, features, center_sq_dist, offsets)`` from
            :class:`EstimatedOffsetHead`.
        target : torch.Tensor of shape (N,) (labels) or (N, K) (soft targets)
        sample_weight : torch.Tensor of shape (N,), default=None
            Per-sample weights of the per-sample terms (cross-entropy and centre
            loss); the uniform constraint, a term on the head, is not weighted.

        Returns
        -------
        loss : torch.Tensor, scalar
        """
        logits, _, sq_dist, offsets = self._unpack(output)
        target = self._check_target(logits, target)
        sample_weight = self._check_sample_weight(sample_weight, logits)
        per_sample = self._ce(logits, target)
        if self.lambda_center:
            center = sq_dist.gather(1, target[:, None]).squeeze(1) if target.ndim == 1 \
                else (target * sq_dist).sum(dim=1)
            per_sample = per_sample + self.lambda_center * center
        loss = self._reduce(per_sample, target, sample_weight)
        if self.lambda_uniform and offsets.shape[0]:
            loss = loss + self.lambda_uniform * uniform_constraint(offsets[0])
        return loss


# ------------------------------------------------------------------ diagnostics
def _unwrap_net(net):
    """The fitted skorch net inside ``net`` (a FrozenEstimator is looked through)."""
    inner = getattr(net, "estimator", None)
    if inner is not None and not hasattr(net, "module_") and hasattr(inner, "module_"):
        net = inner
    return net


def _module_of(net):
    if isinstance(net, nn.Module):
        return net
    module = getattr(_unwrap_net(net), "module_", None)
    if module is None:
        raise ValueError(
            f"Expected a fitted skorch net (with module_) or a torch module; got "
            f"{type(net).__name__}. Fit it first."
        )
    return module


def _last_linear(module):
    """``(layer, bias_fn)`` of the last linear layer: the head's own for EstimatedOffsetHead."""
    if isinstance(module, EstimatedOffsetHead):
        return module.linear, lambda: -module.offsets()
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(
            f"{type(module).__name__} has no torch.nn.Linear layer: a linear last layer is "
            "needed."
        )
    layer = linears[-1]
    return layer, (lambda: layer.bias) if layer.bias is not None else (lambda: None)


def _features_and_logits(net, X, batch_size=1024):
    """Inputs of the last linear layer and the module's logits, as float64 NumPy arrays."""
    module = _module_of(net)
    layer, _ = _last_linear(module)
    feats = []
    handle = layer.register_forward_hook(lambda mod, inp, out: feats.append(inp[0].detach()))
    logits = []
    try:
        if isinstance(net, nn.Module):
            X = torch.as_tensor(np.asarray(X, dtype=np.float32)) if not torch.is_tensor(X) else X
            device = next(module.parameters()).device
            was_training = module.training
            module.eval()
            try:
                with torch.no_grad():
                    for start in range(0, len(X), batch_size):
                        out = module(X[start:start + batch_size].to(device))
                        logits.append((out[0] if isinstance(out, tuple) else out).cpu())
            finally:
                module.train(was_training)
        else:
            skorch_net = _unwrap_net(net)
            X = np.asarray(X, dtype=np.float32)
            for out in skorch_net.forward_iter(X, training=False):
                logits.append((out[0] if isinstance(out, tuple) else out).detach().cpu())
    finally:
        handle.remove()
    f = torch.cat([t.cpu() for t in feats]).reshape(len(X), -1).double().numpy()
    return f, torch.cat(logits).double().numpy()


def _check_X(net, X):
    """Validate inputs as the net does (NaN, float32 overflow, sample shape)."""
    if torch.is_tensor(X):
        X = X.detach().cpu().numpy()
    skorch_net = _unwrap_net(net)
    if hasattr(skorch_net, "_validate_X"):
        return skorch_net._validate_X(X, reset=False)
    try:
        X = check_array(X, allow_nd=True, dtype=(np.float32, np.float64), input_name="X")
    except ValueError as exc:
        if "could not convert" not in str(exc):
            raise
        raise ValueError(f"X must hold numbers ({exc}).") from None
    check_finite_float32(X)
    return X.astype(np.float32, copy=False)


def _encode_labels(net, y, n_classes):
    y = np.asarray(y)
    classes = getattr(_unwrap_net(net), "classes_", None)
    if classes is None:  # a bare module: y holds class indices
        return check_labels(y, n_classes, name="y")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels; got shape {y.shape}.")
    return _encode(y, classes, name="y", classes_name="the classes")  # any order of classes_


def empirical_offsets(net, X, y):
    """Empirical offsets ``1/2 mu~_k·w_k`` of a fitted net (001 §2.2, Fig. 1 c and Fig. 3).

    ``mu~_k`` is the mean over the samples of class ``k`` in ``(X, y)`` of the
    features that enter the last linear layer, ``w_k`` that layer's weights. For
    a network trained with ordinary cross-entropy and a bias-free head they
    follow the class frequencies (001 Fig. 1 c); for an estimated-offset head
    they track :func:`estimated_offsets` up to a constant (Fig. 3).

    Parameters
    ----------
    net : fitted LongTailClassifier (or FrozenEstimator of one), or torch.nn.Module
        Its module's last :class:`torch.nn.Linear` layer is the classifier (the
        bias-free layer of an :class:`EstimatedOffsetHead`).
    X : array-like of shape (n_samples, ...)
        Usually the training inputs.
    y : array-like of shape (n_samples,)
        Their labels (the classifier's labels; class indices for a module).

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
        NaN for a class without samples in ``y``.

    Examples
    --------
    >>> import torch
    >>> from sklt.nn.offset import EstimatedOffsetHead, empirical_offsets
    >>> head = EstimatedOffsetHead(input_dim=3, n_classes=2, hidden_units=(4,))
    >>> empirical_offsets(head, torch.randn(10, 3), [0] * 8 + [1] * 2).shape
    (2,)
    """
    module = _module_of(net)
    layer, _ = _last_linear(module)
    W = layer.weight.detach().cpu().double().numpy()
    y_enc = _encode_labels(net, y, W.shape[0])
    X = _check_X(net, X)
    f, _ = _features_and_logits(net, X)
    if len(y_enc) != len(f):
        raise ValueError(f"X has {len(f)} samples but y has {len(y_enc)} labels.")
    k = W.shape[0]
    onehot = np.zeros((len(y_enc), k))
    onehot[np.arange(len(y_enc)), y_enc] = 1.0
    n = onehot.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = (onehot.T @ f) / n[:, None]
    return 0.5 * np.einsum("kd,kd->k", mu, W)


def estimated_offsets(net):
    """Estimated offsets ``1/2 c_k·w_k`` of a fitted :class:`EstimatedOffsetHead` (001 §2.4).

    Parameters
    ----------
    net : fitted LongTailClassifier (or FrozenEstimator of one), or EstimatedOffsetHead

    Returns
    -------
    offsets : ndarray of shape (n_classes,)

    Examples
    --------
    >>> from sklt.nn.offset import EstimatedOffsetHead, estimated_offsets
    >>> estimated_offsets(EstimatedOffsetHead(input_dim=3, n_classes=2))
    array([0., 0.])
    """
    module = _module_of(net)
    if not isinstance(module, EstimatedOffsetHead):
        raise ValueError(
            f"estimated_offsets needs an EstimatedOffsetHead module; got "
            f"{type(module).__name__}. Use empirical_offsets for any linear head."
        )
    with torch.no_grad():
        return module.offsets().cpu().double().numpy()


#: Criterion names that :class:`~sklt.nn.LongTailClassifier` resolves to this module's losses.
CRITERIA = {"estimated_offset": EstimatedOffsetLoss}
