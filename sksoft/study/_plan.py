"""The plan stage: every fit of a study run, as a typed record (:class:`FitTask`).

One :class:`FitTask` per (regime, source, seed, fold[, budget]): the splits, the rows its
model trains on, and -- with the recalibration and budget axes -- its calibration rows, its
annotation budget and which of its training rows get human labels. What the fits of one
(seed, fold) share is planned once (:func:`plan_fold`, a :class:`FoldPlan`).
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import StratifiedKFold

from ._budget import (
    Budget,
    allocation_scores,
    budget_grid,
    calibration_split,
    is_human_source,
    labelled_rows,
    recalibrates,
    uses_axes,
)
from ._registry import make_teacher

__all__ = ["FitTask", "FoldPlan", "plan_fold", "plan_tasks"]


@dataclass(frozen=True, eq=False)
class FoldPlan:
    """What the fits of one (seed, fold) share under the recalibration and budget axes.

    ``fit_rows``: the training rows the models fit (the training fold less the calibration
    split); ``cal_rows``: the calibration split (None without recalibrators); ``labelled``:
    {budget: mask over ``fit_rows`` of the rows with human labels, or None for all}.
    """

    fit_rows: np.ndarray
    cal_rows: np.ndarray = None
    labelled: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class FitTask:
    """One fit of the study: what the fit stage (:func:`._fit.fit_one`) needs to run it.

    Attributes
    ----------
    regime, source : str
    seed, fold : int
        The cross-validation split (``StratifiedKFold(shuffle=True, random_state=seed)``)
        and its fold; the source and the model are seeded with :attr:`model_seed`.
    train, test : ndarray of int
        The fold's training and test rows.
    axes : bool
        Whether the run has the recalibration or budget axes (then the fit's results carry
        the axis columns, and the fields below are set).
    fit_rows : ndarray of int or None
        The rows the model trains on (None: ``train``).
    cal_rows : ndarray of int or None
        The calibration split of the recalibrators (None: no recalibrator).
    budget : Budget or None
        The annotation budget (None for a source that uses no human label).
    labelled : ndarray of bool or None
        Which of ``fit_rows`` get human labels (None: all); the others get gold one-hot.
    cal_annotators : tuple
        The votes per item of the human labels that recalibrators fitted to humans use on
        the calibration rows of a source without human labels.
    """

    regime: str
    source: str
    seed: int
    fold: int
    train: np.ndarray
    test: np.ndarray
    axes: bool = False
    fit_rows: np.ndarray = None
    cal_rows: np.ndarray = None
    budget: Budget = None
    labelled: np.ndarray = None
    cal_annotators: tuple = ()

    @property
    def key(self):
        """(regime, source, seed, fold)."""
        return (self.regime, self.source, self.seed, self.fold)

    @property
    def model_seed(self):
        """The seed of the fit's source and model: ``seed * 1000 + fold`` (every regime)."""
        return self.seed * 1000 + self.fold

    @property
    def rows(self):
        """The rows the model trains on."""
        return self.train if self.fit_rows is None else self.fit_rows


def plan_fold(cfg, data, seed, fold, train):
    """What the fits of one (seed, fold) share (a :class:`FoldPlan`); the ``uncertain``
    allocation's scores are computed here, once."""
    if recalibrates(cfg):
        fit_rows, cal_rows = calibration_split(train, data["y_gold"], seed, fold,
                                               cfg.calibration_fraction)
    else:
        fit_rows, cal_rows = np.asarray(train), None
    budgets = budget_grid(cfg)
    scores = None
    if any(b.allocate == "uncertain" for b in budgets):
        X = data["images"] if cfg.model == "cnn" else data["X"]
        scores = allocation_scores(X, data["y_gold"], fit_rows,
                                   make_teacher(cfg, seed * 1000 + fold),
                                   n_classes=data["human"].shape[1],
                                   random_state=seed * 1000 + fold)
    labelled = {b: labelled_rows(len(fit_rows), b, scores, seed, fold) for b in budgets}
    return FoldPlan(fit_rows=fit_rows, cal_rows=cal_rows, labelled=labelled)


def plan_tasks(cfg, data):
    """Every fit of the run, in order (a list of :class:`FitTask`). A source that uses human
    labels gets one fit per budget; the others one fit, whatever the budgets."""
    axes = uses_axes(cfg)
    budgets = budget_grid(cfg)
    human_source = {s: is_human_source(s) for s in cfg.sources}
    tasks = []
    for seed in range(cfg.seeds):
        splits = list(StratifiedKFold(cfg.folds, shuffle=True, random_state=seed).split(
            data["y_gold"], data["y_gold"]))
        plans = [plan_fold(cfg, data, seed, fold, train) if axes else None
                 for fold, (train, _) in enumerate(splits)]
        for regime in cfg.regimes:
            for source in cfg.sources:
                for budget in (budgets if human_source[source] else [None]):
                    for fold, (train, test) in enumerate(splits):
                        task = FitTask(regime, source, seed, fold, train, test)
                        if axes:
                            p = plans[fold]
                            task = FitTask(
                                regime, source, seed, fold, train, test, axes=True,
                                fit_rows=p.fit_rows, cal_rows=p.cal_rows, budget=budget,
                                labelled=None if budget is None else p.labelled[budget],
                                cal_annotators=tuple(cfg.annotators))
                        tasks.append(task)
    return tasks
