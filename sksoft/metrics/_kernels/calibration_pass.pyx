# The one pass over the probability matrix behind every sksoft calibration metric.
#
# Per group and per confidence bin: the total weight, confidence sum and accuracy sum of the top
# label and, optionally, of every class (classwise calibration); per group: the sums of the
# proper scores, divergences and entropies (fields in _layout.h). The pass also checks every row
# (NaN, inf, negative, sums off 1, labels out of range) and reports the first bad one: cheap
# inside the pass, where a separate validation would cost passes of its own. It never checks
# its arguments: sksoft.metrics._pass (Python) builds them. Compiler directives (boundscheck,
# wraparound, cdivision) are set once in setup.py.

import numpy as np

from cython.parallel cimport prange, threadid
from libc.math cimport nextafterf, INFINITY
from libc.string cimport memset
from libc.stdlib cimport malloc, free

from ._common cimport N_SUB, bin_uniform, bin_search, floating, target_t


cdef extern from "_layout.h" nogil:
    enum:
        S_WEIGHT
        S_ACC
        S_BRIER
        S_CE
        S_HTRUE
        S_HPRED
        S_JS
        S_TV
        S_HTRUE2
        S_HPRED2
        S_HCROSS
        S_COUNT
        N_SUMS
        E_PROB_NONFINITE
        E_PROB_NEGATIVE
        E_PROB_SUM
        E_TRUE_NONFINITE
        E_TRUE_NEGATIVE
        E_TRUE_SUM
        E_LABEL
        N_ERRORS
        R_BRIER
        R_CE
        R_HTRUE
        R_HPRED
        R_JS
        R_TV
        N_ROW_SCORES
    const char* sksoft_sum_field_name(int i)
    const char* sksoft_row_score_name(int i)
    const int* sksoft_error_bits_
    const char** sksoft_error_keys_
    const char** sksoft_error_texts_

cdef extern from "_pass.h" nogil:
    ctypedef struct sk_config:
        Py_ssize_t K, n_groups, nb, nbo
        const double* edges
        int uniform, extra_bin, round32, trunc_exact
        int classwise, sparse
        Py_ssize_t ncb
        const double* class_edges
        int class_uniform, class_trunc_exact
        int want_scores, want_entropy
        double eps, tol
        int fused
        float e1f
        Py_ssize_t hit_half
    ctypedef struct sk_inputs:
        const Py_ssize_t* Y
        const double* W
        const Py_ssize_t* G
    ctypedef struct sk_rows:
        double* conf
        double* acc
        double* hpred
        double* htrue
        Py_ssize_t* cell
        double* score
    ctypedef struct sk_accum:
        double* top
        double* cls
        double* sums
        double* colp
        double* colt
        int* hits
        long long* ctab
        long long* ltab
        long long* ttab
        double* colall
        double* gsum
        long long* err
    ctypedef struct sk_scratch:
        int* cell
        float* val
        float* tbuf
        double* v
        double* q
        double* h

cdef extern from "_rowrule.h" nogil:
    # the row rule (finite, non-negative, sum within tol of 1) on a row's sum, see _rowrule.h
    int sksoft_row_sum_off(double s, double tol)
    int sksoft_row_bad(double s, int neg, double tol)

cdef extern from "_rowstats.h" nogil:
    # per row: max and first argmax; returns nonzero if a row is bad (sum off 1 beyond tol,
    # negative, NaN/inf); the float32 version can also give the bins of the maxima
    int sksoft_rowcheck_block_f(const float* P, Py_ssize_t m, Py_ssize_t K, double tol,
                                double* best, Py_ssize_t* arg, int nb, int* bins)
    int sksoft_rowcheck_block_d(const double* P, Py_ssize_t m, Py_ssize_t K, double tol,
                                double* best, Py_ssize_t* arg)

cdef extern from "_vecmath.h" nogil:
    # logarithms and the per-row score terms, compiled for the baseline ISA and AVX2 + FMA with
    # runtime dispatch (see _vecmath.h)
    int sksoft_vec_set_level(int level)
    int sksoft_vec_available()
    int sksoft_vec_level()
    void sksoft_hard_block_f(const float* P, Py_ssize_t m, Py_ssize_t K, const Py_ssize_t* y,
                             double* tmp, double* v, double* q, double* h)
    void sksoft_hard_block_d(const double* P, Py_ssize_t m, Py_ssize_t K, const Py_ssize_t* y,
                             double* tmp, double* v, double* q, double* h)
    void sksoft_hard_scores(const double* v, const double* q, Py_ssize_t n, double eps,
                            double* brier, double* ce, double* js, double* tv)
    void sksoft_soft_block_ff(const float* P, const float* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)
    void sksoft_soft_block_fd(const float* P, const double* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)
    void sksoft_soft_block_df(const double* P, const float* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)
    void sksoft_soft_block_dd(const double* P, const double* T, Py_ssize_t m, Py_ssize_t K,
                              double eps, double* tmp, double* out, Py_ssize_t stride)

cdef extern from "_classwise.h" nogil:
    # sparse classwise binning: list the values outside bin 0, then bin them (see _classwise.h)
    void sksoft_classwise_init()
    Py_ssize_t sksoft_sparse_hits_f(const float* P, Py_ssize_t m, Py_ssize_t K,
                                    const Py_ssize_t* G, const Py_ssize_t* Y, double e1,
                                    double* col, int* off, int* cell, Py_ssize_t n_groups,
                                    double* slots, long long* lab)
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

cdef extern from "_binning.h" nogil:
    # the packed top-label histogram of one block (hard labels, equal-width bins, no weights)
    enum:
        SK_PACK_SUB
        SK_PACK_MAX
    int sksoft_packed_block(const double* conf, const Py_ssize_t* arg, const int* bins,
                            const Py_ssize_t* Y, const Py_ssize_t* G, const double* edges,
                            Py_ssize_t nb, Py_ssize_t K, Py_ssize_t m, long long* hcnt,
                            double* hconf, double* acc)

cdef extern from "_report512.h" nogil:
    # the report's fused float32 pass for AVX-512 CPUs (vec level 2, see _report512.h)
    int sksoft_report512_f(const float* P, Py_ssize_t m, const Py_ssize_t* Y,
                           const Py_ssize_t* G, const sk_config* c, sk_accum* acc,
                           sk_scratch* scr)

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

cdef enum:
    BLOCK = 256        # rows per block of the row loop
    TMP = 4096         # = SK_TMP in _vecmath.h
    ROWS_PER_TASK = 4096  # rows per parallel task


def openmp_enabled():
    """Whether the kernels were compiled with OpenMP support."""
    return bool(sksoft_openmp_enabled())


def max_threads():
    """OpenMP's default number of threads (1 without OpenMP)."""
    return sksoft_max_threads()


def set_vec_level(int level):
    """Choose the vectorised code path: 0 baseline, 1 AVX2 + FMA, 2 also the AVX-512 report pass,
    -1 the best the CPU has.

    Returns the level in use (never above what the CPU supports). For tests and benchmarks.
    """
    return sksoft_vec_set_level(level)


def vec_level():
    """The vectorised code path in use (0, 1 or 2)."""
    return sksoft_vec_level()


def vec_level_available():
    """The best vectorised code path this CPU and build support (0, 1 or 2)."""
    return sksoft_vec_available()


def sum_fields():
    """Names of the per-group sums, in the order of the pass's ``sums`` columns (_layout.h)."""
    return tuple(sksoft_sum_field_name(i).decode() for i in range(N_SUMS))


def row_score_fields():
    """Names of the per-row score terms (columns of the ``score`` row output, _layout.h)."""
    return tuple(sksoft_row_score_name(i).decode() for i in range(N_ROW_SCORES))


def error_codes():
    """The pass's error bits as (bit, key, message) in order of precedence (_layout.h)."""
    return tuple((sksoft_error_bits_[i], sksoft_error_keys_[i].decode(),
                  sksoft_error_texts_[i].decode()) for i in range(N_ERRORS))


sksoft_classwise_init()
sksoft_vec_set_level(-1)


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
        if code == 0 and sksoft_row_sum_off(s, tol):
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
            if sksoft_row_sum_off(s, tol):
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
            for q in range(SK_PACK_SUB):
                x = hcnt[q * SK_PACK_MAX + cell]
                top[cell * 3] += <double>(x & <long long>4294967295)
                top[cell * 3 + 1] += hconf[q * SK_PACK_MAX + cell]
                top[cell * 3 + 2] += <double>(x >> 32)
                rows += <double>(x & <long long>4294967295)
                hcnt[q * SK_PACK_MAX + cell] = 0
                hconf[q * SK_PACK_MAX + cell] = 0.0
        sums[g * N_SUMS + S_COUNT] += rows



cdef void _rows(const floating* P, const target_t* T, const sk_config* c,
                const sk_inputs* inp, const sk_rows* ro, sk_accum* a, Py_ssize_t start,
                Py_ssize_t stop) noexcept nogil:
    # Rows are processed in blocks of BLOCK: (1) row max / argmax / validity sums for the whole
    # block, (2) branch-free bin indices and accuracies, (3) histogram updates spread over N_SUB
    # interleaved copies, (4) only when asked: classwise bins and the proper scores.
    #
    # The configuration and the accumulators' addresses are copied to locals first: stores
    # through the accumulators could otherwise alias them and force reloads in the inner loops.
    cdef const Py_ssize_t* Y = inp.Y
    cdef const double* W = inp.W
    cdef const Py_ssize_t* G = inp.G
    cdef Py_ssize_t K = c.K, n_groups = c.n_groups, nb = c.nb, nbo = c.nbo, ncb = c.ncb
    cdef const double* edges = c.edges
    cdef const double* cedges = c.class_edges
    cdef bint uniform = c.uniform, extra = c.extra_bin, round32 = c.round32
    cdef bint trunc_exact = c.trunc_exact, cuniform = c.class_uniform, sparse = c.sparse
    cdef bint ctrunc_exact = c.class_trunc_exact, fused = c.fused
    cdef bint want_scores = c.want_scores, want_entropy = c.want_entropy
    cdef double eps = c.eps, tol = c.tol
    cdef Py_ssize_t hit_half = c.hit_half
    cdef double* top = a.top
    cdef double* cls = a.cls
    cdef double* sums = a.sums
    cdef double* colp = a.colp
    cdef double* colt = a.colt
    cdef int* hits = a.hits
    cdef long long* ctab = a.ctab
    cdef long long* ltab = a.ltab
    cdef long long* err = a.err
    cdef double* row_conf = ro.conf
    cdef double* row_acc = ro.acc
    cdef double* row_hpred = ro.hpred
    cdef double* row_htrue = ro.htrue
    cdef Py_ssize_t* row_cell = ro.cell
    cdef double* row_score = ro.score
    cdef double* rs
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
    cdef sk_scratch scr
    cdef Py_ssize_t i, j, k, b, b0, m, g = 0, y = 0, nh, hit, o, cell
    cdef const floating* p
    cdef const target_t* t
    cdef double v, tv, s, mn, cf, w = 1.0
    cdef double brier, ce, htrue, hpred, js, tvd
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
    cdef long long hcnt[SK_PACK_SUB * SK_PACK_MAX]
    cdef double hconf[SK_PACK_SUB * SK_PACK_MAX]
    cdef bint label_bad = False
    cdef bint packed = (uniform and not round32 and not soft and W == NULL
                        and n_groups * nb <= SK_PACK_MAX)
    cdef Py_ssize_t n_packed = 0
    # Classwise equal-width bins without weights: only values >= the first inner edge are binned
    # one by one (a row summing to 1 has at most n_bins of them); the values of bin 0 are summed
    # per class in a vector pass and its counts follow after the pass (_merge).
    cdef bint sparse_cls = cls != NULL and sparse
    cdef double e1 = cedges[1] if cls != NULL else 0.0
    cdef bint hard_scores = want_scores and not soft

    scr.cell = hits
    scr.val = <float*>(hits + hit_half)
    scr.tbuf = <float*>tmp
    scr.v = vbuf
    scr.q = qbuf
    scr.h = hbuf

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
                if sksoft_report512_f(P + b0 * K, m, Y + b0, G + b0 if G != NULL else NULL,
                                      c, a, &scr):
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
                bad = bad | sksoft_row_bad(s, not (mn >= 0), tol)
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
            # without per-row branches; count and hits share one integer cell (_binning.h)
            label_bad = sksoft_packed_block(
                cbuf, argbuf, bins32 if (floating is float and trunc_exact) else NULL,
                Y + b0, G + b0 if G != NULL else NULL, edges, nb, K, m, hcnt, hconf, abuf)
            if label_bad:
                _first_error(P, T, Y, b0, m, K, tol, err)
                return
            if row_cell != NULL:  # (a second loop: the one above is the hottest of all)
                for j in range(m):
                    if floating is float and trunc_exact:
                        b = bins32[j]
                    else:
                        b = bin_uniform(cbuf[j], edges, nb)
                    row_cell[b0 + j] = b + (G[b0 + j] * nb if G != NULL else 0)
            n_packed += m
            if n_packed >= (1 << 30) or b0 + m >= stop:
                _flush_packed(hcnt, hconf, top, sums, n_groups, nb)
                n_packed = 0
        else:
            # (2) bins and accuracies (weights, soft targets, edges from data, torchmetrics
            # binning, or more than 256 group x bin cells)
            for j in range(m):
                cf = cbuf[j]
                if round32:
                    cf = <double>(<float>cf)
                    cbuf[j] = cf
                if uniform:
                    b = bin_uniform(cf, edges, nb)
                else:
                    b = bin_search(cf, edges, nb, extra)
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
            if row_cell != NULL:
                for j in range(m):
                    row_cell[b0 + j] = (G[b0 + j] * nbo if G != NULL else 0) + binbuf[j]
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
                b = bin_uniform(P[b0 * K + o], cedges, ncb)
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
                        b = bin_uniform(v, cedges, ncb)
                    else:
                        b = bin_search(v, cedges + k * (ncb + 1), ncb, False)
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
            if row_score != NULL:
                for j in range(m):
                    rs = row_score + (b0 + j) * N_ROW_SCORES
                    rs[R_BRIER] = brbuf[j]
                    rs[R_CE] = cebuf[j]
                    rs[R_HTRUE] = 0.0
                    rs[R_HPRED] = hbuf[j]
                    rs[R_JS] = jsbuf[j]
                    rs[R_TV] = tvbuf[j]
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
            if row_score != NULL:
                rs = row_score + i * N_ROW_SCORES
                rs[R_BRIER] = brier
                rs[R_CE] = ce
                rs[R_HTRUE] = htrue
                rs[R_HPRED] = hpred
                rs[R_JS] = js
                rs[R_TV] = tvd
        b0 += m


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


cdef class _Tables:
    """One pass's per-thread accumulators: numpy arrays of shape (threads, ...) (see
    _per_thread), and one sk_accum of pointers into them per thread."""

    cdef sk_accum* acc
    cdef int nt
    cdef dict views
    cdef list keep

    def __cinit__(self):
        self.acc = NULL

    def __dealloc__(self):
        free(self.acc)

    cdef double* _add_double(self, str name, shape, Py_ssize_t* stride, double fill=0.0):
        view, raw = _per_thread(self.nt, shape, np.float64, fill)
        self.views[name] = view
        self.keep.append(raw)
        cdef double[:, ::1] rv = raw
        stride[0] = rv.shape[1]
        return &rv[0, 0]

    cdef long long* _add_int64(self, str name, shape, Py_ssize_t* stride, long long fill=0):
        view, raw = _per_thread(self.nt, shape, np.int64, fill)
        self.views[name] = view
        self.keep.append(raw)
        cdef long long[:, ::1] rv = raw
        stride[0] = rv.shape[1]
        return &rv[0, 0]

    cdef int* _add_int(self, str name, shape, Py_ssize_t* stride):
        view, raw = _per_thread(self.nt, shape, np.intc)
        self.views[name] = view
        self.keep.append(raw)
        cdef int[:, ::1] rv = raw
        stride[0] = rv.shape[1]
        return &rv[0, 0]


cdef _Tables _allocate(int nt, sk_config* c, bint soft, Py_ssize_t per_row):
    """The accumulators of a pass with configuration ``c`` on ``nt`` threads."""
    cdef _Tables tb = _Tables()
    cdef Py_ssize_t s_top, s_cls = 0, s_sum, s_err, s_col, s_hit, s_ctab, s_ltab, s_ttab
    cdef Py_ssize_t s_colall, s_gsum, t
    cdef Py_ssize_t G = c.n_groups, K = c.K
    cdef double* cls
    cdef double* top
    cdef double* sums
    cdef double* col
    cdef double* colall
    cdef double* gsum
    cdef long long* err
    cdef long long* ttab
    cdef long long* ctab
    cdef long long* ltab
    cdef int* hits
    cdef bint label_cls = c.sparse and not soft
    tb.nt = nt
    tb.views = {}
    tb.keep = []
    top = tb._add_double("top", (N_SUB, G, c.nbo, 3), &s_top)
    sums = tb._add_double("sums", (G, N_SUMS), &s_sum)
    err = tb._add_int64("err", (2,), &s_err, -1)
    # fused pass: the top-label table per (group, argmax class, bin), column and score sums
    ttab = tb._add_int64("ttab", (G * K * c.nb * 2 if c.fused else 1,), &s_ttab)
    colall = tb._add_double("colall", (G, 16 if c.fused else 1), &s_colall)
    gsum = tb._add_double("gsum", (G, 8 if c.fused else 1), &s_gsum)
    # sparse classwise binning: per-thread sums of the values in bin 0 (and of their targets)
    # per group and class, and the block's list of values outside bin 0 -- at most
    # per_row of them per row, since rows sum to 1 (checked before they are binned)
    if c.sparse:
        col = tb._add_double("col", (2, G * (K + 16)), &s_col)
        hits = tb._add_int("hits", (2 * (BLOCK * per_row + 17),), &s_hit)
    else:
        col = tb._add_double("col", (2, 1), &s_col)
        hits = tb._add_int("hits", (2,), &s_hit)
    c.hit_half = s_hit // 2 if c.sparse else 1
    # hard labels: the hits go into a table (sksoft_bin_label_hits_*) of, per thread and
    # (group, class, bin), an int64 rows + (label rows << 32) and a float64 value sum; rows per
    # group and label in ltab
    ctab = tb._add_int64("ctab", (G * K * c.ncb * 2 if label_cls else 1,), &s_ctab)
    ltab = tb._add_int64("ltab", (G * K if label_cls else 1,), &s_ltab)
    cdef double[::1] cls_flat
    if label_cls:
        # the double histogram then only holds the result (the pass writes ctab instead), so
        # every thread gets the same one, which only marks the classwise path as taken
        cls_buf = np.zeros((1, 1, G, K, c.ncb, 3), dtype=np.float64)
        tb.views["cls"] = cls_buf
        tb.keep.append(cls_buf)
        cls_flat = cls_buf.reshape(-1)
        cls = &cls_flat[0]
        s_cls = 0
    elif c.classwise:
        cls = tb._add_double("cls", (N_SUB, G, K, c.ncb, 3), &s_cls)
    else:
        cls = NULL
    tb.acc = <sk_accum*>malloc(nt * sizeof(sk_accum))
    if tb.acc == NULL:
        raise MemoryError()
    for t in range(nt):
        tb.acc[t].top = top + t * s_top
        tb.acc[t].cls = cls + t * s_cls if cls != NULL else NULL
        tb.acc[t].sums = sums + t * s_sum
        tb.acc[t].colp = col + t * s_col
        tb.acc[t].colt = col + t * s_col + (G * (K + 16) if c.sparse else 0)
        tb.acc[t].hits = hits + t * s_hit
        tb.acc[t].ctab = ctab + t * s_ctab if label_cls else NULL
        tb.acc[t].ltab = ltab + t * s_ltab
        tb.acc[t].ttab = ttab + t * s_ttab
        tb.acc[t].colall = colall + t * s_colall
        tb.acc[t].gsum = gsum + t * s_gsum
        tb.acc[t].err = err + t * s_err
    return tb


cdef double* _ptr(object a):
    # address of an optional float64 output (None -> NULL)
    cdef double[::1] v
    if a is None:
        return NULL
    v = a
    return &v[0] if v.shape[0] > 0 else NULL


cdef Py_ssize_t* _iptr(object a):
    # address of an optional intp output (None -> NULL)
    cdef Py_ssize_t[::1] v
    if a is None:
        return NULL
    v = a
    return &v[0] if v.shape[0] > 0 else NULL


cdef double* _ptr2(object a):
    # address of an optional (n, m) float64 output (None -> NULL)
    cdef double[:, ::1] v
    if a is None:
        return NULL
    v = a
    return &v[0, 0] if v.shape[0] > 0 else NULL


def calibration_pass(const floating[:, ::1] prob, const target_t[:, ::1] y_soft,
                     const Py_ssize_t[::1] y_hard, const double[::1] weight,
                     const Py_ssize_t[::1] group, spec, rows, int n_threads):
    """One pass over ``prob``; returns (top, cls, sums, err_row, err_code).

    ``spec`` holds the configuration (see ``sksoft.metrics._pass.PassSpec``): ``n_groups``,
    ``edges`` (float64), ``uniform``, ``extra_bin``, ``round32``, ``trunc_exact``,
    ``classwise``, ``class_edges`` ((n_class_bins + 1,) for equal-width class bins, else
    K * (n_class_bins + 1) values), ``n_class_bins``, ``class_uniform``,
    ``class_trunc_exact``, ``want_scores``, ``want_entropy``, ``eps``, ``tol``. ``rows`` maps
    "conf", "acc", "hpred", "htrue" to float64 arrays of n values to fill, "cell" to an intp
    array (the top-label cell, group * n_bins_out + bin, of every row) and "score" to an
    (n, N_ROW_SCORES) float64 array (the score terms of every row; needs want_scores), or None.

    ``top`` has shape (n_groups, n_bins (+1 with extra_bin), 3) holding the weight, confidence
    sum and accuracy sum of each bin; ``cls`` (n_groups, K, n_class_bins, 3) the same per class,
    or None; ``sums`` (n_groups, N_SUMS). ``y_soft`` has zero rows when ``y_hard`` is used;
    ``weight`` and ``group`` have zero entries when absent.
    """
    cdef Py_ssize_t n = prob.shape[0], K = prob.shape[1]
    cdef bint soft = y_soft.shape[0] > 0
    cdef int nt = n_threads if n_threads > 0 else 1
    cdef Py_ssize_t n_tasks = (n + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    cdef Py_ssize_t task, tid, start, stop, per_row = 0
    cdef sk_config c
    cdef sk_inputs inp
    cdef sk_rows ro
    cdef const double[::1] edges = spec.edges
    cdef const double[::1] class_edges = spec.class_edges
    if nt > n_tasks:
        nt = <int>max(n_tasks, 1)

    memset(&c, 0, sizeof(c))
    c.K = K
    c.n_groups = spec.n_groups
    c.nb = edges.shape[0] - 1
    c.extra_bin = spec.extra_bin
    c.nbo = c.nb + 1 if c.extra_bin else c.nb
    c.edges = &edges[0]
    c.uniform = spec.uniform
    c.round32 = spec.round32
    c.trunc_exact = spec.trunc_exact
    c.classwise = spec.classwise
    c.ncb = spec.n_class_bins if c.classwise else 0
    c.class_edges = &class_edges[0] if c.classwise else NULL
    c.class_uniform = spec.class_uniform
    c.class_trunc_exact = spec.class_trunc_exact
    c.want_scores = spec.want_scores
    c.want_entropy = spec.want_entropy
    c.eps = spec.eps
    c.tol = spec.tol
    # sparse classwise binning: equal-width class bins, no weights (int offsets and cells)
    c.sparse = (c.classwise and c.class_uniform and weight.shape[0] == 0
                and BLOCK * K < 2**31 and c.n_groups * K < 2**31
                and (soft or n < 2**31))  # (hard labels: packed counts, see ctab)
    if c.sparse:
        per_row = min(K, int(np.floor((1.0 + c.tol) / class_edges[1])) + 1)
    # the AVX-512 report pass (see _report512.h): float32, hard labels, no weights, the same
    # equal-width bins (exact by truncation) for the top label and the classes, scores
    if floating is float:
        c.fused = (sksoft_vec_level() >= 2 and c.sparse and not soft and c.uniform
                   and not c.extra_bin and not c.round32 and c.trunc_exact
                   and c.class_trunc_exact and c.ncb == c.nb and c.want_scores
                   and rows["conf"] is None and rows["hpred"] is None
                   and rows["cell"] is None and rows["score"] is None
                   and 2 <= K <= 16 and c.eps >= 2.2250738585072014e-308
                   and c.n_groups * K * c.nb < 2**30)
    if c.fused:
        per_row = K  # the fused pass lists values before the rows are checked
        c.e1f = <float>class_edges[1]
        if <double>c.e1f < class_edges[1]:
            c.e1f = nextafterf(c.e1f, INFINITY)
    cdef _Tables tb = _allocate(nt, &c, soft, per_row)

    inp.Y = NULL if soft else &y_hard[0]
    inp.W = &weight[0] if weight.shape[0] > 0 else NULL
    inp.G = &group[0] if group.shape[0] > 0 else NULL
    ro.conf = _ptr(rows["conf"])
    ro.acc = _ptr(rows["acc"])
    ro.hpred = _ptr(rows["hpred"])
    ro.htrue = _ptr(rows["htrue"])
    ro.cell = _iptr(rows["cell"])
    ro.score = _ptr2(rows["score"])
    cdef const floating* P = &prob[0, 0]
    cdef const target_t* T = &y_soft[0, 0] if soft else NULL

    if nt == 1:
        with nogil:
            _rows(P, T, &c, &inp, &ro, &tb.acc[0], 0, n)
    else:
        for task in prange(n_tasks, nogil=True, schedule="static", num_threads=nt):
            tid = threadid()
            start = task * ROWS_PER_TASK
            stop = start + ROWS_PER_TASK
            if stop > n:
                stop = n
            _rows(P, T, &c, &inp, &ro, &tb.acc[tid], start, stop)
    return _merge(tb.views, &c, soft)


cdef _merge(dict v, const sk_config* c, bint soft):
    """Sum the threads' tables into (top, cls, sums, err_row, err_code)."""
    cdef Py_ssize_t G = c.n_groups, K = c.K, nb = c.nb, ncb = c.ncb
    cdef bint label_cls = c.sparse and not soft
    top = v["top"].sum(axis=(0, 1))
    cls = v["cls"].sum(axis=(0, 1)) if c.classwise else None
    sums = v["sums"].sum(axis=0)
    if c.fused:
        # the top-label histogram per (group, argmax class, bin): summed over the classes it is
        # the top-label histogram, per class the classwise share of the rows' largest values
        tp = v["ttab"][:, 0::2].sum(axis=0).reshape(G, K, nb)
        tconf = v["ttab"].view(np.float64)[:, 1::2].sum(axis=0).reshape(G, K, nb)
        tcount = tp & 0xFFFFFFFF
        tcorrect = tp >> 32
        top[:, :nb, 0] = tcount.sum(axis=1)
        top[:, :nb, 1] = tconf.sum(axis=1)
        top[:, :nb, 2] = tcorrect.sum(axis=1)
        cls[:, :, :, 0] += tcount
        cls[:, :, :, 1] += tconf
        cls[:, :, :, 2] += tcorrect
        sums[:, S_COUNT] = tcount.sum(axis=(1, 2))
        gs = v["gsum"].sum(axis=0)
        for field, at in ((S_BRIER, 0), (S_CE, 1), (S_HPRED, 2), (S_JS, 3), (S_TV, 4),
                          (S_HPRED2, 5)):
            sums[:, field] = gs[:, at]
    # weight and accuracy sums are those of the top-label histogram
    sums[:, S_WEIGHT] = top[:, :, 0].sum(axis=1)
    sums[:, S_ACC] = top[:, :, 2].sum(axis=1)
    if label_cls:
        packed = v["ctab"][:, 0::2].sum(axis=0).reshape(G, K, ncb)
        cls[:, :, :, 0] += packed & 0xFFFFFFFF
        cls[:, :, :, 1] += v["ctab"].view(np.float64)[:, 1::2].sum(axis=0).reshape(G, K, ncb)
        cls[:, :, :, 2] += packed >> 32
    if c.fused:
        # bin 0 of every class: the column sums less everything binned elsewhere
        cls[:, :, 0, 1] = (v["colall"].sum(axis=0)[:, :K] - cls[:, :, 1:, 1].sum(axis=2))
    if c.sparse:
        # bin 0 of every class: the sums of its values, and the rows not binned elsewhere
        # (counts are exact integers)
        col = v["col"].sum(axis=0)[:, :G * K]
        cls[:, :, 0, 1] += col[0].reshape(G, K)
        if soft:
            cls[:, :, 0, 2] += col[1].reshape(G, K)
        count0 = sums[:, S_COUNT][:, None] - cls[:, :, 1:, 0].sum(axis=2)
        cls[:, :, 0, 0] = count0
        if label_cls:
            # label rows in bin 0: rows of the label minus those binned elsewhere
            cls[:, :, 0, 2] = (v["ltab"].sum(axis=0).reshape(G, K)
                               - cls[:, :, 1:, 2].sum(axis=2))
        empty = count0 <= 0
        cls[:, :, 0, 1] = np.where(empty, 0.0, np.maximum(cls[:, :, 0, 1], 0.0))
        if soft:
            cls[:, :, 0, 2] = np.where(empty, 0.0, np.maximum(cls[:, :, 0, 2], 0.0))
    err = v["err"]
    bad = err[err[:, 0] >= 0]
    if bad.shape[0]:
        j = int(np.argmin(bad[:, 0]))
        return top, cls, sums, int(bad[j, 0]), int(bad[j, 1])
    return top, cls, sums, -1, 0


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
