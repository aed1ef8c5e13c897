"""Seed-level inference that stays valid with few seeds.

A study's estimate is a mean over training seeds of a statistic of the same evaluation items.
Its error has a part that varies between seeds (the seed effect, and the seed-by-item noise)
and a part common to every seed (the items: every seed evaluates the same ones). A bootstrap
that resamples 3 to 5 seeds multinomially underestimates the first part (its percentile
interval of a mean of ``S`` values has the spread of ``(S - 1) / S`` of the variance and the
normal, not the t, quantiles), which is what this module replaces.
"""

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["SeedInterval", "seed_interval"]


@dataclass(frozen=True)
class SeedInterval:
    """The result of :func:`seed_interval` (arrays of the statistics' shape, or floats).

    Attributes
    ----------
    value : the mean over seeds
    low, high : the interval
    se : its standard error, ``sqrt(seed_var + item_var)``
    df : Satterthwaite degrees of freedom of the t quantile (inf: no seed variance)
    seed_var : the between-seed variance of the mean, ``var(seed values) / S``
    item_var : the variance of the mean common to all seeds (from the items)
    confidence : the level
    p_value : two-sided p-value of a mean of 0 (the same t distribution)
    """

    value: object
    low: object
    high: object
    se: object
    df: object
    seed_var: object
    item_var: object
    confidence: float
    p_value: object = None


def seed_interval(values, *, item_se=None, per_item=False, confidence=0.95):
    """Interval of a mean over seeds: a t-interval on the per-seed values with the item-level
    variance added (Satterthwaite degrees of freedom).

    With ``S`` per-seed values ``d_s`` (e.g. the paired difference of two label sources in
    seed ``s``, the mean over folds), the mean ``d = mean_s d_s`` has variance
    ``Var(a)/S + Var(v)/S + Var(u)`` (seed effects ``a``, the seeds' own item noise ``v``,
    the item noise ``u`` common to all seeds because they share the items). The first two are
    estimated by ``seed_var = var(d_s, ddof=1) / S`` (``S - 1`` degrees of freedom), the
    third, ``item_var``, from the items:

    * ``per_item=True``: ``values`` are per-item statistics ``x[s, i]`` of a metric that is a
      mean over items (NLL, Brier, KL, accuracy) and ``item_var`` is the mean over pairs of
      distinct seeds of ``cov_i(x_s, x_t) / n``: the item variance the seeds share, unbiased
      and not counting the seed-by-item noise twice.
    * ``item_se``: the item-level standard error of the seed-averaged statistic with the seeds
      held fixed (e.g. of an item bootstrap of a binned error, every seed with weight 1);
      it contains ``Var(v) / S`` again, so the interval is slightly conservative.

    The interval is ``d +- t_{df} se`` with ``se^2 = seed_var + item_var`` and ``df = (se^2)^2 /
    (seed_var^2 / (S - 1))``: the t quantile of ``S - 1`` degrees of freedom when seeds dominate,
    the normal one when items do. It is the seed-level analysis of the study's crossed design
    (seeds x items) and needs at least two seeds.

    Parameters
    ----------
    values : array-like of shape (S, ...) or, with ``per_item``, (S, n_items, ...)
        Per-seed statistics (any trailing shape: metrics, bins), or per-item ones.
    item_se : float or array-like, optional
        The item-level standard error of the seed mean (trailing shape of ``values``); not
        with ``per_item``. Without either, the items' variance is left out (only right when
        every seed sees fresh items).
    per_item : bool, default=False
    confidence : float, default=0.95

    Returns
    -------
    SeedInterval

    References
    ----------
    Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance
    components. Biometrics Bulletin 2(6), 110-114.

    Examples
    --------
    >>> import numpy as np
    >>> r = seed_interval(np.array([0.010, 0.014, 0.012]), item_se=0.001)
    >>> round(float(r.value), 3), bool(r.low < 0.012 < r.high), round(float(r.df), 1)
    (0.012, True, 6.1)
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(0.0, 1.0, (5, 400))           # 5 seeds x 400 items
    >>> r = seed_interval(x, per_item=True)
    >>> bool(r.low < 0 < r.high)
    True
    """
    from scipy.stats import t as tdist

    from .._validation import Interval, check_scalar

    check_scalar(per_item, "per_item", "boolean")
    confidence = float(check_scalar(confidence, "confidence",
                                    Interval(numbers.Real, 0, 1, closed="neither")))
    from ._multiplicity import _float_array

    x = _float_array(values, "values")
    if x.ndim < (2 if per_item else 1):
        raise ValueError(f"values must have shape (S, {'n_items, ' if per_item else ''}...); "
                         f"got shape {x.shape}.")
    S = x.shape[0]
    if S < 2:
        raise ValueError(f"values needs at least 2 seeds along its first axis; got {S}.")
    if per_item:
        if item_se is not None:
            raise ValueError("item_se is computed from the items with per_item=True: "
                             "give one of them.")
        n = x.shape[1]
        if n < 2:
            raise ValueError(f"values needs at least 2 items with per_item=True; got {n}.")
        d_s = x.mean(axis=1)
        centred = x - d_s[:, None]
        total = centred.sum(axis=0)                     # sum over seeds, per item
        # sum_{s != t} cov_i(x_s, x_t) = sum_i (sum_s c_si)^2 - sum_s sum_i c_si^2
        cross = (total ** 2).sum(axis=0) - (centred ** 2).sum(axis=(0, 1))
        item_var = np.maximum(cross / (S * (S - 1) * (n - 1)), 0.0) / n
    else:
        d_s = x
        if item_se is None:
            item_var = np.zeros(x.shape[1:])
        else:
            se = _float_array(item_se, "item_se", low=0.0)
            item_var = np.broadcast_to(se ** 2, x.shape[1:]).copy()
    value = d_s.mean(axis=0)
    seed_var = d_s.var(axis=0, ddof=1) / S
    var = seed_var + item_var
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(seed_var > 0, var ** 2 / (seed_var ** 2 / (S - 1)), np.inf)
    q = tdist.ppf(0.5 + confidence / 2, df)
    se = np.sqrt(var)
    low, high = value - q * se, value + q * se
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * tdist.sf(np.abs(value) / np.where(se > 0, se, 1.0), df),
                     np.where(value == 0, 1.0, 0.0))

    def out(a):
        a = np.asarray(a, dtype=np.float64)
        return float(a) if a.ndim == 0 else a

    return SeedInterval(value=out(value), low=out(low), high=out(high), se=out(se), df=out(df),
                        seed_var=out(seed_var), item_var=out(item_var), confidence=confidence,
                        p_value=out(p))
