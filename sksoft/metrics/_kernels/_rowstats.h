/* Row checks for the calibration kernel: the maximum and first index of the maximum of each
 * probability row, and whether the row is bad (its sum off 1 by more than the tolerance, a
 * negative value, or NaN/inf, which make the sum NaN/inf).
 *
 * With SSE2 (every x86-64 CPU, so no runtime dispatch is needed) rows of up to 64 columns are
 * read in 128-bit lanes without data-dependent branches: max / min / sum lane-wise, the last
 * partial vector read as the overlapping final full one (masked for the sum), and the first
 * argmax from a bit mask of the lanes equal to the maximum (count of trailing zeros). float32
 * rows of 4..16 columns are checked four at a time, reducing the four rows' lanes together
 * through a 4x4 transpose. Wider rows use four independent accumulators; elsewhere a scalar
 * loop computes the same values.
 */
#ifndef SKSOFT_ROWSTATS_H
#define SKSOFT_ROWSTATS_H

#include <stddef.h>  /* Py_ssize_t comes from Python.h, included first by Cython */
#include <stdint.h>
#include <math.h>

#include "_rowrule.h"  /* the row rule: every row check below decides with it */

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define SKSOFT_HAVE_SSE2 1
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static __inline int sksoft_ctz64(uint64_t x) {
    unsigned long i;
    _BitScanForward64(&i, x);
    return (int)i;
}
#else
static inline int sksoft_ctz64(uint64_t x) { return __builtin_ctzll(x); }
#endif

#define SKSOFT_ROWSTATS_MAX_K 64

#if defined(__GNUC__) || defined(__clang__)
#define SKSOFT_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define SKSOFT_ALWAYS_INLINE __forceinline
#else
#define SKSOFT_ALWAYS_INLINE inline
#endif

/* Max, first argmax, sum and min of one row, one column at a time (the max and min in the
 * row's own type, the sum in double), generated for float and double. */
#define SKSOFT_DEFINE_ROWSTATS_SCALAR(NAME, T)                                                 \
    static inline void NAME(const T *p, Py_ssize_t K, double *best, Py_ssize_t *arg,           \
                            double *sum, double *mn) {                                         \
        T b = p[0], m = p[0];                                                                  \
        double s = 0.0;                                                                        \
        Py_ssize_t k, a = 0;                                                                   \
        for (k = 0; k < K; k++) {                                                              \
            T v = p[k];                                                                        \
            b = v > b ? v : b;                                                                 \
            m = v < m ? v : m;                                                                 \
            s += v;                                                                            \
        }                                                                                      \
        for (k = K - 1; k >= 0; k--) a = p[k] == b ? k : a;                                    \
        *best = b; *arg = a; *sum = s; *mn = m;                                                \
    }

SKSOFT_DEFINE_ROWSTATS_SCALAR(sksoft_rowstats_scalar_f, float)
SKSOFT_DEFINE_ROWSTATS_SCALAR(sksoft_rowstats_scalar_d, double)

#ifdef SKSOFT_HAVE_SSE2

/* Wide rows (K > 64): four independent lane accumulators for max / min / sum (so the loop is
 * not bound by the latency of one dependency chain), then a scan of 4-column blocks that stops
 * at the first block holding the maximum. */
static inline void sksoft_rowstats_wide_f(const float *p, Py_ssize_t K, double *best,
                                          Py_ssize_t *arg, double *sum, double *mn) {
    __m128 x0 = _mm_loadu_ps(p), x1 = x0, x2 = x0, x3 = x0;
    __m128 n0 = x0, n1 = x0, n2 = x0, n3 = x0;
    __m128 s0 = _mm_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    Py_ssize_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m128 a = _mm_loadu_ps(p + k), b = _mm_loadu_ps(p + k + 4);
        __m128 c = _mm_loadu_ps(p + k + 8), d = _mm_loadu_ps(p + k + 12);
        x0 = _mm_max_ps(x0, a); x1 = _mm_max_ps(x1, b);
        x2 = _mm_max_ps(x2, c); x3 = _mm_max_ps(x3, d);
        n0 = _mm_min_ps(n0, a); n1 = _mm_min_ps(n1, b);
        n2 = _mm_min_ps(n2, c); n3 = _mm_min_ps(n3, d);
        s0 = _mm_add_ps(s0, a); s1 = _mm_add_ps(s1, b);
        s2 = _mm_add_ps(s2, c); s3 = _mm_add_ps(s3, d);
    }
    for (; k + 4 <= K; k += 4) {
        __m128 a = _mm_loadu_ps(p + k);
        x0 = _mm_max_ps(x0, a); n0 = _mm_min_ps(n0, a); s0 = _mm_add_ps(s0, a);
    }
    double s = 0.0;
    if (k < K) {  /* the last, overlapping block for max / min; the rest summed one by one */
        __m128 a = _mm_loadu_ps(p + K - 4);
        x0 = _mm_max_ps(x0, a); n0 = _mm_min_ps(n0, a);
        for (; k < K; k++) s += p[k];
    }
    x0 = _mm_max_ps(_mm_max_ps(x0, x1), _mm_max_ps(x2, x3));
    n0 = _mm_min_ps(_mm_min_ps(n0, n1), _mm_min_ps(n2, n3));
    s0 = _mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3));
    __m128 t = _mm_max_ps(x0, _mm_shuffle_ps(x0, x0, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm_max_ps(t, _mm_shuffle_ps(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
    __m128 u = _mm_min_ps(n0, _mm_shuffle_ps(n0, n0, _MM_SHUFFLE(1, 0, 3, 2)));
    u = _mm_min_ps(u, _mm_shuffle_ps(u, u, _MM_SHUFFLE(2, 3, 0, 1)));
    float lanes[4];
    _mm_storeu_ps(lanes, s0);
    s += ((double)lanes[0] + (double)lanes[1]) + ((double)lanes[2] + (double)lanes[3]);
    Py_ssize_t a = 0;
    int m = 0;
    for (k = 0; k + 4 <= K; k += 4) {
        m = _mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(p + k), t));
        if (m) break;
    }
    if (m) {
        a = k + sksoft_ctz64((uint64_t)m);
    } else {
        for (a = k; a < K && p[a] != _mm_cvtss_f32(t); a++) {}
        if (a >= K) a = 0;  /* NaN maximum: the row is rejected by its sum */
    }
    *best = _mm_cvtss_f32(t); *mn = _mm_cvtss_f32(u); *sum = s; *arg = a;
}

static inline void sksoft_rowstats_wide_d(const double *p, Py_ssize_t K, double *best,
                                          Py_ssize_t *arg, double *sum, double *mn) {
    __m128d x0 = _mm_loadu_pd(p), x1 = x0, x2 = x0, x3 = x0;
    __m128d n0 = x0, n1 = x0, n2 = x0, n3 = x0;
    __m128d s0 = _mm_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    Py_ssize_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m128d a = _mm_loadu_pd(p + k), b = _mm_loadu_pd(p + k + 2);
        __m128d c = _mm_loadu_pd(p + k + 4), d = _mm_loadu_pd(p + k + 6);
        x0 = _mm_max_pd(x0, a); x1 = _mm_max_pd(x1, b);
        x2 = _mm_max_pd(x2, c); x3 = _mm_max_pd(x3, d);
        n0 = _mm_min_pd(n0, a); n1 = _mm_min_pd(n1, b);
        n2 = _mm_min_pd(n2, c); n3 = _mm_min_pd(n3, d);
        s0 = _mm_add_pd(s0, a); s1 = _mm_add_pd(s1, b);
        s2 = _mm_add_pd(s2, c); s3 = _mm_add_pd(s3, d);
    }
    for (; k + 2 <= K; k += 2) {
        __m128d a = _mm_loadu_pd(p + k);
        x0 = _mm_max_pd(x0, a); n0 = _mm_min_pd(n0, a); s0 = _mm_add_pd(s0, a);
    }
    double s = 0.0;
    if (k < K) {
        __m128d a = _mm_loadu_pd(p + K - 2);
        x0 = _mm_max_pd(x0, a); n0 = _mm_min_pd(n0, a);
        s += p[K - 1];
    }
    x0 = _mm_max_pd(_mm_max_pd(x0, x1), _mm_max_pd(x2, x3));
    n0 = _mm_min_pd(_mm_min_pd(n0, n1), _mm_min_pd(n2, n3));
    s0 = _mm_add_pd(_mm_add_pd(s0, s1), _mm_add_pd(s2, s3));
    __m128d t = _mm_max_pd(x0, _mm_shuffle_pd(x0, x0, 1));
    __m128d u = _mm_min_pd(n0, _mm_shuffle_pd(n0, n0, 1));
    double lanes[2];
    _mm_storeu_pd(lanes, s0);
    s += lanes[0] + lanes[1];
    Py_ssize_t a = 0;
    int m = 0;
    for (k = 0; k + 2 <= K; k += 2) {
        m = _mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(p + k), t));
        if (m) break;
    }
    if (m) {
        a = k + sksoft_ctz64((uint64_t)m);
    } else {
        for (a = k; a < K && p[a] != _mm_cvtsd_f64(t); a++) {}
        if (a >= K) a = 0;
    }
    *best = _mm_cvtsd_f64(t); *mn = _mm_cvtsd_f64(u); *sum = s; *arg = a;
}

/* Row check of the calibration pass: max and first argmax of the row, and whether it is bad
 * (sum off 1 by more than tol, a negative value, or NaN/inf, which make the sum NaN/inf).
 * For 4 <= K <= 64 the sum stays in float lanes (a float32 rounding, far inside tol) and the
 * negative test is one comparison of the lane minima; the last partial vector is read as the
 * overlapping final full vector, with the lanes already summed masked out. */
static const int32_t sksoft_tail_mask_[8] = {0, 0, 0, 0, -1, -1, -1, -1};

static SKSOFT_ALWAYS_INLINE int sksoft_rowcheck_f(const float *p, Py_ssize_t K, double tol,
                                                 double *best, Py_ssize_t *arg) {
    if (K < 4 || K > SKSOFT_ROWSTATS_MAX_K) {
        double s, mn;
        if (K < 4)
            sksoft_rowstats_scalar_f(p, K, best, arg, &s, &mn);
        else
            sksoft_rowstats_wide_f(p, K, best, arg, &s, &mn);
        return sksoft_row_bad(s, !(mn >= 0), tol);
    }
    Py_ssize_t k, full = K & ~(Py_ssize_t)3;
    __m128 vmax = _mm_loadu_ps(p), vmin = vmax, vsum = vmax;
    for (k = 4; k < full; k += 4) {
        __m128 v = _mm_loadu_ps(p + k);
        vmax = _mm_max_ps(vmax, v);
        vmin = _mm_min_ps(vmin, v);
        vsum = _mm_add_ps(vsum, v);
    }
    __m128 last = _mm_loadu_ps(p + K - 4);
    if (full < K) {
        __m128 keep = _mm_castsi128_ps(
            _mm_loadu_si128((const __m128i *)(sksoft_tail_mask_ + (K - full))));
        vmax = _mm_max_ps(vmax, last);
        vmin = _mm_min_ps(vmin, last);
        vsum = _mm_add_ps(vsum, _mm_and_ps(last, keep));
    }
    __m128 t = _mm_max_ps(vmax, _mm_shuffle_ps(vmax, vmax, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm_max_ps(t, _mm_shuffle_ps(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
    __m128 u = _mm_add_ps(vsum, _mm_shuffle_ps(vsum, vsum, _MM_SHUFFLE(1, 0, 3, 2)));
    u = _mm_add_ss(u, _mm_shuffle_ps(u, u, _MM_SHUFFLE(2, 3, 0, 1)));
    int neg = _mm_movemask_ps(_mm_cmplt_ps(vmin, _mm_setzero_ps()));
    uint64_t mask = 0;
    for (k = 0; k < full; k += 4)
        mask |= (uint64_t)_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(p + k), t)) << k;
    if (full < K)
        mask |= (uint64_t)_mm_movemask_ps(_mm_cmpeq_ps(last, t)) << (K - 4);
    *best = _mm_cvtss_f32(t);
    *arg = mask ? sksoft_ctz64(mask) : 0;
    double s = _mm_cvtss_f32(u);
    return sksoft_row_bad(s, neg, tol);
}

static SKSOFT_ALWAYS_INLINE int sksoft_rowcheck_d(const double *p, Py_ssize_t K, double tol,
                                                 double *best, Py_ssize_t *arg) {
    if (K < 2 || K > SKSOFT_ROWSTATS_MAX_K) {
        double s, mn;
        if (K < 2)
            sksoft_rowstats_scalar_d(p, K, best, arg, &s, &mn);
        else
            sksoft_rowstats_wide_d(p, K, best, arg, &s, &mn);
        return sksoft_row_bad(s, !(mn >= 0), tol);
    }
    Py_ssize_t k, full = K & ~(Py_ssize_t)1;
    __m128d vmax = _mm_loadu_pd(p), vmin = vmax, vsum = vmax;
    for (k = 2; k < full; k += 2) {
        __m128d v = _mm_loadu_pd(p + k);
        vmax = _mm_max_pd(vmax, v);
        vmin = _mm_min_pd(vmin, v);
        vsum = _mm_add_pd(vsum, v);
    }
    __m128d last = _mm_loadu_pd(p + K - 2);
    if (full < K) {
        vmax = _mm_max_pd(vmax, last);
        vmin = _mm_min_pd(vmin, last);
        vsum = _mm_add_pd(vsum, _mm_unpackhi_pd(_mm_setzero_pd(), last)); /* p[K-1] in lane 1 */
    }
    __m128d t = _mm_max_pd(vmax, _mm_shuffle_pd(vmax, vmax, 1));
    __m128d u = _mm_add_sd(vsum, _mm_shuffle_pd(vsum, vsum, 1));
    int neg = _mm_movemask_pd(_mm_cmplt_pd(vmin, _mm_setzero_pd()));
    uint64_t mask = 0;
    for (k = 0; k < full; k += 2)
        mask |= (uint64_t)_mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(p + k), t)) << k;
    if (full < K)
        mask |= (uint64_t)_mm_movemask_pd(_mm_cmpeq_pd(last, t)) << (K - 2);
    *best = _mm_cvtsd_f64(t);
    *arg = mask ? sksoft_ctz64(mask) : 0;
    double s = _mm_cvtsd_f64(u);
    return sksoft_row_bad(s, neg, tol);
}


/* Four float32 rows at once, 4 <= K <= 16: the per-row lane vectors of max / min / sum are
 * reduced across rows by a 4x4 transpose (9 operations for four rows instead of 4 shuffles and
 * 4 max per row), the sum and sign checks are one vector comparison for the four rows, and the
 * four maxima are converted to double together. Same results as sksoft_rowcheck_f. */
static SKSOFT_ALWAYS_INLINE __m128 sksoft_reduce4_max(__m128 a, __m128 b, __m128 c, __m128 d) {
    __m128 u0 = _mm_max_ps(_mm_unpacklo_ps(a, b), _mm_unpackhi_ps(a, b));
    __m128 u1 = _mm_max_ps(_mm_unpacklo_ps(c, d), _mm_unpackhi_ps(c, d));
    return _mm_max_ps(_mm_movelh_ps(u0, u1), _mm_movehl_ps(u1, u0));
}

static SKSOFT_ALWAYS_INLINE __m128 sksoft_reduce4_add(__m128 a, __m128 b, __m128 c, __m128 d) {
    __m128 u0 = _mm_add_ps(_mm_unpacklo_ps(a, b), _mm_unpackhi_ps(a, b));
    __m128 u1 = _mm_add_ps(_mm_unpacklo_ps(c, d), _mm_unpackhi_ps(c, d));
    return _mm_add_ps(_mm_movelh_ps(u0, u1), _mm_movehl_ps(u1, u0));
}

static SKSOFT_ALWAYS_INLINE void sksoft_lanes_f(const float *p, Py_ssize_t K, __m128 keep,
                                                __m128 *mx, __m128 *mn, __m128 *sm) {
    Py_ssize_t k, full = K & ~(Py_ssize_t)3;
    __m128 a = _mm_loadu_ps(p), x = a, n = a, s = a;
    for (k = 4; k < full; k += 4) {
        __m128 v = _mm_loadu_ps(p + k);
        x = _mm_max_ps(x, v);
        n = _mm_min_ps(n, v);
        s = _mm_add_ps(s, v);
    }
    if (full < K) {
        __m128 v = _mm_loadu_ps(p + K - 4);
        x = _mm_max_ps(x, v);
        n = _mm_min_ps(n, v);
        s = _mm_add_ps(s, _mm_and_ps(v, keep));
    }
    *mx = x; *mn = n; *sm = s;
}

static SKSOFT_ALWAYS_INLINE Py_ssize_t sksoft_first_eq_f(const float *p, Py_ssize_t K, __m128 t) {
    Py_ssize_t k, full = K & ~(Py_ssize_t)3;
    uint64_t mask = 0;
    for (k = 0; k < full; k += 4)
        mask |= (uint64_t)_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(p + k), t)) << k;
    if (full < K)
        mask |= (uint64_t)_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(p + K - 4), t)) << (K - 4);
    return mask ? sksoft_ctz64(mask) : 0;
}

static SKSOFT_ALWAYS_INLINE int sksoft_rowcheck4_f(const float *P, Py_ssize_t K, double tol,
                                                  double *best, Py_ssize_t *arg, int nb,
                                                  int32_t *bins) {
    Py_ssize_t full = K & ~(Py_ssize_t)3;
    __m128 keep = _mm_setzero_ps();
    if (full < K)
        keep = _mm_castsi128_ps(
            _mm_loadu_si128((const __m128i *)(sksoft_tail_mask_ + (K - full))));
    __m128 x0, x1, x2, x3, n0, n1, n2, n3, s0, s1, s2, s3;
    sksoft_lanes_f(P, K, keep, &x0, &n0, &s0);
    sksoft_lanes_f(P + K, K, keep, &x1, &n1, &s1);
    sksoft_lanes_f(P + 2 * K, K, keep, &x2, &n2, &s2);
    sksoft_lanes_f(P + 3 * K, K, keep, &x3, &n3, &s3);
    __m128 M = sksoft_reduce4_max(x0, x1, x2, x3);
    __m128 S = sksoft_reduce4_add(s0, s1, s2, s3);
    __m128 N = _mm_min_ps(_mm_min_ps(n0, n1), _mm_min_ps(n2, n3));
    int bad = _mm_movemask_ps(_mm_cmplt_ps(N, _mm_setzero_ps()));
    /* the sum test of the row rule for the four rows, in double */
    __m128d vtol = _mm_set1_pd(tol);
    bad |= SKSOFT_ROW_SUM_OFF_SSE2(_mm_cvtps_pd(S), vtol)
         | SKSOFT_ROW_SUM_OFF_SSE2(_mm_cvtps_pd(_mm_movehl_ps(S, S)), vtol);
    __m128d clo = _mm_cvtps_pd(M), chi = _mm_cvtps_pd(_mm_movehl_ps(M, M));
    _mm_storeu_pd(best, clo);
    _mm_storeu_pd(best + 2, chi);
    if (bins != NULL) {
        /* equal-width bins by truncation, min(int(c * nb), nb - 1): only called when that is
         * exact for float32 data (float32_trunc_is_exact) */
        __m128d vnb = _mm_set1_pd((double)nb);
        __m128i b = _mm_unpacklo_epi64(_mm_cvttpd_epi32(_mm_mul_pd(clo, vnb)),
                                       _mm_cvttpd_epi32(_mm_mul_pd(chi, vnb)));
        __m128i top = _mm_set1_epi32(nb - 1);
        __m128i over = _mm_cmpgt_epi32(b, top);
        b = _mm_or_si128(_mm_andnot_si128(over, b), _mm_and_si128(over, top));
        _mm_storeu_si128((__m128i *)bins, b);
    }
    arg[0] = sksoft_first_eq_f(P, K, _mm_shuffle_ps(M, M, _MM_SHUFFLE(0, 0, 0, 0)));
    arg[1] = sksoft_first_eq_f(P + K, K, _mm_shuffle_ps(M, M, _MM_SHUFFLE(1, 1, 1, 1)));
    arg[2] = sksoft_first_eq_f(P + 2 * K, K, _mm_shuffle_ps(M, M, _MM_SHUFFLE(2, 2, 2, 2)));
    arg[3] = sksoft_first_eq_f(P + 3 * K, K, _mm_shuffle_ps(M, M, _MM_SHUFFLE(3, 3, 3, 3)));
    return bad;
}

#else

/* Without SSE2: the scalar row statistics and the row rule. */
#define SKSOFT_DEFINE_ROWCHECK_SCALAR(NAME, T, STATS)                                          \
    static SKSOFT_ALWAYS_INLINE int NAME(const T *p, Py_ssize_t K, double tol, double *best,   \
                                         Py_ssize_t *arg) {                                    \
        double s, mn;                                                                          \
        STATS(p, K, best, arg, &s, &mn);                                                       \
        return sksoft_row_bad(s, !(mn >= 0), tol);                                             \
    }

SKSOFT_DEFINE_ROWCHECK_SCALAR(sksoft_rowcheck_f, float, sksoft_rowstats_scalar_f)
SKSOFT_DEFINE_ROWCHECK_SCALAR(sksoft_rowcheck_d, double, sksoft_rowstats_scalar_d)

#endif
/* Row checks of m consecutive rows (see sksoft_rowcheck_*): the number of columns is a
 * compile-time constant in the loops for K <= 16, so that they are fully unrolled. Returns
 * nonzero if any row is bad. */
#define SKSOFT_RC_CASE(KK) \
    case KK: for (j = 0; j < m; j++) bad |= RC(P + j * KK, KK, tol, best + j, arg + j); break;
#define SKSOFT_RC_SWITCH                                                                      \
    Py_ssize_t j;                                                                              \
    int bad = 0;                                                                               \
    switch (K) {                                                                               \
        SKSOFT_RC_CASE(2) SKSOFT_RC_CASE(3) SKSOFT_RC_CASE(4) SKSOFT_RC_CASE(5)                \
        SKSOFT_RC_CASE(6) SKSOFT_RC_CASE(7) SKSOFT_RC_CASE(8) SKSOFT_RC_CASE(9)                \
        SKSOFT_RC_CASE(10) SKSOFT_RC_CASE(11) SKSOFT_RC_CASE(12) SKSOFT_RC_CASE(13)            \
        SKSOFT_RC_CASE(14) SKSOFT_RC_CASE(15) SKSOFT_RC_CASE(16)                               \
    default:                                                                                   \
        for (j = 0; j < m; j++) bad |= RC(P + j * K, K, tol, best + j, arg + j);               \
    }                                                                                          \
    return bad;

#ifdef SKSOFT_HAVE_SSE2
#define SKSOFT_RC4_CASE(KK)                                                                    \
    case KK:                                                                                   \
        for (j = 0; j + 4 <= m; j += 4)                                                        \
            bad |= sksoft_rowcheck4_f(P + j * KK, KK, tol, best + j, arg + j, nb,              \
                                      bins != NULL ? bins + j : NULL);                         \
        for (; j < m; j++) bad |= sksoft_rowcheck_f(P + j * KK, KK, tol, best + j, arg + j);   \
        if (bins != NULL)                                                                      \
            for (j = m & ~(Py_ssize_t)3; j < m; j++) {                                         \
                int b = (int)(best[j] * nb);                                                   \
                bins[j] = b < nb - 1 ? b : nb - 1;                                             \
            }                                                                                  \
        return bad;
#endif

/* With bins != NULL, also the equal-width bins of the maxima by truncation,
 * min(int(max * nb), nb - 1), for callers that know it to be exact (float32_trunc_is_exact). */
static inline int sksoft_rowcheck_block_f(const float *P, Py_ssize_t m, Py_ssize_t K, double tol,
                                          double *best, Py_ssize_t *arg, int nb, int32_t *bins) {
#ifdef SKSOFT_HAVE_SSE2
    Py_ssize_t j;
    int bad = 0;
    switch (K) {
        SKSOFT_RC4_CASE(4) SKSOFT_RC4_CASE(5) SKSOFT_RC4_CASE(6) SKSOFT_RC4_CASE(7)
        SKSOFT_RC4_CASE(8) SKSOFT_RC4_CASE(9) SKSOFT_RC4_CASE(10) SKSOFT_RC4_CASE(11)
        SKSOFT_RC4_CASE(12) SKSOFT_RC4_CASE(13) SKSOFT_RC4_CASE(14) SKSOFT_RC4_CASE(15)
        SKSOFT_RC4_CASE(16)
    default:
        for (j = 0; j < m; j++) bad |= sksoft_rowcheck_f(P + j * K, K, tol, best + j, arg + j);
    }
#else
    Py_ssize_t j;
    int bad = 0;
    for (j = 0; j < m; j++) bad |= sksoft_rowcheck_f(P + j * K, K, tol, best + j, arg + j);
#endif
    if (bins != NULL)
        for (j = 0; j < m; j++) {
            int b = (int)(best[j] * nb);
            bins[j] = b < nb - 1 ? b : nb - 1;
        }
    return bad;
}

static inline int sksoft_rowcheck_block_d(const double *P, Py_ssize_t m, Py_ssize_t K,
                                          double tol, double *best, Py_ssize_t *arg) {
#define RC sksoft_rowcheck_d
    SKSOFT_RC_SWITCH
#undef RC
}

#endif
