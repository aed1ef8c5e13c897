"""Point estimates with bootstrap intervals: the replicates of every metric, vectorised.

A :class:`CalibrationStats` built with ``n_bootstrap > 0`` carries the bootstrap statistics of
:mod:`sksoft.metrics._bootstrap`; :func:`replicate_columns` turns them into the replicates of
every metric (overall and per group) with the same formulas as the point estimates
(:mod:`sksoft.metrics._formulas`), and :func:`percentile_interval` into intervals.
"""

import warnings

import numpy as np

from ._bootstrap import sums_from_vectors
from ._formulas import hard_variance, metric_columns
from ._pass import FIELD

__all__ = ["Estimate", "metric_value", "percentile_interval", "point_tables",
           "replicate_columns", "replicate_tables", "row_replicates", "spearman_replicates"]


class Estimate(float):
    """A metric's value with its bootstrap interval: a ``float`` (the point estimate) with
    attributes ``low``, ``high`` (the percentile interval), ``se`` (the bootstrap standard
    error), ``confidence`` and ``n_replicates`` (the replicates the interval is made of: those
    with a finite value; an empty resample -- no row or cluster drawn with positive weight --
    has none and is dropped, never scored; None when not known).

    Examples
    --------
    >>> e = Estimate(0.12, low=0.1, high=0.15, se=0.013, confidence=0.95)
    >>> float(e), e.low, e.high
    (0.12, 0.1, 0.15)
    >>> e
    0.12 [0.1, 0.15]
    """

    def __new__(cls, value, *, low, high, se, confidence, n_replicates=None):
        obj = super().__new__(cls, value)
        obj.low, obj.high, obj.se, obj.confidence = float(low), float(high), float(se), \
            float(confidence)
        obj.n_replicates = None if n_replicates is None else int(n_replicates)
        return obj

    def __repr__(self):
        return f"{float(self)!r} [{self.low!r}, {self.high!r}]"

    def __reduce__(self):
        return (_estimate, (float(self), self.low, self.high, self.se, self.confidence,
                            self.n_replicates))


def _estimate(value, low, high, se, confidence, n_replicates=None):
    return Estimate(value, low=low, high=high, se=se, confidence=confidence,
                    n_replicates=n_replicates)


def percentile_interval(point, replicates, confidence, axis=0):
    """(Estimate, or array of (low, high, se)) from replicates along ``axis``: the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles and the standard deviation
    of the finite replicates (NaN when fewer than two are finite)."""
    rep = np.asarray(replicates, dtype=np.float64)
    q = [50 * (1 - confidence), 50 * (1 + confidence)]
    finite = np.isfinite(rep).sum(axis=axis)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (all-NaN slices give NaN)
        lo, hi = np.nanpercentile(np.where(np.isfinite(rep), rep, np.nan), q, axis=axis)
        se = np.nanstd(np.where(np.isfinite(rep), rep, np.nan), axis=axis, ddof=1)
    bad = finite < 2
    lo, hi, se = (np.where(bad, np.nan, x) for x in (lo, hi, se))
    if np.ndim(lo) == 0:
        return Estimate(point, low=lo, high=hi, se=se, confidence=confidence,
                        n_replicates=finite)
    return lo, hi, se


def _with_overall(a, axis=1):
    """Prepend the sum over groups (axis ``axis``) to a replicate stack."""
    return np.concatenate([a.sum(axis=axis, keepdims=True), a], axis=axis)


def _replicate_variance(rep, hist, var, simple):
    """Variance terms of replicate bins: exact for unweighted hard labels (a replicate is a
    multiset of rows), else the observed terms scaled by each bin's replicate / observed
    weight."""
    if simple:
        return hard_variance(rep)
    w = hist[..., 0]
    scale = rep[..., 0] / np.where(w > 0, w, 1.0)
    return var * np.where(w > 0, scale, 0.0)[..., None]


def point_tables(stats, *, overall_only=False):
    """The statistics as tables with a leading axis (overall, then each group; or overall
    only)."""
    def lead(a):
        if a is None:
            return None
        if overall_only:
            return a[:1] if a.shape[0] == 1 else a.sum(axis=0, keepdims=True)
        return _with_overall(a, 0)

    return dict(top=lead(stats.top), cls=lead(stats.cls), sums=lead(stats.sums),
                top_var=lead(stats.top_var), cls_var=lead(stats.cls_var))


def replicate_tables(stats):
    """The bootstrap replicates of the statistics, with leading axes (B, 1 + G): overall,
    then each group. (The debiased error's replicate variance terms are exact for unweighted
    hard labels, ``stats.simple``; otherwise the observed terms scaled per bin.)"""
    boot = stats.boot
    B, G = boot.n_bootstrap, stats.n_groups
    top = boot.replicates("top").reshape(B, G, -1, 3)
    sums = boot.replicates("sums")
    if sums is None:
        # metrics without scores: the weights and accuracies of the top-label cells
        sums = np.full((B, G, stats.sums.shape[1]), np.nan)
        sums[..., FIELD["weight"]] = top[..., 0].sum(axis=-1)
        sums[..., FIELD["accuracy"]] = top[..., 2].sum(axis=-1)
    else:
        sums = sums_from_vectors(sums)
    cls = boot.replicates("cls")
    if cls is not None and stats.cls is not None:
        cls = cls.reshape((B,) + stats.cls.shape[:-1] + (3,))
    point = point_tables(stats)
    out = dict(top=_with_overall(top), sums=_with_overall(sums),
               cls=None if cls is None or stats.cls is None else _with_overall(cls),
               top_var=None, cls_var=None)
    if point["top_var"] is not None:
        out["top_var"] = _replicate_variance(out["top"], point["top"], point["top_var"],
                                             stats.simple)
    if out["cls"] is not None and point["cls_var"] is not None:
        out["cls_var"] = _replicate_variance(out["cls"], point["cls"], point["cls_var"],
                                             stats.simple)
    return out


def replicate_columns(stats):
    """Replicates of every metric: dict name -> (B, 1 + G) arrays (overall, then each group)."""
    return metric_columns(**replicate_tables(stats))


def metric_value(stats, column, confidence):
    """The overall value of one metric, ``column(**tables) -> array over the leading axes``,
    as a float -- or an :class:`Estimate` when ``stats`` carries a bootstrap."""
    point = float(column(**point_tables(stats, overall_only=True))[0])
    if stats.boot is None:
        return point
    reps = column(**replicate_tables(stats))[:, 0]
    return percentile_interval(point, reps, confidence)


def spearman_replicates(stats, code):
    """Replicates (B,) of the Spearman entropy correlation of the rows with group code
    ``code`` (None: all rows): the exact, slower path. Every row's Poisson weight in every
    replicate makes it that many copies; ranks are recomputed over the copies (ties share
    their average rank) and correlated with the copies' sample weights, as the point estimate
    does for the data."""
    ht, hp, w, index = stats.rows.of_group(code)
    n = ht.shape[0]
    B = stats.boot.n_bootstrap
    out = np.full(B, np.nan)
    if n < 2:
        return out
    base = np.ones(n) if w is None else w
    ta, pa = _tie_groups(ht), _tie_groups(hp)
    for r, W in _replicate_weights(stats, index):
        out[r] = _weighted_pearson(_ranks(ta, W), _ranks(pa, W), base * W)
    return out


def _replicate_weights(stats, index):
    """(r, Poisson weights of the rows ``index`` in replicate r), a few replicates at a time."""
    B, n = stats.boot.n_bootstrap, index.shape[0]
    step = max(1, min(B, 2**24 // max(n, 1)))
    for r0 in range(0, B, step):
        W = stats.boot.weights(index, r0, min(step, B - r0)).astype(np.float64)
        for j in range(W.shape[0]):
            yield r0 + j, W[j]


def row_replicates(stats, fn, code=None):
    """Replicates of ``fn(rows, sample_weight)`` -- a dict of metrics of the rows with group
    code ``code`` (None: all), indices into the data -- recomputed on every reweighted
    replicate: the exact, slow path of the metrics that are no function of binned sums
    (smooth ECE, CORP decompositions). Returns a dict name -> (B,) array."""
    rows = stats.rows.select(code)
    base = np.ones(rows.shape[0]) if stats.rows.weight is None else stats.rows.weight[rows]
    out = {}
    for r, W in _replicate_weights(stats, stats.rows.index[rows]):
        w = base * W
        if w.sum() <= 0:
            continue
        for name, value in fn(rows, w).items():
            out.setdefault(name, np.full(stats.boot.n_bootstrap, np.nan))[r] = value
    return out


def _tie_groups(x):
    """Tie-group id of every value (values within 1e-12 relative tie, as the point estimate's
    ranks), numbered in increasing order."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    gap = np.diff(xs) > 1e-12 * np.maximum(np.abs(xs[1:]), np.abs(xs[:-1]))
    gid = np.empty(x.shape[0], dtype=np.intp)
    gid[order] = np.concatenate([[0], np.cumsum(gap)])
    return gid


def _ranks(gid, copies):
    """Average ranks of values that appear ``copies`` times each."""
    tot = np.bincount(gid, weights=copies)
    before = np.concatenate([[0.0], np.cumsum(tot)[:-1]])
    return (before + (tot + 1) / 2)[gid]


def _weighted_pearson(ra, rb, w):
    total = w.sum()
    if total <= 0:
        return np.nan
    w = w / total
    ma, mb = np.sum(w * ra), np.sum(w * rb)
    va, vb = np.sum(w * (ra - ma) ** 2), np.sum(w * (rb - mb) ** 2)
    if va <= 1e-300 or vb <= 1e-300:
        return np.nan
    return float(np.sum(w * (ra - ma) * (rb - mb)) / np.sqrt(va * vb))
