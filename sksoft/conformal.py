"""Split conformal prediction sets, calibrated to gold labels or to human label distributions.

A conformal classifier turns predicted probabilities into a *set* of classes per item that
contains the true label with probability at least ``1 - alpha`` (marginally, over
exchangeable calibration and test items), whatever the model [1]_. An item whose set has more
than one class is one to route to a person.

Three nonconformity scores (``conformity_score=``): ``"thr"`` (``1 - p_y``, the threshold or
LAC score of Sadinle et al. [2]_), ``"aps"`` (adaptive prediction sets [3]_: the probability mass ranked above
``y`` plus ``p_y``, or ``u * p_y`` with ``randomized=True``) and ``"raps"`` ([4]_: APS plus a penalty
``lambda_reg * max(0, rank - k_reg)`` on low-ranked classes).

Three calibration targets:

* hard (gold) labels -- split conformal prediction;
* the plurality label of the human label distributions;
* the **human label distributions** themselves -- Monte Carlo conformal prediction (Stutz et
  al. 2023 [5]_): ``n_samples`` labels are drawn from every calibration item's distribution and
  the conformal p-values averaged over the draws; with ``correction="ecdf"`` (default) a
  held-out part of the calibration items (``ecdf_fraction``) recalibrates the averaged
  p-values through their empirical distribution, which restores coverage ``>= 1 - alpha``
  of labels drawn from the test items' distributions; without it the guarantee is
  ``1 - 2 alpha`` (``n_samples=1`` without correction is ordinary split conformal
  prediction on one sampled label per item, exactly ``1 - alpha``).

The estimator :class:`ConformalClassifier` wraps a classifier like the recalibrators of
:mod:`sksoft.calibration` (``cv="prefit"``, a calibration split, or ``"passthrough"`` for saved
probabilities); :func:`fit_conformal_threshold` and :func:`apply_conformal_threshold` do the
same on probability matrices for users without an estimator. Coverage and set-size metrics
with bootstrap intervals are in :mod:`sksoft.metrics` (:func:`~sksoft.metrics.coverage_score`,
:func:`~sksoft.metrics.mean_set_size`, :func:`~sksoft.metrics.size_stratified_coverage`).

References
----------
.. [1] Vovk, Gammerman and Shafer, "Algorithmic Learning in a Random World", Springer 2005.
.. [2] Sadinle, Lei and Wasserman, "Least Ambiguous Set-Valued Classifiers with Bounded Error
   Levels", JASA 114 (2019).
.. [3] Romano, Sesia and Candès, "Classification with Valid and Adaptive Coverage", NeurIPS
   2020 (APS).
.. [4] Angelopoulos, Bates, Malik and Jordan, "Uncertainty Sets for Image Classifiers using
   Conformal Prediction", ICLR 2021 (RAPS).
.. [5] Stutz, Roy, Matejovicova, Strachan, Cemgil and Doucet, "Conformal prediction under
   ambiguous ground truth", TMLR 2023 (Monte Carlo conformal prediction).
"""

import numbers

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from . import _conformal as _cp
from ._indexing import num_samples, take_rows
from ._targets import check_probability_matrix, check_targets, one_hot, validate_rows
from ._validation import Interval, Options, check_scalar, validate_params
from .calibration import _SHARED_PARAMS_DOC, _BaseRecalibrator

__all__ = [
    "ConformalClassifier",
    "nonconformity_scores",
    "fit_conformal_threshold",
    "apply_conformal_threshold",
]

_ALPHA = Interval(numbers.Real, 0, 1, closed="neither")
_SCORE = Options(_cp.SCORES)
_K_REG = Interval(numbers.Integral, 0, None, closed="left")
_LAMBDA = Interval(numbers.Real, 0, None, closed="left")
_N_SAMPLES = Interval(numbers.Integral, 1, 10_000, closed="both")
_FRACTION = Interval(numbers.Real, 0, 1, closed="neither")
_CORRECTION = [Options({"ecdf"}), None]

_SCORE_CONSTRAINTS = {"conformity_score": [_SCORE], "randomized": ["boolean"], "k_reg": [_K_REG],
                      "lambda_reg": [_LAMBDA], "random_state": ["random_state"]}
_CALIB_CONSTRAINTS = {"alpha": [_ALPHA], "soft": [Options({"monte_carlo", "plurality"})],
                      "n_samples": [_N_SAMPLES], "correction": _CORRECTION,
                      "ecdf_fraction": [_FRACTION]}

# independent random streams of one random_state
_STREAM_SPLIT, _STREAM_CAL, _STREAM_PREDICT = 1, 2, 3


def _check_proba(y_prob, name="y_prob", n_classes=None):
    P = check_probability_matrix(y_prob, name=name, n_classes=n_classes)
    validate_rows(P, name)
    P = np.asarray(P, dtype=np.float64)
    if P.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 columns (classes); got {P.shape[1]}.")
    return P


def _scores(P, score, randomized, k_reg, lambda_reg, rng):
    u = rng.uniform(size=P.shape[0]) if randomized else None
    return _cp.nonconformity(P, score, u, k_reg, lambda_reg)


class _Calibration:
    """The calibration scores of a conformal predictor; ``threshold(alpha)`` for any level.

    ``pool``: ascending scores of the calibration labels (``n_items * n_samples`` of them
    for Monte Carlo labels); ``ecdf_counts``: the held-out items' counts of the ECDF
    correction, or None.
    """

    def __init__(self, pool, n_items, n_samples, ecdf_counts):
        self.pool, self.n_items, self.n_samples = pool, n_items, n_samples
        self.ecdf_counts = ecdf_counts

    def threshold(self, alpha):
        if self.ecdf_counts is not None:
            return _cp.mc_ecdf_threshold(self.pool, self.ecdf_counts, alpha)
        if self.n_samples == 1:
            return _cp.split_threshold(self.pool, alpha)
        return _cp.mc_threshold(self.pool, self.n_items, self.n_samples, alpha)


def _calibrate(Y, P, *, conformity_score, randomized, k_reg, lambda_reg, soft, n_samples,
               correction, ecdf_fraction, rng):
    """A :class:`_Calibration` from dense targets ``Y`` (one-hot rows: hard labels) and
    probabilities ``P`` (float64, validated)."""
    n = P.shape[0]
    score = conformity_score
    hard = bool(np.all((Y == 0) | (Y == 1)))
    if hard or soft == "plurality":
        codes = np.argmax(Y, axis=1)  # (first class on ties)
        S = _scores(P, score, randomized, k_reg, lambda_reg, rng)
        return _Calibration(np.sort(_cp.label_scores(S, codes)), n, 1, None)
    est = None
    if correction == "ecdf":
        n_est = int(round(ecdf_fraction * n))
        if n_est < 1 or n_est > n - 1:
            raise ValueError(
                f"correction='ecdf' holds out ecdf_fraction={ecdf_fraction} of the {n} "
                "calibration items, which leaves no item on one side; use more items or "
                "another ecdf_fraction.")
        perm = rng.permutation(n)
        est, cal = perm[:n_est], perm[n_est:]
    else:
        cal = np.arange(n)
    m = n_samples
    codes = _cp.sample_labels(Y[cal], m, rng)  # (m, n_cal)
    pool = np.concatenate([
        _cp.label_scores(_scores(P[cal], score, randomized, k_reg, lambda_reg, rng), c)
        for c in codes])
    pool.sort()
    counts = None
    if est is not None:
        e_codes = _cp.sample_labels(Y[est], 1, rng)[0]
        e_scores = _cp.label_scores(_scores(P[est], score, randomized, k_reg, lambda_reg, rng),
                                    e_codes)
        counts = _cp.mc_counts(pool, e_scores)
    return _Calibration(pool, cal.shape[0], m, counts)


def _apply(P, threshold, score, randomized, k_reg, lambda_reg, rng):
    return _scores(P, score, randomized, k_reg, lambda_reg, rng) <= threshold


# --------------------------------------------------------------------------- functions
def nonconformity_scores(y_prob, *, conformity_score="thr", randomized=False, k_reg=1,
                         lambda_reg=0.01, random_state=None):
    """Nonconformity score of every class of every item (higher: less conforming).

    Parameters
    ----------
    y_prob : array-like of shape (n_samples, n_classes)
        Predicted probabilities.
    conformity_score : {"thr", "aps", "raps"}, default="thr"
        ``"thr"``: ``1 - p_k``. ``"aps"``: the total probability of the classes ranked above
        ``k`` (by decreasing probability, ties in column order) plus ``p_k``, or ``u * p_k``
        with ``randomized=True`` (one uniform ``u`` per item). ``"raps"``: the APS score plus
        ``lambda_reg * max(0, rank_k - k_reg)``, ``rank_k = 1`` for the most probable class.
    randomized : bool, default=False
        Randomise the APS / RAPS scores (unused by ``"thr"``).
    k_reg : int, default=1
        RAPS: ranks up to ``k_reg`` are not penalised.
    lambda_reg : float, default=0.01
        RAPS: penalty per rank beyond ``k_reg``.
    random_state : int, RandomState or Generator, optional
        Seeds the uniforms of ``randomized=True``.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.6, 0.3, 0.1]])
    >>> nonconformity_scores(p).round(2).tolist()
    [[0.4, 0.7, 0.9]]
    >>> nonconformity_scores(p, conformity_score="aps").round(2).tolist()
    [[0.6, 0.9, 1.0]]
    >>> nonconformity_scores(p, conformity_score="raps", lambda_reg=0.1).round(2).tolist()
    [[0.6, 1.0, 1.2]]
    """
    validate_params({"conformity_score": conformity_score, "randomized": randomized, "k_reg": k_reg,
                     "lambda_reg": lambda_reg, "random_state": random_state},
                    _SCORE_CONSTRAINTS)
    P = _check_proba(y_prob)
    return _scores(P, conformity_score, randomized, k_reg, float(lambda_reg),
                   _cp.rng_from(random_state, _STREAM_PREDICT))


def fit_conformal_threshold(y_true, y_prob, *, alpha=0.1, conformity_score="thr",
                            soft="monte_carlo", n_samples=10, correction="ecdf",
                            ecdf_fraction=0.5, randomized=False, k_reg=1, lambda_reg=0.01,
                            labels=None, random_state=None):
    """Conformal threshold on the nonconformity scores of held-out predictions.

    The prediction set of a new item is ``{k : score(x, k) <= threshold}``
    (:func:`apply_conformal_threshold`); it contains a new item's label with probability
    ``>= 1 - alpha`` when the calibration items and the new one are exchangeable.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes ``0..K-1`` unless ``labels`` names the columns), or label
        distributions (e.g. human vote fractions; one-hot rows count as hard labels).
    y_prob : array-like of shape (n_samples, n_classes)
        Held-out predicted probabilities of the same items.
    alpha : float, default=0.1
        Miscoverage level in (0, 1). With fewer than ``1 / alpha - 1`` calibration items the
        threshold is infinite (every class in every set).
    conformity_score, randomized, k_reg, lambda_reg
        See :func:`nonconformity_scores`.
    soft : {"monte_carlo", "plurality"}, default="monte_carlo"
        For label distributions: Monte Carlo conformal prediction (the guarantee is for labels
        drawn from the items' distributions), or split conformal prediction on the plurality
        label (the most probable class, the first on ties).
    n_samples : int, default=10
        Monte Carlo: labels drawn from every calibration item's distribution.
    correction : {"ecdf", None}, default="ecdf"
        Monte Carlo: ``"ecdf"`` holds out ``ecdf_fraction`` of the items and maps the
        averaged p-values through their empirical distribution on those items -- coverage
        ``>= 1 - alpha``; None uses all items, coverage ``>= 1 - 2 alpha`` (``1 - alpha``
        exactly with ``n_samples=1``).
    ecdf_fraction : float, default=0.5
        Fraction of the items held out for the ECDF correction.
    labels : array-like of shape (n_classes,), optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
    random_state : int, RandomState or Generator, optional
        Seeds the label draws, the ECDF split and the uniforms of ``randomized=True``.

    Returns
    -------
    float
        +inf when the level cannot be reached with this many items (every set is full).

    See Also
    --------
    ConformalClassifier : the same as a scikit-learn meta-estimator.

    References
    ----------
    .. [1] Stutz et al., "Conformal prediction under ambiguous ground truth", TMLR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet([1.0, 1.0, 1.0], size=500)
    >>> y = np.array([rng.choice(3, p=r) for r in p])          # calibrated predictions
    >>> t = fit_conformal_threshold(y, p, alpha=0.1)
    >>> sets = apply_conformal_threshold(p, t)
    >>> round(float(sets[np.arange(500), y].mean()), 2)        # coverage of the labels
    0.9

    Human label distributions, by Monte Carlo conformal prediction:

    >>> human = 0.5 * p + 0.5 * rng.dirichlet([1.0, 1.0, 1.0], size=500)
    >>> t = fit_conformal_threshold(human, p, alpha=0.1, random_state=0)
    >>> bool(0 < t < 1)
    True
    """
    validate_params({"alpha": alpha, "soft": soft, "n_samples": n_samples,
                     "correction": correction, "ecdf_fraction": ecdf_fraction},
                    _CALIB_CONSTRAINTS)
    validate_params({"conformity_score": conformity_score, "randomized": randomized, "k_reg": k_reg,
                     "lambda_reg": lambda_reg, "random_state": random_state},
                    _SCORE_CONSTRAINTS)
    P = _check_proba(y_prob)
    n, K = P.shape
    t = check_targets(y_true, classes=labels, n_classes=K, name="y_true",
                      classes_name="labels")
    if t.n_samples != n:
        raise ValueError(f"y_true has {t.n_samples} samples but y_prob has {n}.")
    cal = _calibrate(t.dense(np.float64), P, conformity_score=conformity_score,
                     randomized=randomized, k_reg=k_reg, lambda_reg=float(lambda_reg),
                     soft=soft, n_samples=n_samples, correction=correction,
                     ecdf_fraction=ecdf_fraction,
                     rng=_cp.rng_from(random_state, _STREAM_CAL))
    return cal.threshold(float(alpha))


def apply_conformal_threshold(y_prob, threshold, *, conformity_score="thr", randomized=False,
                              k_reg=1, lambda_reg=0.01, random_state=None):
    """Prediction sets ``{k : score(x, k) <= threshold}`` as a boolean (n, K) matrix.

    Parameters
    ----------
    y_prob : array-like of shape (n_samples, n_classes)
    threshold : float
        From :func:`fit_conformal_threshold` (``inf``: every class; ``-inf``: none).
    conformity_score, randomized, k_reg, lambda_reg, random_state
        As in :func:`fit_conformal_threshold` (the same score as the threshold's).

    Returns
    -------
    ndarray of bool, shape (n_samples, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> apply_conformal_threshold(np.array([[0.6, 0.3, 0.1]]), 0.75).tolist()
    [[True, True, False]]
    """
    validate_params({"conformity_score": conformity_score, "randomized": randomized, "k_reg": k_reg,
                     "lambda_reg": lambda_reg, "random_state": random_state},
                    _SCORE_CONSTRAINTS)
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a real number; got {threshold!r}.")
    if np.isnan(threshold):
        raise ValueError("threshold must not be NaN.")
    P = _check_proba(y_prob)
    return _apply(P, float(threshold), conformity_score, randomized, k_reg, float(lambda_reg),
                  _cp.rng_from(random_state, _STREAM_PREDICT))


# --------------------------------------------------------------------------- the estimator
class ConformalClassifier(_BaseRecalibrator):
    __doc__ = """Split conformal prediction sets of a classifier: ``predict_set(X, alpha)``.

    Calibrated on held-out data to gold labels, to the plurality of human labels, or to the
    **human label distributions** by Monte Carlo conformal prediction (Stutz et al. 2023), see
    :mod:`sksoft.conformal`. ``predict_proba`` and ``predict`` are the wrapped estimator's.

    Parameters
    ----------
    estimator : classifier, "passthrough" or None, default=None
        The classifier (it needs ``predict_proba``); None:
        :class:`~sksoft.linear_model.SoftLogisticRegression`. ``"passthrough"``: ``X`` is the
        (n_samples, n_classes) matrix of held-out predicted probabilities.
    cv : {{"split", "prefit"}}, default="split"
        ``"prefit"``: ``estimator`` is already fitted and ``fit`` calibrates on all the
        (held-out) data it gets. ``"split"``: a random ``calibration_size`` part of the data
        calibrates, the estimator is fitted on the rest.
    calibrate_to : {{"y", "plurality", "human"}}, default="y"
        ``"y"``: the labels ``y`` (a soft ``y``: Monte Carlo on its distributions);
        ``"human"``: Monte Carlo on the ``soft_labels`` passed to ``fit`` (else a soft ``y``);
        ``"plurality"``: the most probable class of ``soft_labels`` (else of ``y``).
    classes : array-like of shape (n_classes,), optional
        With ``estimator="passthrough"`` only: the class of each column of ``X``.
    alpha : float, default=0.1
        Default miscoverage level of ``predict_set``.
    conformity_score : {{"thr", "aps", "raps"}}, default="thr"
    randomized : bool, default=False
    k_reg : int, default=1
    lambda_reg : float, default=0.01
        See :func:`nonconformity_scores`.
    n_samples : int, default=10
    correction : {{"ecdf", None}}, default="ecdf"
    ecdf_fraction : float, default=0.5
        Monte Carlo conformal prediction, see :func:`fit_conformal_threshold`.
    calibration_size : float, default=0.3
        With ``cv="split"``: the fraction of the data that calibrates.
    random_state : int, RandomState or Generator, optional
        Seeds the split, the label draws and the uniforms of ``randomized=True`` (an int gives
        the same sets on every call of ``predict_set``).

    Attributes
    ----------
    estimator_ : fitted classifier
        Absent with ``estimator="passthrough"``.
    calibration_scores_ : ndarray
        Ascending nonconformity scores of the calibration labels (Monte Carlo: ``n_samples``
        per item of the items not held out for the ECDF correction).
    threshold_ : float
        The threshold at ``alpha``.
    classes_ : ndarray
    n_features_in_ : int

    Notes
    -----
    ``sample_weight`` is passed to the estimator's ``fit`` (``cv="split"``) and plays no part
    in the calibration: the guarantee is for exchangeable, unweighted items.

    See Also
    --------
    fit_conformal_threshold, apply_conformal_threshold : the same on probability matrices.
    sksoft.metrics.coverage_score, sksoft.metrics.mean_set_size

    References
    ----------
    .. [1] Vovk, Gammerman and Shafer, "Algorithmic Learning in a Random World", 2005.
    .. [2] Romano, Sesia and Candès, "Classification with Valid and Adaptive Coverage",
       NeurIPS 2020.
    .. [3] Angelopoulos, Bates, Malik and Jordan, "Uncertainty Sets for Image Classifiers
       using Conformal Prediction", ICLR 2021.
    .. [4] Stutz et al., "Conformal prediction under ambiguous ground truth", TMLR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.conformal import ConformalClassifier
    >>> from sksoft.metrics import coverage_score, mean_set_size
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2)); y = (X[:, 0] + rng.normal(size=2000) > 0).astype(int)
    >>> cp = ConformalClassifier(alpha=0.1, random_state=0).fit(X[:1000], y[:1000])
    >>> sets = cp.predict_set(X[1000:])
    >>> sets.shape, round(coverage_score(y[1000:], sets), 2), round(mean_set_size(sets), 2)
    ((1000, 2), 0.9, 1.37)
    """

    _parameter_constraints = {
        **_BaseRecalibrator._shared_constraints,
        "cv": [Options({"prefit", "split"})],
        "calibrate_to": [Options({"y", "plurality", "human"})],
        "alpha": [_ALPHA],
        "n_samples": [_N_SAMPLES],
        "correction": _CORRECTION,
        "ecdf_fraction": [_FRACTION],
        "calibration_size": [_FRACTION],
        **_SCORE_CONSTRAINTS,
    }

    def __init__(self, estimator=None, *, cv="split", calibrate_to="y", classes=None, alpha=0.1,
                 conformity_score="thr", randomized=False, k_reg=1, lambda_reg=0.01, n_samples=10,
                 correction="ecdf", ecdf_fraction=0.5, calibration_size=0.3,
                 random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.calibrate_to = calibrate_to
        self.classes = classes
        self.alpha = alpha
        self.conformity_score = conformity_score
        self.randomized = randomized
        self.k_reg = k_reg
        self.lambda_reg = lambda_reg
        self.n_samples = n_samples
        self.correction = correction
        self.ecdf_fraction = ecdf_fraction
        self.calibration_size = calibration_size
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None, soft_labels=None, annotations=None):
        """Fit the estimator (``cv="split"``) and calibrate the sets on held-out data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input of the estimator; with ``estimator="passthrough"`` the (n_samples, n_classes)
            predicted probabilities.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Gold labels or soft targets.
        sample_weight : array-like of shape (n_samples,), optional
            Passed to the estimator's ``fit`` (``cv="split"`` only); not used to calibrate.
        soft_labels : array-like of shape (n_samples, n_classes), optional
            Human label distributions (``calibrate_to="human"`` / ``"plurality"``), also
            passed to the estimator's ``fit``.
        annotations : array-like, optional
            Raw votes, passed to the estimator's ``fit`` only.

        Returns
        -------
        self
        """
        self._validate_params()
        if sample_weight is not None and (self._passthrough or self.cv == "prefit"):
            raise TypeError("sample_weight is only passed to the estimator's fit (cv='split'): "
                            "the conformal calibration is unweighted.")
        return super().fit(X, y, sample_weight=sample_weight, soft_labels=soft_labels,
                           annotations=annotations)

    def _fit_estimator(self, X, y, params):
        if not (hasattr(X, "shape") or hasattr(X, "__len__")) and hasattr(X, "__array__"):
            X = np.asarray(X)  # (an array-like known only by __array__)
        n = num_samples(X)
        if n != y.shape[0]:
            raise ValueError(f"X has {n} samples but y has {y.shape[0]}.")
        idx = np.arange(n)
        train, rows = train_test_split(
            idx, test_size=self.calibration_size,
            random_state=_cp.rng_from(self.random_state, _STREAM_SPLIT).integers(2**31 - 1))
        sub = {}
        for key, value in params.items():
            value = np.asarray(value)
            if value.ndim == 0 or value.shape[0] != y.shape[0]:
                raise ValueError(f"{key} must have one row per sample to be split with "
                                 f"cv='split'; got shape {value.shape}.")
            sub[key] = value[train]
        est = clone(self._get_estimator()).fit(take_rows(X, train), y[train], **sub)
        return est, est.predict_proba(take_rows(X, rows)), rows

    def _calibration_targets(self, y, soft_labels, classes_, shape, human=None):
        human = self.calibrate_to == "human" or (
            self.calibrate_to == "plurality" and soft_labels is not None)
        if human and soft_labels is None and self.calibrate_to == "human" and y.ndim == 2:
            human = False  # a soft y is the human target
        return super()._calibration_targets(y, soft_labels, classes_, shape, human=human)

    def _fit_map(self, P, Y, w):
        if self.calibrate_to == "plurality":
            Y = one_hot(np.argmax(Y, axis=1), Y.shape[1])
        self._calibration = _calibrate(
            Y, P, conformity_score=self.conformity_score, randomized=self.randomized,
            k_reg=self.k_reg, lambda_reg=float(self.lambda_reg), soft="monte_carlo",
            n_samples=self.n_samples, correction=self.correction,
            ecdf_fraction=self.ecdf_fraction,
            rng=_cp.rng_from(self.random_state, _STREAM_CAL))
        self.calibration_scores_ = self._calibration.pool
        self.threshold_ = self._calibration.threshold(float(self.alpha))

    def _apply_map(self, P):
        return P

    def predict_set(self, X, alpha=None):
        """Prediction sets at level ``1 - alpha``.

        Parameters
        ----------
        X : array-like
            Input of the estimator; with ``estimator="passthrough"`` the probabilities.
        alpha : float, optional
            Miscoverage level in (0, 1); default: the ``alpha`` parameter.

        Returns
        -------
        ndarray of bool, shape (n_samples, n_classes)
            ``sets[i, k]``: class ``classes_[k]`` is in the set of item ``i``.
        """
        check_is_fitted(self)
        threshold = self.threshold_ if alpha is None else self._calibration.threshold(
            float(check_scalar(alpha, "alpha", _ALPHA)))
        P = self.predict_proba(X)
        return _apply(P, threshold, self.conformity_score, self.randomized, self.k_reg,
                      float(self.lambda_reg), _cp.rng_from(self.random_state, _STREAM_PREDICT))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None and self.cv == "split"
        return tags
