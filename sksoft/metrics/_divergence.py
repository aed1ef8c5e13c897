"""Proper scores and divergences between targets and predicted distributions."""

import numpy as np

from .._deprecation import deprecated_alias
from .._targets import is_soft_target
from .._validation import check_sample_weight, check_scalar
from . import _kernels
from ._bootstrap import check_bootstrap
from ._compute import compute_stats
from ._formulas import metric_columns
from ._intervals import metric_range, metric_value, percentile_interval, spearman_replicates

__all__ = [
    "accuracy_score",
    "brier_score_loss",
    "log_loss",
    "kl_divergence",
    "jensen_shannon_divergence",
    "total_variation",
    "entropy",
    "entropy_correlation",
    "spearman_correlation",
]


_PARAMS = """Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes, or classes named by ``labels``) or label distributions.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (dask arrays, memmaps and chunk iterators are evaluated out
        of core).
    labels : array-like, optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
    sample_weight : array-like of shape (n_samples,) or float, optional
{eps}    n_bootstrap : int, default=0
        With ``B > 0`` the result is an :class:`Estimate` (a float with ``.low``, ``.high``,
        ``.se``) from ``B`` bootstrap replicates: the basic (reverse-percentile) interval, as
        ``calibration_report``'s default (see :func:`calibration_report`).
    confidence : float, default=0.95
        Level of the interval.
    random_state : int, RandomState or Generator, optional
        Seeds the bootstrap.
    clusters : array-like of shape (n_samples,), optional
        Resample these clusters instead of rows.

    Returns
    -------
    float, or Estimate with ``n_bootstrap``
"""
_EPS = """    eps : float, optional
        Lower clipping of ``y_prob`` inside the logarithm, in ``[0, 1 / n_classes)``
        (default: the machine epsilon of ``y_prob``'s dtype).
"""


def _documented(eps=False):
    """Fill the ``{params}`` of a score's docstring with the parameters all scores share."""
    def deco(fn):
        fn.__doc__ = fn.__doc__.replace("{params}", _PARAMS.format(eps=_EPS if eps else ""))
        return fn
    return deco


def _mean_of(name, y_true, y_prob, sample_weight, labels, boot, eps=None):
    """The weighted mean of a score (``name`` a metric of :func:`metric_columns`), a float or,
    with ``boot = (n_bootstrap, confidence, random_state, clusters)``, an Estimate."""
    n_bootstrap, confidence, random_state, clusters = boot
    n_bootstrap, confidence, _ = check_bootstrap(n_bootstrap, confidence, random_state)
    stats = compute_stats(y_true, y_prob, n_bins=1, labels=labels, sample_weight=sample_weight,
                          want_scores=True, eps=eps, n_bootstrap=n_bootstrap,
                          random_state=random_state, clusters=clusters)

    def column(top, cls, sums, **_):
        return metric_columns(top, None, sums)[name]

    return metric_value(stats, column, confidence, interval="basic",
                        bounds=metric_range(name))


@_documented()
def accuracy_score(y_true, y_prob, *, labels=None, sample_weight=None, n_bootstrap=0,
                   confidence=0.95, random_state=None, clusters=None):
    """Top-label accuracy of probabilistic predictions, soft-aware.

    With hard labels, the fraction of rows whose argmax is the label. With soft labels, the mean
    probability mass that the target puts on the predicted class (the expected accuracy against
    a random annotator), ``mean_i y_true[i, argmax y_prob[i]]``. Higher is better. Unlike
    scikit-learn's ``accuracy_score`` it takes probabilities (the argmax is the prediction).
    (Called ``accuracy`` before sksoft 0.2.)

    {params}
    See Also
    --------
    sklearn.metrics.accuracy_score : The same for hard labels and hard predictions.

    Examples
    --------
    >>> import numpy as np
    >>> round(accuracy_score(np.array([[0.7, 0.3], [0.2, 0.8]]), np.array([[0.6, 0.4], [0.9, 0.1]])), 4)
    0.45
    """
    return _mean_of("accuracy", y_true, y_prob, sample_weight, labels,
                    (n_bootstrap, confidence, random_state, clusters))


@_documented()
def brier_score_loss(y_true, y_prob, *, labels=None, sample_weight=None, n_bootstrap=0,
                     confidence=0.95, random_state=None, clusters=None):
    """Multiclass Brier score: mean over items of ``sum_k (y_prob[i, k] - y_true[i, k])^2``.

    Not halved (ranges over [0, 2]), also for two classes: scikit-learn's
    ``brier_score_loss`` halves it on binary problems by default (``scale_by_half="auto"``),
    so there this is ``brier_score_loss(..., scale_by_half=False)``. Lower is better.
    (Called ``brier_score`` before sksoft 0.2.)

    {params}
    See Also
    --------
    sklearn.metrics.brier_score_loss : The same for hard labels.

    References
    ----------
    .. [1] G. W. Brier, "Verification of forecasts expressed in terms of probability",
       Monthly Weather Review 78(1), 1950.

    Examples
    --------
    >>> import numpy as np
    >>> round(brier_score_loss([0, 1], np.array([[0.8, 0.2], [0.4, 0.6]])), 4)
    0.2
    """
    return _mean_of("brier", y_true, y_prob, sample_weight, labels,
                    (n_bootstrap, confidence, random_state, clusters))


@_documented(eps=True)
def log_loss(y_true, y_prob, *, labels=None, sample_weight=None, eps=None, n_bootstrap=0,
             confidence=0.95, random_state=None, clusters=None):
    """Cross-entropy in nats: NLL for hard targets, ``-sum_k t_k log p_k`` for soft ones.

    Probabilities are clipped from below at ``eps`` inside the logarithm (default: the machine
    epsilon of ``y_prob``'s dtype, as scikit-learn's ``log_loss``), so a zero probability on a
    target class costs ``-log(eps)`` instead of infinity. Lower is better. (Called
    ``cross_entropy`` before sksoft 0.2.)

    {params}
    See Also
    --------
    sklearn.metrics.log_loss : The same for hard labels.
    kl_divergence : The cross-entropy less the target's entropy.

    Examples
    --------
    >>> import numpy as np
    >>> round(log_loss([0, 1], np.array([[0.5, 0.5], [0.2, 0.8]])), 4)
    0.4581
    """
    return _mean_of("cross_entropy", y_true, y_prob, sample_weight, labels,
                    (n_bootstrap, confidence, random_state, clusters), eps=eps)


@_documented(eps=True)
def kl_divergence(y_true, y_prob, *, labels=None, sample_weight=None, eps=None, n_bootstrap=0,
                  confidence=0.95, random_state=None, clusters=None):
    """Mean ``KL(y_true || y_prob)`` in nats (cross-entropy minus the target entropy).

    Uses the same clipping as :func:`log_loss`. Equals the NLL for hard targets.

    {params}
    Examples
    --------
    >>> import numpy as np
    >>> round(kl_divergence(np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])), 4)
    0.5108
    """
    return _mean_of("kl_divergence", y_true, y_prob, sample_weight, labels,
                    (n_bootstrap, confidence, random_state, clusters), eps=eps)


@_documented()
def jensen_shannon_divergence(y_true, y_prob, *, labels=None, sample_weight=None, n_bootstrap=0,
                              confidence=0.95, random_state=None, clusters=None):
    """Mean Jensen-Shannon divergence in nats (bounded by log 2), no clipping needed.

    {params}
    Examples
    --------
    >>> import numpy as np
    >>> round(jensen_shannon_divergence([0], np.array([[0.0, 1.0]])), 4)
    0.6931
    """
    return _mean_of("jensen_shannon", y_true, y_prob, sample_weight, labels,
                    (n_bootstrap, confidence, random_state, clusters))


@_documented()
def total_variation(y_true, y_prob, *, labels=None, sample_weight=None, n_bootstrap=0,
                    confidence=0.95, random_state=None, clusters=None):
    """Mean total-variation distance ``0.5 * sum_k |y_true - y_prob|`` (in [0, 1]).

    {params}
    Examples
    --------
    >>> import numpy as np
    >>> total_variation([0], np.array([[0.75, 0.25]]))
    0.25
    """
    return _mean_of("total_variation", y_true, y_prob, sample_weight, labels,
                    (n_bootstrap, confidence, random_state, clusters))


# The names before sksoft 0.2, when they broke scikit-learn's *_score / *_loss convention.
accuracy = deprecated_alias(accuracy_score, "accuracy")
brier_score = deprecated_alias(brier_score_loss, "brier_score")
cross_entropy = deprecated_alias(log_loss, "cross_entropy")


def entropy(y_prob, *, sample_weight=None, average=True):
    """Shannon entropy (nats) of each row of a probability matrix, or their weighted mean.

    Examples
    --------
    >>> import numpy as np
    >>> entropy(np.array([[0.5, 0.5], [1.0, 0.0]]), average=False).round(4).tolist()
    [0.6931, 0.0]
    """
    check_scalar(average, "average", "boolean")
    n = np.shape(y_prob)[0] if np.ndim(y_prob) >= 1 else 0
    stats = compute_stats(np.zeros(n, dtype=np.intp), y_prob, n_bins=1,
                          sample_weight=sample_weight, want_scores=True, want_entropy=True,
                          row_entropy=not average)
    if average:
        return stats.mean_of("entropy_pred")
    return stats.rows.hpred


# Entropies equal in exact arithmetic (e.g. of vote distributions that are permutations of each
# other) may differ in their last bits depending on the order of summation; values this close
# (relative) are ranked as ties.
_TIE_RTOL = 1e-12


def _average_ranks(x, rtol=_TIE_RTOL):
    """Ranks 1..n of ``x`` with ties (values within ``rtol``, relative) sharing their average rank.

    Like ``scipy.stats.rankdata(x)`` (method "average") when the tied values are equal; the
    order within a tie group does not matter, so the sort need not be stable.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return np.zeros(0)
    if n >= 1000:
        ranks = _kernels.average_ranks(x, rtol)  # bucket sort, O(n); None: range too narrow
        if ranks is not None:
            return ranks
    order = np.argsort(x)
    xs = x[order]
    gap = np.diff(xs) > rtol * np.maximum(np.abs(xs[1:]), np.abs(xs[:-1]))
    starts = np.concatenate([[0], np.flatnonzero(gap) + 1])
    ends = np.append(starts[1:], n)
    ranks = np.empty(n)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def _weighted_spearman(a, b, w):
    ra, rb = _average_ranks(a), _average_ranks(b)
    if ra.shape[0] < 2 or np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return float("nan")  # a constant side: the correlation is undefined
    if w is None:
        w = np.ones_like(ra)
    w = w / w.sum()
    ma, mb = np.sum(w * ra), np.sum(w * rb)
    va, vb = np.sum(w * (ra - ma) ** 2), np.sum(w * (rb - mb) ** 2)
    if va <= 0 or vb <= 0:
        return float("nan")
    return float(np.sum(w * (ra - ma) * (rb - mb)) / np.sqrt(va * vb))


def spearman_correlation(x, y, *, sample_weight=None):
    """Spearman's rank correlation of two 1-D arrays, tie-aware.

    Ties get their average rank; values within 1e-12 of each other (relative) are ties (see
    :func:`entropy_correlation`). With ``sample_weight``, the weighted Pearson correlation of
    the ranks. NaN when either side is constant or has fewer than two values.

    Examples
    --------
    >>> spearman_correlation([1.0, 2.0, 3.0], [0.3, 0.2, 0.1])
    -1.0
    """
    a = np.asarray(x)
    b = np.asarray(y)
    for name, v in (("x", a), ("y", b)):
        if v.dtype.kind not in "iufb":
            raise TypeError(f"{name} must be numeric; got dtype {v.dtype}.")
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-D; got shape {v.shape}.")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} contains NaN or infinity.")
    if a.shape != b.shape:
        raise ValueError(f"x and y must have the same length; got {a.shape[0]} and {b.shape[0]}.")
    if a.shape[0] == 0:
        raise ValueError("x is empty: it has 0 samples.")
    w = check_sample_weight(sample_weight, a.shape[0], scale_free=True)
    return _weighted_spearman(a.astype(np.float64), b.astype(np.float64), w)


def entropy_correlation(y_true, y_prob, *, sample_weight=None, groups=None, n_bootstrap=0,
                        confidence=0.95, random_state=None, clusters=None):
    """Spearman correlation between target entropy and predicted entropy, item by item.

    How well a model mirrors human uncertainty: high when the items the annotators disagree on
    are the items the model is unsure about. Requires soft ``y_true``. Ties get average ranks,
    and entropies within 1e-12 of each other (relative) are ties: those of permuted vote
    distributions are equal in exact arithmetic but may differ in their last bits. With
    ``sample_weight`` the weighted Pearson correlation of the ranks is returned. NaN when either
    entropy is constant (e.g. all targets unanimous).

    Parameters
    ----------
    groups : array-like of shape (n_samples,), optional
        When given, returns a dict ``{group: correlation}``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[1.0, 0.0], [0.5, 0.5], [0.8, 0.2]])
    >>> p = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3]])
    >>> entropy_correlation(t, p)
    1.0
    """
    if not is_soft_target(y_true):
        raise ValueError(
            "entropy_correlation needs soft y_true (an (n, K) matrix of label distributions); "
            "the entropy of hard labels is constant."
        )
    n_bootstrap, confidence, _ = check_bootstrap(n_bootstrap, confidence, random_state)
    stats = compute_stats(
        y_true, y_prob, n_bins=1, sample_weight=sample_weight, groups=groups,
        want_scores=True, row_entropy=True, n_bootstrap=n_bootstrap, random_state=random_state,
        clusters=clusters,
    )

    def value(code):
        rho = _weighted_spearman(*stats.rows.of_group(code)[:3])
        if not n_bootstrap:
            return rho
        return percentile_interval(rho, spearman_replicates(stats, code), confidence)

    if groups is None:
        return value(None)
    return {label.item() if hasattr(label, "item") else label: value(code)
            for code, label in zip(stats.group_codes, stats.group_labels)}
