/* The data structures of the calibration pass (_pass.pyx), shared with its C helpers.
 *
 * sk_config: what the pass computes, filled once per call from the Python PassSpec.
 * sk_inputs: the per-row inputs besides the probabilities and soft targets (whose C type
 *            depends on the fused specialisation and which travel as typed pointers).
 * sk_rows:   optional per-row outputs (NULL when not asked for).
 * sk_accum:  one thread's accumulators (see _pass.pyx for their shapes).
 * sk_scratch: one block's scratch buffers (on the stack of the block loop). */
#ifndef SKSOFT_PASS_H
#define SKSOFT_PASS_H

#include "_layout.h"

typedef struct {
    Py_ssize_t K;            /* classes (columns) */
    Py_ssize_t n_groups;
    Py_ssize_t nb;           /* top-label bins */
    Py_ssize_t nbo;          /* top-label bins stored (nb + 1 with torchmetrics' extra bin) */
    const double *edges;     /* nb + 1 top-label edges */
    int uniform;             /* edges are linspace(0, 1, nb + 1) */
    int extra_bin;           /* a confidence at or above the last edge goes to bin nb */
    int round32;             /* confidences rounded to float32 before binning */
    int trunc_exact;         /* float32 confidences are binned exactly by truncation */
    int classwise;
    int sparse;              /* classwise bins by listing the values outside bin 0 */
    Py_ssize_t ncb;          /* classwise bins */
    const double *class_edges; /* ncb + 1 edges, or K * (ncb + 1) per-class edges */
    int class_uniform;       /* class_edges are linspace(0, 1, ncb + 1) */
    int class_trunc_exact;
    int want_scores;
    int want_entropy;
    double eps;              /* clipping inside the cross-entropy's logarithm */
    double tol;              /* tolerance on |row sum - 1| */
    int fused;               /* the AVX-512 report pass (_report512.h) */
    float e1f;               /* the smallest float32 >= class_edges[1] (fused pass) */
    Py_ssize_t hit_half;     /* ints in each half of a thread's hit list */
} sk_config;

typedef struct {
    const Py_ssize_t *Y;     /* hard labels, or NULL */
    const double *W;         /* weights, or NULL */
    const Py_ssize_t *G;     /* group codes, or NULL */
} sk_inputs;

typedef struct {
    double *conf;            /* confidence of each row (equal-mass rebinning), or NULL */
    double *acc;             /* accuracy of each row, or NULL */
    double *hpred;           /* predicted entropy of each row, or NULL */
    double *htrue;           /* target entropy of each row, or NULL */
    Py_ssize_t *cell;        /* top-label cell (group * n_bins_out + bin) of each row, or NULL */
    double *score;           /* N_ROW_SCORES score terms of each row (_layout.h), or NULL */
} sk_rows;

typedef struct {
    double *top;             /* N_SUB x (n_groups, nbo, 3) top-label histogram copies */
    double *cls;             /* N_SUB x (n_groups, K, ncb, 3) classwise copies, or NULL */
    double *sums;            /* (n_groups, N_SUMS) */
    double *colp;            /* sparse classwise: bin-0 value sums per (group, class), then slots */
    double *colt;            /* sparse classwise, soft targets: bin-0 target sums */
    int *hits;               /* sparse classwise: offsets, then cells (hit_half ints each) */
    long long *ctab;         /* sparse classwise, hard labels: int64 + double cells */
    long long *ltab;         /* rows per (group, label) */
    long long *ttab;         /* fused pass: top-label table per (group, argmax class, bin) */
    double *colall;          /* fused pass: column sums per group (16 per group) */
    double *gsum;            /* fused pass: score sums per group (8 per group) */
    long long *err;          /* first bad row and its error bits, -1 when none */
} sk_accum;

typedef struct {
    int *cell;               /* listed cells (fused pass) */
    float *val;              /* listed values (fused pass) */
    float *tbuf;             /* x log x of the block (fused pass) */
    double *v, *q, *h;       /* per-row p[y], Brier sum, predicted entropy */
} sk_scratch;

#endif
