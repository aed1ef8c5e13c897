/* Body of the vectorisable kernels in _vecmath.h. It is included twice: once for the baseline
 * instruction set and, on x86-64 with GCC or Clang, once more compiled for AVX2 + FMA (SK_FN
 * appends the suffix, SK_ATTR holds the target attribute). Everything is plain C written so that
 * the compiler can vectorise the loops: no branches on data, bit casts through memcpy. */

/* Natural logarithm of a normal, finite x > 0 (callers clamp below at DBL_MIN).
 * x = 2^e * m with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s) with s = (m - 1) / (m + 1),
 * |s| <= 0.1716, from the Taylor series of atanh up to s^21 (truncation below 2.5e-17
 * relative); e * log(2) in two parts so that the product is exact. Within 2 ulp of log(x). */
SK_ATTR static inline double SK_FN(sk_log)(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    uint64_t mbits = (u & UINT64_C(0x000FFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000);
    uint64_t ebits = (u >> 52) | UINT64_C(0x4330000000000000);
    double m, e;
    memcpy(&m, &mbits, sizeof m);  /* x's mantissa, in [1, 2) */
    memcpy(&e, &ebits, sizeof e);
    /* (a double comparison: SSE2 has no 64-bit integer one) */
    double big = m > 1.4142135623730951 ? 1.0 : 0.0;
    m = m * (1.0 - 0.5 * big);
    e = e - (4503599627370496.0 + 1023.0) + big; /* the unbiased exponent, exactly */
    double s = (m - 1.0) / (m + 1.0);
    double z = s * s;
    double r;
    SK_ATANH_D(SK_MULADD, SK_SCALAR, r, z);
    double s2 = s + s;
    return e * SK_LN2_HI + (s2 * z * r + (e * SK_LN2_LO + s2));
}

#ifdef SK_VEC_AVX2
/* sk_log of four doubles: the same operations in the same order, so the same results as
 * sk_log lane by lane (GCC does not vectorise the bit manipulation of the scalar version). */
SK_ATTR static inline __m256d SK_FN(sk_log4)(__m256d x) {
    const __m256d one = _mm256_set1_pd(1.0);
    __m256i u = _mm256_castpd_si256(x);
    __m256d m = _mm256_castsi256_pd(_mm256_or_si256(
        _mm256_and_si256(u, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
        _mm256_set1_epi64x(0x3FF0000000000000LL)));
    __m256d e = _mm256_castsi256_pd(
        _mm256_or_si256(_mm256_srli_epi64(u, 52), _mm256_set1_epi64x(0x4330000000000000LL)));
    __m256d big = _mm256_and_pd(
        _mm256_cmp_pd(m, _mm256_set1_pd(1.4142135623730951), _CMP_GT_OQ), one);
    m = _mm256_mul_pd(m, _mm256_fnmadd_pd(_mm256_set1_pd(0.5), big, one));
    e = _mm256_add_pd(_mm256_sub_pd(e, _mm256_set1_pd(4503599627370496.0 + 1023.0)), big);
    __m256d s = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
    __m256d z = _mm256_mul_pd(s, s);
    __m256d r;
    SK_ATANH_D(_mm256_fmadd_pd, _mm256_set1_pd, r, z);
    __m256d s2 = _mm256_add_pd(s, s);
    return _mm256_fmadd_pd(e, _mm256_set1_pd(SK_LN2_HI),
                           _mm256_fmadd_pd(_mm256_mul_pd(s2, z), r,
                                           _mm256_fmadd_pd(e, _mm256_set1_pd(SK_LN2_LO), s2)));
}

SK_ATTR static inline __m256d sk_load4_f(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
SK_ATTR static inline __m256d sk_load4_d(const double *p) { return _mm256_loadu_pd(p); }
#define SK_LOAD4(p) _Generic((p), const float *: sk_load4_f, const double *: sk_load4_d)(p)

/* four doubles: the operations of the score formulas (see SK_HARD_TERMS in _vecmath.h) */
#define SK4_T __m256d
#define SK4_SET(c) _mm256_set1_pd(c)
#define SK4_ADD(a, b) _mm256_add_pd(a, b)
#define SK4_SUB(a, b) _mm256_sub_pd(a, b)
#define SK4_MUL(a, b) _mm256_mul_pd(a, b)
#define SK4_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define SK4_MAX(a, b) _mm256_max_pd(a, b)
#define SK4_SELGT(a, b, x, y) _mm256_blendv_pd(y, x, _mm256_cmp_pd(a, b, _CMP_GT_OQ))
#define SK4_NEG(a) _mm256_xor_pd(a, _mm256_set1_pd(-0.0))
#define SK4_ABS(a) _mm256_andnot_pd(_mm256_set1_pd(-0.0), a)
#define SK4_LOG(a) SK_FN(sk_log4)(a)
#endif

/* The same in single precision for float32 data: s^11 suffices (truncation below 1e-9
 * relative), within about 2 ulp of logf. */
SK_ATTR static inline float SK_FN(sk_logf)(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint32_t mant = u & UINT32_C(0x007FFFFF);
    uint32_t big = mant > UINT32_C(0x003504F3) ? 1 : 0; /* mantissa of sqrt(2) */
    uint32_t mbits = mant | ((UINT32_C(127) - big) << 23);
    int32_t e = (int32_t)((u >> 23) + big) - 127;
    float m;
    memcpy(&m, &mbits, sizeof m);
    float s = (m - 1.0f) / (m + 1.0f);
    float z = s * s;
    float r;
    SK_ATANH_F(SK_MULADD, SK_SCALAR, r, z);
    float s2 = s + s;
    float ef = (float)e;
    return ef * SK_LN2F_HI + (s2 * z * r + (ef * SK_LN2F_LO + s2));
}

/* out[i] = x[i] * log(x[i]) for non-negative finite x (0 for 0; subnormal x use log(DBL_MIN),
 * an absolute error below 1e-305). */
SK_ATTR static void SK_FN(sk_xlogx_f)(const float *SK_RESTRICT x, Py_ssize_t n,
                                      double *SK_RESTRICT out) {
    for (Py_ssize_t i = 0; i < n; i++) {
        float v = x[i];
        float l = SK_FN(sk_logf)(v > SK_FLT_MIN ? v : SK_FLT_MIN);
        out[i] = (double)(v * l);
    }
}

/* The same with float32 results (summed per row in float32 lanes by the caller). */
SK_ATTR static void SK_FN(sk_xlogxf_f)(const float *SK_RESTRICT x, Py_ssize_t n,
                                       float *SK_RESTRICT out) {
    for (Py_ssize_t i = 0; i < n; i++) {
        float v = x[i];
        out[i] = v * SK_FN(sk_logf)(v > SK_FLT_MIN ? v : SK_FLT_MIN);
    }
}

SK_ATTR static void SK_FN(sk_xlogx_d)(const double *SK_RESTRICT x, Py_ssize_t n,
                                      double *SK_RESTRICT out) {
    Py_ssize_t i = 0;
#ifdef SK_VEC_AVX2
    const __m256d dmin = _mm256_set1_pd(SK_DBL_MIN);
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);  /* (max with NaN gives DBL_MIN, as below) */
        _mm256_storeu_pd(out + i, _mm256_mul_pd(v, SK_FN(sk_log4)(_mm256_max_pd(v, dmin))));
    }
#endif
    for (; i < n; i++) {
        double v = x[i];
        double l = SK_FN(sk_log)(v > SK_DBL_MIN ? v : SK_DBL_MIN);
        out[i] = v * l;
    }
}

/* Scores of rows with a hard (one-hot) target, from v = p[y] and q = sum_k (p[k] - [k == y])^2:
 * Brier q and the terms of SK_HARD_TERMS (_vecmath.h). */
SK_ATTR static void SK_FN(sk_hard_scores)(const double *SK_RESTRICT v, const double *SK_RESTRICT q,
                                          Py_ssize_t n, double eps, double *SK_RESTRICT brier,
                                          double *SK_RESTRICT ce, double *SK_RESTRICT js,
                                          double *SK_RESTRICT tv) {
    double lo = eps > SK_DBL_MIN ? eps : SK_DBL_MIN;
    double log_lo = SK_FN(sk_log)(lo);
    Py_ssize_t i = 0;
#ifdef SK_VEC_AVX2
    {
        const __m256d vlo = _mm256_set1_pd(lo), vlog_lo = _mm256_set1_pd(log_lo);
        for (; i + 4 <= n; i += 4) {
            __m256d vi = _mm256_loadu_pd(v + i), c, j, t;
            SK_HARD_TERMS(SK4_, vi, vlo, vlog_lo, c, j, t);
            _mm256_storeu_pd(brier + i, _mm256_loadu_pd(q + i));
            _mm256_storeu_pd(ce + i, c);
            _mm256_storeu_pd(js + i, j);
            _mm256_storeu_pd(tv + i, t);
        }
    }
#endif
    for (; i < n; i++) {
        brier[i] = q[i];
        SK_HARD_TERMS(SKS_, v[i], lo, log_lo, ce[i], js[i], tv[i]);
    }
    if (eps < SK_DBL_MIN) {
        /* only a user's eps below DBL_MIN lets a subnormal or zero p[y] reach the log */
        for (Py_ssize_t i = 0; i < n; i++) {
            double c = v[i] > eps ? v[i] : eps;
            if (c < SK_DBL_MIN) ce[i] = c > 0.0 ? -log(c) : HUGE_VAL;
        }
    }
}

/* Row sums of an (m, K) block held contiguously: out[j] = sum_k x[j*K + k]. */
SK_ATTR static void SK_FN(sk_row_sums)(const double *SK_RESTRICT x, Py_ssize_t m, Py_ssize_t K,
                                      double *SK_RESTRICT out) {
    for (Py_ssize_t j = 0; j < m; j++) {
        const double *r = x + j * K;
        double s0 = 0.0, s1 = 0.0;
        Py_ssize_t k = 0;
        for (; k + 2 <= K; k += 2) {
            s0 += r[k];
            s1 += r[k + 1];
        }
        if (k < K) s0 += r[k];
        out[j] = s0 + s1;
    }
}

/* Per-row statistics of the hard-label scores for m rows of K probabilities: v[j] = p[y[j]],
 * q[j] = sum_k (p - [k == y])^2 (the Brier score, summed as such: 1 - 2v + sum p^2 would lose
 * a confident row's small score to cancellation) and, if h is not NULL, h[j] = -sum_k p log p.
 * tmp holds SK_TMP doubles. */
#define SK_BODY_HARD_BLOCK(T, XLOGX)                                                          \
    for (Py_ssize_t j = 0; j < m; j++) v[j] = (double)P[j * K + y[j]];                        \
    Py_ssize_t rows = K <= SK_TMP ? SK_TMP / K : 1;                                             \
    for (Py_ssize_t j0 = 0; j0 < m; j0 += rows) {                                              \
        Py_ssize_t rr = m - j0 < rows ? m - j0 : rows;                                         \
        const T *p = P + j0 * K;                                                               \
        if (K <= SK_TMP) {                                                                     \
            Py_ssize_t len = rr * K;                                                           \
            for (Py_ssize_t i = 0; i < len; i++) tmp[i] = (double)p[i] * (double)p[i];       \
            for (Py_ssize_t j = 0; j < rr; j++) {                                              \
                double d = 1.0 - (double)p[j * K + y[j0 + j]];                                 \
                tmp[j * K + y[j0 + j]] = d * d;                                                \
            }                                                                                  \
            SK_FN(sk_row_sums)(tmp, rr, K, q + j0);                                            \
            if (h != NULL) {                                                                   \
                SK_FN(XLOGX)(p, len, tmp);                                                     \
                SK_FN(sk_row_sums)(tmp, rr, K, h + j0);                                        \
                for (Py_ssize_t j = 0; j < rr; j++) h[j0 + j] = 0.0 - h[j0 + j]; /* +0 */      \
            }                                                                                  \
        } else {                                                                               \
            double sq = 0.0, sh = 0.0, part;                                                   \
            for (Py_ssize_t c = 0; c < K; c += SK_TMP) {                                       \
                Py_ssize_t len = K - c < SK_TMP ? K - c : SK_TMP;                              \
                for (Py_ssize_t i = 0; i < len; i++) tmp[i] = (double)p[c + i] * (double)p[c + i]; \
                if (y[j0] >= c && y[j0] < c + len) {                                           \
                    double d = 1.0 - (double)p[y[j0]];                                         \
                    tmp[y[j0] - c] = d * d;                                                    \
                }                                                                              \
                SK_FN(sk_row_sums)(tmp, 1, len, &part);                                        \
                sq += part;                                                                    \
                if (h != NULL) {                                                               \
                    SK_FN(XLOGX)(p + c, len, tmp);                                             \
                    SK_FN(sk_row_sums)(tmp, 1, len, &part);                                    \
                    sh += part;                                                                \
                }                                                                              \
            }                                                                                  \
            q[j0] = sq;                                                                        \
            if (h != NULL) h[j0] = 0.0 - sh;                                                   \
        }                                                                                      \
    }

/* One definition for float and double: SK_DEFINE_HARD_BLOCK(name, T, x log x of T). */
#define SK_DEFINE_HARD_BLOCK(NAME, T, XLOGX)                                                   \
    SK_ATTR static void SK_FN(NAME)(const T *SK_RESTRICT P, Py_ssize_t m, Py_ssize_t K,         \
                                    const Py_ssize_t *SK_RESTRICT y, double *SK_RESTRICT tmp,   \
                                    double *SK_RESTRICT v, double *SK_RESTRICT q,               \
                                    double *SK_RESTRICT h) {                                    \
        SK_BODY_HARD_BLOCK(T, XLOGX)                                                           \
    }

SK_DEFINE_HARD_BLOCK(sk_hard_block_f, float, sk_xlogx_f)
SK_DEFINE_HARD_BLOCK(sk_hard_block_d, double, sk_xlogx_d)
#undef SK_DEFINE_HARD_BLOCK

/* Soft targets: the per-value terms of SK_SOFT_TERMS (_vecmath.h) for n values of P and T, into
 * six arrays SK_SOFT_CHUNK apart: brier, |p - t|, ce, js, ht, hp (summed per row by the
 * caller). eps clips p inside the cross-entropy's logarithm; the cross-entropy of a p[k] that
 * eps lets below DBL_MIN is recomputed exactly afterwards (SK_SOFT_BLOCK). */
#define SK_SOFT_CHUNK 512
#undef SK_SOFT_TERMS_VEC
#ifdef SK_VEC_AVX2
#define SK_SOFT_TERMS_VEC                                                                     \
    {                                                                                          \
        const __m256d vlo = _mm256_set1_pd(lo), vlog_lo = _mm256_set1_pd(log_lo);             \
        for (; i + 4 <= n; i += 4) {                                                           \
            __m256d v = SK_LOAD4(p + i), tv = SK_LOAD4(t + i), f0, f1, f2, f3, f4, f5;         \
            SK_SOFT_TERMS(SK4_, v, tv, vlo, vlog_lo, f0, f1, f2, f3, f4, f5);                 \
            _mm256_storeu_pd(o + i, f0);                                                       \
            _mm256_storeu_pd(o + SK_SOFT_CHUNK + i, f1);                                       \
            _mm256_storeu_pd(o + 2 * SK_SOFT_CHUNK + i, f2);                                   \
            _mm256_storeu_pd(o + 3 * SK_SOFT_CHUNK + i, f3);                                   \
            _mm256_storeu_pd(o + 4 * SK_SOFT_CHUNK + i, f4);                                   \
            _mm256_storeu_pd(o + 5 * SK_SOFT_CHUNK + i, f5);                                   \
        }                                                                                      \
    }
#else
#define SK_SOFT_TERMS_VEC
#endif
#define SK_BODY_SOFT_TERMS                                                                    \
    double lo = eps > SK_DBL_MIN ? eps : SK_DBL_MIN;                                           \
    double log_lo = SK_FN(sk_log)(lo);                                                         \
    Py_ssize_t i = 0;                                                                          \
    SK_SOFT_TERMS_VEC                                                                          \
    for (; i < n; i++) {                                                                       \
        double v = (double)p[i], tv = (double)t[i];                                            \
        SK_SOFT_TERMS(SKS_, v, tv, lo, log_lo, o[i], o[SK_SOFT_CHUNK + i],                     \
                      o[2 * SK_SOFT_CHUNK + i], o[3 * SK_SOFT_CHUNK + i],                      \
                      o[4 * SK_SOFT_CHUNK + i], o[5 * SK_SOFT_CHUNK + i]);                     \
    }

#define SK_DEFINE_SOFT_TERMS(NAME, PT, TT)                                                     \
    SK_ATTR static void SK_FN(NAME)(const PT *SK_RESTRICT p, const TT *SK_RESTRICT t,         \
                                    Py_ssize_t n, double eps, double *SK_RESTRICT o) {         \
        SK_BODY_SOFT_TERMS                                                                     \
    }

SK_DEFINE_SOFT_TERMS(sk_soft_terms_ff, float, float)
SK_DEFINE_SOFT_TERMS(sk_soft_terms_fd, float, double)
SK_DEFINE_SOFT_TERMS(sk_soft_terms_df, double, float)
SK_DEFINE_SOFT_TERMS(sk_soft_terms_dd, double, double)
