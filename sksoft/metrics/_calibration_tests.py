"""Hypothesis tests of calibration: is this model miscalibrated at all, with a p-value.

* Spiegelhalter's Z (1986): a z-test of the Brier score's calibration term.
* The cumulative-difference tests of Arrieta-Ibarra, Gujral, Tannen, Tygert and Xu (2022):
  the cumulative sums of ``target - score`` in increasing order of the score behave like a
  standard Brownian motion under calibration (after scaling by their standard deviation);
  Kolmogorov-Smirnov takes its largest absolute value, Kuiper its range.
* The squared kernel calibration error (SKCE) of Widmann, Lindsten and Zachariah (2019), an
  unbiased estimate of a kernel distance between ``E[y | p]`` and ``p`` for the whole
  probability vector (canonical calibration), tested against its asymptotic normal null
  (the linear-time estimator) or against consistency resampling (the quadratic one).

The first three test a one-dimensional score: the positive-class probability of a binary
problem or the top-label confidence (``top_label``).
"""

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .._targets import check_probability_matrix, check_targets, validate_rows
from .._validation import Interval, Options, check_scalar

__all__ = ["CalibrationTestResult", "calibration_test"]

_METHODS = ("spiegelhalter", "ks", "kuiper", "skce")
#: the quadratic SKCE keeps an (n, n) kernel matrix
_SKCE_MAX_QUADRATIC = 10_000


@dataclass(frozen=True)
class CalibrationTestResult:
    """The result of :func:`calibration_test`.

    Attributes
    ----------
    statistic : float
        The test statistic (Spiegelhalter's Z; the KS or Kuiper statistic in units of the
        standard deviation of the cumulative difference; the SKCE estimate).
    pvalue : float
        Probability under calibration of a statistic at least as extreme (NaN when the
        statistic is undefined, e.g. every score 0 or 1).
    method : str
    null : str
        ``"normal"``, ``"brownian"``, ``"asymptotic"`` or ``"resampling"``.
    n_samples : int
    """

    statistic: float
    pvalue: float
    method: str
    null: str
    n_samples: int


# --------------------------------------------------------------------------- null laws
def brownian_max_abs_sf(x):
    """``P(sup_{0<=t<=1} |B_t| > x)`` for a standard Brownian motion.

    By reflection, ``4 * sum_{j>=0} (-1)^j Phi^c((2j + 1) x)`` (an alternating series of
    decreasing terms; below x = 0.05 the probability is 1 to double precision).
    """
    x = float(x)
    if not x > 0.05:
        return 1.0
    j = np.arange(int(np.ceil(12.0 / x)) + 2)
    terms = ndtr(-(2 * j + 1) * x)
    return float(np.clip(4.0 * np.sum(terms * (-1.0) ** j), 0.0, 1.0))


def brownian_range_sf(x):
    """``P(sup B - inf B > x)`` over ``[0, 1]`` for a standard Brownian motion (``B_0 = 0``).

    Feller's (1951) density of the range, ``8 sum_{k>=1} (-1)^(k-1) k^2 phi(k r)``, integrated:
    ``8 sum_{k>=1} (-1)^(k-1) k Phi^c(k x)`` (1 to double precision below x = 0.05).
    """
    x = float(x)
    if not x > 0.05:
        return 1.0
    k = np.arange(1, int(np.ceil(12.0 / x)) + 2)
    terms = k * ndtr(-k * x)
    return float(np.clip(8.0 * np.sum(terms * (-1.0) ** (k - 1)), 0.0, 1.0))


# --------------------------------------------------------------------------- the tests
def _one_dimensional(P, Y, top_label):
    """(score, target) of the binary positive class or of the top label."""
    K = P.shape[1]
    if top_label is None:
        top_label = K > 2
    if not top_label:
        if K != 2:
            raise ValueError(f"top_label=False tests the positive class of a binary problem; "
                             f"y_prob has {K} classes.")
        return P[:, 1], Y[:, 1]
    top = np.argmax(P, axis=1)
    rows = np.arange(P.shape[0])
    return P[rows, top], Y[rows, top]


def _spiegelhalter(s, t):
    num = np.sum((t - s) * (1.0 - 2.0 * s))
    var = np.sum((1.0 - 2.0 * s) ** 2 * s * (1.0 - s))
    if not var > 0:
        return float("nan"), float("nan")
    z = float(num / np.sqrt(var))
    return z, float(2.0 * ndtr(-abs(z)))


def _cumulative(s, t):
    """(C_0 = 0, C_1, ..., C_n) and the standard deviation of C_n under calibration."""
    order = np.argsort(s, kind="stable")
    n = s.shape[0]
    C = np.concatenate([[0.0], np.cumsum(t[order] - s[order]) / n])
    sigma = np.sqrt(np.sum(s * (1.0 - s))) / n
    return C, sigma


def _ks(s, t):
    C, sigma = _cumulative(s, t)
    if not sigma > 0:
        return float("nan"), float("nan")
    stat = float(np.max(np.abs(C)) / sigma)
    return stat, brownian_max_abs_sf(stat)


def _kuiper(s, t):
    C, sigma = _cumulative(s, t)
    if not sigma > 0:
        return float("nan"), float("nan")
    stat = float((C.max() - C.min()) / sigma)
    return stat, brownian_range_sf(stat)


def _laplacian(A, B, bandwidth):
    d2 = np.sum(A * A, 1)[:, None] + np.sum(B * B, 1)[None, :] - 2.0 * A @ B.T
    return np.exp(-np.sqrt(np.maximum(d2, 0.0)) / bandwidth)


def _median_bandwidth(P):
    """Median of the pairwise Euclidean distances between (at most 256, evenly spaced in
    the input order) probability vectors; 1 if they are all equal."""
    n = P.shape[0]
    Q = P if n <= 256 else P[np.linspace(0, n - 1, 256).astype(np.intp)]
    d2 = np.sum(Q * Q, 1)[:, None] + np.sum(Q * Q, 1)[None, :] - 2.0 * Q @ Q.T
    d = np.sqrt(np.maximum(d2[np.triu_indices(Q.shape[0], 1)], 0.0))
    med = float(np.median(d)) if d.size else 0.0
    return med if med > 0 else 1.0


def _skce_linear(P, R, bandwidth):
    """Linear-time unbiased SKCE (mean of ``h`` over disjoint pairs) and its one-sided
    asymptotic normal p-value."""
    m = P.shape[0] // 2
    a, b = slice(0, 2 * m, 2), slice(1, 2 * m, 2)
    k = np.exp(-np.linalg.norm(P[a] - P[b], axis=1) / bandwidth)
    h = k * np.einsum("ij,ij->i", R[a], R[b])
    stat = float(h.mean())
    sd = float(h.std(ddof=1)) if m > 1 else 0.0
    if not sd > 0:
        return stat, float("nan")
    return stat, float(ndtr(-stat / (sd / np.sqrt(m))))


def _skce_quadratic(Kmat, R):
    """The unbiased quadratic SKCE of residuals ``R`` (one row per item, or (B, n, K))."""
    n = Kmat.shape[0]
    KR = np.matmul(Kmat, R)
    total = np.sum(KR * R, axis=(-2, -1))
    diag = np.sum(np.diagonal(Kmat)[:, None] * R * R, axis=(-2, -1))
    return (total - diag) / (n * (n - 1))


def _skce_resampling(P, R, bandwidth, n_resamples, rng):
    n, K = P.shape
    Kmat = _laplacian(P, P, bandwidth)
    stat = float(_skce_quadratic(Kmat, R))
    cdf = np.cumsum(P, axis=1)
    cdf /= cdf[:, -1:]
    exceed = 0
    step = max(1, min(n_resamples, 2**22 // max(n * K, 1)))
    for start in range(0, n_resamples, step):
        b = min(step, n_resamples - start)
        u = rng.random((b, n))
        codes = np.minimum((u[:, :, None] >= cdf[None]).sum(axis=2), K - 1)
        E = np.zeros((b, n, K))
        np.put_along_axis(E, codes[:, :, None], 1.0, axis=2)
        exceed += int(np.count_nonzero(_skce_quadratic(Kmat, E - P[None]) >= stat))
    return stat, (1.0 + exceed) / (1.0 + n_resamples)


def calibration_test(y_true, y_prob, *, method="ks", top_label=None, labels=None,
                     null="asymptotic", n_resamples=1000, bandwidth=None, random_state=None):
    """Test the hypothesis that the predicted probabilities are calibrated.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes, or classes named by ``labels``) or label distributions.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (1-D: the positive class of a binary problem).
    method : {"ks", "kuiper", "spiegelhalter", "skce"}, default="ks"
        ``"spiegelhalter"``: ``Z = sum (t - s)(1 - 2 s) / sqrt(sum (1 - 2 s)^2 s (1 - s))``
        for scores ``s`` and targets ``t``, two-sided normal p-value. ``"ks"`` /
        ``"kuiper"``: the cumulative differences ``C_k = (1/n) sum_{j <= k} (t_j - s_j)``
        over the items sorted by score (ties in input order), ``C_0 = 0``, divided by
        ``sigma = sqrt(sum s (1 - s)) / n``; the statistic is ``max |C|`` (KS) or
        ``max C - min C`` (Kuiper), and the p-value that of the supremum of ``|B|`` or of the
        range of a standard Brownian motion on [0, 1] (asymptotic). ``"skce"``: the squared
        kernel calibration error of the whole probability vector, with the Laplacian kernel
        ``exp(-||p - q|| / bandwidth) * identity``, one-sided (see ``null``).
    top_label : bool, optional
        For the one-dimensional tests: test the top-label confidence ``max_k p_k`` against
        the target's mass on that class; False tests the positive class (column 1) of a
        binary problem. Default: True with more than two classes, False with two. Unused by
        ``"skce"``.
    labels : array-like of shape (n_classes,), optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
    null : {"asymptotic", "resampling"}, default="asymptotic"
        ``"skce"`` only. ``"asymptotic"``: the linear-time unbiased estimator (the mean of the
        kernel term over ``n // 2`` disjoint pairs), asymptotically normal -- O(n), lower
        power. ``"resampling"``: the quadratic unbiased estimator (all pairs) against
        ``n_resamples`` data sets whose labels are drawn from the predicted probabilities
        (consistency resampling, which makes the null true; an exact Monte Carlo test)
        -- O(n_resamples n^2), far more powerful at equal n, at most
        10 000 items, hard labels only. (A permutation of the labels would test
        independence of labels and predictions, not calibration.)
    n_resamples : int, default=1000
        ``null="resampling"`` only.
    bandwidth : float, optional
        ``"skce"``: kernel bandwidth; default the median pairwise distance between the
        predicted vectors (of at most 256 of them, evenly spaced in the input order; a
        function of ``y_prob`` alone, so the null still holds).
    random_state : int, RandomState or Generator, optional
        Seeds the consistency resampling.

    Returns
    -------
    CalibrationTestResult

    Notes
    -----
    Soft targets (label distributions): the null is ``E[t | p] = p``. Spiegelhalter's, the KS
    and the Kuiper tests scale by ``s (1 - s)``, the variance of a hard label with mean ``s``;
    a soft target in [0, 1] with mean ``s`` has at most that variance, so with soft targets
    these tests stay valid and are conservative (their level is at most the nominal one).
    The asymptotic SKCE test estimates its variance from the data and holds exactly
    (asymptotically) with soft targets. Consistency resampling draws hard labels, so
    ``null="resampling"`` rejects soft targets. All p-values but the resampling one are
    asymptotic; their level is checked on simulated calibrated models in the tests.

    References
    ----------
    .. [1] Spiegelhalter, "Probabilistic prediction in patient management and clinical
       trials", Statistics in Medicine 5 (1986).
    .. [2] Arrieta-Ibarra, Gujral, Tannen, Tygert and Xu, "Metrics of calibration for
       probabilistic predictions", JMLR 23 (2022).
    .. [3] Tygert, "Calibration of P-values for calibration and for deviation of a
       subpopulation from the full population", arXiv:2202.00100 (2022).
    .. [4] Feller, "The asymptotic distribution of the range of sums of independent random
       variables", Ann. Math. Statist. 22 (1951).
    .. [5] Widmann, Lindsten and Zachariah, "Calibration tests in multi-class classification:
       a unifying framework", NeurIPS 2019.
    .. [6] Bröcker and Smith, "Increasing the reliability of reliability diagrams", Weather
       and Forecasting 22 (2007) (consistency resampling).

    See Also
    --------
    expected_calibration_error, smooth_calibration_error : how far off, not whether.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft.metrics import calibration_test
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=2000)
    >>> y = (rng.uniform(size=2000) < p).astype(int)          # calibrated
    >>> r = calibration_test(y, p, method="ks")
    >>> r.method, r.pvalue > 0.05
    ('ks', True)
    >>> y_over = (rng.uniform(size=2000) < 0.5 + 0.6 * (p - 0.5)).astype(int)
    >>> calibration_test(y_over, p, method="kuiper").pvalue < 1e-6   # over-confident
    True
    >>> round(calibration_test(y, p, method="spiegelhalter").statistic, 3)
    -0.543
    """
    check_scalar(method, "method", Options(_METHODS))
    check_scalar(null, "null", Options(("asymptotic", "resampling")))
    check_scalar(top_label, "top_label", [None, "boolean"])
    check_scalar(n_resamples, "n_resamples", Interval(numbers.Integral, 1, None, closed="left"))
    check_scalar(bandwidth, "bandwidth", [None, Interval(numbers.Real, 0, None,
                                                         closed="neither")])
    check_scalar(random_state, "random_state", "random_state")
    P = check_probability_matrix(y_prob, name="y_prob", allow_1d=True)
    validate_rows(P, "y_prob")
    P = np.asarray(P, dtype=np.float64)
    n, K = P.shape
    if n < 2:
        raise ValueError(f"y_prob must have at least 2 samples; got {n}.")
    if K < 2:
        raise ValueError(f"y_prob must have at least 2 columns (classes); got {K}.")
    t = check_targets(y_true, classes=labels, n_classes=K, name="y_true",
                      classes_name="labels")
    if t.n_samples != n:
        raise ValueError(f"y_true has {t.n_samples} samples but y_prob has {n}.")
    Y = t.dense(np.float64)
    if method != "skce":
        if null != "asymptotic":
            raise ValueError(f"null={null!r} is for method='skce'; method={method!r} has an "
                             "asymptotic null only.")
        s, target = _one_dimensional(P, Y, top_label)
        fn = {"spiegelhalter": _spiegelhalter, "ks": _ks, "kuiper": _kuiper}[method]
        stat, pvalue = fn(s, target)
        law = "normal" if method == "spiegelhalter" else "brownian"
        return CalibrationTestResult(stat, pvalue, method, law, n)
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    else:
        rng = np.random.default_rng(
            random_state if not isinstance(random_state, np.random.RandomState)
            else random_state.randint(0, 2**31 - 1))
    h = float(bandwidth) if bandwidth is not None else _median_bandwidth(P)
    R = Y - P
    if null == "asymptotic":
        if n < 4:
            raise ValueError(f"the asymptotic SKCE test needs at least 4 samples; got {n}.")
        stat, pvalue = _skce_linear(P, R, h)
    else:
        if t.soft:
            raise ValueError("null='resampling' draws hard labels from y_prob: it tests hard "
                             "y_true only; use null='asymptotic' for label distributions.")
        if n > _SKCE_MAX_QUADRATIC:
            raise ValueError(f"null='resampling' keeps an (n, n) kernel matrix: at most "
                             f"{_SKCE_MAX_QUADRATIC} samples; got {n}. Use "
                             "null='asymptotic'.")
        stat, pvalue = _skce_resampling(P, R, h, int(n_resamples), rng)
    return CalibrationTestResult(stat, pvalue, method, null, n)
