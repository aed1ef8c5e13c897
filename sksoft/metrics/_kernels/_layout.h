/* The layout shared by the compiled pass and its Python wrappers, defined once.
 *
 * SK_SUM_FIELDS: the per-group sums of the pass (field index, Python name). The Cython code
 * declares the enum names it uses (a misspelt or removed name fails to compile), and Python
 * reads the names in order from sksoft_sum_field_name(), so the two cannot drift apart.
 *
 * SK_ERRORS: the bits of the pass's error code (bit, Python name, message). A bad row is
 * reported by its global row; the message is formatted by Python with that row. */
#ifndef SKSOFT_LAYOUT_H
#define SKSOFT_LAYOUT_H

#define SK_SUM_FIELDS(X)                                                                       \
    X(S_WEIGHT, "weight")                                                                      \
    X(S_ACC, "accuracy")                                                                       \
    X(S_BRIER, "brier")                                                                        \
    X(S_CE, "cross_entropy")                                                                   \
    X(S_HTRUE, "entropy_true")                                                                 \
    X(S_HPRED, "entropy_pred")                                                                 \
    X(S_JS, "jensen_shannon")                                                                  \
    X(S_TV, "total_variation")                                                                 \
    X(S_HTRUE2, "entropy_true_sq")                                                             \
    X(S_HPRED2, "entropy_pred_sq")                                                             \
    X(S_HCROSS, "entropy_cross")                                                               \
    X(S_COUNT, "count")

#define SK_ENUM_ENTRY(name, text) name,
enum { SK_SUM_FIELDS(SK_ENUM_ENTRY) N_SUMS };
#undef SK_ENUM_ENTRY

#define SK_NAME_ENTRY(name, text) text,
static const char *sksoft_sum_names_[] = {SK_SUM_FIELDS(SK_NAME_ENTRY) NULL};
#undef SK_NAME_ENTRY

static const char *sksoft_sum_field_name(int i) {
    return (i >= 0 && i < N_SUMS) ? sksoft_sum_names_[i] : NULL;
}

/* SK_ROW_SCORES: the per-row score terms a pass can write (n x N_ROW_SCORES, unweighted), for
 * intervals: (field index, Python name). */
#define SK_ROW_SCORES(X)                                                                       \
    X(R_BRIER, "brier")                                                                        \
    X(R_CE, "cross_entropy")                                                                   \
    X(R_HTRUE, "entropy_true")                                                                 \
    X(R_HPRED, "entropy_pred")                                                                 \
    X(R_JS, "jensen_shannon")                                                                  \
    X(R_TV, "total_variation")

#define SK_ENUM_ENTRY(name, text) name,
enum { SK_ROW_SCORES(SK_ENUM_ENTRY) N_ROW_SCORES };
#undef SK_ENUM_ENTRY

#define SK_NAME_ENTRY(name, text) text,
static const char *sksoft_row_score_names_[] = {SK_ROW_SCORES(SK_NAME_ENTRY) NULL};
#undef SK_NAME_ENTRY

static const char *sksoft_row_score_name(int i) {
    return (i >= 0 && i < N_ROW_SCORES) ? sksoft_row_score_names_[i] : NULL;
}

#define SK_ERRORS(X)                                                                           \
    X(E_PROB_NONFINITE, 1, "y_prob_nonfinite", "y_prob contains NaN or infinity (first in row {row}).") \
    X(E_PROB_NEGATIVE, 2, "y_prob_negative", "y_prob contains negative probabilities (first in row {row}).") \
    X(E_PROB_SUM, 4, "y_prob_sum", "y_prob rows must sum to 1; row {row} does not.")          \
    X(E_TRUE_NONFINITE, 8, "y_true_nonfinite", "y_true contains NaN or infinity (first in row {row}).") \
    X(E_TRUE_NEGATIVE, 16, "y_true_negative", "y_true contains negative values (first in row {row}).") \
    X(E_TRUE_SUM, 32, "y_true_sum", "y_true rows must sum to 1; row {row} does not.")         \
    X(E_LABEL, 64, "label_range", "y_true has a label outside [0, n_classes) in row {row}.")

#define SK_ERR_ENUM(name, bit, key, text) name = bit,
enum { SK_ERRORS(SK_ERR_ENUM) };
#undef SK_ERR_ENUM

#define SK_ERR_COUNT_ENTRY(name, bit, key, text) +1
enum { N_ERRORS = 0 SK_ERRORS(SK_ERR_COUNT_ENTRY) };
#undef SK_ERR_COUNT_ENTRY

#define SK_ERR_BIT(name, bit, key, text) bit,
#define SK_ERR_KEY(name, bit, key, text) key,
#define SK_ERR_TEXT(name, bit, key, text) text,
static const int sksoft_error_bits_[] = {SK_ERRORS(SK_ERR_BIT) 0};
static const char *sksoft_error_keys_[] = {SK_ERRORS(SK_ERR_KEY) NULL};
static const char *sksoft_error_texts_[] = {SK_ERRORS(SK_ERR_TEXT) NULL};
#undef SK_ERR_BIT
#undef SK_ERR_KEY
#undef SK_ERR_TEXT

#endif
