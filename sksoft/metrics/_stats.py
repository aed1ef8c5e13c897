"""Mergeable binned sufficient statistics: the one mechanism behind every sksoft metric.

Every metric in :mod:`sksoft.metrics` is a function of the statistics that one Cython pass over
``y_prob`` accumulates (:func:`sksoft.metrics._kernels.calibration_pass`): per group and per
confidence bin the total weight, confidence sum and accuracy sum (top-label and, optionally, per
class), and per group the sums of the proper scores and divergences. Sums merge by addition, so
the statistics of chunks, threads or machines add up to the statistics of the whole.
"""

import functools
import numbers
from dataclasses import dataclass

import numpy as np

from .._targets import (
    check_probability_matrix,
    encode_labels,
    is_soft_target,
    row_sum_tolerance,
)
from .._validation import check_sample_weight
from . import _kernels

__all__ = ["CalibrationStats", "ReliabilityCurve"]

SUM_FIELDS = (
    "weight",
    "accuracy",
    "brier",
    "cross_entropy",
    "entropy_true",
    "entropy_pred",
    "jensen_shannon",
    "total_variation",
    "entropy_true_sq",
    "entropy_pred_sq",
    "entropy_cross",
    "count",
)
_F = {name: i for i, name in enumerate(SUM_FIELDS)}
assert len(SUM_FIELDS) == _kernels.n_sums()

_STRATEGIES = ("uniform", "quantile")
_BINNINGS = ("standard", "torchmetrics")
# Below this many probability values a single thread is faster than waking a team.
_PARALLEL_MIN_VALUES = 1_000_000


def _check_n_bins(n_bins, name="n_bins"):
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 1; got {n_bins!r}.")
    if n_bins < 1:
        raise ValueError(f"{name} must be >= 1; got {n_bins}.")
    return int(n_bins)


def _check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}.")
    return value


def _resolve_threads(n_threads, n_values):
    if n_threads is None:
        if n_values < _PARALLEL_MIN_VALUES:
            return 1
        return max(1, _kernels.max_threads())
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be None or a positive integer; got {n_threads!r}.")
    if n_threads == -1:
        return max(1, _kernels.max_threads())
    if n_threads < 1:
        raise ValueError(f"n_threads must be None, -1 or >= 1; got {n_threads}.")
    return int(n_threads)


def uniform_edges(n_bins, binning="standard"):
    """Edges of ``n_bins`` equal-width bins on [0, 1].

    ``binning="standard"``: ``linspace(0, 1, n_bins + 1)`` in float64. ``"torchmetrics"``: the
    float32 edges of ``torch.linspace(0, 1, n_bins + 1)``, which computes the first half as
    ``step * i`` and the second half as ``1 - step * (n_bins - i)`` with a float32 ``step``,
    rounding each edge once to float32 (so it differs from ``numpy.linspace`` in the last bit
    for many ``n_bins``); returned exactly as float64.
    """
    if binning == "torchmetrics":
        step = float(np.float32(1.0) / np.float32(n_bins))
        i = np.arange(n_bins + 1)
        low = (step * i).astype(np.float32)
        high = (1.0 - step * (n_bins - i)).astype(np.float32)
        return np.where(i < (n_bins + 1) // 2, low, high).astype(np.float64)
    return np.linspace(0.0, 1.0, n_bins + 1)


@functools.lru_cache(maxsize=256)
def float32_trunc_is_exact(n_bins):
    """Whether ``min(int(c * n_bins), n_bins - 1)`` bins every float32 ``c`` in [0, 1 + tol]
    exactly as the comparison with ``linspace(0, 1, n_bins + 1)`` does.

    The two can only disagree for ``c`` within a few float64 ulps of an edge, and at most the
    float32 value nearest to each edge (or its neighbours) is that close, so checking those
    decides it. The kernel then skips the comparison with the edges for float32 input.
    """
    edges = uniform_edges(n_bins)
    for b in range(1, n_bins + 1):
        c0 = np.float32(edges[b])
        for c in (np.nextafter(c0, np.float32(0)), c0, np.nextafter(c0, np.float32(2))):
            c = float(c)
            exact = min(max(int(np.searchsorted(edges, c, side="right")) - 1, 0), n_bins - 1)
            if min(int(c * n_bins), n_bins - 1) != exact:
                return False
    return True


def equal_mass_edges(values, n_bins, sample_weight=None):
    """Edges of at most ``n_bins`` equal-mass bins that never split tied values.

    Bins are ``[e_b, e_{b+1})`` with the last one closed; every edge is a data value. The values
    are sorted and tie groups (runs of identical values) are assigned to bins greedily: each bin
    takes tie groups until its weight comes closest to an equal share of the weight *still
    unassigned*. A single value heavier than one share therefore gets a bin of its own and the
    remaining weight is re-split evenly among the remaining bins; when there are fewer distinct
    values than bins, fewer bins result (every returned bin is non-empty).

    Parameters
    ----------
    values : ndarray of shape (n,)
    n_bins : int
    sample_weight : ndarray of shape (n,), optional

    Returns
    -------
    edges : ndarray of float64, shape (n_bins_used + 1,)

    Examples
    --------
    >>> import numpy as np
    >>> equal_mass_edges(np.array([0., 0., 0., 0., 1., 2., 3., 4.]), 3)
    array([0., 1., 3., 4.])
    """
    values = np.asarray(values)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    if sample_weight is None:
        s = np.sort(values)  # float32 values sort faster and exactly as float32
        cw = np.arange(1, s.shape[0] + 1, dtype=np.float64)
    else:
        order = np.argsort(values, kind="stable")
        s = values[order]
        cw = np.cumsum(np.asarray(sample_weight, dtype=np.float64)[order])
    ends = np.append(np.flatnonzero(s[1:] != s[:-1]), s.shape[0] - 1)
    C = cw[ends]
    total = C[-1]
    n_groups = ends.shape[0]
    edges = [s[0]]
    prev = 0.0
    j0 = 0
    for b in range(n_bins):
        if j0 >= n_groups:
            break
        left = n_bins - b
        if left == 1:
            j = n_groups - 1
        else:
            target = prev + (total - prev) / left
            j = min(int(np.searchsorted(C, target, side="left")), n_groups - 1)
            if j > j0 and (target - C[j - 1]) < (C[j] - target):
                j -= 1
        prev = C[j]
        j0 = j + 1
        edges.append(s[ends[j] + 1] if j0 < n_groups else s[-1])
    return np.asarray(edges, dtype=np.float64)


# Integer groups spanning at most this many consecutive values are used as codes directly (an
# O(n) shift instead of np.unique's sort); groups that no row has are dropped after the pass.
_GROUP_RANGE_MAX = 256


def _check_groups(groups, n):
    """Return (codes, labels) for a 1-D group vector, or (None, [None]).

    ``labels[c]`` is the group of the rows with code ``c``. For integer (and boolean) groups
    within a small range the codes are the values minus the smallest one, and ``labels`` may
    include values that no row has; :func:`drop_empty_groups` removes them after the pass.
    """
    if groups is None:
        return None, np.array([None], dtype=object)
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != n:
        raise ValueError(f"groups must have shape ({n},); got {g.shape}.")
    if g.dtype.kind == "f" and not np.all(np.isfinite(g)):
        raise ValueError("groups contains NaN or infinity.")
    if g.dtype.kind in "iub" and n > 0:
        gi = g.view(np.uint8) if g.dtype.kind == "b" else g
        lo, hi = int(gi.min()), int(gi.max())
        if hi - lo < _GROUP_RANGE_MAX:
            if gi.dtype == np.intp and lo == 0:
                codes = np.ascontiguousarray(gi)
            else:
                codes = np.subtract(gi, lo, dtype=np.intp)
            return codes, np.arange(lo, hi + 1).astype(g.dtype)
    labels, codes = np.unique(g, return_inverse=True)
    return codes.astype(np.intp), labels


def drop_empty_groups(res, labels):
    """Remove the groups without rows from a pass's statistics (in place).

    Adds ``group_labels``, ``group_rows`` (rows per kept group) and ``group_codes`` (the code of
    each kept group in the per-row ``codes``) to ``res``.
    """
    rows = res["sums"][:, _F["count"]]
    keep = np.flatnonzero(rows > 0)
    if keep.shape[0] != rows.shape[0]:
        res["top"] = res["top"][keep]
        res["sums"] = res["sums"][keep]
        if res.get("cls") is not None:
            res["cls"] = res["cls"][keep]
        labels = labels[keep]
    res["group_labels"] = labels
    res["group_rows"] = rows[keep].astype(np.int64)
    res["group_codes"] = keep
    return res


def prepare_inputs(y_true, y_prob, *, labels=None, sample_weight=None, trust_range=False):
    """Validate the arrays shared by all metrics.

    Returns (prob, y_soft, y_hard, weight); exactly one of y_soft / y_hard is not None. ``prob``
    is the caller's array itself when it is a C-contiguous float32/float64 matrix.
    """
    soft = is_soft_target(y_true)
    prob = check_probability_matrix(y_prob, name="y_prob", allow_1d=True)
    n, K = prob.shape
    if soft:
        y_soft = check_probability_matrix(y_true, name="y_true")
        if y_soft.shape[0] != n:
            raise ValueError(
                f"y_true has {y_soft.shape[0]} samples but y_prob has {n}."
            )
        if y_soft.shape[1] != K:
            raise ValueError(
                f"y_true has {y_soft.shape[1]} classes (columns) but y_prob has {K}."
            )
        y_hard = None
    else:
        y_hard, _ = encode_labels(
            y_true, labels=labels, n_classes=K, name="y_true", trust_range=trust_range
        )
        if y_hard.shape[0] != n:
            raise ValueError(f"y_true has {y_hard.shape[0]} samples but y_prob has {n}.")
        y_soft = None
    weight = check_sample_weight(sample_weight, n)
    return prob, y_soft, y_hard, weight


_EMPTY_F = np.zeros(0, dtype=np.float64)
_EMPTY_I = np.zeros(0, dtype=np.intp)
_EMPTY_SOFT = np.zeros((0, 1), dtype=np.float64)


class LabelRangeError(ValueError):
    """A hard label outside [0, n_classes) reached the kernel."""


# The kernel's error bits (see _kernels.pyx) and their messages, in order of precedence.
_KERNEL_ERRORS = (
    (1, ValueError, "y_prob contains NaN or infinity (first in row {row})."),
    (2, ValueError, "y_prob contains negative probabilities (first in row {row})."),
    (4, ValueError, "y_prob rows must sum to 1; row {row} does not."),
    (8, ValueError, "y_true contains NaN or infinity (first in row {row})."),
    (16, ValueError, "y_true contains negative values (first in row {row})."),
    (32, ValueError, "y_true rows must sum to 1; row {row} does not."),
    (64, LabelRangeError, "y_true has a label outside [0, n_classes) in row {row}."),
)


def _raise_kernel_error(row, code):
    for bit, exc, message in _KERNEL_ERRORS:
        if code & bit:
            raise exc(message.format(row=row))
    raise ValueError(f"invalid input in row {row} (code {code}).")  # pragma: no cover


def run_pass(
    prob,
    y_soft,
    y_hard,
    weight,
    group_codes,
    n_groups,
    *,
    edges,
    uniform,
    extra_bin=False,
    round32=False,
    classwise=False,
    class_edges=None,
    class_uniform=True,
    eps=None,
    want_scores=True,
    want_entropy=False,
    want_rows=False,
    want_row_entropy=False,
    n_threads=None,
):
    """Run the kernel on validated inputs; return a dict of raw statistics."""
    n, K = prob.shape
    if eps is None:
        eps = float(np.finfo(prob.dtype).eps)
    tol = row_sum_tolerance(prob.dtype, K)
    nt = _resolve_threads(n_threads, n * K)
    rows = {}
    if want_rows:
        rows["conf"] = np.empty(n)
        rows["acc"] = np.empty(n)
    if want_row_entropy:
        rows["hpred"] = np.empty(n)
        rows["htrue"] = np.empty(n)
    if classwise:
        if class_edges is None:
            raise ValueError("class_edges is required with classwise=True")  # pragma: no cover
        ce = np.ascontiguousarray(class_edges, dtype=np.float64).ravel()
        n_class_bins = (class_edges.shape[-1] - 1)
    else:
        ce, n_class_bins = _EMPTY_F, 0
    top, cls, sums, err_row, err_code = _kernels.calibration_pass(
        prob,
        _EMPTY_SOFT.astype(prob.dtype) if y_soft is None else y_soft,
        _EMPTY_I if y_hard is None else y_hard,
        _EMPTY_F if weight is None else weight,
        _EMPTY_I if group_codes is None else group_codes,
        n_groups,
        np.ascontiguousarray(edges, dtype=np.float64),
        bool(uniform),
        bool(extra_bin),
        bool(round32),
        bool(uniform and not round32 and prob.dtype == np.float32
             and float32_trunc_is_exact(edges.shape[0] - 1)),
        ce,
        n_class_bins,
        bool(class_uniform),
        bool(classwise and class_uniform and prob.dtype == np.float32
             and float32_trunc_is_exact(n_class_bins)),
        bool(classwise),
        float(eps),
        float(tol),
        bool(want_scores),
        bool(want_entropy or want_row_entropy),
        rows.get("conf", _EMPTY_F),
        rows.get("acc", _EMPTY_F),
        rows.get("hpred", _EMPTY_F),
        rows.get("htrue", _EMPTY_F),
        nt,
    )
    if err_row >= 0:
        _raise_kernel_error(err_row, err_code)
    return {"top": top, "cls": cls, "sums": sums, "rows": rows}


@dataclass
class ReliabilityCurve:
    """The data behind a reliability diagram.

    Attributes
    ----------
    edges : ndarray of shape (n_bins + 1,), or (n_classes, n_bins + 1) for per-class edges
    confidence : ndarray
        Weighted mean predicted probability in each bin (NaN for empty bins).
    accuracy : ndarray
        Weighted mean accuracy in each bin: the mass the target puts on the predicted class for
        top-label curves, the target probability of the class for classwise curves (NaN if empty).
    count : ndarray
        Total sample weight in each bin (the number of samples without weights).
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray


def bin_means(hist):
    """(..., n_bins, 3) sums -> (count, mean confidence, mean accuracy) with NaN for empty bins."""
    count = hist[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.where(count > 0, hist[..., 1] / np.where(count > 0, count, 1), np.nan)
        acc = np.where(count > 0, hist[..., 2] / np.where(count > 0, count, 1), np.nan)
    return count, conf, acc


def calibration_errors_from_hist(hist, norms=("l1",)):
    """Calibration errors of one (n_bins, 3) histogram, or a stack (..., n_bins, 3), for each
    of ``norms`` (a dict norm -> value or array); the bin means are computed once.

    Empty bins are skipped; bins are weighted by their share of the total weight.
    """
    count = hist[..., 0]
    filled = count > 0
    safe = np.where(filled, count, 1.0)
    # |acc - conf| of each bin: |acc_sum - conf_sum| / count
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


def calibration_error_from_hist(hist, norm="l1"):
    """Calibration error of one (n_bins, 3) histogram, or a stack (..., n_bins, 3).

    Empty bins are skipped; bins are weighted by their share of the total weight.
    """
    return calibration_errors_from_hist(hist, (norm,))[norm]


class CalibrationStats:
    """Mergeable statistics behind the calibration metrics.

    Accumulate chunks with :meth:`update`, combine partial results with :meth:`merge` (or ``+``)
    and get every metric with :meth:`compute`. The statistics of chunks merge to exactly those of
    the whole data (up to floating-point summation order), so metrics over chunks, threads or
    machines equal the one-shot result. Bin edges are fixed at construction: equal-width bins on
    [0, 1], or explicit ``edges``. Data-dependent (quantile) edges are *not* mergeable; compute
    them once (e.g. with :func:`equal_mass_edges` on a sample) and pass them as ``edges``.

    Parameters
    ----------
    n_classes : int
        Number of columns of ``y_prob``.
    n_bins : int, default=15
        Number of equal-width bins (ignored when ``edges`` is given).
    edges : array-like, optional
        Explicit increasing bin edges, first <= 0 and last >= 1 recommended.
    binning : {"standard", "torchmetrics"}, default="standard"
        See :func:`expected_calibration_error`.
    classwise : bool, default=True
        Also accumulate per-class histograms (needed for classwise calibration error).
    n_groups : int, default=1
        Number of groups; :meth:`update` then takes integer ``groups`` in ``[0, n_groups)``.
    labels : array-like, optional
        Class labels of the columns, for hard string labels.
    eps : float, optional
        Lower clipping of probabilities inside the logarithm (default: machine epsilon of
        ``y_prob``'s dtype).

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import CalibrationStats, expected_calibration_error
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet(np.ones(3), size=1000); y = rng.integers(0, 3, size=1000)
    >>> a = CalibrationStats(3).update(y[:400], p[:400])
    >>> b = CalibrationStats(3).update(y[400:], p[400:])
    >>> whole = expected_calibration_error(y, p)
    >>> bool(np.isclose((a + b).compute()["ece"], whole))
    True
    """

    def __init__(
        self,
        n_classes,
        *,
        n_bins=15,
        edges=None,
        binning="standard",
        classwise=True,
        n_groups=1,
        labels=None,
        eps=None,
    ):
        if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 1:
            raise ValueError(f"n_classes must be a positive integer; got {n_classes!r}.")
        _check_choice(binning, "binning", _BINNINGS)
        if edges is None:
            n_bins = _check_n_bins(n_bins)
            self.edges = uniform_edges(n_bins, binning)
            self._uniform = binning == "standard"
        else:
            e = np.asarray(edges, dtype=np.float64)
            if e.ndim != 1 or e.shape[0] < 2 or np.any(np.diff(e) < 0) or not np.all(np.isfinite(e)):
                raise ValueError("edges must be a finite non-decreasing 1-D array of length >= 2.")
            self.edges = e
            self._uniform = False
        self.n_classes = int(n_classes)
        self.binning = binning
        self.classwise = bool(classwise)
        self.n_groups = int(n_groups)
        self.labels = labels
        self.eps = eps
        nb = self.edges.shape[0] - 1
        nbo = nb + 1 if binning == "torchmetrics" else nb
        self.top = np.zeros((self.n_groups, nbo, 3))
        self.cls = np.zeros((self.n_groups, self.n_classes, nb, 3)) if self.classwise else None
        self.sums = np.zeros((self.n_groups, len(SUM_FIELDS)))
        self.n_samples = 0

    def update(self, y_true, y_prob, *, sample_weight=None, groups=None, n_threads=None):
        """Add one chunk of data; returns ``self``."""
        prob, y_soft, y_hard, weight = prepare_inputs(
            y_true, y_prob, labels=self.labels, sample_weight=sample_weight
        )
        if prob.shape[1] != self.n_classes:
            raise ValueError(
                f"y_prob has {prob.shape[1]} columns; these statistics have {self.n_classes} classes."
            )
        codes = None
        if groups is not None:
            codes = np.asarray(groups)
            if codes.shape != (prob.shape[0],) or codes.dtype.kind not in "iu":
                raise ValueError(f"groups must be integer codes of shape ({prob.shape[0]},).")
            if codes.min() < 0 or codes.max() >= self.n_groups:
                raise ValueError(f"groups must lie in [0, {self.n_groups}).")
            codes = np.ascontiguousarray(codes, dtype=np.intp)
        elif self.n_groups != 1:
            raise ValueError("groups is required when n_groups > 1.")
        res = run_pass(
            prob, y_soft, y_hard, weight, codes, self.n_groups,
            edges=self.edges, uniform=self._uniform,
            extra_bin=self.binning == "torchmetrics", round32=self.binning == "torchmetrics",
            classwise=self.classwise, class_edges=self.edges[None, :] if self._uniform else
            np.tile(self.edges, (self.n_classes, 1)),
            class_uniform=self._uniform, eps=self.eps, want_scores=True,
            want_entropy=True, n_threads=n_threads,
        )
        self.top += res["top"]
        if self.classwise:
            self.cls += res["cls"]
        self.sums += res["sums"]
        self.n_samples += prob.shape[0]
        return self

    def _compatible(self, other):
        if not isinstance(other, CalibrationStats):
            raise TypeError(f"cannot merge CalibrationStats with {type(other).__name__}.")
        if (
            other.n_classes != self.n_classes
            or other.n_groups != self.n_groups
            or other.binning != self.binning
            or other.classwise != self.classwise
            or not np.array_equal(other.edges, self.edges)
        ):
            raise ValueError("cannot merge statistics with different classes, groups or bins.")

    def merge(self, other):
        """Return new statistics equal to those of the union of both data sets."""
        self._compatible(other)
        out = CalibrationStats.__new__(CalibrationStats)
        out.__dict__.update(self.__dict__)
        out.top = self.top + other.top
        out.cls = None if self.cls is None else self.cls + other.cls
        out.sums = self.sums + other.sums
        out.n_samples = self.n_samples + other.n_samples
        return out

    __add__ = merge

    def __radd__(self, other):
        # lets sum([...]) start from 0
        if isinstance(other, numbers.Number) and other == 0:
            return self
        return self.merge(other)

    def compute(self, group=None):
        """Return a dict of every metric, overall (``group=None``) or for one group index."""
        if group is None:
            top, sums = self.top.sum(axis=0), self.sums.sum(axis=0)
            cls = None if self.cls is None else self.cls.sum(axis=0)
        else:
            top, sums = self.top[group], self.sums[group]
            cls = None if self.cls is None else self.cls[group]
        return metrics_from_stats(top, cls, sums)

    def reliability_curve(self, mode="top-label"):
        """:class:`ReliabilityCurve` of the accumulated data (all groups together)."""
        _check_choice(mode, "mode", ("top-label", "classwise"))
        if mode == "top-label":
            hist = self.top.sum(axis=0)
            edges = self.edges if hist.shape[0] == self.edges.shape[0] - 1 else np.append(self.edges, 1.0)
        else:
            if self.cls is None:
                raise ValueError("these statistics were built with classwise=False.")
            hist = self.cls.sum(axis=0)
            edges = self.edges
        count, conf, acc = bin_means(hist)
        return ReliabilityCurve(edges=edges, confidence=conf, accuracy=acc, count=count)


_METRIC_NAMES = ("accuracy", "ece", "mce", "rmsce", "classwise_ece", "brier", "cross_entropy",
                 "kl_divergence", "jensen_shannon", "total_variation", "entropy_true",
                 "entropy_pred", "entropy_pearson")


def metrics_from_stats(top, cls, sums, norms=("l1", "l2", "max")):
    """Every metric that the statistics of one group determine, as a dict of floats; or, for
    stacks (``top`` (G, n_bins, 3), ``cls`` (G, K, n_bins, 3) or None, ``sums`` (G, S)), a list
    of G such dicts computed together."""
    top, sums = np.asarray(top), np.asarray(sums)
    if sums.ndim == 1:
        return metrics_from_stats(top[None], None if cls is None else cls[None], sums[None],
                                  norms)[0]
    w = sums[:, _F["weight"]]
    ok = w > 0
    mean = sums / np.where(ok, w, 1.0)[:, None]
    cols = {}
    names = {"l1": "ece", "l2": "rmsce", "max": "mce"}
    for norm, value in calibration_errors_from_hist(top, norms).items():
        cols[names[norm]] = value
    if cls is not None:
        cols["classwise_ece"] = calibration_error_from_hist(cls, "l1").mean(axis=-1)
    for name in ("accuracy", "brier", "cross_entropy", "jensen_shannon", "total_variation",
                 "entropy_true", "entropy_pred"):
        cols[name] = mean[:, _F[name]]
    cols["kl_divergence"] = np.maximum(
        mean[:, _F["cross_entropy"]] - mean[:, _F["entropy_true"]], 0.0)
    var_t = mean[:, _F["entropy_true_sq"]] - mean[:, _F["entropy_true"]] ** 2
    var_p = mean[:, _F["entropy_pred_sq"]] - mean[:, _F["entropy_pred"]] ** 2
    cov = mean[:, _F["entropy_cross"]] - mean[:, _F["entropy_true"]] * mean[:, _F["entropy_pred"]]
    tiny = 1e-12
    varied = (var_t > tiny) & (var_p > tiny)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["entropy_pearson"] = np.where(
            varied, np.clip(cov / np.sqrt(np.where(varied, var_t * var_p, 1.0)), -1, 1), np.nan)
    out = []
    for g in range(sums.shape[0]):
        row = {"weight": float(w[g])}
        for name in _METRIC_NAMES:
            row[name] = float(cols[name][g]) if ok[g] and name in cols else float("nan")
        if cls is None and ok[g]:
            del row["classwise_ece"]
        out.append(row)
    return out
    names = {"l1": "ece", "l2": "rmsce", "max": "mce"}
    for norm, value in calibration_errors_from_hist(top, norms).items():
        out[names[norm]] = float(value)
    if cls is not None:
        out["classwise_ece"] = float(calibration_error_from_hist(cls, "l1").mean())
    mean = sums / w
    out["accuracy"] = float(mean[_F["accuracy"]])
    out["brier"] = float(mean[_F["brier"]])
    out["cross_entropy"] = float(mean[_F["cross_entropy"]])
    out["kl_divergence"] = float(max(mean[_F["cross_entropy"]] - mean[_F["entropy_true"]], 0.0))
    out["jensen_shannon"] = float(mean[_F["jensen_shannon"]])
    out["total_variation"] = float(mean[_F["total_variation"]])
    out["entropy_true"] = float(mean[_F["entropy_true"]])
    out["entropy_pred"] = float(mean[_F["entropy_pred"]])
    var_t = mean[_F["entropy_true_sq"]] - mean[_F["entropy_true"]] ** 2
    var_p = mean[_F["entropy_pred_sq"]] - mean[_F["entropy_pred"]] ** 2
    cov = mean[_F["entropy_cross"]] - mean[_F["entropy_true"]] * mean[_F["entropy_pred"]]
    tiny = 1e-12
    out["entropy_pearson"] = (
        float(np.clip(cov / np.sqrt(var_t * var_p), -1, 1)) if var_t > tiny and var_p > tiny else float("nan")
    )
    return out
