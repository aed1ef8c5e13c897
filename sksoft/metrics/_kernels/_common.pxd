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


cdef extern from "_binning.h" nogil:
    # the bin of one value (see _binning.h): equal-width bins on [0, 1], or arbitrary edges
    Py_ssize_t bin_uniform "sk_bin_uniform"(double c, const double* e, Py_ssize_t nb)
    Py_ssize_t bin_search "sk_bin_search"(double c, const double* e, Py_ssize_t nb, bint extra)
