/* Vectorisable elementwise kernels (logarithm, x log x, the scores of hard targets) with
 * runtime dispatch: on x86-64 with GCC or Clang the same C body (_vecmath_impl.h) is compiled
 * twice, for the baseline ISA and for AVX2 + FMA, and the faster one is chosen once per process
 * from the CPU's features (sksoft_vec_level). Portable builds therefore need no -march flag. */
#ifndef SKSOFT_VECMATH_H
#define SKSOFT_VECMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "_rowstats.h"  /* SSE2 four-row reductions */

#define SK_LN2 0.6931471805599453
#define SK_DBL_MIN 2.2250738585072014e-308
#define SK_FLT_MIN 1.17549435e-38f
#define SK_LN2F_HI 0.693115234375f  /* ln 2 with the last 12 bits zero */
#define SK_LN2F_LO 3.1946184945309415e-05f
#define SK_LN2_HI 0.6931471803691238   /* ln 2 with the last 21 bits zero: e * hi is exact */
#define SK_LN2_LO 1.9082149292705877e-10

/* The series of the logarithms, log m = 2 atanh(s) with s = (m - 1) / (m + 1): Horner steps
 * r = FMA(r, z, C(1/k)) in z = s^2, to s^11 for float32 and s^21 for float64. One definition
 * for the scalar and the vector logarithms (FMA / C: the multiply-add and the constant of each
 * width). */
#define SK_ATANH_F(FMA, C, r, z)                                                               \
    r = C(1.0f / 11.0f);                                                                       \
    r = FMA(r, z, C(1.0f / 9.0f));                                                             \
    r = FMA(r, z, C(1.0f / 7.0f));                                                             \
    r = FMA(r, z, C(1.0f / 5.0f));                                                             \
    r = FMA(r, z, C(1.0f / 3.0f))
#define SK_ATANH_D(FMA, C, r, z)                                                               \
    r = C(1.0 / 21.0);                                                                         \
    r = FMA(r, z, C(1.0 / 19.0));                                                              \
    r = FMA(r, z, C(1.0 / 17.0));                                                              \
    r = FMA(r, z, C(1.0 / 15.0));                                                              \
    r = FMA(r, z, C(1.0 / 13.0));                                                              \
    r = FMA(r, z, C(1.0 / 11.0));                                                              \
    r = FMA(r, z, C(1.0 / 9.0));                                                               \
    r = FMA(r, z, C(1.0 / 7.0));                                                               \
    r = FMA(r, z, C(1.0 / 5.0));                                                               \
    r = FMA(r, z, C(1.0 / 3.0))
#define SK_MULADD(a, b, c) ((a) * (b) + (c))
#define SK_SCALAR(c) (c)

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
#include <immintrin.h>
#define SK_FN(name) name##_avx2
#define SK_ATTR __attribute__((target("avx2,fma")))
#define SK_VEC_AVX2 1  /* the clone also gets explicit four-lane loops (see sk_log4) */
#include "_vecmath_impl.h"
#undef SK_VEC_AVX2
#undef SK_FN
#undef SK_ATTR
#endif

/* 0: baseline, 1: AVX2 + FMA, 2: also AVX-512 (F, BW, DQ, VL) for the report's float32 pass
 * (_report512.h). Set once at import and by tests. */
static int sksoft_vec_level_ = 0;

#ifdef SKSOFT_HAVE_AVX2_CLONE
#include <immintrin.h>
#include "_report512.h"
#else
/* never called: level 2 needs the AVX-512 code, which only GCC and Clang on x86 build */
static int sksoft_avx512_available(void) { return 0; }
static int sksoft_report512_f(const float *P, Py_ssize_t m, Py_ssize_t K, const Py_ssize_t *Y,
                              const Py_ssize_t *G, double tol, double eps, int nb, float e1f,
                              int want_entropy, long long *ttab, long long *ctab,
                              long long *ltab, double *colall, double *gsum, int *cell,
                              float *val, float *tbuf, double *v, double *q, double *h) {
    return 1;
}
#endif

static int sksoft_vec_available(void) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
    return sksoft_avx512_available() ? 2 : 1;
#else
    return 0;
#endif
}

static int sksoft_vec_level(void) { return sksoft_vec_level_; }

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

static inline void sksoft_hard_scores(const double *v, const double *q, Py_ssize_t n, double eps,
                                      double *brier, double *ce, double *js, double *tv) {
    SK_DISPATCH(sk_hard_scores, (v, q, n, eps, brier, ce, js, tv));
}

#ifdef SKSOFT_HAVE_SSE2
/* Sums of four float32 rows of 4..16 values (and of their squares), in float32 lanes reduced
 * across the rows by a transpose (see sksoft_reduce4_add in _rowstats.h). */
static SKSOFT_ALWAYS_INLINE __m128 sksoft_rowsums4_f(const float *x, Py_ssize_t K, __m128 keep,
                                                     int square) {
    __m128 s[4];
    Py_ssize_t full = K & ~(Py_ssize_t)3;
    for (int r = 0; r < 4; r++) {
        const float *p = x + r * K;
        __m128 a = _mm_loadu_ps(p);
        __m128 acc = square ? _mm_mul_ps(a, a) : a;
        for (Py_ssize_t k = 4; k < full; k += 4) {
            __m128 b = _mm_loadu_ps(p + k);
            acc = _mm_add_ps(acc, square ? _mm_mul_ps(b, b) : b);
        }
        if (full < K) {
            __m128 b = _mm_and_ps(_mm_loadu_ps(p + K - 4), keep);
            acc = _mm_add_ps(acc, square ? _mm_mul_ps(b, b) : b);
        }
        s[r] = acc;
    }
    return sksoft_reduce4_add(s[0], s[1], s[2], s[3]);
}
#endif

static inline void sksoft_hard_block_f(const float *P, Py_ssize_t m, Py_ssize_t K,
                                       const Py_ssize_t *y, double *tmp, double *v, double *q,
                                       double *h) {
#ifdef SKSOFT_HAVE_SSE2
    /* float32 rows of 4..16 values (m <= 256, so m * K <= 4096 floats fit each half of the
     * scratch): x log x in one vectorised pass with float32 results, then sums of four rows at
     * a time; the Brier terms from a copy of the rows with 1 - p[y] in the label's place */
    if (K >= 4 && K <= 16 && m * K <= SK_TMP) {
        float *ft = (float *)tmp;
        float *fd = ft + SK_TMP;
        Py_ssize_t full = K & ~(Py_ssize_t)3, j;
        __m128 keep = _mm_setzero_ps();
        if (full < K)
            keep = _mm_castsi128_ps(
                _mm_loadu_si128((const __m128i *)(sksoft_tail_mask_ + (K - full))));
        memcpy(fd, P, (size_t)(m * K) * sizeof(float));
        for (j = 0; j < m; j++) {
            v[j] = (double)P[j * K + y[j]];
            fd[j * K + y[j]] = 1.0f - P[j * K + y[j]];
        }
        if (h != NULL) SK_DISPATCH(sk_xlogxf_f, (P, m * K, ft));
        for (j = 0; j + 4 <= m; j += 4) {
            __m128 sq = sksoft_rowsums4_f(fd + j * K, K, keep, 1);
            _mm_storeu_pd(q + j, _mm_cvtps_pd(sq));
            _mm_storeu_pd(q + j + 2, _mm_cvtps_pd(_mm_movehl_ps(sq, sq)));
            if (h != NULL) {
                __m128 hs = _mm_sub_ps(_mm_setzero_ps(), sksoft_rowsums4_f(ft + j * K, K, keep, 0));
                _mm_storeu_pd(h + j, _mm_cvtps_pd(hs));
                _mm_storeu_pd(h + j + 2, _mm_cvtps_pd(_mm_movehl_ps(hs, hs)));
            }
        }
        for (; j < m; j++) {
            float sq = 0.0f, sh = 0.0f;
            for (Py_ssize_t k = 0; k < K; k++) {
                sq += fd[j * K + k] * fd[j * K + k];
                if (h != NULL) sh += ft[j * K + k];
            }
            q[j] = sq;
            if (h != NULL) h[j] = -sh;
        }
        return;
    }
#endif
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
                                               Py_ssize_t K, const Py_ssize_t *G,
                                               const Py_ssize_t *Y, double e1,
                                               double *SK_RESTRICT col, int *SK_RESTRICT off,
                                               int *SK_RESTRICT cell, Py_ssize_t n_groups,
                                               double *SK_RESTRICT slots,
                                               long long *SK_RESTRICT lab) {
    /* the float32 threshold with the same outcome as (double)v >= e1 */
    float f = (float)e1;
    if ((double)f < e1) f = nextafterf(f, HUGE_VALF);
    __m256 vf = _mm256_set1_ps(f);
    int shift = (int)(16 - K);
    __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    /* the second vector of a row overlaps the first in its lanes below 16 - K: not summed */
    __m256 hikeep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(iota, _mm256_set1_epi32(shift - 1)));
    __m256i sign = _mm256_set1_epi32((int)0x80000000u);
    /* bin-0 sums of columns [0, 4), [4, 8), [K-8, K-4), [K-4, K): in registers without groups */
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    Py_ssize_t nh = 0;
    for (Py_ssize_t j = 0; j < m; j++) {
        const float *p = P + j * K;
        int gk = G != NULL ? (int)(G[j] * K) : 0;
        int o = (int)(j * K);
        __m256 x = _mm256_loadu_ps(p), y = _mm256_loadu_ps(p + K - 8);
        __m256 xge = _mm256_cmp_ps(x, vf, _CMP_GE_OQ), yge = _mm256_cmp_ps(y, vf, _CMP_GE_OQ);
        __m256 x0 = _mm256_andnot_ps(xge, x), y0 = _mm256_and_ps(_mm256_andnot_ps(yge, y), hikeep);
        __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(x0));
        __m256d d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(x0, 1));
        __m256d d2 = _mm256_cvtps_pd(_mm256_castps256_ps128(y0));
        __m256d d3 = _mm256_cvtps_pd(_mm256_extractf128_ps(y0, 1));
        if (G == NULL) {
            a0 = _mm256_add_pd(a0, d0); a1 = _mm256_add_pd(a1, d1);
            a2 = _mm256_add_pd(a2, d2); a3 = _mm256_add_pd(a3, d3);
        } else {
            /* four disjoint slots per group (partially overlapping loads and stores would
             * defeat store-to-load forwarding); folded into col after the block */
            double *c = slots + G[j] * 16;
            _mm256_storeu_pd(c, _mm256_add_pd(_mm256_loadu_pd(c), d0));
            _mm256_storeu_pd(c + 4, _mm256_add_pd(_mm256_loadu_pd(c + 4), d1));
            _mm256_storeu_pd(c + 8, _mm256_add_pd(_mm256_loadu_pd(c + 8), d2));
            _mm256_storeu_pd(c + 12, _mm256_add_pd(_mm256_loadu_pd(c + 12), d3));
        }
        unsigned lo = (unsigned)_mm256_movemask_ps(xge);
        unsigned hi = (unsigned)_mm256_movemask_ps(yge) >> shift;
        __m256i plo = _mm256_loadu_si256((const __m256i *)sksoft_bitpos_[lo]);
        __m256i phi = _mm256_loadu_si256((const __m256i *)sksoft_bitpos_[hi]);
        __m256i clo = _mm256_add_epi32(plo, _mm256_set1_epi32(gk));
        __m256i chi = _mm256_add_epi32(phi, _mm256_set1_epi32(gk + 8));
        if (Y != NULL) {
            /* the label's hit: its cell is gk + y */
            __m256i ycell = _mm256_set1_epi32(gk + (int)Y[j]);
            lab[gk + Y[j]] += 1;
            clo = _mm256_or_si256(clo, _mm256_and_si256(_mm256_cmpeq_epi32(clo, ycell), sign));
            chi = _mm256_or_si256(chi, _mm256_and_si256(_mm256_cmpeq_epi32(chi, ycell), sign));
        }
        _mm256_storeu_si256((__m256i *)(off + nh), _mm256_add_epi32(plo, _mm256_set1_epi32(o)));
        _mm256_storeu_si256((__m256i *)(cell + nh), clo);
        nh += __builtin_popcount(lo);
        _mm256_storeu_si256((__m256i *)(off + nh), _mm256_add_epi32(phi, _mm256_set1_epi32(o + 8)));
        _mm256_storeu_si256((__m256i *)(cell + nh), chi);
        nh += __builtin_popcount(hi);
    }
    if (G == NULL) {
        _mm256_storeu_pd(col, _mm256_add_pd(_mm256_loadu_pd(col), a0));
        _mm256_storeu_pd(col + 4, _mm256_add_pd(_mm256_loadu_pd(col + 4), a1));
        _mm256_storeu_pd(col + K - 8, _mm256_add_pd(_mm256_loadu_pd(col + K - 8), a2));
        _mm256_storeu_pd(col + K - 4, _mm256_add_pd(_mm256_loadu_pd(col + K - 4), a3));
    } else {
        for (Py_ssize_t g = 0; g < n_groups; g++) {
            double *c = col + g * K, *sl = slots + g * 16;
            for (int i = 0; i < 8; i++) c[i] += sl[i];
            for (int i = 0; i < 8; i++) c[K - 8 + i] += sl[8 + i];
            for (int i = 0; i < 16; i++) sl[i] = 0.0;
        }
    }
    return nh;
}

/* sk_sparse_hits_d for 4 <= K <= 16 with AVX2: each row is compared in vectors of four (the
 * last one ending at K and overlapping its predecessor in its lanes below `skip`, which are
 * left out), and the hits are appended four at a time from the table above (the first four
 * positions of a mask below 16). */
__attribute__((target("avx2,fma")))
static Py_ssize_t sk_sparse_hits_d_avx2_narrow(const double *SK_RESTRICT P, Py_ssize_t m,
                                               Py_ssize_t K, const Py_ssize_t *G,
                                               const Py_ssize_t *Y, double e1,
                                               double *SK_RESTRICT col, int *SK_RESTRICT off,
                                               int *SK_RESTRICT cell, Py_ssize_t n_groups,
                                               double *SK_RESTRICT slots,
                                               long long *SK_RESTRICT lab) {
    __m256d ve = _mm256_set1_pd(e1);
    int nvec = (int)((K + 3) / 4), last = (int)(K - 4), skip = nvec * 4 - (int)K;
    __m256d keep = _mm256_castsi256_pd(_mm256_cmpgt_epi64(
        _mm256_setr_epi64x(0, 1, 2, 3), _mm256_set1_epi64x(skip - 1)));
    __m128i sign = _mm_set1_epi32((int)0x80000000u);
    __m256d acc[4];
    for (int v = 0; v < 4; v++) acc[v] = _mm256_setzero_pd();
    Py_ssize_t nh = 0;
    for (Py_ssize_t j = 0; j < m; j++) {
        const double *p = P + j * K;
        int gk = G != NULL ? (int)(G[j] * K) : 0;
        int o = (int)(j * K);
        double *sl = G != NULL ? slots + G[j] * 16 : NULL;
        __m128i ycell = _mm_setzero_si128();
        if (Y != NULL) {
            ycell = _mm_set1_epi32(gk + (int)Y[j]);
            lab[gk + Y[j]] += 1;
        }
        for (int v = 0; v < nvec; v++) {
            int s = v < nvec - 1 ? 4 * v : last;
            __m256d x = _mm256_loadu_pd(p + s);
            __m256d ge = _mm256_cmp_pd(x, ve, _CMP_GE_OQ);
            __m256d x0 = _mm256_andnot_pd(ge, x);
            unsigned mk = (unsigned)_mm256_movemask_pd(ge);
            if (v == nvec - 1) {
                x0 = _mm256_and_pd(x0, keep);
                mk = (mk >> skip) << skip;
            }
            if (sl != NULL)
                _mm256_storeu_pd(sl + 4 * v, _mm256_add_pd(_mm256_loadu_pd(sl + 4 * v), x0));
            else
                acc[v] = _mm256_add_pd(acc[v], x0);
            __m128i pos = _mm_loadu_si128((const __m128i *)sksoft_bitpos_[mk]);
            __m128i c = _mm_add_epi32(pos, _mm_set1_epi32(gk + s));
            if (Y != NULL) c = _mm_or_si128(c, _mm_and_si128(_mm_cmpeq_epi32(c, ycell), sign));
            _mm_storeu_si128((__m128i *)(off + nh), _mm_add_epi32(pos, _mm_set1_epi32(o + s)));
            _mm_storeu_si128((__m128i *)(cell + nh), c);
            nh += __builtin_popcount(mk);
        }
    }
    /* fold the bin-0 sums into col (the left-out lanes of the last vector hold zeros) */
    for (Py_ssize_t g = 0; g < (G != NULL ? n_groups : 1); g++) {
        double *c = col + g * K;
        for (int v = 0; v < nvec; v++) {
            int s = v < nvec - 1 ? 4 * v : last;
            double t[4];
            if (G != NULL) {
                for (int i = 0; i < 4; i++) t[i] = slots[g * 16 + 4 * v + i];
                for (int i = 0; i < 4; i++) slots[g * 16 + 4 * v + i] = 0.0;
            } else {
                _mm256_storeu_pd(t, acc[v]);
            }
            for (int i = 0; i < 4; i++) c[s + i] += t[i];
        }
    }
    return nh;
}
#endif

/* slots: 16 doubles of zeroed scratch per group (used by the AVX2 path with groups); Y and
 * lab: see SK_BODY_SPARSE_HITS (NULL without hard labels). */
static inline Py_ssize_t sksoft_sparse_hits_f(const float *P, Py_ssize_t m, Py_ssize_t K,
                                              const Py_ssize_t *G, const Py_ssize_t *Y,
                                              double e1, double *col, int *off, int *cell,
                                              Py_ssize_t n_groups, double *slots,
                                              long long *lab) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    if (sksoft_vec_level_ > 0 && K >= 8 && K <= 16)
        return sk_sparse_hits_f_avx2_narrow(P, m, K, G, Y, e1, col, off, cell, n_groups, slots,
                                            lab);
#endif
    (void)n_groups;
    (void)slots;
    return SK_DISPATCH_RET(sk_sparse_hits_f, (P, m, K, G, Y, e1, col, off, cell, lab));
}
static inline Py_ssize_t sksoft_sparse_hits_d(const double *P, Py_ssize_t m, Py_ssize_t K,
                                              const Py_ssize_t *G, const Py_ssize_t *Y,
                                              double e1, double *col, int *off, int *cell,
                                              Py_ssize_t n_groups, double *slots,
                                              long long *lab) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    if (sksoft_vec_level_ > 0 && K >= 4 && K <= 16)
        return sk_sparse_hits_d_avx2_narrow(P, m, K, G, Y, e1, col, off, cell, n_groups, slots,
                                            lab);
#endif
    (void)n_groups;
    (void)slots;
    return SK_DISPATCH_RET(sk_sparse_hits_d, (P, m, K, G, Y, e1, col, off, cell, lab));
}

/* Bin the listed values (see sksoft_sparse_hits_*) into their class histograms: cls holds
 * N_SUB = 4 interleaved copies, `sub` doubles apart, of (count, value sum, target sum) per
 * (group * K + class, bin). Equal-width bins on [0, 1]: by truncation when `trunc` (exact for
 * the data, see float32_trunc_is_exact), else corrected against the float64 edges. (Soft
 * targets add their mass in _kernels.pyx.) */
#define SK_BODY_BIN_HITS                                                                  \
    for (Py_ssize_t h = 0; h < nh; h++) {                                                      \
        int o = off[h];                                                                        \
        double v = (double)P[o];                                                               \
        Py_ssize_t b = (Py_ssize_t)(v * ncb);                                                  \
        b = b < ncb - 1 ? b : ncb - 1;                                                         \
        if (!trunc) {                                                                          \
            b = b > 0 ? b : 0;                                                                 \
            b = b + (v >= e[b + 1]) - (v < e[b]);                                              \
            b = b < ncb - 1 ? b : ncb - 1;                                                     \
        }                                                                                      \
        double *c = cls + (h & 3) * sub + ((Py_ssize_t)cell[h] * ncb + b) * 3;                  \
        c[0] += 1.0;                                                                           \
        c[1] += v;                                                                             \
    }

static inline void sksoft_bin_hits_f(const float *SK_RESTRICT P,
                                     const int *SK_RESTRICT off, const int *SK_RESTRICT cell,
                                     Py_ssize_t nh, const double *e, Py_ssize_t ncb, int trunc,
                                     double *SK_RESTRICT cls, Py_ssize_t sub) {
    SK_BODY_BIN_HITS
}

static inline void sksoft_bin_hits_d(const double *SK_RESTRICT P,
                                     const int *SK_RESTRICT off, const int *SK_RESTRICT cell,
                                     Py_ssize_t nh, const double *e, Py_ssize_t ncb, int trunc,
                                     double *SK_RESTRICT cls, Py_ssize_t sub) {
    SK_BODY_BIN_HITS
}

/* Bin the hits of hard-label rows (cells with the label bit, see SK_BODY_SPARSE_HITS): tab
 * holds per (group * K + class, bin) an int64, rows + (label rows << 32), and a double, the sum
 * of the values (two 8-byte slots, each always accessed as its own type). Bins as in
 * SK_BODY_BIN_HITS. */
#define SK_BODY_BIN_LABEL_HITS                                                                \
    for (Py_ssize_t h = 0; h < nh; h++) {                                                      \
        uint32_t c = (uint32_t)cell[h];                                                        \
        double v = (double)P[off[h]];                                                          \
        Py_ssize_t b = (Py_ssize_t)(v * ncb);                                                  \
        b = b < ncb - 1 ? b : ncb - 1;                                                         \
        if (!trunc) {                                                                          \
            b = b > 0 ? b : 0;                                                                 \
            b = b + (v >= e[b + 1]) - (v < e[b]);                                              \
            b = b < ncb - 1 ? b : ncb - 1;                                                     \
        }                                                                                      \
        Py_ssize_t at = ((Py_ssize_t)(c & 0x7FFFFFFFu) * ncb + b) * 2;                         \
        tab[at] += 1 + ((long long)(c >> 31) << 32);                                           \
        ((double *)tab)[at + 1] += v;                                                          \
    }

static inline void sksoft_bin_label_hits_f(const float *SK_RESTRICT P,
                                           const int *SK_RESTRICT off, const int *SK_RESTRICT cell,
                                           Py_ssize_t nh, const double *e, Py_ssize_t ncb,
                                           int trunc, long long *SK_RESTRICT tab) {
    SK_BODY_BIN_LABEL_HITS
}

static inline void sksoft_bin_label_hits_d(const double *SK_RESTRICT P,
                                           const int *SK_RESTRICT off, const int *SK_RESTRICT cell,
                                           Py_ssize_t nh, const double *e, Py_ssize_t ncb,
                                           int trunc, long long *SK_RESTRICT tab) {
    SK_BODY_BIN_LABEL_HITS
}

/* Per-row scores of m rows with soft targets (see SK_BODY_SOFT_TERMS): out holds six arrays
 * of m values, `stride` apart: brier, tv, ce, js, ht, hp. tmp holds 6 * SK_SOFT_CHUNK
 * doubles. Rows of up to SK_SOFT_CHUNK values are done several at a time, longer ones in
 * pieces. */
#define SK_SOFT_BLOCK(NAME, TERMS, PT, TT)                                                     \
    static inline void NAME(const PT *P, const TT *T, Py_ssize_t m, Py_ssize_t K, double eps, \
                            double *tmp, double *out, Py_ssize_t stride) {                     \
        Py_ssize_t rows = K <= SK_SOFT_CHUNK ? SK_SOFT_CHUNK / K : 1;                          \
        for (Py_ssize_t j0 = 0; j0 < m; j0 += rows) {                                          \
            Py_ssize_t rr = m - j0 < rows ? m - j0 : rows;                                     \
            Py_ssize_t total = rr * K;                                                         \
            if (K > SK_SOFT_CHUNK)                                                             \
                for (int f = 0; f < 6; f++) out[f * stride + j0] = 0.0;                        \
            for (Py_ssize_t c0 = 0; c0 < total; c0 += SK_SOFT_CHUNK) {                         \
                Py_ssize_t len = total - c0 < SK_SOFT_CHUNK ? total - c0 : SK_SOFT_CHUNK;      \
                const PT *p = P + j0 * K + c0;                                                 \
                const TT *t = T + j0 * K + c0;                                                 \
                SK_DISPATCH(TERMS, (p, t, len, eps, tmp));                                     \
                if (eps < SK_DBL_MIN)                                                          \
                    for (Py_ssize_t i = 0; i < len; i++) {                                     \
                        double c = (double)p[i] > eps ? (double)p[i] : eps;                    \
                        if (c < SK_DBL_MIN && t[i] > 0)                                        \
                            tmp[2 * SK_SOFT_CHUNK + i] =                                       \
                                c > 0.0 ? -(double)t[i] * log(c) : HUGE_VAL;                   \
                    }                                                                          \
                for (int f = 0; f < 6; f++) {                                                  \
                    const double *x = tmp + f * SK_SOFT_CHUNK;                                 \
                    if (K <= SK_SOFT_CHUNK) {                                                  \
                        SK_FN_BASE_ROW_SUMS(x, rr, K, out + f * stride + j0);                  \
                    } else {                                                                   \
                        double part;                                                           \
                        SK_FN_BASE_ROW_SUMS(x, 1, len, &part);                                 \
                        out[f * stride + j0] += part;                                          \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }

#define SK_FN_BASE_ROW_SUMS(x, m, K, out) SK_DISPATCH(sk_row_sums, (x, m, K, out))
SK_SOFT_BLOCK(sksoft_soft_block_ff, sk_soft_terms_ff, float, float)
SK_SOFT_BLOCK(sksoft_soft_block_fd, sk_soft_terms_fd, float, double)
SK_SOFT_BLOCK(sksoft_soft_block_df, sk_soft_terms_df, double, float)
SK_SOFT_BLOCK(sksoft_soft_block_dd, sk_soft_terms_dd, double, double)

#endif
