/* Row statistics for the calibration kernel: maximum, first index of the maximum, sum and
 * minimum of one probability row, for rows of up to 64 columns.
 *
 * With SSE2 (every x86-64 CPU, so no runtime dispatch is needed) the row is read in 128-bit
 * lanes: max / min / sum are lane-wise, and the first argmax comes from a bit mask of the lanes
 * equal to the maximum, with a count of trailing zeros: no branch depends on the data. A last
 * partial lane is read as the (overlapping) final full lane for max / min / argmax, and summed
 * element by element. Elsewhere a scalar loop computes the same values.
 *
 * NaN propagates into the sum (so the caller's row-sum check catches it); a negative value
 * shows in the minimum.
 */
#ifndef SKSOFT_ROWSTATS_H
#define SKSOFT_ROWSTATS_H

#include <stddef.h>  /* Py_ssize_t comes from Python.h, included first by Cython */
#include <stdint.h>

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

static inline void sksoft_rowstats_scalar_f(const float *p, Py_ssize_t K, double *best,
                                            Py_ssize_t *arg, double *sum, double *mn) {
    float b = p[0], m = p[0];
    double s = 0.0;
    Py_ssize_t k, a = 0;
    for (k = 0; k < K; k++) {
        float v = p[k];
        b = v > b ? v : b;
        m = v < m ? v : m;
        s += v;
    }
    for (k = K - 1; k >= 0; k--) a = p[k] == b ? k : a;
    *best = b; *arg = a; *sum = s; *mn = m;
}

static inline void sksoft_rowstats_scalar_d(const double *p, Py_ssize_t K, double *best,
                                            Py_ssize_t *arg, double *sum, double *mn) {
    double b = p[0], m = p[0], s = 0.0;
    Py_ssize_t k, a = 0;
    for (k = 0; k < K; k++) {
        double v = p[k];
        b = v > b ? v : b;
        m = v < m ? v : m;
        s += v;
    }
    for (k = K - 1; k >= 0; k--) a = p[k] == b ? k : a;
    *best = b; *arg = a; *sum = s; *mn = m;
}

#ifdef SKSOFT_HAVE_SSE2

static inline void sksoft_rowstats_f(const float *p, Py_ssize_t K, double *best, Py_ssize_t *arg,
                                     double *sum, double *mn) {
    if (K < 4 || K > SKSOFT_ROWSTATS_MAX_K) {
        sksoft_rowstats_scalar_f(p, K, best, arg, sum, mn);
        return;
    }
    Py_ssize_t k, full = K & ~(Py_ssize_t)3;
    __m128 vmax = _mm_loadu_ps(p), vmin = vmax, vsum = vmax;
    for (k = 4; k < full; k += 4) {
        __m128 v = _mm_loadu_ps(p + k);
        vmax = _mm_max_ps(vmax, v);
        vmin = _mm_min_ps(vmin, v);
        vsum = _mm_add_ps(vsum, v);
    }
    double s = 0.0;
    if (full < K) {
        __m128 v = _mm_loadu_ps(p + K - 4);
        vmax = _mm_max_ps(vmax, v);
        vmin = _mm_min_ps(vmin, v);
        for (k = full; k < K; k++) s += p[k];
    }
    /* horizontal max / min / sum of the four lanes */
    __m128 t = _mm_max_ps(vmax, _mm_shuffle_ps(vmax, vmax, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm_max_ps(t, _mm_shuffle_ps(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
    __m128 u = _mm_min_ps(vmin, _mm_shuffle_ps(vmin, vmin, _MM_SHUFFLE(1, 0, 3, 2)));
    u = _mm_min_ps(u, _mm_shuffle_ps(u, u, _MM_SHUFFLE(2, 3, 0, 1)));
    float lanes[4];
    _mm_storeu_ps(lanes, vsum);
    s += ((double)lanes[0] + (double)lanes[1]) + ((double)lanes[2] + (double)lanes[3]);
    /* first index equal to the maximum: a bit per column, lowest set bit */
    uint64_t mask = 0;
    for (k = 0; k < full; k += 4)
        mask |= (uint64_t)_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(p + k), t)) << k;
    if (full < K)
        mask |= (uint64_t)_mm_movemask_ps(_mm_cmpeq_ps(_mm_loadu_ps(p + K - 4), t)) << (K - 4);
    *best = _mm_cvtss_f32(t);
    *mn = _mm_cvtss_f32(u);
    *sum = s;
    /* mask is empty only when the maximum is NaN; the sum is NaN then and the row is rejected */
    *arg = mask ? sksoft_ctz64(mask) : 0;
}

static inline void sksoft_rowstats_d(const double *p, Py_ssize_t K, double *best, Py_ssize_t *arg,
                                     double *sum, double *mn) {
    if (K < 2 || K > SKSOFT_ROWSTATS_MAX_K) {
        sksoft_rowstats_scalar_d(p, K, best, arg, sum, mn);
        return;
    }
    Py_ssize_t k, full = K & ~(Py_ssize_t)1;
    __m128d vmax = _mm_loadu_pd(p), vmin = vmax, vsum = vmax;
    for (k = 2; k < full; k += 2) {
        __m128d v = _mm_loadu_pd(p + k);
        vmax = _mm_max_pd(vmax, v);
        vmin = _mm_min_pd(vmin, v);
        vsum = _mm_add_pd(vsum, v);
    }
    double s = 0.0;
    if (full < K) {
        __m128d v = _mm_loadu_pd(p + K - 2);
        vmax = _mm_max_pd(vmax, v);
        vmin = _mm_min_pd(vmin, v);
        s += p[K - 1];
    }
    __m128d t = _mm_max_pd(vmax, _mm_shuffle_pd(vmax, vmax, 1));
    __m128d u = _mm_min_pd(vmin, _mm_shuffle_pd(vmin, vmin, 1));
    double lanes[2];
    _mm_storeu_pd(lanes, vsum);
    s += lanes[0] + lanes[1];
    uint64_t mask = 0;
    for (k = 0; k < full; k += 2)
        mask |= (uint64_t)_mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(p + k), t)) << k;
    if (full < K)
        mask |= (uint64_t)_mm_movemask_pd(_mm_cmpeq_pd(_mm_loadu_pd(p + K - 2), t)) << (K - 2);
    *best = _mm_cvtsd_f64(t);
    *mn = _mm_cvtsd_f64(u);
    *sum = s;
    *arg = mask ? sksoft_ctz64(mask) : 0;
}

#else

static inline void sksoft_rowstats_f(const float *p, Py_ssize_t K, double *best, Py_ssize_t *arg,
                                     double *sum, double *mn) {
    sksoft_rowstats_scalar_f(p, K, best, arg, sum, mn);
}

static inline void sksoft_rowstats_d(const double *p, Py_ssize_t K, double *best, Py_ssize_t *arg,
                                     double *sum, double *mn) {
    sksoft_rowstats_scalar_d(p, K, best, arg, sum, mn);
}

#endif
#endif
