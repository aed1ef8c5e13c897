"""Cross-validation helpers that soft-label targets need."""

import inspect
import numbers

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils import indexable

from ._indexing import num_samples, take_rows
from ._targets import check_targets, prepare_targets
from ._validation import HasMethods, Interval, check_param, check_scalar

__all__ = ["SoftStratifiedKFold", "cross_val_predict_proba"]


def _strata(y, strata):
    """What to stratify on: ``strata``, else the class codes of ``y`` (argmax of soft rows).

    ``y`` goes through the target contract whenever it is given, so the splitter accepts and
    rejects exactly the ``y`` that the estimators' ``fit`` does.
    """
    t = None if y is None else check_targets(y, infer_classes=True)
    if strata is not None:
        return np.asarray(strata)
    return np.argmax(t.proba, axis=1) if t.soft else t.codes


class SoftStratifiedKFold(StratifiedKFold):
    """Stratified K-fold that also works for soft-label matrices.

    Stratifies on ``strata`` when given (e.g. the gold labels, routed as metadata with
    ``set_split_request(strata=True)``), else on the argmax of a soft ``y`` (first class on
    ties), else on ``y`` itself -- exactly :class:`~sklearn.model_selection.StratifiedKFold`.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[.9, .1], [.8, .2], [.3, .7], [.2, .8]])
    >>> [test.tolist() for _, test in SoftStratifiedKFold(n_splits=2).split(np.zeros(4), y)]
    [[0, 2], [1, 3]]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        check_scalar(n_splits, "n_splits", Interval(numbers.Integral, 2, None, closed="left"))
        check_scalar(shuffle, "shuffle", "boolean")
        check_scalar(random_state, "random_state", "random_state")
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X, y=None, groups=None, strata=None):
        """Generate train/test indices, stratified as described above."""
        if y is None and strata is None:
            raise ValueError("SoftStratifiedKFold needs y or strata to stratify on.")
        return super().split(X, _strata(y, strata), groups)


def _default_cv(cv, y):
    if cv is None or isinstance(cv, numbers.Integral):
        return SoftStratifiedKFold(n_splits=5 if cv is None else int(cv))
    return check_cv(cv, y, classifier=True)


def _per_sample(val, n):
    """Whether a fit parameter holds one entry per sample (and so is sliced per fold)."""
    if val is None or isinstance(val, (str, bytes, dict)):
        return False
    try:
        return num_samples(val) == n
    except TypeError:  # scalars, 0-d arrays, objects without a length
        return False


def _slice_params(params, idx, n):
    return {key: take_rows(val, idx) if _per_sample(val, n) else val
            for key, val in (params or {}).items()}


def _check_fit_params(estimator, params):
    """Every key of ``params`` is a parameter of ``estimator.fit`` (unless it takes
    ``**kwargs``) or ``strata``."""
    if not params:
        return
    fit_params = inspect.signature(estimator.fit).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in fit_params.values()):
        return
    unknown = sorted(set(params) - set(fit_params) - {"strata"}, key=str)
    if unknown:
        raise ValueError(f"params has {unknown}, which {type(estimator).__name__}.fit does not "
                         "take.")


def cross_val_predict_proba(estimator, X, y, *, cv=None, params=None, classes=None,
                            n_jobs=None):
    """Out-of-fold ``predict_proba`` for hard or soft ``y``, columns aligned to all classes.

    scikit-learn's ``cross_val_predict(method="predict_proba")`` label-encodes each column of a
    2-D ``y`` and so silently trains on integer codes; this function passes soft targets to the
    estimator unchanged and places each fold's probabilities under the right class even when a
    training fold misses a class (its column is 0 for that fold).

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
    cv : int, cross-validation generator or iterable, optional
        Default: 5-fold :class:`SoftStratifiedKFold`.
    params : dict, optional
        Fit parameters; arrays of length ``n_samples`` (``sample_weight``, ``soft_labels``)
        are sliced to each training fold.
    classes : array-like, optional
        Class labels of the output columns (default: from ``y`` as in the target contract).
    n_jobs : int, optional
        Folds fitted in parallel with joblib (-1: all cores; not 0).

    Returns
    -------
    ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.linear_model import SoftLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); y = rng.dirichlet([1, 1, 1], size=60)
    >>> cross_val_predict_proba(SoftLogisticRegression(), X, y, cv=3).shape
    (60, 3)
    """
    from joblib import Parallel, delayed

    check_param(estimator, HasMethods(["fit", "predict_proba"]), "estimator")
    check_param(cv, [None, Interval(numbers.Integral, 2, None, closed="left"),
                     HasMethods("split"), "array-like"], "cv")
    check_param(params, [None, dict], "params")
    check_param(n_jobs, [None, Interval(numbers.Integral, 1, None, closed="left"),
                         Interval(numbers.Integral, None, -1, closed="right")], "n_jobs")
    _check_fit_params(estimator, params)
    X, y = indexable(X, y)
    _, classes_, _ = prepare_targets(y, classes=classes)
    n = num_samples(X)
    cv = _default_cv(cv, y)
    split_kw = {}
    if params and "strata" in params and isinstance(cv, SoftStratifiedKFold):
        split_kw["strata"] = params["strata"]
    fit_params = {k: v for k, v in (params or {}).items() if k != "strata"}
    splits = list(cv.split(X, y, **split_kw))

    def one(train, test):
        est = clone(estimator)
        est.fit(take_rows(X, train), take_rows(y, train), **_slice_params(fit_params, train, n))
        return test, est.classes_, est.predict_proba(take_rows(X, test))

    results = Parallel(n_jobs=n_jobs)(delayed(one)(tr, te) for tr, te in splits)
    out = np.zeros((n, len(classes_)))
    for test, est_classes, proba in results:
        pos = np.searchsorted(classes_, est_classes) if np.all(classes_[:-1] <= classes_[1:]) \
            else np.array([np.flatnonzero(classes_ == c)[0] for c in est_classes])
        out[np.asarray(test)[:, None], pos[None, :]] = proba
    return out
