"""Shared behaviour of sksoft classifiers: the target contract, label sources, predict, score."""

import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import _num_samples

from ._targets import prepare_targets

__all__ = ["SoftClassifierMixin"]


class SoftClassifierMixin:
    """Mixin for classifiers whose ``fit`` accepts hard labels or a soft-label matrix.

    Subclasses define ``predict_proba`` and call :meth:`_fit_targets` in ``fit``; they get
    ``predict`` (``classes_[argmax]``) and a ``score`` that never returns NaN on soft ``y``.
    They have ``classes`` and ``label_source`` parameters.
    """

    # Route the human labels and raw annotations to fit by default under scikit-learn's
    # metadata routing (sample_weight keeps scikit-learn's opt-in default).
    __metadata_request__fit = {"soft_labels": True, "annotations": True}

    def _fit_targets(self, X, y, *, soft_labels=None, annotations=None, sample_weight=None):
        """Training targets (n, K) for this fit; sets ``classes_``.

        Without a ``label_source`` the targets are ``y`` itself (one-hot for hard labels).
        With one, the source builds them from the training rows only (gold ``y`` plus the
        routed ``soft_labels``), see :mod:`sksoft.label_sources`.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        source = getattr(self, "label_source", None)
        if source is None:
            Y, classes_, _ = prepare_targets(y, classes=getattr(self, "classes", None))
        else:
            from .label_sources import make_training_targets

            Y, classes_ = make_training_targets(
                source, X, y, soft_labels=soft_labels, annotations=annotations,
                classes=getattr(self, "classes", None), sample_weight=sample_weight,
            )
        if Y.shape[0] != _num_samples(X):
            raise ValueError(f"X has {_num_samples(X)} samples but y has {Y.shape[0]}.")
        self.classes_ = classes_
        return Y

    def predict(self, X):
        """Class with the highest predicted probability (``classes_[argmax]``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict(X)``.

        For a soft-label matrix ``y`` the reference label of each row is the class with the
        largest target probability (first one on ties), so the score is never NaN. Use
        :func:`sksoft.metrics.accuracy` for the soft (expected) accuracy instead.
        """
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] >= 2:
            y_arr = self.classes_[np.argmax(y_arr, axis=1)]
        return accuracy_score(y_arr.ravel() if y_arr.ndim == 2 else y_arr, self.predict(X),
                              sample_weight=sample_weight)
