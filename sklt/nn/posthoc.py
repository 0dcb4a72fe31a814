"""Post-hoc weight normalisation of a trained network's linear head (τ-normalisation).

``z_y = w_y . Phi(x) / ||w_y||^tau`` (Kang et al. 2020; 004 §2, eq. 3): the
rows of the last linear layer are rescaled by a power of their norm, which
undoes the larger norms that head classes acquire under long-tailed training.
``tau = 0`` is the network as trained (without bias), ``tau = 1`` a cosine-like
classifier with the feature norm kept.
"""

import numpy as np
import torch
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sklt._utils import _as_array, _encode, _estimator_labels, _LabelsScoreMixin
from sklt.nn._validation import check_finite_float32, check_real, log_proba_and_proba
from sklt.nn.offset import _features_and_logits, _last_linear, _module_of, _unwrap_net

__all__ = ["TauNormalizedClassifier"]


class TauNormalizedClassifier(
    MetaEstimatorMixin, _LabelsScoreMixin, ClassifierMixin, BaseEstimator
):
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

    def _check_params(self):
        tau = check_real(self.tau, "tau", low=0.0)
        if not isinstance(self.include_bias, bool | np.bool_):
            raise TypeError(f"include_bias must be a bool; got {self.include_bias!r}.")
        return tau

    def _validate_X(self, X, y="no_validation", reset=False):
        kwargs = {"dtype": (np.float32, np.float64), "allow_nd": True, "reset": reset}
        if isinstance(X, list | tuple):
            X = _as_array(X, "X")
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, **kwargs)
            self._check_sample_shape(X)
            check_finite_float32(X)
            return X
        if isinstance(y, list | tuple):
            y = _as_array(y, "y")
        y_array = np.asarray(y)
        if y_array.ndim == 1:
            y = _estimator_labels(y_array)
        X, y = validate_data(self, X, y, **kwargs)
        check_finite_float32(X)
        self.sample_shape_ = tuple(X.shape[1:])
        return X, y

    def _check_sample_shape(self, X):
        """``X`` has the per-sample shape seen at fit (``n_features_in_`` is only axis 1)."""
        expected = getattr(self, "sample_shape_", None)
        if expected is not None and tuple(X.shape[1:]) != expected:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but TauNormalizedClassifier was "
                f"fitted on samples of shape {expected}."
            )

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
        self._check_params()
        if not hasattr(self.estimator, "fit"):
            raise TypeError(
                f"estimator must be a LongTailClassifier (or a FrozenEstimator of a fitted one); "
                f"got {self.estimator!r}."
            )
        X, y = self._validate_X(X, y, reset=True)
        check_classification_targets(y)
        if isinstance(self.estimator, FrozenEstimator):
            self.estimator_ = self.estimator
        else:
            self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        net = _unwrap_net(self.estimator_)
        module = _module_of(net)
        layer, bias_fn = _last_linear(module)
        self.classes_ = np.asarray(net.classes_)
        _encode(y, self.classes_, classes_name="the network's classes")  # unknown labels raise
        n_in = getattr(net, "n_features_in_", None)
        if n_in is not None and n_in != self.n_features_in_:
            raise ValueError(
                f"X has {self.n_features_in_} features, but the network was fitted on {n_in}."
            )
        with torch.no_grad():
            W = layer.weight.detach().cpu().double().numpy()
            bias = bias_fn()
            b = None if bias is None else bias.detach().cpu().double().numpy()
        if W.shape[0] != len(self.classes_):
            raise ValueError(
                f"The last linear layer of {type(module).__name__} has {W.shape[0]} outputs but "
                f"the classifier has {len(self.classes_)} classes: it is not the classifier layer."
            )
        f, logits = _features_and_logits(net, X[: min(len(X), 32)])
        recomputed = f @ W.T + (0.0 if b is None else b)
        if not np.allclose(recomputed, logits, rtol=1e-4, atol=1e-4 * (1 + np.abs(logits).max())):
            raise ValueError(
                f"The logits of {type(module).__name__} are not the output of its last linear "
                "layer: tau-normalisation needs a network whose last layer is linear."
            )
        self.weight_ = W
        self.bias_ = b
        self.weight_norms_ = np.linalg.norm(W, axis=1)
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
        check_is_fitted(self)
        tau = self._check_params()
        X = self._validate_X(X)
        f, _ = _features_and_logits(_unwrap_net(self.estimator_), X)
        if not np.all(np.isfinite(f)):
            raise ValueError(
                "The network's features are NaN or infinite for some rows of X (float32 "
                "overflow inside the network): rescale X."
            )
        norms = self.weight_norms_
        with np.errstate(divide="ignore", over="ignore"):
            scale = np.where(norms > 0, norms ** -tau, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            z = (f @ self.weight_.T) * scale
        if not np.all(np.isfinite(z)):
            raise ValueError(
                f"tau={self.tau!r} makes the normalised logits overflow (||w_y||^-tau is "
                f"{scale.max():.3g} for the smallest weight norm {norms[norms > 0].min():.3g}): "
                "use a smaller tau."
            )
        if self.include_bias and self.bias_ is not None:
            z = z + self.bias_
        return z

    def _log_proba(self, X):
        return log_proba_and_proba(log_softmax(self._logits(X), axis=1))

    def predict_proba(self, X):
        """Softmax of the τ-normalised logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``exp(predict_log_proba(X))`` (no exact zeros: at least 2.2e-308).
        """
        return self._log_proba(X)[1]

    def predict_log_proba(self, X):
        """Log-softmax of the τ-normalised logits, floored at ``log(2.2e-308)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return self._log_proba(X)[0]

    def predict(self, X):
        """Class with the largest τ-normalised logit (the argmax of :meth:`predict_proba`).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self._log_proba(X)[1]
        return self.classes_[np.argmax(proba, axis=1)]
