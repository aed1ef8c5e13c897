"""Temperature rescaling of probabilities, shared below the estimators.

:class:`~sksoft.label_sources.TeacherDistillation` (a label source, below nothing but the
estimators it cross-fits) and :mod:`sksoft.calibration` (above the estimators) both temper
probabilities; the helper lives here so that neither imports the other.
"""

import numbers

import numpy as np
from scipy.special import softmax

from ._targets import check_probability_matrix, validate_rows
from ._validation import Interval, check_scalar

__all__ = ["log_probs", "apply_temperature"]

# log of the smallest positive float64: log(0) is clipped here so that a zero probability stays
# the smallest one after tempering instead of becoming NaN
_LOG_TINY = np.log(np.finfo(np.float64).tiny)


def log_probs(proba):
    """``log(proba)`` in float64, with ``log(0)`` clipped to the log of the smallest float."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(np.asarray(proba, dtype=np.float64)), _LOG_TINY)


def apply_temperature(proba, temperature):
    """Rescale probabilities: ``softmax(log(proba) / temperature)``.

    ``proba`` is an (n, K) matrix of probability rows (finite, non-negative, summing to 1);
    ``temperature > 1`` flattens the rows, ``< 1`` sharpens them; ``1`` returns the rows
    renormalised.

    Examples
    --------
    >>> import numpy as np
    >>> apply_temperature(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    temperature = check_scalar(temperature, "temperature",
                               Interval(numbers.Real, 0, None, closed="neither"))
    proba = validate_rows(check_probability_matrix(proba, name="proba"), "proba")
    return softmax(log_probs(proba) / float(temperature), axis=1)
