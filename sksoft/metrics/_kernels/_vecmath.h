/* Vectorisable elementwise kernels (logarithm, x log x, the scores of hard and soft targets)
 * with runtime dispatch: on x86-64 with GCC or Clang the same C body (_vecmath_impl.h) is
 * compiled twice (_twice.h), for the baseline ISA and for AVX2 + FMA, and the faster one is
 * chosen once per process from the CPU's features (sksoft_vec_level). Portable builds
 * therefore need no -march flag. The classwise binning (_classwise.h) and the AVX-512 report
 * pass (_report512.h) build on this dispatch. */
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

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(SKSOFT_NO_DISPATCH)
#define SKSOFT_HAVE_AVX2_CLONE 1
#include <immintrin.h>
#endif

/* The score formulas, written once for every vector width. O names a set of operations on
 * one width (O##T the type, O##SET a constant, O##ADD, O##SUB, O##MUL, O##FMA(a, b, c) =
 * a * b + c, O##MAX, O##SELGT(a, b, x, y) = a > b ? x : y, O##NEG, O##ABS, O##LOG): SKS_
 * below for scalars, SK4_ in _vecmath_impl.h for four doubles (AVX2), SK8_ in _report512.h
 * for eight (AVX-512). The same operations in the same order on every path.
 *
 * Hard (one-hot) target, from v = p[y]: cross-entropy -log(max(v, eps)) (lo = max(eps,
 * DBL_MIN), log_lo = log(lo)), total variation 1 - v and Jensen-Shannon
 * log 2 - (1+v)/2 log(1+v) + v/2 log v (the target's mass is all on y, so the mixture is
 * (1+v)/2 there and p[k]/2 elsewhere, which contributes p[k]/2 log 2 each). The Brier score
 * is q = sum_k (p[k] - [k == y])^2, summed per row by the caller. */
#define SK_HARD_TERMS(O, v, lo, log_lo, ce, js, tv)                                           \
    do {                                                                                       \
        O##T lv_ = O##LOG(O##MAX(v, O##SET(SK_DBL_MIN)));                                      \
        O##T l1_ = O##LOG(O##ADD(O##SET(1.0), v));                                             \
        ce = O##NEG(O##SELGT(v, lo, lv_, log_lo));                                             \
        js = O##FMA(O##MUL(O##SET(0.5), v), lv_,                                               \
                    O##SUB(O##SET(SK_LN2), O##MUL(O##MUL(O##SET(0.5), O##ADD(O##SET(1.0), v)), l1_))); \
        tv = O##SUB(O##SET(1.0), v);                                                           \
    } while (0)

/* Soft target, per value p = v, t: Brier (v - t)^2, |v - t| (halved per row into the total
 * variation), cross-entropy -t log(max(v, eps)), Jensen-Shannon 1/2 (t log(t/m) + v log(v/m))
 * with m = (v + t) / 2, and the entropy terms -t log t and -v log v. Values below DBL_MIN use
 * log(DBL_MIN) (an absolute error below 1e-305). */
#define SK_SOFT_TERMS(O, v, t, lo, log_lo, br, ad, ce, js, ht, hp)                            \
    do {                                                                                       \
        O##T d_ = O##SUB(v, t), mid_ = O##MUL(O##SET(0.5), O##ADD(v, t));                      \
        O##T lv_ = O##LOG(O##MAX(v, O##SET(SK_DBL_MIN)));                                      \
        O##T lt_ = O##LOG(O##MAX(t, O##SET(SK_DBL_MIN)));                                      \
        O##T lm_ = O##LOG(O##MAX(mid_, O##SET(SK_DBL_MIN)));                                   \
        br = O##MUL(d_, d_);                                                                   \
        ad = O##ABS(d_);                                                                       \
        ce = O##MUL(O##NEG(t), O##SELGT(v, lo, lv_, log_lo));                                  \
        js = O##MUL(O##SET(0.5), O##FMA(t, O##SUB(lt_, lm_), O##MUL(v, O##SUB(lv_, lm_))));    \
        ht = O##MUL(O##NEG(t), lt_);                                                           \
        hp = O##MUL(O##NEG(v), lv_);                                                           \
    } while (0)

#define SKS_T double
#define SKS_SET(c) (c)
#define SKS_ADD(a, b) ((a) + (b))
#define SKS_SUB(a, b) ((a) - (b))
#define SKS_MUL(a, b) ((a) * (b))
#define SKS_FMA(a, b, c) ((a) * (b) + (c))
#define SKS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define SKS_SELGT(a, b, x, y) ((a) > (b) ? (x) : (y))
#define SKS_NEG(a) (-(a))
#define SKS_ABS(a) fabs(a)
#define SKS_LOG(a) SK_FN(sk_log)(a)

#define SK_IMPL "_vecmath_impl.h"
#include "_twice.h"

/* 0: baseline, 1: AVX2 + FMA, 2: also AVX-512 (F, BW, DQ, VL) for the report's float32 pass
 * (_report512.h). Set once at import and by tests. */
static int sksoft_vec_level_ = 0;

static int sksoft_avx512_available(void) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("fma");
#else
    return 0; /* level 2 needs the AVX-512 code, which only GCC and Clang on x86 build */
#endif
}

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
static int sksoft_vec_set_level(int level) {
    int best = sksoft_vec_available();
    sksoft_vec_level_ = level < 0 ? best : (level < best ? level : best);
    return sksoft_vec_level_;
}

#ifdef SKSOFT_HAVE_AVX2_CLONE
#define SK_DISPATCH(name, args) \
    do { if (sksoft_vec_level_ > 0) name##_avx2 args; else name##_base args; } while (0)
#define SK_DISPATCH_RET(name, args) (sksoft_vec_level_ > 0 ? name##_avx2 args : name##_base args)
#else
#define SK_DISPATCH(name, args) name##_base args
#define SK_DISPATCH_RET(name, args) name##_base args
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
            if (h != NULL) h[j] = 0.0f - sh;
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
