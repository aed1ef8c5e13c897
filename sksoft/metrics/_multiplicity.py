"""Decisions over many comparisons: multiplicity adjustments, equivalence, detectable sizes,
the paired test of equal spreads, and seed resampling without degenerate replicates.

The primitives a study needs to turn hundreds of paired intervals into verdicts a reviewer
accepts: Holm's step-down adjustment for a declared primary family (family-wise error),
Benjamini-Hochberg q-values for everything else (false discovery rate), the two one-sided
tests (TOST) for a claim of "no change" within a margin, the minimum detectable difference
of an endpoint at the run's size, and the Pitman-Morgan test for the ratio of the spreads of
two paired samples (per-seed values of two label sources share their seeds).
"""

import numbers
from dataclasses import dataclass

import numpy as np

from .._validation import Interval, check_scalar

__all__ = ["PitmanMorganResult", "benjamini_hochberg", "equivalence_test", "holm_adjust",
           "minimum_detectable_difference", "pitman_morgan_test", "seed_resample_counts"]

_LEVEL = Interval(numbers.Real, 0, 1, closed="neither")


def _float_array(x, name, *, low=None, high=None, allow_nan=False):
    """``x`` as a float64 array (a new one), or a clear TypeError / ValueError."""
    try:
        a = np.array(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers; got {type(x).__name__}.") \
            from None
    if np.asarray(x).dtype.kind not in "biuf" and not (np.asarray(x).dtype == object):
        raise TypeError(f"{name} must be an array of numbers; got dtype "
                        f"{np.asarray(x).dtype}.")
    bad = ~np.isfinite(a) & ~(np.isnan(a) if allow_nan else np.zeros(a.shape, bool))
    if bad.any():
        raise ValueError(f"{name} must be finite{' (or NaN)' if allow_nan else ''}.")
    with np.errstate(invalid="ignore"):
        if low is not None and (a < low).any():
            raise ValueError(f"{name} must be >= {low}; got a minimum of {np.nanmin(a)}.")
        if high is not None and (a > high).any():
            raise ValueError(f"{name} must be <= {high}; got a maximum of {np.nanmax(a)}.")
    return a


def holm_adjust(p_values):
    """Holm's step-down adjusted p-values: family-wise error control for any dependence.

    With the ``m`` finite p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted value of
    ``p_(j)`` is ``max_{i <= j} min(1, (m - i + 1) p_(i))``; rejecting where the adjusted
    p-value is below ``alpha`` controls the probability of any false rejection at ``alpha``.
    NaN p-values (comparisons that could not be made) stay NaN and do not count in ``m``.

    Parameters
    ----------
    p_values : array-like of float in [0, 1] (or NaN), any shape

    Returns
    -------
    ndarray of the same shape

    See Also
    --------
    benjamini_hochberg : false discovery rate q-values.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
    Journal of Statistics 6(2), 65-70.

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03, 0.5]).tolist()
    [0.04, 0.09, 0.09, 0.5]
    """
    p = _float_array(p_values, "p_values", low=0.0, high=1.0, allow_nan=True)
    flat = p.ravel()
    out = np.full(flat.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(flat))
    m = ok.size
    if m:
        order = ok[np.argsort(flat[ok], kind="stable")]
        adj = np.minimum(1.0, (m - np.arange(m)) * flat[order])
        out[order] = np.maximum.accumulate(adj)
    return out.reshape(p.shape)


def benjamini_hochberg(p_values):
    """Benjamini-Hochberg q-values: the smallest false discovery rate at which each
    comparison would be declared.

    With the ``m`` finite p-values sorted, ``q_(j) = min_{i >= j} min(1, m p_(i) / i)``
    (equal to ``scipy.stats.false_discovery_control(p, method="bh")`` and to ``statsmodels``'
    ``multipletests(p, method="fdr_bh")``). Valid for independent or positively dependent
    tests. NaN p-values stay NaN and do not count in ``m``.

    Parameters
    ----------
    p_values : array-like of float in [0, 1] (or NaN), any shape

    Returns
    -------
    ndarray of the same shape

    See Also
    --------
    holm_adjust : family-wise error control, for a primary family.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. JRSS B 57(1), 289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    p = _float_array(p_values, "p_values", low=0.0, high=1.0, allow_nan=True)
    flat = p.ravel()
    out = np.full(flat.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(flat))
    m = ok.size
    if m:
        order = ok[np.argsort(flat[ok], kind="stable")]
        q = np.minimum(1.0, m * flat[order] / np.arange(1, m + 1))
        out[order] = np.minimum.accumulate(q[::-1])[::-1]
    return out.reshape(p.shape)


def _quantile_df(df, name):
    if df is None:
        return np.inf
    d = _float_array(df, name, low=0.0)
    if (d <= 0).any():
        raise ValueError(f"{name} must be > 0 (or None: normal quantiles).")
    return d


def equivalence_test(estimate, se, margin, *, df=None):
    """The two one-sided tests (TOST) of ``|difference| < margin``: the p-value of "the
    difference is within the margin".

    ``p = max(P(T > (estimate + margin) / se), P(T < (estimate - margin) / se))`` with ``T``
    normal, or Student t with ``df`` degrees of freedom. Equivalence at level ``alpha`` (p <
    alpha) is the same as the ``1 - 2 alpha`` interval ``estimate +- q se`` lying inside
    ``(-margin, margin)``; only then may a difference be written as "does not change".

    Parameters
    ----------
    estimate, se : float or array-like
        The difference and its standard error (``se > 0``).
    margin : float or array-like
        The equivalence margin, > 0 (declared per metric before the run).
    df : float or array-like, optional
        Degrees of freedom (e.g. :func:`seed_interval`'s); None: normal.

    Returns
    -------
    float or ndarray
        The TOST p-value (NaN where ``se`` is NaN).

    References
    ----------
    Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the power
    approach for assessing the equivalence of average bioavailability. J. Pharmacokinetics and
    Biopharmaceutics 15(6), 657-680.

    Examples
    --------
    >>> round(equivalence_test(0.001, 0.002, 0.01), 4)
    0.0
    >>> round(equivalence_test(0.008, 0.002, 0.01), 4)
    0.1587
    """
    from scipy.stats import norm, t as tdist

    est = _float_array(estimate, "estimate", allow_nan=True)
    s = _float_array(se, "se", low=0.0, allow_nan=True)
    mar = _float_array(margin, "margin", low=0.0)
    if (mar <= 0).any():
        raise ValueError("margin must be > 0.")
    d = _quantile_df(df, "df")
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = (est + mar) / s
        upper = (est - mar) / s
    dist = norm if np.all(np.isinf(d)) else tdist(d)
    p = np.maximum(dist.sf(lower), dist.cdf(upper))
    return float(p) if np.ndim(p) == 0 else p


def minimum_detectable_difference(se, *, alpha=0.05, power=0.8, df=None):
    """The smallest true difference a two-sided test at ``alpha`` detects with probability
    ``power``, given the estimate's standard error: ``(q_{1 - alpha/2} + q_{power}) se``.

    Parameters
    ----------
    se : float or array-like, >= 0
    alpha : float in (0, 1), default=0.05
    power : float in (0, 1), default=0.8
    df : float or array-like, optional
        Degrees of freedom of the t quantiles; None: normal (2.80 se at the defaults).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(minimum_detectable_difference(0.01), 4)
    0.028
    """
    from scipy.stats import norm, t as tdist

    s = _float_array(se, "se", low=0.0, allow_nan=True)
    alpha = check_scalar(alpha, "alpha", _LEVEL)
    power = check_scalar(power, "power", _LEVEL)
    d = _quantile_df(df, "df")
    dist = norm if np.all(np.isinf(d)) else tdist(d)
    out = (dist.ppf(1 - alpha / 2) + dist.ppf(power)) * s
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class PitmanMorganResult:
    """The result of :func:`pitman_morgan_test`.

    Attributes
    ----------
    ratio : float
        ``std(x) / std(y)``.
    low, high : float
        The interval of the ratio (the ratios the test does not reject).
    statistic : float
        The t statistic of the correlation of ``x + y`` and ``x - y``.
    p_value : float
        Two-sided p-value of equal variances.
    df : int
        ``n - 2``.
    """

    ratio: float
    low: float
    high: float
    statistic: float
    p_value: float
    df: int


def pitman_morgan_test(x, y, *, confidence=0.95):
    """The Pitman-Morgan test of equal variances of two *paired* samples, with the interval of
    the ratio of their standard deviations.

    ``Var x = Var y`` exactly when ``x + y`` and ``x - y`` are uncorrelated, so the test is the
    t test of zero Pearson correlation of the sums and differences (``n - 2`` degrees of
    freedom); the interval of ``sd(x) / sd(y)`` collects the ratios ``c`` at which the
    correlation of ``x + c y`` and ``x - c y`` is not rejected. Unlike the F test it allows the
    pairs to be correlated (per-seed values of two sources trained with the same seeds).

    Parameters
    ----------
    x, y : array-like of shape (n,), n >= 3
        Paired values (e.g. a metric per seed for two label sources).
    confidence : float, default=0.95

    Returns
    -------
    PitmanMorganResult

    References
    ----------
    Pitman, E. J. G. (1939). A note on normal correlation. Biometrika 31, 9-12. Morgan, W. A.
    (1939). A test for the significance of the difference between the two variances in a
    sample from a normal bivariate population. Biometrika 31, 13-19.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=20)
    >>> r = pitman_morgan_test(a + rng.normal(0, 0.1, 20), 2 * a)
    >>> round(r.ratio, 2), r.p_value < 0.001, r.high < 1
    (0.5, True, True)
    """
    from scipy.stats import t as tdist

    a = _float_array(x, "x")
    b = _float_array(y, "y")
    if a.ndim != 1 or b.shape != a.shape:
        raise ValueError(f"x and y must be 1-D of the same length; got shapes {a.shape} and "
                         f"{b.shape}.")
    n = a.shape[0]
    if n < 3:
        raise ValueError(f"x and y need at least 3 pairs; got {n}.")
    confidence = check_scalar(confidence, "confidence", _LEVEL)
    sx2, sy2 = np.var(a, ddof=1), np.var(b, ddof=1)
    if not (sx2 > 0 and sy2 > 0):
        raise ValueError("x and y must each vary (a standard deviation of 0 has no ratio).")
    r = np.corrcoef(a, b)[0, 1]
    F = sx2 / sy2
    df = n - 2
    # correlation of the sums and differences: (F - 1) / sqrt((F + 1)^2 - 4 r^2 F)
    rho = (F - 1) / np.sqrt((F + 1) ** 2 - 4 * r * r * F)
    rho = float(np.clip(rho, -1.0, 1.0))
    stat = rho * np.sqrt(df / max(1 - rho * rho, 1e-300))
    p = float(2 * tdist.sf(abs(stat), df))
    t = tdist.ppf(0.5 + confidence / 2, df)
    k = t * t / (df + t * t)                       # rejection: rho^2 > k
    # the ratios lambda = c^2 with rho(lambda)^2 = k: (1 - k) l^2 - 2F(1 + k - 2 k r^2) l
    # + (1 - k) F^2 = 0
    bq = F * (1 + k - 2 * k * r * r)
    disc = max(bq * bq - (1 - k) ** 2 * F * F, 0.0)
    lo = (bq - np.sqrt(disc)) / (1 - k)
    hi = (bq + np.sqrt(disc)) / (1 - k)
    return PitmanMorganResult(ratio=float(np.sqrt(F)), low=float(np.sqrt(lo)),
                              high=float(np.sqrt(hi)), statistic=float(stat), p_value=p,
                              df=int(df))


def seed_resample_counts(n_seeds, n_bootstrap, *, min_distinct=2, random_state=None):
    """Multinomial resampling counts of seeds in which at least ``min_distinct`` distinct
    seeds appear, and how many draws were redrawn to get them.

    A statistic over *pairs of distinct seeds* (prediction churn) is undefined in a replicate
    that draws one seed ``S`` times (a ninth of the replicates at 3 seeds, half at 2). Rather
    than dropping those replicates silently, they are redrawn: the replicates are the
    multinomial draws conditioned on ``min_distinct`` distinct seeds, and the number redrawn
    is returned for the report.

    Parameters
    ----------
    n_seeds : int >= 1
    n_bootstrap : int >= 1
    min_distinct : int, default=2
        At most ``n_seeds``.
    random_state : int, RandomState or Generator, optional

    Returns
    -------
    counts : ndarray of int, shape (n_bootstrap, n_seeds)
        Every row sums to ``n_seeds`` and has at least ``min_distinct`` non-zero entries.
    n_redrawn : int
        Draws rejected (and redrawn) on the way.

    Examples
    --------
    >>> counts, redrawn = seed_resample_counts(3, 1000, random_state=0)
    >>> bool(((counts > 0).sum(axis=1) >= 2).all()), 60 < redrawn < 170
    (True, True)
    """
    n_seeds = check_scalar(n_seeds, "n_seeds", Interval(numbers.Integral, 1, None,
                                                        closed="left"))
    n_bootstrap = check_scalar(n_bootstrap, "n_bootstrap", Interval(numbers.Integral, 1,
                                                                    100_000, closed="both"))
    min_distinct = check_scalar(min_distinct, "min_distinct",
                                Interval(numbers.Integral, 1, None, closed="left"))
    if min_distinct > n_seeds:
        raise ValueError(f"min_distinct must be <= n_seeds = {n_seeds}; got {min_distinct}.")
    check_scalar(random_state, "random_state", "random_state")
    rng = random_state if isinstance(random_state, np.random.Generator) else \
        np.random.default_rng(random_state if not isinstance(random_state,
                                                             np.random.RandomState)
                              else random_state.randint(0, 2**31 - 1))
    p = np.full(n_seeds, 1.0 / n_seeds)
    out = np.empty((0, n_seeds), dtype=np.int64)
    redrawn = 0
    while out.shape[0] < n_bootstrap:
        draw = rng.multinomial(n_seeds, p, size=n_bootstrap - out.shape[0])
        ok = (draw > 0).sum(axis=1) >= min_distinct
        redrawn += int((~ok).sum())
        out = np.vstack([out, draw[ok]])
    return out, redrawn
