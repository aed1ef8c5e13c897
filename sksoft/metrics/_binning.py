"""Bin edges: equal-width, torchmetrics' float32 edges, and tie-aware equal-mass edges."""

import functools
import numbers

import numpy as np

from .._validation import Interval, check_sample_weight, check_scalar
from . import _kernels
from ._validation import MAX_BINS, check_n_bins

__all__ = [
    "uniform_edges",
    "float32_trunc_is_exact",
    "equal_mass_edges",
    "equal_mass_histogram",
    "check_edges",
]

# Below this many rows sorting the confidences is faster than bucketing them (fixed costs).
_BUCKET_MIN_ROWS = 50_000


@functools.lru_cache(maxsize=64)
def uniform_edges(n_bins, binning="standard"):
    """Edges of ``n_bins`` equal-width bins on [0, 1] (cached, hence read-only).

    ``binning="standard"``: ``linspace(0, 1, n_bins + 1)`` in float64. ``"torchmetrics"``: the
    float32 edges of ``torch.linspace(0, 1, n_bins + 1)``, which computes the first half as
    ``step * i`` and the second half as ``1 - step * (n_bins - i)`` with a float32 ``step``,
    rounding each edge once to float32 (so it differs from ``numpy.linspace`` in the last bit
    for many ``n_bins``); returned exactly as float64.
    """
    if binning == "torchmetrics":
        step = float(np.float32(1.0) / np.float32(n_bins))
        i = np.arange(n_bins + 1)
        low = (step * i).astype(np.float32)
        high = (1.0 - step * (n_bins - i)).astype(np.float32)
        edges = np.where(i < (n_bins + 1) // 2, low, high).astype(np.float64)
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    edges.flags.writeable = False
    return edges


@functools.lru_cache(maxsize=256)
def float32_trunc_is_exact(n_bins):
    """Whether ``min(int(c * n_bins), n_bins - 1)`` bins every float32 ``c`` in [0, 1 + tol]
    exactly as the comparison with ``linspace(0, 1, n_bins + 1)`` does.

    The two can only disagree for ``c`` within a few float64 ulps of an edge, and at most the
    float32 value nearest to each edge (or its neighbours) is that close, so checking those
    three values per edge decides it -- vectorised, O(n_bins). The kernel then skips the
    comparison with the edges for float32 input.
    """
    edges = uniform_edges(n_bins)
    c0 = edges[1:].astype(np.float32)
    cand = np.concatenate([np.nextafter(c0, np.float32(0)), c0,
                           np.nextafter(c0, np.float32(2))]).astype(np.float64)
    exact = np.clip(np.searchsorted(edges, cand, side="right") - 1, 0, n_bins - 1)
    trunc = np.minimum((cand * n_bins).astype(np.int64), n_bins - 1)
    return bool(np.array_equal(exact, trunc))


def equal_mass_edges(values, n_bins, sample_weight=None):
    """Edges of at most ``n_bins`` equal-mass bins that never split tied values.

    Bins are ``[e_b, e_{b+1})`` with the last one closed; every edge is a data value. The values
    are sorted and tie groups (runs of identical values) are assigned to bins greedily: each bin
    takes tie groups until its weight comes closest to an equal share of the weight *still
    unassigned*. A single value heavier than one share therefore gets a bin of its own and the
    remaining weight is re-split evenly among the remaining bins; when there are fewer distinct
    values than bins, fewer bins result (every returned bin is non-empty). Zero-weight values
    count as values (they can be edges) but carry no weight.

    Parameters
    ----------
    values : array-like of shape (n,)
        Finite real numbers, at least one.
    n_bins : int
        Maximum number of bins, in ``[1, 10000]``.
    sample_weight : array-like of shape (n,) or float, optional
        Non-negative, finite, not all zero.

    Returns
    -------
    edges : ndarray of float64, shape (n_bins_used + 1,)

    Examples
    --------
    >>> import numpy as np
    >>> equal_mass_edges(np.array([0., 0., 0., 0., 1., 2., 3., 4.]), 3)
    array([0., 1., 3., 4.])
    """
    n_bins = check_n_bins(n_bins)
    v = np.asarray(values)
    if v.dtype.kind not in "iufb":
        raise TypeError(f"values must be real numbers; got dtype {v.dtype}.")
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D; got shape {v.shape}.")
    if v.shape[0] == 0:
        raise ValueError("values is empty: it has 0 samples.")
    if v.dtype not in (np.float32, np.float64):
        v = v.astype(np.float64)
    if not np.all(np.isfinite(v)):
        raise ValueError("values contains NaN or infinity.")
    w = check_sample_weight(sample_weight, v.shape[0], scale_free=True)
    return _equal_mass_edges(v, n_bins, w)


def _equal_mass_edges(values, n_bins, weight):
    """:func:`equal_mass_edges` on checked input."""
    if weight is None:
        s = np.sort(values)  # float32 values sort faster and exactly as float32
        cw = np.arange(1, s.shape[0] + 1, dtype=np.float64)
    else:
        order = np.argsort(values, kind="stable")
        s = values[order]
        cw = np.cumsum(weight[order])
    ends = np.append(np.flatnonzero(s[1:] != s[:-1]), s.shape[0] - 1)
    C = cw[ends]
    total = C[-1]
    n_groups = ends.shape[0]
    edges = [s[0]]
    prev = 0.0
    j0 = 0
    for b in range(n_bins):
        if j0 >= n_groups:
            break
        left = n_bins - b
        if left == 1:
            j = n_groups - 1
        else:
            target = prev + (total - prev) / left
            j = min(int(np.searchsorted(C, target, side="left")), n_groups - 1)
            if j > j0 and (target - C[j - 1]) < (C[j] - target):
                j -= 1
        prev = C[j]
        j0 = j + 1
        edges.append(s[ends[j] + 1] if j0 < n_groups else s[-1])
    return np.asarray(edges, dtype=np.float64)


def equal_mass_histogram(conf, acc, weight, codes, n_groups, n_bins, *, float32=False,
                         n_threads=1):
    """Equal-mass edges of the confidences ``conf`` and the per-group (weight, confidence sum,
    accuracy sum) histogram in them: the top-label statistics of ``strategy="quantile"``.

    Unweighted and large inputs take an O(n) bucket histogram (same edges as sorting);
    otherwise the confidences are sorted (as float32 values when the input was float32:
    exact and faster).
    """
    group_codes = np.zeros(0, dtype=np.intp) if codes is None else codes
    if weight is None and conf.shape[0] >= _BUCKET_MIN_ROWS:
        fast = _kernels.equal_mass_binning(conf, acc, group_codes, n_groups, n_bins, n_threads)
        if fast is not None:  # (None: data too concentrated for buckets)
            return fast
    edges = _equal_mass_edges(conf.astype(np.float32) if float32 else conf, n_bins, weight)
    top = _kernels.bin_1d(conf, acc, np.zeros(0) if weight is None else weight, group_codes,
                          n_groups, edges)
    return edges, top


def check_edges(edges, name="edges"):
    """Explicit bin edges: a finite, non-decreasing 1-D array of 2 to MAX_BINS + 1 values."""
    e = np.asarray(edges)
    if e.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real numbers; got dtype {e.dtype}.")
    e = e.astype(np.float64)
    if e.ndim != 1 or e.shape[0] < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) < 0):
        raise ValueError(f"{name} must be a finite non-decreasing 1-D array of length >= 2.")
    check_scalar(e.shape[0] - 1, f"the number of bins of {name}",
                 Interval(numbers.Integral, 1, MAX_BINS, closed="both"))
    return e
