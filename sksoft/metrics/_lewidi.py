"""The metrics of the LeWiDi shared tasks: distances between label distributions and the
perspectivist (per-annotator) errors.

The third Learning-with-Disagreements task (LeWiDi 2025) scores soft predictions by the average
Manhattan distance to the human distribution (its multilabel mean for VariErrNLI), by the 1-D
Wasserstein distance in bin units for ordinal (Likert) labels, and perspectivist predictions --
one predicted label per annotator -- by the per-annotator error rate and the average normalised
absolute distance. The formulas here are those of the task's official scorer; its rounding of
every item's value to 5 decimals is the option ``round_items=5``.

Each metric is the weighted mean of one value per item, so its bootstrap interval is that of
every sksoft metric (:func:`~sksoft.metrics._bootstrap.check_bootstrap`, the Poisson weights of
:func:`~sksoft.metrics.bootstrap_weights` keyed on the row or its cluster, the percentile
interval of :func:`~sksoft.metrics._intervals.percentile_interval`), taken on the exact path:
every item is resampled with its own Poisson weight.
"""

import numbers

import numpy as np

from .._targets import check_probability_matrix, check_targets, validate_rows
from .._validation import Interval, check_sample_weight, check_scalar
from ._bootstrap import BootstrapStats, check_bootstrap
from ._intervals import percentile_interval
from ._validation import check_groups

__all__ = [
    "manhattan_distance",
    "multilabel_manhattan_distance",
    "wasserstein_ordinal",
    "annotator_error_rate",
    "annotator_absolute_distance",
]

_ROUND = [None, Interval(numbers.Integral, 0, 15, closed="both")]
_MAX_REPLICATE_ENTRIES = 1 << 24  # Poisson weights drawn at once (B x n), 16 MiB of uint8

_BOOT_DOC = """    sample_weight : array-like of shape (n_samples,) or float, optional
        Weights of the items in the mean.
    n_bootstrap : int, default=0
        With ``B > 0`` the result is an :class:`Estimate` (a float with ``.low``, ``.high``,
        ``.se``) from ``B`` bootstrap replicates of the items (or of ``clusters``).
    confidence : float, default=0.95
        Level of the interval.
    random_state : int, RandomState or Generator, optional
        Seeds the bootstrap.
    clusters : array-like of shape (n_samples,), optional
        Resample these clusters instead of items.

    Returns
    -------
    float, or Estimate with ``n_bootstrap``"""

_ROUND_DOC = """    round_items : int, optional
        Round every item's value to this many decimals before the mean (Python's ``round``:
        the nearest decimal, ties to even), as the official LeWiDi-2025 scorer does with 5
        (the scorer also rounds the mean to 5 decimals: ``round(result, 5)`` gives its
        number). None: no rounding."""


def _documented(fn):
    fn.__doc__ = fn.__doc__.replace("{boot}", _BOOT_DOC).replace("{round}", _ROUND_DOC)
    return fn


def _round(values, decimals):
    """Python's ``round(v, decimals)`` of every value (numpy's ``round`` scales by a power of
    ten and may round the other way on values a hair from a tie)."""
    if decimals is None:
        return values
    flat = values.ravel().tolist()
    return np.array([round(v, decimals) for v in flat], dtype=np.float64).reshape(values.shape)


def _weighted_mean(values, sample_weight, boot):
    """The (weighted) mean of per-item ``values``, a float or, with ``boot = (n_bootstrap,
    confidence, random_state, clusters)``, an :class:`Estimate` from the exact Poisson
    bootstrap of the items (or clusters)."""
    n_bootstrap, confidence, random_state, clusters = boot
    n_bootstrap, confidence, keys = check_bootstrap(n_bootstrap, confidence, random_state)
    n = values.shape[0]
    weight = check_sample_weight(sample_weight, n, scale_free=True)
    if clusters is not None and not n_bootstrap:
        raise ValueError("clusters only changes how the bootstrap resamples: give "
                         "n_bootstrap > 0 too.")
    w = np.ones(n) if weight is None else weight
    point = float(np.dot(w, values) / w.sum())
    if not n_bootstrap:
        return point
    index = np.arange(n, dtype=np.int64) if clusters is None else \
        check_groups(clusters, n, "clusters")[0].astype(np.int64)
    stats = BootstrapStats(n_bootstrap, keys, clusters=clusters is not None)
    wv = w * values
    reps = np.full(n_bootstrap, np.nan)
    step = max(1, min(n_bootstrap, _MAX_REPLICATE_ENTRIES // max(n, 1)))
    for r0 in range(0, n_bootstrap, step):
        W = stats.weights(index, r0, min(step, n_bootstrap - r0)).astype(np.float64)
        den = W @ w
        with np.errstate(invalid="ignore", divide="ignore"):
            reps[r0:r0 + W.shape[0]] = np.where(den > 0, (W @ wv) / np.where(den > 0, den, 1),
                                                np.nan)
    return percentile_interval(point, reps, confidence)


def _distributions(y_true, y_prob, labels):
    """(targets, predictions) as float64 (n, K) matrices, checked: finite, non-negative rows
    summing to 1; hard ``y_true`` (column codes, or classes named by ``labels``) one-hot."""
    prob = check_probability_matrix(y_prob, name="y_prob", allow_1d=True)
    validate_rows(prob, "y_prob")
    n, K = prob.shape
    if labels is not None and np.ndim(y_true) == 2 and np.shape(y_true)[1] != 1:
        raise ValueError("labels names the classes of hard labels; y_true is a soft-label "
                         "matrix (its columns are the columns of y_prob).")
    targets = check_targets(y_true, classes=labels, n_classes=K, name="y_true",
                            classes_name="labels")
    if targets.n_samples != n:
        raise ValueError(f"y_true has {targets.n_samples} samples but y_prob has {n}.")
    return targets.dense(np.float64), np.asarray(prob, dtype=np.float64)


@_documented
def manhattan_distance(y_true, y_prob, *, labels=None, sample_weight=None, round_items=None,
                       n_bootstrap=0, confidence=0.95, random_state=None, clusters=None):
    """Average Manhattan (L1) distance: mean over items of ``sum_k |y_prob[i, k] - y_true[i, k]|``.

    The soft-label metric of LeWiDi 2025 (in [0, 2]; twice :func:`total_variation`, which it
    equals up to that factor when ``round_items`` is None). Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes, or classes named by ``labels``) or label distributions.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted distributions (1-D: positive-class probabilities of a binary problem).
    labels : array-like, optional
        The class of each column of ``y_prob``, for hard labels that are not ``0..K-1``.
{round}
{boot}

    See Also
    --------
    total_variation : half of it.
    multilabel_manhattan_distance : its mean over the labels of a multilabel task.
    wasserstein_ordinal : the distance for ordinal labels.

    References
    ----------
    .. [1] Leonardelli, E. et al. (2025). LeWiDi-2025 at NLPerspectives: The Third Edition of
       the Learning with Disagreements Shared Task. NLPerspectives @ EMNLP 2025.
    .. [2] Rizzi, G. et al. (2024). Soft metrics for evaluation with disagreements: an
       assessment. NLPerspectives @ LREC-COLING 2024.

    Examples
    --------
    >>> import numpy as np
    >>> manhattan_distance(np.array([[0.7, 0.3], [0.2, 0.8]]), np.array([[0.6, 0.4], [0.2, 0.8]]))
    0.1
    >>> manhattan_distance([0], np.array([[0.123456, 0.876544]]), round_items=5)
    1.75309
    """
    check_scalar(round_items, "round_items", _ROUND)
    T, P = _distributions(y_true, y_prob, labels)
    values = _round(np.abs(P - T).sum(axis=1), round_items)
    return _weighted_mean(values, sample_weight,
                          (n_bootstrap, confidence, random_state, clusters))


def _multilabel(a, name):
    """A multilabel array as (n_items, n_labels, n_values) float64, checked."""
    arr = np.asarray(a)
    if hasattr(a, "toarray") and not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be dense; got a sparse {type(a).__name__}.")
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if arr.ndim == 2:  # probabilities that each label applies: values (absent, present)
        if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1):
            raise ValueError(f"{name} given as (n_items, n_labels) probabilities that each "
                             "label applies must lie in [0, 1] and be finite.")
        arr = np.stack([1.0 - arr, arr], axis=-1)
    if arr.ndim != 3:
        raise ValueError(f"{name} must have shape (n_items, n_labels) or (n_items, n_labels, "
                         f"n_values); got shape {arr.shape}.")
    n, L, V = arr.shape
    if n == 0:
        raise ValueError(f"{name} is empty: it has 0 items.")
    if L == 0 or V == 0:
        raise ValueError(f"{name} has no labels or no values; got shape {arr.shape}.")
    validate_rows(arr.reshape(n * L, V), f"{name} (each item's distribution of each label)")
    return arr


@_documented
def multilabel_manhattan_distance(y_true, y_prob, *, sample_weight=None, round_items=None,
                                  n_bootstrap=0, confidence=0.95, random_state=None,
                                  clusters=None):
    """Multilabel average Manhattan distance (MAMD): the mean over items of the mean over
    labels of the Manhattan distance between each label's distributions.

    The soft-label metric of LeWiDi 2025 for a multilabel task (VariErrNLI: every item may carry
    several of the labels entailment, neutral, contradiction; each label has a distribution
    over "absent" / "present"). Lower is better; in [0, 2].

    Parameters
    ----------
    y_true, y_prob : array-like of shape (n_items, n_labels, n_values) or (n_items, n_labels)
        For every item and label, a distribution over the label's values (the last axis sums
        to 1: for VariErrNLI ``[P(absent), P(present)]``). A 2-D array holds the probability
        that each label applies, read as ``[1 - p, p]``. Both must have the same shape.
{round}
        Here the distance of every item's label and every item's mean over labels are
        rounded, as the official scorer does.
{boot}

    See Also
    --------
    manhattan_distance : the single-label metric.

    References
    ----------
    .. [1] Leonardelli, E. et al. (2025). LeWiDi-2025 at NLPerspectives: The Third Edition of
       the Learning with Disagreements Shared Task. NLPerspectives @ EMNLP 2025.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[1.0, 0.5, 0.0]])  # P(label applies), three labels of one item
    >>> p = np.array([[0.8, 0.5, 0.3]])
    >>> round(multilabel_manhattan_distance(t, p), 6)  # (0.4 + 0 + 0.6) / 3
    0.333333
    """
    check_scalar(round_items, "round_items", _ROUND)
    T, P = _multilabel(y_true, "y_true"), _multilabel(y_prob, "y_prob")
    if T.shape != P.shape:
        raise ValueError(f"y_true and y_prob must have the same shape; got {T.shape} and "
                         f"{P.shape}.")
    per_label = _round(np.abs(P - T).sum(axis=2), round_items)
    values = _round(per_label.mean(axis=1), round_items)
    return _weighted_mean(values, sample_weight,
                          (n_bootstrap, confidence, random_state, clusters))


@_documented
def wasserstein_ordinal(y_true, y_prob, *, labels=None, sample_weight=None, round_items=None,
                        n_bootstrap=0, confidence=0.95, random_state=None, clusters=None):
    """Mean 1-D Wasserstein (earth mover's) distance between ordinal distributions, in bins.

    The columns are the ordered points of a scale (a Likert scale, ratings ``-5..5``) one bin
    apart, and the distance of an item is the least mass times bins moved to turn one
    distribution into the other, ``sum_{k < K-1} |CDF_prob(k) - CDF_true(k)|``. The soft-label
    metric of LeWiDi 2025 for ordinal labels (Paraphrase, CSC). Lower is better; in
    ``[0, K - 1]``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Hard labels (column codes, or scale points named by ``labels``) or distributions over
        the scale points.
    y_prob : array-like of shape (n_samples, n_classes)
        Predicted distributions over the scale points, in their order.
    labels : array-like, optional
        The scale point of each column, for hard labels that are not ``0..K-1`` (only
        names: the columns are one bin apart whatever the labels).
{round}
{boot}

    See Also
    --------
    manhattan_distance : the distance that ignores the order of the classes.

    References
    ----------
    .. [1] Leonardelli, E. et al. (2025). LeWiDi-2025 at NLPerspectives: The Third Edition of
       the Learning with Disagreements Shared Task. NLPerspectives @ EMNLP 2025.

    Examples
    --------
    >>> import numpy as np
    >>> wasserstein_ordinal([0], np.array([[0.0, 0.0, 1.0]]))  # all mass two bins away
    2.0
    >>> wasserstein_ordinal(np.array([[0.5, 0.5, 0.0]]), np.array([[0.0, 0.5, 0.5]]))
    1.0
    """
    check_scalar(round_items, "round_items", _ROUND)
    T, P = _distributions(y_true, y_prob, labels)
    gap = np.cumsum(P - T, axis=1)[:, :-1]
    values = _round(np.abs(gap).sum(axis=1), round_items)
    return _weighted_mean(values, sample_weight,
                          (n_bootstrap, confidence, random_state, clusters))


def _annotator_labels(y_true, y_pred):
    """(t, p, present): float64 arrays of shape (n_items, n_annotators[, n_labels]) and the
    mask of the annotations present (finite in ``y_true``)."""
    out = []
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        if hasattr(a, "toarray") and not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be dense; got a sparse {type(a).__name__}.")
        arr = np.asarray(a)
        if arr.dtype.kind not in "iufb":
            raise TypeError(f"{name} must hold numeric labels (NaN for an annotator who did not "
                            f"label the item); got dtype {arr.dtype}.")
        arr = arr.astype(np.float64)
        if arr.ndim not in (2, 3):
            raise ValueError(f"{name} must have shape (n_items, n_annotators) or (n_items, "
                             f"n_annotators, n_labels); got shape {arr.shape}.")
        if np.isinf(arr).any():
            raise ValueError(f"{name} contains infinity.")
        out.append(arr)
    t, p = out
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {t.shape} and "
                         f"{p.shape}.")
    if t.shape[0] == 0:
        raise ValueError("y_true is empty: it has 0 items.")
    present = ~np.isnan(t)
    if t.ndim == 3:
        # an annotator of an item labels every label of it, or none
        partial = present.any(axis=2) & ~present.all(axis=2)
        if partial.any():
            i, j = np.argwhere(partial)[0]
            raise ValueError(f"y_true has annotator {j} of item {i} with some labels missing: "
                             "an annotator labels all the labels of an item or none.")
        per_item = present[:, :, 0].sum(axis=1)
    else:
        per_item = present.sum(axis=1)
    if np.any(per_item == 0):
        raise ValueError(f"y_true has no annotation for item {int(np.argmin(per_item))} (all "
                         "NaN): every item needs at least one annotator.")
    if np.isnan(p[present]).any():
        raise ValueError("y_pred has NaN where y_true has an annotation: predict a label for "
                         "every annotator of every item.")
    return t, p, present


def _per_annotator_mean(dist, present):
    """Mean of ``dist`` over the annotators present, per item (and label)."""
    d = np.where(present, dist, 0.0)
    return d.sum(axis=1) / present.sum(axis=1)


@_documented
def annotator_error_rate(y_true, y_pred, *, sample_weight=None, round_items=None,
                         n_bootstrap=0, confidence=0.95, random_state=None, clusters=None):
    """Per-annotator error rate: mean over items of the fraction of the item's annotators
    whose label is mispredicted.

    The perspectivist metric of LeWiDi 2025 for categorical labels (MultiPico, and VariErrNLI
    with a label axis): a model predicts the label each annotator gives an item. Lower is
    better; in [0, 1].

    Parameters
    ----------
    y_true : array-like of shape (n_items, n_annotators) or (n_items, n_annotators, n_labels)
        The label of every annotator of every item, NaN where an annotator did not label the
        item (wide annotations, as :func:`sksoft.annotations.to_counts` takes). With a third
        axis, the 0/1 decision of each annotator on each label of a multilabel task; the rate
        of an item is then the mean over labels of each label's rate.
    y_pred : array-like of the same shape
        The predicted label of every annotator of every item (ignored where ``y_true`` is
        NaN).
{round}
        With a label axis the rate of every item's label is rounded, as the official scorer
        does.
{boot}

    Notes
    -----
    The official scorer counts ``sum |t - p| / n_annotators``, the same for 0/1 labels (its
    tasks); here a mismatch counts 1 whatever the labels, so this is the error rate for any
    categorical labels.

    See Also
    --------
    annotator_absolute_distance : the perspectivist metric for ordinal ratings.

    References
    ----------
    .. [1] Leonardelli, E. et al. (2025). LeWiDi-2025 at NLPerspectives: The Third Edition of
       the Learning with Disagreements Shared Task. NLPerspectives @ EMNLP 2025.

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.array([[1, 0, 1, np.nan], [0, 0, 1, 1]])
    >>> y_pred = np.array([[1, 1, 1, 0], [0, 0, 0, 0]])
    >>> round(annotator_error_rate(y_true, y_pred), 6)  # (1/3 + 2/4) / 2
    0.416667
    """
    check_scalar(round_items, "round_items", _ROUND)
    t, p, present = _annotator_labels(y_true, y_pred)
    rates = _round(_per_annotator_mean((t != p).astype(np.float64), present), round_items)
    values = rates.mean(axis=1) if rates.ndim == 2 else rates
    return _weighted_mean(values, sample_weight,
                          (n_bootstrap, confidence, random_state, clusters))


@_documented
def annotator_absolute_distance(y_true, y_pred, *, n_scale_points, sample_weight=None,
                                round_items=None, n_bootstrap=0, confidence=0.95,
                                random_state=None, clusters=None):
    """Average normalised absolute distance (ANAD) between every annotator's rating and its
    prediction: mean over items of ``mean_j |y_true[i, j] - y_pred[i, j]| / n_scale_points``.

    The perspectivist metric of LeWiDi 2025 for ordinal ratings (Paraphrase: 11 points
    ``-5..5``; CSC: 6 points ``1..6``). Lower is better; below 1 for ratings on the scale.

    Parameters
    ----------
    y_true : array-like of shape (n_items, n_annotators)
        The rating of every annotator of every item, NaN where an annotator did not rate it.
    y_pred : array-like of shape (n_items, n_annotators)
        The predicted rating of every annotator (ignored where ``y_true`` is NaN).
    n_scale_points : int
        The number of points of the rating scale (>= 2), the normaliser.
{round}
{boot}

    See Also
    --------
    annotator_error_rate : the perspectivist metric for categorical labels.
    wasserstein_ordinal : the soft-label metric for ordinal labels.

    References
    ----------
    .. [1] Leonardelli, E. et al. (2025). LeWiDi-2025 at NLPerspectives: The Third Edition of
       the Learning with Disagreements Shared Task. NLPerspectives @ EMNLP 2025.

    Examples
    --------
    >>> import numpy as np
    >>> y_true = np.array([[5, 3, np.nan], [1, 1, 2]])
    >>> y_pred = np.array([[4, 4, 4], [1, 1, 1]])
    >>> round(annotator_absolute_distance(y_true, y_pred, n_scale_points=6), 6)
    0.111111
    """
    check_scalar(n_scale_points, "n_scale_points", Interval(numbers.Integral, 2, None,
                                                            closed="left"))
    check_scalar(round_items, "round_items", _ROUND)
    t, p, present = _annotator_labels(y_true, y_pred)
    if t.ndim != 2:
        raise ValueError(f"y_true must have shape (n_items, n_annotators) (ratings on one "
                         f"scale); got shape {t.shape}.")
    dist = np.abs(np.where(present, t, 0.0) - np.where(present, p, 0.0))
    values = _round(_per_annotator_mean(dist, present) / n_scale_points, round_items)
    return _weighted_mean(values, sample_weight,
                          (n_bootstrap, confidence, random_state, clusters))
