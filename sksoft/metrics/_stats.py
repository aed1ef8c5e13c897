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
from . import _kernels
from ._binning import check_edges, uniform_edges
from ._bootstrap import BootstrapStats, check_bootstrap, sum_vectors
from ._formulas import bin_means, hard_variance, metrics_from_stats
from ._pass import FIELD, PassSpec, run_pass
from ._validation import check_choice, check_eps, check_metric_inputs, check_n_bins, resolve_threads

__all__ = ["CalibrationStats", "ReliabilityCurve"]

_BINNINGS = ("standard", "torchmetrics")
_POSITIVE = Interval(numbers.Integral, 1, None, closed="left")


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
    accuracy_low, accuracy_high : ndarray or None
        The interval of every bin's mean accuracy (see :func:`reliability_curve`'s
        ``n_bootstrap``); None without one.
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray
    accuracy_low: np.ndarray = None
    accuracy_high: np.ndarray = None


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
    variance : bool, default=False
        Also accumulate the bins' variance terms (rows, sums of squared weights and of
        squared weighted targets): the debiased calibration errors need them.
    n_bootstrap : int, default=0
        Also accumulate the statistics of this many bootstrap replicates (see
        :func:`calibration_report`); 0 for none.
    random_state : int, RandomState or Generator, optional
        Seeds the bootstrap (the same seed gives the same replicates, however the data are
        chunked).
    clusters : bool, default=False
        Resample clusters instead of rows: :meth:`update` then takes ``clusters`` codes.

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
                 n_groups=1, labels=None, eps=None, variance=False, n_bootstrap=0,
                 random_state=None, clusters=False):
        self.n_classes = check_scalar(n_classes, "n_classes", _POSITIVE)
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
        self.n_groups = check_scalar(n_groups, "n_groups", _POSITIVE)
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
        self.group_codes = np.arange(self.n_groups)
        check_scalar(variance, "variance", "boolean")
        self.top_var = np.zeros(self.top.shape[:-1] + (4,)) if variance else None
        self.cls_var = (np.zeros(self.cls.shape[:-1] + (4,))
                        if variance and self.classwise else None)
        n_bootstrap, _, keys = check_bootstrap(n_bootstrap, 0.5, random_state)
        check_scalar(clusters, "clusters", "boolean")
        self.boot = BootstrapStats(n_bootstrap, keys, clusters=clusters) if n_bootstrap else None
        self.rows = None
        # every row so far had a hard label and no weight (variance terms then follow from
        # the histograms, also those of bootstrap replicates)
        self.simple = True

    # ------------------------------------------------------------------ building
    def _spec(self, want_scores=True, want_entropy=True, want_rows=()):
        return PassSpec(edges=self.edges, uniform=self.uniform,
                        extra_bin=self.binning == "torchmetrics",
                        round32=self.binning == "torchmetrics", classwise=self.classwise,
                        class_edges=self.class_edges if self.classwise else None,
                        want_scores=want_scores, want_entropy=want_entropy,
                        want_rows=want_rows, eps=self.eps, class_uniform=self.class_uniform)

    def _add(self, top, cls, sums, n):
        # (shapes: equal-mass bins of a call may be fewer than n_bins)
        self.top += top
        if self.classwise:
            self.cls += cls
        self.sums += sums
        self.n_samples += n

    def update(self, y_true, y_prob, *, sample_weight=None, groups=None, clusters=None,
               n_threads=None):
        """Add one chunk of data; returns ``self``.

        ``groups`` are integer codes in ``[0, n_groups)`` (required when ``n_groups > 1``);
        ``clusters`` non-negative integer cluster codes, the same in every chunk (required
        for statistics built with ``clusters=True``).
        """
        prob, targets, weight = check_metric_inputs(y_true, y_prob, labels=self.labels,
                                                    sample_weight=sample_weight, chunk=True)
        if prob.shape[1] != self.n_classes:
            raise ValueError(f"y_prob has {prob.shape[1]} columns; these statistics have "
                             f"{self.n_classes} classes.")
        codes = self._check_codes(groups, prob.shape[0])
        cluster_codes = self._check_clusters(clusters, prob.shape[0])
        self._accumulate(prob, targets, weight, codes,
                         n_threads=resolve_threads(n_threads, prob.size),
                         clusters=cluster_codes)
        return self

    def _accumulate(self, prob, targets, weight, codes, *, n_threads, clusters=None,
                    want_scores=True, want_entropy=True, rows=(), rebin=None):
        """Run the pass on one checked chunk and add everything it yields; returns the
        per-row outputs asked for by ``rows``.

        ``rebin(per_row)``: for equal-mass bins, returns the chunk's (edges, top histogram,
        top cells) from the per-row confidences (in-memory only).
        """
        n, K = prob.shape
        simple = weight is None and not targets.soft
        self.simple = self.simple and simple
        top_rows = self.boot is not None or (self.top_var is not None and not simple)
        want = set(rows)
        if top_rows or rebin is not None:
            want |= {"conf", "cell"}
        if self.boot is not None and want_scores:
            want.add("score")
        spec = self._spec(want_scores, want_entropy, tuple(sorted(want)))
        top, cls, sums, per_row = run_pass(prob, targets, weight, codes, self.n_groups, spec,
                                           n_threads=n_threads, row_offset=self.n_samples)
        if rebin is not None:
            self.edges, top, per_row["cell"] = rebin(per_row)
            self.top = np.zeros_like(top)
            if self.top_var is not None:
                self.top_var = np.zeros(top.shape[:-1] + (4,))
        self._add(top, cls, sums, n)
        n_top = self.top.shape[1] * self.n_groups
        w = np.zeros(0) if weight is None else weight
        g = np.zeros(0, dtype=np.intp) if codes is None else codes
        if self.top_var is not None:
            if simple:
                self.top_var += hard_variance(top)
            else:
                _kernels.cell_variance(per_row["cell"], w, per_row["acc"],
                                       self.top_var.reshape(n_top, 4))
            if self.classwise:
                if simple:
                    self.cls_var += hard_variance(cls)
                else:
                    soft = targets.proba if targets.soft else np.zeros((0, 1), prob.dtype)
                    hard = np.zeros(0, np.intp) if targets.soft else targets.codes
                    _kernels.class_cell_variance(
                        prob, soft, hard, w, g, np.ascontiguousarray(self.class_edges),
                        self.class_uniform, self.cls_var.reshape(-1, 4))
        if self.boot is not None:
            index = clusters if self.boot.clusters else \
                np.arange(self.n_samples - n, self.n_samples, dtype=np.int64)
            wt = np.ones(n) if weight is None else weight
            conf, acc = per_row["conf"], per_row["acc"]
            self.boot.add("top", per_row["cell"], np.column_stack([wt, wt * conf, wt * acc]),
                          index, n_top)
            if want_scores:
                self.boot.add("sums", np.zeros(n, np.intp) if codes is None else codes,
                              sum_vectors(weight, acc, per_row["score"]), index, self.n_groups)
            if self.classwise:
                self.boot.add_classwise(prob, targets, weight, codes, self.n_groups,
                                        self.class_edges, self.class_uniform, index)
        return per_row

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

    def _check_clusters(self, clusters, n):
        if self.boot is None or not self.boot.clusters:
            if clusters is not None:
                raise ValueError("clusters is given, but these statistics resample rows "
                                 "(build them with clusters=True and n_bootstrap > 0).")
            return None
        if clusters is None:
            raise ValueError("clusters is required: these statistics resample clusters.")
        c = np.asarray(clusters)
        if c.shape != (n,) or c.dtype.kind not in "iu" or (n and c.min() < 0):
            raise ValueError(f"clusters must be non-negative integer codes of shape ({n},).")
        return np.ascontiguousarray(c, dtype=np.int64)

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
        out.top_var = None if self.top_var is None or other.top_var is None else \
            self.top_var + other.top_var
        out.cls_var = None if self.cls_var is None or other.cls_var is None else \
            self.cls_var + other.cls_var
        out.boot = None if self.boot is None or other.boot is None else \
            self.boot.merge(other.boot)
        out.simple = self.simple and other.simple
        out.rows = None
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
        tv, cv = self._variances(group)
        return metrics_from_stats(top[None], None if cls is None else cls[None], sums[None],
                                  top_var=None if tv is None else tv[None],
                                  cls_var=None if cv is None else cv[None])[0]

    def _variances(self, group):
        """The variance terms of the top-label and classwise bins, overall or of a group."""
        if self.top_var is None:
            return None, None
        pick = (lambda a: a.sum(axis=0)) if group is None else (lambda a: a[group])
        return pick(self.top_var), None if self.cls_var is None else pick(self.cls_var)

    def compute_all(self):
        """Metrics overall and of every group, in one vectorised call: (overall, [per group])."""
        def stack(a):
            return None if a is None else np.concatenate([a.sum(axis=0)[None], a])

        stacked = metrics_from_stats(stack(self.top), stack(self.cls), stack(self.sums),
                                     top_var=stack(self.top_var), cls_var=stack(self.cls_var))
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
            if self.boot is not None:
                self.boot.drop_groups(keep, self.n_groups)
            self.top = self.top[keep]
            self.sums = self.sums[keep]
            for name in ("cls", "top_var", "cls_var"):
                if getattr(self, name) is not None:
                    setattr(self, name, getattr(self, name)[keep])
            if self.group_labels is not None:
                self.group_labels = self.group_labels[keep]
            self.group_codes = self.group_codes[keep]
            self.n_groups = keep.shape[0]
        return keep

    @property
    def group_rows(self):
        """Rows per group (int64)."""
        return self.sums[:, FIELD["count"]].astype(np.int64)
