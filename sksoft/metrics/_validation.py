"""Checks of the arguments shared by the metric functions (the first step of the metrics road).

Everything a metric takes is checked here, once, before any work: the arrays (``y_true``,
``y_prob``, ``sample_weight``, ``groups``) and the scalar options (``n_bins``, ``strategy``,
``norm``, ``eps``, ``n_threads``, ...). The values inside the arrays -- NaN, infinities,
negative probabilities, rows not summing to 1, labels outside ``0..K-1`` -- are checked by the
compiled pass itself (checking them here would cost extra passes over the data); its error
bits are turned into messages in :mod:`sksoft.metrics._pass`.
"""

import numbers

import numpy as np

from .._targets import check_probability_matrix, check_targets, is_soft_target
from .._validation import (
    MAX_BINS,
    WEIGHT_RANGE,
    Interval,
    Options,
    check_sample_weight,
    check_scalar,
)
from . import _kernels

__all__ = [
    "MAX_BINS",
    "check_choice",
    "check_eps",
    "check_groups",
    "check_metric_inputs",
    "check_n_bins",
    "resolve_threads",
]


# Below this many probability values a single thread is faster than waking a team.
_PARALLEL_MIN_VALUES = 1_000_000


_N_BINS = Interval(numbers.Integral, 1, MAX_BINS, closed="both")
_THREADS = [Interval(numbers.Integral, 1, None, closed="left"),
            Options((-1,), kind=numbers.Integral)]


def check_n_bins(n_bins, name="n_bins"):
    """An integer in ``[1, MAX_BINS]``."""
    if type(n_bins) is int and 1 <= n_bins <= MAX_BINS:
        return n_bins
    return check_scalar(n_bins, name, _N_BINS)


def check_choice(value, name, choices):
    """One of ``choices`` (strings)."""
    if type(value) is str and value in choices:
        return value
    return check_scalar(value, name, Options(choices))


def check_eps(eps, n_classes):
    """None (the machine epsilon of ``y_prob``'s dtype) or a real in ``[0, 1 / n_classes)``.

    ``eps`` clips probabilities from below inside the logarithm; a clipped row stays a valid
    distribution's lower bound only while ``eps < 1 / K``.
    """
    if eps is None:
        return None
    return float(check_scalar(eps, "eps", Interval(numbers.Real, 0, 1.0 / n_classes,
                                                   closed="left")))


def resolve_threads(n_threads, n_values):
    """OpenMP threads for a pass over ``n_values`` probability values.

    None: one thread below 1e6 values, all cores above; -1: all cores; else a positive integer.
    """
    if n_threads is None:
        return 1 if n_values < _PARALLEL_MIN_VALUES else max(1, _kernels.max_threads())
    check_scalar(n_threads, "n_threads", _THREADS)
    if n_threads == -1:
        return max(1, _kernels.max_threads())
    return int(n_threads)


# Integer groups spanning at most this many consecutive values are used as codes directly (an
# O(n) shift instead of np.unique's sort); groups that no row has are dropped after the pass.
_GROUP_RANGE_MAX = 256


def check_groups(groups, n, name="groups"):
    """Return (codes, labels) for a 1-D group vector of length ``n``, or (None, None).

    ``labels[c]`` is the group of the rows with code ``c``. For integer (and boolean) groups
    within a small range the codes are the values minus the smallest one, and ``labels`` may
    include values that no row has (the statistics drop them after the pass).
    """
    if groups is None:
        return None, None
    if hasattr(groups, "toarray") and not isinstance(groups, np.ndarray):
        raise TypeError(f"{name} must be a dense 1-D array; got a sparse "
                        f"{type(groups).__name__}.")
    if np.ndim(groups) == 0 or isinstance(groups, (str, bytes, dict)):
        raise TypeError(f"{name} must be a 1-D array-like; got {type(groups).__name__}.")
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},); got {g.shape}.")
    if g.dtype.kind in "cmMV":
        raise TypeError(f"{name} must hold labels; got dtype {g.dtype}.")
    if g.dtype.kind == "f" and not np.all(np.isfinite(g)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if g.dtype.kind in "iub" and n > 0:
        gi = g.view(np.uint8) if g.dtype.kind == "b" else g
        lo, hi = int(gi.min()), int(gi.max())
        if hi - lo < _GROUP_RANGE_MAX:
            if gi.dtype == np.intp and lo == 0 and gi.flags.c_contiguous:
                codes = gi
            else:
                codes = np.subtract(gi, lo, dtype=np.intp)
            return codes, np.arange(lo, hi + 1).astype(g.dtype)
    try:
        labels, codes = np.unique(g, return_inverse=True)
    except TypeError:
        raise TypeError(f"{name} holds labels of mixed, incomparable types.") from None
    return np.ascontiguousarray(codes, dtype=np.intp), labels


def check_metric_inputs(y_true, y_prob, *, labels=None, sample_weight=None, chunk=False):
    """Check the arrays shared by all metrics.

    Returns ``(prob, targets, weight)``: ``prob`` is the caller's array itself when it is a
    C-contiguous float32/float64 matrix (a 1-D ``y_prob`` holds positive-class probabilities of
    a binary problem), ``targets`` a :class:`sksoft._targets.Targets` (hard labels as column
    codes, by the label rule; the pass checks their range and the soft rows), ``weight`` None
    or float64, rescaled by a power of two when its largest value is outside
    :data:`sksoft._validation.WEIGHT_RANGE` (every metric is scale-free in the weights). A
    ``chunk`` of out-of-core input cannot be rescaled on its own (all chunks must share one
    scale): such weights are refused there.
    """
    prob = check_probability_matrix(y_prob, name="y_prob", allow_1d=True)
    n, K = prob.shape
    if labels is not None and is_soft_target(y_true):
        raise ValueError("labels names the classes of hard labels; y_true is a soft-label "
                         "matrix (its columns are the columns of y_prob).")
    trust = labels is None and np.asarray(y_true).dtype.kind in "iu"
    targets = check_targets(y_true, classes=labels, n_classes=K, name="y_true", validate=False,
                            trust_range=trust, classes_name="labels")
    if targets.n_samples != n:
        raise ValueError(f"y_true has {targets.n_samples} samples but y_prob has {n}.")
    weight = check_sample_weight(sample_weight, n, scale_free=not chunk)
    if chunk and weight is not None and not WEIGHT_RANGE[0] <= weight.max() <= WEIGHT_RANGE[1]:
        raise ValueError(f"sample_weight reaches {weight.max():g}: out-of-core weights must lie "
                         f"within [{WEIGHT_RANGE[0]:g}, {WEIGHT_RANGE[1]:g}] (chunks cannot be "
                         "rescaled one by one); divide them by a constant, which changes no "
                         "metric.")
    return prob, targets, weight
