"""Calibration errors and reliability curves (thin validating wrappers over the one pass)."""

from ._compute import compute_stats
from ._formulas import calibration_errors
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
    binning="standard",
    labels=None,
    sample_weight=None,
    n_threads=None,
):
    """Top-label expected calibration error (ECE), and its MCE / RMS variants.

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
        Non-negative weights; bin shares and means are weighted.
    n_threads : int, optional
        OpenMP threads (None: one thread below 1e6 probability values, all cores above; -1: all).

    Returns
    -------
    float

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
    """
    check_choice(norm, "norm", _NORMS)
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, binning=binning, labels=labels,
        sample_weight=sample_weight, n_threads=n_threads,
    )
    return float(calibration_errors(stats.top.sum(axis=0), (norm,))[norm])


def classwise_calibration_error(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    norm="l1",
    labels=None,
    sample_weight=None,
    n_threads=None,
):
    """Classwise calibration error (Kull et al., 2019): the class-averaged calibration error.

    For every class ``k`` the probabilities ``y_prob[:, k]`` are binned and compared with the
    target probability of ``k`` (the one-hot label, or ``y_true[:, k]`` for soft targets);
    the per-class errors (with the given ``norm``) are averaged over classes. With ``norm="l1"``
    this is ``1/K sum_k sum_b (n_bk / n) |y_bk - p_bk|``.

    Parameters are as in :func:`expected_calibration_error` (``strategy="quantile"`` uses
    equal-mass edges per class).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> y_prob = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> round(classwise_calibration_error([0, 1, 1, 0], y_prob, n_bins=5), 4)
    0.375
    """
    check_choice(norm, "norm", _NORMS)
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels,
        sample_weight=sample_weight, classwise=True, n_threads=n_threads,
    )
    return float(calibration_errors(stats.cls.sum(axis=0), (norm,))[norm].mean())


def reliability_curve(
    y_true,
    y_prob,
    *,
    n_bins=15,
    strategy="uniform",
    mode="top-label",
    labels=None,
    sample_weight=None,
):
    """Per-bin mean confidence, accuracy and count: the data of a reliability diagram.

    Parameters
    ----------
    y_true, y_prob, n_bins, strategy, labels, sample_weight
        As in :func:`expected_calibration_error`.
    mode : {"top-label", "classwise"}, default="top-label"
        Top-label confidence vs soft-aware accuracy, or one curve per class (arrays of shape
        ``(n_classes, n_bins)``).

    Returns
    -------
    ReliabilityCurve
        ``edges``, ``confidence``, ``accuracy`` (NaN in empty bins) and ``count``.

    Examples
    --------
    >>> import numpy as np
    >>> curve = reliability_curve([0, 1, 1], np.array([[.9, .1], [.2, .8], [.6, .4]]), n_bins=2)
    >>> curve.count.tolist(), curve.accuracy.tolist()
    ([0.0, 3.0], [nan, 0.6666666666666666])
    """
    check_choice(mode, "mode", ("top-label", "classwise"))
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels,
        sample_weight=sample_weight, classwise=mode == "classwise",
    )
    return stats.reliability_curve(mode)
