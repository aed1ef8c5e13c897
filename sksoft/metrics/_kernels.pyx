# Private Cython kernels behind sksoft.metrics.
#
# One pass over the probability matrix computes everything the calibration metrics need: per-group
# per-bin (weight, confidence sum, accuracy sum) for the top label, optionally the same per class
# (classwise calibration), and per-group sums of the proper scores and divergences. The kernel never
# validates arguments (the Python wrappers do), except for the per-value checks (NaN, inf, negative,
# row sums) which are cheap inside the pass and would otherwise cost extra passes over the data.
# Compiler directives (boundscheck, wraparound, cdivision) are set once in setup.py.

import numpy as np

from cython.parallel cimport prange, threadid
from libc.math cimport log, logf, fabs, nextafterf, INFINITY
from libc.string cimport memset
from libc.stdlib cimport malloc, free, qsort

ctypedef fused floating:
    float
    double

ctypedef fused target_t:
    float
    double

cdef extern from "_rowstats.h" nogil:
    # per row: max and first argmax; returns nonzero if a row is bad (sum off 1 beyond tol,
    # negative, NaN/inf); the float32 version can also give the bins of the maxima
    int sksoft_rowcheck_block_f(const float* P, Py_ssize_t m, Py_ssize_t K, double tol,
                                double* best, Py_ssize_t* arg, int nb, int* bins)
    int sksoft_rowcheck_block_d(const double* P, Py_ssize_t m, Py_ssize_t K, double tol,
                                double* best, Py_ssize_t* arg)

cdef extern from "_vecmath.h" nogil:
    # vectorised x log x, logarithms and per-row statistics of hard-label rows, compiled for the
    # baseline ISA and AVX2 + FMA with runtime dispatch (see _vecmath.h)
    int sksoft_vec_set_level(int level)
    int sksoft_vec_available()
    int sksoft_vec_level()
    # the report's fused float32 pass for AVX-512 CPUs (vec level 2, see _report512.h)
    int sksoft_report512_f(const float* P, Py_ssize_t m, Py_ssize_t K, const Py_ssize_t* Y,
                           const Py_ssize_t* G, double tol, double eps, int nb, float e1f,
                           int want_entropy, long long* ttab, long long* ctab, long long* ltab,
                           double* colall, double* gsum, int* cell, float* val, float* tbuf,
                           double* v, double* q, double* h)
    void sksoft_hard_block_f(const float* P, Py_ssize_t m, Py_ssize_t K, const Py_ssize_t* y,
                             double* tmp, double* v, double* q, double* h)
    void sksoft_hard_block_d(const double* P, Py_ssize_t m, Py_ssize_t K, const Py_ssize_t* y,
                             double* tmp, double* v, double* q, double* h)
    void sksoft_hard_scores(const double* v, const double* q, Py_ssize_t n, double eps,
                            double* brier, double* ce, double* js, double* tv)
    Py_ssize_t sksoft_sparse_hits_f(const float* P, Py_ssize_t m, Py_ssize_t K,
                                    const Py_ssize_t* G, const Py_ssize_t* Y, double e1,
                                    double* col, int* off, int* cell, Py_ssize_t n_groups,
                                    double* slots, long long* lab)
    void sksoft_soft_block_ff(const float* P, const float* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)
    void sksoft_soft_block_fd(const float* P, const double* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)
    void sksoft_soft_block_df(const double* P, const float* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)
    void sksoft_soft_block_dd(const double* P, const double* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)
    Py_ssize_t sksoft_sparse_hits_d(const double* P, Py_ssize_t m, Py_ssize_t K,
                                    const Py_ssize_t* G, const Py_ssize_t* Y, double e1,
                                    double* col, int* off, int* cell, Py_ssize_t n_groups,
                                    double* slots, long long* lab)
    void sksoft_bin_hits_f(const float* P, const int* off, const int* cell, Py_ssize_t nh,
                           const double* e, Py_ssize_t ncb, int trunc, double* cls,
                           Py_ssize_t sub)
    void sksoft_bin_hits_d(const double* P, const int* off, const int* cell, Py_ssize_t nh,
                           const double* e, Py_ssize_t ncb, int trunc, double* cls,
                           Py_ssize_t sub)
    void sksoft_bin_label_hits_f(const float* P, const int* off, const int* cell,
                                 Py_ssize_t nh, const double* e, Py_ssize_t ncb, int trunc,
                                 long long* tab)
    void sksoft_bin_label_hits_d(const double* P, const int* off, const int* cell,
                                 Py_ssize_t nh, const double* e, Py_ssize_t ncb, int trunc,
                                 long long* tab)

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int sksoft_openmp_enabled(void) { return 1; }
    static int sksoft_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int sksoft_openmp_enabled(void) { return 0; }
    static int sksoft_max_threads(void) { return 1; }
    #endif
    """
    int sksoft_openmp_enabled() noexcept nogil
    int sksoft_max_threads() noexcept nogil

# Number of interleaved sub-histograms: consecutive rows usually fall into the same bin (most
# confidences are near 1), and updating one memory cell from every row serialises on the
# store-to-load forwarding latency. Row i updates copy (i % N_SUB).

# Layout of the per-group sums (keep in sync with sksoft.metrics._stats.SUM_FIELDS).

# Error codes (bit flags, see _stats._raise_kernel_error).

cdef enum:
    N_SUB = 4
    BLOCK = 256
    TMP = 4096  # = SK_TMP in _vecmath.h
    PACK_MAX = 256
    PACK_SUB = 4
    S_WEIGHT = 0
    S_ACC = 1
    S_BRIER = 2
    S_CE = 3
    S_HTRUE = 4
    S_HPRED = 5
    S_JS = 6
    S_TV = 7
    S_HTRUE2 = 8
    S_HPRED2 = 9
    S_HCROSS = 10
    S_COUNT = 11
    N_SUMS = 12
    E_PROB_NONFINITE = 1
    E_PROB_NEGATIVE = 2
    E_PROB_SUM = 4
    E_TRUE_NONFINITE = 8
    E_TRUE_NEGATIVE = 16
    E_TRUE_SUM = 32
    E_LABEL = 64


cdef double LOG2 = 0.6931471805599453


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP support."""
    return bool(sksoft_openmp_enabled())


def max_threads():
    """OpenMP's default number of threads (1 without OpenMP)."""
    return sksoft_max_threads()


def n_sums():
    return N_SUMS


def set_vec_level(int level):
    """Choose the vectorised code path: 0 baseline, 1 AVX2 + FMA, 2 also the AVX-512 report pass,
    -1 the best the CPU has.

    Returns the level in use (never above what the CPU supports). For tests and benchmarks.
    """
    return sksoft_vec_set_level(level)


def vec_level_available():
    """The best vectorised code path this CPU and build support (0, 1 or 2)."""
    return sksoft_vec_available()


sksoft_vec_set_level(-1)


cdef inline Py_ssize_t _bin_uniform(double c, const double* e, Py_ssize_t nb) noexcept nogil:
    # Multiply-and-truncate gives the bin up to one rounding step; one comparison against the
    # float64 edges on each side (two independent loads, at most one correction applies) makes
    # the result exactly "e[b] <= c < e[b+1]", the last bin closed so that 1.0 falls in it.
    cdef Py_ssize_t b = <Py_ssize_t>(c * nb)
    b = b if b < nb - 1 else nb - 1
    b = b if b > 0 else 0
    b = b + (c >= e[b + 1]) - (c < e[b])
    return b if b < nb - 1 else nb - 1


cdef inline Py_ssize_t _bin_search(double c, const double* e, Py_ssize_t nb,
                                   bint extra) noexcept nogil:
    # Index of the bin with e[b] <= c < e[b+1]: the number of edges <= c, minus one. Values at or
    # above the last edge go to the last bin (closed), or to an extra bin nb when `extra`.
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


cdef inline double _xlogx(floating x) noexcept nogil:
    # single-precision logarithm for float32 input: half the cost, error far below float32's
    if x <= 0:
        return 0.0
    if floating is float:
        return <double>x * <double>logf(x)
    else:
        return x * log(x)


cdef void _first_error(const floating* P, const target_t* T, const Py_ssize_t* Y, Py_ssize_t b0,
                       Py_ssize_t m, Py_ssize_t K, double tol, long long* err) noexcept nogil:
    # Slow path, only for a block known to hold a bad row: find which row and why.
    cdef Py_ssize_t j, k
    cdef double v, s
    cdef int code
    for j in range(m):
        code = 0
        s = 0.0
        for k in range(K):
            v = P[(b0 + j) * K + k]
            s += v
            if v != v or v - v != 0:
                code = E_PROB_NONFINITE
                break
            if v < 0 and code == 0:
                code = E_PROB_NEGATIVE
        if code == 0 and not (fabs(s - 1.0) <= tol):
            code = E_PROB_SUM
        if T != NULL:
            s = 0.0
            for k in range(K):
                v = T[(b0 + j) * K + k]
                s += v
                if v != v or v - v != 0:
                    code |= E_TRUE_NONFINITE
                elif v < 0:
                    code |= E_TRUE_NEGATIVE
            if not (fabs(s - 1.0) <= tol):
                code |= E_TRUE_SUM
        elif <size_t>Y[b0 + j] >= <size_t>K:
            code |= E_LABEL
        if code != 0:
            err[0] = b0 + j
            err[1] = code
            return


cdef inline void _flush_packed(long long* hcnt, double* hconf, double* top, double* sums,
                               Py_ssize_t n_groups, Py_ssize_t nb) noexcept nogil:
    # add the packed histogram (cells g * nb + b) to the top-label one and the rows per group
    cdef Py_ssize_t q, g, b, cell
    cdef long long x
    cdef double rows
    for g in range(n_groups):
        rows = 0.0
        for b in range(nb):
            cell = g * nb + b
            for q in range(PACK_SUB):
                x = hcnt[q * PACK_MAX + cell]
                top[cell * 3] += <double>(x & <long long>4294967295)
                top[cell * 3 + 1] += hconf[q * PACK_MAX + cell]
                top[cell * 3 + 2] += <double>(x >> 32)
                rows += <double>(x & <long long>4294967295)
                hcnt[q * PACK_MAX + cell] = 0
                hconf[q * PACK_MAX + cell] = 0.0
        sums[g * N_SUMS + S_COUNT] += rows


cdef void _rows(
    const floating* P, const target_t* T, const Py_ssize_t* Y, const double* W,
    const Py_ssize_t* G, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t K,
    const double* edges, Py_ssize_t nb, Py_ssize_t nbo, bint uniform, bint extra,
    bint round32, bint trunc_exact,
    const double* cedges, Py_ssize_t ncb, bint cuniform, bint sparse, bint ctrunc_exact,
    double eps, double tol, bint want_scores, bint want_entropy,
    double* top, double* cls, double* sums, Py_ssize_t n_groups,
    double* colp, double* colt, int* hits, Py_ssize_t hit_half,
    long long* ctab, long long* ltab,
    bint fused, float e1f, long long* ttab, double* colall, double* gsum,
    double* row_conf, double* row_acc, double* row_hpred, double* row_htrue,
    long long* err,
) noexcept nogil:
    # Rows are processed in blocks of BLOCK: (1) row max / argmax / validity sums for the whole
    # block, (2) branch-free bin indices and accuracies, (3) histogram updates spread over N_SUB
    # interleaved copies, (4) only when asked: classwise bins and the proper scores.
    cdef double cbuf[BLOCK]
    cdef double abuf[BLOCK]
    cdef Py_ssize_t argbuf[BLOCK]
    cdef Py_ssize_t binbuf[BLOCK]
    cdef int bins32[BLOCK]
    # per-row statistics of hard-label rows (vectorised, see _vecmath.h) and scratch
    cdef double vbuf[BLOCK]
    cdef double qbuf[BLOCK]
    cdef double hbuf[BLOCK]
    cdef double brbuf[BLOCK]
    cdef double cebuf[BLOCK]
    cdef double jsbuf[BLOCK]
    cdef double tvbuf[BLOCK]
    cdef double tmp[TMP]
    cdef double sbuf[6 * BLOCK]  # per-row scores of soft targets
    cdef Py_ssize_t i, j, k, b, b0, m, g = 0, y = 0, nh, hit, o, cell
    cdef const floating* p
    cdef const target_t* t
    cdef double v, tv, s, mn, c, w = 1.0
    cdef double brier, ce, htrue, hpred, js, tvd, d, lp, mid
    cdef double s_brier, s_ce, s_hpred, s_js, s_tv, s_hpred2
    cdef bint bad
    cdef Py_ssize_t top_sub = n_groups * nbo * 3
    cdef Py_ssize_t cls_sub = n_groups * K * ncb * 3
    cdef double* h
    cdef double* acc_cls
    cdef double* acc_sum
    cdef double* colt_g
    cdef bint soft = T != NULL
    # packed histogram (hard labels, equal-width bins, no weights, few groups x bins): per
    # sub-histogram and cell g * nb + b, rows + (correct rows << 32)
    cdef long long hcnt[PACK_SUB * PACK_MAX]
    cdef double hconf[PACK_SUB * PACK_MAX]
    cdef bint label_bad = False
    cdef bint packed = (uniform and not round32 and not soft and W == NULL
                        and n_groups * nb <= PACK_MAX)
    cdef Py_ssize_t n_packed = 0
    cdef long long dl, ok
    # Classwise equal-width bins without weights: only values >= the first inner edge are binned
    # one by one (a row summing to 1 has at most n_bins of them); the values of bin 0 are summed
    # per class in a vector pass and its counts follow after the pass (calibration_pass).
    cdef bint sparse_cls = cls != NULL and sparse
    cdef double e1 = cedges[1] if cls != NULL else 0.0
    cdef bint hard_scores = want_scores and not soft

    if err[0] >= 0:
        return
    if packed:
        memset(hcnt, 0, sizeof(hcnt))
        memset(hconf, 0, sizeof(hconf))
    b0 = start
    while b0 < stop:
        m = stop - b0
        if m > BLOCK:
            m = BLOCK
        if floating is float:
            if fused:
                # the whole report for this block in one AVX-512 pass (see _report512.h); it
                # checks nothing before accumulating, so a block it flags is checked exactly
                if sksoft_report512_f(P + b0 * K, m, K, Y + b0, G + b0 if G != NULL else NULL,
                                      tol, eps, <int>nb, e1f, want_entropy, ttab, ctab, ltab,
                                      colall, gsum, hits, <float*>(hits + hit_half),
                                      <float*>tmp, vbuf, qbuf, hbuf):
                    _first_error(P, T, Y, b0, m, K, tol, err)
                    if err[0] >= 0:
                        return
                b0 += m
                continue
        # (1) max / argmax / validity
        if floating is float:
            bad = sksoft_rowcheck_block_f(P + b0 * K, m, K, tol, cbuf, argbuf, <int>nb,
                                          bins32 if packed and trunc_exact else NULL)
        else:
            bad = sksoft_rowcheck_block_d(P + b0 * K, m, K, tol, cbuf, argbuf)
        if soft:
            for j in range(m):
                t = T + (b0 + j) * K
                s = 0.0
                mn = 0.0
                for k in range(K):
                    tv = t[k]
                    s += tv
                    mn = tv if tv < mn else mn
                bad = bad | (not (fabs(s - 1.0) <= tol)) | (not (mn >= 0))
        if not soft and not packed:
            # hard labels are used as column indices: check the range here, not in numpy (the
            # packed fast path checks them in its own loop, which never uses them as indices)
            for j in range(m):
                bad = bad | (<size_t>Y[b0 + j] >= <size_t>K)
        if bad:
            # the slow path names the row; it finds none when only the fast check's float32
            # row sum was (within rounding) beyond tol -- the block is fine then
            _first_error(P, T, Y, b0, m, K, tol, err)
            if err[0] >= 0:
                return
        if packed:
            # (2+3) the common case -- hard labels, equal-width bins, no weights -- in one loop
            # without per-row branches; count and hits share one integer cell
            for j in range(m):
                c = cbuf[j]
                if floating is float and trunc_exact:
                    b = bins32[j]  # from the row check
                else:
                    b = _bin_uniform(c, edges, nb)
                if G != NULL:
                    b = b + G[b0 + j] * nb
                # correct = 1 if the argmax is the label, else 0, without a compare (GCC turns
                # one into a branch here, which mispredicts on every other row)
                y = Y[b0 + j]
                label_bad = label_bad | (<size_t>y >= <size_t>K)
                dl = argbuf[j] ^ y
                ok = ((dl | -dl) >> 63) + 1
                abuf[j] = <double>ok
                hcnt[(j & (PACK_SUB - 1)) * PACK_MAX + b] += 1 + (ok << 32)
                hconf[(j & (PACK_SUB - 1)) * PACK_MAX + b] += c
            if label_bad:
                _first_error(P, T, Y, b0, m, K, tol, err)
                return
            n_packed += m
            if n_packed >= (1 << 30) or b0 + m >= stop:
                _flush_packed(hcnt, hconf, top, sums, n_groups, nb)
                n_packed = 0
        else:
            # (2) bins and accuracies (weights, soft targets, edges from data, torchmetrics
            # binning, or more than 256 group x bin cells)
            for j in range(m):
                c = cbuf[j]
                if round32:
                    c = <double>(<float>c)
                    cbuf[j] = c
                if uniform:
                    b = _bin_uniform(c, edges, nb)
                else:
                    b = _bin_search(c, edges, nb, extra)
                binbuf[j] = b
                if soft:
                    abuf[j] = T[(b0 + j) * K + argbuf[j]]
                else:
                    abuf[j] = 1.0 if argbuf[j] == Y[b0 + j] else 0.0
            # (3) histograms
            for j in range(m):
                if W != NULL:
                    w = W[b0 + j]
                if G != NULL:
                    g = G[b0 + j]
                h = top + (j & (N_SUB - 1)) * top_sub + (g * nbo + binbuf[j]) * 3
                h[0] += w
                h[1] += w * cbuf[j]
                h[2] += w * abuf[j]
        # rows per group (the packed histogram counts them itself)
        if packed:
            pass
        elif G == NULL:
            sums[S_COUNT] += m
        else:
            for j in range(m):
                sums[G[b0 + j] * N_SUMS + S_COUNT] += 1.0
        if row_conf != NULL:
            for j in range(m):
                row_conf[b0 + j] = cbuf[j]
                row_acc[b0 + j] = abuf[j]
        # (4a) classwise bins, sparse: the values of bin 0 (below the first inner edge) only go
        # into per-class sums (vectorised); the others, at most n_bins per row, are binned one
        # by one; bin 0's counts are derived after the pass (rows minus the binned values)
        if sparse_cls and ctab != NULL:
            # hard labels: the label's hit carries a flag in its cell, and every hit goes into
            # the (rows + label rows << 32, value sum) table ctab; rows per group and label go
            # into ltab (bin 0's label rows follow from them after the pass)
            if floating is float:
                nh = sksoft_sparse_hits_f(P + b0 * K, m, K, G + b0 if G != NULL else NULL,
                                          Y + b0, e1, colp, hits, hits + hit_half, n_groups,
                                          colp + n_groups * K, ltab)
                sksoft_bin_label_hits_f(P + b0 * K, hits, hits + hit_half, nh, cedges, ncb,
                                        ctrunc_exact, ctab)
            else:
                nh = sksoft_sparse_hits_d(P + b0 * K, m, K, G + b0 if G != NULL else NULL,
                                          Y + b0, e1, colp, hits, hits + hit_half, n_groups,
                                          colp + n_groups * K, ltab)
                sksoft_bin_label_hits_d(P + b0 * K, hits, hits + hit_half, nh, cedges, ncb,
                                        ctrunc_exact, ctab)
        elif sparse_cls:
            # soft targets: the hits' target mass goes into the double histogram
            if floating is float:
                nh = sksoft_sparse_hits_f(P + b0 * K, m, K, G + b0 if G != NULL else NULL,
                                          NULL, e1, colp, hits, hits + hit_half, n_groups,
                                          colp + n_groups * K, NULL)
            else:
                nh = sksoft_sparse_hits_d(P + b0 * K, m, K, G + b0 if G != NULL else NULL,
                                          NULL, e1, colp, hits, hits + hit_half, n_groups,
                                          colp + n_groups * K, NULL)
            for j in range(m):
                if G != NULL:
                    g = G[b0 + j]
                p = P + (b0 + j) * K
                t = T + (b0 + j) * K
                colt_g = colt + g * K
                for k in range(K):
                    colt_g[k] += t[k] if p[k] < e1 else 0.0
            if floating is float:
                sksoft_bin_hits_f(P + b0 * K, hits, hits + hit_half, nh, cedges, ncb,
                                  ctrunc_exact, cls, cls_sub)
            else:
                sksoft_bin_hits_d(P + b0 * K, hits, hits + hit_half, nh, cedges, ncb,
                                  ctrunc_exact, cls, cls_sub)
            for hit in range(nh):
                o = hits[hit]
                cell = hits[hit_half + hit]
                b = _bin_uniform(P[b0 * K + o], cedges, ncb)
                cls[(hit & (N_SUB - 1)) * cls_sub + (cell * ncb + b) * 3 + 2] += T[b0 * K + o]
        # (4b) classwise bins, dense (weights, or per-class edges)
        elif cls != NULL:
            for j in range(m):
                i = b0 + j
                p = P + i * K
                if W != NULL:
                    w = W[i]
                if G != NULL:
                    g = G[i]
                if soft:
                    t = T + i * K
                else:
                    y = Y[i]
                acc_cls = cls + (j & (N_SUB - 1)) * cls_sub + g * K * ncb * 3
                for k in range(K):
                    v = p[k]
                    if cuniform:
                        b = _bin_uniform(v, cedges, ncb)
                    else:
                        b = _bin_search(v, cedges + k * (ncb + 1), ncb, False)
                    acc_cls[(k * ncb + b) * 3] += w
                    acc_cls[(k * ncb + b) * 3 + 1] += w * v
                    if soft:
                        acc_cls[(k * ncb + b) * 3 + 2] += w * t[k]
                    elif k == y:
                        acc_cls[(k * ncb + b) * 3 + 2] += w
        if not want_scores:
            b0 += m
            continue
        # (4c) scores of hard targets: vectorised per-row statistics, then sums
        if hard_scores:
            if floating is float:
                sksoft_hard_block_f(P + b0 * K, m, K, Y + b0, tmp, vbuf, qbuf,
                                    hbuf if want_entropy else NULL)
            else:
                sksoft_hard_block_d(P + b0 * K, m, K, Y + b0, tmp, vbuf, qbuf,
                                    hbuf if want_entropy else NULL)
            if not want_entropy:
                for j in range(m):
                    hbuf[j] = 0.0
            sksoft_hard_scores(vbuf, qbuf, m, eps, brbuf, cebuf, jsbuf, tvbuf)
            if row_hpred != NULL:
                for j in range(m):
                    row_hpred[b0 + j] = hbuf[j]
                    row_htrue[b0 + j] = 0.0
            if G == NULL and W == NULL:
                s_brier = 0.0
                s_ce = 0.0
                s_hpred = 0.0
                s_js = 0.0
                s_tv = 0.0
                s_hpred2 = 0.0
                for j in range(m):
                    s_brier += brbuf[j]
                    s_ce += cebuf[j]
                    s_hpred += hbuf[j]
                    s_js += jsbuf[j]
                    s_tv += tvbuf[j]
                    s_hpred2 += hbuf[j] * hbuf[j]
                sums[S_BRIER] += s_brier
                sums[S_CE] += s_ce
                sums[S_HPRED] += s_hpred
                sums[S_JS] += s_js
                sums[S_TV] += s_tv
                sums[S_HPRED2] += s_hpred2
            else:
                for j in range(m):
                    if W != NULL:
                        w = W[b0 + j]
                    if G != NULL:
                        g = G[b0 + j]
                    acc_sum = sums + g * N_SUMS
                    acc_sum[S_BRIER] += w * brbuf[j]
                    acc_sum[S_CE] += w * cebuf[j]
                    acc_sum[S_HPRED] += w * hbuf[j]
                    acc_sum[S_JS] += w * jsbuf[j]
                    acc_sum[S_TV] += w * tvbuf[j]
                    acc_sum[S_HPRED2] += w * hbuf[j] * hbuf[j]
            b0 += m
            continue
        # (4d) scores of soft targets: vectorised per-element terms, summed per row
        if floating is float:
            if target_t is float:
                sksoft_soft_block_ff(P + b0 * K, T + b0 * K, m, K, eps, tmp, sbuf, BLOCK)
            else:
                sksoft_soft_block_fd(P + b0 * K, T + b0 * K, m, K, eps, tmp, sbuf, BLOCK)
        else:
            if target_t is float:
                sksoft_soft_block_df(P + b0 * K, T + b0 * K, m, K, eps, tmp, sbuf, BLOCK)
            else:
                sksoft_soft_block_dd(P + b0 * K, T + b0 * K, m, K, eps, tmp, sbuf, BLOCK)
        for j in range(m):
            i = b0 + j
            if W != NULL:
                w = W[i]
            if G != NULL:
                g = G[i]
            brier = sbuf[j]
            tvd = 0.5 * sbuf[BLOCK + j]
            ce = sbuf[2 * BLOCK + j]
            js = sbuf[3 * BLOCK + j]
            htrue = sbuf[4 * BLOCK + j]
            hpred = sbuf[5 * BLOCK + j] if want_entropy else 0.0
            acc_sum = sums + g * N_SUMS
            acc_sum[S_BRIER] += w * brier
            acc_sum[S_CE] += w * ce
            acc_sum[S_HTRUE] += w * htrue
            acc_sum[S_HPRED] += w * hpred
            acc_sum[S_JS] += w * js
            acc_sum[S_TV] += w * tvd
            acc_sum[S_HTRUE2] += w * htrue * htrue
            acc_sum[S_HPRED2] += w * hpred * hpred
            acc_sum[S_HCROSS] += w * htrue * hpred
            if row_hpred != NULL:
                row_hpred[i] = hpred
                row_htrue[i] = htrue
        b0 += m


cdef inline double* _ptr(double[::1] a) noexcept nogil:
    if a.shape[0] == 0:
        return NULL
    return &a[0]


def _per_thread(Py_ssize_t nt, shape, dtype, fill=0):
    """Buffers of ``shape`` for each of ``nt`` threads whose thread slices start on their own
    64-byte cache lines with a spare line between them: threads that update their tables on
    every row never write to a line another thread uses. Returns the (nt, *shape) view and the
    C-contiguous (nt, padded size) array under it (for the kernel's pointers)."""
    cdef Py_ssize_t inner = 1
    for d in shape:
        inner *= d
    if nt == 1:  # (small inputs run on one thread: no padding, no overhead)
        one = (np.zeros((1,) + tuple(shape), dtype=dtype) if fill == 0
               else np.full((1,) + tuple(shape), fill, dtype=dtype))
        return one, one.reshape(1, inner)
    cdef Py_ssize_t itemsize = np.dtype(dtype).itemsize
    cdef Py_ssize_t per = ((inner * itemsize + 63) // 64 + 1) * (64 // itemsize)
    raw = np.full(nt * per + 64 // itemsize, fill, dtype=dtype)
    cdef Py_ssize_t off = ((-raw.ctypes.data) % 64) // itemsize
    flat = raw[off:off + nt * per].reshape(nt, per)
    return flat[:, :inner].reshape((nt,) + tuple(shape)), flat


def calibration_pass(
    const floating[:, ::1] prob,
    const target_t[:, ::1] y_soft,
    const Py_ssize_t[::1] y_hard,
    const double[::1] weight,
    const Py_ssize_t[::1] group,
    Py_ssize_t n_groups,
    const double[::1] edges,
    bint uniform,
    bint extra_bin,
    bint round32,
    bint trunc_exact,
    const double[::1] class_edges,
    Py_ssize_t n_class_bins,
    bint class_uniform,
    bint class_trunc_exact,
    bint classwise,
    double eps,
    double tol,
    bint want_scores,
    bint want_entropy,
    double[::1] row_conf,
    double[::1] row_acc,
    double[::1] row_hpred,
    double[::1] row_htrue,
    int n_threads,
):
    """One pass over ``prob``; returns (top, cls, sums, err_row, err_code).

    ``top`` has shape (n_groups, n_bins (+1 with extra_bin), 3) holding the weight, confidence
    sum and accuracy sum of each bin; ``cls`` (n_groups, K, n_class_bins, 3) the same per class,
    or None; ``sums`` (n_groups, N_SUMS). ``y_soft`` has zero rows when ``y_hard`` is used.
    ``class_edges`` is (n_class_bins+1,) for uniform class bins, or K * (n_class_bins+1) values.
    ``trunc_exact`` / ``class_trunc_exact``: float32 input whose equal-width bins may be found
    by truncation (see ``_stats.float32_trunc_is_exact``); the caller decides.
    """
    cdef Py_ssize_t n = prob.shape[0], K = prob.shape[1]
    cdef Py_ssize_t nb = edges.shape[0] - 1
    cdef Py_ssize_t nbo = nb + 1 if extra_bin else nb
    cdef Py_ssize_t ncb = n_class_bins if classwise else 0
    cdef bint soft = y_soft.shape[0] > 0
    cdef int nt = n_threads if n_threads > 0 else 1
    cdef Py_ssize_t block = 4096
    cdef Py_ssize_t n_blocks = (n + block - 1) // block
    cdef Py_ssize_t blk, tid, start, stop
    if nt > n_blocks:
        nt = <int>max(n_blocks, 1)

    # per-thread accumulators (see _per_thread)
    top_buf, top_raw = _per_thread(nt, (N_SUB, n_groups, nbo, 3), np.float64)
    sum_buf, sum_raw = _per_thread(nt, (n_groups, N_SUMS), np.float64)
    err_buf, err_raw = _per_thread(nt, (2,), np.int64, -1)
    # sparse classwise binning (equal-width class bins, no weights): per-thread sums of the
    # values in bin 0 per group and class, and the positions of the block's values outside bin
    # 0 -- at most (1 + tol) / e1 of them per row, since rows sum to 1 (checked before they
    # are binned)
    cdef bint sparse = (classwise and class_uniform and weight.shape[0] == 0
                        and BLOCK * K < 2**31 and n_groups * K < 2**31  # int offsets/cells
                        and (soft or n < 2**31))  # (hard labels: packed counts, see ctab)
    # the AVX-512 report pass (see _report512.h): float32, hard labels, no weights, the same
    # equal-width bins (exact by truncation) for the top label and the classes, scores
    cdef bint fused = False
    if floating is float:
        fused = (sksoft_vec_level() >= 2 and sparse and not soft and uniform and not extra_bin
                 and not round32 and trunc_exact and class_trunc_exact and ncb == nb
                 and want_scores and row_conf.shape[0] == 0 and row_hpred.shape[0] == 0
                 and 2 <= K <= 16 and eps >= 2.2250738585072014e-308
                 and n_groups * K * nb < 2**30)
    cdef float e1f = 0.0
    cdef Py_ssize_t per_row = 0
    if sparse:
        per_row = min(K, int(np.floor((1.0 + tol) / class_edges[1])) + 1)
    if fused:
        per_row = K  # the fused pass lists values before the rows are checked
        e1f = <float>class_edges[1]
        if <double>e1f < class_edges[1]:
            e1f = nextafterf(e1f, INFINITY)
    ttab_buf, ttab_raw = _per_thread(nt, (n_groups * K * nb * 2 if fused else 1,), np.int64)
    colall_buf, colall_raw = _per_thread(nt, (n_groups, 16 if fused else 1), np.float64)
    gsum_buf, gsum_raw = _per_thread(nt, (n_groups, 8 if fused else 1), np.float64)
    cdef long long[:, ::1] ttab_v = ttab_raw
    cdef double[:, ::1] colall_v = colall_raw
    cdef double[:, ::1] gsum_v = gsum_raw
    cdef Py_ssize_t ttab_stride = ttab_v.shape[1]
    cdef Py_ssize_t colall_stride = colall_v.shape[1]
    cdef Py_ssize_t gsum_stride = gsum_v.shape[1]
    if sparse:
        col_buf, col_raw = _per_thread(nt, (2, n_groups * (K + 16)), np.float64)
        hit_buf, hit_raw = _per_thread(nt, (2 * (BLOCK * per_row + 17),), np.intc)
    else:
        col_buf, col_raw = _per_thread(nt, (2, 1), np.float64)
        hit_buf, hit_raw = _per_thread(nt, (2,), np.intc)
    cdef double[:, ::1] col_v = col_raw
    cdef int[:, ::1] hit_v = hit_raw
    # hard labels: the hits go into a table (sksoft_bin_label_hits_*) of, per thread and
    # (group, class, bin), an int64 rows + (label rows << 32) and a float64 value sum; rows per
    # group and label in ltab
    cdef bint label_cls = sparse and not soft
    ctab_buf, ctab_raw = _per_thread(nt, (n_groups * K * ncb * 2 if label_cls else 1,), np.int64)
    ltab_buf, ltab_raw = _per_thread(nt, (n_groups * K if label_cls else 1,), np.int64)
    cdef long long[:, ::1] ctab_v = ctab_raw
    cdef long long[:, ::1] ltab_v = ltab_raw
    cdef long long* ctab_p = &ctab_v[0, 0] if label_cls else NULL
    if label_cls:  # (the double histogram then only holds the result)
        cls_buf = np.zeros((1, 1, n_groups, K, ncb, 3), dtype=np.float64)
        cls_raw = cls_buf.reshape(1, -1)
    elif classwise:
        cls_buf, cls_raw = _per_thread(nt, (N_SUB, n_groups, K, ncb, 3), np.float64)
    else:
        cls_buf, cls_raw = _per_thread(nt, (1,), np.float64)
    cdef long long* ltab_p = &ltab_v[0, 0]
    cdef Py_ssize_t ctab_stride = ctab_v.shape[1], ltab_stride = ltab_v.shape[1]

    cdef double[:, ::1] top_v = top_raw
    cdef double[:, ::1] cls_v = cls_raw
    cdef double[:, ::1] sum_v = sum_raw
    cdef long long[:, ::1] err_v = err_raw
    cdef Py_ssize_t top_stride = top_v.shape[1]
    cdef Py_ssize_t cls_stride = 0 if label_cls else cls_v.shape[1]
    cdef Py_ssize_t sum_stride = sum_v.shape[1]
    cdef Py_ssize_t err_stride = err_v.shape[1]

    cdef const floating* P = &prob[0, 0]
    cdef const target_t* T = &y_soft[0, 0] if soft else NULL
    cdef const Py_ssize_t* Y = NULL if soft else &y_hard[0]
    cdef const double* W = &weight[0] if weight.shape[0] > 0 else NULL
    cdef const Py_ssize_t* Gp = &group[0] if group.shape[0] > 0 else NULL
    cdef const double* E = &edges[0]
    cdef const double* CE = &class_edges[0] if classwise else NULL
    cdef double* rc = _ptr(row_conf)
    cdef double* ra = _ptr(row_acc)
    cdef double* rhp = _ptr(row_hpred)
    cdef double* rht = _ptr(row_htrue)
    cdef double* top_p = &top_v[0, 0]
    cdef double* cls_p = &cls_v[0, 0]
    cdef double* sum_p = &sum_v[0, 0]
    cdef long long* err_p = &err_v[0, 0]
    cdef Py_ssize_t col_stride = col_v.shape[1]
    cdef Py_ssize_t half = col_buf.shape[2]
    cdef double* col_p = &col_v[0, 0]
    cdef int* hit_p = &hit_v[0, 0]
    cdef Py_ssize_t hit_stride = hit_v.shape[1]
    cdef Py_ssize_t hit_half = hit_buf.shape[1] // 2

    if nt == 1:
        with nogil:
            _rows(P, T, Y, W, Gp, 0, n, K, E, nb, nbo, uniform, extra_bin, round32, trunc_exact,
                  CE, ncb, class_uniform, sparse, class_trunc_exact, eps, tol, want_scores, want_entropy,
                  top_p, cls_p if classwise else NULL, sum_p, n_groups,
                  col_p, col_p + half, hit_p, hit_half, ctab_p, ltab_p,
                  fused, e1f, &ttab_v[0, 0], &colall_v[0, 0], &gsum_v[0, 0],
                  rc, ra, rhp, rht, err_p)
    else:
        for blk in prange(n_blocks, nogil=True, schedule="static", num_threads=nt):
            tid = threadid()
            start = blk * block
            stop = start + block
            if stop > n:
                stop = n
            _rows(P, T, Y, W, Gp, start, stop, K, E, nb, nbo, uniform, extra_bin, round32,
                  trunc_exact,
                  CE, ncb, class_uniform, sparse, class_trunc_exact, eps, tol, want_scores, want_entropy,
                  top_p + tid * top_stride,
                  (cls_p + tid * cls_stride) if classwise else NULL,
                  sum_p + tid * sum_stride, n_groups,
                  col_p + tid * col_stride, col_p + tid * col_stride + half,
                  hit_p + tid * hit_stride, hit_half,
                  (ctab_p + tid * ctab_stride) if label_cls else NULL,
                  ltab_p + tid * ltab_stride,
                  fused, e1f, &ttab_v[0, 0] + tid * ttab_stride,
                  &colall_v[0, 0] + tid * colall_stride, &gsum_v[0, 0] + tid * gsum_stride,
                  rc, ra, rhp, rht, err_p + tid * err_stride)

    top = top_buf.sum(axis=(0, 1))
    cls = cls_buf.sum(axis=(0, 1)) if classwise else None
    sums = sum_buf.sum(axis=0)
    if fused:
        # the top-label histogram per (group, argmax class, bin): summed over the classes it is
        # the top-label histogram, per class the classwise share of the rows' largest values
        tp = ttab_buf[:, 0::2].sum(axis=0).reshape(n_groups, K, nb)
        tconf = ttab_buf.view(np.float64)[:, 1::2].sum(axis=0).reshape(n_groups, K, nb)
        tcount = tp & 0xFFFFFFFF
        tcorrect = tp >> 32
        top[:, :nb, 0] = tcount.sum(axis=1)
        top[:, :nb, 1] = tconf.sum(axis=1)
        top[:, :nb, 2] = tcorrect.sum(axis=1)
        cls[:, :, :, 0] += tcount
        cls[:, :, :, 1] += tconf
        cls[:, :, :, 2] += tcorrect
        sums[:, S_COUNT] = tcount.sum(axis=(1, 2))
        gs = gsum_buf.sum(axis=0)
        for field, at in ((S_BRIER, 0), (S_CE, 1), (S_HPRED, 2), (S_JS, 3), (S_TV, 4),
                          (S_HPRED2, 5)):
            sums[:, field] = gs[:, at]
    # weight and accuracy sums are those of the top-label histogram
    sums[:, S_WEIGHT] = top[:, :, 0].sum(axis=1)
    sums[:, S_ACC] = top[:, :, 2].sum(axis=1)
    if label_cls:
        packed = ctab_buf[:, 0::2].sum(axis=0).reshape(n_groups, K, ncb)
        cls[:, :, :, 0] += packed & 0xFFFFFFFF
        cls[:, :, :, 1] += ctab_buf.view(np.float64)[:, 1::2].sum(axis=0).reshape(n_groups, K, ncb)
        cls[:, :, :, 2] += packed >> 32
    if fused:
        # bin 0 of every class: the column sums less everything binned elsewhere
        cls[:, :, 0, 1] = (colall_buf.sum(axis=0)[:, :K] - cls[:, :, 1:, 1].sum(axis=2))
    if sparse:
        # bin 0 of every class: the sums of its values, and the rows not binned elsewhere
        # (counts are exact integers)
        col = col_buf.sum(axis=0)[:, :n_groups * K]
        cls[:, :, 0, 1] += col[0].reshape(n_groups, K)
        if soft:
            cls[:, :, 0, 2] += col[1].reshape(n_groups, K)
        count0 = sums[:, S_COUNT][:, None] - cls[:, :, 1:, 0].sum(axis=2)
        cls[:, :, 0, 0] = count0
        if label_cls:
            # label rows in bin 0: rows of the label minus those binned elsewhere
            cls[:, :, 0, 2] = (ltab_buf.sum(axis=0).reshape(n_groups, K)
                               - cls[:, :, 1:, 2].sum(axis=2))
        empty = count0 <= 0
        cls[:, :, 0, 1] = np.where(empty, 0.0, np.maximum(cls[:, :, 0, 1], 0.0))
        if soft:
            cls[:, :, 0, 2] = np.where(empty, 0.0, np.maximum(cls[:, :, 0, 2], 0.0))
    bad = err_buf[err_buf[:, 0] >= 0]
    if bad.shape[0]:
        j = int(np.argmin(bad[:, 0]))
        return top, cls, sums, int(bad[j, 0]), int(bad[j, 1])
    return top, cls, sums, -1, 0


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
            b = _bin_search(values[i], &edges[0], nb, False)
            if weight.shape[0] > 0:
                w = weight[i]
            if group.shape[0] > 0:
                g = group[i]
            o[g, b, 0] += w
            o[g, b, 1] += w * values[i]
            o[g, b, 2] += w * acc[i]
    return out


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


# ------------------------------------------------------------------ equal-mass bins in O(n)
#
# equal_mass_edges (in _stats.py) sorts the values and walks their tie groups greedily. The same
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
            b = _bin_search(v, E, nb, False)
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


def row_check(const floating[:, ::1] prob, double tol):
    """Per row: 1 if the kernel's row check flags it (sum off 1 beyond tol, negative, NaN/inf),
    else 0; with the first argmax and the maximum. For tests of the SIMD row checks."""
    cdef Py_ssize_t n = prob.shape[0], K = prob.shape[1], j
    flags = np.zeros(n, dtype=np.intc)
    best = np.zeros(n)
    arg = np.zeros(n, dtype=np.intp)
    cdef int[::1] f = flags
    cdef double[::1] bv = best
    cdef Py_ssize_t[::1] av = arg
    for j in range(n):
        # one row per call, so that a flag belongs to its row
        if floating is float:
            f[j] = sksoft_rowcheck_block_f(&prob[j, 0], 1, K, tol, &bv[j], &av[j], 1, NULL)
        else:
            f[j] = sksoft_rowcheck_block_d(&prob[j, 0], 1, K, tol, &bv[j], &av[j])
    # and in blocks, for the four-row paths
    block_flags = np.zeros((n + 255) // 256, dtype=np.intc)
    cdef int[::1] bf = block_flags
    cdef Py_ssize_t b0
    best2 = np.zeros(n)
    arg2 = np.zeros(n, dtype=np.intp)
    cdef double[::1] bv2 = best2
    cdef Py_ssize_t[::1] av2 = arg2
    for b0 in range(0, n, 256):
        if floating is float:
            bf[b0 // 256] = sksoft_rowcheck_block_f(&prob[b0, 0], min(256, n - b0), K, tol,
                                                    &bv2[b0], &av2[b0], 1, NULL)
        else:
            bf[b0 // 256] = sksoft_rowcheck_block_d(&prob[b0, 0], min(256, n - b0), K, tol,
                                                    &bv2[b0], &av2[b0])
    return flags, best, arg, block_flags, best2, arg2


# ------------------------------------------------------------------ average ranks in O(n)

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
