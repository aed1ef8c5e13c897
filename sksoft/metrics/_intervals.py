"""Point estimates with bootstrap intervals: the replicates of every metric, vectorised.

A :class:`CalibrationStats` built with ``n_bootstrap > 0`` carries the bootstrap statistics of
:mod:`sksoft.metrics._bootstrap`; :func:`replicate_columns` turns them into the replicates of
every metric (overall and per group) with the same formulas as the point estimates
(:mod:`sksoft.metrics._formulas`), and :func:`bootstrap_interval` into intervals.

Interval methods (``interval=`` of the metric functions and :func:`calibration_report`)
---------------------------------------------------------------------------------------
Let ``theta`` be the estimate, ``t0`` the value of the estimated quantity in the bootstrap
world (the plug-in value of the data: ``theta`` itself for a plug-in statistic, the plug-in
error for a debiased one), ``q_a`` the quantiles of the replicates and ``m`` their mean.

* ``"percentile"`` -- ``[q_lo, q_hi]``. Right for an unbiased, symmetric statistic; for a
  biased plug-in (binned ECE) the replicates carry the bias twice (the data's and the
  resample's), and the interval sits where the estimator's expectation would be, not the truth.
* ``"basic"`` -- the reverse-percentile (pivotal) interval ``[theta - (q_hi - t0), theta - (q_lo
  - t0)]`` (Davison & Hinkley 1997, eq. 5.6): it subtracts the bootstrap estimate of the bias
  and, for the debiased errors (``t0`` the plug-in), is centred where the debiased estimator is.
* ``"bias_corrected"`` -- the percentile interval moved by the bootstrap bias estimate
  ``m - t0``: ``[q_lo, q_hi] + theta - m - (m - t0)`` (centre ``theta - (m - t0)``, the
  percentile's orientation of skew).

``"auto"`` (the default of the metric functions) picks, per metric, the method that covers
best in ``benchmarks/coverage_harness.py``: ``"bias_corrected"`` for the debiased L2 errors,
``"basic"`` for every other. Bounded quantities (errors, scores, accuracies) have their
intervals clipped to their range.
"""

import warnings

import numpy as np

from ._bootstrap import sums_from_vectors
from ._formulas import hard_variance, metric_columns
from ._pass import FIELD

__all__ = ["Estimate", "INTERVALS", "bootstrap_interval", "bootstrap_p_value", "check_interval",
           "metric_range",
           "metric_value", "resolve_interval",
           "percentile_interval", "point_tables",
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


#: the interval methods
INTERVALS = ("basic", "bias_corrected", "percentile")
#: the metrics whose default (``interval="auto"``) is the bias-corrected interval: the
#: debiased errors, whose value 0 is at the edge of their range (benchmarks/coverage_harness.py)
_BIAS_CORRECTED = ("rmsce_debiased", "classwise_rmsce_debiased")
#: the range of every bounded metric (intervals are clipped to it); the rest are unbounded
_RANGES = {"accuracy": (0.0, 1.0), "entropy_pearson": (-1.0, 1.0),
           "entropy_correlation": (-1.0, 1.0), "signed_ece": (-1.0, 1.0)}


def metric_range(name):
    """(low, high) that an interval of metric ``name`` is clipped to: [-1, 1] for correlations
    and the signed ECE, [0, 1] for accuracy, [0, inf) for every other (error, score)."""
    return _RANGES.get(name, (0.0, np.inf))


def check_interval(interval):
    """Check the ``interval`` option (``"auto"`` or one of :data:`INTERVALS`)."""
    from ._validation import check_choice

    check_choice(interval, "interval", ("auto",) + INTERVALS)
    return interval


def resolve_interval(interval, name):
    """The method of ``interval`` for metric ``name``: ``"auto"`` is the one that covers best
    in ``benchmarks/coverage_harness.py`` -- bias-corrected for the debiased errors, basic for
    every other metric."""
    if interval != "auto":
        return interval
    return "bias_corrected" if name in _BIAS_CORRECTED else "basic"


def bootstrap_interval(point, replicates, confidence, *, method="basic", center=None, axis=0,
                       bounds=None):
    """(Estimate, or arrays (low, high, se)) from bootstrap replicates along ``axis``.

    Parameters
    ----------
    point : float or ndarray or None
        The estimate (the replicates' shape without ``axis``). None: the percentile interval
        only (needs no point).
    replicates : ndarray
    confidence : float
    method : {"basic", "bias_corrected", "percentile"}
        See the module docstring.
    center : float or ndarray, optional
        The quantity's value in the bootstrap world, ``t0``: the plug-in value of the data.
        Default: ``point`` (a plug-in statistic). For a debiased estimator, its plug-in.
    axis : int
    bounds : (low, high), optional
        The quantity's range: the interval is clipped to it.

    Returns
    -------
    Estimate for a scalar ``point``, else (low, high, se); NaN where fewer than two
    replicates are finite. ``se`` is the standard deviation of the finite replicates.
    """
    rep = np.asarray(replicates, dtype=np.float64)
    n_finite = np.isfinite(rep).sum(axis=axis)  # the replicates kept (empty resamples: NaN)
    if method == "percentile" or point is None:
        out = percentile_interval(point, rep, confidence, axis=axis)
        lo, hi, se = (out.low, out.high, out.se) if isinstance(out, Estimate) else out
    else:
        theta = np.asarray(point, dtype=np.float64)
        t0 = theta if center is None else np.asarray(center, dtype=np.float64)
        finite = np.isfinite(rep)
        clean = np.where(finite, rep, np.nan)
        q = [50 * (1 - confidence), 50 * (1 + confidence)]
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            qlo, qhi = np.nanpercentile(clean, q, axis=axis)
            se = np.nanstd(clean, axis=axis, ddof=1)
            m = np.nanmean(clean, axis=axis)
        if method == "basic":
            lo, hi = theta - (qhi - t0), theta - (qlo - t0)
        elif method == "bias_corrected":
            shift = theta - m - (m - t0)
            lo, hi = qlo + shift, qhi + shift
        else:
            raise ValueError(f"interval must be one of {INTERVALS}; got {method!r}.")
        bad = (finite.sum(axis=axis) < 2) | ~np.isfinite(theta) | ~np.isfinite(t0)
        lo, hi, se = (np.where(bad, np.nan, x) for x in (lo, hi, se))
    if bounds is not None:
        with np.errstate(invalid="ignore"):
            lo = np.where(np.isfinite(lo), np.clip(lo, bounds[0], bounds[1]), lo)
            hi = np.where(np.isfinite(hi), np.clip(hi, bounds[0], bounds[1]), hi)
    if np.ndim(lo) == 0 and point is not None and np.ndim(point) == 0:
        return Estimate(point, low=float(lo), high=float(hi), se=float(se),
                        confidence=confidence, n_replicates=n_finite)
    return lo, hi, se


def bootstrap_p_value(point, replicates, *, method="basic", center=None, axis=0, null=0.0):
    """Two-sided bootstrap p-value of ``value == null``, dual to :func:`bootstrap_interval`:
    the smallest ``1 - confidence`` at which the interval of the same ``method`` excludes
    ``null``.

    With the replicates' empirical distribution ``F`` and ``x`` the point at which the
    interval's end crosses ``null`` -- ``theta - null + t0`` for ``"basic"`` (replicates
    pivoted about ``t0``), ``null - (theta - m - (m - t0))`` for ``"bias_corrected"`` and
    ``null`` for ``"percentile"`` -- ``p = 2 min(#(rep <= x) + 1, #(rep >= x) + 1) / (B + 1)``,
    at most 1 (the ``+ 1`` keeps it above 0 with ``B`` replicates; its resolution is about
    ``2 / B``). NaN where fewer than two replicates are finite.

    Parameters are as in :func:`bootstrap_interval` (``point`` required).

    Returns
    -------
    float or ndarray (the shape without ``axis``)
    """
    rep = np.moveaxis(np.asarray(replicates, dtype=np.float64), axis, 0)
    theta = np.asarray(point, dtype=np.float64)
    t0 = theta if center is None else np.asarray(center, dtype=np.float64)
    finite = np.isfinite(rep)
    B = finite.sum(axis=0)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m = np.nanmean(np.where(finite, rep, np.nan), axis=0)
    if method == "basic":
        x = theta - null + t0
    elif method == "bias_corrected":
        x = null - (theta - m - (m - t0))
    elif method == "percentile":
        x = np.full(theta.shape, float(null))
    else:
        raise ValueError(f"interval must be one of {INTERVALS}; got {method!r}.")
    below = (finite & (rep <= x)).sum(axis=0)
    above = (finite & (rep >= x)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.minimum(1.0, 2.0 * (np.minimum(below, above) + 1) / (B + 1))
    p = np.where((B < 2) | ~np.isfinite(x), np.nan, p)
    return float(p) if np.ndim(p) == 0 else p


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


def metric_value(stats, column, confidence, *, interval="basic", plugin=None, bounds=None):
    """The overall value of one metric, ``column(**tables) -> array over the leading axes``,
    as a float -- or an :class:`Estimate` when ``stats`` carries a bootstrap, with the
    ``interval`` method of :func:`bootstrap_interval` (``plugin``: the column of the plug-in
    quantity a debiased ``column`` estimates, the bootstrap world's value)."""
    tables = point_tables(stats, overall_only=True)
    point = float(column(**tables)[0])
    if stats.boot is None:
        return point
    reps = column(**replicate_tables(stats))[:, 0]
    center = None if plugin is None else float(plugin(**tables)[0])
    return bootstrap_interval(point, reps, confidence, method=interval, center=center,
                              bounds=(0.0, np.inf) if bounds is None else bounds)


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
