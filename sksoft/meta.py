"""Meta-estimators that let any scikit-learn classifier learn from soft labels."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, has_fit_parameter, validate_data

from ._base import SoftClassifierMixin
from ._indexing import take_rows
from ._label_source import LabelSource
from ._validation import HasMethods, ValidatedParamsMixin, check_sample_weight

__all__ = ["SoftExpand"]


class SoftExpand(SoftClassifierMixin, ValidatedParamsMixin, MetaEstimatorMixin, ClassifierMixin,
                 BaseEstimator):
    """Fit any classifier that takes ``sample_weight`` on soft labels by expanding rows.

    Each training row ``x_i`` becomes ``K`` rows ``(x_i, k)`` with weight ``y_ik * s_i``
    (zero-weight rows are dropped). For learners that maximise a weighted log-likelihood
    (logistic regression, naive Bayes, neural networks trained on full batches) this is
    **exact**: ``sum_k y_ik log p_k(x_i)`` is the soft cross-entropy. It is **not exact** for
    learners whose fit is not a sum of per-row losses -- trees and forests (impurity over
    duplicated points, bootstrap draws counting rows), k-NN, SVMs (hinge loss and support
    vectors), and anything that subsamples rows or uses early stopping on the expanded set.

    A sparse ``X`` (CSR or CSC; other formats become CSR) is accepted when ``estimator`` accepts
    one (its ``input_tags.sparse``): the expanded rows are taken as a sparse matrix too (the
    expansion repeats stored entries, at most ``n_classes`` times; nothing is densified).

    Parameters
    ----------
    estimator : classifier
        Must accept ``sample_weight`` in ``fit`` and have ``predict_proba``.
    classes : array-like, optional
    label_source : label source, optional

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator``
    classes_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sksoft.meta import SoftExpand
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([[0.9, 0.1], [0.7, 0.3], [0.3, 0.7], [0.1, 0.9]])
    >>> SoftExpand(LogisticRegression()).fit(X, y).predict([[0.0], [3.0]]).tolist()
    [0, 1]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "classes": ["array-like", None],
        "label_source": [None, LabelSource],
    }

    def __init__(self, estimator, *, classes=None, label_source=None):
        self.estimator = estimator
        self.classes = classes
        self.label_source = label_source

    def fit(self, X, y, sample_weight=None, soft_labels=None, annotations=None,
            item_index=None):
        """Fit the wrapped estimator on the expanded rows."""
        self._validate_params()
        if not has_fit_parameter(self.estimator, "sample_weight"):
            raise ValueError(f"estimator must take sample_weight in fit (the expanded rows are "
                             f"weighted); {type(self.estimator).__name__}.fit does not.")
        X = validate_data(self, X, accept_sparse=self._sparse_formats(), reset=True)
        Y = self._fit_targets(X, y, soft_labels=soft_labels, annotations=annotations,
                              sample_weight=sample_weight, item_index=item_index)
        sw = check_sample_weight(sample_weight, X.shape[0])
        n, K = Y.shape
        W = Y * (sw[:, None] if sw is not None else 1.0)
        rows, cols = np.nonzero(W > 0)
        self.estimator_ = clone(self.estimator).fit(take_rows(X, rows), cols,
                                                    sample_weight=W[rows, cols])
        return self

    def predict_proba(self, X):
        """Class probabilities, zero for classes the expanded data never contained."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=self._sparse_formats(), reset=False)
        inner = self.estimator_.predict_proba(X)
        out = np.zeros((inner.shape[0], len(self.classes_)))
        out[:, np.asarray(self.estimator_.classes_, dtype=int)] = inner
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.sparse = self._accepts_sparse()
        return tags

    def _accepts_sparse(self):
        try:
            return bool(get_tags(self.estimator).input_tags.sparse)
        except (AttributeError, TypeError):  # not an estimator (rejected in fit)
            return False

    def _sparse_formats(self):
        """``accept_sparse`` of :func:`validate_data`: CSR / CSC when the estimator takes a
        sparse X, else False (a sparse X is then refused with scikit-learn's message)."""
        return ("csr", "csc") if self._accepts_sparse() else False
