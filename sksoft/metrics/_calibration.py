"""Calibration errors and reliability curves (thin validating wrappers over the one pass)."""

import functools

import numpy as np

from .._deprecation import warn_deprecated
from .._targets import is_soft_target
from .._validation import check_scalar
from ._bootstrap import check_bootstrap
from ._compute import compute_stats
from ._corp import isotonic_reliability_curve
from ._formulas import bin_means, calibration_errors
from ._intervals import (
    check_interval,
    metric_value,
    percentile_interval,
    replicate_tables,
    resolve_interval,
)
from ._validation import check_choice

__all__ = [
    "expected_calibration_error",
    "classwise_calibration_error",
    "reliability_curve",
]

_NORMS = ("l1", "l2", "max")


def expected_calibration_error(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    norm="l1",
    debias=False,
    binning="standard",
    labels=None,
    sample_weight=None,
    n_bootstrap=0,
    confidence=0.95,
    random_state=None,
    clusters=None,
    interval="auto",
    n_threads=None,
):
    """Top-label expected calibration error (ECE), and its MCE / RMS / debiased variants.

    The confidence of a prediction is its largest probability (ties: the first class attaining
    it). Confidences are binned, and the calibration error is the weighted gap between mean
    accuracy and mean confidence over the non-empty bins.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard class labels, or a soft-label matrix (non-negative rows summing to 1). With soft
        labels the *accuracy* of a prediction is the probability mass the target puts on the
        predicted class, ``y_true[i, argmax(y_prob[i])]``.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (rows summing to 1), or positive-class probabilities of a binary
        problem. Float32 and float64 are used as they are (never copied or modified; a
        non-contiguous array is copied once). A dask array, a numpy memmap or an iterator of
        row chunks is evaluated out of core, chunk by chunk, from mergeable statistics --
        equal to the in-memory result (``strategy="uniform"`` only). ``y_true`` and
        ``sample_weight`` in memory follow its chunks; as dask arrays or iterators they need
        the same row chunks.
    n_bins : int, default=15
        Number of bins, >= 1.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: edges ``linspace(0, 1, n_bins + 1)`` in float64; bin ``b`` holds
        ``e_b <= conf < e_{b+1}`` and the last bin is closed, so a confidence of exactly 1.0
        falls in it. ``"quantile"``: equal-mass (adaptive) bins from
        :func:`~sksoft.metrics.equal_mass_edges` -- tied confidences are never split across
        bins, so heavy ties give fewer, still non-empty, bins.
    norm : {"l1", "l2", "max"}, default="l1"
        ``"l1"``: ECE, ``sum_b w_b |acc_b - conf_b|`` with ``w_b`` the bin's share of the total
        weight; ``"l2"``: RMS calibration error ``sqrt(sum_b w_b (acc_b - conf_b)^2)``;
        ``"max"``: maximum calibration error (MCE) over the non-empty bins.
    debias : bool, default=False
        With ``norm="l2"``: the debiased L2 calibration error of Kumar, Liang & Ma (2019).
        Binned ECE is biased upward (the noise of a bin's mean accuracy adds to its gap), most
        on small bins; per bin, the squared gap less the estimated variance of the bin's mean
        target -- ``s_b^2 / n_b`` with the unbiased sample variance of the targets, i.e.
        ``abar_b (1 - abar_b) / (n_b - 1)`` for hard labels; for weights, that of the
        weighted mean, ``n_b / (n_b - 1) sum w^2 (a - abar_b)^2 / (sum w)^2`` -- weighted by
        the bin's share; bins of fewer than two rows contribute 0; the sum is clipped at 0
        before the square root. Equals ``calibration.utils.unbiased_l2_ce`` of
        uncertainty-calibration on the same bins (it puts a value on an edge into the lower
        bin; sksoft into the upper one).
    binning : {"standard", "torchmetrics"}, default="standard"
        ``"standard"`` is described above and equals netcal's ECE/MCE on float64 input.
        ``"torchmetrics"`` reproduces ``torchmetrics.functional.calibration_error`` exactly:
        confidences are rounded to float32 and compared with float32 edges, and a confidence
        of exactly 1.0 goes to an extra (n_bins + 1)-th bin instead of the last one. Remaining
        differences to torchmetrics: sums are accumulated in float64 (torchmetrics: float32),
        sample weights and soft targets are supported (torchmetrics: neither).
    labels : array-like, optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights; bin shares and means are weighted. Only their ratios matter:
        weights whose largest value is beyond ``2**256`` or below ``2**-256`` are rescaled
        by a power of two (exactly) before any sum, so that no sum overflows (the total
        ``weight`` of :func:`calibration_report` is then in those units); out of core,
        where chunks cannot be rescaled one by one, such weights are refused.
    n_bootstrap : int, default=0
        With ``B > 0`` the result is an :class:`Estimate` (a float with ``.low``, ``.high``,
        ``.se``): an interval from ``B`` bootstrap replicates, computed inside the pass (see
        :func:`calibration_report`, "Intervals"). The binned ECE and MCE intervals do not
        reach their nominal coverage near calibration (no bootstrap interval does): compare
        the value with :func:`expected_calibration_error_floor` instead.
    confidence : float, default=0.95
        Level of the interval.
    random_state : int, RandomState or Generator, optional
        Seeds the bootstrap (same seed, same interval however the data are chunked).
    clusters : array-like of shape (n_samples,), optional
        Resample these clusters instead of rows.
    interval : {"auto", "basic", "bias_corrected", "percentile"}, default="auto"
        The interval method (see :func:`calibration_report`): ``"auto"`` is ``"basic"``, which
        subtracts the bootstrap estimate of the bias, and for ``debias=True``
        ``"bias_corrected"``, centred where the debiased estimator is.
    n_threads : int, optional
        OpenMP threads (None: one thread below 1e6 probability values, all cores above; -1: all).

    Returns
    -------
    float, or Estimate with ``n_bootstrap``

    See Also
    --------
    expected_calibration_error_floor : the ECE of a perfectly calibrated model.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import expected_calibration_error
    >>> y_prob = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> y_true = np.array([0, 1, 1, 0])
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=5), 4)
    0.35
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=5, norm="max"), 4)
    0.4
    >>> ece = expected_calibration_error(y_true, y_prob, n_bins=5, n_bootstrap=100,
    ...                                  random_state=0)
    >>> bool(ece.low <= ece <= ece.high)
    True
    """
    key = _error_key(norm, debias)
    n_bootstrap, confidence, _ = check_bootstrap(n_bootstrap, confidence, random_state)
    check_interval(interval)
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, binning=binning, labels=labels,
        sample_weight=sample_weight, variance=debias, n_bootstrap=n_bootstrap,
        random_state=random_state, clusters=clusters, n_threads=n_threads,
    )

    def column(top, top_var, **_):
        return calibration_errors(top, (key,), top_var)[key]

    def plugin(top, **_):
        return calibration_errors(top, ("l2",))["l2"]

    return metric_value(stats, column, confidence,
                        interval=resolve_interval(interval, "rmsce_debiased" if debias else key),
                        plugin=plugin if debias else None)


def _error_key(norm, debias):
    check_choice(norm, "norm", _NORMS)
    check_scalar(debias, "debias", "boolean")
    if debias and norm != "l2":
        raise ValueError('debias=True is the debiased L2 calibration error: use norm="l2".')
    return "l2_debiased" if debias else norm



def classwise_calibration_error(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    norm="l1",
    debias=False,
    labels=None,
    sample_weight=None,
    n_bootstrap=0,
    confidence=0.95,
    random_state=None,
    clusters=None,
    interval="auto",
    n_threads=None,
):
    """Classwise calibration error (Kull et al., 2019): the class-averaged calibration error.

    For every class ``k`` the probabilities ``y_prob[:, k]`` are binned and compared with the
    target probability of ``k`` (the one-hot label, or ``y_true[:, k]`` for soft targets);
    the per-class errors (with the given ``norm``) are averaged over classes. With ``norm="l1"``
    this is ``1/K sum_k sum_b (n_bk / n) |y_bk - p_bk|``.

    Parameters are as in :func:`expected_calibration_error` (``interval`` too;
    ``strategy="quantile"`` uses
    equal-mass edges per class; ``debias=True`` with ``norm="l2"`` debiases every class's
    error before averaging).

    Returns
    -------
    float, or Estimate with ``n_bootstrap``

    Examples
    --------
    >>> import numpy as np
    >>> y_prob = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> round(classwise_calibration_error([0, 1, 1, 0], y_prob, n_bins=5), 4)
    0.375
    """
    key = _error_key(norm, debias)
    n_bootstrap, confidence, _ = check_bootstrap(n_bootstrap, confidence, random_state)
    check_interval(interval)
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels,
        sample_weight=sample_weight, classwise=True, variance=debias, n_bootstrap=n_bootstrap,
        random_state=random_state, clusters=clusters, n_threads=n_threads,
    )

    def column(cls, cls_var, **_):
        return calibration_errors(cls, (key,), cls_var)[key].mean(axis=-1)

    def plugin(cls, **_):
        return calibration_errors(cls, ("l2",))["l2"].mean(axis=-1)

    return metric_value(stats, column, confidence,
                        interval=resolve_interval(interval, "rmsce_debiased" if debias else key),
                        plugin=plugin if debias else None)


def _band_switch_before_0_2(func):
    """Until 0.3: ``reliability_curve(confidence=c)`` alone still draws the bands (with the
    200 replicates that were the default), and ``confidence=None`` still means none -- with a
    FutureWarning. The bands are now asked like every interval, ``n_bootstrap > 0``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if "confidence" in kwargs and kwargs["confidence"] is None:
            kwargs.pop("confidence")
            warn_deprecated("reliability_curve(confidence=None) is deprecated since sksoft "
                            "0.2: no band is the default (n_bootstrap=0); leave confidence "
                            "out.")
        elif "confidence" in kwargs and "n_bootstrap" not in kwargs:
            kwargs["n_bootstrap"] = 200
            warn_deprecated("reliability_curve(confidence=...) without n_bootstrap: since "
                            "sksoft 0.2 the band is asked with n_bootstrap > 0, as every "
                            "interval (confidence only sets its level); drawing it with "
                            "n_bootstrap=200 as before. Pass n_bootstrap=200 to keep this "
                            "and silence the warning.")
        return func(*args, **kwargs)

    return wrapper


@_band_switch_before_0_2
def reliability_curve(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    mode="top-label",
    labels=None,
    sample_weight=None,
    n_bootstrap=0,
    confidence=0.95,
    random_state=None,
):
    """Per-bin mean confidence, accuracy and count: the data of a reliability diagram.

    Parameters
    ----------
    y_true, y_prob, n_bins, labels, sample_weight
        As in :func:`expected_calibration_error`.
    strategy : {"uniform", "quantile", "isotonic"}, default="uniform"
        The bins of :func:`expected_calibration_error`, or ``"isotonic"``: the CORP curve of
        :func:`isotonic_reliability_curve` -- the pool-adjacent-violators recalibration of the
        predictions, no bins to choose -- returned as an :class:`IsotonicReliabilityCurve`,
        with, when ``n_bootstrap > 0`` and the labels are hard, the consistency band of
        ``n_bootstrap`` redraws of the outcomes under calibration.
    mode : {"top-label", "classwise"}, default="top-label"
        Top-label confidence vs soft-aware accuracy, or one curve per class (arrays of shape
        ``(n_classes, n_bins)``).
    n_bootstrap : int, default=0
        With ``B > 0``, also an interval for every bin's mean accuracy: for hard labels the
        Wilson score interval of the bin's proportion (with sample weights, of its effective
        number of rows ``(sum w)^2 / sum w^2``; it needs no replicates, so any ``B > 0`` gives
        the same band); for soft targets the percentile interval of ``B`` bootstrap
        replicates. Empty bins get NaN. (Before sksoft 0.2 the band was asked by
        ``confidence``, with ``n_bootstrap=200``; that spelling still works until 0.3, with a
        ``FutureWarning``.)
    confidence : float, default=0.95
        Level of the intervals.
    random_state : int, RandomState or Generator, optional
        Seeds the bootstrap.

    Returns
    -------
    ReliabilityCurve
        ``edges``, ``confidence``, ``accuracy`` (NaN in empty bins), ``count``, and with
        ``n_bootstrap`` the bands ``accuracy_low`` / ``accuracy_high``.

    Examples
    --------
    >>> import numpy as np
    >>> curve = reliability_curve([0, 1, 1], np.array([[.9, .1], [.2, .8], [.6, .4]]), n_bins=2)
    >>> curve.count.tolist(), curve.accuracy.tolist()
    ([0.0, 3.0], [nan, 0.6666666666666666])
    >>> band = reliability_curve([0, 1, 1], np.array([[.9, .1], [.2, .8], [.6, .4]]), n_bins=2,
    ...                          n_bootstrap=200, confidence=0.95)
    >>> np.round(band.accuracy_low, 3).tolist(), np.round(band.accuracy_high, 3).tolist()
    ([nan, 0.208], [nan, 0.939])
    """
    check_choice(mode, "mode", ("top-label", "classwise"))
    if isinstance(strategy, str) and strategy == "isotonic":
        return isotonic_reliability_curve(
            y_true, y_prob, mode=mode, labels=labels, sample_weight=sample_weight,
            n_bootstrap=n_bootstrap, confidence=confidence, random_state=random_state)
    classwise = mode == "classwise"
    soft = is_soft_target(y_true)
    n_bootstrap, confidence, _ = check_bootstrap(n_bootstrap, confidence, random_state)
    band = n_bootstrap > 0
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels,
        sample_weight=sample_weight, classwise=classwise,
        variance=band and not soft,
        n_bootstrap=n_bootstrap if band and soft else 0,
        random_state=random_state,
    )
    curve = stats.reliability_curve(mode)
    if not band:
        return curve
    if soft:
        reps = replicate_tables(stats)
        hist = reps["cls"][:, 0] if classwise else reps["top"][:, 0]
        acc = bin_means(hist)[2]
        curve.accuracy_low, curve.accuracy_high, _ = percentile_interval(
            None, acc, confidence, axis=0)
        empty = ~(curve.count > 0)
        curve.accuracy_low[empty] = curve.accuracy_high[empty] = np.nan
    else:
        hist = stats.cls.sum(axis=0) if classwise else stats.top.sum(axis=0)
        var = stats.cls_var.sum(axis=0) if classwise else stats.top_var.sum(axis=0)
        curve.accuracy_low, curve.accuracy_high = _wilson(hist, var, confidence)
    return curve


def _wilson(hist, var, confidence):
    """Wilson score intervals of the bins' (weighted) proportions; n = effective rows."""
    from scipy.stats import norm as normal

    z = float(normal.ppf(0.5 + confidence / 2))
    sw, sa, w2 = hist[..., 0], hist[..., 2], var[..., 1]
    ok = sw > 0
    n = np.where(ok, sw * sw / np.where(w2 > 0, w2, 1.0), 1.0)
    p = np.where(ok, sa / np.where(ok, sw, 1.0), 0.0)
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(np.maximum(p * (1 - p) / n + z * z / (4 * n * n), 0.0))
    return (np.where(ok, np.clip(center - half, 0, 1), np.nan),
            np.where(ok, np.clip(center + half, 0, 1), np.nan))
