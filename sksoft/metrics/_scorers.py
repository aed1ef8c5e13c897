"""scikit-learn scorers for sksoft's metrics, safe with hard *and* soft ``y``.

scikit-learn's own ``neg_log_loss``, ``neg_brier_score`` and ``accuracy`` scorers fail on a
soft-label matrix ``y`` (the score becomes NaN) and ``GridSearchCV`` then silently keeps the first
candidate. These scorers call ``predict_proba`` and evaluate with sksoft's metrics, which accept
both target kinds; hard labels are matched to the columns through the estimator's ``classes_``.

Scorer names: ``<metric>`` evaluates against ``y`` as given; ``gold_<metric>`` against the hard
gold labels (the argmax of a soft ``y``); ``human_<metric>`` against the test fold's human label
distributions (routed ``soft_labels``, else a soft ``y``); ``..._hardest_bin`` /
``..._easiest_bin`` only on the hardest / easiest third of the test fold by human entropy.

The scorers are objects of a small class of sksoft's that implements scikit-learn's scorer
protocol with public API only: ``scorer(estimator, X, y, **metadata)`` returns a float, greater
is better, and ``get_metadata_routing`` / ``set_score_request`` take part in metadata routing
through :mod:`sklearn.utils.metadata_routing`. ``sklearn.metrics.make_scorer(...,
response_method="predict_proba")`` cannot serve: on a binary problem it keeps only the
positive-class column, its score function never sees the estimator's ``classes_`` (needed to
decode hard labels), and its target is always ``y``.
"""

import copy
import inspect
import numbers
import warnings

import numpy as np
import sklearn
from sklearn.utils.metadata_routing import MetadataRequest

from .._targets import check_targets, is_soft_target
from .._validation import Interval, Options, check_scalar
from ._calibration import classwise_calibration_error, expected_calibration_error
from ._conformal import coverage_score, mean_set_size
from ._corp import score_decomposition
from ._difficulty import difficulty_bins, difficulty_scores
from ._lewidi import manhattan_distance, wasserstein_ordinal
from ._smooth import smooth_calibration_error
from ._validation import check_n_bins
from ._divergence import (
    accuracy_score,
    brier_score_loss,
    entropy_correlation,
    jensen_shannon_divergence,
    kl_divergence,
    log_loss,
    total_variation,
)

__all__ = ["make_proba_scorer", "make_set_scorer", "get_scorer", "get_scorer_names", "SCORERS"]


def _human(y_true, soft_labels, name):
    if soft_labels is not None:
        return np.asarray(soft_labels)
    if is_soft_target(y_true):
        return np.asarray(y_true)
    raise ValueError(
        f"scorer {name!r} evaluates against the test fold's human label distributions: enable "
        "metadata routing (sklearn.set_config(enable_metadata_routing=True)) and pass "
        "soft_labels=... to fit / cross_validate, or use a soft-label y."
    )


class _ProbaScorer:
    """``score_func(target, estimator.predict_proba(X))``, negated for losses.

    See :func:`make_proba_scorer`. Implements scikit-learn's scorer protocol: called as
    ``scorer(estimator, X, y_true, **metadata)``, with ``get_metadata_routing`` and
    ``set_score_request`` for metadata routing.
    """

    def __init__(self, score_func, *, greater_is_better, against, difficulty, name, kwargs):
        self._score_func = score_func
        self._greater_is_better = bool(greater_is_better)
        self._against = against
        self._difficulty = difficulty
        self._name = name
        self._kwargs = kwargs
        self._takes_labels = "labels" in inspect.signature(score_func).parameters
        # Metadata the scorer knows, as scikit-learn's scorers declare it: sample_weight must
        # be requested explicitly (None: an error if passed unrequested); the human labels of
        # the test fold are requested by default by the scorers that need them.
        self._requests = {"sample_weight": None}
        if against == "human" or difficulty is not None:
            self._requests["soft_labels"] = True

    def __call__(self, estimator, X, y_true, sample_weight=None, soft_labels=None, **kwargs):
        """Score ``estimator`` on ``X`` against the target chosen by ``against``.

        Parameters
        ----------
        estimator : fitted classifier with ``predict_proba`` (and ``classes_``)
        X : array-like
        y_true : array-like of shape (n,) or (n, K)
            Hard labels (decoded with ``estimator.classes_``) or a soft-label matrix.
        sample_weight : array-like of shape (n,), optional
        soft_labels : array-like of shape (n, K), optional
            The test rows' human label distributions (routed metadata).
        **kwargs
            Passed to the score function, over the scorer's own keyword arguments.

        Returns
        -------
        float
        """
        y_prob = self._response(estimator, X)
        params = {**self._kwargs, **kwargs}
        if sample_weight is not None:
            params["sample_weight"] = sample_weight
        classes = getattr(estimator, "classes_", None)
        if self._against == "human":
            target = _human(y_true, soft_labels, self._name)
        elif self._against == "gold" and is_soft_target(y_true):
            # the gold label of a soft row is its argmax (first on ties), as in label sources
            proba = check_targets(y_true, n_classes=y_prob.shape[1], name="y_true").proba
            target = np.argmax(proba, axis=1)  # column codes
        else:
            target = y_true
            if not is_soft_target(y_true) and classes is not None and self._takes_labels:
                params.setdefault("labels", classes)
        if self._difficulty is not None:
            which, n_bins = self._difficulty
            ids, _ = difficulty_bins(
                difficulty_scores(_human(y_true, soft_labels, self._name)), n_bins=n_bins)
            rows = np.flatnonzero(ids == (ids.max() if which == -1 else which))
            y_prob = y_prob[rows]
            target = np.asarray(target)[rows]
            if params.get("sample_weight") is not None:
                params["sample_weight"] = np.asarray(params["sample_weight"])[rows]
        score = self._score_func(target, y_prob, **params)
        return score if self._greater_is_better else -score

    def _response(self, estimator, X):
        return np.asarray(estimator.predict_proba(X))

    def set_score_request(self, **kwargs):
        """Request metadata for scoring, as ``param=alias`` (True, False, None or a string).

        Only available under ``sklearn.set_config(enable_metadata_routing=True)``, like
        scikit-learn's scorers. Returns the scorer.
        """
        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError(
                "This method is only available when metadata routing is enabled. You can "
                "enable it using sklearn.set_config(enable_metadata_routing=True).")
        for param, alias in kwargs.items():
            if not (alias is None or isinstance(alias, (bool, str))):
                raise TypeError(f"the request for {param!r} must be True, False, None or an "
                                f"alias string; got {alias!r}.")
        self._requests = {**self._requests, **kwargs}
        return self

    def get_metadata_routing(self):
        """The metadata this scorer consumes when it scores (a ``MetadataRequest``)."""
        request = MetadataRequest(owner=self._name)
        for param, alias in self._requests.items():
            request.score.add_request(param=param, alias=alias)
        return request

    def __repr__(self):
        args = [getattr(self._score_func, "__name__", repr(self._score_func))]
        if not self._greater_is_better:
            args.append("greater_is_better=False")
        if self._against != "y":
            args.append(f"against={self._against!r}")
        if self._difficulty is not None:
            args.append(f"difficulty={self._difficulty!r}")
        args += [f"{k}={v!r}" for k, v in self._kwargs.items()]
        return f"make_proba_scorer({', '.join(args)})"


def _check_difficulty(difficulty):
    """``(bin, n_bins)``: integers with ``1 <= n_bins <= MAX_BINS`` and ``bin`` in
    ``[0, n_bins)`` or -1 (the hardest bin)."""
    if not isinstance(difficulty, (tuple, list)) or len(difficulty) != 2 or not all(
            Interval(numbers.Integral, None, None).is_type(v) for v in difficulty):
        raise TypeError(f"difficulty must be a pair of integers (bin, n_bins); got "
                        f"{difficulty!r}.")
    which, n_bins = (int(v) for v in difficulty)
    check_n_bins(n_bins, "the n_bins of difficulty")
    if not (which == -1 or 0 <= which < n_bins):
        raise ValueError(f"difficulty=(bin, n_bins) needs bin in [0, n_bins) or -1 (the "
                         f"hardest); got {difficulty!r}.")
    return which, n_bins


def make_proba_scorer(score_func, *, greater_is_better=True, against="y", difficulty=None,
                      name=None, **kwargs):
    """Make a scorer that evaluates ``score_func(target, estimator.predict_proba(X))``.

    Like ``sklearn.metrics.make_scorer(score_func, response_method="predict_proba")``, but
    all columns are kept on binary problems, hard targets are matched to the probability
    columns through ``estimator.classes_`` (so string labels and folds missing a class work),
    soft targets are passed unchanged, and the target can be the gold labels or the human label
    distributions of the test fold.

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

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y, **metadata) -> float``

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.linear_model import SoftLogisticRegression
    >>> from sksoft.metrics import make_proba_scorer, brier_score_loss
    >>> scorer = make_proba_scorer(brier_score_loss, greater_is_better=False)
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> clf = SoftLogisticRegression().fit(X, y)
    >>> bool(scorer(clf, X, y) == -brier_score_loss(y, clf.predict_proba(X)))
    True
    """
    check_scalar(score_func, "score_func", callable)
    check_scalar(greater_is_better, "greater_is_better", "boolean")
    check_scalar(against, "against", Options(("y", "gold", "human")))
    check_scalar(name, "name", [None, str])
    if difficulty is not None:
        difficulty = _check_difficulty(difficulty)
    return _ProbaScorer(score_func, greater_is_better=greater_is_better, against=against,
                        difficulty=difficulty,
                        name=name or getattr(score_func, "__name__", "scorer"), kwargs=kwargs)


class _SetScorer(_ProbaScorer):
    """``score_func(target, estimator.predict_set(X, alpha))``: see :func:`make_set_scorer`."""

    def __init__(self, score_func, *, alpha, **kw):
        super().__init__(score_func, **kw)
        self._alpha = alpha

    def _response(self, estimator, X):
        if not callable(getattr(estimator, "predict_set", None)):
            raise TypeError(f"scorer {self._name!r} needs an estimator with predict_set (e.g. "
                            f"sksoft.conformal.ConformalClassifier); got "
                            f"{type(estimator).__name__}.")
        if self._alpha is None:
            return np.asarray(estimator.predict_set(X))
        return np.asarray(estimator.predict_set(X, alpha=self._alpha))

    def __repr__(self):
        text = super().__repr__().replace("make_proba_scorer", "make_set_scorer", 1)
        return text if self._alpha is None else text[:-1] + f", alpha={self._alpha!r})"


def make_set_scorer(score_func, *, alpha=None, greater_is_better=True, against="y",
                    difficulty=None, name=None, **kwargs):
    """Make a scorer of prediction sets: ``score_func(target, estimator.predict_set(X))``.

    Like :func:`make_proba_scorer` (the same targets, difficulty bins and metadata routing),
    for estimators with ``predict_set(X, alpha)`` such as
    :class:`~sksoft.conformal.ConformalClassifier`.

    Parameters
    ----------
    score_func : callable ``(y_true, y_set, **kwargs) -> float``
        E.g. :func:`coverage_score`.
    alpha : float, optional
        Passed to ``predict_set``; default the estimator's own level.
    greater_is_better, against, difficulty, name, **kwargs
        As in :func:`make_proba_scorer`.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y, **metadata) -> float``

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.conformal import ConformalClassifier
    >>> from sksoft.metrics import coverage_score, make_set_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] > rng.normal(size=400)).astype(int)
    >>> cp = ConformalClassifier(random_state=0).fit(X[:200], y[:200])
    >>> scorer = make_set_scorer(coverage_score, alpha=0.2)
    >>> bool(scorer(cp, X[200:], y[200:]) == coverage_score(y[200:], cp.predict_set(X[200:], 0.2)))
    True
    """
    check_scalar(score_func, "score_func", callable)
    check_scalar(alpha, "alpha", [None, Interval(numbers.Real, 0, 1, closed="neither")])
    check_scalar(greater_is_better, "greater_is_better", "boolean")
    check_scalar(against, "against", Options(("y", "gold", "human")))
    check_scalar(name, "name", [None, str])
    if difficulty is not None:
        difficulty = _check_difficulty(difficulty)
    return _SetScorer(score_func, alpha=alpha, greater_is_better=greater_is_better,
                      against=against, difficulty=difficulty,
                      name=name or getattr(score_func, "__name__", "scorer"), kwargs=kwargs)


def _set_size(y_true, y_set, *, sample_weight=None):
    """Mean set size, in the ``(y_true, y_set)`` signature of a set scorer."""
    return mean_set_size(y_set, sample_weight=sample_weight)


_set_size.__name__ = "mean_set_size"


def miscalibration(y_true, y_prob, *, score="brier", labels=None, sample_weight=None):
    """The miscalibration component (MCB) of the CORP decomposition of the top-label
    ``score`` (see :func:`score_decomposition`): the part of the score that recalibration
    removes. Lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> round(miscalibration([0, 1, 1, 0], p), 4)
    0.0583
    """
    return float(score_decomposition(y_true, y_prob, score=score, labels=labels,
                                     sample_weight=sample_weight).mcb)

_BASE = {
    "soft_accuracy": (accuracy_score, True, {}),
    "neg_expected_calibration_error": (expected_calibration_error, False, {}),
    "neg_maximum_calibration_error": (expected_calibration_error, False, {"norm": "max"}),
    "neg_rms_calibration_error": (expected_calibration_error, False, {"norm": "l2"}),
    "neg_adaptive_calibration_error": (expected_calibration_error, False, {"strategy": "quantile"}),
    "neg_classwise_calibration_error": (classwise_calibration_error, False, {}),
    # the multiclass Brier score sums over all K columns: on a binary problem it is twice
    # scikit-learn's default brier_score_loss, so it must not share the name of its
    # neg_brier_score
    "neg_multiclass_brier_score": (brier_score_loss, False, {}),
    "neg_log_loss": (log_loss, False, {}),
    "neg_kl_divergence": (kl_divergence, False, {}),
    "neg_jensen_shannon_divergence": (jensen_shannon_divergence, False, {}),
    "neg_total_variation": (total_variation, False, {}),
    # LeWiDi 2025's soft-label metrics (wasserstein_ordinal: columns are ordered scale points)
    "neg_manhattan_distance": (manhattan_distance, False, {}),
    "neg_wasserstein_ordinal": (wasserstein_ordinal, False, {}),
    "entropy_correlation": (entropy_correlation, True, {}),
    "neg_debiased_calibration_error": (expected_calibration_error, False,
                                       {"norm": "l2", "debias": True}),
    "neg_smooth_calibration_error": (smooth_calibration_error, False, {}),
    "neg_miscalibration_brier": (miscalibration, False, {"score": "brier"}),
    "neg_miscalibration_log": (miscalibration, False, {"score": "log"}),
}
_CALIBRATION = ("neg_debiased_calibration_error", "neg_smooth_calibration_error",
                "neg_miscalibration_brier")
_GOLD = ("soft_accuracy", "neg_expected_calibration_error", "neg_classwise_calibration_error",
         "neg_multiclass_brier_score", "neg_log_loss", "neg_miscalibration_log") \
    + _CALIBRATION
_HUMAN = ("soft_accuracy", "neg_expected_calibration_error", "neg_log_loss",
          "neg_kl_divergence", "neg_jensen_shannon_divergence", "neg_total_variation",
          "neg_manhattan_distance", "neg_wasserstein_ordinal",
          "entropy_correlation") + _CALIBRATION
_BINNED = {
    "gold": ("soft_accuracy", "neg_expected_calibration_error", "neg_log_loss",
             "neg_debiased_calibration_error", "neg_smooth_calibration_error"),
    "human": ("neg_kl_divergence", "neg_expected_calibration_error",
              "neg_debiased_calibration_error"),
}

# prediction-set scorers (estimators with predict_set, at their own alpha)
_SETS = {
    "coverage": (coverage_score, True, "y"),
    "gold_coverage": (coverage_score, True, "gold"),
    "human_coverage": (coverage_score, True, "human"),
    "neg_mean_set_size": (_set_size, False, "y"),
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
    for name, (func, gib, against) in _SETS.items():
        out[name] = make_set_scorer(func, greater_is_better=gib, against=against, name=name)
        for which, tag in ((-1, "hardest"), (0, "easiest")):
            key = f"{name}_{tag}_bin"
            out[key] = make_set_scorer(func, greater_is_better=gib, against=against,
                                       difficulty=(which, 3), name=key)
    for which, tag in ((-1, "hardest"), (0, "easiest")):
        for against, names in _BINNED.items():
            for name in names:
                func, gib, kw = _BASE[name]
                key = f"{against}_{name}_{tag}_bin"
                out[key] = make_proba_scorer(func, greater_is_better=gib, against=against,
                                             difficulty=(which, 3), name=key, **kw)
    return out


class _Scorers(dict):
    """The scorers by name; a name from before sksoft 0.2 still works, with a FutureWarning."""

    def __missing__(self, name):
        new = _renamed_scorer(name)
        if new is None:
            raise KeyError(name)
        return self[new]


def _renamed_scorer(name):
    """The current name of a scorer called ``name`` before 0.2 (and warn), else None."""
    if not isinstance(name, str) or "neg_cross_entropy" not in name:
        return None
    new = name.replace("neg_cross_entropy", "neg_log_loss")
    if new not in SCORERS:
        return None
    warnings.warn(f"the scorer {name!r} was renamed {new!r} in sksoft 0.2 (after the metric "
                  "cross_entropy, now log_loss, as scikit-learn's neg_log_loss); the old name "
                  "will be removed in sksoft 0.3.", FutureWarning, stacklevel=3)
    return new


SCORERS = _Scorers(_build_scorers())


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
    ``neg_multiclass_brier_score`` is the Brier score summed over all classes (twice
    scikit-learn's ``neg_brier_score`` on binary problems, hence the other name).

    Examples
    --------
    >>> from sksoft.metrics import get_scorer
    >>> get_scorer("neg_multiclass_brier_score")
    make_proba_scorer(brier_score_loss, greater_is_better=False)
    """
    if callable(name):
        return name
    check_scalar(name, "name", str)
    name = _renamed_scorer(name) or name
    try:
        return copy.deepcopy(dict.__getitem__(SCORERS, name))
    except KeyError:
        raise ValueError(
            f"name={name!r} is not an sksoft scorer; choose one of {get_scorer_names()}."
        ) from None
