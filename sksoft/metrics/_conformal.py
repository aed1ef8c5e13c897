"""Coverage and size of prediction sets, against gold labels or human label distributions.

A prediction set is a boolean (n, K) matrix (``sets[i, k]``: class ``k`` is in item ``i``'s
set), e.g. from :meth:`sksoft.conformal.ConformalClassifier.predict_set`. Every metric here is
a weighted mean of one value per item, so its bootstrap replicates are the weighted means
under the Poisson weights of :func:`~sksoft.metrics.bootstrap_weights` -- the same weights,
seeded the same way, as every other metric's ``n_bootstrap``.
"""

from dataclasses import dataclass

import numpy as np

from .._targets import check_targets
from .._validation import check_sample_weight
from ._bootstrap import bootstrap_weights, check_bootstrap
from ._intervals import percentile_interval
from ._validation import check_groups

__all__ = ["coverage_score", "mean_set_size", "size_stratified_coverage",
           "SizeStratifiedCoverage"]


def check_sets(y_set, name="y_set"):
    """A boolean (n, K) matrix (booleans, or integers 0 / 1)."""
    if hasattr(y_set, "toarray") and not isinstance(y_set, np.ndarray):
        raise TypeError(f"{name} must be a dense boolean matrix; got a sparse "
                        f"{type(y_set).__name__}.")
    s = np.asarray(y_set)
    if s.dtype.kind not in "biu":
        raise TypeError(f"{name} must be a boolean (n_samples, n_classes) matrix; got dtype "
                        f"{s.dtype}.")
    if s.ndim != 2 or s.shape[1] < 1:
        raise ValueError(f"{name} must be a boolean (n_samples, n_classes) matrix; got shape "
                         f"{s.shape}.")
    if s.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples.")
    if s.dtype.kind != "b":
        if np.any((s != 0) & (s != 1)):
            raise ValueError(f"{name} must hold booleans or 0 / 1.")
        s = s.astype(bool)
    return s


def _covered(y_true, S, labels):
    """Per item: 1 / 0 for a hard label in / out of the set; for a label distribution the
    probability mass the set holds."""
    t = check_targets(y_true, classes=labels, n_classes=S.shape[1], name="y_true",
                      classes_name="labels")
    if t.n_samples != S.shape[0]:
        raise ValueError(f"y_true has {t.n_samples} samples but y_set has {S.shape[0]}.")
    if t.soft:
        return np.einsum("ik,ik->i", np.asarray(t.proba, dtype=np.float64), S)
    return S[np.arange(S.shape[0]), t.codes].astype(np.float64)


def _weighted_mean(values, sample_weight, groups, boot):
    """Float (or Estimate), or a dict per group, of the weighted mean of ``values``."""
    n_bootstrap, confidence, random_state = boot
    n_bootstrap, confidence, _ = check_bootstrap(n_bootstrap, confidence, random_state)
    n = values.shape[0]
    w = check_sample_weight(sample_weight, n, scale_free=True)
    w = np.ones(n) if w is None else w
    codes, group_labels = check_groups(groups, n)
    W = bootstrap_weights(n, n_bootstrap, random_state).astype(np.float64) \
        if n_bootstrap else None

    def one(rows):
        wr, vr = w[rows], values[rows]
        total = wr.sum()
        point = float(np.dot(wr, vr) / total) if total > 0 else float("nan")
        if W is None:
            return point
        Wr = W[:, rows] * wr
        with np.errstate(invalid="ignore", divide="ignore"):
            rep = (Wr @ vr) / Wr.sum(axis=1)
        return percentile_interval(point, rep, confidence)

    if codes is None:
        return one(slice(None))
    out = {}
    for code, label in enumerate(group_labels):
        rows = np.flatnonzero(codes == code)
        if rows.size:
            out[label.item() if hasattr(label, "item") else label] = one(rows)
    return out


_BOOT_DOC = """sample_weight : array-like of shape (n_samples,), optional
    groups : array-like of shape (n_samples,), optional
        When given, a dict ``{group: value}`` (e.g. difficulty bins from
        :func:`difficulty_bins`).
    n_bootstrap : int, default=0
        With ``B > 0`` the result is an :class:`Estimate` (a float with ``.low``, ``.high``,
        ``.se``) from ``B`` Poisson bootstrap replicates of the items.
    confidence : float, default=0.95
        Level of the interval.
    random_state : int, RandomState or Generator, optional
        Seeds the bootstrap."""


def coverage_score(y_true, y_set, *, labels=None, sample_weight=None, groups=None,
                   n_bootstrap=0, confidence=0.95, random_state=None):
    """Coverage of prediction sets: gold labels inside, or human label mass inside.

    With hard labels, the fraction of items whose label is in their set. With label
    distributions (e.g. human vote fractions), the mean probability mass of the distribution
    inside the set -- the probability that a random annotator's label is in the set, the
    quantity Monte Carlo conformal prediction guarantees.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes, or classes named by ``labels``) or label distributions.
    y_set : array-like of bool, shape (n_samples, n_classes)
        Prediction sets.
    labels : array-like of shape (n_classes,), optional
        The class of each column of ``y_set``.
    {boot}

    Returns
    -------
    float, Estimate, or dict of them with ``groups``

    See Also
    --------
    mean_set_size, size_stratified_coverage
    sksoft.conformal.ConformalClassifier : prediction sets with a coverage guarantee.

    Examples
    --------
    >>> import numpy as np
    >>> sets = np.array([[True, False], [True, True], [False, True]])
    >>> coverage_score([0, 1, 0], sets)
    0.6666666666666666
    >>> coverage_score(np.array([[0.8, 0.2], [0.5, 0.5], [0.6, 0.4]]), sets)
    0.7333333333333334
    """
    S = check_sets(y_set)
    values = _covered(y_true, S, labels)
    return _weighted_mean(values, sample_weight, groups, (n_bootstrap, confidence, random_state))


coverage_score.__doc__ = coverage_score.__doc__.replace("{boot}", _BOOT_DOC)


def mean_set_size(y_set, *, sample_weight=None, groups=None, n_bootstrap=0, confidence=0.95,
                  random_state=None):
    """Mean number of classes in the prediction sets (lower is better at equal coverage).

    Parameters
    ----------
    y_set : array-like of bool, shape (n_samples, n_classes)
    {boot}

    Returns
    -------
    float, Estimate, or dict of them with ``groups``

    Examples
    --------
    >>> import numpy as np
    >>> mean_set_size(np.array([[True, False], [True, True]]))
    1.5
    >>> mean_set_size(np.array([[True, False], [True, True]]), groups=["easy", "hard"])
    {'easy': 1.0, 'hard': 2.0}
    """
    S = check_sets(y_set)
    return _weighted_mean(S.sum(axis=1).astype(np.float64), sample_weight, groups,
                          (n_bootstrap, confidence, random_state))


mean_set_size.__doc__ = mean_set_size.__doc__.replace("{boot}", _BOOT_DOC)


@dataclass(frozen=True)
class SizeStratifiedCoverage:
    """Coverage of the items whose set has each size.

    Attributes
    ----------
    sizes : ndarray of int
        The set sizes that occur, ascending.
    coverage : list of float or Estimate
        Coverage of the items with each size.
    counts : ndarray of int
        Number of items with each size.
    worst : float or Estimate
        The smallest coverage over the sizes (the size-stratified coverage metric of
        Angelopoulos et al. 2021): a set predictor with conditional coverage keeps it near
        ``1 - alpha``.
    """

    sizes: np.ndarray
    coverage: list
    counts: np.ndarray
    worst: float


def size_stratified_coverage(y_true, y_set, *, labels=None, sample_weight=None, groups=None,
                             n_bootstrap=0, confidence=0.95, random_state=None):
    """Coverage per set size, and its worst value.

    Marginal coverage can hide sets that under-cover the items where they are small (the
    easy-looking items) and over-cover where they are large. Coverage is as in
    :func:`coverage_score` (gold labels, or human label mass for distributions).

    Parameters
    ----------
    y_true, y_set, labels, sample_weight, n_bootstrap, confidence, random_state
        As in :func:`coverage_score`; each size's interval comes from the same replicates.
    groups : array-like of shape (n_samples,), optional
        When given, a dict ``{group: SizeStratifiedCoverage}`` (e.g. per difficulty bin).

    Returns
    -------
    SizeStratifiedCoverage, or a dict of them with ``groups``

    References
    ----------
    .. [1] Angelopoulos, Bates, Malik and Jordan, "Uncertainty Sets for Image Classifiers
       using Conformal Prediction", ICLR 2021 (size-stratified coverage).

    Examples
    --------
    >>> import numpy as np
    >>> sets = np.array([[True, False], [True, True], [False, True], [True, True]])
    >>> r = size_stratified_coverage([0, 1, 0, 0], sets)
    >>> r.sizes.tolist(), r.coverage, r.counts.tolist(), r.worst
    ([1, 2], [0.5, 1.0], [2, 2], 0.5)
    """
    S = check_sets(y_set)
    values = _covered(y_true, S, labels)
    size = S.sum(axis=1)
    boot = (n_bootstrap, confidence, random_state)
    if groups is None:
        return _by_size(values, size, sample_weight, boot)
    w = check_sample_weight(sample_weight, S.shape[0])
    codes, group_labels = check_groups(groups, S.shape[0])
    out = {}
    for code, label in enumerate(group_labels):
        rows = codes == code
        if rows.any():
            # the other rows get size -1, dropped: every row keeps its bootstrap weights
            out[label.item() if hasattr(label, "item") else label] = _by_size(
                values, np.where(rows, size, -1), w, boot)
    return out


def _by_size(values, size, sample_weight, boot):
    per = _weighted_mean(values, sample_weight, size, boot)
    per.pop(-1, None)
    sizes = np.array(sorted(per), dtype=np.intp)
    coverage = [per[s] for s in sizes.tolist()]
    counts = np.array([np.count_nonzero(size == s) for s in sizes], dtype=np.intp)
    return SizeStratifiedCoverage(sizes=sizes, coverage=coverage, counts=counts,
                                  worst=min(coverage, key=float))

