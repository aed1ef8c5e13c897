/* The calibration report's pass over float32 rows of 2..16 probabilities with hard labels, for
 * CPUs with AVX-512 (F, BW, DQ, VL); chosen at run time (vec level 2, see _vecmath.h).
 *
 * One row fits one 16-lane register (the lanes past K are masked to zero). For every 16 rows,
 * the row maxima, sums, sums of squares and sums of x log x come from tree reductions of the
 * 16 registers (45 shuffles and operations per quantity instead of a horizontal reduction per
 * row). Then, per row:
 *   - the top-label histogram, kept per (group, argmax class, bin): one int64 of rows +
 *     (correct rows << 32) and one double confidence sum. Summed over the classes it is the
 *     top-label histogram; per class it is also the classwise histogram's share of the row's
 *     largest value, so that value needs no classwise update of its own;
 *   - the other values at or above the first inner edge are compacted (vpcompressd) into a list
 *     of (cell, value), the cell carrying the label flag in bit 31; a lean loop afterwards bins
 *     them into ctab (same layout as the int64 + double table of the AVX2 path);
 *   - all values are added to per-group column sums (colall): bin 0's value sums are the
 *     column sums minus everything binned elsewhere (derived after the pass);
 *   - rows per group and label (ltab).
 * Finally the scores, eight rows at a time in double precision: Brier q,
 * cross-entropy -log(max(v, eps)), Jensen-Shannon, total variation 1 - v, the predicted entropy
 * and its square, transposed so that each row adds one 8-double vector to its group's sums.
 *
 * Nothing is checked before it is accumulated: bins and classes are clamped into range, so bad
 * rows (NaN, negative, sums off 1, labels out of range) cannot write out of bounds, and the
 * function reports whether the block may hold one; the caller then finds and reports it exactly
 * (a float32 row sum within rounding of tol is a false alarm, and the block's statistics stand).
 */
#ifndef SKSOFT_REPORT512_H
#define SKSOFT_REPORT512_H

#include "_vecmath.h"
#include "_pass.h"
#include "_rowrule.h"

#ifdef SKSOFT_HAVE_AVX2_CLONE

#define SK512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

/* fields of the per-group score sums written by sksoft_report512_f (8 doubles per group) */
#define SK512_BRIER 0
#define SK512_CE 1
#define SK512_HPRED 2
#define SK512_JS 3
#define SK512_TV 4
#define SK512_HPRED2 5

/* log of 16 normal, finite, positive floats: x = 2^e m with m in [0.75, 1.5), log m = 2 atanh s
 * with s = (m - 1) / (m + 1), |s| <= 0.2, series to s^11; the quotient from a reciprocal
 * estimate and one Newton step (28 bits). e ln 2 in two parts, as in sk_logf. */
SK512 static inline __m512 sk512_logf(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_src);
    __m512 e = _mm512_getexp_ps(x);
    e = _mm512_mask_add_ps(e, _mm512_cmp_ps_mask(m, one, _CMP_LT_OQ), e, one);
    __m512 d = _mm512_add_ps(m, one);
    __m512 r = _mm512_rcp14_ps(d);
    r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
    __m512 s = _mm512_mul_ps(_mm512_sub_ps(m, one), r);
    __m512 z = _mm512_mul_ps(s, s);
    __m512 p;
    SK_ATANH_F(_mm512_fmadd_ps, _mm512_set1_ps, p, z);
    __m512 s2 = _mm512_add_ps(s, s);
    __m512 t = _mm512_fmadd_ps(_mm512_mul_ps(s2, z), p,
                               _mm512_fmadd_ps(e, _mm512_set1_ps(SK_LN2F_LO), s2));
    return _mm512_fmadd_ps(e, _mm512_set1_ps(SK_LN2F_HI), t);
}

/* log of 8 normal, finite, positive doubles, as sk_log (series to s^21, |s| <= 0.2: the
 * truncation stays below 1e-17 relative; exact division). */
SK512 static inline __m512d sk512_log(__m512d x) {
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_src);
    __m512d e = _mm512_getexp_pd(x);
    e = _mm512_mask_add_pd(e, _mm512_cmp_pd_mask(m, one, _CMP_LT_OQ), e, one);
    __m512d s = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
    __m512d z = _mm512_mul_pd(s, s);
    __m512d r;
    SK_ATANH_D(_mm512_fmadd_pd, _mm512_set1_pd, r, z);
    __m512d s2 = _mm512_add_pd(s, s);
    __m512d t = _mm512_fmadd_pd(_mm512_mul_pd(s2, z), r,
                                _mm512_fmadd_pd(e, _mm512_set1_pd(SK_LN2_LO), s2));
    return _mm512_fmadd_pd(e, _mm512_set1_pd(SK_LN2_HI), t);
}

/* eight doubles: the operations of the score formulas (see SK_HARD_TERMS in _vecmath.h) */
#define SK8_T __m512d
#define SK8_SET(c) _mm512_set1_pd(c)
#define SK8_ADD(a, b) _mm512_add_pd(a, b)
#define SK8_SUB(a, b) _mm512_sub_pd(a, b)
#define SK8_MUL(a, b) _mm512_mul_pd(a, b)
#define SK8_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define SK8_MAX(a, b) _mm512_max_pd(a, b)
#define SK8_SELGT(a, b, x, y) _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_GT_OQ), y, x)
#define SK8_NEG(a) _mm512_xor_pd(a, _mm512_set1_pd(-0.0))
#define SK8_ABS(a) _mm512_abs_pd(a)
#define SK8_LOG(a) sk512_log(a)

/* Tree reduction of 16 registers v[0..15]: the result's lane 4 l + e is OP over the lanes of
 * v[4 e + l], so row r's result is in lane sk512_tree_lane_[r] = 4 (r % 4) + r / 4. */
static const int sk512_tree_lane_[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};

#define SK512_TREE(OP, v, out)                                                                 \
    do {                                                                                       \
        __m512 l1_[8], l2_[4], l3_[2];                                                         \
        for (int q_ = 0; q_ < 8; q_++)                                                         \
            l1_[q_] = OP(_mm512_shuffle_f32x4(v[2 * q_], v[2 * q_ + 1], 0x44),                 \
                         _mm512_shuffle_f32x4(v[2 * q_], v[2 * q_ + 1], 0xEE));                \
        for (int q_ = 0; q_ < 4; q_++)                                                         \
            l2_[q_] = OP(_mm512_shuffle_f32x4(l1_[2 * q_], l1_[2 * q_ + 1], 0x88),             \
                         _mm512_shuffle_f32x4(l1_[2 * q_], l1_[2 * q_ + 1], 0xDD));            \
        for (int q_ = 0; q_ < 2; q_++)                                                         \
            l3_[q_] = OP(_mm512_shuffle_ps(l2_[2 * q_], l2_[2 * q_ + 1], 0x44),                \
                         _mm512_shuffle_ps(l2_[2 * q_], l2_[2 * q_ + 1], 0xEE));               \
        out = OP(_mm512_shuffle_ps(l3_[0], l3_[1], 0x88),                                      \
                 _mm512_shuffle_ps(l3_[0], l3_[1], 0xDD));                                     \
    } while (0)

/* m <= 256 rows of K (2..16) float32 values P, labels Y (any values; out of range is reported),
 * groups G (valid codes) or NULL; the settings in c: nb equal-width bins for the top label and
 * every class (float truncation exact, see float32_trunc_is_exact), e1f the smallest float >=
 * the first inner edge, K, tol, eps, want_entropy. Tables in acc (zeroed by the caller, per
 * thread):
 *   ttab  (group * K + argmax class) * nb + bin: 2 slots, int64 rows + (correct << 32), double
 *         confidence sum
 *   ctab  (group * K + class) * nb + bin: 2 slots, int64 rows + (label rows << 32), double
 *         value sum -- every value >= e1f except the row's largest
 *   ltab  group * K + label: rows
 *   colall group * 16 + class: sum of all values
 *   gsum  group * 8 + SK512_*: score sums
 * Scratch in scr: cell (int) and val (float) of m * K + 16 entries, tbuf of m * K + 16 floats,
 * v, q, h of m doubles. eps >= DBL_MIN. Returns nonzero if a row may be bad. */
SK512 static int sksoft_report512_f(const float *SK_RESTRICT P, Py_ssize_t m,
                                    const Py_ssize_t *SK_RESTRICT Y,
                                    const Py_ssize_t *SK_RESTRICT G, const sk_config *c,
                                    sk_accum *acc, sk_scratch *scr) {
    const Py_ssize_t K = c->K;
    const double tol = c->tol, eps = c->eps;
    const int nb = (int)c->nb, want_entropy = c->want_entropy;
    const float e1f = c->e1f;
    long long *SK_RESTRICT ttab = acc->ttab, *SK_RESTRICT ctab = acc->ctab;
    long long *SK_RESTRICT ltab = acc->ltab;
    double *SK_RESTRICT colall = acc->colall, *SK_RESTRICT gsum = acc->gsum;
    int *SK_RESTRICT cell = scr->cell;
    float *SK_RESTRICT val = scr->val, *SK_RESTRICT tbuf = scr->tbuf;
    double *SK_RESTRICT v = scr->v, *SK_RESTRICT q = scr->q, *SK_RESTRICT h = scr->h;
    const __mmask16 km = (__mmask16)((1u << K) - 1);
    const __m512 ve1 = _mm512_set1_ps(e1f);
    const __m512d vnb = _mm512_set1_pd((double)nb);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i iota_nb = _mm512_mullo_epi32(iota, _mm512_set1_epi32(nb));
    const __m512i top_bin = _mm512_set1_epi32(nb - 1);
    const __m512i label_bit = _mm512_set1_epi32((int)0x80000000u);
    double *SK_RESTRICT tsum = (double *)ttab;
    double *SK_RESTRICT csum = (double *)ctab;
    Py_ssize_t len = m * K, i, nh = 0;
    int bad = 0;

    /* x log x of every value (x below FLT_MIN as FLT_MIN: 0 for 0) */
    if (want_entropy) {
        const __m512 fmin = _mm512_set1_ps(SK_FLT_MIN);
        for (i = 0; i < len; i += 16) {
            __mmask16 tm = len - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - i)) - 1);
            __m512 x = _mm512_maskz_loadu_ps(tm, P + i);
            _mm512_mask_storeu_ps(tbuf + i, tm,
                                  _mm512_mul_ps(x, sk512_logf(_mm512_max_ps(x, fmin))));
        }
    }

    __m512 vmin = _mm512_setzero_ps();
    for (Py_ssize_t j0 = 0; j0 < m; j0 += 16) {
        Py_ssize_t r16 = m - j0 < 16 ? m - j0 : 16;
        __m512 x[16], t[16], sq[16];
        for (int r = 0; r < 16; r++) {
            __mmask16 ym = 0;
            if (r < r16) {
                x[r] = _mm512_maskz_loadu_ps(km, P + (j0 + r) * K);
                t[r] = want_entropy ? _mm512_maskz_loadu_ps(km, tbuf + (j0 + r) * K)
                                    : _mm512_setzero_ps();
                size_t yr = (size_t)Y[j0 + r];
                ym = yr < (size_t)K ? (__mmask16)(1u << yr) : (__mmask16)0;
            } else {
                x[r] = _mm512_setzero_ps();
                t[r] = x[r];
            }
            /* the Brier terms (p - [k == y])^2, summed as such (no cancellation) */
            __m512 d = _mm512_mask_sub_ps(x[r], ym, x[r], _mm512_set1_ps(1.0f));
            sq[r] = _mm512_mul_ps(d, d);
            vmin = _mm512_min_ps(vmin, x[r]);
        }
        __m512 mx_v, sum_v, sq_v, h_v;
        SK512_TREE(_mm512_max_ps, x, mx_v);
        SK512_TREE(_mm512_add_ps, x, sum_v);
        SK512_TREE(_mm512_add_ps, sq, sq_v);
        SK512_TREE(_mm512_add_ps, t, h_v);
        float mxa[16], qa[16], ha[16];
        _mm512_storeu_ps(mxa, mx_v);
        _mm512_storeu_ps(qa, sq_v);
        _mm512_storeu_ps(ha, h_v);
        /* row sums off 1 by more than tol (or NaN), in double */
        {
            __m512d s_lo = _mm512_cvtps_pd(_mm512_castps512_ps256(sum_v));
            __m512d s_hi = _mm512_cvtps_pd(
                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sum_v), 1)));
            __m512d vt = _mm512_set1_pd(tol);
            __mmask8 ok_lo = SKSOFT_ROW_SUM_OK_512(s_lo, vt);
            __mmask8 ok_hi = SKSOFT_ROW_SUM_OK_512(s_hi, vt);
            unsigned okm = (unsigned)ok_lo | ((unsigned)ok_hi << 8);
            unsigned need = 0;
            for (int r = 0; r < r16; r++) need |= 1u << sk512_tree_lane_[r];
            bad |= (okm & need) != need;
        }
        for (int r = 0; r < r16; r++) {
            Py_ssize_t j = j0 + r;
            int L = sk512_tree_lane_[r];
            float mx = mxa[L];
            q[j] = (double)qa[L];
            h[j] = 0.0 - (double)ha[L];
            unsigned eq = _mm512_mask_cmp_ps_mask(km, x[r], _mm512_set1_ps(mx), _CMP_EQ_OQ);
            unsigned a = (unsigned)__builtin_ctz(eq | 0x10000u);
            a = a < (unsigned)K ? a : 0u; /* NaN maximum: the row is bad anyway */
            Py_ssize_t y = Y[j];
            int ybad = (size_t)y >= (size_t)K;
            bad |= ybad;
            y = ybad ? 0 : y;
            Py_ssize_t g = G != NULL ? G[j] : 0, gk = g * K;
            /* bins by truncation of the double product, as float32_trunc_is_exact checks */
            int b = (int)((double)mx * (double)nb);
            b = b < 0 ? 0 : b;
            b = b < nb - 1 ? b : nb - 1;
            Py_ssize_t at = ((gk + a) * nb + b) * 2;
            ttab[at] += 1 + ((long long)(a == (unsigned)y) << 32);
            tsum[at + 1] += (double)mx;
            ltab[gk + y] += 1;
            v[j] = (double)P[j * K + y];
            /* the other values >= e1: (cell, value) appended, label flag in the cell's bit 31 */
            __mmask16 hm = _mm512_mask_cmp_ps_mask(km & (__mmask16)~(1u << a), x[r], ve1,
                                                   _CMP_GE_OQ);
            __m512d x_lo = _mm512_cvtps_pd(_mm512_castps512_ps256(x[r]));
            __m512d x_hi = _mm512_cvtps_pd(
                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x[r]), 1)));
            __m512i bins = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm512_cvttpd_epi32(_mm512_mul_pd(x_lo, vnb))),
                _mm512_cvttpd_epi32(_mm512_mul_pd(x_hi, vnb)), 1);
            bins = _mm512_min_epi32(_mm512_max_epi32(bins, _mm512_setzero_si512()), top_bin);
            __m512i cells = _mm512_add_epi32(
                _mm512_add_epi32(_mm512_set1_epi32((int)(gk * nb)), iota_nb), bins);
            cells = _mm512_mask_or_epi32(cells, (__mmask16)(1u << y), cells, label_bit);
            _mm512_storeu_si512((void *)(cell + nh), _mm512_maskz_compress_epi32(hm, cells));
            _mm512_storeu_ps(val + nh, _mm512_maskz_compress_ps(hm, x[r]));
            nh += __builtin_popcount((unsigned)hm);
            /* column sums of the group */
            double *SK_RESTRICT cg = colall + g * 16;
            _mm512_storeu_pd(cg, _mm512_add_pd(_mm512_loadu_pd(cg), x_lo));
            if (K > 8) _mm512_storeu_pd(cg + 8, _mm512_add_pd(_mm512_loadu_pd(cg + 8), x_hi));
        }
    }
    bad |= _mm512_cmp_ps_mask(vmin, _mm512_setzero_ps(), _CMP_LT_OQ) != 0;

    for (i = 0; i < nh; i++) {
        uint32_t c = (uint32_t)cell[i];
        Py_ssize_t at = (Py_ssize_t)(c & 0x7FFFFFFFu) * 2;
        ctab[at] += 1 + ((long long)(c >> 31) << 32);
        csum[at + 1] += (double)val[i];
    }

    /* scores, 8 rows at a time; each row's 8 sums are one vector after a transpose */
    {
        const __m512d lo = _mm512_set1_pd(eps);
        const __m512d log_lo = sk512_log(lo);
        __m512d tot[6];
        for (int c = 0; c < 6; c++) tot[c] = _mm512_setzero_pd();
        for (Py_ssize_t j0 = 0; j0 < m; j0 += 8) {
            Py_ssize_t r8 = m - j0 < 8 ? m - j0 : 8;
            __mmask8 rm = (__mmask8)((1u << r8) - 1);
            __m512d vv = _mm512_maskz_loadu_pd(rm, v + j0);
            __m512d qq = _mm512_maskz_loadu_pd(rm, q + j0);
            __m512d hh = _mm512_maskz_loadu_pd(rm, h + j0);
            __m512d f[8];
            SK_HARD_TERMS(SK8_, vv, lo, log_lo, f[SK512_CE], f[SK512_JS], f[SK512_TV]);
            f[SK512_BRIER] = qq;
            f[SK512_HPRED] = hh;
            f[SK512_HPRED2] = _mm512_mul_pd(hh, hh);
            f[6] = _mm512_setzero_pd();
            f[7] = f[6];
            for (int c = 0; c < 6; c++) f[c] = _mm512_maskz_mov_pd(rm, f[c]);
            if (G == NULL) {
                /* one group: sum the rows lane-wise, reduce once at the end */
                for (int c = 0; c < 6; c++) tot[c] = _mm512_add_pd(tot[c], f[c]);
                continue;
            }
            /* 8 x 8 transpose: row r's fields into one register */
            __m512d t0 = _mm512_unpacklo_pd(f[0], f[1]), t1 = _mm512_unpackhi_pd(f[0], f[1]);
            __m512d t2 = _mm512_unpacklo_pd(f[2], f[3]), t3 = _mm512_unpackhi_pd(f[2], f[3]);
            __m512d t4 = _mm512_unpacklo_pd(f[4], f[5]), t5 = _mm512_unpackhi_pd(f[4], f[5]);
            __m512d t6 = _mm512_unpacklo_pd(f[6], f[7]), t7 = _mm512_unpackhi_pd(f[6], f[7]);
            __m512d u0 = _mm512_shuffle_f64x2(t0, t2, 0x88), u1 = _mm512_shuffle_f64x2(t1, t3, 0x88);
            __m512d u2 = _mm512_shuffle_f64x2(t0, t2, 0xDD), u3 = _mm512_shuffle_f64x2(t1, t3, 0xDD);
            __m512d u4 = _mm512_shuffle_f64x2(t4, t6, 0x88), u5 = _mm512_shuffle_f64x2(t5, t7, 0x88);
            __m512d u6 = _mm512_shuffle_f64x2(t4, t6, 0xDD), u7 = _mm512_shuffle_f64x2(t5, t7, 0xDD);
            __m512d rows[8];
            rows[0] = _mm512_shuffle_f64x2(u0, u4, 0x88);
            rows[1] = _mm512_shuffle_f64x2(u1, u5, 0x88);
            rows[2] = _mm512_shuffle_f64x2(u2, u6, 0x88);
            rows[3] = _mm512_shuffle_f64x2(u3, u7, 0x88);
            rows[4] = _mm512_shuffle_f64x2(u0, u4, 0xDD);
            rows[5] = _mm512_shuffle_f64x2(u1, u5, 0xDD);
            rows[6] = _mm512_shuffle_f64x2(u2, u6, 0xDD);
            rows[7] = _mm512_shuffle_f64x2(u3, u7, 0xDD);
            for (int r = 0; r < r8; r++) {
                double *SK_RESTRICT gs = gsum + G[j0 + r] * 8;
                _mm512_storeu_pd(gs, _mm512_add_pd(_mm512_loadu_pd(gs), rows[r]));
            }
        }
        if (G == NULL)
            for (int c = 0; c < 6; c++) gsum[c] += _mm512_reduce_add_pd(tot[c]);
    }
    return bad;
}

#else
/* never called: vec level 2 needs the AVX-512 code, which only GCC and Clang on x86 build */
static int sksoft_report512_f(const float *P, Py_ssize_t m, const Py_ssize_t *Y,
                              const Py_ssize_t *G, const sk_config *c, sk_accum *acc,
                              sk_scratch *scr) {
    return 1;
}
#endif

#endif
