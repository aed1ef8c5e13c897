"""Multinomial logistic regression fitted on soft targets: the fast sklearn-native baseline."""

import numbers
import warnings

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from ._base import SoftClassifierMixin
from ._label_source import LabelSource
from ._validation import Interval, ValidatedParamsMixin, check_sample_weight

__all__ = ["SoftLogisticRegression"]

_SMALL_PROBLEM = 1_000_000  # entries of X below which BLAS runs on one thread
_SPARSE = ("csr", "csc")  # sparse formats used as they are (others are converted to CSR)


def _as_float64(X):
    """``X`` in float64: a dense array, or a sparse matrix kept sparse (never densified)."""
    if sparse.issparse(X):
        return X if X.dtype == np.float64 else X.astype(np.float64)
    return np.asarray(X, dtype=np.float64)


def _binary_loss_grad(w, X, t, sw, alpha, fit_intercept):
    d = X.shape[1]
    z = X @ w[:d] + (w[d] if fit_intercept else 0.0)
    # t*log(sigmoid(z)) + (1-t)*log(1-sigmoid(z)), written stably
    loss = -np.sum(sw * (t * log_expit(z) + (1.0 - t) * log_expit(-z))) + 0.5 * alpha * w[:d] @ w[:d]
    r = sw * (expit(z) - t)
    grad = np.empty_like(w)
    grad[:d] = X.T @ r + alpha * w[:d]
    if fit_intercept:
        grad[d] = r.sum()
    return loss, grad


def _multinomial_loss_grad(w, X, Y, sw, alpha, fit_intercept, K):
    d = X.shape[1]
    W = w[: K * d].reshape(K, d)
    Z = X @ W.T
    if fit_intercept:
        Z += w[K * d:]
    lse = logsumexp(Z, axis=1)
    loss = np.sum(sw * (lse - np.sum(Y * Z, axis=1))) + 0.5 * alpha * np.sum(W * W)
    R = sw[:, None] * (np.exp(Z - lse[:, None]) - Y)
    grad = np.empty_like(w)
    # (X.T @ R).T rather than R.T @ X: the same for a dense X, and a sparse X stays sparse
    grad[: K * d] = ((X.T @ R).T + alpha * W).ravel()
    if fit_intercept:
        grad[K * d:] = R.sum(axis=0)
    return loss, grad


class SoftLogisticRegression(SoftClassifierMixin, ValidatedParamsMixin, ClassifierMixin,
                             BaseEstimator):
    """Multinomial logistic regression trained on hard or soft labels (L-BFGS, L2 penalty).

    Minimises ``sum_i s_i CE(y_i, softmax(W x_i + b)) + ||W||^2 / (2 C)`` where ``y_i`` is a
    one-hot row or a label distribution and ``s_i`` the sample weight -- the objective of
    scikit-learn's ``LogisticRegression(penalty="l2", solver="lbfgs")``, so on one-hot targets
    both agree. Two classes use one coefficient vector, as scikit-learn does.

    ``X`` may be a scipy sparse matrix or array (CSR or CSC are used as they are, other formats
    are converted to CSR): the products of the objective and its gradient are sparse-dense
    products, so a TF-IDF matrix is never densified (the dense part is the ``(n_samples,
    n_classes)`` logits and the ``(n_classes, n_features)`` coefficients).

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength (> 0).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per class.
    max_iter : int, default=1000
        Maximum L-BFGS iterations.
    tol : float, default=1e-6
        Gradient tolerance of L-BFGS.
    classes : array-like, optional
        Class labels: names the columns of a soft ``y`` (default ``arange(K)``), or fixes the
        label set of a hard ``y``.
    label_source : label source, optional
        Builds the training targets from gold ``y`` and routed ``soft_labels`` inside ``fit``
        (see :mod:`sksoft.label_sources`); None trains on ``y`` as given.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.linear_model import SoftLogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y_soft = np.array([[0.9, 0.1], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
    >>> clf = SoftLogisticRegression(C=10.0).fit(X, y_soft)
    >>> clf.predict([[0.2], [2.8]]).tolist()
    [0, 1]
    >>> clf.predict_proba([[1.5]]).round(2).tolist()
    [[0.5, 0.5]]
    """

    _parameter_constraints = {
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "classes": ["array-like", None],
        "label_source": [None, LabelSource],
    }

    def __init__(self, *, C=1.0, fit_intercept=True, max_iter=1000, tol=1e-6, classes=None,
                 label_source=None):
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.classes = classes
        self.label_source = label_source

    def fit(self, X, y, sample_weight=None, soft_labels=None, annotations=None,
            item_index=None):
        """Fit on hard labels or a soft-label matrix ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
        sample_weight : array-like of shape (n_samples,), optional
        soft_labels : array-like of shape (n_samples, n_classes), optional
            Human label distributions, used by a ``label_source`` (metadata routing).
        annotations : array-like of shape (n_samples, n_annotators), optional
            Raw wide votes, used by :class:`~sksoft.label_sources.CrowdAggregate`.
        item_index : array-like of int, shape (n_samples,), optional
            Position of every row among all the items, used by
            :class:`~sksoft.label_sources.ExternalSoftLabels` (metadata routing).

        Returns
        -------
        self
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse=_SPARSE, dtype=[np.float64, np.float32],
                          reset=True)
        Y = self._fit_targets(X, y, soft_labels=soft_labels, annotations=annotations,
                              sample_weight=sample_weight, item_index=item_index)
        sw = check_sample_weight(sample_weight, X.shape[0])
        sw = np.ones(X.shape[0]) if sw is None else sw
        X64 = _as_float64(X)
        n, d = X64.shape
        K = Y.shape[1]
        scale = sw.sum()
        sw_s = sw / scale
        alpha = 1.0 / (self.C * scale)
        binary = K == 2
        n_coef = d + int(self.fit_intercept) if binary else K * (d + int(self.fit_intercept))
        w0 = np.zeros(n_coef)
        if binary:
            fun, args = _binary_loss_grad, (X64, Y[:, 1], sw_s, alpha, self.fit_intercept)
        else:
            fun, args = _multinomial_loss_grad, (X64, Y, sw_s, alpha, self.fit_intercept, K)
        # Multi-threaded BLAS costs far more than it saves on the small products of a small
        # problem (measured 10-17x slower fits on 1797 x 64 digits with 2 OpenBLAS threads,
        # scikit-learn's LogisticRegression alike), so small problems use one BLAS thread.
        # (for a sparse X, its stored entries: X64.size is nnz)
        limit = 1 if X64.size < _SMALL_PROBLEM else None
        with threadpool_limits(limits=limit, user_api="blas"):
            res = minimize(
                fun, w0, args=args, method="L-BFGS-B", jac=True,
                options={"maxiter": self.max_iter, "maxls": 50, "gtol": self.tol,
                         "ftol": 64 * np.finfo(float).eps},
            )
        self.n_iter_ = int(res.nit)
        if not res.success and self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"L-BFGS did not converge in {self.max_iter} iterations; increase max_iter.",
                ConvergenceWarning,
                stacklevel=2,
            )
        w = res.x
        if binary:
            self.coef_ = w[:d][None, :].copy()
            self.intercept_ = np.array([w[d] if self.fit_intercept else 0.0])
        else:
            self.coef_ = w[: K * d].reshape(K, d).copy()
            self.intercept_ = w[K * d:].copy() if self.fit_intercept else np.zeros(K)
        return self

    def decision_function(self, X):
        """Logits: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=_SPARSE, dtype=[np.float64, np.float32],
                          reset=False)
        scores = np.asarray(_as_float64(X) @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), rows summing to 1."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.sparse = True
        return tags
