"""From binned statistics to metrics: the formulas, in one place, vectorised over groups.

Inputs are the arrays of :class:`~sksoft.metrics.CalibrationStats`: histograms ``(..., n_bins,
3)`` of (weight, confidence sum, accuracy sum) per bin and the per-group sums of the pass
(fields in :data:`sksoft.metrics._pass.SUM_FIELDS`). Empty bins are skipped; bins are weighted
by their share of the total weight.
"""

import numpy as np

from ._pass import FIELD

__all__ = ["METRIC_NAMES", "bin_means", "calibration_errors", "metrics_from_stats"]

#: every metric :func:`metrics_from_stats` returns, in the report's order
METRIC_NAMES = ("accuracy", "ece", "mce", "rmsce", "classwise_ece", "brier", "cross_entropy",
                "kl_divergence", "jensen_shannon", "total_variation", "entropy_true",
                "entropy_pred", "entropy_pearson")
_NORM_NAMES = {"l1": "ece", "l2": "rmsce", "max": "mce"}


def bin_means(hist):
    """(..., n_bins, 3) sums -> (count, mean confidence, mean accuracy), NaN for empty bins."""
    count = hist[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.where(count > 0, hist[..., 1] / np.where(count > 0, count, 1), np.nan)
        acc = np.where(count > 0, hist[..., 2] / np.where(count > 0, count, 1), np.nan)
    return count, conf, acc


def calibration_errors(hist, norms=("l1",)):
    """Calibration errors of one (n_bins, 3) histogram, or a stack (..., n_bins, 3).

    Returns a dict norm -> value (or array over the stack) for each of ``norms``: "l1"
    (ECE, ``sum_b w_b |acc_b - conf_b|``), "l2" (RMS, ``sqrt(sum_b w_b (acc_b - conf_b)^2)``),
    "max" (MCE over non-empty bins). The bin means are computed once for all norms.
    """
    count = hist[..., 0]
    filled = count > 0
    safe = np.where(filled, count, 1.0)
    gap = np.where(filled, np.abs(hist[..., 2] - hist[..., 1]) / safe, 0.0)
    total = count.sum(axis=-1, keepdims=True)
    share = np.divide(count, total, out=np.zeros_like(count), where=total > 0)
    out = {}
    for norm in norms:
        if norm == "l1":
            out[norm] = (share * gap).sum(axis=-1)
        elif norm == "l2":
            out[norm] = np.sqrt((share * gap * gap).sum(axis=-1))
        else:
            out[norm] = gap.max(axis=-1)
    return out


def metrics_from_stats(top, cls, sums):
    """Every metric that the statistics of a stack of groups determine.

    ``top`` (G, n_bins, 3), ``cls`` (G, K, n_bins, 3) or None, ``sums`` (G, S). Returns a list
    of G dicts (metric name -> float; NaN for a group without weight; no ``classwise_ece``
    without ``cls``).
    """
    top, sums = np.asarray(top), np.asarray(sums)
    w = sums[:, FIELD["weight"]]
    ok = w > 0
    mean = sums / np.where(ok, w, 1.0)[:, None]
    cols = {}
    for norm, value in calibration_errors(top, ("l1", "l2", "max")).items():
        cols[_NORM_NAMES[norm]] = value
    if cls is not None:
        cols["classwise_ece"] = calibration_errors(cls, ("l1",))["l1"].mean(axis=-1)
    for name in ("accuracy", "brier", "cross_entropy", "jensen_shannon", "total_variation",
                 "entropy_true", "entropy_pred"):
        cols[name] = mean[:, FIELD[name]]
    cols["kl_divergence"] = np.maximum(
        mean[:, FIELD["cross_entropy"]] - mean[:, FIELD["entropy_true"]], 0.0)
    ht, hp = mean[:, FIELD["entropy_true"]], mean[:, FIELD["entropy_pred"]]
    var_t = mean[:, FIELD["entropy_true_sq"]] - ht ** 2
    var_p = mean[:, FIELD["entropy_pred_sq"]] - hp ** 2
    cov = mean[:, FIELD["entropy_cross"]] - ht * hp
    varied = (var_t > 1e-12) & (var_p > 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["entropy_pearson"] = np.where(
            varied, np.clip(cov / np.sqrt(np.where(varied, var_t * var_p, 1.0)), -1, 1), np.nan)
    out = []
    for g in range(sums.shape[0]):
        row = {"weight": float(w[g])}
        for name in METRIC_NAMES:
            if name in cols:
                row[name] = float(cols[name][g]) if ok[g] else float("nan")
        out.append(row)
    return out
