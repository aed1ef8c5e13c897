"""CORP: isotonic (pool-adjacent-violators) recalibration, score decompositions and reliability
curves with consistency bands.

Dimitriadis, Gneiting & Jordan, "Stable reliability diagrams for probabilistic classifiers",
PNAS 118 (8), 2021 (doi:10.1073/pnas.2016191118). For binary events -- predictions ``p_i``,
target masses ``t_i`` in [0, 1], weights ``w_i`` -- the recalibrated predictions ``r_i`` are
the weighted isotonic (non-decreasing) regression of ``t`` on ``p``, rows with tied ``p``
pooled first (so ``r`` is a function of ``p``). For a proper score ``S``, with ``S(z)`` the
weighted mean of ``S(z_i, t_i)`` and ``tbar`` the weighted mean target::

    MCB = S(p) - S(r) >= 0      miscalibration
    DSC = S(tbar) - S(r) >= 0   discrimination (resolution)
    UNC = S(tbar)               uncertainty
    S(p) = MCB - DSC + UNC

The PAV fit minimises every such score among the non-decreasing functions of ``p`` at once,
which makes both components non-negative (up to rounding) and the decomposition independent of
any binning. Cost: one sort of the predictions (O(n log n)), then linear passes.
"""

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from .._deprecation import renamed_parameters
from .._validation import Interval, Options, check_scalar
from ._kernels import events as _ek
from ._events import check_event_inputs

__all__ = [
    "IsotonicReliabilityCurve",
    "ScoreDecomposition",
    "isotonic_reliability_curve",
    "score_decomposition",
]

_SCORES = ("brier", "log")


def _clip_bounds(eps):
    return (0.0, 1.0) if eps is None else (eps, 1.0 - eps)


def _event_rows(inputs, k, first, eps=None):
    """Predictions (input dtype, clipped to [eps, 1 - eps]) and targets (float64) of the
    top-label event (k None) or of class k one-vs-rest."""
    n = inputs.n_samples
    p = np.empty(n, dtype=inputs.prob.dtype)
    t = np.empty(n, dtype=np.float64)
    bad, what = _ek.events(inputs.prob, inputs.soft, inputs.codes,
                           inputs.event(k, first, _clip_bounds(eps)), p, t, inputs.n_threads)
    if bad >= 0:
        inputs.raise_bad_row(bad, what)
    return p, t


def _fast_path(inputs):
    # 0/1 outcomes and unit weights: sort (prediction bits, outcome) keys -- one value sort,
    # several times faster than an argsort -- and count
    return inputs.hard and inputs.weight.shape[0] == 0


def _sorted_keys(inputs, k, first, eps=None):
    """The sorted keys of :func:`_kernels.events.event_keys` of one event."""
    keys = np.empty(inputs.n_samples,
                    dtype=np.uint32 if inputs.prob.dtype == np.float32 else np.uint64)
    bad, what = _ek.event_keys(inputs.prob, inputs.codes,
                               inputs.event(k, first, _clip_bounds(eps)), keys,
                               inputs.n_threads)
    if bad >= 0:
        inputs.raise_bad_row(bad, what)
    keys.sort()
    return keys


def _argsort(p):
    """Rows in increasing ``p`` (any order within ties: they are pooled)."""
    if p.dtype == np.float32 and p.shape[0] < 2**32:
        # (value bits, row) in one uint64 key: a value sort instead of an argsort
        keys = p.view(np.uint32).astype(np.uint64) << np.uint64(32)
        keys |= np.arange(p.shape[0], dtype=np.uint64)
        keys.sort()
        keys &= np.uint64(0xFFFFFFFF)
        return keys.astype(np.intp)
    return np.argsort(p)


@dataclass(frozen=True)
class _Groups:
    """The rows of one event pooled by tied prediction, in increasing order of it."""

    p: np.ndarray  # distinct predictions (float64)
    W: np.ndarray  # total weight
    T: np.ndarray  # weighted target mass
    order: np.ndarray  # rows in increasing p (None on the fast path)
    gid: np.ndarray  # group of each row of `order` (-1: zero weight), or None


def _groups(inputs, k, first):
    n = inputs.n_samples
    pg, W, T = np.empty(n), np.empty(n), np.empty(n)
    if _fast_path(inputs):
        G = _ek.groups_from_keys(_sorted_keys(inputs, k, first), pg, W, T)
        return _Groups(pg[:G], W[:G], T[:G], None, None)
    p, t = _event_rows(inputs, k, first)
    order = _argsort(p)
    gid = np.empty(n, dtype=np.intp)
    G = _ek.groups_from_order(p, t, inputs.weight, order, pg, W, T, gid)
    return _Groups(pg[:G], W[:G], T[:G], order, gid)


def _pav(W, T):
    r = np.empty(W.shape[0])
    _ek.pav(W, T, r)
    return r


@dataclass(frozen=True)
class ScoreDecomposition:
    """CORP decomposition of a mean score: ``score = mcb - dsc + unc``.

    Attributes
    ----------
    score : float
        Mean score of the predictions (lower is better).
    mcb : float
        Miscalibration: score minus the score of the PAV-recalibrated predictions (>= 0).
    dsc : float
        Discrimination: score of the constant mean target minus that of the recalibrated
        predictions (>= 0).
    unc : float
        Uncertainty: the score of the constant mean target.
    per_class : tuple of ScoreDecomposition, or None
        ``mode="classwise"``: each class's one-vs-rest decomposition (the fields above are their
        means); otherwise None.
    """

    score: float
    mcb: float
    dsc: float
    unc: float
    per_class: tuple = None


def _decompose_event(inputs, k, first, log_score, eps):
    if _fast_path(inputs):
        sums = _ek.corp_keys(_sorted_keys(inputs, k, first, eps), log_score)
    else:
        p, t = _event_rows(inputs, k, first, eps)
        sums = _ek.corp_rows(p, t, inputs.weight, _argsort(p), log_score)
    W, s, _, s_mg, mcb, dsc = sums
    return ScoreDecomposition(score=s / W, mcb=mcb / W, dsc=dsc / W, unc=s_mg / W)


def _check_eps(eps):
    if eps is None:
        return None
    return float(check_scalar(eps, "eps", [None, Interval(numbers.Real, 0, 0.5, closed="neither")]))


def score_decomposition(y_true, y_prob, *, score="brier", mode=None, labels=None,
                        sample_weight=None, eps=None, n_threads=None):
    """CORP decomposition of the Brier or log score into miscalibration, discrimination and
    uncertainty (Dimitriadis, Gneiting & Jordan, 2021).

    The predictions of a binary event are recalibrated by weighted isotonic regression (the
    pool-adjacent-violators algorithm, rows with tied predictions pooled); then ``MCB = S(p) -
    S(recalibrated)``, ``DSC = S(mean target) - S(recalibrated)``, ``UNC = S(mean target)`` and
    ``score = MCB - DSC + UNC`` (up to rounding, ~1e-16). See :mod:`sksoft.metrics._corp`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes of ``y_prob`` unless ``labels`` is given) or soft labels
        (rows summing to 1, e.g. human label distributions); the target of an event is its
        probability under ``y_true``.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, or 1-D positive-class probabilities of a binary problem.
    score : {"brier", "log"}, default="brier"
        ``"brier"``: the squared error ``(p - t)^2`` of the event's probability (for a binary
        problem, scikit-learn's ``brier_score_loss``; half of sksoft's two-class
        :func:`~sksoft.metrics.brier_score_loss`). ``"log"``: the binary cross-entropy
        ``-t log p - (1 - t) log(1 - p)`` (for hard labels the log loss).
    mode : {"top-label", "classwise", "binary"}, optional
        The events (default: ``"binary"`` for 1-D ``y_prob``, ``"top-label"`` otherwise):
        ``"top-label"`` -- confidence against the target's mass on the predicted class
        (correctness for hard labels); ``"binary"`` -- the second column against ``y == 1`` (or
        ``labels[1]``); ``"classwise"`` -- each class one-vs-rest, the components averaged over
        the classes (``K`` times the average Brier components decompose sksoft's multiclass
        ``brier_score_loss``), with the per-class decompositions in ``per_class``.
    labels : array-like of shape (n_classes,), optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights (integer weights act as repetitions, zero weights as removal).
    eps : float in (0, 0.5), optional
        Clip the predictions to ``[eps, 1 - eps]`` before everything (ties created by the
        clipping are pooled). By default nothing is clipped, as in ``model-diagnostics``: a
        probability of 0 (1) on an event with positive target mass (on a non-event) makes the
        log score and ``mcb`` infinite; ``0 * log 0`` is 0.
    n_threads : int, optional
        OpenMP threads of the pass that extracts the events (None: one thread below 1e6
        probability values, all cores above; -1: all cores). The sort and the PAV pass run on
        one thread.

    Returns
    -------
    ScoreDecomposition
        ``score``, ``mcb``, ``dsc``, ``unc`` (and ``per_class`` for ``mode="classwise"``).

    Notes
    -----
    On hard binary labels this equals ``model_diagnostics.scoring.decompose`` with
    ``SquaredError()`` / ``LogLoss()`` (to ~1e-15). With fractional targets ``LogLoss`` is the
    binary KL divergence, which subtracts the targets' mean entropy from ``score`` and ``unc``
    and leaves ``mcb`` and ``dsc`` unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import score_decomposition
    >>> d = score_decomposition([0, 0, 1, 1], np.array([0.1, 0.6, 0.4, 0.9]))
    >>> round(d.score, 4), round(d.mcb, 4), round(d.dsc, 4), round(d.unc, 4)
    (0.185, 0.06, 0.125, 0.25)
    >>> round(d.mcb - d.dsc + d.unc, 12) == round(d.score, 12)
    True
    """
    score = check_scalar(score, "score", Options(_SCORES))
    eps = _check_eps(eps)
    inputs = check_event_inputs(y_true, y_prob, mode=mode, labels=labels,
                                sample_weight=sample_weight, n_threads=n_threads)
    log_score = score == "log"
    classes = inputs.event_classes()
    if classes is None:
        return _decompose_event(inputs, None, True, log_score, eps)
    parts = [_decompose_event(inputs, k, i == 0, log_score, eps)
             for i, k in enumerate(classes)]
    if inputs.mode == "binary":
        return parts[0]
    return ScoreDecomposition(
        score=float(np.mean([d.score for d in parts])),
        mcb=float(np.mean([d.mcb for d in parts])),
        dsc=float(np.mean([d.dsc for d in parts])),
        unc=float(np.mean([d.unc for d in parts])),
        per_class=tuple(parts),
    )


@dataclass(frozen=True)
class IsotonicReliabilityCurve:
    """The CORP reliability curve of one binary event (see :func:`isotonic_reliability_curve`).

    Attributes
    ----------
    confidence : ndarray of shape (m,)
        The distinct predictions with positive weight, increasing (the curve's x).
    accuracy : ndarray of shape (m,)
        The PAV-recalibrated value at each (the curve's y: a non-decreasing step function,
        drawn by linear interpolation between the points in the CORP paper).
    count : ndarray of shape (m,)
        Total weight of the rows at each prediction (their number without weights).
    band_index : ndarray of int, or None
        Indices into ``confidence`` where the consistency band is evaluated: all of them when
        there are at most ``max_band_points`` distinct predictions, else at most that many: the
        distinct predictions nearest below ``max_band_points`` evenly spaced points of their
        range.
    lower, upper : ndarray of float, or None
        The consistency band at ``confidence[band_index]``; None for soft targets or
        ``n_bootstrap=0``.
    """

    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray
    band_index: np.ndarray = None
    lower: np.ndarray = None
    upper: np.ndarray = None


def _band_index(x, max_points):
    m = x.shape[0]
    if m <= max_points:
        return np.arange(m)
    targets = np.linspace(x[0], x[-1], max_points)
    idx = np.searchsorted(x, targets, side="right") - 1
    return np.unique(np.clip(idx, 0, m - 1))


def _consistency_band(groups, weight, n_resamples, confidence, rng, band_index):
    """Pointwise quantiles of the PAV fits of outcomes redrawn as Bernoulli(p) (calibration
    holds by construction), at the band points."""
    fits = np.empty((n_resamples, band_index.shape[0]))
    p = groups.p
    if groups.order is None:
        n = groups.W.astype(np.int64)
        draw_p = np.clip(p, 0.0, 1.0)
    else:
        keep = groups.gid >= 0
        rows = groups.order[keep]
        gid = groups.gid[keep]
        p_rows = np.clip(p[gid], 0.0, 1.0)
        w_rows = weight[rows] if weight.shape[0] else np.ones(rows.shape[0])
    for b in range(n_resamples):
        if groups.order is None:
            T = rng.binomial(n, draw_p).astype(np.float64)
        else:
            hit = rng.random_sample(p_rows.shape[0]) < p_rows
            T = np.bincount(gid, weights=w_rows * hit, minlength=p.shape[0])
        fits[b] = _pav(groups.W, T)[band_index]
    alpha = 1.0 - confidence
    lower, upper = np.quantile(fits, [alpha / 2, 1 - alpha / 2], axis=0)
    return lower, upper


@renamed_parameters(n_resamples="n_bootstrap")
def isotonic_reliability_curve(y_true, y_prob, *, mode=None, labels=None, sample_weight=None,
                               n_bootstrap=100, confidence=0.9, max_band_points=1000,
                               random_state=None, n_threads=None):
    """CORP reliability curve: the PAV-recalibrated predictions, with consistency bands.

    No bins to choose: the curve maps each distinct prediction to its isotonic recalibration
    (Dimitriadis, Gneiting & Jordan, 2021). For hard labels the consistency band shows where
    the curve of a *calibrated* predictor with the same predictions would lie: outcomes are
    redrawn as Bernoulli(p_i) ``n_bootstrap`` times (a parametric bootstrap under
    calibration), each redraw is recalibrated with PAV, and
    the band holds the pointwise ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles.
    (The authors' R package ``reliabilitydiag`` also resamples the predictions with
    replacement; here the predictions and weights are kept, i.e. the band is conditional on
    them.)

    Parameters
    ----------
    y_true, y_prob, mode, labels, sample_weight, n_threads
        As in :func:`score_decomposition`.
    n_bootstrap : int, default=100
        Redraws for the consistency band (0: no band). Called ``n_resamples`` before sksoft
        0.2 (still accepted until 0.3, with a ``FutureWarning``).
    confidence : float in (0, 1), default=0.9
        Coverage of the band (90%, the CORP paper's default, where the other intervals of
        sksoft default to 95%).
    max_band_points : int, default=1000
        Evaluate the band at all distinct predictions when there are at most this many, else at
        no more than this many spread evenly over their range (bounds memory: ``n_bootstrap``
        fits are kept at these points).
    random_state : None, int, numpy RandomState or Generator
        Seed of the redraws.

    Returns
    -------
    IsotonicReliabilityCurve, or a tuple of them (one per class) for ``mode="classwise"``

    Notes
    -----
    Soft targets get the curve without a band (``lower`` and ``upper`` are None): their
    variance given the prediction is not the Bernoulli one, so the redraws would not describe
    them. The curve costs one sort; each redraw one linear pass over the distinct predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import isotonic_reliability_curve
    >>> c = isotonic_reliability_curve([0, 1, 0, 1, 1], np.array([0.2, 0.3, 0.5, 0.5, 0.9]),
    ...                                n_bootstrap=0)
    >>> c.confidence.tolist(), np.round(c.accuracy, 3).tolist(), c.count.tolist()
    ([0.2, 0.3, 0.5, 0.9], [0.0, 0.667, 0.667, 1.0], [1.0, 1.0, 2.0, 1.0])
    """
    n_bootstrap = check_scalar(n_bootstrap, "n_bootstrap",
                               Interval(numbers.Integral, 0, None, closed="left"))
    confidence = check_scalar(confidence, "confidence",
                              Interval(numbers.Real, 0, 1, closed="neither"))
    max_band_points = check_scalar(max_band_points, "max_band_points",
                                   Interval(numbers.Integral, 2, None, closed="left"))
    check_scalar(random_state, "random_state", "random_state")
    inputs = check_event_inputs(y_true, y_prob, mode=mode, labels=labels,
                                sample_weight=sample_weight, n_threads=n_threads)
    if isinstance(random_state, np.random.Generator):
        rng = np.random.RandomState(random_state.integers(2**32, dtype=np.uint64))
    else:
        rng = check_random_state(random_state)
    classes = inputs.event_classes()
    curves = []
    for i, k in enumerate([None] if classes is None else classes):
        groups = _groups(inputs, k, i == 0)
        r = _pav(groups.W, groups.T)
        band_index = lower = upper = None
        if inputs.hard and n_bootstrap > 0:
            band_index = _band_index(groups.p, max_band_points)
            lower, upper = _consistency_band(groups, inputs.weight, n_bootstrap, confidence,
                                             rng, band_index)
        curves.append(IsotonicReliabilityCurve(
            confidence=groups.p, accuracy=r, count=groups.W, band_index=band_index,
            lower=lower, upper=upper))
    return tuple(curves) if inputs.mode == "classwise" else curves[0]
