# Average ranks in O(n) by a bucket sort: the Spearman correlations of sksoft.metrics.
# Compiler directives are set in setup.py.

import numpy as np

from libc.math cimport fabs
from libc.stdlib cimport malloc, free, qsort


cdef struct _ValIdx:
    double v
    Py_ssize_t i


cdef int _cmp_validx(const void* a, const void* b) noexcept nogil:
    cdef double x = (<const _ValIdx*>a).v, y = (<const _ValIdx*>b).v
    return (x > y) - (x < y)


def average_ranks(const double[::1] x, double rtol):
    """Ranks 1..n of finite ``x``; values within ``rtol`` (relative) of their neighbour in sorted
    order are ties and share their average rank.

    A bucket sort: (value, index) pairs go to about n/2 equal-width buckets (a monotone map) in
    one pass, each bucket is sorted in place (insertion sort when small), and one walk over the
    sorted pairs assigns the ranks. O(n) for spread-out data; no worse than a sort when values
    crowd in few buckets. Returns None when the range is too narrow for buckets.
    """
    cdef Py_ssize_t n = x.shape[0], i, j, u, s0, cnt_u, k, g0, nb
    ranks_a = np.empty(n)
    cdef double[::1] ranks = ranks_a
    if n == 0:
        return ranks_a
    cdef double lo = x[0], hi = x[0], v, scale, prev, avg
    for i in range(n):
        lo = x[i] if x[i] < lo else lo
        hi = x[i] if x[i] > hi else hi
    if not (hi > lo):
        ranks_a[:] = (n + 1) / 2.0
        return ranks_a
    nb = n // 2 + 1
    scale = nb / (hi - lo)
    if not np.isfinite(scale):
        return None
    start_a = np.zeros(nb + 1, dtype=np.intp)
    bucket_a = np.empty(n, dtype=np.intp)
    cdef Py_ssize_t[::1] start = start_a
    cdef Py_ssize_t[::1] bucket = bucket_a
    cdef _ValIdx* sv = <_ValIdx*>malloc(n * sizeof(_ValIdx))
    cdef _ValIdx t
    if sv == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            u = <Py_ssize_t>((x[i] - lo) * scale)
            u = u if u < nb - 1 else nb - 1
            bucket[i] = u
            start[u + 1] += 1
        for u in range(nb):
            start[u + 1] += start[u]
        for i in range(n):  # scatter: start[u] becomes the end of bucket u
            u = bucket[i]
            sv[start[u]].v = x[i]
            sv[start[u]].i = i
            start[u] += 1
        s0 = 0
        for u in range(nb):
            cnt_u = start[u] - s0
            if cnt_u > 32:
                k = s0 + 1  # a bucket of one tied value (e.g. unanimous items) needs no sort
                while k < s0 + cnt_u and sv[k].v == sv[s0].v:
                    k += 1
                if k < s0 + cnt_u:
                    qsort(sv + s0, cnt_u, sizeof(_ValIdx), _cmp_validx)
            elif cnt_u > 1:
                for k in range(s0 + 1, s0 + cnt_u):
                    t = sv[k]
                    j = k - 1
                    while j >= s0 and sv[j].v > t.v:
                        sv[j + 1] = sv[j]
                        j -= 1
                    sv[j + 1] = t
            s0 = start[u]
        # tie groups: consecutive values within rtol share the average of their ranks
        g0 = 0
        prev = sv[0].v
        for k in range(1, n + 1):
            if k < n:
                v = sv[k].v
                if v - prev <= rtol * (fabs(v) if fabs(v) > fabs(prev) else fabs(prev)):
                    prev = v
                    continue
            avg = (g0 + 1 + k) / 2.0
            for j in range(g0, k):
                ranks[sv[j].i] = avg
            g0 = k
            if k < n:
                prev = v
    free(sv)
    return ranks_a
