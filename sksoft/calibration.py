"""Post-hoc recalibration, fitted to gold labels or to human label distributions.

Four maps from predicted probabilities ``P`` to recalibrated ones, each an estimator and a pair
of functions (fit the parameters on held-out predictions, apply them to new ones):

* :class:`TemperatureScaling` -- ``softmax(log P / T)``; :func:`fit_temperature`,
  :func:`apply_temperature`.
* :class:`VectorScaling` -- ``softmax(s * log P + b)``; :func:`fit_vector_scaling`,
  :func:`apply_vector_scaling`.
* :class:`DirichletCalibration` -- ``softmax(W log P + b)``; :func:`fit_dirichlet_calibration`,
  :func:`apply_dirichlet_calibration`.
* :class:`IsotonicCalibration` -- an increasing map per class, renormalised;
  :func:`fit_isotonic_calibration`, :func:`apply_isotonic_calibration`.

The parametric maps minimise the weighted mean (soft) cross-entropy to the targets -- one-hot
rows for gold labels, label distributions for human soft labels; the isotonic map is the
weighted isotonic least-squares fit of each class's target probability, which is also the
cross-entropy minimiser among increasing maps. The estimators share one mechanism:

* ``estimator="passthrough"``: ``X`` *is* the (n, K) probability matrix (post-processing of
  saved ``predict_proba`` outputs); ``fit`` learns the map on all of it.
* ``cv="prefit"``: ``estimator`` is already fitted; ``fit`` learns the map on the
  (held-out) data it gets.
* ``cv`` an int, splitter or iterable of splits: out-of-fold probabilities of ``estimator``
  (:func:`~sksoft.model_selection.cross_val_predict_proba`) fit the map, and the estimator is
  refitted on all the data -- as scikit-learn's ``CalibratedClassifierCV(ensemble=False)``.

``calibrate_to="human"`` fits the map to the ``soft_labels`` passed to ``fit`` (routed as
metadata under scikit-learn's metadata routing) instead of to ``y``; ``soft_labels`` and
``annotations`` are also passed on to the wrapped estimator's ``fit``, whose ``label_source``
may use them.
"""

import inspect
import numbers
import warnings

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.metadata_routing import (
    UNUSED,
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _calibration_maps as _maps
from ._base import SoftClassifierMixin
from ._calibration_maps import log_probs as _log_probs
from ._targets import check_probability_matrix, check_targets, validate_rows
from ._validation import (
    HasMethods,
    Interval,
    Options,
    ValidatedParamsMixin,
    check_scalar,
    check_sample_weight,
    validate_params,
)
from .linear_model import SoftLogisticRegression
from .model_selection import cross_val_predict_proba

__all__ = [
    "TemperatureScaling",
    "VectorScaling",
    "DirichletCalibration",
    "IsotonicCalibration",
    "fit_temperature",
    "apply_temperature",
    "fit_vector_scaling",
    "apply_vector_scaling",
    "fit_dirichlet_calibration",
    "apply_dirichlet_calibration",
    "fit_isotonic_calibration",
    "apply_isotonic_calibration",
]


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
    return _maps.apply_temperature(proba, temperature)


# --------------------------------------------------------------------------- constraints
class _CVSplits:
    """A splitter (``split`` and ``get_n_splits``) or an iterable of (train, test) splits."""

    def is_type(self, value):
        return value in self

    def __contains__(self, value):
        if hasattr(value, "split") and hasattr(value, "get_n_splits"):
            return True
        return hasattr(value, "__iter__") and not isinstance(value, (str, bytes, dict))

    def __str__(self):
        return "a cross-validation splitter or an iterable of (train, test) splits"


class _Bounds:
    """A pair ``(low, high)`` with ``0 < low < high < inf``."""

    def is_type(self, value):
        return isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)

    def __contains__(self, value):
        return self.is_type(value) and 0 < value[0] < value[1] < np.inf

    def __str__(self):
        return "a pair (low, high) with 0 < low < high < inf"


_REAL_NONNEG = Interval(numbers.Real, 0, None, closed="left")
_MAX_ITER = Interval(numbers.Integral, 1, None, closed="left")
_TOL = Interval(numbers.Real, 0, None, closed="neither")


# --------------------------------------------------------------------------- shared input check
def _check_calibration_data(y_true, y_prob, sample_weight, labels, name="y_true"):
    """(P, Y, w): float64 probabilities, dense targets, weights normalised to sum 1.

    Never modifies or returns the caller's arrays for writing (the kernels do not write).
    """
    P = check_probability_matrix(y_prob, name="y_prob")
    validate_rows(P, "y_prob")
    P = np.asarray(P, dtype=np.float64)
    n, K = P.shape
    if K < 2:
        raise ValueError(f"y_prob must have at least 2 columns (classes); got {K}.")
    t = check_targets(y_true, classes=labels, n_classes=K, name=name, classes_name="labels")
    if t.n_samples != n:
        raise ValueError(f"{name} has {t.n_samples} samples but y_prob has {n}.")
    Y = t.dense(np.float64)
    w = check_sample_weight(sample_weight, n)
    w = np.full(n, 1.0 / n) if w is None else w / w.sum()
    return P, Y, w


def _check_proba(proba, n_classes, name="proba"):
    P = check_probability_matrix(proba, name=name, n_classes=n_classes)
    validate_rows(P, name)
    return np.asarray(P, dtype=np.float64)


# --------------------------------------------------------------------------- functions
def fit_temperature(y_true, y_prob, *, sample_weight=None, labels=None, bounds=(0.05, 20.0)):
    """Temperature minimising the (soft) cross-entropy of ``softmax(log(y_prob) / T)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes ``0..K-1`` unless ``labels`` names the columns), or label
        distributions (e.g. human soft labels, to calibrate a model *to human uncertainty*).
    y_prob : array-like of shape (n_samples, n_classes)
        Held-out predicted probabilities.
    sample_weight : array-like of shape (n_samples,), optional
    labels : array-like of shape (n_classes,), optional
        The class of each column of ``y_prob``.
    bounds : (float, float)
        Search interval for ``T`` (searched on a log scale).

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
    validate_params({"bounds": bounds}, {"bounds": [_Bounds()]})
    P, Y, w = _check_calibration_data(y_true, y_prob, sample_weight, labels)
    return _maps.fit_temperature(_log_probs(P), Y, w, float(bounds[0]), float(bounds[1]))


def fit_vector_scaling(y_true, y_prob, *, sample_weight=None, labels=None, max_iter=1000,
                       tol=1e-8):
    """Per-class scale and bias of ``softmax(scale * log(y_prob) + bias)`` (vector scaling).

    Minimises the weighted mean (soft) cross-entropy to ``y_true`` with L-BFGS, starting from
    the identity map (``scale = 1``, ``bias = 0``). Guo et al. (2017) define vector scaling on
    logits; a model that only returns probabilities determines its logits up to a per-row
    constant, and ``log(y_prob)`` is the representative used here (as netcal and probmetrics
    do). With two classes the map has three free parameters (``scale`` and
    ``bias[1] - bias[0]``), the family of beta calibration.

    Parameters
    ----------
    y_true, y_prob, sample_weight, labels
        As in :func:`fit_temperature`.
    max_iter : int, default=1000
        L-BFGS iterations (a ``ConvergenceWarning`` if reached).
    tol : float, default=1e-8
        Gradient tolerance (largest absolute component).

    Returns
    -------
    scale : ndarray of shape (n_classes,)
    bias : ndarray of shape (n_classes,)
        Centred (mean 0): only differences between biases matter.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet([0.3, 0.3, 0.3], size=2000)
    >>> y = np.array([rng.choice(3, p=0.6 * r + 0.4 / 3) for r in p])
    >>> scale, bias = fit_vector_scaling(y, p)
    >>> bool(np.all(scale < 1))                    # over-confident: every class is softened
    True
    >>> apply_vector_scaling(p[:2], scale, bias).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """
    validate_params({"max_iter": max_iter, "tol": tol}, {"max_iter": [_MAX_ITER], "tol": [_TOL]})
    P, Y, w = _check_calibration_data(y_true, y_prob, sample_weight, labels)
    return _maps.fit_vector_scaling(_log_probs(P), Y, w, int(max_iter), float(tol))[:2]


def apply_vector_scaling(proba, scale, bias):
    """``softmax(scale * log(proba) + bias)`` for parameters from :func:`fit_vector_scaling`.

    Examples
    --------
    >>> import numpy as np
    >>> apply_vector_scaling(np.array([[0.8, 0.2]]), [0.5, 0.5], [0.0, 0.0]).round(3).tolist()
    [[0.667, 0.333]]
    """
    P = _check_proba(proba, None)
    K = P.shape[1]
    scale, bias = _check_vector("scale", scale, K), _check_vector("bias", bias, K)
    return _maps.apply_vector_scaling(_log_probs(P), scale, bias)


def fit_dirichlet_calibration(y_true, y_prob, *, sample_weight=None, labels=None,
                              reg_lambda=1e-3, reg_mu=1e-3, penalty="odir", max_iter=1000,
                              tol=1e-8):
    """Matrix and intercept of ``softmax(coef @ log(p) + intercept)`` (Dirichlet calibration).

    Kull et al. (2019): a linear layer on log-probabilities, fitted by minimising the weighted
    mean (soft) cross-entropy plus a penalty, with L-BFGS from the identity map:

    * ``penalty="odir"`` (off-diagonal and intercept regularisation):
      ``reg_lambda / (K (K - 1)) * sum_{i != j} coef_ij^2 + reg_mu / K * sum_j intercept_j^2``
      -- the diagonal is free, so a large ``reg_lambda`` gives vector scaling;
    * ``penalty="l2"``: ``reg_lambda / K^2 * sum_ij coef_ij^2 + reg_mu / K * sum_j
      intercept_j^2`` -- multinomial logistic regression on ``log(p)``.

    Unlike the reference implementation (``dirichletcal``), no row of ``coef`` is fixed as a
    reference: with ``reg_lambda = 0`` and ``reg_mu = 0`` the parameters are identified only up
    to adding a vector to every row of ``coef`` and a constant to ``intercept``, the
    probabilities are.

    Parameters
    ----------
    y_true, y_prob, sample_weight, labels
        As in :func:`fit_temperature`.
    reg_lambda : float, default=1e-3
    reg_mu : float, default=1e-3
    penalty : {"odir", "l2"}, default="odir"
    max_iter : int, default=1000
    tol : float, default=1e-8

    Returns
    -------
    coef : ndarray of shape (n_classes, n_classes)
    intercept : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet([0.3, 0.3, 0.3], size=2000)
    >>> y = np.array([rng.choice(3, p=0.6 * r + 0.4 / 3) for r in p])
    >>> coef, intercept = fit_dirichlet_calibration(y, p)
    >>> coef.shape, intercept.shape
    ((3, 3), (3,))
    >>> apply_dirichlet_calibration(p[:2], coef, intercept).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """
    validate_params(
        {"reg_lambda": reg_lambda, "reg_mu": reg_mu, "penalty": penalty, "max_iter": max_iter,
         "tol": tol},
        {"reg_lambda": [_REAL_NONNEG], "reg_mu": [_REAL_NONNEG],
         "penalty": [Options({"odir", "l2"})], "max_iter": [_MAX_ITER], "tol": [_TOL]})
    P, Y, w = _check_calibration_data(y_true, y_prob, sample_weight, labels)
    return _maps.fit_dirichlet(_log_probs(P), Y, w, float(reg_lambda), float(reg_mu), penalty,
                               int(max_iter), float(tol))[:2]


def apply_dirichlet_calibration(proba, coef, intercept):
    """``softmax(log(proba) @ coef.T + intercept)`` for parameters from
    :func:`fit_dirichlet_calibration`.

    Examples
    --------
    >>> import numpy as np
    >>> apply_dirichlet_calibration(np.array([[0.8, 0.2]]), np.eye(2), [0.0, np.log(4)]).tolist()
    [[0.5, 0.5]]
    """
    P = _check_proba(proba, None)
    K = P.shape[1]
    coef = _as_real("coef", coef)
    if coef.ndim != 2 or coef.shape != (K, K):
        raise ValueError(f"coef must have shape ({K}, {K}); got {coef.shape}.")
    if not np.all(np.isfinite(coef)):
        raise ValueError("coef contains NaN or infinity.")
    intercept = _check_vector("intercept", intercept, K)
    return _maps.apply_dirichlet(_log_probs(P), coef, intercept)


def fit_isotonic_calibration(y_true, y_prob, *, sample_weight=None, labels=None):
    """Isotonic maps of each class's probability to its target probability.

    One map for two classes (of the positive class's probability; the other is its
    complement), one per class otherwise (one-vs-rest). Each is the weighted least-squares
    increasing fit of the class's target probability (1/0 for gold labels, the human
    probability for soft labels) on the class's predicted probability, interpolated linearly
    between its thresholds and constant beyond them -- scikit-learn's
    ``IsotonicRegression(out_of_bounds="clip")``. Samples of weight 0 are ignored.

    Returns
    -------
    thresholds : list of (x, y) pairs of 1-D arrays
        One pair per map: increasing unique predicted probabilities and their fitted values.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8]])
    >>> [(x.tolist(), y.tolist()) for x, y in fit_isotonic_calibration([0, 1, 0, 1], p)]
    [([0.1, 0.2, 0.7, 0.8], [0.0, 0.5, 0.5, 1.0])]
    """
    P, Y, w = _check_calibration_data(y_true, y_prob, sample_weight, labels)
    return _maps.fit_isotonic(P, Y, w)


def apply_isotonic_calibration(proba, thresholds):
    """Apply maps from :func:`fit_isotonic_calibration`; rows are renormalised (a row whose
    maps all give 0 becomes uniform).

    Examples
    --------
    >>> import numpy as np
    >>> th = [(np.array([0.0, 1.0]), np.array([0.2, 0.6]))]       # two classes: one map
    >>> apply_isotonic_calibration(np.array([[0.5, 0.5]]), th).tolist()
    [[0.6, 0.4]]
    """
    P = _check_proba(proba, None)
    K = P.shape[1]
    n_maps = 1 if K == 2 else K
    if not isinstance(thresholds, (list, tuple)):
        raise TypeError(f"thresholds must be a list of (x, y) pairs; got "
                        f"{type(thresholds).__name__}.")
    if len(thresholds) != n_maps:
        raise ValueError(f"thresholds must be a list of {n_maps} (x, y) pairs for {K} classes.")
    clean = []
    for pair in thresholds:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError("thresholds must hold (x, y) pairs.")
        x, y = _as_real("thresholds", pair[0]), _as_real("thresholds", pair[1])
        if x.ndim != 1 or x.shape != y.shape or x.size == 0 or np.any(np.diff(x) <= 0):
            raise ValueError("thresholds must hold pairs of equally long 1-D arrays with "
                             "strictly increasing x.")
        clean.append((x, y))
    return _maps.apply_isotonic(P, clean)


def _as_real(name, v):
    """A float64 array of real numbers (TypeError for anything else)."""
    a = np.asarray(v)
    if a.dtype.kind not in "iufb":
        raise TypeError(f"{name} must hold real numbers; got dtype {a.dtype}.")
    return a.astype(np.float64)


def _check_vector(name, v, K):
    v = _as_real(name, v)
    if v.ndim != 1 or (K is not None and v.shape[0] != K):
        raise ValueError(f"{name} must have shape ({K},); got {v.shape}.")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return v


# --------------------------------------------------------------------------- the estimators
def _accepted_fit_params(estimator):
    """Names of ``estimator.fit``'s parameters, or None when it takes ``**kwargs``."""
    params = inspect.signature(estimator.fit).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return set(params)


class _BaseRecalibrator(SoftClassifierMixin, ValidatedParamsMixin, MetaEstimatorMixin,
                        ClassifierMixin, BaseEstimator):
    """The cv / prefit / passthrough machinery shared by the recalibrators.

    Subclasses declare ``_parameter_constraints`` as the shared ones plus their own, and
    implement ``_fit_map(P, Y, w)`` (set the fitted map's attributes from float64
    probabilities, dense targets and weights summing to 1) and ``_apply_map(P)``.
    """

    # soft_labels is consumed (calibrate_to="human") and routed on; annotations is only
    # routed on to the wrapped estimator, which requests it itself if it uses it.
    __metadata_request__fit = {"soft_labels": True, "annotations": UNUSED,
                               "item_index": UNUSED}

    _shared_constraints = {
        "estimator": [None, Options({"passthrough"}), HasMethods(("fit", "predict_proba"))],
        "cv": [Interval(numbers.Integral, 2, None, closed="left"), Options({"prefit"}),
               _CVSplits()],
        "calibrate_to": [Options({"y", "human"})],
        "classes": ["array-like", None],
    }

    @property
    def _passthrough(self):
        return isinstance(self.estimator, str) and self.estimator == "passthrough"

    def _get_estimator(self):
        if self.estimator is not None:
            return self.estimator
        est = SoftLogisticRegression()
        if get_config().get("enable_metadata_routing", False):
            est.set_fit_request(sample_weight=True)
        return est

    def get_metadata_routing(self):
        """Metadata routing: ``soft_labels`` for the calibrator, fit metadata for the estimator.

        Returns
        -------
        MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        if not self._passthrough:
            router.add(estimator=self._get_estimator(),
                       method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        return router

    def _inner_fit_params(self, sample_weight, soft_labels, annotations, item_index=None):
        given = {k: v for k, v in (("sample_weight", sample_weight), ("soft_labels", soft_labels),
                                   ("annotations", annotations), ("item_index", item_index))
                 if v is not None}
        if get_config().get("enable_metadata_routing", False):
            return dict(process_routing(self, "fit", **given).estimator.fit)
        accepted = _accepted_fit_params(self._get_estimator())
        out = {}
        for key, value in given.items():
            if accepted is None or key in accepted:
                out[key] = value
            elif key == "sample_weight":
                warnings.warn(
                    f"{type(self._get_estimator()).__name__}.fit does not accept sample_weight: "
                    "the weights only fit the calibration map.", UserWarning, stacklevel=3)
            elif key in ("annotations", "item_index"):
                raise TypeError(f"{key} was passed to {type(self).__name__}.fit but "
                                f"{type(self._get_estimator()).__name__}.fit does not accept it.")
        return out

    def _check_X_proba(self, X, reset):
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32])
        if X.shape[1] < 2:
            raise ValueError("With estimator='passthrough', X is the (n_samples, n_classes) "
                             f"probability matrix and needs at least 2 columns; got {X.shape[1]}.")
        try:
            validate_rows(X, "X")
        except ValueError as exc:
            raise ValueError(f"{exc} With estimator='passthrough', X is the (n_samples, "
                             "n_classes) matrix of predicted probabilities.") from None
        return np.asarray(X, dtype=np.float64)

    def fit(self, X, y, sample_weight=None, soft_labels=None, annotations=None,
            item_index=None):
        """Fit the estimator (unless prefit or passthrough) and the calibration map.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input of the estimator; with ``estimator="passthrough"`` the (n_samples, n_classes)
            predicted probabilities.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Gold labels or soft targets: the estimator's training target and, with
            ``calibrate_to="y"``, the calibration target.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the calibration map's loss, also passed to the estimator's ``fit``.
        soft_labels : array-like of shape (n_samples, n_classes), optional
            Human label distributions: the calibration target with ``calibrate_to="human"``,
            and passed to the estimator's ``fit`` (for its ``label_source``).
        annotations : array-like of shape (n_samples, n_annotators), optional
            Raw votes, passed to the estimator's ``fit`` only.
        item_index : array-like of int, shape (n_samples,), optional
            Positions of the rows among all the items, passed to the estimator's ``fit`` only
            (for :class:`~sksoft.label_sources.ExternalSoftLabels`).

        Returns
        -------
        self
        """
        self._validate_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None.")
        y = np.asarray(y)
        # validated once, before any fit (the estimator and the folds get the checked copy)
        sample_weight = check_sample_weight(sample_weight, y.shape[0] if y.ndim else 0)
        if self._passthrough or self.cv == "prefit":
            for key, value in (("annotations", annotations), ("item_index", item_index)):
                if value is not None:
                    raise TypeError(
                        f"{key} is only passed on to the estimator's fit, which "
                        f"{'estimator=' if self._passthrough else 'cv='}"
                        f"{'passthrough' if self._passthrough else 'prefit'!r} does not call.")
        if self._passthrough:
            P = self._check_X_proba(X, reset=True)
            K = P.shape[1]
            if self.classes is None:
                classes_ = np.arange(K)
            else:
                classes_ = np.asarray(self.classes)
                if classes_.ndim != 1 or classes_.shape[0] != K:
                    raise ValueError(f"classes has {classes_.size} entries but X has {K} "
                                     "columns (classes).")
                if np.unique(classes_).shape[0] != K:
                    raise ValueError("classes must not contain duplicates.")
        else:
            if self.classes is not None:
                raise ValueError("classes is only used with estimator='passthrough'; otherwise "
                                 "the estimator's classes_ name the columns.")
            if self.cv == "prefit":
                if self.estimator is None:
                    raise ValueError("cv='prefit' needs a fitted estimator; got estimator=None.")
                check_is_fitted(self.estimator)
                est = self.estimator
                proba = est.predict_proba(X)
            else:
                params = self._inner_fit_params(sample_weight, soft_labels, annotations,
                                                item_index)
                est, proba, rows = self._fit_estimator(X, y, params)
                if rows is not None:  # the map is fitted on these rows only
                    y = y[rows]
                    soft_labels = None if soft_labels is None else np.asarray(soft_labels)[rows]
                    sample_weight = None if sample_weight is None else sample_weight[rows]
            self.estimator_ = est
            classes_ = np.asarray(est.classes_)
            P = _check_proba(proba, classes_.shape[0], name="the estimator's predict_proba")
            for attr in ("n_features_in_", "feature_names_in_"):
                if hasattr(est, attr):
                    setattr(self, attr, getattr(est, attr))
        Y = self._calibration_targets(y, soft_labels, classes_, P.shape)
        n = P.shape[0]
        w = np.full(n, 1.0 / n) if sample_weight is None else sample_weight / sample_weight.sum()
        self.classes_ = classes_
        self._fit_map(P, Y, w)
        return self

    def _fit_estimator(self, X, y, params):
        """(fitted estimator, probabilities of the map's rows, those rows or None for all):
        out-of-fold probabilities of ``cv`` and the estimator refitted on all rows."""
        base = self._get_estimator()
        # fitted first so that the out-of-fold columns follow its classes_
        est = clone(base).fit(X, y, **params)
        proba = cross_val_predict_proba(base, X, y, cv=self.cv, params=params,
                                        classes=est.classes_)
        return est, proba, None

    def _calibration_targets(self, y, soft_labels, classes_, shape, human=None):
        n, K = shape
        if human is None:
            human = self.calibrate_to == "human"
        if human:
            if soft_labels is None:
                raise ValueError("calibrate_to='human' fits the map to soft_labels: pass the "
                                 "human label distributions, soft_labels of shape "
                                 "(n_samples, n_classes), to fit.")
            t = check_targets(soft_labels, classes=classes_, n_classes=K, name="soft_labels")
            if not t.soft:
                raise ValueError("soft_labels must be an (n_samples, n_classes) matrix of label "
                                 f"distributions; got shape {np.shape(soft_labels)}.")
            name = "soft_labels"
        else:
            codes = self._passthrough and self.classes is None  # the column-code rule
            try:
                t = check_targets(y, classes=None if codes else classes_, n_classes=K, name="y",
                                  column_warning=self._passthrough)
            except ValueError as exc:
                if codes and "column codes" in str(exc):
                    raise ValueError(f"{exc} With estimator='passthrough', set classes=[...] to "
                                     "name the columns of X.") from None
                raise
            name = "y"
        if t.n_samples != n:
            raise ValueError(f"{name} has {t.n_samples} samples but X has {n}.")
        return t.dense(np.float64)

    def predict_proba(self, X):
        """Recalibrated probabilities.

        Parameters
        ----------
        X : array-like
            Input of the estimator; with ``estimator="passthrough"`` the predicted probabilities.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        if self._passthrough:
            P = self._check_X_proba(X, reset=False)
        else:
            P = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        return self._apply_map(P)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X goes to the estimator as it is (sliced per fold by sksoft._indexing.take_rows,
        # which keeps a sparse X sparse): sparse when the estimator takes it; with
        # "passthrough" X is the dense probability matrix
        sparse = False
        if not self._passthrough:
            try:
                sparse = bool(get_tags(self._get_estimator()).input_tags.sparse)
            except (AttributeError, TypeError):  # an invalid estimator (rejected in fit)
                sparse = False
        tags.input_tags.sparse = sparse
        return tags


_SHARED_PARAMS_DOC = """estimator : classifier, "passthrough" or None, default=None
        The classifier to recalibrate (it needs ``predict_proba``); None:
        :class:`~sksoft.linear_model.SoftLogisticRegression`. ``"passthrough"``: ``X`` is the
        (n_samples, n_classes) matrix of predicted probabilities (``cv`` is unused).
    cv : int, splitter, iterable of splits or "prefit", default=5
        ``"prefit"``: ``estimator`` is already fitted and ``fit`` only learns the map on the
        data it gets (held-out data). Otherwise out-of-fold probabilities fit the map (an int
        is a :class:`~sksoft.model_selection.SoftStratifiedKFold`; for group splits pass
        ``list(GroupKFold().split(X, y, groups))``) and the estimator is refitted on all data.
    calibrate_to : {"y", "human"}, default="y"
        The calibration target: ``y`` (gold labels, or a soft ``y``), or the ``soft_labels``
        passed to ``fit`` (human label distributions).
    classes : array-like of shape (n_classes,), optional
        With ``estimator="passthrough"`` only: the class of each column of ``X`` (hard ``y``
        then holds these labels); default ``arange(n_classes)``, hard ``y`` holding column
        codes."""


class TemperatureScaling(_BaseRecalibrator):
    __doc__ = """Probabilities rescaled by one temperature: ``softmax(log P / T)``.

    The temperature minimises the weighted mean cross-entropy of held-out predictions to the
    calibration targets -- gold labels, or human label distributions (``calibrate_to="human"``)
    to calibrate a model *to human uncertainty*. Usable as the last step of a Pipeline.

    Parameters
    ----------
    {shared}
    bounds : (float, float), default=(0.05, 20.0)
        Search interval for ``T``.

    Attributes
    ----------
    estimator_ : fitted classifier
        Absent with ``estimator="passthrough"``.
    temperature_ : float
        > 1 softens over-confident predictions, < 1 sharpens.
    classes_ : ndarray
    n_features_in_ : int

    See Also
    --------
    fit_temperature, apply_temperature : the same map as functions.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.calibration import TemperatureScaling
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> ts = TemperatureScaling(cv=3).fit(X, y)
    >>> bool(0.05 < ts.temperature_ < 20)
    True

    Post-processing saved probabilities, calibrated to human soft labels:

    >>> P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.95, 0.05]])
    >>> H = np.array([[0.6, 0.4], [0.4, 0.6], [0.5, 0.5], [0.7, 0.3]])
    >>> ts = TemperatureScaling("passthrough", calibrate_to="human").fit(P, [0, 1, 0, 0],
    ...                                                                  soft_labels=H)
    >>> round(ts.temperature_, 2)
    3.98
    """.format(shared=_SHARED_PARAMS_DOC)

    _parameter_constraints = {**_BaseRecalibrator._shared_constraints, "bounds": [_Bounds()]}

    def __init__(self, estimator=None, *, cv=5, calibrate_to="y", classes=None,
                 bounds=(0.05, 20.0)):
        self.estimator = estimator
        self.cv = cv
        self.calibrate_to = calibrate_to
        self.classes = classes
        self.bounds = bounds

    def _fit_map(self, P, Y, w):
        lo, hi = self.bounds
        self.temperature_ = _maps.fit_temperature(_log_probs(P), Y, w, float(lo), float(hi))

    def _apply_map(self, P):
        return apply_temperature(P, self.temperature_)


class VectorScaling(_BaseRecalibrator):
    __doc__ = """Per-class scale and bias on log-probabilities: ``softmax(s * log P + b)``.

    Vector scaling (Guo et al. 2017), fitted like :class:`TemperatureScaling` to gold labels
    or to human label distributions; see :func:`fit_vector_scaling` for the objective.

    Parameters
    ----------
    {shared}
    max_iter : int, default=1000
        L-BFGS iterations.
    tol : float, default=1e-8
        Gradient tolerance.

    Attributes
    ----------
    estimator_ : fitted classifier
        Absent with ``estimator="passthrough"``.
    scale_ : ndarray of shape (n_classes,)
    bias_ : ndarray of shape (n_classes,)
        Centred (mean 0).
    n_iter_ : int
        L-BFGS iterations run.
    classes_ : ndarray
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.calibration import VectorScaling
    >>> rng = np.random.default_rng(0)
    >>> P = rng.dirichlet([0.3, 0.3, 0.3], size=2000)
    >>> y = np.array([rng.choice(3, p=0.6 * r + 0.4 / 3) for r in P])
    >>> vs = VectorScaling("passthrough").fit(P, y)
    >>> P[:1].round(2).tolist(), vs.predict_proba(P[:1]).round(2).tolist()
    ([[0.28, 0.0, 0.72]], [[0.43, 0.04, 0.53]])
    """.format(shared=_SHARED_PARAMS_DOC)

    _parameter_constraints = {**_BaseRecalibrator._shared_constraints, "max_iter": [_MAX_ITER],
                              "tol": [_TOL]}

    def __init__(self, estimator=None, *, cv=5, calibrate_to="y", classes=None, max_iter=1000,
                 tol=1e-8):
        self.estimator = estimator
        self.cv = cv
        self.calibrate_to = calibrate_to
        self.classes = classes
        self.max_iter = max_iter
        self.tol = tol

    def _fit_map(self, P, Y, w):
        self.scale_, self.bias_, self.n_iter_ = _maps.fit_vector_scaling(
            _log_probs(P), Y, w, self.max_iter, self.tol)

    def _apply_map(self, P):
        return _maps.apply_vector_scaling(_log_probs(P), self.scale_, self.bias_)


class DirichletCalibration(_BaseRecalibrator):
    __doc__ = """A linear layer on log-probabilities: ``softmax(W log P + b)`` (Kull et al. 2019).

    Fitted to gold labels or to human label distributions with ODIR (off-diagonal and
    intercept) or plain L2 regularisation; see :func:`fit_dirichlet_calibration` for the
    objective. Tune ``reg_lambda`` / ``reg_mu`` with ``GridSearchCV`` as for any estimator.

    Parameters
    ----------
    {shared}
    reg_lambda : float, default=1e-3
        Weight of the penalty on the matrix (its off-diagonal with ``penalty="odir"``).
    reg_mu : float, default=1e-3
        Weight of the L2 penalty on the intercept.
    penalty : {{"odir", "l2"}}, default="odir"
    max_iter : int, default=1000
    tol : float, default=1e-8

    Attributes
    ----------
    estimator_ : fitted classifier
        Absent with ``estimator="passthrough"``.
    coef_ : ndarray of shape (n_classes, n_classes)
    intercept_ : ndarray of shape (n_classes,)
    n_iter_ : int
        L-BFGS iterations run.
    classes_ : ndarray
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.calibration import DirichletCalibration
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3)); y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    >>> dc = DirichletCalibration(cv=3).fit(X, y)
    >>> dc.coef_.shape, dc.predict_proba(X[:2]).shape
    ((2, 2), (2, 2))
    """.format(shared=_SHARED_PARAMS_DOC)

    _parameter_constraints = {
        **_BaseRecalibrator._shared_constraints,
        "reg_lambda": [_REAL_NONNEG],
        "reg_mu": [_REAL_NONNEG],
        "penalty": [Options({"odir", "l2"})],
        "max_iter": [_MAX_ITER],
        "tol": [_TOL],
    }

    def __init__(self, estimator=None, *, cv=5, calibrate_to="y", classes=None, reg_lambda=1e-3,
                 reg_mu=1e-3, penalty="odir", max_iter=1000, tol=1e-8):
        self.estimator = estimator
        self.cv = cv
        self.calibrate_to = calibrate_to
        self.classes = classes
        self.reg_lambda = reg_lambda
        self.reg_mu = reg_mu
        self.penalty = penalty
        self.max_iter = max_iter
        self.tol = tol

    def _fit_map(self, P, Y, w):
        self.coef_, self.intercept_, self.n_iter_ = _maps.fit_dirichlet(
            _log_probs(P), Y, w, float(self.reg_lambda), float(self.reg_mu), self.penalty,
            self.max_iter, self.tol)

    def _apply_map(self, P):
        return _maps.apply_dirichlet(_log_probs(P), self.coef_, self.intercept_)


class IsotonicCalibration(_BaseRecalibrator):
    __doc__ = """One-vs-rest isotonic maps of each class's probability, renormalised.

    For two classes one map of the positive class's probability; otherwise one per class,
    and the mapped values are divided by their row sum (rows whose maps all give 0 become
    uniform). Each map is the weighted isotonic fit of the class's target probability -- 1/0
    for gold labels, the human probability with ``calibrate_to="human"``; see
    :func:`fit_isotonic_calibration`. Isotonic maps can give probability 0 to a class (beyond
    the data seen); log-losses of such predictions are clipped by :mod:`sksoft.metrics`.

    Parameters
    ----------
    {shared}

    Attributes
    ----------
    estimator_ : fitted classifier
        Absent with ``estimator="passthrough"``.
    X_thresholds_ : list of ndarray
        Per map: the increasing unique probabilities it was fitted on.
    y_thresholds_ : list of ndarray
        Per map: the fitted values at those points.
    classes_ : ndarray
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.calibration import IsotonicCalibration
    >>> P = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8]])
    >>> iso = IsotonicCalibration("passthrough").fit(P, [0, 1, 0, 1])
    >>> iso.predict_proba([[0.25, 0.75]]).round(2).tolist()
    [[0.25, 0.75]]
    """.format(shared=_SHARED_PARAMS_DOC)

    _parameter_constraints = dict(_BaseRecalibrator._shared_constraints)

    def __init__(self, estimator=None, *, cv=5, calibrate_to="y", classes=None):
        self.estimator = estimator
        self.cv = cv
        self.calibrate_to = calibrate_to
        self.classes = classes

    def _fit_map(self, P, Y, w):
        maps = _maps.fit_isotonic(P, Y, w)
        self.X_thresholds_ = [x for x, _ in maps]
        self.y_thresholds_ = [y for _, y in maps]

    def _apply_map(self, P):
        return _maps.apply_isotonic(P, list(zip(self.X_thresholds_, self.y_thresholds_)))
