/* The row rule of sksoft, in one place for every kernel that checks probability rows: a row is
 * a probability distribution when its values are finite and non-negative and their sum is
 * within tol of 1 (the rule of sksoft._targets.validate_rows; tol is always computed by
 * sksoft._targets.row_sum_tolerance and passed in, so the kernels hold no tolerance of their
 * own). NaN and infinity need no test of their own: they make the sum NaN or infinite, which
 * fails the test against 1.
 *
 * The kernels sum a row in the order that suits their pass (lanes of a SIMD register, partial
 * sums beside an argmax), but every one of them decides with sksoft_row_bad /
 * sksoft_row_sum_off below, or with their vector forms SKSOFT_ROW_SUM_OFF_SSE2 /
 * SKSOFT_ROW_SUM_OK_512 (several rows at once). tests/test_kernel_rules.py checks that no other
 * kernel source compares a sum against the tolerance.
 *
 * The scalar row scans shared by the binary-event kernels (events.pyx) follow, generated for
 * float and double by one macro each. */
#ifndef SKSOFT_ROWRULE_H
#define SKSOFT_ROWRULE_H

#include <stddef.h>  /* Py_ssize_t comes from Python.h, included first by Cython */
#include <math.h>

/* Nonzero when a row sum s is off 1 by more than tol (or NaN / infinite). */
static inline int sksoft_row_sum_off(double s, double tol) { return !(fabs(s - 1.0) <= tol); }

/* Nonzero when a row with sum s (and with a negative value when neg) breaks the rule, without
 * a branch (the SIMD row checks); the scalar scans below test neg first instead. */
static inline int sksoft_row_bad(double s, int neg, double tol) {
    return sksoft_row_sum_off(s, tol) | (neg != 0);
}

/* The sum test for two float64 row sums in one SSE2 register: a two-bit mask, bit r set when
 * the sum in lane r is off 1 by more than tol (or NaN). `vtol` holds tol in both lanes. */
#define SKSOFT_ROW_SUM_OFF_SSE2(s, vtol)                                                       \
    _mm_movemask_pd(_mm_cmpnle_pd(                                                             \
        _mm_and_pd(_mm_sub_pd((s), _mm_set1_pd(1.0)),                                          \
                   _mm_castsi128_pd(_mm_set1_epi64x(0x7FFFFFFFFFFFFFFFLL))),                   \
        (vtol)))

/* The same for eight float64 row sums in one AVX-512 register, as the mask of the sums that
 * pass (expanded inside the caller's AVX-512 function). */
#define SKSOFT_ROW_SUM_OK_512(s, vtol)                                                         \
    _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd((s), _mm512_set1_pd(1.0))), (vtol),          \
                       _CMP_LE_OQ)

/* Whether a row breaks the rule: two partial sums keep the loop off the add latency. */
#define SKSOFT_DEFINE_BAD_ROW(NAME, T)                                                         \
    static inline int NAME(const T *row, Py_ssize_t K, double tol) {                           \
        double s0 = 0.0, s1 = 0.0;                                                             \
        int neg = 0;                                                                           \
        Py_ssize_t k = 0;                                                                      \
        for (; k + 1 < K; k += 2) {                                                            \
            s0 += row[k];                                                                      \
            s1 += row[k + 1];                                                                  \
            neg |= (row[k] < 0) | (row[k + 1] < 0);                                            \
        }                                                                                      \
        if (k < K) {                                                                           \
            s0 += row[k];                                                                      \
            neg |= row[k] < 0;                                                                 \
        }                                                                                      \
        return neg || sksoft_row_sum_off(s0 + s1, tol);                                        \
    }

/* The rule and the first argmax (as numpy's) in one pass, on four independent lanes of sums
 * and maxima (a single chain would wait on the add / max latency at every column). The first
 * column equal to the maximum is found backwards with conditional moves: a branch on which
 * column is largest would be mispredicted on most rows of real probability matrices. *arg is
 * only meaningful for a good row. */
#define SKSOFT_DEFINE_SCAN_ROW(NAME, T)                                                        \
    static inline int NAME(const T *row, Py_ssize_t K, double tol, Py_ssize_t *arg) {          \
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;                                         \
        T b0 = row[0], b1 = row[0], b2 = row[0], b3 = row[0];                                  \
        int neg = 0;                                                                           \
        Py_ssize_t k = 0, a = K - 1;                                                           \
        for (; k + 3 < K; k += 4) {                                                            \
            T u0 = row[k], u1 = row[k + 1], u2 = row[k + 2], u3 = row[k + 3];                  \
            s0 += u0;                                                                          \
            s1 += u1;                                                                          \
            s2 += u2;                                                                          \
            s3 += u3;                                                                          \
            neg |= (u0 < 0) | (u1 < 0) | (u2 < 0) | (u3 < 0);                                  \
            b0 = u0 > b0 ? u0 : b0;                                                            \
            b1 = u1 > b1 ? u1 : b1;                                                            \
            b2 = u2 > b2 ? u2 : b2;                                                            \
            b3 = u3 > b3 ? u3 : b3;                                                            \
        }                                                                                      \
        for (; k < K; k++) {                                                                   \
            T u = row[k];                                                                      \
            s0 += u;                                                                           \
            neg |= u < 0;                                                                      \
            b0 = u > b0 ? u : b0;                                                              \
        }                                                                                      \
        b0 = b1 > b0 ? b1 : b0;                                                                \
        b2 = b3 > b2 ? b3 : b2;                                                                \
        b0 = b2 > b0 ? b2 : b0;                                                                \
        for (k = K - 1; k >= 0; k--)                                                           \
            a = row[k] == b0 ? k : a;                                                          \
        *arg = a;                                                                              \
        return neg || sksoft_row_sum_off((s0 + s1) + (s2 + s3), tol);                          \
    }

SKSOFT_DEFINE_BAD_ROW(sksoft_bad_row_f, float)
SKSOFT_DEFINE_BAD_ROW(sksoft_bad_row_d, double)
SKSOFT_DEFINE_SCAN_ROW(sksoft_scan_row_f, float)
SKSOFT_DEFINE_SCAN_ROW(sksoft_scan_row_d, double)

#endif
