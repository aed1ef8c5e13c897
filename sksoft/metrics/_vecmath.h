/* Vectorisable elementwise kernels (logarithm, x log x, the scores of hard targets) with
 * runtime dispatch: on x86-64 with GCC or Clang the same C body (_vecmath_impl.h) is compiled
 * twice, for the baseline ISA and for AVX2 + FMA, and the faster one is chosen once per process
 * from the CPU's features (sksoft_vec_level). Portable builds therefore need no -march flag. */
#ifndef SKSOFT_VECMATH_H
#define SKSOFT_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#define SK_LN2 0.6931471805599453
#define SK_DBL_MIN 2.2250738585072014e-308
#define SK_FLT_MIN 1.17549435e-38f
#define SK_LN2F_HI 0.693115234375f  /* ln 2 with the last 12 bits zero */
#define SK_LN2F_LO 3.1946184945309415e-05f
#define SK_LN2_HI 0.6931471803691238   /* ln 2 with the last 21 bits zero: e * hi is exact */
#define SK_LN2_LO 1.9082149292705877e-10

#define SK_RESTRICT __restrict  /* GCC, Clang and MSVC all spell it so */
#define SK_TMP 4096  /* doubles of scratch per call (32 KiB) */

#define SK_FN(name) name##_base
#define SK_ATTR
#include "_vecmath_impl.h"
#undef SK_FN
#undef SK_ATTR

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(SKSOFT_NO_DISPATCH)
#define SKSOFT_HAVE_AVX2_CLONE 1
#define SK_FN(name) name##_avx2
#define SK_ATTR __attribute__((target("avx2,fma")))
#include "_vecmath_impl.h"
#undef SK_FN
#undef SK_ATTR
#endif

/* 0: baseline, 1: AVX2 + FMA. Set once at import (sksoft_vec_init) and by tests. */
static int sksoft_vec_level_ = 0;

static int sksoft_vec_available(void) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* Select the level (clamped to what the CPU supports); returns the level in use. */
#ifdef SKSOFT_HAVE_AVX2_CLONE
static void sksoft_fill_bitpos(void);
#endif

static int sksoft_vec_set_level(int level) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    sksoft_fill_bitpos();
#endif
    int best = sksoft_vec_available();
    sksoft_vec_level_ = level < 0 ? best : (level < best ? level : best);
    return sksoft_vec_level_;
}

#ifdef SKSOFT_HAVE_AVX2_CLONE
#define SK_DISPATCH(name, args) \
    do { if (sksoft_vec_level_ > 0) name##_avx2 args; else name##_base args; } while (0)
#else
#define SK_DISPATCH(name, args) name##_base args
#endif

static inline void sksoft_xlogx_f(const float *x, Py_ssize_t n, double *out) {
    SK_DISPATCH(sk_xlogx_f, (x, n, out));
}
static inline void sksoft_xlogx_d(const double *x, Py_ssize_t n, double *out) {
    SK_DISPATCH(sk_xlogx_d, (x, n, out));
}
static inline void sksoft_hard_scores(const double *v, const double *q, Py_ssize_t n, double eps,
                                      double *brier, double *ce, double *js, double *tv) {
    SK_DISPATCH(sk_hard_scores, (v, q, n, eps, brier, ce, js, tv));
}

static inline void sksoft_hard_block_f(const float *P, Py_ssize_t m, Py_ssize_t K,
                                       const Py_ssize_t *y, double *tmp, double *v, double *q,
                                       double *h) {
    SK_DISPATCH(sk_hard_block_f, (P, m, K, y, tmp, v, q, h));
}
static inline void sksoft_hard_block_d(const double *P, Py_ssize_t m, Py_ssize_t K,
                                       const Py_ssize_t *y, double *tmp, double *v, double *q,
                                       double *h) {
    SK_DISPATCH(sk_hard_block_d, (P, m, K, y, tmp, v, q, h));
}

#ifdef SKSOFT_HAVE_AVX2_CLONE
#define SK_DISPATCH_RET(name, args) (sksoft_vec_level_ > 0 ? name##_avx2 args : name##_base args)
#else
#define SK_DISPATCH_RET(name, args) name##_base args
#endif

#ifdef SKSOFT_HAVE_AVX2_CLONE
#include <immintrin.h>

/* Bit positions of every byte value, for branch-free compaction: sksoft_bitpos_[b][i] is the
 * i-th set bit of b (filled once, at import, by sksoft_vec_set_level). */
static int32_t sksoft_bitpos_[256][8];

static void sksoft_fill_bitpos(void) {
    for (int b = 0; b < 256; b++) {
        int n = 0;
        for (int i = 0; i < 8; i++) sksoft_bitpos_[b][i] = 0;
        for (int i = 0; i < 8; i++)
            if (b & (1 << i)) sksoft_bitpos_[b][n++] = i;
    }
}

/* sk_sparse_hits_f for 8 <= K <= 16 with AVX2: each row is compared in two (overlapping)
 * vectors of eight, and the positions of the hits are appended eight at a time from the table
 * above (so off and cell need 16 entries of slack). */
__attribute__((target("avx2,fma")))
static Py_ssize_t sk_sparse_hits_f_avx2_narrow(const float *SK_RESTRICT P, Py_ssize_t m,
                                               Py_ssize_t K, const Py_ssize_t *G, double e1,
                                               double *SK_RESTRICT col, int *SK_RESTRICT off,
                                               int *SK_RESTRICT cell) {
    for (Py_ssize_t j = 0; j < m; j++) {
        const float *p = P + j * K;
        double *SK_RESTRICT c = col + (G != NULL ? G[j] * K : 0);
        for (Py_ssize_t k = 0; k < K; k++) c[k] += (double)p[k];
    }
    /* the float32 threshold with the same outcome as (double)v >= e1 */
    float f = (float)e1;
    if ((double)f < e1) f = nextafterf(f, HUGE_VALF);
    __m256 vf = _mm256_set1_ps(f);
    int shift = (int)(16 - K);
    Py_ssize_t nh = 0;
    for (Py_ssize_t j = 0; j < m; j++) {
        const float *p = P + j * K;
        int gk = G != NULL ? (int)(G[j] * K) : 0;
        int o = (int)(j * K);
        unsigned lo = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p), vf, _CMP_GE_OQ));
        unsigned hi = (unsigned)_mm256_movemask_ps(
            _mm256_cmp_ps(_mm256_loadu_ps(p + K - 8), vf, _CMP_GE_OQ)) >> shift;
        __m256i pos = _mm256_loadu_si256((const __m256i *)sksoft_bitpos_[lo]);
        _mm256_storeu_si256((__m256i *)(off + nh), _mm256_add_epi32(pos, _mm256_set1_epi32(o)));
        _mm256_storeu_si256((__m256i *)(cell + nh), _mm256_add_epi32(pos, _mm256_set1_epi32(gk)));
        nh += __builtin_popcount(lo);
        pos = _mm256_loadu_si256((const __m256i *)sksoft_bitpos_[hi]);
        _mm256_storeu_si256((__m256i *)(off + nh), _mm256_add_epi32(pos, _mm256_set1_epi32(o + 8)));
        _mm256_storeu_si256((__m256i *)(cell + nh),
                            _mm256_add_epi32(pos, _mm256_set1_epi32(gk + 8)));
        nh += __builtin_popcount(hi);
    }
    return nh;
}
#endif

static inline Py_ssize_t sksoft_sparse_hits_f(const float *P, Py_ssize_t m, Py_ssize_t K,
                                              const Py_ssize_t *G, double e1, double *col,
                                              int *off, int *cell) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    if (sksoft_vec_level_ > 0 && K >= 8 && K <= 16)
        return sk_sparse_hits_f_avx2_narrow(P, m, K, G, e1, col, off, cell);
#endif
    return SK_DISPATCH_RET(sk_sparse_hits_f, (P, m, K, G, e1, col, off, cell));
}
static inline Py_ssize_t sksoft_sparse_hits_d(const double *P, Py_ssize_t m, Py_ssize_t K,
                                              const Py_ssize_t *G, double e1, double *col,
                                              int *off, int *cell) {
    return SK_DISPATCH_RET(sk_sparse_hits_d, (P, m, K, G, e1, col, off, cell));
}

#endif
