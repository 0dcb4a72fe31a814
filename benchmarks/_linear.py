"""An affine softmax classifier trained with the logit-adjusted loss (004 §5, eq. 10).

Used by the Gaussian suite to reproduce 004 Fig. 2's "logit adjusted loss" with the same
affine model class as ERM. Training minimises, with scipy's L-BFGS,

    mean_i CE(W x_i + b + τ log π, y_i) + ||W||² / (2 C n)

which is :class:`~sklearn.linear_model.LogisticRegression`'s multinomial objective (with the
same ``C``) plus the offsets ``τ log π``. For two classes the penalty is on both columns of
``W``, i.e. half of binary logistic regression's penalty on ``w_1 - w_0`` (negligible at the
10,000 samples of the Gaussian suite). Predictions use ``W x + b`` alone: the offsets are
only in the loss, so the logits estimate the balanced posterior. With ``tau=0`` this is
plain multinomial logistic regression (the tests check it against scikit-learn).
"""

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class LogitAdjustedLinearClassifier(ClassifierMixin, BaseEstimator):
    def __init__(self, *, tau=1.0, C=1.0, max_iter=500):
        self.tau = tau
        self.C = C
        self.max_iter = max_iter

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        n, d = X.shape
        K = len(self.classes_)
        prior = np.bincount(y_idx, minlength=K) / n
        offset = self.tau * np.log(prior)
        Y = np.eye(K)[y_idx]
        alpha = 1.0 / (self.C * n)

        def objective(theta):
            W = theta[: d * K].reshape(d, K)
            b = theta[d * K:]
            z = X @ W + b + offset
            log_p = log_softmax(z, axis=1)
            loss = -np.mean(log_p[np.arange(n), y_idx]) + 0.5 * alpha * np.sum(W * W)
            g = (np.exp(log_p) - Y) / n
            return loss, np.concatenate([(X.T @ g + alpha * W).ravel(), g.sum(axis=0)])

        res = minimize(objective, np.zeros(d * K + K), jac=True, method="L-BFGS-B",
                       options={"maxiter": self.max_iter})
        self.coef_ = res.x[: d * K].reshape(d, K).T
        self.intercept_ = res.x[d * K:]
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return X @ self.coef_.T + self.intercept_

    def predict_proba(self, X):
        return softmax(self.decision_function(X), axis=1)

    def predict(self, X):
        return self.classes_[np.argmax(self.decision_function(X), axis=1)]
