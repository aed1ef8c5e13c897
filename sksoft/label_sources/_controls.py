"""Null and dose controls for the human labels: sources that keep part of their information.

* :class:`ShuffledHumanLabels` keeps the *class-level* structure of the human labels (which
  classes are confused with which, and how often) and destroys every item's own information.
* :class:`EntropyMatchedSmoothing` keeps each item's *amount* of uncertainty (its entropy)
  and destroys its *direction* (which classes the humans hesitated between).

A gain of :class:`~sksoft.label_sources.HumanSoftLabels` over gold that one of these controls
also reaches is a gain of "any soft target of the right shape", not of item-level human
uncertainty.
"""

import numpy as np
from sklearn.utils import check_random_state

from .._label_source import LabelSource
from .._targets import one_hot

__all__ = ["ShuffledHumanLabels", "EntropyMatchedSmoothing"]


def _require_human(source, human):
    if human is None:
        raise ValueError(f"{type(source).__name__} needs human label distributions (human=...); "
                         "pass soft_labels=... to fit.")
    return np.asarray(human, dtype=np.float64)


class ShuffledHumanLabels(LabelSource):
    """Human label distributions permuted among the training items of the same gold class.

    The null control of item-level human uncertainty: the targets are the human distributions
    of the training rows, each row getting the distribution of another (randomly chosen)
    training row with the **same gold label**. The class-level structure of the human labels
    survives -- the set of distributions of each gold class, so which classes are confused
    with which and how often -- but the link between an item and its own distribution is cut.

    The permutation is drawn afresh inside each ``fit``, among the rows the classifier is
    fitted on, so only training-fold distributions are ever used: no held-out row's
    distribution reaches a training target. A row alone in its gold class keeps its own
    distribution; a row may also be drawn onto itself (a uniform permutation, not a
    derangement). ``sample_weight`` is not used: each row keeps its weight and receives another
    row's distribution.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the permutation. With an int, the same training rows in the same order get the
        same targets on every call.

    See Also
    --------
    EntropyMatchedSmoothing : each item's amount of human uncertainty without its direction.
    HumanSoftLabels : the human distributions themselves.

    Examples
    --------
    >>> import numpy as np
    >>> gold = np.array([0, 0, 0, 1])
    >>> human = np.array([[.9, .1], [.8, .2], [.7, .3], [.4, .6]])
    >>> Y = ShuffledHumanLabels(random_state=0).make_targets(None, gold, human=human,
    ...                                                      n_classes=2)
    >>> sorted(Y[:3, 0].tolist()), Y[3].tolist()  # class 0 permuted, class 1 alone: unchanged
    ([0.7, 0.8, 0.9], [0.4, 0.6])
    """

    needs_human = True

    _parameter_constraints = {"random_state": ["random_state"]}

    def __init__(self, *, random_state=None):
        self.random_state = random_state

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        human = _require_human(self, human)
        gold = np.asarray(gold, dtype=np.intp)
        rng = check_random_state(self.random_state)
        source_row = np.arange(gold.shape[0])
        for k in np.unique(gold):
            rows = np.flatnonzero(gold == k)
            source_row[rows] = rows[rng.permutation(rows.shape[0])]
        return human[source_row].copy()


def _phi(x):
    """``x log x - x + 1`` (>= 0, zero at ``x = 1``), accurate near ``x = 1``: with ``d = x - 1``
    it is ``x log1p(d) - d``, whose rounding error is of the order of ``eps * |d|``."""
    d = x - 1.0
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        # log1p near 1 (accuracy), log far from it (x - 1 would round away a tiny x)
        log_x = np.where(x > 0.5, np.log1p(d), np.log(np.where(x > 0, x, 1.0)))
        xlogx = np.where(x > 0, x * log_x, 0.0)
    return np.maximum(xlogx - d, 0.0)


def _entropy_deficit(P):
    """``log K - H(p)`` of each row, the KL divergence to the uniform distribution, as
    ``mean_k phi(K p_k)``: unlike ``log K - entropy`` it keeps its relative accuracy for
    near-uniform rows, where the gold mass is most sensitive to it."""
    return _phi(P.shape[1] * P).mean(axis=1)


def _off_gold_uniform_deficit(q, n_classes):
    """``log K - H([q, (1 - q) / (K - 1), ...])``, increasing in ``q`` on ``[1/K, 1]``."""
    K = n_classes
    return (_phi(K * q) + (K - 1) * _phi(K * (1.0 - q) / (K - 1))) / K


def entropy_matched_gold_mass(human, n_classes):
    """Gold-class mass ``q`` in ``[1/K, 1]`` of the target ``[q, (1-q)/(K-1), ...]`` whose
    entropy equals that of each human row.

    The entropy of the target falls strictly from ``log K`` at ``q = 1/K`` to 0 at ``q = 1``,
    so the root is unique. It is solved as equal deficits ``log K - H`` (see
    :func:`_entropy_deficit`) by vectorised bisection over 64 halvings (an interval below
    ``2**-64``): accurate to about 1e-15 in ``q`` even for near-uniform rows, where solving on
    the entropy itself loses half the digits. A deficit at or above ``log K`` (a one-hot row)
    gives ``q = 1`` exactly, a zero deficit (the uniform row) ``q = 1/K``.
    """
    K = n_classes
    target = np.clip(_entropy_deficit(human), 0.0, np.log(K))
    lo = np.full(target.shape, 1.0 / K)  # deficit(lo) = 0 <= target
    hi = np.ones(target.shape)           # deficit(hi) = log K >= target
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        below = _off_gold_uniform_deficit(mid, K) <= target
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    q = 0.5 * (lo + hi)
    q[(human.max(axis=1) >= 1.0) | (target >= np.log(K))] = 1.0  # unanimous: one-hot
    q[target <= 0.0] = 1.0 / K
    return q


class EntropyMatchedSmoothing(LabelSource):
    """Gold labels smoothed, item by item, to the entropy of that item's human distribution.

    The dose control of item-level human uncertainty: each target puts mass ``q`` on the gold
    class and spreads ``1 - q`` uniformly over the other ``K - 1`` classes, with ``q`` chosen
    so that the target's entropy equals the entropy of the item's human distribution. It
    carries the *amount* of the humans' uncertainty about each item but not its *direction*
    (which classes they hesitated between), and its mode is always the gold label.

    ``H(q) = -q log q - (1 - q) log((1 - q) / (K - 1))`` decreases strictly from ``log K`` at
    ``q = 1/K`` to 0 at ``q = 1``, so ``q`` is unique; it is found by vectorised bisection
    (to about 1e-15). Unanimous items get the one-hot gold label, items whose humans are
    uniform get the uniform target. ``q`` is solved on the entropy deficit ``log K - H``
    (the divergence to the uniform distribution), which keeps it accurate to about 1e-15 also
    for near-uniform rows.

    See Also
    --------
    ShuffledHumanLabels : the class-level structure of the human labels without the items'.
    LabelSmoothing : the same amount of smoothing for every item.
    ModeAlignedHumanLabels : the human distribution (amount and direction) with the gold mode.

    Examples
    --------
    >>> import numpy as np
    >>> human = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    >>> Y = EntropyMatchedSmoothing().make_targets(None, np.array([2, 1]), human=human,
    ...                                            n_classes=3)
    >>> Y.round(4)  # entropy log 2 for the first, 0 for the unanimous second
    array([[0.1135, 0.1135, 0.7729],
           [0.    , 1.    , 0.    ]])
    """

    needs_human = True

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        human = _require_human(self, human)
        gold = np.asarray(gold, dtype=np.intp)
        if n_classes < 2:
            return one_hot(gold, n_classes)
        q = entropy_matched_gold_mass(human, n_classes)
        Y = np.repeat(((1.0 - q) / (n_classes - 1))[:, None], n_classes, axis=1)
        Y[np.arange(gold.shape[0]), gold] = q
        return Y
