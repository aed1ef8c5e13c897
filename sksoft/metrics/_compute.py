"""The one road of a metric call: check -> bin edges -> pass -> :class:`CalibrationStats`.

Every public metric, :func:`calibration_report`, the scorers and the out-of-core path call
:func:`compute_stats`; the metric formulas then read the statistics it returns. In memory, the
arrays are checked once (:mod:`._validation`), the edges fixed (:mod:`._binning`), the pass run
(:mod:`._pass`); dask arrays, memmaps and iterators of chunks go through :mod:`._chunked`,
which accumulates the same statistics chunk by chunk.
"""

import numpy as np

from ._binning import equal_mass_edges, equal_mass_histogram
from ._bootstrap import check_bootstrap
from ._chunked import chunked_stats, is_chunked
from ._stats import CalibrationStats
from ._validation import (
    check_choice,
    check_eps,
    check_groups,
    check_metric_inputs,
    check_n_bins,
    resolve_threads,
)

__all__ = ["compute_stats", "RowStats"]

_STRATEGIES = ("uniform", "quantile")
_BINNINGS = ("standard", "torchmetrics")


class RowStats:
    """Per-row values kept beside the statistics of an in-memory call (not mergeable): the
    entropies for rank correlations, and the weight, group code and resampling index (row, or
    cluster code) of every row."""

    def __init__(self, n, htrue=None, hpred=None, weight=None, codes=None, clusters=None):
        self.n = n
        self.htrue, self.hpred, self.weight, self.codes = htrue, hpred, weight, codes
        self.clusters = clusters

    @property
    def index(self):
        """The rows' resampling indices: their cluster codes, or their row numbers (made when
        asked for: only the bootstrap needs them)."""
        return self.clusters if self.clusters is not None else np.arange(self.n, dtype=np.int64)

    def select(self, code):
        """Indices of the rows with group code ``code`` (None: all rows)."""
        if code is None or self.codes is None:
            return np.arange(self.n)
        return np.flatnonzero(self.codes == code)

    def of_group(self, code):
        """(htrue, hpred, weight, index) of the rows with group code ``code`` (None: all)."""
        if code is None or self.codes is None:
            return self.htrue, self.hpred, self.weight, self.index
        m = self.codes == code
        return (self.htrue[m], self.hpred[m], None if self.weight is None else self.weight[m],
                self.index[m])


def compute_stats(y_true, y_prob, *, n_bins=15, strategy="uniform", binning="standard",
                  labels=None, sample_weight=None, groups=None, classwise=False,
                  want_scores=False, want_entropy=False, row_entropy=False, variance=False,
                  eps=None, n_bootstrap=0, random_state=None, clusters=None, n_threads=None):
    """Check the arguments, run the pass and return its :class:`CalibrationStats`.

    ``row_entropy`` keeps both entropies of every row (``stats.rows``, in memory only) for the
    Spearman entropy correlation; ``variance`` the bins' variance terms (debiased errors);
    ``n_bootstrap`` the statistics of that many bootstrap replicates (of rows, or of
    ``clusters``). With ``groups`` the statistics have one group per distinct label
    (``stats.group_labels``), empty ones dropped.
    """
    n_bins = check_n_bins(n_bins)
    check_choice(strategy, "strategy", _STRATEGIES)
    check_choice(binning, "binning", _BINNINGS)
    if binning == "torchmetrics" and strategy != "uniform":
        raise ValueError('binning="torchmetrics" only exists for strategy="uniform".')
    n_bootstrap, _, _ = check_bootstrap(n_bootstrap, 0.5, random_state)
    if clusters is not None and not n_bootstrap:
        raise ValueError("clusters only changes how the bootstrap resamples: give "
                         "n_bootstrap > 0 too.")
    boot = dict(n_bootstrap=n_bootstrap, random_state=random_state)
    if is_chunked(y_prob) or is_chunked(y_true):
        if strategy != "uniform":
            raise ValueError("equal-mass (quantile) bins need all rows at once; out-of-core "
                             "input (dask array, memmap, iterator) supports strategy='uniform'.")
        if row_entropy:
            raise ValueError("the Spearman entropy correlation needs all rows at once; for "
                             "out-of-core input calibration_report gives entropy_pearson.")
        return chunked_stats(y_true, y_prob, n_bins=n_bins, binning=binning, labels=labels,
                             sample_weight=sample_weight, classwise=classwise, eps=eps,
                             n_threads=n_threads, groups=groups, clusters=clusters,
                             variance=variance, **boot)
    prob, targets, weight = check_metric_inputs(y_true, y_prob, labels=labels,
                                                sample_weight=sample_weight)
    n, K = prob.shape
    eps = check_eps(eps, K)
    codes, group_labels = check_groups(groups, n)
    cluster_codes = None if clusters is None else check_groups(clusters, n, "clusters")[0]
    n_groups = 1 if group_labels is None else group_labels.shape[0]
    nt = resolve_threads(n_threads, prob.size)
    quantile = strategy == "quantile"
    stats = CalibrationStats(K, n_bins=n_bins, binning=binning, classwise=classwise,
                             n_groups=n_groups, labels=labels, eps=eps, variance=variance,
                             clusters=clusters is not None, **boot)
    if classwise and quantile:
        # one set of equal-mass edges per class, padded to a common number of bins by
        # repeating the last edge (the padding bins stay empty)
        per_class = [equal_mass_edges(prob[:, k], n_bins, weight) for k in range(K)]
        width = max(e.shape[0] for e in per_class)
        stats.class_edges = np.vstack(
            [np.concatenate([e, np.full(width - e.shape[0], e[-1])]) for e in per_class])
        stats.class_uniform = False
        stats.cls = np.zeros((n_groups, K, width - 1, 3))
        if stats.cls_var is not None:
            stats.cls_var = np.zeros((n_groups, K, width - 1, 4))
    stats.uniform = stats.uniform and not quantile

    def rebin(per_row):
        # equal-mass edges of all the confidences, and every row's bin in them
        edges, top = equal_mass_histogram(per_row["conf"], per_row["acc"], weight, codes,
                                          n_groups, n_bins, float32=prob.dtype == np.float32,
                                          n_threads=nt)
        nb = edges.shape[0] - 1
        b = np.clip(np.searchsorted(edges, per_row["conf"], side="right") - 1, 0, nb - 1)
        return edges, top, b + (0 if codes is None else codes * nb)

    per_row = stats._accumulate(prob, targets, weight, codes, n_threads=nt,
                                clusters=cluster_codes, want_scores=want_scores,
                                want_entropy=want_entropy,
                                rows=("entropy",) if row_entropy else (),
                                rebin=rebin if quantile else None)
    stats.rows = RowStats(n, per_row.get("htrue"), per_row.get("hpred"), weight, codes,
                          cluster_codes)
    if group_labels is not None:
        stats.group_labels = group_labels
        stats.drop_empty_groups()
    return stats
