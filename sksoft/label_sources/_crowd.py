"""Targets aggregated from the raw annotations of the training rows."""

import numbers

import numpy as np

from .._deprecation import deprecate_positional_args
from .._label_source import LabelSource
from .._targets import one_hot
from .._validation import Interval, Options
from ..annotations import counts_to_soft, dawid_skene, majority_vote, to_counts

__all__ = ["CrowdAggregate"]


class CrowdAggregate(LabelSource):
    """Targets aggregated from raw annotations of the training rows only.

    Parameters
    ----------
    method : {"dawid_skene", "majority", "soft"}, default="dawid_skene"
        Dawid-Skene posteriors (fitted on the training rows' annotations), one-hot majority
        vote (ties: smallest class code), or plain vote fractions.
    prior : float, default=0.0
        Additive smoothing of the vote counts for ``"soft"`` (>= 0).
    max_iter : int, default=100
        For Dawid-Skene.

    Notes
    -----
    Pass the wide ``(n_items, n_annotators)`` votes as ``annotations=`` to ``fit``; they are
    sliced per fold with the other rows. The fit's ``sample_weight`` weights the items of the
    Dawid-Skene fit (see :func:`sksoft.annotations.dawid_skene`); majority votes and vote
    fractions are per item and do not depend on it.

    Examples
    --------
    >>> import numpy as np
    >>> votes = np.array([[0, 0, 1], [1, 1, np.nan]])
    >>> CrowdAggregate(method="soft").make_targets(None, np.array([0, 1]), annotations=votes,
    ...                                            n_classes=2).round(3).tolist()
    [[0.667, 0.333], [0.0, 1.0]]
    """

    needs_annotations = True

    _parameter_constraints = {
        "method": [Options({"dawid_skene", "majority", "soft"})],
        "prior": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    @deprecate_positional_args
    def __init__(self, *, method="dawid_skene", prior=0.0, max_iter=100):
        self.method = method
        self.prior = prior
        self.max_iter = max_iter

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        A = np.asarray(annotations, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != gold.shape[0]:
            raise ValueError(f"annotations must be wide votes with one row per training row "
                             f"({gold.shape[0]}); got shape {A.shape}.")
        if self.method == "dawid_skene":
            return dawid_skene(A, n_classes=n_classes, max_iter=self.max_iter,
                               sample_weight=sample_weight).posteriors
        counts = to_counts(A, n_classes=n_classes)
        if self.method == "majority":
            return one_hot(majority_vote(counts), n_classes)
        return counts_to_soft(counts, prior=self.prior)
