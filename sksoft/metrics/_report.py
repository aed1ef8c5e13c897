"""The calibration report: every metric, overall and per group, from one pass."""

import numpy as np

from .._targets import is_soft_target
from ._chunked import is_chunked
from ._compute import compute_stats
from ._divergence import _weighted_spearman

__all__ = ["calibration_report", "CalibrationReport"]

_ORDER = (
    "n_samples", "weight", "accuracy", "ece", "mce", "rmsce", "classwise_ece", "brier",
    "cross_entropy", "kl_divergence", "jensen_shannon", "total_variation", "entropy_true",
    "entropy_pred", "entropy_correlation", "entropy_pearson",
)


class CalibrationReport:
    """Metrics overall and per group.

    Attributes
    ----------
    overall : dict
        Metric name -> value over all samples.
    groups : dict
        Group label -> dict of metrics (empty without ``groups``).

    Use :meth:`to_dict`, :meth:`to_frame` (pandas) or ``print`` for a table.
    """

    def __init__(self, overall, groups):
        self.overall = overall
        self.groups = groups

    def to_dict(self):
        """``{"overall": {...}, "groups": {label: {...}}}`` with plain Python floats."""
        return {"overall": dict(self.overall), "groups": {k: dict(v) for k, v in self.groups.items()}}

    def to_frame(self):
        """A pandas DataFrame with one row per group plus an ``"overall"`` row."""
        import pandas as pd

        rows = {"overall": self.overall}
        rows.update({g: m for g, m in self.groups.items()})
        df = pd.DataFrame.from_dict(rows, orient="index")
        df.index.name = "group"
        return df[[c for c in _ORDER if c in df.columns]]

    def __getitem__(self, key):
        return self.overall[key]

    def __repr__(self):
        names = [c for c in _ORDER if c in self.overall]
        rows = [("overall", self.overall)] + [(str(g), m) for g, m in self.groups.items()]
        width = max(len(r[0]) for r in rows) + 2
        cols = [max(len(n), 9) + 2 for n in names]
        head = "group".ljust(width) + "".join(f"{n:>{c}}" for n, c in zip(names, cols))
        lines = [head]
        for label, m in rows:
            cells = "".join(
                f"{m[n]:>{c}.0f}" if n == "n_samples" else f"{m[n]:>{c}.4f}"
                for n, c in zip(names, cols)
            )
            lines.append(label.ljust(width) + cells)
        return "\n".join(lines)


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
    n_threads=None,
):
    """Every calibration metric, overall and per group, from a single pass over ``y_prob``.

    Reports accuracy (soft-aware), top-label ECE / MCE / RMS calibration error, classwise ECE,
    Brier score, cross-entropy (NLL for hard targets), KL, Jensen-Shannon, total variation, the
    mean target and predicted entropies, and (for soft targets) the Spearman entropy
    correlation. Bin edges are shared by all groups (computed from all samples for
    ``strategy="quantile"``).

    Parameters
    ----------
    y_true, y_prob, n_bins, strategy, binning, labels, sample_weight, n_threads
        As in :func:`expected_calibration_error`.
    groups : array-like of shape (n_samples,), optional
        Group of each sample, e.g. difficulty bins from :func:`difficulty_bins`.
    eps : float, optional
        Clipping inside the logarithm, see :func:`cross_entropy`.

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
    """
    chunked = is_chunked(y_prob) or is_chunked(y_true)
    soft = not chunked and is_soft_target(y_true)
    stats = compute_stats(
        y_true, y_prob, n_bins=n_bins, strategy=strategy, binning=binning, labels=labels,
        sample_weight=sample_weight, groups=groups, classwise=True, want_scores=True,
        want_entropy=True, row_entropy=soft, eps=eps, n_threads=n_threads,
    )
    overall, per_group = stats.compute_all()

    def block(m, code, n_rows):
        pearson = m.pop("entropy_pearson")
        if chunked:
            m["entropy_pearson"] = pearson
        m["n_samples"] = int(n_rows)
        if soft:
            ht, hp, w = stats.rows.of_group(code)
            m["entropy_correlation"] = _weighted_spearman(ht, hp, w) if ht.shape[0] else float("nan")
        else:
            m["entropy_correlation"] = float("nan")
        return m

    overall = block(overall, None, stats.n_samples)
    groups_out = {}
    if groups is not None:
        for m, code, label, n_rows in zip(per_group, stats.group_codes, stats.group_labels,
                                          stats.group_rows):
            key = label.item() if hasattr(label, "item") else label
            groups_out[key] = block(m, code, n_rows)
    return CalibrationReport(overall, groups_out)
