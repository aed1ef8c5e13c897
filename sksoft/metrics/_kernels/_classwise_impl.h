/* Body of the classwise-binning kernels in _classwise.h, included twice like _vecmath_impl.h
 * (baseline ISA, and AVX2 + FMA on x86-64 with GCC or Clang; SK_FN / SK_ATTR set by the
 * includer). */

/* Sparse classwise binning of m rows (see _pass.pyx): adds the values below e1 (bin 0) to
 * the column sums of their group (col[g*K + k]) and lists the values >= e1 as their offset in
 * the block (off) and their group-and-class cell (cell = g*K + k). Returns how many. The list
 * is written without branches: every value is stored and the count advances only for hits, so
 * off and cell need room for one more entry than the hits. With hard labels Y (valid, checked
 * before), a hit of the row's label has bit 31 of its cell set, and lab[g*K + y] counts the
 * rows of each group and label. */
#define SK_BODY_SPARSE_HITS(T)                                                                \
    Py_ssize_t nh = 0;                                                                         \
    for (Py_ssize_t j = 0; j < m; j++) {                                                       \
        const T *p = P + j * K;                                                                \
        Py_ssize_t gk = G != NULL ? G[j] * K : 0;                                              \
        double *SK_RESTRICT c = col + gk;                                                      \
        for (Py_ssize_t k = 0; k < K; k++) c[k] += (double)p[k] < e1 ? (double)p[k] : 0.0;    \
    }                                                                                          \
    for (Py_ssize_t j = 0; j < m; j++) {                                                       \
        const T *p = P + j * K;                                                                \
        int gk = G != NULL ? (int)(G[j] * K) : 0;                                              \
        int o = (int)(j * K);                                                                  \
        Py_ssize_t y = -1;                                                                     \
        if (Y != NULL) {                                                                       \
            y = Y[j];                                                                          \
            lab[gk + y] += 1;                                                                  \
        }                                                                                      \
        for (Py_ssize_t k = 0; k < K; k++) {                                                   \
            off[nh] = o + (int)k;                                                              \
            cell[nh] = (int)((uint32_t)(gk + (int)k) | ((uint32_t)(k == y) << 31));           \
            nh += (double)p[k] >= e1;                                                          \
        }                                                                                      \
    }                                                                                          \
    return nh;

/* One definition for float and double: SK_DEFINE_SPARSE_HITS(name, T). */
#define SK_DEFINE_SPARSE_HITS(NAME, T)                                                         \
    SK_ATTR static Py_ssize_t SK_FN(NAME)(const T *SK_RESTRICT P, Py_ssize_t m, Py_ssize_t K,   \
                                          const Py_ssize_t *G, const Py_ssize_t *Y, double e1,  \
                                          double *SK_RESTRICT col, int *SK_RESTRICT off,        \
                                          int *SK_RESTRICT cell, long long *SK_RESTRICT lab) {  \
        SK_BODY_SPARSE_HITS(T)                                                                 \
    }

SK_DEFINE_SPARSE_HITS(sk_sparse_hits_f, float)
SK_DEFINE_SPARSE_HITS(sk_sparse_hits_d, double)
#undef SK_DEFINE_SPARSE_HITS
