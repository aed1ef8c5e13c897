"""Comparisons of two or more prediction sets on the same items: paired differences with
intervals from a hierarchical paired bootstrap.

The prediction sets ("fits") are grouped into *arms* (e.g. the models trained on one label
source), each with fits keyed by (seed, fold) that evaluate subsets of the same ``n`` items.
Every metric (and every difficulty bin) of each arm is estimated as the mean over seeds of the
mean over folds, and compared between arms: the difference ``arm - reference``, with a
percentile interval from a **hierarchical paired bootstrap**. Replicate ``b``

* resamples the seeds: counts ``c_b`` from a multinomial draw of ``S`` out of the ``S`` seeds;
* resamples the evaluation items: item ``i`` gets the Poisson(1) weight ``W[b, i]``
  (:func:`sksoft.metrics.bootstrap_weights`, keyed by the item's index), so that the
  items of every fold are resampled within the fold. Items are crossed with seeds, not nested
  in them -- every seed evaluates every item once -- so an item keeps its weight in every seed
  (independent weights per seed would average the item noise away over seeds and give too
  narrow intervals);
* recomputes every metric of every fit from the fit's per-item quantities with the item
  weights: the calibration errors from replicate bin sums, the scores from replicate sums
  (:class:`sksoft.metrics.CalibrationStats` with one group per item, which gives every row
  exactly its item's weight, and the metric formulas of :mod:`sksoft.metrics`), the
  plurality accuracy as a weighted mean, and the entropy correlation as the Spearman
  correlation of the resampled copies of the items (:func:`copy_rank_correlation`);
* averages over folds within a seed, then over the seeds with weights ``c_b``.

Both arms of a pair get the same resample (they share splits, seeds and items), so the noise
common to both cancels in their difference; an arm compared with an identical copy of itself
gets exactly 0 in every replicate. Only fits (seed, fold) that both arms have are compared.

Grouping: fits may carry key columns besides source, seed and fold (e.g. a training regime);
differences and levels are computed within each combination of those extra keys. Extra keys
named in ``compare_keys`` are compared instead of grouped by: each combination of the source
and those keys is an arm (e.g. a source after a recalibrator), and arms are paired with each
other within each combination of the remaining extra keys.

The stability claims get intervals too: prediction churn (the fraction of items whose
predicted class changes between two seeds) by the same bootstrap (pairs of distinct seeds
weighted by their counts), the std across seeds of a metric by the chi-square interval of a
normal sample's standard deviation, and its ratio to the reference's std by the F interval
(see :func:`seed_std_intervals`).

These are the package-level comparison functions of :mod:`sksoft.metrics` (importable from it,
not in its ``__all__``): :func:`compare_predictions`, :func:`prediction_replicates`,
:func:`copy_rank_correlation`, :func:`seed_std_intervals`, :func:`arm_name` and
:func:`extra_keys`; the ``sksoft study`` command binds them to its vocabulary of metrics.
"""

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from ._bootstrap import bootstrap_weights
from ._difficulty import difficulty_bins, difficulty_scores
from ._divergence import entropy
from ._formulas import metric_columns
from ._intervals import percentile_interval
from ._stats import CalibrationStats

__all__ = ["CHURN", "DIFFERENCE_COLUMNS", "FIT_COLUMNS", "LEVEL_COLUMNS", "arm_name",
           "compare_predictions", "copy_rank_correlation", "extra_keys",
           "prediction_replicates", "seed_std_intervals"]

#: the key columns of every fit
FIT_COLUMNS = ("source", "seed", "fold")
#: the differences table (after the extra key columns, if any)
DIFFERENCE_COLUMNS = ["reference", "source", "metric", "bin", "difference", "low", "high",
                      "se", "holds", "better", "n_seeds", "n_fits"]
#: per-arm values with intervals (after the extra key columns, if any)
LEVEL_COLUMNS = ["source", "metric", "bin", "value", "low", "high", "se"]
#: the name of the prediction churn in levels and differences (a stability claim: lower is
#: more stable)
CHURN = "prediction_churn"
#: entropies within this (relative) tie, as in sksoft.metrics' rank correlations
_TIE_RTOL = 1e-12
_SEED_STREAM = 7


def extra_keys(fits):
    """The key names of ``fits`` besides source, seed and fold, in order of appearance.

    >>> extra_keys([{"keys": {"source": "a", "seed": 0, "fold": 0, "regime": "r"}}])
    ['regime']
    """
    out = []
    for f in fits:
        out += [k for k in f["keys"] if k not in FIT_COLUMNS and k not in out]
    return out


def copy_rank_correlation(x, y, weights):
    """Spearman correlation of the items repeated ``weights[b, i]`` times, for every ``b``.

    The ranks are those of the copies (ties, including values within 1e-12 relative, share
    their average rank), correlated over the copies: replicate ``b`` of the bootstrap of
    :func:`sksoft.metrics.spearman_correlation`. Vectorised over the replicates.

    Parameters
    ----------
    x, y : ndarray of shape (n,)
    weights : ndarray of shape (B, n)
        Non-negative integer (or real) copy counts.

    Returns
    -------
    ndarray of shape (B,)
        NaN where a side is constant over the copies (or there are fewer than two copies).

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import copy_rank_correlation
    >>> x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
    >>> copy_rank_correlation(x, y, np.array([[1, 1, 1], [2, 0, 1]])).round(3).tolist()
    [0.5, 1.0]
    """
    W = np.asarray(weights, dtype=np.float64)
    if W.ndim != 2 or W.shape[1] != np.shape(x)[0] or np.shape(x) != np.shape(y):
        raise ValueError("weights must have shape (B, n) for x and y of shape (n,).")
    if W.shape[1] == 0:
        return np.full(W.shape[0], np.nan)
    return _copy_correlation(W, _copy_side(x, W), _copy_side(y, W))


def _copy_side(x, W):
    """One side of :func:`copy_rank_correlation`: (copies per replicate, their safe
    divisor, the centred ranks, their variance), reusable with any other side of the same
    weights ``W`` (the items' human entropies are one side of every arm's correlation)."""
    r = _copy_ranks(np.asarray(x, dtype=np.float64), W)
    total = W.sum(axis=1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    d = r - (W * r).sum(1, keepdims=True) / safe
    return total, safe, d, (W * d * d).sum(1) / safe[:, 0]


def _copy_correlation(W, side_x, side_y):
    total, safe, dx, vx = side_x
    dy, vy = side_y[2], side_y[3]
    ok = (total[:, 0] >= 2) & (vx > 1e-300) & (vy > 1e-300)
    cov = (W * dx * dy).sum(1) / safe[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(np.where(ok, vx * vy, 1.0))
    return np.where(ok, np.clip(r, -1.0, 1.0), np.nan)


def _copy_ranks(x, W):
    """(B, n) average ranks of the copies of ``x`` (item ``i`` repeated ``W[b, i]`` times)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    gap = np.diff(xs) > _TIE_RTOL * np.maximum(np.abs(xs[1:]), np.abs(xs[:-1]))
    ranks = np.empty_like(W)
    Ws = W[:, order]
    if gap.all():  # no ties: the copies of item i take ranks before + 1 .. before + w_i
        ranks[:, order] = np.cumsum(Ws, axis=1) - (Ws - 1.0) / 2.0
        return ranks
    gid = np.concatenate([[0], np.cumsum(gap)])
    starts = np.concatenate([[0], np.flatnonzero(gap) + 1])
    tot = np.add.reduceat(Ws, starts, axis=1)
    before = np.cumsum(tot, axis=1) - tot
    ranks[:, order] = before[:, gid] + (tot[:, gid] + 1.0) / 2.0
    return ranks


def _row_tables(y, P, n_bins):
    """Every row's own statistics (one group per row): top (m, nb, 3), cls (m, K, nb, 3), sums
    (m, S) and the top-label bins' variance terms (m, nb, 4), from sksoft's pass.

    A replicate weight ``w`` of a row counts it ``w`` times, as a plain bootstrap does, so
    the weighted sum of the rows' variance terms (rows, ``w^2``, ``w^2 a``, ``w^2 a^2`` of
    unit-weight rows) is that of the resampled data: the debiased error of a replicate is
    the one of its resample."""
    m, K = P.shape
    stats = CalibrationStats(K, n_bins=n_bins, classwise=True, n_groups=max(m, 1),
                             variance=True)
    stats.update(y, P, groups=np.arange(m), n_threads=1)
    return stats.top, stats.cls, stats.sums, stats.top_var


def _weighted_tables(rows, WaT, member, n_groups):
    """Replicate statistics (R, 1 + G, ...) of the rows' statistics ``rows`` weighted by
    ``WaT`` (m, R), overall and per group (``member``: (m,) group codes 0..G-1).

    A row's statistics are sparse (one bin per class), so each table is one sparse product:
    row ``i`` is placed in the column block of its group."""
    from scipy.sparse import csr_matrix

    m, R = WaT.shape
    out = []
    for a in rows:
        flat = a.reshape(m, -1)
        F = flat.shape[1]
        nz_r, nz_c = np.nonzero(flat)
        S = csr_matrix((flat[nz_r, nz_c], (member[nz_r] * F + nz_c, nz_r)),
                       shape=(n_groups * F, m))
        groups = np.zeros((R, 1 + n_groups, F))
        groups[:, 1:] = (S @ WaT).T.reshape(R, n_groups, F)
        groups[:, 0] = groups[:, 1:].sum(axis=1)
        out.append(groups.reshape((R, 1 + n_groups) + a.shape[1:]))
    return out


def prediction_replicates(proba, test, gold, human, item_weights, *, metrics, plurality=None,
                          n_difficulty_bins, n_bins, _cache=None):
    """Every metric of one prediction set, overall and per difficulty bin, and its replicates.

    The statistics of every evaluation item (:class:`sksoft.metrics.CalibrationStats` with
    one group per item) are merged with the items' replicate weights -- statistics merge by
    addition, so these are exactly the statistics of the reweighted data -- and turned into
    metrics by sksoft's formulas; the plurality accuracy is a weighted mean, the entropy
    correlation :func:`copy_rank_correlation`.

    Parameters
    ----------
    proba : ndarray (m, K)
        The fit's predictions on its evaluation items ``test`` (indices into the data).
    gold, human : ndarray
        Gold codes (n,) and human distributions (n, K) of all items.
    item_weights : ndarray (n, B)
        The items' bootstrap weights (the transpose of
        :func:`sksoft.metrics.bootstrap_weights`).
    metrics : sequence of (reference, key)
        What to compute, in order: ``reference`` "gold" or "human" with ``key`` a key of
        :func:`sksoft.metrics.calibration_report`'s tables against that reference, or
        ``key`` "entropy_correlation" (the Spearman correlation of the items' human entropy
        with the model's); ``reference`` "plurality" (any key): the agreement of the
        predicted class with ``plurality``.
    plurality : ndarray of int (n,), optional
        The human plurality class of every item (needed for the "plurality" reference).
    n_difficulty_bins, n_bins : int
        The difficulty bins are those of the evaluation items' human entropies
        (:func:`sksoft.metrics.difficulty_bins`), kept fixed in every replicate; ``n_bins``
        are the calibration bins.

    Returns
    -------
    point : ndarray (len(metrics), 1 + G)
        Overall, then per bin 0..G-1 (``G = n_difficulty_bins``; NaN for an empty bin).
    reps : ndarray (len(metrics), B, 1 + G)

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import bootstrap_weights, prediction_replicates
    >>> rng = np.random.default_rng(0)
    >>> H = rng.dirichlet(np.ones(3), 40)
    >>> y, P = H.argmax(1), rng.dirichlet(np.ones(3), 20)
    >>> W = bootstrap_weights(40, 5, random_state=0).T
    >>> point, reps = prediction_replicates(P, np.arange(20), y, H, W,
    ...                                     metrics=[("gold", "accuracy")],
    ...                                     n_difficulty_bins=2, n_bins=10)
    >>> point.shape, reps.shape
    ((1, 3), (1, 5, 3))
    >>> bool(point[0, 0] == (P.argmax(1) == y[:20]).mean())
    True
    """
    test = np.asarray(test, dtype=np.int64)
    P = np.asarray(proba)
    B = item_weights.shape[1]
    G = n_difficulty_bins
    h = human[test]
    ht = difficulty_scores(h)
    ids, _ = difficulty_bins(ht, n_bins=G)
    # replicate 0 is the data itself (unit weights): the point estimate, by the same code;
    # items along the first axis
    WaT = np.empty((test.shape[0], B + 1))
    WaT[:, 0] = 1.0
    WaT[:, 1:] = item_weights[test]
    metrics = list(metrics)
    cols = {}
    for ref, y in (("gold", gold[test]), ("human", h)):
        names = {key for r, key in metrics if r == ref and key != "entropy_correlation"}
        if not names:
            continue
        top, cls, sums, top_var = _row_tables(y, P, n_bins)
        cls = cls if names & {"classwise_ece", "classwise_rmsce_debiased"} else None
        top_var = top_var if "rmsce_debiased" in names else None
        tables = _weighted_tables([t for t in (top, cls, sums, top_var) if t is not None],
                                  WaT, ids, G)
        top, sums = tables[0], tables[2 if cls is not None else 1]
        cls = tables[1] if cls is not None else None
        top_var = tables[-1] if top_var is not None else None
        cols[ref] = metric_columns(top, cls, sums, top_var=top_var, names=names)
    member = np.zeros((test.shape[0], 1 + G))
    member[:, 0] = 1.0
    member[np.arange(test.shape[0]), 1 + ids] = 1.0
    if any(ref == "plurality" for ref, _ in metrics):
        if plurality is None:
            raise ValueError("the plurality reference needs plurality, the human plurality "
                             "class of every item.")
        agree = (P.argmax(axis=1) == np.asarray(plurality)[test]).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            plural = ((agree[:, None] * member).T @ WaT / (member.T @ WaT)).T
    corr = np.full((B + 1, 1 + G), np.nan)
    if any(key == "entropy_correlation" for _, key in metrics):
        hp = entropy(P, average=False)
        # the human side of every group is the same for every prediction set of these items
        # and weights: computed once per (items, group) when a cache is given
        key = None if _cache is None else (test.tobytes(), id(item_weights))
        for j in range(1 + G):
            m = member[:, j] > 0
            if m.sum() < 2:
                continue
            side = None if key is None else _cache.get(key + (j,))
            if side is None:
                W = WaT[m].T
                side = (W, _copy_side(ht[m], W))
                if key is not None:
                    _cache[key + (j,)] = side
            W = side[0]
            corr[:, j] = _copy_correlation(W, side[1], _copy_side(hp[m], W))
    out = np.full((len(metrics), B + 1, 1 + G), np.nan)
    for k, (ref, key) in enumerate(metrics):
        if ref == "plurality":
            out[k] = plural
        elif key == "entropy_correlation":
            out[k] = corr
        else:
            out[k] = cols[ref][key]
    return out[:, 0], out[:, 1:]


def _nanmean(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _seed_values(cells, seeds):
    """Mean over folds within each seed of the fits ``cells`` ({(seed, fold): (point,
    reps)}): (point (S, M, 1+G), reps (S, M, B, 1+G)), NaN for seeds without fits."""
    first = next(iter(cells.values()))
    point = np.full((len(seeds),) + first[0].shape, np.nan)
    reps = np.full((len(seeds),) + first[1].shape, np.nan)
    for s, seed in enumerate(seeds):
        folds = [v for (r, _), v in cells.items() if r == seed]
        if folds:
            point[s] = _nanmean(np.stack([f[0] for f in folds]), 0)
            reps[s] = _nanmean(np.stack([f[1] for f in folds]), 0)
    return point, reps


def _over_seeds(values, counts):
    """Weighted mean over the leading seed axis: ``values`` (S, ...) with ``counts`` (S,) or
    (B, S) (then ``values`` is (S, M, B, 1+G)); NaN seeds are left out."""
    ok = np.isfinite(values)
    v = np.where(ok, values, 0.0)
    if counts.ndim == 1:
        c = counts.reshape((-1,) + (1,) * (values.ndim - 1))
    else:  # (B, S) -> (S, 1, B, 1)
        c = counts.T[:, None, :, None]
    num = (c * v).sum(axis=0)
    den = (c * ok).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _source_order(sources, order):
    known = [s for s in order if s in sources]
    return known + sorted(s for s in sources if s not in known)


def arm_name(keys, compare_keys):
    """The default name of an arm: the source, then ``(key=value, ...)`` of ``compare_keys``.

    >>> from sksoft.metrics import arm_name
    >>> arm_name({"source": "gold", "calibrator": "temperature", "seed": 0}, ("calibrator",))
    'gold (calibrator=temperature)'
    >>> arm_name({"source": "gold"}, ("calibrator",))
    'gold'
    """
    parts = [f"{k}={keys[k]}" for k in compare_keys if k in keys]
    return keys["source"] + (f" ({', '.join(parts)})" if parts else "")


def _as_arms(fits, compare_keys, name):
    """``fits`` with ``source`` naming each arm and the ``compare_keys`` removed."""
    out = []
    for f in fits:
        keys = {k: v for k, v in f["keys"].items() if k not in compare_keys}
        keys["source"] = name(f["keys"]) if name is not None else arm_name(f["keys"],
                                                                           compare_keys)
        out.append({**f, "keys": keys})
    return out


def compare_predictions(fits, gold, human, *, metrics, plurality=None, higher_is_better=(),
                        n_difficulty_bins=3, n_bins=15, n_bootstrap=1000, confidence=0.95,
                        random_state=0, references=(), order=(), compare_keys=(), name=None):
    """Paired differences between arms of prediction sets, and every arm's values, with
    intervals (see the module docstring).

    Parameters
    ----------
    fits : list of dict
        One per fit: ``keys`` (source, seed, fold and any extra keys, plain values),
        ``test`` (indices of the evaluation items) and ``proba`` (their predictions).
    gold, human : ndarray
        Gold codes (n,) and human label distributions (n, K) of all items.
    metrics : dict
        metric name -> (reference, key), in table order (see
        :func:`prediction_replicates`).
    plurality : ndarray of int (n,), optional
        The human plurality class of every item (for the "plurality" reference).
    higher_is_better : collection of str
        The metrics for which higher is better (the ``better`` column); lower is better for
        the others and for the churn.
    n_difficulty_bins, n_bins : int
        As in the study's evaluation.
    n_bootstrap, confidence, random_state
        Replicates of the hierarchical paired bootstrap (see the module docstring), the level
        of the percentile intervals, and the seed (an int).
    references : tuple of str
        The sources every other source is compared with (those present).
    order : tuple of str
        The order of the sources (arms) in the tables.
    compare_keys : tuple of str
        Extra keys that are compared rather than grouped by (see the module docstring): the
        fits of each combination of source and these keys form an arm, named by
        ``name(keys)`` (default :func:`arm_name`), that ``references`` and ``order`` refer to
        and the ``source`` column of the tables holds; the other extra keys still group.
    name : callable, optional
        keys (a dict) -> the arm's name.

    Returns
    -------
    dict
        ``differences`` (DataFrame: extra keys, then :data:`DIFFERENCE_COLUMNS`), ``levels``
        (extra keys, then :data:`LEVEL_COLUMNS`), both with the metrics of
        ``metrics`` per bin ("all", 0, 1, ...) and the prediction churn
        (:data:`CHURN`, bin "all"); ``extra_keys``, ``n_bootstrap``, ``confidence``.
    """
    if compare_keys:
        fits = _as_arms(fits, tuple(compare_keys), name)
    # the products are small: BLAS threads only add overhead (and spin on busy machines)
    with threadpool_limits(limits=1, user_api="blas"):
        return _compare(fits, gold, human, dict(metrics), plurality, set(higher_is_better),
                        n_difficulty_bins, n_bins, n_bootstrap, confidence, random_state,
                        references, order)


def _compare(fits, gold, human, metrics, plurality, higher, n_difficulty_bins, n_bins,
             n_bootstrap, confidence, random_state, references, order):
    import pandas as pd

    extra = extra_keys(fits)
    n_items = human.shape[0]
    B = int(n_bootstrap)
    WT = np.ascontiguousarray(bootstrap_weights(n_items, B, random_state).T)
    seeds = sorted({f["keys"]["seed"] for f in fits})
    rng = np.random.default_rng(np.random.SeedSequence(random_state, spawn_key=(_SEED_STREAM,)))
    counts = rng.multinomial(len(seeds), np.full(len(seeds), 1.0 / len(seeds)), size=B)
    # every fit's replicates, the fits of the same items together (what they share, the
    # human side of the entropy correlation, is computed once and dropped after them)
    by_items = {}
    for i, f in enumerate(fits):
        by_items.setdefault(np.asarray(f["test"]).tobytes(), []).append(i)
    replicates = [None] * len(fits)
    for members in by_items.values():
        cache = {}
        for i in members:
            replicates[i] = prediction_replicates(
                fits[i]["proba"], fits[i]["test"], gold, human, WT,
                metrics=list(metrics.values()), plurality=plurality,
                n_difficulty_bins=n_difficulty_bins, n_bins=n_bins, _cache=cache)
    combos, preds = {}, {}
    for f, (point, reps) in zip(fits, replicates):
        k = f["keys"]
        combo = tuple(k.get(e) for e in extra)
        combos.setdefault(combo, {}).setdefault(k["source"], {})[(k["seed"], k["fold"])] = \
            (point, reps)
        preds.setdefault(combo, {}).setdefault(k["source"], []).append(
            (k["seed"], f["test"], np.asarray(f["proba"]).argmax(axis=1)))
    bins = ["all"] + list(range(n_difficulty_bins))
    diff_rows, level_rows = [], []
    ones = np.ones(len(seeds))
    for combo, by_source in combos.items():
        sources = _source_order(list(by_source), order)
        prefix = list(combo)
        for source in sources:
            cells = by_source[source]
            pt, rp = _seed_values(cells, seeds)
            value = _over_seeds(pt, ones)
            lo, hi, se = percentile_interval(None, _over_seeds(rp, counts), confidence, axis=1)
            for k, metric in enumerate(metrics):
                for j, b in enumerate(bins):
                    level_rows.append(prefix + [source, metric, b, value[k, j], lo[k, j],
                                                hi[k, j], se[k, j]])
        churn = {s: _churn_replicates(preds[combo][s], seeds, counts, WT, n_items)
                 for s in sources}
        for source in sources:
            pa, ra = churn[source]
            e = percentile_interval(pa, ra, confidence)
            level_rows.append(prefix + [source, CHURN, "all", pa, e.low, e.high, e.se])
        for ref in [r for r in references if r in by_source]:
            for source in sources:
                if source == ref:
                    continue
                common = set(by_source[source]) & set(by_source[ref])
                if not common:
                    continue
                a = _seed_values({c: by_source[source][c] for c in common}, seeds)
                r = _seed_values({c: by_source[ref][c] for c in common}, seeds)
                n_seeds = len({c[0] for c in common})
                point = _over_seeds(a[0], ones) - _over_seeds(r[0], ones)
                d = _over_seeds(a[1], counts) - _over_seeds(r[1], counts)
                lo, hi, se = percentile_interval(None, d, confidence, axis=1)
                for k, metric in enumerate(metrics):
                    for j, b in enumerate(bins):
                        diff_rows.append(prefix + _difference_row(
                            ref, source, metric, b, point[k, j], lo[k, j], hi[k, j], se[k, j],
                            n_seeds, len(common), higher))
                (pa, ra), (pr, rr) = churn[source], churn[ref]
                e = percentile_interval(pa - pr, ra - rr, confidence)
                diff_rows.append(prefix + _difference_row(
                    ref, source, CHURN, "all", pa - pr, e.low, e.high, e.se, n_seeds,
                    len(common), higher))
    return {"differences": pd.DataFrame(diff_rows, columns=extra + DIFFERENCE_COLUMNS),
            "levels": pd.DataFrame(level_rows, columns=extra + LEVEL_COLUMNS),
            "extra_keys": extra, "n_bootstrap": B, "confidence": confidence}


def _holds(lo, hi):
    return bool(np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or hi < 0))


def _better(metric, difference, holds, higher_is_better):
    """"better" / "worse" when the difference holds, else "" (no direction is claimed)."""
    if not holds:
        return ""
    higher = metric in higher_is_better
    return "better" if (difference > 0) == higher else "worse"


def _difference_row(ref, source, metric, b, d, lo, hi, se, n_seeds, n_fits, higher):
    holds = _holds(lo, hi)
    return [ref, source, metric, b, d, lo, hi, se, holds, _better(metric, d, holds, higher),
            n_seeds, n_fits]


def _churn_replicates(preds, seeds, counts, WT, n_items):
    """Prediction churn of one source: (point, replicates (B,)).

    ``preds``: (seed, test, predicted class) of its fits. Churn is the mean, over pairs of
    distinct seeds, of the fraction of items (evaluated in both) whose predicted class
    differs; a replicate weights the items by ``WT`` (n, B) and the pair (r, s) of seeds by
    ``c_r c_s``.
    """
    B = WT.shape[1]
    pred = np.full((len(seeds), n_items), -1, dtype=np.int64)
    for seed, test, p in preds:
        pred[seeds.index(seed), test] = p
    num = np.zeros(B)
    den = np.zeros(B)
    vals = []
    for r in range(len(seeds)):
        for s in range(r + 1, len(seeds)):
            ok = (pred[r] >= 0) & (pred[s] >= 0)
            if not ok.any():
                continue
            d = (pred[r] != pred[s]) & ok
            vals.append(d.sum() / ok.sum())
            with np.errstate(invalid="ignore", divide="ignore"):
                rep = WT[d].sum(axis=0, dtype=np.float64) / WT[ok].sum(axis=0, dtype=np.float64)
            c = counts[:, r] * counts[:, s] * np.isfinite(rep)
            num += c * np.nan_to_num(rep)
            den += c
    point = float(np.mean(vals)) if vals else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return point, np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def seed_std_intervals(seed_values, confidence=0.95, reference=None):
    """The std across seeds of per-seed values, with the chi-square interval (normal seeds),
    and its ratio to the reference's std with the F interval.

    Parameters
    ----------
    seed_values : dict source -> 1-D array of per-seed values (mean over folds)
    confidence : float
    reference : str, optional
        The source whose std the others are divided by.

    Returns
    -------
    dict source -> dict(std, low, high, ratio, ratio_low, ratio_high, holds)
        ``holds``: the ratio's interval excludes 1. With fewer than two seeds everything is
        NaN; a std of 0 (seeds tied, e.g. a discrete metric) gets no interval and no ratio.
        The F interval treats the sources' seeds as independent samples; they share their
        splits, so it is approximate.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import seed_std_intervals
    >>> out = seed_std_intervals({"gold": np.array([0.30, 0.32, 0.31]),
    ...                           "human": np.array([0.30, 0.40, 0.35])}, reference="gold")
    >>> round(out["human"]["ratio"], 2), bool(out["human"]["holds"])
    (5.0, False)
    """
    from scipy.stats import chi2, f as fdist

    a = 1.0 - confidence
    out = {}
    for source, v in seed_values.items():
        v = np.asarray(v, dtype=np.float64)
        v = v[np.isfinite(v)]
        df = v.shape[0] - 1
        res = dict(std=np.nan, low=np.nan, high=np.nan, ratio=np.nan, ratio_low=np.nan,
                   ratio_high=np.nan, holds=False, df=df)
        if df >= 1:
            s = float(np.std(v, ddof=1))
            res["std"] = s
            if s > 0:  # (a std of 0 -- tied seeds of a discrete metric -- gets no interval)
                res.update(low=float(s * np.sqrt(df / chi2.ppf(1 - a / 2, df))),
                           high=float(s * np.sqrt(df / chi2.ppf(a / 2, df))))
        out[source] = res
    ref = out.get(reference)
    if ref is not None and ref["df"] >= 1 and ref["std"] > 0:
        for source, res in out.items():
            if source == reference or res["df"] < 1 or not res["std"] > 0:
                continue
            F = (res["std"] / ref["std"]) ** 2
            d1, d2 = res["df"], ref["df"]
            res.update(ratio=float(np.sqrt(F)),
                       ratio_low=float(np.sqrt(F / fdist.ppf(1 - a / 2, d1, d2))),
                       ratio_high=float(np.sqrt(F / fdist.ppf(a / 2, d1, d2))))
            res["holds"] = _holds(res["ratio_low"] - 1.0, res["ratio_high"] - 1.0)
    return out
