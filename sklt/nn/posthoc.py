"""Post-hoc weight normalisation of a trained network's linear head (τ-normalisation).

``z_y = w_y . Phi(x) / ||w_y||^tau`` (Kang et al. 2020; 004 §2, eq. 3): the
rows of the last linear layer are rescaled by a power of their norm, which
undoes the larger norms that head classes acquire under long-tailed training.
``tau = 0`` is the network as trained (without bias), ``tau = 1`` a cosine-like
classifier with the feature norm kept.
"""

import math
from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from sklt.adjust import softmax
from sklt.nn.offset import _features_and_logits, _last_linear, _module_of, _unwrap_net

__all__ = ["TauNormalizedClassifier"]


class TauNormalizedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """τ-normalised classifier (Kang et al. 2020; 004 eq. 3): a post-hoc baseline.

    For a trained network whose logits are the output of a last linear layer
    ``z = W Phi(x) (+ b)``, predicts with ``z_y = w_y . Phi(x) / ||w_y||^tau``
    (``+ b_y`` when ``include_bias``). ``Phi(x)`` is the input of the network's
    last :class:`torch.nn.Linear` layer (for an
    :class:`~sklt.nn.offset.EstimatedOffsetHead`, its bias-free layer, the
    offset ``-1/2 c_y . w_y`` playing the role of the bias). Nothing is
    retrained.

    Parameters
    ----------
    estimator : LongTailClassifier or FrozenEstimator of one
        A :class:`~sklearn.frozen.FrozenEstimator` (e.g. of a fitted net) is used
        as is; anything else is cloned and fitted on ``(X, y)`` in :meth:`fit`.
        To tune ``tau`` on validation data without retraining, wrap the fitted
        net in a ``FrozenEstimator`` and grid-search ``tau``.
    tau : float, default=1.0
        Norm exponent, ``>= 0`` (Kang et al. tune it on a validation set).
    include_bias : bool, default=False
        Add the layer's bias (not normalised). Eq. 3 has none.

    Attributes
    ----------
    estimator_ : fitted estimator
    classes_ : ndarray of shape (n_classes,)
    weight_norms_ : ndarray of shape (n_classes,)
        ``||w_y||``.

    Notes
    -----
    The wrapper checks at fit, on a few samples, that the network's logits are
    indeed ``W Phi(x) + b`` for the layer it found, and raises a ``ValueError``
    otherwise (e.g. a network whose last linear layer is followed by another
    operation). The net's ``target_prior`` is not applied.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn.frozen import FrozenEstimator
    >>> from sklt.nn import LongTailClassifier
    >>> from sklt.nn.posthoc import TauNormalizedClassifier
    >>> _ = torch.manual_seed(0)
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1, 2], [80, 15, 5])
    >>> X = rng.normal(size=(100, 4)) + y[:, None]
    >>> net = LongTailClassifier(max_epochs=5).fit(X, y)
    >>> clf = TauNormalizedClassifier(FrozenEstimator(net), tau=1.0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> t0 = TauNormalizedClassifier(FrozenEstimator(net), tau=0.0, include_bias=True).fit(X, y)
    >>> bool(np.array_equal(t0.predict(X), net.predict(X)))
    True
    """

    def __init__(self, estimator, *, tau=1.0, include_bias=False):
        self.estimator = estimator
        self.tau = tau
        self.include_bias = include_bias

    def fit(self, X, y, **fit_params):
        """Use (or fit) the network and read its last linear layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        **fit_params : dict
            Passed to the estimator's ``fit`` (not for a FrozenEstimator).

        Returns
        -------
        self : TauNormalizedClassifier
        """
        tau = self.tau
        if isinstance(tau, bool) or not isinstance(tau, Real) or not math.isfinite(tau) \
                or tau < 0:
            raise ValueError(f"tau must be a finite number >= 0; got {tau!r}.")
        if isinstance(self.estimator, FrozenEstimator):
            self.estimator_ = self.estimator
        else:
            self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        net = _unwrap_net(self.estimator_)
        module = _module_of(net)
        layer, bias_fn = _last_linear(module)
        self.classes_ = np.asarray(net.classes_)
        with torch.no_grad():
            W = layer.weight.detach().cpu().double().numpy()
            bias = bias_fn()
            b = None if bias is None else bias.detach().cpu().double().numpy()
        if W.shape[0] != len(self.classes_):
            raise ValueError(
                f"The last linear layer of {type(module).__name__} has {W.shape[0]} outputs but "
                f"the classifier has {len(self.classes_)} classes: it is not the classifier layer."
            )
        Xs = np.asarray(X)[: min(len(X), 32)]
        f, logits = _features_and_logits(net, Xs)
        recomputed = f @ W.T + (0.0 if b is None else b)
        if not np.allclose(recomputed, logits, rtol=1e-4, atol=1e-4 * (1 + np.abs(logits).max())):
            raise ValueError(
                f"The logits of {type(module).__name__} are not the output of its last linear "
                "layer: tau-normalisation needs a network whose last layer is linear."
            )
        self.weight_ = W
        self.bias_ = b
        self.weight_norms_ = np.linalg.norm(W, axis=1)
        if hasattr(net, "n_features_in_"):
            self.n_features_in_ = net.n_features_in_
        return self

    def decision_function(self, X):
        """τ-normalised logits ``w_y . Phi(x) / ||w_y||^tau`` (``+ b_y`` with ``include_bias``).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        logits : ndarray of shape (n_samples, n_classes)
            For two classes, the 1-D margin ``z_1 - z_0``.
        """
        z = self._logits(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def _logits(self, X):
        check_is_fitted(self, "weight_")
        f, _ = _features_and_logits(_unwrap_net(self.estimator_), X)
        with np.errstate(divide="ignore"):
            scale = np.where(self.weight_norms_ > 0, self.weight_norms_ ** -float(self.tau), 0.0)
        z = (f @ self.weight_.T) * scale
        if self.include_bias and self.bias_ is not None:
            z = z + self.bias_
        return z

    def predict_proba(self, X):
        """Softmax of the τ-normalised logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._logits(X), axis=1)

    def predict(self, X):
        """Class with the largest τ-normalised logit.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self.classes_[np.argmax(self._logits(X), axis=1)]
