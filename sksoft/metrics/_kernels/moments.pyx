# Second moments of the rows of every cell: the variance terms of the debiased calibration
# error (sksoft.metrics._formulas), and the item bootstrap (sksoft.metrics._bootstrap) --
# counter-based Poisson(1) weights, and the sequential split of rows into the exactly
# resampled ones (the first rows of every cell, in global row order) and the rest, whose first
# and second moments are accumulated. Sequential on purpose: "the first rows of a cell" must
# not depend on threads or chunks. Compiler directives are set in setup.py.

import numpy as np

from libc.stdint cimport uint64_t, uint8_t

from ._common cimport bin_search, bin_uniform, floating, target_t


# cumulative Poisson(1) probabilities P(W <= k), k = 0..11, scaled to 2^53 (beyond k = 11 the
# tail is below 2^-53 and W = 12 is returned)
cdef double[12] POISSON_CDF
_cdf = np.cumsum([np.exp(-1.0) / np.prod(np.arange(1, k + 1)) for k in range(12)]) * 2.0**53
for _k in range(12):
    POISSON_CDF[_k] = _cdf[_k]


cdef inline uint64_t _mix(uint64_t z) noexcept nogil:
    # splitmix64's finaliser: a bijection of 64-bit words with good avalanche
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint8_t _poisson1(uint64_t key, uint64_t row, uint64_t rep) noexcept nogil:
    # W ~ Poisson(1) from the counter (key, row, replicate): the same value whatever the chunk
    # or thread a row is processed in
    cdef uint64_t z = _mix(_mix(key ^ (row * 0x9E3779B97F4A7C15ULL)) + rep * 0xD1B54A32D192ED03ULL)
    cdef double u = <double>(z >> 11)
    cdef uint8_t w = 0
    while w < 12 and u >= POISSON_CDF[w]:
        w += 1
    return w


cdef inline Py_ssize_t _class_cell(double v, const double* e, Py_ssize_t nb, bint uniform,
                                   Py_ssize_t g, Py_ssize_t K, Py_ssize_t k) noexcept nogil:
    # the classwise cell (group, class, bin) of value v of class k
    cdef Py_ssize_t b = bin_uniform(v, e, nb) if uniform else bin_search(v, e, nb, False)
    return (g * K + k) * nb + b


cdef inline double _class_target(const target_t[:, ::1] y_soft, const Py_ssize_t[::1] y_hard,
                                 bint soft, Py_ssize_t i, Py_ssize_t k) noexcept nogil:
    # the target probability of class k in row i
    if soft:
        return y_soft[i, k]
    return 1.0 if y_hard[i] == k else 0.0


def poisson_weights(const long long[::1] index, Py_ssize_t n_boot, unsigned long long key,
                    Py_ssize_t first=0):
    """Poisson(1) resampling weights of the rows (or clusters) ``index`` in replicates
    ``first .. first + n_boot - 1``: (len(index), n_boot) uint8, a pure function of (key,
    index, replicate)."""
    cdef Py_ssize_t m = index.shape[0], i, r
    out = np.empty((m, n_boot), dtype=np.uint8)
    cdef uint8_t[:, ::1] o = out
    with nogil:
        for i in range(m):
            for r in range(n_boot):
                o[i, r] = _poisson1(key, <uint64_t>index[i], <uint64_t>(first + r))
    return out


def split_moments(const Py_ssize_t[::1] cell, const double[:, ::1] X, long long[::1] seen,
                  Py_ssize_t limit, double[:, ::1] M1, double[:, :, ::1] M2):
    """Walk the rows in order: a row whose cell has had fewer than ``limit`` rows so far
    (``seen``, updated) is returned for exact resampling; the others add their vector ``X[i]``
    to the cell's first moments ``M1`` and its outer product to ``M2`` (upper triangle).

    Returns the indices of the exact rows (intp).
    """
    cdef Py_ssize_t n = cell.shape[0], F = X.shape[1], i, c, a, b, n_exact = 0
    exact = np.empty(n, dtype=np.intp)
    cdef Py_ssize_t[::1] ex = exact
    cdef double xa
    with nogil:
        for i in range(n):
            c = cell[i]
            if seen[c] < limit:
                seen[c] += 1
                ex[n_exact] = i
                n_exact += 1
                continue
            for a in range(F):
                xa = X[i, a]
                M1[c, a] += xa
                for b in range(a, F):
                    M2[c, a, b] += xa * X[i, b]
    return exact[:n_exact]


def class_split_moments(const floating[:, ::1] prob, const target_t[:, ::1] y_soft,
                        const Py_ssize_t[::1] y_hard, const double[::1] weight,
                        const Py_ssize_t[::1] group, const double[:, ::1] edges, bint uniform,
                        long long[::1] seen, Py_ssize_t limit, double[:, ::1] M1,
                        double[:, :, ::1] M2):
    """:func:`split_moments` for the classwise cells: every (row, class) is the vector
    (w, w p_k, w t_k) in cell ((group * K + k) * n_bins + bin of p_k), bins by ``edges``
    ((1, n_bins + 1) shared by the classes, or one row per class). Returns the exact
    (row, class) pairs as an (m, 2) intp array."""
    cdef Py_ssize_t n = prob.shape[0], K = prob.shape[1], nb = edges.shape[1] - 1
    cdef Py_ssize_t per_class = 1 if edges.shape[0] > 1 else 0
    cdef Py_ssize_t i, k, c, b, n_exact = 0, g = 0
    cdef bint soft = y_soft.shape[0] > 0
    cdef double w = 1.0, v, t, x0, x1, x2
    cdef Py_ssize_t cap = n * K  # exact pairs: at most every pair, or limit per cell
    if limit < cap and seen.shape[0] < cap // limit:
        cap = seen.shape[0] * limit
    exact = np.empty((cap, 2), dtype=np.intp)
    cdef Py_ssize_t[:, ::1] ex = exact
    with nogil:
        for i in range(n):
            if weight.shape[0] > 0:
                w = weight[i]
            if group.shape[0] > 0:
                g = group[i]
            for k in range(K):
                v = prob[i, k]
                c = _class_cell(v, &edges[k * per_class, 0], nb, uniform, g, K, k)
                if seen[c] < limit:
                    seen[c] += 1
                    ex[n_exact, 0] = i
                    ex[n_exact, 1] = k
                    n_exact += 1
                    continue
                t = _class_target(y_soft, y_hard, soft, i, k)
                x0 = w
                x1 = w * v
                x2 = w * t
                M1[c, 0] += x0
                M1[c, 1] += x1
                M1[c, 2] += x2
                M2[c, 0, 0] += x0 * x0
                M2[c, 0, 1] += x0 * x1
                M2[c, 0, 2] += x0 * x2
                M2[c, 1, 1] += x1 * x1
                M2[c, 1, 2] += x1 * x2
                M2[c, 2, 2] += x2 * x2
    return exact[:n_exact]


def replicate_sums(const Py_ssize_t[::1] cell, const double[:, ::1] X,
                   const unsigned char[:, ::1] W, double[:, :, ::1] out):
    """``out[r, cell[i], :] += W[i, r] * X[i, :]`` for every row i and replicate r."""
    cdef Py_ssize_t m = cell.shape[0], F = X.shape[1], B = W.shape[1], i, r, a, c
    cdef double wr
    with nogil:
        for i in range(m):
            c = cell[i]
            for r in range(B):
                wr = W[i, r]
                if wr == 0:
                    continue
                for a in range(F):
                    out[r, c, a] += wr * X[i, a]


def cell_variance(const Py_ssize_t[::1] cell, const double[::1] weight, const double[::1] a,
                  double[:, ::1] out):
    """Per cell: rows, sum w^2, sum w^2 a, sum w^2 a^2 added to ``out`` (n_cells, 4) (the
    variance of a cell's weighted mean of ``a``); ``weight`` empty for unit weights."""
    cdef Py_ssize_t n = cell.shape[0], i, c
    cdef double w2, ai
    with nogil:
        for i in range(n):
            c = cell[i]
            w2 = weight[i] * weight[i] if weight.shape[0] > 0 else 1.0
            ai = a[i]
            out[c, 0] += 1.0
            out[c, 1] += w2
            out[c, 2] += w2 * ai
            out[c, 3] += w2 * ai * ai


def class_cell_variance(const floating[:, ::1] prob, const target_t[:, ::1] y_soft,
                        const Py_ssize_t[::1] y_hard, const double[::1] weight,
                        const Py_ssize_t[::1] group, const double[:, ::1] edges, bint uniform,
                        double[:, ::1] out):
    """:func:`cell_variance` of the classwise cells ((group * K + k) * n_bins + bin of p_k),
    with the class's target probability as ``a``; ``edges`` as in :func:`class_split_moments`."""
    cdef Py_ssize_t n = prob.shape[0], K = prob.shape[1], nb = edges.shape[1] - 1
    cdef Py_ssize_t per_class = 1 if edges.shape[0] > 1 else 0
    cdef Py_ssize_t i, k, c, b, g = 0
    cdef bint soft = y_soft.shape[0] > 0
    cdef double w2 = 1.0, v, t
    with nogil:
        for i in range(n):
            if weight.shape[0] > 0:
                w2 = weight[i] * weight[i]
            if group.shape[0] > 0:
                g = group[i]
            for k in range(K):
                c = _class_cell(prob[i, k], &edges[k * per_class, 0], nb, uniform, g, K, k)
                t = _class_target(y_soft, y_hard, soft, i, k)
                out[c, 0] += 1.0
                out[c, 1] += w2
                out[c, 2] += w2 * t
                out[c, 3] += w2 * t * t
