# The benchmarks' floors: a compiled pass that only reads the values (sksoft bench,
# benchmarks/bench_metrics.py). Compiler directives are set in setup.py.

import numpy as np


from cython.parallel cimport prange

from ._common cimport floating



def read_floor(const floating[:, ::1] prob, int n_threads, bint words=False):
    """Read every value of ``prob`` once: the benchmark's floor.

    By default the values are summed as doubles with eight independent accumulators (the floor
    the speed goals were set against). For float32 that pass is bound by the conversions, not by
    memory (14 GB/s on one thread here, against 29 GB/s for the same bytes summed as integers);
    ``words=True`` sums the bytes as 64-bit integers instead, bound by memory for every dtype.
    Returns the (meaningless) sum.
    """
    cdef Py_ssize_t n = prob.shape[0] * prob.shape[1]
    cdef Py_ssize_t block = 1 << 16
    cdef Py_ssize_t n_blocks, blk, start, stop
    cdef const floating* P = &prob[0, 0]
    cdef const unsigned long long* U = <const unsigned long long*>P
    cdef int nt = n_threads if n_threads > 0 else 1
    cdef double[::1] o
    cdef unsigned long long[::1] ow
    if words:
        n = n * sizeof(floating) // 8  # (the last 4 bytes of an odd float32 count are not read)
        block = 1 << 15
    n_blocks = (n + block - 1) // block
    if n == 0:
        return 0.0
    if words:
        out_w = np.zeros(n_blocks, dtype=np.uint64)
        ow = out_w
        for blk in prange(n_blocks, nogil=True, schedule="static", num_threads=nt):
            start = blk * block
            stop = start + block
            if stop > n:
                stop = n
            ow[blk] = _sum_words(U, start, stop)
        return float(out_w.sum())
    out = np.zeros(n_blocks, dtype=np.float64)
    o = out
    for blk in prange(n_blocks, nogil=True, schedule="static", num_threads=nt):
        start = blk * block
        stop = start + block
        if stop > n:
            stop = n
        o[blk] = _sum8(P, start, stop)
    return float(out.sum())


cdef unsigned long long _sum_words(const unsigned long long* U, Py_ssize_t start,
                                   Py_ssize_t stop) noexcept nogil:
    cdef unsigned long long a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0
    cdef Py_ssize_t j = start
    while j + 8 <= stop:
        a0 += U[j]
        a1 += U[j + 1]
        a2 += U[j + 2]
        a3 += U[j + 3]
        a4 += U[j + 4]
        a5 += U[j + 5]
        a6 += U[j + 6]
        a7 += U[j + 7]
        j += 8
    while j < stop:
        a0 += U[j]
        j += 1
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))


cdef double _sum8(const floating* P, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0
    cdef Py_ssize_t j = start
    while j + 8 <= stop:
        a0 += P[j]
        a1 += P[j + 1]
        a2 += P[j + 2]
        a3 += P[j + 3]
        a4 += P[j + 4]
        a5 += P[j + 5]
        a6 += P[j + 6]
        a7 += P[j + 7]
        j += 8
    while j < stop:
        a0 += P[j]
        j += 1
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
