"""From binned statistics to metrics: the formulas, in one place, vectorised over stacks.

Inputs are the arrays of :class:`~sksoft.metrics.CalibrationStats` (or replicates of them):
histograms ``(..., n_bins, 3)`` of (weight, confidence sum, accuracy sum) per bin, the
per-group sums of the pass (fields in :data:`sksoft.metrics._pass.SUM_FIELDS`), and for the
debiased error the bins' variance terms ``(..., n_bins, 4)``: rows, ``sum w^2``,
``sum w^2 a``, ``sum w^2 a^2``. Leading axes (groups, replicates) are kept. Empty bins are
skipped; bins are weighted by their share of the total weight.
"""

import numpy as np

from ._pass import FIELD

__all__ = ["METRIC_NAMES", "bin_means", "calibration_errors", "metric_columns",
           "metrics_from_stats", "hard_variance"]

#: every metric :func:`metric_columns` returns, in the report's order
METRIC_NAMES = ("accuracy", "ece", "mce", "rmsce", "rmsce_debiased", "signed_ece", "ece_over",
                "ece_under", "classwise_ece", "classwise_rmsce_debiased", "brier",
                "cross_entropy", "kl_divergence", "jensen_shannon", "total_variation",
                "manhattan_distance", "entropy_true", "entropy_pred", "entropy_pearson")
_NORM_NAMES = {"l1": "ece", "l2": "rmsce", "max": "mce", "l2_debiased": "rmsce_debiased",
               "signed": "signed_ece", "over": "ece_over", "under": "ece_under"}


def bin_means(hist):
    """(..., n_bins, 3) sums -> (count, mean confidence, mean accuracy), NaN for empty bins."""
    count = hist[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.where(count > 0, hist[..., 1] / np.where(count > 0, count, 1), np.nan)
        acc = np.where(count > 0, hist[..., 2] / np.where(count > 0, count, 1), np.nan)
    return count, conf, acc


def hard_variance(hist):
    """Variance terms (..., n_bins, 4) of bins of unweighted hard labels, from the histogram
    alone: rows = weight, and ``a^2 = a`` for an accuracy of 0 or 1."""
    n = hist[..., 0]
    a = hist[..., 2]
    return np.stack([n, n, a, a], axis=-1)


def _debiased_terms(hist, var, gap_sq):
    """Per bin: the squared gap less the estimated variance of the bin's weighted mean target,
    ``n / (n - 1) * sum w^2 (a - abar)^2 / (sum w)^2`` (``abar (1 - abar) / (n - 1)`` for
    unweighted hard labels, as Kumar, Liang & Ma 2019); 0 for bins of fewer than two rows."""
    rows, w2, w2a, w2aa = var[..., 0], var[..., 1], var[..., 2], var[..., 3]
    sw = hist[..., 0]
    ok = (rows >= 2) & (sw > 0)
    safe_sw = np.where(ok, sw, 1.0)
    abar = hist[..., 2] / safe_sw
    ss = np.maximum(w2aa - 2 * abar * w2a + abar * abar * w2, 0.0)
    v = np.where(ok, rows / np.where(ok, rows - 1, 1.0) * ss / (safe_sw * safe_sw), 0.0)
    return np.where(ok, gap_sq - v, 0.0)


def calibration_errors(hist, norms=("l1",), var=None):
    """Calibration errors of a histogram (..., n_bins, 3), for each of ``norms``.

    "l1" (ECE, ``sum_b w_b |acc_b - conf_b|``), "l2" (RMS, ``sqrt(sum_b w_b (acc_b -
    conf_b)^2)``), "max" (MCE over non-empty bins), "signed" (``sum_b w_b (conf_b - acc_b)``:
    positive when over-confident), "over" / "under" (its positive and negative parts: ECE =
    over + under), "l2_debiased" (the squared gap of every bin less the variance of its mean
    target, weighted, clipped at 0, square-rooted; needs ``var``). Returns a dict norm ->
    value (or array over the leading axes), NaN where the histogram has no weight at all (an
    empty bootstrap resample is no evidence of calibration, never an error of 0).
    """
    count = hist[..., 0]
    filled = count > 0
    safe = np.where(filled, count, 1.0)
    diff = np.where(filled, (hist[..., 1] - hist[..., 2]) / safe, 0.0)  # conf - acc
    gap = np.abs(diff)
    total = count.sum(axis=-1, keepdims=True)
    share = np.divide(count, total, out=np.zeros_like(count), where=total > 0)
    out = {}
    for norm in norms:
        if norm == "l1":
            out[norm] = (share * gap).sum(axis=-1)
        elif norm == "l2":
            out[norm] = np.sqrt((share * gap * gap).sum(axis=-1))
        elif norm == "max":
            out[norm] = gap.max(axis=-1)
        elif norm == "signed":
            out[norm] = (share * diff).sum(axis=-1)
        elif norm == "over":
            out[norm] = (share * np.maximum(diff, 0.0)).sum(axis=-1)
        elif norm == "under":
            out[norm] = (share * np.maximum(-diff, 0.0)).sum(axis=-1)
        elif norm == "l2_debiased":
            terms = _debiased_terms(hist, var, gap * gap)
            out[norm] = np.sqrt(np.maximum((share * terms).sum(axis=-1), 0.0))
        else:  # pragma: no cover - checked by the callers
            raise ValueError(f"unknown norm {norm!r}")
    empty = total[..., 0] <= 0
    if np.any(empty):
        out = {norm: np.where(empty, np.nan, v) for norm, v in out.items()}
    return out


def metric_columns(top, cls, sums, *, top_var=None, cls_var=None, names=None):
    """Every metric the statistics determine, as arrays over the leading axes.

    ``top`` (..., n_bins, 3), ``cls`` (..., K, n_bins, 3) or None, ``sums`` (..., S);
    ``top_var`` / ``cls_var`` the variance terms of the bins (None: no debiased errors);
    ``names``: only these metrics (default: all of :data:`METRIC_NAMES`; each is computed
    by the same operations either way). Returns a dict metric name -> array (NaN where a
    group has no weight).
    """
    want = set(METRIC_NAMES if names is None else names)
    top, sums = np.asarray(top), np.asarray(sums)
    w = sums[..., FIELD["weight"]]
    ok = w > 0
    mean = sums / np.where(ok, w, 1.0)[..., None]
    norms = tuple(k for k in ("l1", "l2", "max", "signed", "over", "under")
                  if _NORM_NAMES[k] in want)
    if top_var is not None and "rmsce_debiased" in want:
        norms += ("l2_debiased",)
    cols = {_NORM_NAMES[k]: v for k, v in calibration_errors(top, norms, top_var).items()}
    if cls is not None and "classwise_ece" in want:
        cols["classwise_ece"] = calibration_errors(cls, ("l1",))["l1"].mean(axis=-1)
    if cls is not None and cls_var is not None and "classwise_rmsce_debiased" in want:
        cols["classwise_rmsce_debiased"] = calibration_errors(
            cls, ("l2_debiased",), cls_var)["l2_debiased"].mean(axis=-1)
    for name in ("accuracy", "brier", "cross_entropy", "jensen_shannon", "total_variation",
                 "entropy_true", "entropy_pred"):
        if name in want:
            cols[name] = mean[..., FIELD[name]]
    if "manhattan_distance" in want:
        # LeWiDi's average Manhattan distance (its rounding of every item is not a function of
        # sums: sksoft.metrics.manhattan_distance(round_items=5) has it)
        cols["manhattan_distance"] = 2.0 * mean[..., FIELD["total_variation"]]
    if "kl_divergence" in want:
        cols["kl_divergence"] = np.maximum(
            mean[..., FIELD["cross_entropy"]] - mean[..., FIELD["entropy_true"]], 0.0)
    if "entropy_pearson" in want:
        ht, hp = mean[..., FIELD["entropy_true"]], mean[..., FIELD["entropy_pred"]]
        var_t = mean[..., FIELD["entropy_true_sq"]] - ht ** 2
        var_p = mean[..., FIELD["entropy_pred_sq"]] - hp ** 2
        cov = mean[..., FIELD["entropy_cross"]] - ht * hp
        varied = (var_t > 1e-12) & (var_p > 1e-12)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols["entropy_pearson"] = np.where(
                varied, np.clip(cov / np.sqrt(np.where(varied, var_t * var_p, 1.0)), -1, 1),
                np.nan)
    return {name: np.where(ok, cols[name], np.nan) for name in METRIC_NAMES if name in cols}


def metrics_from_stats(top, cls, sums, *, top_var=None, cls_var=None):
    """:func:`metric_columns` of a stack of G groups as a list of G dicts of floats (with the
    total ``weight`` of each group)."""
    cols = metric_columns(top, cls, sums, top_var=top_var, cls_var=cls_var)
    w = np.asarray(sums)[:, FIELD["weight"]]
    return [{"weight": float(w[g]), **{name: float(col[g]) for name, col in cols.items()}}
            for g in range(w.shape[0])]
