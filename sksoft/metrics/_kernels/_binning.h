/* Binning of one value, and the packed top-label histogram of the common case.
 *
 * sk_bin_uniform: bin of c among nb equal-width bins with edges e = linspace(0, 1, nb + 1):
 * multiply and truncate gives the bin up to one rounding step; one comparison against the
 * float64 edges on each side (at most one correction applies) makes it exactly
 * "e[b] <= c < e[b+1]", the last bin closed so that 1.0 falls in it.
 * sk_bin_search: the bin with e[b] <= c < e[b+1] of arbitrary edges (values at or above the
 * last edge go to the last bin, or to an extra bin nb when `extra`).
 *
 * sksoft_packed_block: the top-label histogram of one block of rows with hard labels,
 * equal-width bins and no weights, as integer cells: per row, its bin (from the row check's
 * float32 bins when given, else sk_bin_uniform), plus its group's offset; one int64 per cell
 * counts rows + (correct rows << 32), and a double sums the confidences. Consecutive rows
 * usually fall into the same bin, so row j updates copy (j % SK_PACK_SUB) of SK_PACK_MAX cells
 * (updating one cell from every row would serialise on store-to-load forwarding). "Correct"
 * is computed without a compare (compilers turn one into a branch that mispredicts on every
 * other row). A small function of its own, so that its few pointers stay in registers. */
#ifndef SKSOFT_BINNING_H
#define SKSOFT_BINNING_H

#define SK_PACK_SUB 4
#define SK_PACK_MAX 256
#define SK_BIN_RESTRICT __restrict
#if defined(__GNUC__) || defined(__clang__)
/* a function of its own (its registers to itself), not an error where a module never calls it */
#define SK_NOINLINE __attribute__((noinline, unused))
#else
#define SK_NOINLINE
#endif

static inline Py_ssize_t sk_bin_uniform(double c, const double *e, Py_ssize_t nb) {
    Py_ssize_t b = (Py_ssize_t)(c * nb);
    b = b < nb - 1 ? b : nb - 1;
    b = b > 0 ? b : 0;
    b = b + (c >= e[b + 1]) - (c < e[b]);
    return b < nb - 1 ? b : nb - 1;
}

static inline Py_ssize_t sk_bin_search(double c, const double *e, Py_ssize_t nb, int extra) {
    Py_ssize_t lo = 0, hi = nb + 1;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) >> 1;
        if (e[mid] <= c)
            lo = mid + 1;
        else
            hi = mid;
    }
    lo -= 1;
    if (lo < 0) lo = 0;
    if (!extra && lo > nb - 1) lo = nb - 1;
    return lo;
}

#define SK_PACKED_LOOP(BIN, GROUP)                                                             \
    for (Py_ssize_t j = 0; j < m; j++) {                                                       \
        Py_ssize_t b = (BIN) + (GROUP);                                                        \
        Py_ssize_t y = Y[j];                                                                   \
        bad |= (size_t)y >= (size_t)K;                                                         \
        long long dl = (long long)(arg[j] ^ y);                                                \
        long long ok = ((dl | -dl) >> 63) + 1;                                                 \
        Py_ssize_t at = (j & (SK_PACK_SUB - 1)) * SK_PACK_MAX + b;                             \
        acc[j] = (double)ok;                                                                   \
        hcnt[at] += 1 + (ok << 32);                                                            \
        hconf[at] += conf[j];                                                                  \
    }

/* m rows: conf and arg (max and first argmax), bins (float32 bins, or NULL), labels Y and
 * group codes G (or NULL) of the block; the packed tables hcnt / hconf; acc gets 0/1 per row.
 * Returns nonzero if a label is out of range (the caller then finds and reports it). */
SK_NOINLINE static int sksoft_packed_block(const double *SK_BIN_RESTRICT conf,
                                       const Py_ssize_t *SK_BIN_RESTRICT arg,
                                       const int *SK_BIN_RESTRICT bins,
                                       const Py_ssize_t *SK_BIN_RESTRICT Y,
                                       const Py_ssize_t *SK_BIN_RESTRICT G,
                                       const double *SK_BIN_RESTRICT edges,
                                       Py_ssize_t nb, Py_ssize_t K, Py_ssize_t m,
                                       long long *SK_BIN_RESTRICT hcnt,
                                       double *SK_BIN_RESTRICT hconf,
                                       double *SK_BIN_RESTRICT acc) {
    int bad = 0;
    if (bins != NULL && G == NULL) {
        SK_PACKED_LOOP(bins[j], 0)
    } else if (bins != NULL) {
        SK_PACKED_LOOP(bins[j], G[j] * nb)
    } else if (G == NULL) {
        SK_PACKED_LOOP(sk_bin_uniform(conf[j], edges, nb), 0)
    } else {
        SK_PACKED_LOOP(sk_bin_uniform(conf[j], edges, nb), G[j] * nb)
    }
    return bad;
}

#endif
