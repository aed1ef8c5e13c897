"""Shared behaviour of sksoft classifiers: the target contract, label sources, predict, score."""

import numpy as np
from sklearn.metrics import accuracy_score

from ._indexing import num_samples
from ._label_source import make_training_targets
from ._targets import check_targets, is_soft_target, prepare_targets

__all__ = ["SoftClassifierMixin"]


class SoftClassifierMixin:
    """Mixin for classifiers whose ``fit`` accepts hard labels or a soft-label matrix.

    Subclasses define ``predict_proba`` and call :meth:`_fit_targets` in ``fit``; they get
    ``predict`` (``classes_[argmax]``) and a ``score`` that never returns NaN on soft ``y``.
    They have ``classes`` and ``label_source`` parameters.
    """

    # Route the human labels and raw annotations to fit by default under scikit-learn's
    # metadata routing (sample_weight keeps scikit-learn's opt-in default).
    __metadata_request__fit = {"soft_labels": True, "annotations": True, "item_index": True}

    def _fit_targets(self, X, y, *, soft_labels=None, annotations=None, sample_weight=None,
                     classes=None, item_index=None):
        """Training targets (n, K) for this fit; sets ``classes_``.

        Without a ``label_source`` the targets are ``y`` itself (one-hot for hard labels).
        With one, the source builds them from the training rows only (gold ``y`` plus the
        routed ``soft_labels``), see :mod:`sksoft._label_source`. ``classes`` overrides the
        ``classes`` parameter (``partial_fit`` after the first call passes ``classes_``).
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if classes is None:
            classes = getattr(self, "classes", None)
        source = getattr(self, "label_source", None)
        if source is None:
            Y, classes_, _ = prepare_targets(y, classes=classes)
        else:
            Y, classes_ = make_training_targets(
                source, X, y, soft_labels=soft_labels, annotations=annotations,
                classes=classes, sample_weight=sample_weight, item_index=item_index,
            )
        n = num_samples(X)
        if Y.shape[0] != n:
            raise ValueError(f"X has {n} samples but y has {Y.shape[0]}.")
        self.classes_ = classes_
        return Y

    def predict(self, X):
        """Class with the highest predicted probability (``classes_[argmax]``)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of ``predict(X)``.

        ``y`` follows the target contract (:mod:`sksoft._targets`). For a soft-label matrix
        ``y`` (columns in the order of ``classes_``) the reference label of each row is the
        class with the largest target probability (first one on ties), so the score is never
        NaN. Use :func:`sksoft.metrics.accuracy_score` for the soft (expected) accuracy instead.
        """
        if is_soft_target(y):
            t = check_targets(y, classes=self.classes_, n_classes=len(self.classes_))
            y_ref = self.classes_[np.argmax(t.proba, axis=1)]
        else:
            # hard labels are compared as they are: a label the model never saw is an error
            t = check_targets(y, infer_classes=True)
            y_ref = t.classes[t.codes]
        return accuracy_score(y_ref, self.predict(X), sample_weight=sample_weight)
