"""The label-source protocol: how a classifier's ``fit`` turns ``y`` into training targets.

This module sits below the estimators (they import :func:`make_training_targets`); the concrete
sources live in :mod:`sksoft.label_sources`, and those that fit models of their own (teacher,
ensemble) sit above the estimators they clone.

A label source is a small estimator-like object (``get_params`` / ``set_params`` / ``clone``,
``_parameter_constraints`` checked by :mod:`sksoft._validation`) with one method,
:meth:`LabelSource.make_targets`. A classifier calls it through :func:`make_training_targets`
inside ``fit`` -- so on the training fold only -- with the gold class codes, the routed human
label distributions, the raw annotations and the sample weights of the training rows.

``sample_weight`` is part of the protocol: a row of weight ``w`` counts as ``w`` copies of it.
Sources whose target of a row depends on that row only (gold, human, smoothing, majority vote,
vote fractions) have no use for it; sources that fit something on all the training rows use
it: :class:`~sksoft.label_sources.TeacherDistillation` and
:class:`~sksoft.label_sources.EnsembleDisagreement` pass it to their models' ``fit``, and
:class:`~sksoft.label_sources.CrowdAggregate` weights the items of its Dawid-Skene fit.
"""

import numpy as np
from sklearn.base import BaseEstimator

from ._targets import check_probability_matrix, prepare_targets, validate_rows
from ._validation import ValidatedParamsMixin, check_sample_weight

__all__ = ["LabelSource", "make_training_targets", "human_mode", "check_item_index"]

# human probabilities this close to the row maximum tie with it (vote fractions that are equal
# in exact arithmetic may differ in their last bits)
_TIE_ATOL = 1e-12


class LabelSource(ValidatedParamsMixin, BaseEstimator):
    """Base class of label sources. Subclasses implement :meth:`make_targets`.

    Subclasses declare their parameters in ``__init__`` (stored unchanged, as scikit-learn
    estimators do) and in ``_parameter_constraints``, and call ``self._validate_params()`` at
    the start of :meth:`make_targets`.
    """

    #: whether the source needs the human label distributions
    needs_human = False
    #: whether the source needs the raw annotations
    needs_annotations = False
    #: whether :meth:`make_targets` takes ``item_index`` (the training rows' positions in a
    #: table of the source's own, e.g. :class:`~sksoft.label_sources.ExternalSoftLabels`)
    uses_item_index = False

    _parameter_constraints: dict = {}

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        """Return the (n, n_classes) training targets (non-negative rows summing to 1).

        Parameters
        ----------
        X : array-like of the training rows
        gold : ndarray of intp, shape (n,)
            Gold class codes of the training rows.
        human : ndarray of shape (n, n_classes) or None
            Human label distributions of the training rows.
        annotations : array-like or None
            Raw annotations (wide: one row per training row) of the training rows.
        n_classes : int
        sample_weight : ndarray of float64, shape (n,), or None
            Weights of the training rows (validated: finite, non-negative, not all zero).

        Sources with ``uses_item_index = True`` also take ``item_index``: the integer
        position of every training row in the items of the whole data set (routed metadata,
        sliced per fold with the other rows), or None.
        """
        raise NotImplementedError


def human_mode(human, gold=None):
    """The plurality class of each human label distribution, with sksoft's one tie rule.

    When several classes tie for the largest probability (within 1e-12), the gold class is
    taken if it is among them (no needless correction of the gold label), else the smallest
    tied class index.

    Parameters
    ----------
    human : ndarray of shape (n, K)
    gold : ndarray of int, shape (n,), optional
        Gold class codes; without them ties go to the smallest index.

    Returns
    -------
    ndarray of intp, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2], [0.1, 0.2, 0.7]])
    >>> human_mode(h, np.array([1, 2, 0])).tolist()
    [1, 0, 2]
    >>> human_mode(h).tolist()
    [0, 0, 2]
    """
    human = np.asarray(human)
    is_max = human >= human.max(axis=1, keepdims=True) - _TIE_ATOL
    mode = np.argmax(is_max, axis=1)
    if gold is None:
        return mode
    gold = np.asarray(gold, dtype=np.intp)
    gold_tied = is_max[np.arange(gold.shape[0]), gold]
    return np.where(gold_tied, gold, mode)


def check_item_index(item_index, n):
    """``item_index`` as a 1-D intp array of ``n`` non-negative positions.

    Examples
    --------
    >>> check_item_index([3, 0], 2).tolist()
    [3, 0]
    >>> check_item_index([0.5, 1], 2)
    Traceback (most recent call last):
    ...
    TypeError: item_index must hold integer positions (of the rows among the items); got dtype float64.
    """
    if hasattr(item_index, "toarray") and not isinstance(item_index, np.ndarray):
        raise TypeError(f"item_index must be a dense 1-D array; got a sparse "
                        f"{type(item_index).__name__}.")
    idx = np.asarray(item_index)
    if idx.dtype.kind not in "iu" and not (idx.dtype.kind == "f" and idx.size == 0):
        raise TypeError(f"item_index must hold integer positions (of the rows among the items); "
                        f"got dtype {idx.dtype}.")
    if idx.shape != (n,):
        raise ValueError(f"item_index must have shape ({n},), one position per row; got "
                         f"{idx.shape}.")
    if idx.size and idx.min() < 0:
        raise ValueError("item_index holds negative positions.")
    return idx.astype(np.intp, copy=False)


def make_training_targets(source, X, y, *, soft_labels=None, annotations=None, classes=None,
                          sample_weight=None, item_index=None):
    """Resolve gold labels and human labels from ``y`` and metadata, and apply ``source``.

    ``item_index`` (routed metadata: the position of every row among the items of the whole
    data set) is checked here and passed on to sources that use it (``uses_item_index``).

    * Hard ``y``: gold labels; ``soft_labels`` (routed metadata) are the human distributions.
    * Soft ``y``: the gold label is its argmax (first class on ties), and without routed
      ``soft_labels`` the soft ``y`` itself is taken as the human distribution.

    ``y`` goes through the estimators' target contract (:func:`sksoft._targets.prepare_targets`).

    Returns
    -------
    Y : ndarray of float64, shape (n, K)
    classes_ : ndarray
    """
    if not isinstance(source, LabelSource):
        raise TypeError(f"source (an estimator's label_source) must be a sksoft LabelSource; "
                        f"got {type(source).__name__}.")
    Yin, classes_, codes = prepare_targets(y, classes=classes)
    n, K = Yin.shape
    human = None
    if soft_labels is not None:
        human = check_probability_matrix(soft_labels, name="soft_labels", n_classes=K)
        human = validate_rows(np.asarray(human, dtype=np.float64), "soft_labels")
        if human.shape[0] != n:
            raise ValueError(f"soft_labels has {human.shape[0]} rows but y has {n}.")
    if codes is None:
        codes = np.argmax(Yin, axis=1)
        if human is None:
            human = Yin
    if source.needs_human and human is None:
        raise ValueError(
            f"{type(source).__name__} needs human label distributions: pass soft_labels=... to "
            "fit (routed as metadata in GridSearchCV / Pipeline) or give a soft y."
        )
    if source.needs_annotations and annotations is None:
        raise ValueError(f"{type(source).__name__} needs annotations=... (wide votes) in fit.")
    sample_weight = check_sample_weight(sample_weight, n)
    extra = {}
    if item_index is not None:
        item_index = check_item_index(item_index, n)
    if source.uses_item_index:
        extra["item_index"] = item_index
    Y = source.make_targets(X, codes, human=human, annotations=annotations, n_classes=K,
                            sample_weight=sample_weight, **extra)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape != (n, K):
        raise ValueError(f"{type(source).__name__} returned targets of shape {Y.shape}, "
                         f"expected {(n, K)}.")
    validate_rows(Y, f"targets from {type(source).__name__}")
    return Y, classes_
