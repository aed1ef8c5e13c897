"""The floor of binned calibration errors: what a perfectly calibrated model scores."""

import numbers

import numpy as np

from .._targets import check_probability_matrix, validate_rows
from .._validation import Interval, check_sample_weight, check_scalar
from ._binning import equal_mass_edges
from ._formulas import calibration_errors
from ._validation import check_choice, check_n_bins

__all__ = ["expected_calibration_error_floor"]

_NORMS = ("l1", "l2", "max")
#: simulated outcomes held in memory at once (simulations x rows)
_BLOCK = 2**22


def expected_calibration_error_floor(y_prob, *, n_bins=15, strategy="uniform", norm="l1",
                                     sample_weight=None, n_simulations=200,
                                     random_state=None):
    """The expected binned calibration error of a perfectly calibrated model with these
    confidences: the floor that :func:`expected_calibration_error` of ``y_prob`` is read
    against.

    Binned ECE is biased upward: the noise of a bin's mean accuracy adds to its gap, so a
    perfectly calibrated model scores well above 0 on finite data (about 0.03 at 2,000 items
    and 15 bins for a ten-class model at 50% accuracy). This function draws ``n_simulations``
    sets of outcomes from the model itself -- row ``i`` correct with probability equal to its
    confidence ``max_k y_prob[i, k]``, which is what calibration means -- keeps the
    confidences, the weights and the bins (for ``strategy="quantile"`` the equal-mass edges
    of these confidences), and averages the error over the simulations. An observed ECE close
    to its floor is no evidence of miscalibration; no bootstrap interval of binned ECE covers
    the calibrated value 0 (see :func:`calibration_report`, "Intervals").

    Parameters
    ----------
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (rows summing to 1), or positive-class probabilities.
    n_bins, strategy, norm, sample_weight
        As in :func:`expected_calibration_error` (hard-label outcomes; for soft targets the
        floor is lower, by their noise).
    n_simulations : int, default=200
        Simulated outcome sets (>= 1); the standard error of the floor is about its spread
        over simulations divided by ``sqrt(n_simulations)``.
    random_state : int, RandomState or Generator, optional

    Returns
    -------
    float

    See Also
    --------
    expected_calibration_error : the error the floor belongs to.

    References
    ----------
    Bröcker, J. & Smith, L. A. (2007). Increasing the reliability of reliability diagrams.
    Weather and Forecasting 22(3), 651-661 (consistency resampling).

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import expected_calibration_error
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet(np.ones(10) * 0.3, size=2000)
    >>> y = (rng.random(2000)[:, None] > p.cumsum(1)).sum(1).clip(0, 9)  # calibrated
    >>> ece = expected_calibration_error(y, p)
    >>> floor = expected_calibration_error_floor(p, random_state=0)
    >>> 0.01 < floor < 0.04, abs(ece - floor) < 0.015
    (True, True)
    """
    prob = check_probability_matrix(y_prob, name="y_prob", allow_1d=True)
    validate_rows(prob, "y_prob")
    n = prob.shape[0]
    if n == 0:
        raise ValueError("y_prob has no rows.")
    n_bins = check_n_bins(n_bins)
    check_choice(strategy, "strategy", ("uniform", "quantile"))
    check_choice(norm, "norm", _NORMS)
    S = check_scalar(n_simulations, "n_simulations",
                     Interval(numbers.Integral, 1, 100_000, closed="both"))
    check_scalar(random_state, "random_state", "random_state")
    weight = check_sample_weight(sample_weight, n, scale_free=True)
    conf = prob.max(axis=1).astype(np.float64)
    w = np.ones(n) if weight is None else weight
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = equal_mass_edges(conf, n_bins, weight)
    nb = edges.shape[0] - 1
    b = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, nb - 1)
    hist = np.zeros((S, nb, 3))
    hist[:, :, 0] = np.bincount(b, weights=w, minlength=nb)
    hist[:, :, 1] = np.bincount(b, weights=w * conf, minlength=nb)
    if isinstance(random_state, np.random.RandomState):
        random_state = random_state.randint(0, 2**31 - 1)
    rng = random_state if isinstance(random_state, np.random.Generator) else \
        np.random.default_rng(random_state)
    step = max(1, _BLOCK // n)
    for s0 in range(0, S, step):
        s1 = min(S, s0 + step)
        correct = rng.random((s1 - s0, n)) < conf
        # per simulation and bin: the weight of the correct rows
        flat = (np.arange(s1 - s0)[:, None] * nb + b[None]).ravel()
        hist[s0:s1, :, 2] = np.bincount(flat, weights=(correct * w).ravel(),
                                        minlength=(s1 - s0) * nb).reshape(s1 - s0, nb)
    return float(calibration_errors(hist, (norm,))[norm].mean())
