/* Sparse classwise binning (equal-width class bins): a row summing to 1 has at most n_bins
 * values at or above the first inner edge e1, so only those are listed (their offset in the
 * block and their group-and-class cell) and binned one by one; the values of bin 0 are only
 * summed per class, and bin 0's counts follow after the pass (_pass.pyx). With hard labels the
 * label's hit carries a flag in its cell, and hits go into an int64 + double table. The
 * listing is compiled twice (_classwise_impl.h, see _twice.h), with explicit AVX2 versions for
 * rows of 8..16 float32 or 4..16 float64 values. */
#ifndef SKSOFT_CLASSWISE_H
#define SKSOFT_CLASSWISE_H

#include "_vecmath.h"

#define SK_IMPL "_classwise_impl.h"
#include "_twice.h"

#ifdef SKSOFT_HAVE_AVX2_CLONE
#include <immintrin.h>

/* Bit positions of every byte value, for branch-free compaction: sksoft_bitpos_[b][i] is the
 * i-th set bit of b (filled once, at import, by sksoft_classwise_init). */
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
 * lab: see SK_BODY_SPARSE_HITS (NULL without hard labels). The explicit AVX2 listing takes rows
 * of KMIN..16 values (8 for float32, 4 for float64). */
#ifdef SKSOFT_HAVE_AVX2_CLONE
#define SK_SPARSE_NARROW(NARROW, KMIN)                                                         \
    if (sksoft_vec_level_ > 0 && K >= KMIN && K <= 16)                                         \
        return NARROW(P, m, K, G, Y, e1, col, off, cell, n_groups, slots, lab);
#else
#define SK_SPARSE_NARROW(NARROW, KMIN)
#endif
#define SK_DEFINE_SPARSE_HITS_DISPATCH(NAME, T, IMPL, NARROW, KMIN)                            \
    static inline Py_ssize_t NAME(const T *P, Py_ssize_t m, Py_ssize_t K, const Py_ssize_t *G,  \
                                  const Py_ssize_t *Y, double e1, double *col, int *off,        \
                                  int *cell, Py_ssize_t n_groups, double *slots,                \
                                  long long *lab) {                                             \
        SK_SPARSE_NARROW(NARROW, KMIN)                                                         \
        (void)n_groups;                                                                        \
        (void)slots;                                                                           \
        return SK_DISPATCH_RET(IMPL, (P, m, K, G, Y, e1, col, off, cell, lab));                \
    }

SK_DEFINE_SPARSE_HITS_DISPATCH(sksoft_sparse_hits_f, float, sk_sparse_hits_f,
                               sk_sparse_hits_f_avx2_narrow, 8)
SK_DEFINE_SPARSE_HITS_DISPATCH(sksoft_sparse_hits_d, double, sk_sparse_hits_d,
                               sk_sparse_hits_d_avx2_narrow, 4)

/* Bin the listed values (see sksoft_sparse_hits_*) into their class histograms: cls holds
 * N_SUB = 4 interleaved copies, `sub` doubles apart, of (count, value sum, target sum) per
 * (group * K + class, bin). Equal-width bins on [0, 1]: by truncation when `trunc` (exact for
 * the data, see float32_trunc_is_exact), else corrected against the float64 edges. (Soft
 * targets add their mass in _pass.pyx.) */
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

#define SK_DEFINE_BIN_HITS(NAME, T)                                                            \
    static inline void NAME(const T *SK_RESTRICT P, const int *SK_RESTRICT off,                \
                            const int *SK_RESTRICT cell, Py_ssize_t nh, const double *e,       \
                            Py_ssize_t ncb, int trunc, double *SK_RESTRICT cls,                \
                            Py_ssize_t sub) {                                                  \
        SK_BODY_BIN_HITS                                                                       \
    }

SK_DEFINE_BIN_HITS(sksoft_bin_hits_f, float)
SK_DEFINE_BIN_HITS(sksoft_bin_hits_d, double)

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

#define SK_DEFINE_BIN_LABEL_HITS(NAME, T)                                                      \
    static inline void NAME(const T *SK_RESTRICT P, const int *SK_RESTRICT off,                \
                            const int *SK_RESTRICT cell, Py_ssize_t nh, const double *e,       \
                            Py_ssize_t ncb, int trunc, long long *SK_RESTRICT tab) {           \
        SK_BODY_BIN_LABEL_HITS                                                                 \
    }

SK_DEFINE_BIN_LABEL_HITS(sksoft_bin_label_hits_f, float)
SK_DEFINE_BIN_LABEL_HITS(sksoft_bin_label_hits_d, double)

/* Fill the tables above (once, at import). */
static void sksoft_classwise_init(void) {
#ifdef SKSOFT_HAVE_AVX2_CLONE
    sksoft_fill_bitpos();
#endif
}

#endif
