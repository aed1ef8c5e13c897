# Equal-mass (quantile) bins in O(n), and binning of 1-D values with arbitrary edges: the
# equal-mass rebinning of sksoft.metrics._binning. Compiler directives are set in setup.py.

import numpy as np

from cython.parallel cimport prange

from ._common cimport N_SUB, bin_search


def bin_1d(
    const double[::1] values,
    const double[::1] acc,
    const double[::1] weight,
    const Py_ssize_t[::1] group,
    Py_ssize_t n_groups,
    const double[::1] edges,
):
    """Per-group per-bin (weight, value sum, acc sum) of 1-D values with arbitrary edges."""
    cdef Py_ssize_t n = values.shape[0], nb = edges.shape[0] - 1, i, b, g = 0
    out = np.zeros((n_groups, nb, 3), dtype=np.float64)
    cdef double[:, :, ::1] o = out
    cdef double w = 1.0
    with nogil:
        for i in range(n):
            b = bin_search(values[i], &edges[0], nb, False)
            if weight.shape[0] > 0:
                w = weight[i]
            if group.shape[0] > 0:
                g = group[i]
            o[g, b, 0] += w
            o[g, b, 1] += w * values[i]
            o[g, b, 2] += w * acc[i]
    return out


# ------------------------------------------------------------------ equal-mass bins in O(n)
#
# equal_mass_edges (in _binning.py) sorts the values and walks their tie groups greedily. The same
# walk needs the sorted order only near each cut, so it runs here on a histogram instead: values
# go to N_BUCKETS equal-width buckets (a monotone map, so buckets are ordered like the values and
# a tie group never spans two), each cut is located to its bucket from the cumulative counts, and
# only the buckets where a cut can fall are gathered and sorted. Unweighted data only: cumulative
# counts are exact integers, so every comparison of the greedy walk equals the sorted version's.

cdef enum:
    N_BUCKETS = 16384


cdef inline Py_ssize_t _bucket(double v, double lo, double scale) noexcept nogil:
    cdef Py_ssize_t u = <Py_ssize_t>((v - lo) * scale)
    return u if u < N_BUCKETS - 1 else N_BUCKETS - 1


def _bucket_histogram(const double[::1] values, double lo, double scale, unsigned short[::1] ids,
                      int n_threads=1):
    """Counts, minima and maxima of the buckets; the bucket of every value goes to ``ids``."""
    cdef Py_ssize_t n = values.shape[0]
    cdef int nt = n_threads if n_threads > 0 else 1
    cdef Py_ssize_t chunk = (n + nt - 1) // nt
    cnt_a = np.zeros((nt, N_BUCKETS), dtype=np.int64)
    bmin_a = np.full((nt, N_BUCKETS), np.inf)
    bmax_a = np.full((nt, N_BUCKETS), -np.inf)
    cdef long long[:, ::1] cnt = cnt_a
    cdef double[:, ::1] bmin = bmin_a, bmax = bmax_a
    cdef int t
    if nt == 1:
        with nogil:
            _bucket_rows(&values[0], 0, n, lo, scale, &ids[0], &cnt[0, 0], &bmin[0, 0], &bmax[0, 0])
    else:
        for t in prange(nt, nogil=True, schedule="static", num_threads=nt):
            _bucket_rows(&values[0], t * chunk, min((t + 1) * chunk, n), lo, scale, &ids[0],
                         &cnt[t, 0], &bmin[t, 0], &bmax[t, 0])
    return cnt_a.sum(axis=0), bmin_a.min(axis=0), bmax_a.max(axis=0)


cdef void _bucket_rows(const double* V, Py_ssize_t start, Py_ssize_t stop, double lo,
                       double scale, unsigned short* ids, long long* cnt, double* bmin,
                       double* bmax) noexcept nogil:
    cdef Py_ssize_t i, u
    cdef double v
    for i in range(start, stop):
        v = V[i]
        u = _bucket(v, lo, scale)
        ids[i] = <unsigned short>u
        cnt[u] += 1
        bmin[u] = v if v < bmin[u] else bmin[u]
        bmax[u] = v if v > bmax[u] else bmax[u]


def _gather_buckets(const double[::1] values, const unsigned short[::1] ids,
                    const long long[::1] slot_start, long long[::1] fill, double[::1] out):
    """Copy the values of the selected buckets (slot_start[u] >= 0) into ``out``, bucket by bucket."""
    cdef Py_ssize_t n = values.shape[0], i, u
    cdef long long s
    with nogil:
        for i in range(n):
            u = ids[i]
            s = slot_start[u]
            if s >= 0:
                out[s + fill[u]] = values[i]
                fill[u] += 1


def _bin_by_bucket(const double[::1] values, const double[::1] acc, const unsigned short[::1] ids,
                   const Py_ssize_t[::1] group, Py_ssize_t n_groups, const double[::1] edges,
                   const short[::1] lut, const double[::1] split, int n_threads=1):
    """Per-group per-bin (count, value sum, acc sum) for edges that are data values.

    A value's bin is ``lut[u]`` (the inner edges in lower buckets) plus one if it reaches the
    inner edge inside its own bucket (``split[u]``, +inf if none). ``lut[u] < 0`` marks a bucket
    holding several inner edges: those values are placed by binary search.
    """
    cdef Py_ssize_t n = values.shape[0], nb = edges.shape[0] - 1
    cdef int nt = n_threads if n_threads > 0 else 1
    cdef Py_ssize_t chunk = (n + nt - 1) // nt
    cdef Py_ssize_t sub = n_groups * nb * 3
    out = np.zeros((nt, N_SUB, n_groups, nb, 3), dtype=np.float64)
    cdef double[:, ::1] o = out.reshape(nt, -1)
    cdef const Py_ssize_t* Gp = &group[0] if group.shape[0] > 0 else NULL
    cdef int t
    if nt == 1:
        with nogil:
            _bin_rows(&values[0], &acc[0], &ids[0], Gp, 0, n, nb, &edges[0], &lut[0], &split[0],
                      &o[0, 0], sub)
    else:
        for t in prange(nt, nogil=True, schedule="static", num_threads=nt):
            _bin_rows(&values[0], &acc[0], &ids[0], Gp, t * chunk, min((t + 1) * chunk, n), nb,
                      &edges[0], &lut[0], &split[0], &o[t, 0], sub)
    return out.sum(axis=(0, 1))


cdef void _bin_rows(const double* V, const double* A, const unsigned short* I,
                    const Py_ssize_t* Gp, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t nb,
                    const double* E, const short* L, const double* S, double* op,
                    Py_ssize_t sub) noexcept nogil:
    cdef Py_ssize_t i, b, u, g = 0
    cdef double v
    cdef double* h
    for i in range(start, stop):
        v = V[i]
        u = I[i]
        b = L[u]
        if b < 0:
            b = bin_search(v, E, nb, False)
        else:
            b = b + (v >= S[u])
        if Gp != NULL:
            g = Gp[i]
        h = op + (i & (N_SUB - 1)) * sub + (g * nb + b) * 3
        h[0] += 1.0
        h[1] += v
        h[2] += A[i]


def equal_mass_binning(conf, acc, group, Py_ssize_t n_groups, Py_ssize_t n_bins,
                       int n_threads=1):
    """Equal-mass edges of ``conf`` (as :func:`equal_mass_edges`, unweighted) and the per-group
    histogram of (count, conf sum, acc sum) in them, in O(n). Returns (edges, hist), or None when
    the data are too concentrated for buckets to help (the caller then sorts)."""
    cdef Py_ssize_t n = conf.shape[0]
    if n == 0 or n_bins > 30000:
        return None
    lo = float(conf.min())
    hi = float(conf.max())
    scale = (N_BUCKETS / (hi - lo)) if hi > lo else 0.0
    if not np.isfinite(scale):
        return None
    ids = np.empty(n, dtype=np.uint16)
    cnt, bmin, bmax = _bucket_histogram(conf, lo, scale, ids, n_threads)
    CB = np.cumsum(cnt)
    total = int(CB[-1])
    multi = bmin < bmax  # buckets holding more than one distinct value

    # 1. buckets where a cut can fall: follow the greedy walk with an interval for `prev`
    need = np.zeros(N_BUCKETS, dtype=bool)
    p_lo = p_hi = 0.0
    for b in range(n_bins - 1):
        left = n_bins - b
        # widened by a relative 1e-12 against rounding of the targets
        t_lo = (p_lo + (total - p_lo) / left) * (1.0 - 1e-12)
        t_hi = (p_hi + (total - p_hi) / left) * (1.0 + 1e-12)
        u_lo = min(int(np.searchsorted(CB, t_lo, side="left")), N_BUCKETS - 1)
        u_hi = min(int(np.searchsorted(CB, t_hi, side="left")), N_BUCKETS - 1)
        need[u_lo:u_hi + 1] = True
        p_lo = float(CB[u_lo - 1]) if u_lo > 0 else 0.0
        p_hi = float(CB[u_hi])
    need &= multi
    sel = np.flatnonzero(need)
    n_sel = int(cnt[sel].sum())
    if n_sel > max(n // 4, 100_000):
        return None
    # 2. gather and sort those buckets
    slot_start = np.full(N_BUCKETS, -1, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(cnt[sel])[:-1]]).astype(np.int64)
    slot_start[sel] = starts
    gathered = np.empty(n_sel)
    _gather_buckets(conf, ids, slot_start, np.zeros(N_BUCKETS, dtype=np.int64), gathered)
    # buckets are ordered like their values: one sort orders every bucket's segment
    gathered.sort()
    dvals, dcounts = np.unique(gathered, return_counts=True)
    dbucket = ((dvals - lo) * scale).astype(np.int64).clip(0, N_BUCKETS - 1)

    def groups_of(u):
        # (values, cumulative counts within the bucket) of the tie groups in bucket u
        if need[u]:
            a = int(np.searchsorted(dbucket, u, side="left"))
            b = int(np.searchsorted(dbucket, u, side="right"))
            return dvals[a:b], np.cumsum(dcounts[a:b])
        if multi[u]:
            raise LookupError
        return np.array([bmin[u]]), np.array([int(cnt[u])])

    def next_value(u, r):
        vals, _ = groups_of(u)
        if r + 1 < vals.shape[0]:
            return float(vals[r + 1])
        u2 = int(np.searchsorted(CB, CB[u], side="right"))
        return float(bmin[u2])

    # 3. the greedy walk of equal_mass_edges, on (bucket, rank) positions
    edges = [lo]
    prev = 0
    try:
        for b in range(n_bins):
            if prev >= total:
                break
            left = n_bins - b
            if left == 1:
                edges.append(hi)
                prev = total
                break
            target = prev + (total - prev) / left
            u = min(int(np.searchsorted(CB, target, side="left")), N_BUCKETS - 1)
            base = int(CB[u - 1]) if u > 0 else 0
            vals, cc = groups_of(u)
            r = min(int(np.searchsorted(base + cc, target, side="left")), vals.shape[0] - 1)
            c_j = base + int(cc[r])
            c_prev = base + int(cc[r - 1]) if r > 0 else base
            if c_prev > prev and (target - c_prev) < (c_j - target):
                if r > 0:
                    r -= 1
                    c_j = c_prev
                    edge = float(vals[r + 1])
                else:
                    c_j = c_prev
                    edge = float(vals[0])
            else:
                edge = next_value(u, r) if c_j < total else hi
            prev = c_j
            edges.append(edge if prev < total else hi)
    except LookupError:  # pragma: no cover - the interval walk covers every cut
        return None
    edges = np.asarray(edges, dtype=np.float64)

    # 4. bin every value: bucket lookup plus one comparison in the buckets an edge falls into
    inner = edges[1:-1]
    ub = ((inner - lo) * scale).astype(np.int64).clip(0, N_BUCKETS - 1) if scale else \
        np.zeros(inner.shape[0], dtype=np.int64)
    lut = np.searchsorted(ub, np.arange(N_BUCKETS), side="left").astype(np.int16)
    split = np.full(N_BUCKETS, np.inf)
    uniq, first, nper = np.unique(ub, return_index=True, return_counts=True)
    split[uniq[nper == 1]] = inner[first[nper == 1]]
    lut[uniq[nper > 1]] = -1
    hist = _bin_by_bucket(conf, acc, ids, group, max(n_groups, 1), edges, lut, split, n_threads)
    return edges, hist
