"""Label sources that fit models of their own, cross-fitted within the training rows.

They sit above the estimators (they clone classifiers, by default
:class:`~sksoft.linear_model.SoftLogisticRegression`), which in turn only know the protocol in
:mod:`sksoft._label_source`.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils import check_random_state
from sklearn.utils.validation import has_fit_parameter

from .._deprecation import deprecate_positional_args
from .._indexing import take_rows
from .._label_source import LabelSource
from .._calibration_maps import apply_temperature
from .._targets import one_hot
from .._validation import HasMethods, Interval, Options
from ..linear_model import SoftLogisticRegression

__all__ = ["TeacherDistillation", "EnsembleDisagreement"]

_CLASSIFIER = HasMethods(["fit", "predict_proba"])
_CV = [Interval(numbers.Integral, 2, None, closed="left"), HasMethods("split")]


def _cross_fit_splits(gold, cv, random_state):
    """Folds of the training rows for cross-fitting (stratified on gold when possible)."""
    if isinstance(cv, numbers.Integral):
        counts = np.bincount(gold)
        if counts[counts > 0].min() >= cv:
            splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        else:
            splitter = KFold(cv, shuffle=True, random_state=random_state)
    else:
        splitter = cv
    return list(splitter.split(np.zeros(gold.shape[0]), gold))


def _fit_on_rows(est, X, gold, rows, sample_weight, owner):
    """Fit ``est`` on ``rows`` of the training rows, with their weights when it takes them."""
    kw = {}
    if sample_weight is not None:
        if has_fit_parameter(est, "sample_weight"):
            kw["sample_weight"] = sample_weight[rows]
        elif np.any(sample_weight != 1):
            warnings.warn(
                f"{owner} cannot pass sample_weight to {type(est).__name__}.fit, which does not "
                "accept it: its models are fitted unweighted.", UserWarning, stacklevel=4)
    return est.fit(take_rows(X, rows), gold[rows], **kw)


def _aligned_proba(est, X, n_classes):
    """``est.predict_proba(X)`` with a column per class code (zero for classes it never saw)."""
    P = est.predict_proba(X)
    out = np.zeros((P.shape[0], n_classes))
    out[:, np.asarray(est.classes_, dtype=int)] = P
    return out


def _bootstrap_rows(train, gold, rng, tries=100):
    """A bootstrap resample of ``train`` with at least two classes when ``train`` has them
    (a resample of a small fold can hold a single class, which no classifier can fit: it is
    drawn again)."""
    need = min(2, np.unique(gold[train]).shape[0])
    for _ in range(tries):
        rows = train[rng.randint(0, train.shape[0], train.shape[0])]
        if np.unique(gold[rows]).shape[0] >= need:
            return rows
    raise ValueError(f"{tries} bootstrap resamples of a training fold of {train.shape[0]} rows "
                     "held a single class; use method='seeds' or more rows.")


class TeacherDistillation(LabelSource):
    """Soft labels from a teacher fitted on gold labels, cross-fitted within the training rows.

    The training rows are split into ``cv`` folds; for each, a clone of ``teacher`` is fitted on
    the other folds (gold labels) and predicts the held-out fold. Every row's target therefore
    comes from a teacher that never saw it. Targets are
    ``alpha * softmax(log p_teacher / temperature) + (1 - alpha) * one_hot(gold)``.

    Parameters
    ----------
    teacher : classifier, optional
        Default :class:`~sksoft.linear_model.SoftLogisticRegression`. The fit's
        ``sample_weight`` is passed to its ``fit`` when that accepts it (else a warning).
    temperature : float, default=1.0
    alpha : float in [0, 1], default=1.0
    cv : int >= 2 or splitter, default=5
    random_state : int, optional
        Seeds the cross-fitting folds.
    """

    _parameter_constraints = {
        "teacher": [None, _CLASSIFIER],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "alpha": [Interval(numbers.Real, 0, 1, closed="both")],
        "cv": _CV,
        "random_state": ["random_state"],
    }

    @deprecate_positional_args
    def __init__(self, *, teacher=None, temperature=1.0, alpha=1.0, cv=5, random_state=None):
        self.teacher = teacher
        self.temperature = temperature
        self.alpha = alpha
        self.cv = cv
        self.random_state = random_state

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        teacher = self.teacher if self.teacher is not None else SoftLogisticRegression()
        P = np.zeros((gold.shape[0], n_classes))
        for train, held in _cross_fit_splits(gold, self.cv, self.random_state):
            est = _fit_on_rows(clone(teacher), X, gold, train, sample_weight,
                               type(self).__name__)
            P[held] = _aligned_proba(est, take_rows(X, held), n_classes)
        if self.temperature != 1.0:
            P = apply_temperature(P, self.temperature)
        return self.alpha * P + (1.0 - self.alpha) * one_hot(gold, n_classes)


class EnsembleDisagreement(LabelSource):
    """Targets from the disagreement of an ensemble fitted on gold labels, cross-fitted.

    For each cross-fitting fold, ``n_members`` clones of ``estimator`` are fitted on the other
    folds -- on bootstrap resamples (``method="bootstrap"``) or with different seeds
    (``method="seeds"``, setting every ``random_state`` parameter) -- and predict the held-out
    rows. Targets are the members' mean probabilities (``output="mean"``) or the distribution
    of their votes (``output="vote"``).

    Parameters
    ----------
    estimator : classifier, optional
        Default :class:`~sksoft.linear_model.SoftLogisticRegression`. The fit's
        ``sample_weight`` (of the resampled rows) is passed to its ``fit`` when that accepts
        it (else a warning).
    n_members : int, default=5
    method : {"bootstrap", "seeds"}, default="bootstrap"
    output : {"mean", "vote"}, default="mean"
    cv : int >= 2 or splitter, default=5
    random_state : int, optional
    """

    _parameter_constraints = {
        "estimator": [None, _CLASSIFIER],
        "n_members": [Interval(numbers.Integral, 1, None, closed="left")],
        "method": [Options({"bootstrap", "seeds"})],
        "output": [Options({"mean", "vote"})],
        "cv": _CV,
        "random_state": ["random_state"],
    }

    @deprecate_positional_args
    def __init__(self, *, estimator=None, n_members=5, method="bootstrap", output="mean", cv=5,
                 random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.method = method
        self.output = output
        self.cv = cv
        self.random_state = random_state

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        base = self.estimator if self.estimator is not None else SoftLogisticRegression()
        rng = check_random_state(self.random_state)
        out = np.zeros((gold.shape[0], n_classes))
        for train, held in _cross_fit_splits(gold, self.cv, self.random_state):
            acc = np.zeros((held.shape[0], n_classes))
            for m in range(self.n_members):
                est = clone(base)
                rows = train
                if self.method == "bootstrap":
                    rows = _bootstrap_rows(train, gold, rng)
                else:
                    seed = int(rng.randint(np.iinfo(np.int32).max))
                    est.set_params(**{k: seed for k in est.get_params()
                                      if k == "random_state" or k.endswith("__random_state")})
                _fit_on_rows(est, X, gold, rows, sample_weight, type(self).__name__)
                P = _aligned_proba(est, take_rows(X, held), n_classes)
                if self.output == "vote":
                    P = one_hot(np.argmax(P, axis=1), n_classes)
                acc += P
            out[held] = acc / self.n_members
        return out
