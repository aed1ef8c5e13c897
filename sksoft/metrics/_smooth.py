"""Smooth calibration error (smooth ECE) and the kernel-smoothed reliability curve.

Definitions (Błasiok & Nakkiran, "Smooth ECE: Principled Reliability Diagrams via Kernel
Smoothing", ICLR 2024, arXiv:2309.12236). For binary events -- predictions ``p_i`` in [0, 1],
target masses ``t_i`` in [0, 1], weights ``w_i`` -- and a bandwidth ``sigma``::

    smECE_sigma = (1 / sum_i w_i) * integral_0^1 | sum_i w_i (t_i - p_i) K_sigma(x, p_i) | dx

with the reflected Gaussian kernel ``K_sigma(x, p) = sum_k phi_sigma(x - p - 2k) +
phi_sigma(x + p - 2k)``: the images of ``p`` under the reflections at 0 and 1 (the heat kernel
of [0, 1] with reflecting ends). It integrates to 1 over [0, 1] for every ``p`` -- also for
``p`` exactly 0 or 1, which coincide with their mirror image and are counted twice, so that the
value is continuous in the predictions. The smooth ECE is ``smECE_sigma*`` at the unique fixed
point ``sigma* = smECE_sigma*`` (``smECE_sigma`` does not increase with ``sigma``).

Computation, O(n + G log G): the weighted residuals are binned linearly onto a grid of ``G``
intervals (mass and first moment preserved; one compiled pass over the rows), the grid is
reflected evenly at both ends, and the kernel is applied in Fourier space with the exact
Fourier coefficients of the periodised Gaussian (the reflections to all orders); the integral is
the trapezoidal rule on the grid. The fixed point is bracketed by halving ``sigma`` from 1 and
then found with Brent's method to 1e-10. The grid follows the bandwidth -- the smallest power of
two with at least 32 intervals per ``sigma`` (at least 1024) -- and coarser grids are summed
from the finest one exactly (linear binning composes), so the rows are read once.
"""

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import fft as _fft
from scipy.optimize import brentq

from .._validation import Interval, Options, check_scalar
from ._kernels import events as _ek
from ._events import check_event_inputs

__all__ = [
    "SmoothReliabilityCurve",
    "smooth_calibration_error",
    "smooth_reliability_curve",
]

# Smallest bandwidth of the automatic fixed point (as relplot's ``eps``): below it the grid
# would need to be huge, and a calibration error under 1e-3 is zero for every practical purpose.
MIN_BANDWIDTH = 1e-3
# Smallest bandwidth accepted as a number.
_MIN_FIXED_BANDWIDTH = 1e-4
_MIN_GRID = 1024
_MAX_GRID = 2**19
_NODES_PER_SIGMA = 32
# Class blocks of the classwise pass are kept below this many grid values.
_BLOCK_VALUES = 2**22
# Where the smoothed density is below this fraction of its maximum the curve is undefined (NaN).
_DENSITY_FLOOR = 1e-8


def _grid_for(sigma):
    M = _MIN_GRID
    while M * sigma < _NODES_PER_SIGMA and M < _MAX_GRID:
        M *= 2
    return M


def _coarsen(fine):
    """Linear-binning masses on ``M`` intervals -> the same on ``M / 2`` (exact: every fine
    node is a coarse node or the midpoint of two)."""
    coarse = fine[:, 0::2].copy()
    half = 0.5 * fine[:, 1::2]
    coarse[:, :-1] += half
    coarse[:, 1:] += half
    return coarse


def _multiplier(sigma, M):
    """Fourier multipliers of the reflected Gaussian on the grid of ``M`` intervals: the DFT
    (length ``2 M``) of the sampled period-2 Gaussian, normalised to total mass 1. Only the
    frequencies where ``exp`` does not underflow are computed; the aliases (the two nearest
    are kept) matter only on grids with fewer than a few nodes per ``sigma``."""
    c = -0.5 * (np.pi * sigma) ** 2
    lam = np.zeros(M + 1)
    top = min(M + 1, int(np.sqrt(745.0 / -c)) + 2)
    q = np.arange(top, dtype=np.float64)
    lam[:top] = np.exp(c * q * q)
    if sigma * M < 8:
        q = np.arange(M + 1, dtype=np.float64)
        lam += np.exp(c * (q - 2 * M) ** 2) + np.exp(c * (q + 2 * M) ** 2)
        lam /= 1.0 + 2.0 * np.exp(c * (2.0 * M) ** 2)
    return lam


class _Smoother:
    """Grid masses of one event (a stack of rows: residuals, and optionally weights and
    weighted predictions), coarsened and transformed on demand."""

    def __init__(self, masses, total_weight, fixed_grid):
        self._masses = {masses.shape[1] - 1: masses}
        self._spectra = {}
        self._finest = masses.shape[1] - 1
        self._fixed = fixed_grid
        self.total_weight = total_weight
        self._ece = {}

    def grid(self, sigma):
        if self._fixed:
            return self._finest
        return min(_grid_for(sigma), self._finest)

    def _level(self, M):
        if M not in self._masses:
            self._masses[M] = _coarsen(self._level(2 * M))
        return self._masses[M]

    def _spectrum(self, M):
        if M not in self._spectra:
            a = self._level(M)
            ext = np.empty((a.shape[0], 2 * M))
            ext[:, : M + 1] = a
            # a node at 0 or 1 is its own mirror image: it appears once in the periodic
            # extension and must carry its mass twice
            ext[:, 0] *= 2.0
            ext[:, M] *= 2.0
            ext[:, M + 1:] = a[:, M - 1:0:-1]
            self._spectra[M] = _fft.rfft(ext, axis=1)
        return self._spectra[M]

    def smooth(self, sigma):
        """The kernel-smoothed masses on the grid nodes (divide by the grid step for a density)
        and the grid size."""
        M = self.grid(sigma)
        g = _fft.irfft(self._spectrum(M) * _multiplier(sigma, M), n=2 * M, axis=1)
        return g[:, : M + 1], M

    def ece(self, sigma):
        if sigma not in self._ece:
            g = np.abs(self.smooth(sigma)[0][0])
            self._ece[sigma] = float((g.sum() - 0.5 * (g[0] + g[-1])) / self.total_weight)
        return self._ece[sigma]

    def fixed_point(self):
        """The bandwidth ``sigma* = smECE_sigma*`` (at least MIN_BANDWIDTH)."""
        def gap(s):
            return self.ece(s) - s

        hi = 1.0
        if gap(hi) >= 0:  # every residual is +-1 with one sign: smECE_sigma = 1 for all sigma
            return hi
        lo = 0.5
        while True:
            if lo <= MIN_BANDWIDTH:
                lo = MIN_BANDWIDTH
                if gap(lo) <= 0:
                    return lo
                break
            if gap(lo) >= 0:
                break
            hi, lo = lo, 0.5 * lo
        return brentq(gap, lo, hi, xtol=1e-10, rtol=1e-12)


def _check_bandwidth(bandwidth):
    if isinstance(bandwidth, str):
        return check_scalar(bandwidth, "bandwidth", [Options(("auto",))])
    return float(check_scalar(
        bandwidth, "bandwidth",
        [Options(("auto",)), Interval(numbers.Real, _MIN_FIXED_BANDWIDTH, None, closed="left")]))


def _event_masses(inputs, M, curve):
    """Yield ``(masses, total_weight)`` per event: masses of shape (1 or 3, M + 1)."""
    n_rows = 3 if curve else 1
    W = inputs.total_weight
    classes = inputs.event_classes()
    blocks = [(0, 1)] if classes is None else []
    if classes is not None:
        step = max(1, _BLOCK_VALUES // (n_rows * (M + 1) * inputs.n_threads))
        k0, k1 = classes[0], classes[-1] + 1
        blocks = [(k, min(k + step, k1)) for k in range(k0, k1, step)]
    first = True
    for k0, k1 in blocks:
        C = k1 - k0
        res = np.zeros((C, M + 1))
        wm = np.zeros((C, M + 1) if curve else (C, 0))
        pm = np.zeros((C, M + 1) if curve else (C, 0))
        bad, what = _ek.smooth_masses(
            inputs.prob, inputs.soft, inputs.codes, inputs.weight,
            inputs.event(None if classes is None else k0, first), res, wm, pm, inputs.n_threads)
        if bad >= 0:
            inputs.raise_bad_row(bad, what)
        first = False
        for c in range(C):
            rows = [res[c]] if not curve else [res[c], wm[c], pm[c]]
            yield np.vstack(rows), W


def _prepare(y_true, y_prob, bandwidth, mode, labels, sample_weight, n_grid, n_threads):
    bandwidth = _check_bandwidth(bandwidth)
    if n_grid is not None:
        n_grid = check_scalar(n_grid, "n_grid", Interval(numbers.Integral, 16, _MAX_GRID))
    inputs = check_event_inputs(y_true, y_prob, mode=mode, labels=labels,
                                sample_weight=sample_weight, n_threads=n_threads)
    if n_grid is not None:
        M = int(n_grid)
    else:
        M = _grid_for(MIN_BANDWIDTH if bandwidth == "auto" else bandwidth)
    return inputs, bandwidth, M


def smooth_calibration_error(y_true, y_prob, *, bandwidth="auto", mode=None, labels=None,
                             sample_weight=None, n_grid=None, n_threads=None):
    """Smooth expected calibration error (smooth ECE) of Błasiok & Nakkiran (2023).

    The calibration error of a kernel regression instead of a histogram: the weighted residuals
    ``t - p`` are smoothed over the predictions with a Gaussian kernel reflected at 0 and 1,
    and the absolute smoothed residual is integrated over [0, 1]. With ``bandwidth="auto"`` the
    bandwidth is the fixed point ``sigma = smECE_sigma``, which makes the estimator consistent
    without any binning choice (see :mod:`sksoft.metrics._smooth` for the formulas).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes of ``y_prob`` unless ``labels`` is given) or a soft-label
        matrix (rows summing to 1). The target of an event is its probability under ``y_true``.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, or 1-D positive-class probabilities of a binary problem.
        Float32 and float64 are used as they are.
    bandwidth : "auto" or float, default="auto"
        ``"auto"``: the fixed point (at least ``1e-3``; as ``relplot.smECE``); a number >= 1e-4:
        ``smECE_sigma`` at that bandwidth.
    mode : {"top-label", "classwise", "binary"}, optional
        The events (default: ``"binary"`` for 1-D ``y_prob``, ``"top-label"`` otherwise):
        ``"top-label"`` -- confidence ``max_k p_k`` against the target's mass on the predicted
        class (correctness for hard labels); ``"binary"`` -- the second column against ``y ==
        1`` (or ``labels[1]``); ``"classwise"`` -- the mean over classes of each class's
        one-vs-rest smooth ECE, each with its own fixed-point bandwidth.
    labels : array-like of shape (n_classes,), optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights (integer weights act as repetitions, zero weights as removal).
    n_grid : int, optional
        Number of grid intervals for every bandwidth (16 to 2**19). Default: per bandwidth the
        smallest power of two >= max(1024, 32 / sigma), which keeps the grid error below about
        1e-4 of the value; fewer than ``32 / sigma`` intervals lose accuracy.
    n_threads : int, optional
        OpenMP threads of the pass over the rows (None: one thread below 1e6 probability values,
        all cores above; -1: all cores). Each thread fills its own grid; the grids are summed.

    Returns
    -------
    float
        In [0, 1]; 0 for a perfectly calibrated predictor.

    See Also
    --------
    smooth_reliability_curve : the smoothed curve, its density and the bandwidth.

    Notes
    -----
    On hard binary labels this is the quantity ``relplot.smECE`` computes, and with
    ``mode="top-label"`` relplot applied to top-label confidences and correctness: they agree
    within 1e-3 (a few 1e-4 on random problems of 1e3 to 1e6 rows). The differences are
    relplot's: it takes the bandwidth from a bisection grid of step 2**-10 (the upper end of
    the bracket), truncates the kernel to one reflection at each end, and integrates on a
    200-point mesh. One difference is of definition: a prediction of exactly 0 or 1 is its own
    mirror image, and here the reflected kernel counts it twice so that every prediction has
    kernel mass 1 on [0, 1] (the smooth ECE is then continuous in the predictions); relplot's
    grid reflection counts the end nodes once and gives such predictions half the weight --
    which matters for saturated float32 softmax outputs (confidence 1.0).

    Cost: one pass over ``y_prob`` (at most 2**15 + 1 grid values) and a few dozen real FFTs
    of at most 2**16 points for the fixed point (``mode="classwise"``: per class).

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import smooth_calibration_error
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=2000)
    >>> y = (rng.uniform(size=2000) < p ** 2).astype(int)  # P(y = 1 | p) = p**2
    >>> round(smooth_calibration_error(y, p), 3)  # the population value is 1/6
    0.168
    >>> round(smooth_calibration_error(y, p, bandwidth=0.05), 3)
    0.168
    """
    inputs, bandwidth, M = _prepare(y_true, y_prob, bandwidth, mode, labels, sample_weight,
                                    n_grid, n_threads)
    values = []
    for masses, W in _event_masses(inputs, M, curve=False):
        sm = _Smoother(masses, W, fixed_grid=n_grid is not None)
        sigma = sm.fixed_point() if bandwidth == "auto" else bandwidth
        values.append(sm.ece(sigma))
    return float(np.mean(values))


@dataclass(frozen=True)
class SmoothReliabilityCurve:
    """The kernel-smoothed reliability curve of one binary event (see
    :func:`smooth_reliability_curve`).

    Attributes
    ----------
    x : ndarray of shape (n_points,)
        Evaluation points ``linspace(0, 1, n_points)``.
    accuracy : ndarray of shape (n_points,)
        Kernel-smoothed mean target at ``x`` (the curve of the diagram; NaN where the smoothed
        density is below 1e-8 of its maximum, i.e. no prediction within many bandwidths).
    confidence : ndarray of shape (n_points,)
        Kernel-smoothed mean prediction at ``x`` (close to ``x`` where predictions are dense).
    density : ndarray of shape (n_points,)
        Kernel density of the predictions on [0, 1] (reflected kernel, integrates to 1).
    bandwidth : float
        The kernel bandwidth used.
    calibration_error : float
        ``smECE`` at ``bandwidth``: the integral of ``|accuracy - confidence| * density``.
    """

    x: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray
    density: np.ndarray
    bandwidth: float
    calibration_error: float


def smooth_reliability_curve(y_true, y_prob, *, bandwidth="auto", mode=None, labels=None,
                             sample_weight=None, n_grid=None, n_points=201, n_threads=None):
    """Kernel-smoothed reliability diagram data (Błasiok & Nakkiran, 2023).

    Parameters
    ----------
    y_true, y_prob, bandwidth, mode, labels, sample_weight, n_grid, n_threads
        As in :func:`smooth_calibration_error`.
    n_points : int, default=201
        Number of evaluation points in [0, 1] (>= 2).

    Returns
    -------
    SmoothReliabilityCurve, or a tuple of them (one per class) for ``mode="classwise"``
        The curve at the bandwidth of :func:`smooth_calibration_error` (its fixed point with
        ``bandwidth="auto"``); ``calibration_error`` equals that function's value for the event.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import smooth_reliability_curve
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=2000)
    >>> y = (rng.uniform(size=2000) < p ** 2).astype(int)
    >>> curve = smooth_reliability_curve(y, p, n_points=5)
    >>> curve.x.tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> round(curve.bandwidth, 3)
    0.168
    >>> np.round(curve.accuracy, 2).tolist()  # smoothed with that bandwidth
    [0.03, 0.09, 0.27, 0.57, 0.77]
    """
    n_points = check_scalar(n_points, "n_points", Interval(numbers.Integral, 2, None))
    inputs, bandwidth, M = _prepare(y_true, y_prob, bandwidth, mode, labels, sample_weight,
                                    n_grid, n_threads)
    x = np.linspace(0.0, 1.0, n_points)
    curves = []
    for masses, W in _event_masses(inputs, M, curve=True):
        fixed = n_grid is not None
        search = _Smoother(masses[:1], W, fixed_grid=fixed)
        sigma = search.fixed_point() if bandwidth == "auto" else bandwidth
        g, Mc = _Smoother(masses, W, fixed_grid=fixed).smooth(sigma)
        nodes = np.linspace(0.0, 1.0, Mc + 1)
        res, wsum, psum = (np.interp(x, nodes, row) for row in g)
        defined = wsum > _DENSITY_FLOOR * np.max(g[1])
        safe = np.where(defined, wsum, 1.0)
        curves.append(SmoothReliabilityCurve(
            x=x,
            accuracy=np.where(defined, (res + psum) / safe, np.nan),
            confidence=np.where(defined, psum / safe, np.nan),
            density=np.maximum(wsum, 0.0) * Mc / W,
            bandwidth=float(sigma),
            calibration_error=search.ece(sigma),
        ))
    return tuple(curves) if inputs.mode == "classwise" else curves[0]
