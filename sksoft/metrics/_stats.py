"""Mergeable binned sufficient statistics: the one result type of every pass.

Every metric in :mod:`sksoft.metrics` is a function of the statistics that the compiled pass
accumulates: per group and per confidence bin the total weight, confidence sum and accuracy sum
(top-label and, optionally, per class), and per group the sums of the proper scores and
divergences. Sums merge by addition, so the statistics of chunks, threads or machines add up to
the statistics of the whole. In memory, out of core and on Dask, a metric call builds one
:class:`CalibrationStats` and reads its metrics from it (:mod:`sksoft.metrics._formulas`).
"""

import numbers
from dataclasses import dataclass

import numpy as np

from .._validation import Interval, Options, check_scalar
from ._binning import check_edges, uniform_edges
from ._formulas import bin_means, metrics_from_stats
from ._pass import FIELD, PassSpec, run_pass
from ._validation import check_choice, check_eps, check_metric_inputs, check_n_bins, resolve_threads

__all__ = ["CalibrationStats", "ReliabilityCurve"]

_BINNINGS = ("standard", "torchmetrics")


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
        Explicit non-decreasing bin edges, first <= 0 and last >= 1 recommended.
    binning : {"standard", "torchmetrics"}, default="standard"
        See :func:`expected_calibration_error`.
    classwise : bool, default=True
        Also accumulate per-class histograms (needed for classwise calibration error).
    n_groups : int, default=1
        Number of groups; :meth:`update` then takes integer ``groups`` in ``[0, n_groups)``.
    labels : array-like, optional
        Class labels of the columns, for hard labels that are not column codes.
    eps : float, optional
        Lower clipping of probabilities inside the logarithm (default: machine epsilon of
        ``y_prob``'s dtype).

    Attributes
    ----------
    top : ndarray of shape (n_groups, n_bins, 3)
        Per group and bin: weight, confidence sum, accuracy sum (torchmetrics binning: one
        extra bin for confidences of exactly 1).
    cls : ndarray of shape (n_groups, n_classes, n_bins, 3) or None
        The same per class (probability of the class vs its target probability).
    sums : ndarray of shape (n_groups, n_fields)
        Per group: the weighted sums of the scores (``sums_of(name)``).
    n_samples : int
    group_labels : ndarray or None
        The label of each group, when the statistics come from a metric call with ``groups``.

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

    def __init__(self, n_classes, *, n_bins=15, edges=None, binning="standard", classwise=True,
                 n_groups=1, labels=None, eps=None):
        self.n_classes = check_scalar(n_classes, "n_classes",
                                      Interval(numbers.Integral, 1, None, closed="left"))
        self.binning = check_choice(binning, "binning", _BINNINGS)
        if edges is None:
            self.edges = uniform_edges(check_n_bins(n_bins), binning)
            self.uniform = binning == "standard"
        else:
            if binning != "standard":
                raise ValueError('explicit edges only exist with binning="standard".')
            self.edges = check_edges(edges)
            self.uniform = False
        self.classwise = check_scalar(classwise, "classwise", "boolean")
        self.n_groups = check_scalar(n_groups, "n_groups",
                                     Interval(numbers.Integral, 1, None, closed="left"))
        self.labels = labels
        self.eps = check_eps(eps, self.n_classes)
        nb = self.edges.shape[0] - 1
        nbo = nb + 1 if binning == "torchmetrics" else nb
        self.class_uniform = self.uniform
        self.class_edges = (self.edges[None, :] if self.uniform
                            else np.tile(self.edges, (self.n_classes, 1)))
        self.top = np.zeros((self.n_groups, nbo, 3))
        self.cls = np.zeros((self.n_groups, self.n_classes, nb, 3)) if self.classwise else None
        self.sums = np.zeros((self.n_groups, len(FIELD)))
        self.n_samples = 0
        self.group_labels = None

    # ------------------------------------------------------------------ building
    def _spec(self, want_scores=True, want_entropy=True, want_rows=()):
        return PassSpec(edges=self.edges, uniform=self.uniform,
                        extra_bin=self.binning == "torchmetrics",
                        round32=self.binning == "torchmetrics", classwise=self.classwise,
                        class_edges=self.class_edges if self.classwise else None,
                        want_scores=want_scores, want_entropy=want_entropy,
                        want_rows=want_rows, eps=self.eps, class_uniform=self.class_uniform)

    def _add(self, top, cls, sums, n):
        self.top += top
        if self.classwise:
            self.cls += cls
        self.sums += sums
        self.n_samples += n

    def update(self, y_true, y_prob, *, sample_weight=None, groups=None, n_threads=None):
        """Add one chunk of data; returns ``self``.

        ``groups`` are integer codes in ``[0, n_groups)`` (required when ``n_groups > 1``).
        """
        prob, targets, weight = check_metric_inputs(y_true, y_prob, labels=self.labels,
                                                    sample_weight=sample_weight)
        if prob.shape[1] != self.n_classes:
            raise ValueError(f"y_prob has {prob.shape[1]} columns; these statistics have "
                             f"{self.n_classes} classes.")
        codes = self._check_codes(groups, prob.shape[0])
        top, cls, sums, _ = run_pass(prob, targets, weight, codes, self.n_groups, self._spec(),
                                     n_threads=resolve_threads(n_threads, prob.size),
                                     row_offset=self.n_samples)
        self._add(top, cls, sums, prob.shape[0])
        return self

    def _check_codes(self, groups, n):
        if groups is None:
            if self.n_groups != 1:
                raise ValueError("groups is required when n_groups > 1.")
            return None
        codes = np.asarray(groups)
        if codes.shape != (n,) or codes.dtype.kind not in "iu":
            raise ValueError(f"groups must be integer codes of shape ({n},).")
        if codes.min() < 0 or codes.max() >= self.n_groups:
            raise ValueError(f"groups must lie in [0, {self.n_groups}).")
        return np.ascontiguousarray(codes, dtype=np.intp)

    def _compatible(self, other):
        if not isinstance(other, CalibrationStats):
            raise TypeError(f"cannot merge CalibrationStats with {type(other).__name__}.")
        if (other.n_classes != self.n_classes or other.n_groups != self.n_groups
                or other.binning != self.binning or other.classwise != self.classwise
                or not np.array_equal(other.edges, self.edges)
                or other.top.shape != self.top.shape):
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

    # ------------------------------------------------------------------ reading
    def sums_of(self, name, group=None):
        """The weighted sum of one score field (see ``SUM_FIELDS``), overall or of a group."""
        col = self.sums[:, FIELD[name]]
        return float(col.sum() if group is None else col[group])

    def mean_of(self, name, group=None):
        """The weighted mean of one score field, overall or of a group."""
        return self.sums_of(name, group) / self.sums_of("weight", group)

    def compute(self, group=None):
        """A dict of every metric, overall (``group=None``) or for one group index."""
        if group is None:
            top, sums = self.top.sum(axis=0), self.sums.sum(axis=0)
            cls = None if self.cls is None else self.cls.sum(axis=0)
        else:
            top, sums = self.top[group], self.sums[group]
            cls = None if self.cls is None else self.cls[group]
        return metrics_from_stats(top[None], None if cls is None else cls[None], sums[None])[0]

    def compute_all(self):
        """Metrics overall and of every group, in one vectorised call: (overall, [per group])."""
        stacked = metrics_from_stats(
            np.concatenate([self.top.sum(axis=0)[None], self.top]),
            None if self.cls is None else np.concatenate([self.cls.sum(axis=0)[None], self.cls]),
            np.concatenate([self.sums.sum(axis=0)[None], self.sums]),
        )
        return stacked[0], stacked[1:]

    def reliability_curve(self, mode="top-label"):
        """:class:`ReliabilityCurve` of the accumulated data (all groups together)."""
        check_scalar(mode, "mode", Options(("top-label", "classwise")))
        if mode == "top-label":
            hist = self.top.sum(axis=0)
            edges = self.edges if hist.shape[0] == self.edges.shape[0] - 1 else \
                np.append(self.edges, 1.0)
        else:
            if self.cls is None:
                raise ValueError("these statistics were built with classwise=False.")
            hist = self.cls.sum(axis=0)
            edges = self.class_edges[0] if self.class_uniform else self.class_edges
        count, conf, acc = bin_means(hist)
        return ReliabilityCurve(edges=edges, confidence=conf, accuracy=acc, count=count)

    def drop_empty_groups(self):
        """Remove the groups that no row fell into (in place); returns the kept group codes."""
        rows = self.sums[:, FIELD["count"]]
        keep = np.flatnonzero(rows > 0)
        if keep.shape[0] != rows.shape[0]:
            self.top = self.top[keep]
            self.sums = self.sums[keep]
            if self.cls is not None:
                self.cls = self.cls[keep]
            if self.group_labels is not None:
                self.group_labels = self.group_labels[keep]
            self.n_groups = keep.shape[0]
        return keep

    @property
    def group_rows(self):
        """Rows per group (int64)."""
        return self.sums[:, FIELD["count"]].astype(np.int64)
