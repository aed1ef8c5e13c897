# Declarations shared by sksoft's kernels: the fused types of the probabilities and targets,
# the binning of one value, and the number of interleaved copies of a histogram.

ctypedef fused floating:
    float
    double

ctypedef fused target_t:
    float
    double

cdef enum:
    # Consecutive rows usually fall into the same bin (most confidences are near 1), and
    # updating one memory cell from every row serialises on the store-to-load forwarding
    # latency: row i updates copy (i % N_SUB).
    N_SUB = 4


cdef inline Py_ssize_t bin_uniform(double c, const double* e, Py_ssize_t nb) noexcept nogil:
    # Bin of c among nb equal-width bins with edges e (linspace(0, 1, nb + 1)): multiply and
    # truncate gives the bin up to one rounding step; one comparison against the float64 edges on
    # each side (at most one correction applies) makes it exactly "e[b] <= c < e[b+1]", the last
    # bin closed so that 1.0 falls in it.
    cdef Py_ssize_t b = <Py_ssize_t>(c * nb)
    b = b if b < nb - 1 else nb - 1
    b = b if b > 0 else 0
    b = b + (c >= e[b + 1]) - (c < e[b])
    return b if b < nb - 1 else nb - 1


cdef inline Py_ssize_t bin_search(double c, const double* e, Py_ssize_t nb,
                                  bint extra) noexcept nogil:
    # Index of the bin with e[b] <= c < e[b+1]: the number of edges <= c, minus one. Values at
    # or above the last edge go to the last bin (closed), or to an extra bin nb when `extra`.
    cdef Py_ssize_t lo = 0, hi = nb + 1, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if e[mid] <= c:
            lo = mid + 1
        else:
            hi = mid
    lo -= 1
    if lo < 0:
        lo = 0
    if not extra and lo > nb - 1:
        lo = nb - 1
    return lo
