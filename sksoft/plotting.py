"""Reliability diagrams (matplotlib, imported when something is drawn).

:class:`ReliabilityDisplay` is the diagram in scikit-learn's Display style (like
``sklearn.calibration.CalibrationDisplay``): ``from_predictions`` / ``from_estimator``
compute a curve, ``plot`` draws it. It draws any of sksoft's reliability curves -- binned
(:func:`~sksoft.metrics.reliability_curve`, with its interval band when computed with
``n_bootstrap > 0``), CORP / isotonic (with its consistency band) or kernel-smoothed -- over the
diagonal of perfect calibration, with a histogram of how many predictions fall where under it
(a diagram without counts hides that most bins may hold a handful of rows).
:func:`plot_reliability_diagram` draws a curve already computed.
"""

import numpy as np

from ._optional import import_optional
from ._validation import Options, check_scalar
from .metrics import (
    IsotonicReliabilityCurve,
    ReliabilityCurve,
    SmoothReliabilityCurve,
    reliability_curve,
    smooth_reliability_curve,
)

__all__ = ["ReliabilityDisplay", "plot_reliability_diagram"]

_STRATEGIES = ("uniform", "quantile", "isotonic", "smooth")


def _axes(ax, counts):
    plt = import_optional("matplotlib.pyplot", extra="plot", purpose="sksoft.plotting")
    if ax is None:
        fig, (ax, hist) = plt.subplots(2, 1, figsize=(4, 4.8), sharex=True,
                                       gridspec_kw={"height_ratios": [4, 1], "hspace": 0.05})
        return ax, hist if counts else (hist.remove() or None)
    if not counts:
        return ax, None
    hist = ax.inset_axes([0.0, -0.32, 1.0, 0.22], sharex=ax)
    return ax, hist


def _check_curve(curve):
    if not isinstance(curve, (ReliabilityCurve, IsotonicReliabilityCurve,
                              SmoothReliabilityCurve)):
        raise TypeError("curve must be a ReliabilityCurve, IsotonicReliabilityCurve or "
                        f"SmoothReliabilityCurve; got {type(curve).__name__}.")
    if np.ndim(curve.accuracy) != 1:
        raise ValueError("plot one curve at a time: for classwise curves, pass each class's "
                         "(e.g. a row of a classwise ReliabilityCurve rebuilt, or one of the "
                         "tuple of isotonic / smooth curves).")


class ReliabilityDisplay:
    """Reliability diagram: a curve with its band, over a histogram of the predictions.

    The Display of scikit-learn's visualization API (compare
    ``sklearn.calibration.CalibrationDisplay``, which draws binary binned curves only): build
    it with :meth:`from_predictions` or :meth:`from_estimator`, which compute the curve and
    draw it, or from a curve already computed, then call :meth:`plot`. Top-label curves of
    multiclass predictions, soft targets, bands and the isotonic (CORP) and smooth curves are
    all drawn.

    Parameters
    ----------
    curve : ReliabilityCurve, IsotonicReliabilityCurve or SmoothReliabilityCurve
        One top-label (or binary) curve: from :func:`~sksoft.metrics.reliability_curve`
        (with ``n_bootstrap > 0`` the interval band of every bin's accuracy),
        ``reliability_curve(strategy="isotonic")`` /
        :func:`~sksoft.metrics.isotonic_reliability_curve` (the consistency band of a
        calibrated predictor) or :func:`~sksoft.metrics.smooth_reliability_curve`.
    name : str, optional
        Label of the curve in a legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The curve.
    ax_ : matplotlib Axes
        The diagram's axes.
    hist_ax_ : matplotlib Axes or None
        The histogram's axes (None without ``counts``).
    figure_ : matplotlib Figure

    See Also
    --------
    sksoft.metrics.reliability_curve : The binned curve.
    sksoft.metrics.isotonic_reliability_curve : The CORP curve.
    sksoft.metrics.smooth_reliability_curve : The kernel-smoothed curve.
    sklearn.calibration.CalibrationDisplay : scikit-learn's binary reliability diagram.

    References
    ----------
    .. [1] T. Dimitriadis, T. Gneiting and A. I. Jordan, "Stable reliability diagrams for
       probabilistic classifiers", PNAS 118(8), 2021.
    .. [2] J. Błasiok and P. Nakkiran, "Smooth ECE: Principled reliability diagrams via kernel
       smoothing", 2023.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sksoft.plotting import ReliabilityDisplay
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet(np.ones(3), size=500); y = rng.integers(0, 3, size=500)
    >>> disp = ReliabilityDisplay.from_predictions(y, p, n_bins=10, n_bootstrap=100)
    >>> [float(v) for v in disp.ax_.get_xlim()], disp.hist_ax_ is not None
    ([0.0, 1.0], True)
    """

    def __init__(self, curve, *, name=None):
        self.curve = curve
        self.name = name

    def plot(self, *, ax=None, counts=True, name=None, color=None):
        """Draw the curve with its band, the diagonal and (``counts``) the histogram.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw here (the histogram goes into an inset below it); default: a new figure
            with the diagram over a histogram.
        counts : bool, default=True
            Draw the histogram of predictions (bin weights, weights per distinct
            prediction, or the smoothed density).
        name : str, optional
            Label of the curve in a legend (default: the display's ``name``).
        color : optional
            Of the curve (any matplotlib color).

        Returns
        -------
        self
        """
        check_scalar(name, "name", [None, str])
        check_scalar(self.name, "name", [None, str])
        return self._plot(ax, counts, self.name if name is None else name, color)

    def _plot(self, ax, counts, label, color):
        check_scalar(counts, "counts", "boolean")
        _check_curve(self.curve)
        ax, hist = _axes(ax, counts)
        ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", zorder=1)
        draw = {ReliabilityCurve: _binned, IsotonicReliabilityCurve: _isotonic,
                SmoothReliabilityCurve: _smooth}[type(self.curve)]
        self.line_ = draw(ax, hist, self.curve, label, color)
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(0.0, 1.0)
        ax.set_ylabel("observed frequency")
        (hist if hist is not None else ax).set_xlabel("predicted probability")
        if hist is not None:
            hist.set_ylabel("count", fontsize=8)
            hist.tick_params(labelsize=7)
        if label is not None:
            ax.legend(loc="upper left", fontsize=8)
        self.ax_, self.hist_ax_, self.figure_ = ax, hist, ax.figure
        return self

    @classmethod
    def from_predictions(cls, y_true, y_prob, *, strategy="uniform", n_bins=15, labels=None,
                         sample_weight=None, n_bootstrap=0, confidence=0.95,
                         random_state=None, name=None, ax=None, counts=True, color=None):
        """Compute the top-label reliability curve of ``y_prob`` and draw it.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
            Hard labels or label distributions.
        y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
            Predicted probabilities.
        strategy : {"uniform", "quantile", "isotonic", "smooth"}, default="uniform"
            Binned curves (equal-width or equal-mass bins), the CORP curve, or the
            kernel-smoothed curve.
        n_bins : int, default=15
            Bins of the binned curves.
        labels, sample_weight
            As in :func:`~sksoft.metrics.reliability_curve`.
        n_bootstrap : int, default=0
            With ``B > 0`` the band: per-bin intervals, or the isotonic curve's consistency
            band from ``B`` redraws (not for ``"smooth"``).
        confidence : float, default=0.95
            Level of the band.
        random_state : int, RandomState or Generator, optional
            Seeds the band's replicates.
        name, ax, counts, color
            As in :meth:`plot`.

        Returns
        -------
        ReliabilityDisplay
        """
        check_scalar(strategy, "strategy", Options(_STRATEGIES))
        if strategy == "smooth":
            if n_bootstrap:
                raise ValueError("strategy='smooth' has no band: leave n_bootstrap at 0.")
            curve = smooth_reliability_curve(y_true, y_prob, labels=labels,
                                             sample_weight=sample_weight)
        else:
            curve = reliability_curve(
                y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels,
                sample_weight=sample_weight, n_bootstrap=n_bootstrap, confidence=confidence,
                random_state=random_state)
        return cls(curve, name=name).plot(ax=ax, counts=counts, color=color)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, strategy="uniform", n_bins=15,
                       sample_weight=None, n_bootstrap=0, confidence=0.95, random_state=None,
                       name=None, ax=None, counts=True, color=None):
        """The reliability diagram of a fitted classifier's ``predict_proba(X)`` against ``y``.

        Hard labels in ``y`` are matched to the columns through the estimator's ``classes_``.
        The other parameters are those of :meth:`from_predictions`; ``name`` defaults to
        the estimator's class name.

        Returns
        -------
        ReliabilityDisplay
        """
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(f"estimator must be a fitted classifier with predict_proba; got "
                            f"{type(estimator).__name__}.")
        y_prob = estimator.predict_proba(X)
        classes = getattr(estimator, "classes_", None)
        labels = classes if classes is not None and np.ndim(y) == 1 else None
        return cls.from_predictions(
            y, y_prob, strategy=strategy, n_bins=n_bins, labels=labels,
            sample_weight=sample_weight, n_bootstrap=n_bootstrap, confidence=confidence,
            random_state=random_state,
            name=type(estimator).__name__ if name is None else name, ax=ax, counts=counts,
            color=color)


def plot_reliability_diagram(curve, *, ax=None, counts=True, label=None, color=None):
    """Draw a reliability curve with its band and, under it, a histogram of the counts.

    The function form of :meth:`ReliabilityDisplay.plot`.

    Parameters
    ----------
    curve : ReliabilityCurve, IsotonicReliabilityCurve or SmoothReliabilityCurve
        From :func:`~sksoft.metrics.reliability_curve` (top-label; ``n_bootstrap > 0`` adds
        the interval band of every bin's accuracy), ``reliability_curve(strategy="isotonic")``
        / :func:`~sksoft.metrics.isotonic_reliability_curve` (the consistency band of a
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

    See Also
    --------
    ReliabilityDisplay : The same as a Display, with ``from_predictions`` and
        ``from_estimator``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sksoft.metrics import reliability_curve
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet(np.ones(3), size=500); y = rng.integers(0, 3, size=500)
    >>> curve = reliability_curve(y, p, n_bins=10, n_bootstrap=200)
    >>> ax, hist = plot_reliability_diagram(curve)
    >>> [float(v) for v in ax.get_xlim()], hist is not None
    ([0.0, 1.0], True)
    """
    disp = ReliabilityDisplay(curve)._plot(ax, counts, label, color)
    return disp.ax_, disp.hist_ax_


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
    return line


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
    return line


def _smooth(ax, hist, curve, label, color):
    line = ax.plot(curve.x, curve.accuracy, color=color, label=label, zorder=3)[0]
    if hist is not None:
        hist.fill_between(curve.x, curve.density, color=line.get_color(), alpha=0.4, lw=0)
    return line
