"""Reliability diagrams (matplotlib, imported when a function is called).

:func:`plot_reliability_diagram` draws any of sksoft's reliability curves -- binned
(:func:`~sksoft.metrics.reliability_curve`, with its interval band when computed with
``confidence=``), CORP / isotonic (with its consistency band) or kernel-smoothed -- over the
diagonal of perfect calibration, with a histogram of how many predictions fall where under it
(a diagram without counts hides that most bins may hold a handful of rows).
"""

import numpy as np

from ._validation import check_scalar

__all__ = ["plot_reliability_diagram"]


def _axes(ax, counts):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, (ax, hist) = plt.subplots(2, 1, figsize=(4, 4.8), sharex=True,
                                       gridspec_kw={"height_ratios": [4, 1], "hspace": 0.05})
        return ax, hist if counts else (hist.remove() or None)
    if not counts:
        return ax, None
    hist = ax.inset_axes([0.0, -0.32, 1.0, 0.22], sharex=ax)
    return ax, hist


def plot_reliability_diagram(curve, *, ax=None, counts=True, label=None, color=None):
    """Draw a reliability curve with its band and, under it, a histogram of the counts.

    Parameters
    ----------
    curve : ReliabilityCurve, IsotonicReliabilityCurve or SmoothReliabilityCurve
        From :func:`~sksoft.metrics.reliability_curve` (top-label; ``confidence=`` adds the
        interval band of every bin's accuracy), ``reliability_curve(strategy="isotonic")`` /
        :func:`~sksoft.metrics.isotonic_reliability_curve` (the consistency band of a
        calibrated predictor) or :func:`~sksoft.metrics.smooth_reliability_curve`.
    ax : matplotlib Axes, optional
        Draw here (the histogram goes into an inset below it); default: a new figure with the
        diagram over a histogram.
    counts : bool, default=True
        Draw the histogram of predictions (bin weights, weights per distinct prediction, or
        the smoothed density).
    label, color : optional
        Of the curve, for a legend.

    Returns
    -------
    (ax, hist_ax)
        The diagram's axes and the histogram's (None without ``counts``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sksoft.metrics import reliability_curve
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet(np.ones(3), size=500); y = rng.integers(0, 3, size=500)
    >>> ax, hist = plot_reliability_diagram(reliability_curve(y, p, n_bins=10, confidence=0.95))
    >>> [float(v) for v in ax.get_xlim()], hist is not None
    ([0.0, 1.0], True)
    """
    check_scalar(counts, "counts", "boolean")
    kind = type(curve).__name__
    if kind not in ("ReliabilityCurve", "IsotonicReliabilityCurve", "SmoothReliabilityCurve"):
        raise TypeError("curve must be a ReliabilityCurve, IsotonicReliabilityCurve or "
                        f"SmoothReliabilityCurve; got {kind}.")
    if np.ndim(curve.accuracy) != 1:
        raise ValueError("plot one curve at a time: for classwise curves, pass each class's "
                         "(e.g. a row of a classwise ReliabilityCurve rebuilt, or one of the "
                         "tuple of isotonic / smooth curves).")
    ax, hist = _axes(ax, counts)
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", zorder=1)
    if kind == "ReliabilityCurve":
        _binned(ax, hist, curve, label, color)
    elif kind == "IsotonicReliabilityCurve":
        _isotonic(ax, hist, curve, label, color)
    else:
        _smooth(ax, hist, curve, label, color)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("observed frequency")
    (hist if hist is not None else ax).set_xlabel("predicted probability")
    if hist is not None:
        hist.set_ylabel("count", fontsize=8)
        hist.tick_params(labelsize=7)
    return ax, hist


def _binned(ax, hist, curve, label, color):
    ok = curve.count > 0
    x, y = curve.confidence[ok], curve.accuracy[ok]
    line = ax.plot(x, y, marker="o", ms=3, color=color, label=label, zorder=3)[0]
    if curve.accuracy_low is not None:
        ax.fill_between(x, curve.accuracy_low[ok], curve.accuracy_high[ok],
                        color=line.get_color(), alpha=0.2, lw=0, zorder=2)
    if hist is not None:
        edges = np.asarray(curve.edges, dtype=np.float64)
        edges = np.clip(edges, 0, 1)
        hist.bar(edges[:-1], curve.count, width=np.diff(edges), align="edge",
                 color=line.get_color(), alpha=0.6)


def _isotonic(ax, hist, curve, label, color):
    line = ax.step(curve.confidence, curve.accuracy, where="post", color=color, label=label,
                   zorder=3)[0]
    if curve.lower is not None:
        xb = curve.confidence[curve.band_index]
        ax.fill_between(xb, curve.lower, curve.upper, color="0.6", alpha=0.3, lw=0, zorder=2,
                        label="consistency band")
    if hist is not None:
        hist.hist(curve.confidence, bins=40, range=(0, 1), weights=curve.count,
                  color=line.get_color(), alpha=0.6)


def _smooth(ax, hist, curve, label, color):
    line = ax.plot(curve.x, curve.accuracy, color=color, label=label, zorder=3)[0]
    if hist is not None:
        hist.fill_between(curve.x, curve.density, color=line.get_color(), alpha=0.4, lw=0)
