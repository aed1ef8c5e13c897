"""The fit stage: one :class:`._plan.FitTask` in, one :class:`FitRecord` out (in a worker).

A fit trains one model on its task's rows with its label source's targets, predicts the test
fold and evaluates it against gold and the human labels (:mod:`._evaluate`), with -- with
recalibrators -- each recalibrated output of it (:mod:`._recalibrate`); how closely it fits
its training rows, how training went (epochs, the held-out checkpoints, the training curves,
the cartography of seed 0, fold 0) and how long it took travel with it.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.pipeline import Pipeline

from .._label_source import LabelSource
from .._targets import one_hot
from .._threads import thread_budget
from ._budget import recalibrates, subsample_human
from ._evaluate import cartography_correlations, checkpoint_metrics, evaluate, training_fit
from ._recalibrate import recalibrate
from ._registry import make_model, make_source, regime_settings
from ._vocabulary import AXIS_COLUMNS, COST_COLUMN, checkpoint_epochs

__all__ = ["AxisValues", "Evaluation", "FitRecord", "fit_one"]


@dataclass(frozen=True)
class AxisValues:
    """The axis columns of one evaluation (see ``_vocabulary.AXIS_COLUMNS``) and its cost
    (``annotations_used``: the human votes it used)."""

    calibrator: str = "none"
    annotators: object = 0
    human_fraction: float = 0.0
    allocate: str = "none"
    annotations_used: float = 0.0

    @classmethod
    def of(cls, calibrator, budget, cost):
        """The values of a fit with ``budget`` (None: a source that uses no human label)."""
        if budget is None:
            return cls(calibrator, 0, 0.0, "none", cost)
        return cls(calibrator, budget.annotators, budget.fraction, budget.allocate, cost)

    def columns(self):
        """The values in the order of ``AXIS_COLUMNS``, then the cost."""
        return tuple(getattr(self, c) for c in AXIS_COLUMNS) + (getattr(self, COST_COLUMN),)


@dataclass(eq=False)
class Evaluation:
    """One evaluated output of a fit: its predictions on the test fold (as evaluated;
    float32 from networks), its metric rows ``(bin, metric, value)``, its axis values (None
    without the axes) and, for the ``selected`` recalibrator, the candidate it chose."""

    proba: np.ndarray
    rows: list
    axes: AxisValues = None
    chosen: str = None


@dataclass(eq=False)
class FitRecord:
    """What one fit produced.

    Attributes
    ----------
    regime, source, seed, fold
        Its task's keys.
    test : ndarray of int
        The evaluation items.
    evaluations : list of Evaluation
        The fit's own output first, then each recalibrated one.
    training : list of (bin, metric, value)
        How closely it fits its training rows (``TRAINING_METRICS`` but the stopping ones).
    stopping : list of (bin, metric, value)
        ``epochs`` and ``converged``.
    cartography : list of (bin, metric, value)
        The data map's correlations with human entropy (networks; empty otherwise).
    curves : list of (epoch, train_loss, valid_loss) or None
        The training history (networks).
    checkpoints : list of (epoch, metric, value) or None
        The held-out metrics at the checkpoint epochs (networks).
    dynamics : dict or None
        The data map of seed 0, fold 0 (networks): items, logits per epoch, confidence,
        variability, correctness.
    timings : dict
        Seconds: ``fit`` (training the model).
    """

    regime: str
    source: str
    seed: int
    fold: int
    test: np.ndarray
    evaluations: list
    training: list = field(default_factory=list)
    stopping: list = field(default_factory=list)
    cartography: list = field(default_factory=list)
    curves: list = None
    checkpoints: list = None
    dynamics: dict = None
    timings: dict = field(default_factory=dict)

    @property
    def key(self):
        """(regime, source, seed, fold)."""
        return (self.regime, self.source, self.seed, self.fold)

    def fit_rows(self):
        """The tidy rows of the fit's own output, in results.csv's order: its metrics, the
        timing (``fit_seconds``), the training fit, the stopping and the cartography."""
        return (list(self.evaluations[0].rows) + [("all", "fit_seconds", self.timings["fit"])]
                + self.training + self.stopping + self.cartography)


def _net_of(model):
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def _gold_outside(array, labelled, gold, n_classes=None):
    """``array`` with the rows outside ``labelled`` replaced: gold one-hot (``n_classes``
    given: label distributions or targets) or NaN (annotations: no vote)."""
    out = np.array(array, dtype=np.float64, copy=True)
    out[~labelled] = np.nan if n_classes is None else one_hot(gold[~labelled], n_classes)
    return out


class _LabelledRows(LabelSource):
    """Wraps a fit's label source: keeps the targets it built (``targets_``), so that the fit
    is scored against its own targets without building them twice, and is the one place
    where the annotation budget's unlabelled rows are masked.

    ``labelled`` (a boolean mask over the training rows, or None): the rows outside it are
    gold one-hot in the human labels the source sees, have no vote in its annotations and get
    gold one-hot targets whatever the source builds (``human_fraction``)."""

    def __init__(self, source, labelled=None):
        self.source = source
        self.labelled = labelled

    @property
    def needs_human(self):
        return self.source.needs_human

    @property
    def needs_annotations(self):
        return self.source.needs_annotations

    def make_targets(self, X, gold, **kwargs):
        labelled, K = self.labelled, kwargs["n_classes"]
        if labelled is not None:
            if labelled.shape[0] != gold.shape[0]:
                raise ValueError(f"the budget's mask covers {labelled.shape[0]} rows but "
                                 f"the source got {gold.shape[0]}.")
            if kwargs.get("human") is not None:
                kwargs["human"] = _gold_outside(kwargs["human"], labelled, gold, K)
            if kwargs.get("annotations") is not None:
                kwargs["annotations"] = _gold_outside(kwargs["annotations"], labelled, gold)
        T = self.source.make_targets(X, gold, **kwargs)
        if labelled is not None:
            T = _gold_outside(T, labelled, gold, K)
        self.targets_ = T
        return self.targets_


def _stopping(net):
    """(epochs or L-BFGS iterations, converged) of a fitted model; see TRAINING_METRICS."""
    if not hasattr(net, "history_"):
        return float(net.n_iter_), float(net.n_iter_ < net.max_iter)
    stop = dict(net.callbacks_).get("stop")
    converged = np.nan if stop is None else float(stop.misses_ >= stop.patience)
    return float(len(net.history_)), converged


def _votes_used(votes, rows, labelled=None):
    v = votes[rows] if labelled is None else votes[rows][labelled]
    return float(v.sum())


def fit_one(task, data, cfg):
    """Fit one task (a :class:`._plan.FitTask`) and evaluate it; runs in a worker.

    The source and the model are seeded with ``task.model_seed``. Fitting and evaluation run
    under the thread budget ``cfg.threads_per_fit`` (torch, BLAS, OpenMP; restored after).
    Returns a :class:`FitRecord`.
    """
    X = data["images"] if cfg.model == "cnn" else data["X"]
    if X is None:
        raise ValueError("the cnn model needs images (n, channels, height, width) in the data.")
    gold, human = data["y_gold"], data["human"]
    test, rows, budget = task.test, task.rows, task.budget
    model_seed = task.model_seed
    H, A, votes = human, data.get("annotations"), None
    if budget is not None:
        H, A, votes = subsample_human(data, task.seed, budget.annotators)
    source = _LabelledRows(make_source(task.source, model_seed, cfg), labelled=task.labelled)
    watch = None
    if cfg.model != "logreg":
        from ._dynamics import HeldOutCheckpoints  # imports torch: networks only

        max_epochs = regime_settings(cfg, task.regime)["max_epochs"]
        watch = HeldOutCheckpoints(X[test], checkpoint_epochs(max_epochs))
    model = make_model(cfg, source, model_seed, task.regime,
                       callbacks=[] if watch is None else [("checkpoints", watch)])
    if watch is not None and isinstance(model, Pipeline):
        watch.preprocess = model[:-1]
    params = {"soft_labels": H[rows]}
    if cfg.model != "logreg":  # the networks' hold-out, on gold: the same rows for every source
        params["stratify"] = gold[rows]
    if A is not None:
        params["annotations"] = A[rows]
    step = model.steps[-1][0] if hasattr(model, "steps") else None
    fit_kw = {f"{step}__{k}" if step else k: v for k, v in params.items()}
    with thread_budget(cfg.threads_per_fit):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the one call that fits a network (or a logistic regression)
            model.fit(X[rows], gold[rows], **fit_kw)
        fit_seconds = time.perf_counter() - t0
        P = model.predict_proba(X[test])
        own = Evaluation(P, evaluate(P, gold[test], human[test], cfg.difficulty_bins,
                                     cfg.n_bins))
        net = _net_of(model)
        dyn = dict(net.callbacks_).get("dynamics") if hasattr(net, "callbacks_") else None
        # the rows the weights were fitted on (networks hold some out for their valid_loss)
        fitted = (np.arange(len(rows)) if dyn is None or dyn.indices_ is None
                  else dyn.indices_)
        record = FitRecord(
            task.regime, task.source, task.seed, task.fold, test, [own],
            training=training_fit(model.predict_proba(X[rows[fitted]]),
                                  source.targets_[fitted], gold[rows[fitted]]),
            timings={"fit": fit_seconds})
        epochs, converged = _stopping(net)
        record.stopping = [("all", "epochs", epochs), ("all", "converged", converged)]
        if task.axes:
            cost = 0.0 if budget is None else _votes_used(votes, rows, task.labelled)
            own.axes = AxisValues.of("none", budget, cost)
            if recalibrates(cfg):
                record.evaluations += _recalibrated(model, X, data, cfg, task, P, cost)
        if watch is not None:
            record.checkpoints = checkpoint_metrics(watch.proba_, watch.churn_, gold[test],
                                                    human[test], cfg.n_bins)
        if hasattr(net, "history_"):
            record.curves = [(int(h["epoch"]), float(h["train_loss"]),
                              float(h.get("valid_loss", np.nan))) for h in net.history_]
            if dyn is not None and dyn.logits_:
                items = rows[dyn.indices_]
                dm, record.cartography = cartography_correlations(dyn.logits_, gold[items],
                                                                  human[items])
                if task.seed == 0 and task.fold == 0:
                    record.dynamics = {"items": items, "logits": dyn.logits_, **dm}
    return record


def _recalibrated(model, X, data, cfg, task, P, cost):
    """The recalibrated evaluations of one fit (see :func:`._recalibrate.recalibrate`)."""
    gold, human = data["y_gold"], data["human"]
    cal, budget, test = task.cal_rows, task.budget, task.test
    P_cal = model.predict_proba(X[cal])
    ks = [budget.annotators] if budget is not None else list(task.cal_annotators)
    human_cal, cal_votes = {}, {}
    for k in ks:
        H_k, _, votes_k = subsample_human(data, task.seed, k)
        human_cal[k], cal_votes[k] = H_k[cal], float(votes_k[cal].sum())
    outputs = recalibrate(P_cal, gold[cal], P, cfg.calibrators, cfg.calibrate_to, human_cal,
                          random_state=task.model_seed)
    evaluations = []
    for o in outputs:
        if o["label"] is None:  # fitted to gold: the fit's own budget and cost
            axes = AxisValues.of(o["calibrator"], budget, cost)
        elif budget is not None:  # a human source: its votes per item on the calibration rows
            axes = AxisValues.of(o["calibrator"], budget, cost + cal_votes[o["label"]])
        else:  # a source without human labels, recalibrated to k votes per calibration item
            axes = AxisValues(o["calibrator"], o["label"], 0.0, "none", cal_votes[o["label"]])
        rows = evaluate(o["proba"], gold[test], human[test], cfg.difficulty_bins, cfg.n_bins)
        evaluations.append(Evaluation(o["proba"], rows, axes, o.get("chosen")))
    return evaluations
