"""scikit-learn scorers for sksoft's metrics, safe with hard *and* soft ``y``.

scikit-learn's own ``neg_log_loss``, ``neg_brier_score`` and ``accuracy`` scorers fail on a
soft-label matrix ``y`` (the score becomes NaN) and ``GridSearchCV`` then silently keeps the first
candidate. These scorers call ``predict_proba`` and evaluate with sksoft's metrics, which accept
both target kinds; hard labels are matched to the columns through the estimator's ``classes_``.

Scorer names: ``<metric>`` evaluates against ``y`` as given; ``gold_<metric>`` against the hard
gold labels (the argmax of a soft ``y``); ``human_<metric>`` against the test fold's human label
distributions (routed ``soft_labels``, else a soft ``y``); ``..._hardest_bin`` /
``..._easiest_bin`` only on the hardest / easiest third of the test fold by human entropy.
"""

import copy
import inspect

import numpy as np
from sklearn.metrics._scorer import _Scorer
from sklearn.utils.metadata_routing import MetadataRequest

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


def _is_soft(y):
    return np.ndim(y) == 2 and np.shape(y)[1] >= 2


def _human(y_true, soft_labels, name):
    if soft_labels is not None:
        return np.asarray(soft_labels)
    if _is_soft(y_true):
        return np.asarray(y_true)
    raise ValueError(
        f"scorer {name!r} evaluates against the test fold's human label distributions: enable "
        "metadata routing (sklearn.set_config(enable_metadata_routing=True)) and pass "
        "soft_labels=... to fit / cross_validate, or use a soft-label y."
    )


class _ProbaScorer(_Scorer):
    """A ``predict_proba`` scorer with a choice of reference target (see make_proba_scorer)."""

    _against = "y"
    _difficulty = None
    _name = "sksoft scorer"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        y_prob = np.asarray(method_caller(estimator, "predict_proba", X, pos_label=None))
        soft_labels = kwargs.pop("soft_labels", None)
        params = {**self._kwargs, **kwargs}
        if self._against == "human":
            target = _human(y_true, soft_labels, self._name)
        elif self._against == "gold" and _is_soft(y_true):
            target = np.argmax(np.asarray(y_true), axis=1)  # column codes
        else:
            target = y_true
            if not _is_soft(y_true) and getattr(estimator, "classes_", None) is not None \
                    and "labels" in inspect.signature(self._score_func).parameters:
                params.setdefault("labels", estimator.classes_)
        if self._difficulty is not None:
            from ._difficulty import difficulty_bins, difficulty_scores

            which, n_bins = self._difficulty
            ids, _ = difficulty_bins(
                difficulty_scores(_human(y_true, soft_labels, self._name)), n_bins=n_bins)
            rows = np.flatnonzero(ids == (ids.max() if which == -1 else which))
            y_prob = y_prob[rows]
            target = np.asarray(target)[rows]
            if params.get("sample_weight") is not None:
                params["sample_weight"] = np.asarray(params["sample_weight"])[rows]
        return self._sign * self._score_func(target, y_prob, **params)


def make_proba_scorer(score_func, *, greater_is_better=True, against="y", difficulty=None,
                      name=None, **kwargs):
    """Make a scorer that evaluates ``score_func(target, estimator.predict_proba(X))``.

    Like ``sklearn.metrics.make_scorer(score_func, response_method="predict_proba")``, but
    hard targets are matched to the probability columns through ``estimator.classes_`` (so
    string labels and folds missing a class work), soft targets are passed unchanged, and the
    target can be the gold labels or the human label distributions of the test fold.

    Parameters
    ----------
    score_func : callable ``(y_true, y_prob, **kwargs) -> float``
    greater_is_better : bool, default=True
        False negates the score (for losses).
    against : {"y", "gold", "human"}, default="y"
        ``"gold"``: the hard labels (the argmax of a soft ``y``); ``"human"``: the
        ``soft_labels`` routed to the scorer (requested by default under metadata routing),
        else a soft ``y``.
    difficulty : (int, int), optional
        ``(bin, n_bins)``: evaluate only on that difficulty bin of the test fold (tie-aware
        quantiles of the human entropy, see :func:`difficulty_bins`); ``bin=-1`` is the hardest.
    name : str, optional
        Used in error messages.
    **kwargs
        Passed to ``score_func``.

    Examples
    --------
    >>> from sksoft.metrics import make_proba_scorer, brier_score
    >>> scorer = make_proba_scorer(brier_score, greater_is_better=False)
    """
    if against not in ("y", "gold", "human"):
        raise ValueError(f"against must be 'y', 'gold' or 'human'; got {against!r}.")
    scorer = _ProbaScorer(score_func, 1 if greater_is_better else -1, kwargs, "predict_proba")
    scorer._against = against
    scorer._difficulty = difficulty
    scorer._name = name or getattr(score_func, "__name__", "scorer")
    if against == "human" or difficulty is not None:
        request = MetadataRequest(owner=scorer)
        request.score.add_request(param="soft_labels", alias=True)
        request.score.add_request(param="sample_weight", alias=None)
        scorer._metadata_request = request
    return scorer


_BASE = {
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
_GOLD = ("soft_accuracy", "neg_expected_calibration_error", "neg_classwise_calibration_error",
         "neg_brier_score", "neg_cross_entropy")
_HUMAN = ("soft_accuracy", "neg_expected_calibration_error", "neg_cross_entropy",
          "neg_kl_divergence", "neg_jensen_shannon_divergence", "neg_total_variation",
          "entropy_correlation")
_BINNED = {
    "gold": ("soft_accuracy", "neg_expected_calibration_error", "neg_cross_entropy"),
    "human": ("neg_kl_divergence", "neg_expected_calibration_error"),
}


def _build_scorers():
    out = {}
    for name, (func, gib, kw) in _BASE.items():
        out[name] = make_proba_scorer(func, greater_is_better=gib, name=name, **kw)
    for against, names in (("gold", _GOLD), ("human", _HUMAN)):
        for name in names:
            func, gib, kw = _BASE[name]
            key = f"{against}_{name}"
            out[key] = make_proba_scorer(func, greater_is_better=gib, against=against,
                                         name=key, **kw)
    for which, tag in ((-1, "hardest"), (0, "easiest")):
        for against, names in _BINNED.items():
            for name in names:
                func, gib, kw = _BASE[name]
                key = f"{against}_{name}_{tag}_bin"
                out[key] = make_proba_scorer(func, greater_is_better=gib, against=against,
                                             difficulty=(which, 3), name=key, **kw)
    return out


SCORERS = _build_scorers()


def get_scorer_names():
    """Names accepted by :func:`get_scorer`.

    Examples
    --------
    >>> "human_neg_kl_divergence" in get_scorer_names()
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
