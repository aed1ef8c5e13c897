"""Item difficulty from label distributions, and tie-robust difficulty bins."""

import numpy as np

from .._targets import check_probability_matrix, validate_rows
from .._validation import check_sample_weight
from ._binning import equal_mass_edges
from ._divergence import entropy
from ._validation import check_choice, check_n_bins

__all__ = ["difficulty_scores", "difficulty_bins"]


def difficulty_scores(y_soft, *, score="entropy"):
    """Per-item difficulty of soft labels, oriented so that higher means harder.

    Parameters
    ----------
    y_soft : array-like of shape (n_samples, n_classes)
        Label distributions (e.g. human vote fractions).
    score : {"entropy", "margin", "max_prob"}, default="entropy"
        ``"entropy"``: Shannon entropy in nats; ``"margin"``: ``1 - (p_(1) - p_(2))``, one minus
        the gap between the two largest probabilities; ``"max_prob"``: ``1 - max_k p_k``.

    Returns
    -------
    ndarray of float64, shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1.0, 0.0, 0.0], [0.5, 0.3, 0.2]])
    >>> difficulty_scores(y, score="margin").round(3).tolist()
    [0.0, 0.8]
    """
    check_choice(score, "score", ("entropy", "margin", "max_prob"))
    p = check_probability_matrix(y_soft, name="y_soft")
    if score == "entropy":
        try:
            return entropy(p, average=False)
        except ValueError as exc:
            raise ValueError(str(exc).replace("y_prob", "y_soft")) from None
    validate_rows(p, "y_soft")
    p = p.astype(np.float64, copy=False)
    if score == "max_prob":
        return 1.0 - p.max(axis=1)
    if p.shape[1] < 2:
        return np.ones(p.shape[0])
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def difficulty_bins(scores, *, n_bins=5, strategy="quantile", sample_weight=None):
    """Assign items to difficulty bins.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Difficulty scores (e.g. from :func:`difficulty_scores`), finite.
    n_bins : int, default=5
        Maximum number of bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        ``"quantile"``: equal-mass bins by :func:`~sksoft.metrics.equal_mass_edges`, which never
        splits tied scores. Real human labels have heavy ties -- 44% of CIFAR-10H images are
        unanimous (entropy exactly 0). Plain quantiles would put several edges on 0 and merge
        the unanimous items with the next ones; here the tied zeros form a bin of their own
        (44% of the items) and the remaining items are split evenly over the remaining
        ``n_bins - 1`` bins (14% each). When there are fewer distinct scores than bins, fewer
        bins are returned. ``"uniform"``: equal-width bins between the smallest and largest
        score.

    Returns
    -------
    bin_ids : ndarray of intp, shape (n_samples,)
        Bin of each item, 0 = easiest. Bin ``b`` holds ``edges[b] <= score < edges[b+1]``, the
        last bin is closed.
    edges : ndarray of float64, shape (n_bins_used + 1,)

    Examples
    --------
    >>> import numpy as np
    >>> ids, edges = difficulty_bins(np.array([0., 0., 0., 0., .1, .2, .3, .4]), n_bins=3)
    >>> ids.tolist(), edges.tolist()
    ([0, 0, 0, 0, 1, 1, 2, 2], [0.0, 0.1, 0.3, 0.4])
    """
    n_bins = check_n_bins(n_bins)
    check_choice(strategy, "strategy", ("quantile", "uniform"))
    s = np.asarray(scores)
    if s.dtype.kind not in "iufb":
        raise TypeError(f"scores must be numeric; got dtype {s.dtype}.")
    s = s.astype(np.float64, copy=False)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D; got shape {s.shape}.")
    if s.shape[0] == 0:
        raise ValueError("scores is empty.")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contains NaN or infinity.")
    w = check_sample_weight(sample_weight, s.shape[0], scale_free=True)
    if strategy == "uniform":
        lo, hi = float(s.min()), float(s.max())
        edges = np.linspace(lo, hi, n_bins + 1) if hi > lo else np.array([lo, hi])
    else:
        edges = equal_mass_edges(s, n_bins, w)
    nb = edges.shape[0] - 1
    ids = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, nb - 1).astype(np.intp)
    return ids, edges
