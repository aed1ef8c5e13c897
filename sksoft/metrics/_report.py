"""The calibration report: every metric, overall and per group, from one pass."""

import numpy as np

from .._optional import import_optional
from .._targets import _as_float_array, is_soft_target
from .._validation import check_scalar
from ._bootstrap import check_bootstrap
from ._chunked import is_chunked
from ._compute import compute_stats
from ._divergence import _weighted_spearman
from ._formulas import METRIC_NAMES
from ._corp import score_decomposition
from ._formulas import calibration_errors
from ._intervals import (
    bootstrap_interval,
    check_interval,
    metric_range,
    point_tables,
    resolve_interval,
    replicate_columns,
    row_replicates,
    spearman_replicates,
)
from ._smooth import smooth_calibration_error

__all__ = ["calibration_report", "CalibrationReport"]

#: the metrics of ``extended=True`` (no function of binned sums: computed from the rows)
EXTENDED = ("smooth_ece", "brier_mcb", "brier_dsc", "brier_unc", "log_mcb", "log_dsc",
            "log_unc")
_ORDER = ("n_samples", "weight") + METRIC_NAMES[:-1] + EXTENDED + ("entropy_correlation",
                                                                   "entropy_pearson")


class CalibrationReport:
    """Metrics overall and per group, with their intervals when bootstrapped.

    Attributes
    ----------
    overall : dict
        Metric name -> value over all samples (an :class:`~sksoft.metrics.Estimate`, a float
        carrying ``low``, ``high`` and ``se``, when the report was bootstrapped).
    groups : dict
        Group label -> dict of metrics (empty without ``groups``).
    confidence : float or None
        The intervals' confidence level (None without a bootstrap).
    interval : str
        The interval method (``interval=`` of :func:`calibration_report`).

    Use ``report["ece"]``, :meth:`to_dict`, :meth:`to_frame` (pandas; with intervals the
    columns ``<metric>_low``, ``<metric>_high``, ``<metric>_se``) or ``print`` for a table.
    """

    def __init__(self, overall, groups, confidence=None, interval="auto"):
        self.overall = overall
        self.groups = groups
        self.confidence = confidence
        self.interval = interval

    def to_dict(self):
        """``{"overall": {...}, "groups": {label: {...}}}`` with plain Python floats (and
        ``<metric>_low`` / ``_high`` / ``_se`` entries for bootstrapped values)."""
        return {"overall": _flat(self.overall),
                "groups": {k: _flat(v) for k, v in self.groups.items()}}

    def to_frame(self):
        """A pandas DataFrame with one row per group plus an ``"overall"`` row."""
        pd = import_optional("pandas", extra="study", purpose="CalibrationReport.to_frame")

        rows = {"overall": _flat(self.overall)}
        rows.update({g: _flat(m) for g, m in self.groups.items()})
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "group"
        cols = []
        for c in _ORDER:
            cols += [x for x in (c, f"{c}_low", f"{c}_high", f"{c}_se") if x in df.columns]
        return df[cols]

    def __getitem__(self, key):
        return self.overall[key]

    def __contains__(self, key):
        return key in self.overall

    def __repr__(self):
        names = [c for c in _ORDER if c in self.overall]
        rows = [("overall", self.overall)] + [(str(g), m) for g, m in self.groups.items()]
        width = max(len(r[0]) for r in rows) + 2
        boot = self.confidence is not None

        def cell(m, n):
            v = m[n]
            if n == "n_samples":
                return f"{v:.0f}"
            if boot and hasattr(v, "low"):
                return f"{float(v):.4f} [{v.low:.4f}, {v.high:.4f}]"
            return f"{float(v):.4f}"

        cells = [[cell(m, n) for n in names] for _, m in rows]
        cols = [max(len(n), *(len(r[i]) for r in cells)) + 2 for i, n in enumerate(names)]
        lines = ["group".ljust(width) + "".join(f"{n:>{c}}" for n, c in zip(names, cols))]
        for (label, _), r in zip(rows, cells):
            lines.append(label.ljust(width) + "".join(f"{v:>{c}}" for v, c in zip(r, cols)))
        if boot:
            kind = "basic (bias-corrected for the debiased errors)" \
                if self.interval == "auto" else self.interval
            lines.append(f"[{100 * self.confidence:g}% bootstrap {kind} intervals]")
        return "\n".join(lines)


def _flat(m):
    out = {}
    for k, v in m.items():
        out[k] = float(v) if not isinstance(v, (int, np.integer)) or isinstance(v, bool) else v
        if hasattr(v, "low"):
            out[f"{k}_low"], out[f"{k}_high"], out[f"{k}_se"] = v.low, v.high, v.se
    return out


def calibration_report(
    y_true,
    y_prob,
    *,
    groups=None,
    n_bins=15,
    strategy="uniform",
    binning="standard",
    labels=None,
    sample_weight=None,
    eps=None,
    n_bootstrap=0,
    confidence=0.95,
    random_state=None,
    clusters=None,
    extended=False,
    interval="auto",
    n_threads=None,
):
    """Every calibration metric, overall and per group, from a single pass over ``y_prob``.

    Reports accuracy (soft-aware); top-label ECE, MCE, RMS calibration error and its debiased
    version, the signed ECE (confidence - accuracy, weighted) with its over- and
    under-confident parts (``ece = ece_over + ece_under``); classwise ECE and its debiased RMS
    version; Brier score, cross-entropy (NLL for hard targets), KL, Jensen-Shannon, total
    variation, the mean target and predicted entropies, and (for soft targets) the Spearman
    entropy correlation. Bin edges are shared by all groups (computed from all samples for
    ``strategy="quantile"``). See :func:`expected_calibration_error` for the binning and the
    debiased error.

    Parameters
    ----------
    y_true, y_prob, n_bins, strategy, binning, labels, sample_weight, n_threads
        As in :func:`expected_calibration_error`.
    groups : array-like of shape (n_samples,), optional
        Group of each sample, e.g. difficulty bins from :func:`difficulty_bins`.
    eps : float, optional
        Clipping inside the logarithm, see :func:`log_loss`.
    n_bootstrap : int, default=0
        With ``B > 0``, every value is an :class:`Estimate` -- a float with a percentile
        interval (``.low``, ``.high``) and bootstrap standard error (``.se``) -- from ``B``
        Poisson bootstrap replicates of the rows (or of ``clusters``), overall and per group.
        The replicates are computed from the statistics of the one pass (see "Intervals"
        below), never from copies of the data.
    confidence : float, default=0.95
        Level of the intervals.
    random_state : int, RandomState or Generator, optional
        Seeds the bootstrap: the same seed gives the same intervals in memory, chunked, on
        Dask, and whatever the number of threads.
    clusters : array-like of shape (n_samples,), optional
        Resample these clusters (e.g. source images, annotators) instead of rows: all rows of
        a cluster share its bootstrap weight.
    extended : bool, default=False
        Also the calibration estimators that are no function of binned sums, top-label and
        from the rows themselves (in memory only): the smooth calibration error
        (``smooth_ece``, :func:`smooth_calibration_error`) and the CORP decompositions of the
        Brier and log scores (``brier_mcb``, ``brier_dsc``, ``brier_unc``, ``log_mcb``, ...,
        :func:`score_decomposition`; the log score's confidences clipped to ``[eps, 1 -
        eps]`` as in the cross-entropy, so that a confident mistake is a large, finite loss).
        They cost a sort and an FFT per group: at 10^6 rows
        about 3 to 10 times the rest of the report; their bootstrap recomputes them on every
        reweighted replicate (``B`` times that).
    interval : {"auto", "basic", "bias_corrected", "percentile"}, default="auto"
        How the bootstrap replicates become an interval (see "Intervals"): ``"basic"``, the
        reverse-percentile interval, subtracts the bootstrap estimate of the bias of a plug-in
        estimate; ``"bias_corrected"`` moves the percentile interval by that bias. For the
        debiased errors both are centred where the debiased estimator is (their replicates
        estimate the data's plug-in error, not the debiased one). ``"auto"``: per metric the
        method that covers best in ``benchmarks/coverage_harness.py`` -- bias-corrected for
        the debiased errors, basic for the others. ``"percentile"`` is the interval used
        before this option existed.

    Intervals
    ---------
    Each row gets a Poisson(1) weight per replicate, a function of the seed and its global
    row index (:func:`bootstrap_weights`). The first 64 rows of every bin (and group) are
    resampled with their weights exactly; the sum over a bin's remaining rows is drawn from
    the normal distribution with its exact bootstrap mean and covariance, which the pass
    accumulates -- so small bins, where a normal draw would be poor, are exact, and the
    memory is that of B statistics, not of B copies. Quantile bins keep the observed edges in
    every replicate. The Spearman entropy correlation is bootstrapped exactly (every row's
    weight in every replicate: O(n B), slower). Known approximation: the normal part treats
    the classwise bins of different classes as independent. Clusters are resampled exactly.
    Intervals of bounded quantities are clipped to their range (errors and scores at 0).

    Coverage (``benchmarks/coverage_harness.py``, README "Coverage of the intervals"): the
    default intervals of the NLL, Brier score, accuracy, the debiased L2 errors and the CORP
    miscalibration terms cover their population values at about the nominal level on
    simulated models. **Binned ECE (top-label, classwise, MCE) has no interval that covers**:
    its bias depends on how far each bin is from calibration, which the bootstrap cannot
    estimate near calibration -- the interval of a well-calibrated model's ECE lies above 0
    (its population value) almost always. Read a binned ECE against
    :func:`expected_calibration_error_floor` and do not call a difference of binned ECE
    significant from its interval; for inference on calibration use the debiased L2 error,
    the NLL, the Brier score or their CORP MCB terms.

    A replicate that draws no row (or cluster) of positive weight -- an empty resample, about
    ``exp(-n)`` of them with ``n`` rows or clusters -- has no value: it is dropped from the
    interval (conditioning on a non-empty resample, as redrawing would), never scored 0, and
    ``Estimate.n_replicates`` counts the replicates kept.

    Out-of-core input (dask arrays, memmaps, iterators of chunks) is evaluated chunk by chunk,
    per group too (``groups`` then must be an array, coded before the pass); the Spearman
    entropy correlation then is NaN and the mergeable Pearson correlation of the entropies is
    reported as ``entropy_pearson``.

    Returns
    -------
    CalibrationReport

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y_soft = rng.dirichlet(np.ones(3), size=200)
    >>> y_prob = rng.dirichlet(np.ones(3), size=200)
    >>> rep = calibration_report(y_soft, y_prob, groups=rng.integers(0, 2, 200))
    >>> sorted(rep.groups)
    [0, 1]
    >>> round(rep["brier"], 3) == round(float(((y_soft - y_prob) ** 2).sum(1).mean()), 3)
    True
    >>> rep = calibration_report(y_soft, y_prob, n_bootstrap=200, random_state=0)
    >>> bool(rep["brier"].low < rep["brier"] < rep["brier"].high)
    True
    """
    n_bootstrap, confidence, _ = check_bootstrap(n_bootstrap, confidence, random_state)
    check_scalar(extended, "extended", "boolean")
    check_interval(interval)
    chunked = is_chunked(y_prob) or is_chunked(y_true)
    soft = not chunked and is_soft_target(y_true)
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, binning=binning, labels=labels,
        sample_weight=sample_weight, groups=groups, classwise=True, want_scores=True,
        want_entropy=True, row_entropy=soft, variance=True, eps=eps, n_bootstrap=n_bootstrap,
        random_state=random_state, clusters=clusters, n_threads=n_threads,
    )
    overall, per_group = stats.compute_all()
    reps = plug = None
    if n_bootstrap:
        reps = replicate_columns(stats)
        plug = _plugin_errors(stats)

    def block(m, index, code, n_rows):
        pearson = m.pop("entropy_pearson")
        if chunked:
            m["entropy_pearson"] = pearson
        if soft:
            ht, hp, w, _ = stats.rows.of_group(code)
            m["entropy_correlation"] = _weighted_spearman(ht, hp, w) if ht.shape[0] else \
                float("nan")
        else:
            m["entropy_correlation"] = float("nan")
        if reps is not None:
            for name in list(m):
                if name == "weight":
                    continue
                if name == "entropy_correlation":
                    rep = spearman_replicates(stats, code) if soft else np.full(n_bootstrap,
                                                                                 np.nan)
                else:
                    rep = reps[name][:, index]
                center = plug[name][index] if name in plug else None
                m[name] = bootstrap_interval(m[name], rep, confidence,
                                             method=resolve_interval(interval, name),
                                             center=center, bounds=metric_range(name))
        m["n_samples"] = int(n_rows)
        return m

    if extended:
        if chunked:
            raise ValueError("extended=True needs all rows at once; out-of-core input gives the "
                             "metrics of binned sums only.")
        extra = _Extended(y_true, y_prob, labels, stats, confidence, interval)
        _block = block

        def block(m, index, code, n_rows):  # noqa: F811  (the binned metrics, then these)
            m = _block(m, index, code, n_rows)
            m.update(extra.values(code))
            return m

    overall = block(overall, 0, None, stats.n_samples)
    groups_out = {}
    if groups is not None:
        for i, (m, code, label, n_rows) in enumerate(zip(per_group, stats.group_codes,
                                                         stats.group_labels, stats.group_rows)):
            key = label.item() if hasattr(label, "item") else label
            groups_out[key] = block(m, i + 1, code, n_rows)
    return CalibrationReport(overall, groups_out, confidence if n_bootstrap else None,
                             interval)


class _Extended:
    """The extended metrics of the rows of one group, with their (row-reweighting) bootstrap."""

    def __init__(self, y_true, y_prob, labels, stats, confidence, interval="auto"):
        self.y_true = np.asarray(y_true)
        # (as the binned metrics read it: an object array of Python floats is fine)
        self.y_prob = _as_float_array(y_prob, "y_prob")
        self.labels, self.stats, self.confidence = labels, stats, confidence
        self.interval = interval

    def _compute(self, rows, w):
        y, p = self.y_true[rows], self.y_prob[rows]
        out = {"smooth_ece": smooth_calibration_error(y, p, labels=self.labels,
                                                      sample_weight=w, mode="top-label")}
        # the log score clips like log_loss (eps: the report's, by default the machine
        # epsilon of y_prob's dtype), so that a confidence of exactly 1 on a wrong prediction
        # is a large finite loss as in the NLL, not an infinite MCB
        eps = self.stats.eps
        if eps is None:
            eps = float(np.finfo(np.result_type(p.dtype, np.float32)).eps)
        for score in ("brier", "log"):
            d = score_decomposition(y, p, score=score, labels=self.labels, sample_weight=w,
                                    mode="top-label",
                                    eps=eps if score == "log" and eps > 0 else None)
            out[f"{score}_mcb"], out[f"{score}_dsc"], out[f"{score}_unc"] = d.mcb, d.dsc, d.unc
        return out

    def values(self, code):
        rows = self.stats.rows.select(code)
        weight = self.stats.rows.weight
        point = self._compute(rows, None if weight is None else weight[rows])
        if self.stats.boot is None:
            return point
        reps = row_replicates(self.stats, self._compute, code)
        B = self.stats.boot.n_bootstrap
        return {k: bootstrap_interval(v, reps.get(k, np.full(B, np.nan)), self.confidence,
                                      method=resolve_interval(self.interval, k),
                                      bounds=metric_range(k))
                for k, v in point.items()}


def _plugin_errors(stats):
    """The plug-in errors that the debiased ones estimate, overall then per group: the
    bootstrap world's values of the debiased errors (their replicates centre there)."""
    t = point_tables(stats)
    out = {"rmsce_debiased": calibration_errors(t["top"], ("l2",))["l2"]}
    if t["cls"] is not None:
        out["classwise_rmsce_debiased"] = calibration_errors(t["cls"], ("l2",))["l2"].mean(-1)
    return out
