"""Parameter validation: one mechanism for estimators, label sources and metric functions.

Constraints are declared the way scikit-learn declares them (``_parameter_constraints`` dicts of
lists of constraints), but checked here: ``sklearn.utils._param_validation`` is private and may
change in any release. A value is valid when it satisfies *any* constraint of its list; the error
names the parameter, the value and what was expected. A value of the wrong kind raises
``TypeError``; a value of the right kind outside its range raises ``ValueError``.

Constraints
-----------
* ``Interval(numbers.Real, 0, None, closed="neither")`` -- a real (or integer) number in a range;
  booleans are never numbers here, NaN is never in a range.
* ``Options({"uniform", "quantile"})`` -- one of a set of values.
* ``HasMethods(["fit", "predict_proba"])`` -- an object with these methods (an estimator, a
  splitter).
* ``None``, ``"boolean"``, ``"array-like"``, ``"random_state"``, ``callable``, a type (instance
  check), or ``"no_validation"``.

Examples
--------
>>> import numbers
>>> check_scalar(3, "n_bins", Interval(numbers.Integral, 1, None, closed="left"))
3
>>> check_scalar(0, "n_bins", Interval(numbers.Integral, 1, None, closed="left"))
Traceback (most recent call last):
...
ValueError: n_bins must be an integer in [1, inf); got 0.
"""

import numbers

import numpy as np

__all__ = [
    "MAX_BINS",
    "Interval",
    "Options",
    "HasMethods",
    "check_scalar",
    "check_param",
    "validate_params",
    "ValidatedParamsMixin",
    "check_sample_weight",
    "WEIGHT_RANGE",
]

#: The largest number of bins any metric (or the study) accepts. Beyond it nearly every bin
#: holds at most a few rows at any realistic sample size, and the tables (per class and
#: thread) grow large.
MAX_BINS = 10_000


class Interval:
    """A number of ``kind`` (``numbers.Integral`` or ``numbers.Real``) between ``left`` and
    ``right`` (None: unbounded); ``closed`` in {"left", "right", "both", "neither"}."""

    def __init__(self, kind, left, right, *, closed="both"):
        if kind not in (numbers.Integral, numbers.Real):
            raise ValueError("kind must be numbers.Integral or numbers.Real")
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be left, right, both or neither; got {closed!r}")
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def is_type(self, value):
        t = type(value)
        if t is int or (t is float and self.kind is numbers.Real):  # (fast path)
            return True
        if isinstance(value, (bool, np.bool_)):
            return False
        return isinstance(value, self.kind)

    def __contains__(self, value):
        if not self.is_type(value):
            return False
        if self.kind is numbers.Real and not np.isfinite(float(value)) and not (
                (self.right is None and value == np.inf) or (self.left is None and value == -np.inf)):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed in ("right", "neither")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self):
        what = "an integer" if self.kind is numbers.Integral else "a real number"
        lo = "-inf" if self.left is None else repr(self.left)
        hi = "inf" if self.right is None else repr(self.right)
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{what} in {lb}{lo}, {hi}{rb}"


class Options:
    """One of a fixed set of values (compared with ``==``; strings only by default)."""

    def __init__(self, options, kind=str):
        self.options = tuple(options)
        self.kind = kind

    def is_type(self, value):
        return isinstance(value, self.kind)

    def __contains__(self, value):
        return self.is_type(value) and value in self.options

    def __str__(self):
        return "one of " + ", ".join(repr(o) for o in self.options)


class HasMethods:
    """An object that has every one of ``methods`` (e.g. a classifier: ``fit`` and
    ``predict_proba``; a splitter: ``split``)."""

    def __init__(self, methods):
        self.methods = (methods,) if isinstance(methods, str) else tuple(methods)

    def is_type(self, value):
        return all(callable(getattr(value, m, None)) for m in self.methods)

    def __contains__(self, value):
        return self.is_type(value)

    def __str__(self):
        return "an object with " + " and ".join(f"a {m} method" for m in self.methods)


def _describe(constraint):
    if constraint is None:
        return "None"
    if constraint is callable:
        return "a callable"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__}"
    if isinstance(constraint, str):
        return {"boolean": "a boolean", "array-like": "an array-like",
                "random_state": "None, an int or a numpy RandomState / Generator"}[constraint]
    return str(constraint)


def _satisfies(value, constraint):
    """(type_ok, value_ok) of ``value`` under one constraint."""
    if constraint is None:
        return value is None, value is None
    if constraint is callable:
        return callable(value), callable(value)
    if isinstance(constraint, type):
        ok = isinstance(value, constraint)
        return ok, ok
    if constraint == "boolean":
        ok = isinstance(value, (bool, np.bool_))
        return ok, ok
    if constraint == "array-like":
        ok = hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")
        ok = ok and not isinstance(value, (str, bytes, dict))
        return ok, ok
    if constraint == "random_state":
        ok = value is None or isinstance(value, (np.random.RandomState, np.random.Generator)) or (
            isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)))
        in_range = ok and not (isinstance(value, numbers.Integral) and not 0 <= value < 2**32)
        return ok, in_range
    return constraint.is_type(value), value in constraint


def check_param(value, constraints, name):
    """Raise TypeError / ValueError unless ``value`` satisfies one of ``constraints``."""
    if constraints == "no_validation":
        return value
    if not isinstance(constraints, (list, tuple)):
        constraints = [constraints]
    type_ok = False
    for c in constraints:
        t, v = _satisfies(value, c)
        if v:
            return value
        type_ok = type_ok or t
    expected = " or ".join(_describe(c) for c in constraints)
    exc = ValueError if type_ok else TypeError
    shown = repr(value) if not hasattr(value, "shape") else f"an array of shape {value.shape}"
    raise exc(f"{name} must be {expected}; got {shown}.")


def check_scalar(value, name, constraint):
    """Check one scalar parameter against one or several constraints; return it.

    Numpy scalars are returned as Python numbers.
    """
    if type(value) is bool and constraint == "boolean":
        return value
    if isinstance(constraint, Interval) and value in constraint:  # (the common case, fast)
        return value.item() if isinstance(value, np.generic) else value
    check_param(value, constraint, name)
    if isinstance(value, np.generic):
        return value.item()
    return value


def validate_params(params, constraints, caller=None):
    """Check a dict of parameters against a dict of constraints (unknown names are skipped)."""
    for key, value in params.items():
        if key in constraints:
            check_param(value, constraints[key],
                        key if caller is None else f"The {key!r} parameter of {caller}")


class ValidatedParamsMixin:
    """Gives estimators and label sources ``_validate_params()``, which checks
    ``get_params(deep=False)`` against the class's ``_parameter_constraints``."""

    _parameter_constraints: dict = {}

    def _validate_params(self):
        validate_params(self.get_params(deep=False), self._parameter_constraints,
                        caller=type(self).__name__)


#: metric weights whose largest value lies outside this range are rescaled by a power of two
#: (exactly): their sums, and sums of their squares, then stay finite and normal
WEIGHT_RANGE = (2.0**-256, 2.0**256)


def check_sample_weight(sample_weight, n_samples, name="sample_weight", *, scale_free=False):
    """Validate weights: None, a scalar or a 1-D array of length ``n_samples``.

    Scalars are checked exactly like arrays -- finite, non-negative, not all zero -- and
    broadcast. Returns None or a C-contiguous float64 array (a new array; the input is never
    modified).

    ``scale_free=True`` (the metrics, in which only ratios of weights matter): weights whose
    largest value lies outside :data:`WEIGHT_RANGE` are multiplied by a power of two (exact)
    that brings it into ``[0.5, 1)``, so that their sums cannot overflow (or underflow).
    Otherwise (estimators, where the scale of the weights is that of the loss) weights whose
    sum is not a finite float64 are refused.

    Examples
    --------
    >>> check_sample_weight(2, 3)
    array([2., 2., 2.])
    >>> check_sample_weight(float("nan"), 3)
    Traceback (most recent call last):
    ...
    ValueError: sample_weight contains NaN or infinity.
    >>> check_sample_weight([1e307, 3e307], 2, scale_free=True).tolist()
    [0.22250738585072014, 0.6675221575521604]
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be numeric; got dtype {w.dtype}.")
    if w.ndim == 0:
        w = np.full(n_samples, w, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},); got {w.shape}.")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if w.size and w.min() < 0:
        raise ValueError(f"{name} must be non-negative; got a minimum of {w.min()!r}.")
    if not np.any(w > 0):
        raise ValueError(f"{name} sums to zero: at least one sample needs a positive weight.")
    top = float(w.max())
    if scale_free:
        if not WEIGHT_RANGE[0] <= top <= WEIGHT_RANGE[1]:
            w = np.ldexp(w, -np.frexp(top)[1])
    elif not np.isfinite(w.sum()):
        raise ValueError(f"{name} sums to more than the largest float64 ({top:g} at most "
                         "per sample); rescale the weights.")
    return w
