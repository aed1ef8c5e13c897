"""The annotation-budget and recalibration axes: which votes, which items and which rows each
fit may use.

* **Votes** (``--annotators``): :func:`subsample_human` keeps ``k`` votes per item, drawn once
  per seed (the same draw in every fold, source and backend) and nested in ``k`` -- the votes
  kept for ``k = 1`` are among those kept for ``k = 3`` -- from the data's wide ``annotations``
  (:func:`sksoft.annotations.subsample_annotations`) or its ``counts``
  (:func:`sksoft.annotations.subsample_counts`, a multivariate hypergeometric draw).
  ``"all"`` uses the data's own arrays, unchanged.
* **Items** (``--human-fraction``, ``--allocate``): :func:`labelled_rows` chooses the training
  rows that get human labels; the others keep gold one-hot targets. ``uncertain`` ranks the
  rows by :func:`allocation_scores`, the entropy of a gold-trained model's cross-fitted
  predictions (each row scored by a model that never saw it), computed once per (seed, fold).
* **Rows** (``--calibrators``): :func:`calibration_split` carves a stratified calibration
  split from the training fold (never the test fold), seeded like the fit; the model trains on
  the rest. No split is carved when only ``none`` is asked.

The cost of a fit (``annotations_used``) is the number of votes it used: the kept votes of its
human-labelled training rows, plus those of the calibration rows when a recalibrator is fitted
to human labels.
"""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from ..annotations import counts_to_soft, subsample_annotations, subsample_counts, to_counts
from ..metrics import entropy
from ..model_selection import cross_val_predict_proba
from ._registry import SOURCE_FACTORIES

__all__ = ["Budget", "DEFAULT_BUDGET", "budget_grid", "uses_axes", "recalibrates",
           "is_human_source", "votes_per_item", "subsample_human", "calibration_split",
           "allocation_scores", "labelled_rows", "ALLOCATION_CV"]

#: cross-fitting folds of the ``uncertain`` allocation's gold-trained model
ALLOCATION_CV = 3
#: stream keys of the seeded draws (so that each draw has its own random stream)
_VOTES_STREAM, _RANDOM_ALLOCATION_STREAM = 11, 13


@dataclass(frozen=True)
class Budget:
    """One point of the annotation-budget grid: votes per item, fraction of the training items
    with human labels, and how they are chosen ("all" at fraction 1)."""

    annotators: object = "all"
    fraction: float = 1.0
    allocate: str = "all"


DEFAULT_BUDGET = Budget()


def budget_grid(cfg):
    """The budgets of a run: annotators x fractions x allocations (one allocation, "all", at
    fraction 1), in that order."""
    out = []
    for k in cfg.annotators:
        for f in cfg.human_fraction:
            for a in (cfg.allocate if f < 1 else ("all",)):
                b = Budget(k, float(f), a)
                if b not in out:
                    out.append(b)
    return out


def recalibrates(cfg):
    """Whether the run fits recalibrators (more than ``none``)."""
    return len(cfg.calibrators) > 1


def uses_axes(cfg):
    """Whether the run uses the recalibration or the budget axis (then results.csv has the
    axis columns; a run without them has the layout of a study without the axes)."""
    return recalibrates(cfg) or budget_grid(cfg) != [DEFAULT_BUDGET]


def is_human_source(name):
    """Whether the source ``name`` builds its targets from human labels (or annotations)."""
    source = SOURCE_FACTORIES[name](0, None)
    return bool(source.needs_human or source.needs_annotations)


def _votes(data):
    """The data's votes: ("annotations", wide), ("counts", counts) or (None, None)."""
    if data.get("annotations") is not None:
        return "annotations", data["annotations"]
    if data.get("counts") is not None:
        return "counts", data["counts"]
    return None, None


def votes_per_item(data):
    """Each item's number of votes (n,), float; NaN when the data has only distributions."""
    kind, votes = _votes(data)
    if kind == "annotations":
        return (~np.isnan(np.asarray(votes, dtype=np.float64))).sum(axis=1).astype(np.float64)
    if kind == "counts":
        return np.asarray(votes, dtype=np.float64).sum(axis=1)
    return np.full(data["human"].shape[0], np.nan)


def subsample_human(data, seed, annotators):
    """The human labels when ``annotators`` votes per item are kept, drawn for ``seed``.

    Returns
    -------
    human : ndarray (n, K)
        Vote fractions of the kept votes (an item left without votes keeps its own row).
    annotations : ndarray (n, n_annotators) or None
        The kept wide votes (NaN elsewhere), when the data has wide annotations.
    votes : ndarray (n,)
        Votes kept per item (NaN when the data has only distributions).

    ``annotators="all"`` returns the data's own arrays.
    """
    if annotators == "all":
        return data["human"], data.get("annotations"), votes_per_item(data)
    kind, votes = _votes(data)
    if kind is None:
        raise ValueError("annotators: subsampling votes needs the data's counts or "
                         "annotations; this data has only label distributions (use "
                         "annotators 'all').")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(_VOTES_STREAM,)))
    K = data["human"].shape[1]
    annotations = None
    if kind == "annotations":
        annotations = subsample_annotations(votes, int(annotators), random_state=rng)
        counts = to_counts(annotations, n_classes=K)
    else:
        counts = subsample_counts(votes, int(annotators), random_state=rng)
    kept = counts.sum(axis=1)
    human = np.array(data["human"], dtype=np.float64, copy=True)
    some = kept > 0
    human[some] = counts_to_soft(counts[some])
    return human, annotations, kept.astype(np.float64)


def calibration_split(train, gold, seed, fold, fraction):
    """(fit rows, calibration rows) of a training fold: a stratified split of ``fraction`` of
    ``train`` (unstratified when a class is too rare), seeded with the fit's seed
    ``seed * 1000 + fold``; both sorted."""
    train = np.asarray(train)
    kw = dict(test_size=float(fraction), random_state=int(seed) * 1000 + int(fold))
    try:
        fit, cal = train_test_split(train, stratify=gold[train], **kw)
    except ValueError:
        fit, cal = train_test_split(train, **kw)
    return np.sort(fit), np.sort(cal)


def allocation_scores(X, gold, rows, model, *, n_classes, cv=ALLOCATION_CV, random_state=0):
    """How unsure a gold-trained model is of each of ``rows``: the entropy of its cross-fitted
    predicted distribution.

    ``model`` (unfitted) is trained on the gold labels of ``cv - 1`` folds of ``rows`` and
    predicts the remaining fold, so no row's score comes from a model that saw it (or its
    label); nothing outside ``rows`` is used.

    Returns
    -------
    ndarray (len(rows),)
    """
    rows = np.asarray(rows)
    y = np.asarray(gold)[rows]
    counts = np.bincount(y, minlength=n_classes)
    present = counts[counts > 0]
    splitter = (StratifiedKFold(cv, shuffle=True, random_state=random_state)
                if present.min() >= cv else KFold(cv, shuffle=True, random_state=random_state))
    splits = list(splitter.split(rows, y))
    P = cross_val_predict_proba(model, X[rows], y, cv=splits, classes=np.arange(n_classes))
    return entropy(P, average=False)


def labelled_rows(n_rows, budget, scores, seed, fold):
    """Which of ``n_rows`` training rows get human labels under ``budget`` (a boolean mask);
    None at fraction 1 (all of them).

    ``ceil(fraction * n_rows)`` rows (at least 1): a random choice seeded per (seed, fold), or
    the rows with the highest ``scores`` (ties: the earlier row). Random choices are nested
    in the fraction.
    """
    if budget.fraction >= 1:
        return None
    m = max(1, math.ceil(budget.fraction * n_rows))
    if budget.allocate == "uncertain":
        order = np.argsort(-np.asarray(scores), kind="stable")
    else:
        rng = np.random.default_rng(np.random.SeedSequence(
            [int(seed), int(fold)], spawn_key=(_RANDOM_ALLOCATION_STREAM,)))
        order = rng.permutation(n_rows)
    mask = np.zeros(n_rows, dtype=bool)
    mask[order[:m]] = True
    return mask
