"""scikit-learn scorers for sksoft's metrics, safe with hard *and* soft ``y``.

scikit-learn's own ``neg_log_loss``, ``neg_brier_score`` and ``accuracy`` scorers fail on a
soft-label matrix ``y`` (the score becomes NaN) and ``GridSearchCV`` then silently keeps the first
candidate. These scorers call ``predict_proba`` and evaluate with sksoft's metrics, which accept
both target kinds; hard labels are matched to the columns through the estimator's ``classes_``.
"""

import copy
import inspect

from sklearn.metrics._scorer import _Scorer

from ._calibration import classwise_calibration_error, expected_calibration_error
from ._divergence import (
    accuracy,
    brier_score,
    cross_entropy,
    entropy_correlation,
    jensen_shannon_divergence,
    kl_divergence,
    total_variation,
)

__all__ = ["make_proba_scorer", "get_scorer", "get_scorer_names", "SCORERS"]


class _ProbaScorer(_Scorer):
    """A ``predict_proba`` scorer that passes the estimator's ``classes_`` as ``labels``."""

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        y_prob = method_caller(estimator, "predict_proba", X, pos_label=None)
        params = {**self._kwargs, **kwargs}
        classes = getattr(estimator, "classes_", None)
        if (
            classes is not None
            and getattr(y_true, "ndim", 1) == 1
            and "labels" in inspect.signature(self._score_func).parameters
        ):
            params.setdefault("labels", classes)
        return self._sign * self._score_func(y_true, y_prob, **params)


def make_proba_scorer(score_func, *, greater_is_better=True, **kwargs):
    """Make a scorer that evaluates ``score_func(y_true, estimator.predict_proba(X))``.

    Like ``sklearn.metrics.make_scorer(score_func, response_method="predict_proba")``, but
    hard ``y_true`` is matched to the probability columns through ``estimator.classes_`` (so
    string labels and folds missing a class work) and soft ``y_true`` is passed unchanged.

    Examples
    --------
    >>> from sksoft.metrics import make_proba_scorer, brier_score
    >>> scorer = make_proba_scorer(brier_score, greater_is_better=False)
    """
    return _ProbaScorer(score_func, 1 if greater_is_better else -1, kwargs, "predict_proba")


_SPECS = {
    "soft_accuracy": (accuracy, True, {}),
    "neg_expected_calibration_error": (expected_calibration_error, False, {}),
    "neg_maximum_calibration_error": (expected_calibration_error, False, {"norm": "max"}),
    "neg_rms_calibration_error": (expected_calibration_error, False, {"norm": "l2"}),
    "neg_adaptive_calibration_error": (expected_calibration_error, False, {"strategy": "quantile"}),
    "neg_classwise_calibration_error": (classwise_calibration_error, False, {}),
    "neg_brier_score": (brier_score, False, {}),
    "neg_cross_entropy": (cross_entropy, False, {}),
    "neg_kl_divergence": (kl_divergence, False, {}),
    "neg_jensen_shannon_divergence": (jensen_shannon_divergence, False, {}),
    "neg_total_variation": (total_variation, False, {}),
    "entropy_correlation": (entropy_correlation, True, {}),
}

SCORERS = {
    name: make_proba_scorer(func, greater_is_better=gib, **kw)
    for name, (func, gib, kw) in _SPECS.items()
}


def get_scorer_names():
    """Names accepted by :func:`get_scorer`.

    Examples
    --------
    >>> "neg_expected_calibration_error" in get_scorer_names()
    True
    """
    return sorted(SCORERS)


def get_scorer(name):
    """Return a fresh copy of the sksoft scorer called ``name``.

    Losses are negated (``neg_*``) so that greater is always better, as scikit-learn expects.
    Usable as ``scoring=`` in ``cross_validate`` and ``GridSearchCV`` with hard or soft ``y``.

    Examples
    --------
    >>> from sksoft.metrics import get_scorer
    >>> get_scorer("neg_brier_score")
    make_scorer(brier_score, greater_is_better=False, response_method='predict_proba')
    """
    if callable(name):
        return name
    try:
        return copy.deepcopy(SCORERS[name])
    except KeyError:
        raise ValueError(
            f"{name!r} is not an sksoft scorer; choose one of {get_scorer_names()}."
        ) from None
