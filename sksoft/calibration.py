"""Post-hoc temperature scaling, fitted to hard labels or to human label distributions."""

import numbers

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._base import SoftClassifierMixin
from ._softmax import apply_temperature  # public here too
from ._targets import check_probability_matrix, encode_labels, prepare_targets, validate_rows
from ._validation import (
    HasMethods,
    Interval,
    Options,
    ValidatedParamsMixin,
    check_sample_weight,
)

__all__ = ["TemperatureScaling", "fit_temperature", "apply_temperature"]

_LOG_EPS = np.log(np.finfo(np.float64).tiny)


def _log_probs(proba):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(np.asarray(proba, dtype=np.float64)), _LOG_EPS)


def _check_bounds(bounds):
    """``(low, high)``: two finite reals with ``0 < low < high``."""
    real = Interval(numbers.Real, None, None)
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2 or not all(
            real.is_type(b) for b in bounds):
        raise TypeError(f"bounds must be a pair of real numbers (low, high); got {bounds!r}.")
    lo, hi = (float(b) for b in bounds)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise ValueError(f"bounds must satisfy 0 < low < high (finite); got {bounds!r}.")
    return lo, hi


def fit_temperature(y_true, y_prob, *, sample_weight=None, labels=None, bounds=(0.05, 20.0)):
    """Temperature minimising the (soft) cross-entropy of ``softmax(log(y_prob) / T)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels, or label distributions (e.g. human soft labels, to calibrate a model
        *to human uncertainty*).
    y_prob : array-like of shape (n_samples, n_classes)
        Held-out predicted probabilities.
    sample_weight : array-like of shape (n_samples,) or float, optional
    labels : array-like, optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
    bounds : (float, float), default=(0.05, 20.0)
        Search interval for ``T`` (searched on a log scale), ``0 < low < high``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet([0.2, 0.2, 0.2], size=500)     # over-confident predictions
    >>> y = np.array([rng.choice(3, p=0.5 * r + 0.5 / 3) for r in p])
    >>> fit_temperature(y, p) > 1
    True
    """
    lo, hi = _check_bounds(bounds)
    P = check_probability_matrix(y_prob, name="y_prob").astype(np.float64)
    validate_rows(P, "y_prob")
    if np.ndim(y_true) == 2:
        Y = check_probability_matrix(y_true, name="y_true").astype(np.float64)
        validate_rows(Y, "y_true")
        if Y.shape != P.shape:
            raise ValueError(f"y_true has shape {Y.shape} but y_prob has {P.shape}.")
    else:
        codes, _ = encode_labels(y_true, labels=labels, n_classes=P.shape[1])
        Y = np.zeros_like(P)
        Y[np.arange(len(codes)), codes] = 1.0
    w = check_sample_weight(sample_weight, P.shape[0])
    w = np.ones(P.shape[0]) if w is None else w
    logp = _log_probs(P)

    def loss(log_t):
        ls = log_softmax(logp / np.exp(log_t), axis=1)
        return -np.sum(w * np.sum(Y * ls, axis=1)) / w.sum()

    res = minimize_scalar(loss, bounds=(np.log(lo), np.log(hi)), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x))


class TemperatureScaling(SoftClassifierMixin, ValidatedParamsMixin, MetaEstimatorMixin,
                         ClassifierMixin, BaseEstimator):
    """Classifier whose probabilities are temperature-scaled after fitting.

    The temperature minimises the cross-entropy of held-out predictions against the targets,
    which may be hard labels or soft ones -- calibrating a model *to human labels*. Usable as
    the last step of a Pipeline.

    Parameters
    ----------
    estimator : classifier, optional
        Default :class:`~sksoft.linear_model.SoftLogisticRegression`.
    cv : int, splitter or "prefit", default=5
        ``"prefit"``: ``estimator`` is already fitted and ``fit`` only learns the temperature
        on the data it gets (held-out data). Otherwise out-of-fold probabilities from
        :func:`~sksoft.model_selection.cross_val_predict_proba` fit the temperature and the
        estimator is refitted on all the data.
    bounds : (float, float), default=(0.05, 20.0)

    Attributes
    ----------
    estimator_ : fitted classifier
    temperature_ : float
        > 1 softens over-confident predictions, < 1 sharpens.
    classes_ : ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.calibration import TemperatureScaling
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> ts = TemperatureScaling(cv=3).fit(X, y)
    >>> bool(0.05 < ts.temperature_ < 20)
    True
    """

    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "predict_proba"])],
        "cv": [Interval(numbers.Integral, 2, None, closed="left"), Options({"prefit"}),
               HasMethods("split"), "array-like"],
        "bounds": "no_validation",  # checked by _check_bounds: a pair of reals
    }

    def __init__(self, estimator=None, *, cv=5, bounds=(0.05, 20.0)):
        self.estimator = estimator
        self.cv = cv
        self.bounds = bounds

    def _base(self):
        if self.estimator is not None:
            return self.estimator
        from .linear_model import SoftLogisticRegression

        return SoftLogisticRegression()

    def fit(self, X, y, sample_weight=None):
        """Fit the estimator (unless prefit) and the temperature."""
        self._validate_params()
        _check_bounds(self.bounds)
        if self.cv == "prefit" and self.estimator is None:
            raise ValueError('cv="prefit" needs a fitted estimator; estimator is None.')
        Y, _, codes = prepare_targets(y)  # validates; ravels an (n, 1) column with a warning
        y = np.asarray(y).ravel() if codes is not None else Y
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)
        if isinstance(self.cv, str):
            est = self.estimator
            check_is_fitted(est)
            proba = est.predict_proba(X)
            self.estimator_ = est
        else:
            from .model_selection import cross_val_predict_proba

            params = {"sample_weight": sample_weight} if sample_weight is not None else None
            proba = cross_val_predict_proba(self._base(), X, y, cv=self.cv, params=params)
            fit_kw = {"sample_weight": sample_weight} if sample_weight is not None else {}
            self.estimator_ = clone(self._base()).fit(X, y, **fit_kw)
        self.classes_ = self.estimator_.classes_
        labels = None if np.ndim(y) == 2 else self.classes_
        self.temperature_ = fit_temperature(y, proba, sample_weight=sample_weight, labels=labels,
                                            bounds=self.bounds)
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def predict_proba(self, X):
        """Temperature-scaled probabilities of the fitted estimator."""
        check_is_fitted(self)
        return apply_temperature(self.estimator_.predict_proba(X), self.temperature_)
