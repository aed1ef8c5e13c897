"""The study's run loop: every (label source, seed, fold) fit, evaluated against gold and humans.

It only orchestrates: the data come from :mod:`._data`, sources and models from
:mod:`._registry`, metrics from :mod:`._evaluate`, the in-memory results are
:class:`._results.StudyResults` and every file is written by :class:`._output.StudyWriter`.
"""

import platform
import sys
import time
import warnings
from dataclasses import fields

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from .._label_source import LabelSource
from .._targets import one_hot
from .._threads import available_cores, thread_budget
from ._budget import (
    budget_grid,
    is_human_source,
    plan_fold,
    recalibrates,
    subsample_human,
    uses_axes,
)
from ._config import StudyConfig, check_data_settings
from ._data import load_study_data
from ._evaluate import cartography_correlations, checkpoint_metrics, evaluate, training_fit
from ._recalibrate import recalibrate
from ._output import StudyWriter
from ._registry import make_model, make_source, regime_settings
from ._results import StudyResults
from ._vocabulary import checkpoint_epochs

__all__ = ["run", "fit_one"]


def _net_of(model):
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


class _RecordTargets(LabelSource):
    """Wraps a fit's label source and keeps the targets it built (``targets_``), so that the
    fit can be scored against its own targets without building them twice.

    ``labelled`` (a boolean mask over the training rows, or None): the rows outside it get
    gold one-hot targets whatever the source builds (the annotation budget's
    ``human_fraction``)."""

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
        T = self.source.make_targets(X, gold, **kwargs)
        if self.labelled is not None:
            if self.labelled.shape[0] != gold.shape[0]:
                raise ValueError(f"the budget's mask covers {self.labelled.shape[0]} rows but "
                                 f"the source got {gold.shape[0]}.")
            T = np.array(T, dtype=np.float64, copy=True)
            T[~self.labelled] = one_hot(gold[~self.labelled], kwargs["n_classes"])
        self.targets_ = T
        return self.targets_


def _stopping(net):
    """(epochs or L-BFGS iterations, converged) of a fitted model; see TRAINING_METRICS."""
    if not hasattr(net, "history_"):
        return float(net.n_iter_), float(net.n_iter_ < net.max_iter)
    stop = dict(net.callbacks_).get("stop")
    converged = np.nan if stop is None else float(stop.misses_ >= stop.patience)
    return float(len(net.history_)), converged


def _axes(calibrator, budget, cost):
    """The axis columns of one evaluation (see ``_vocabulary.AXIS_COLUMNS``)."""
    if budget is None:  # a source that uses no human label (the calibrator may, see cost)
        return {"calibrator": calibrator, "annotators": 0, "human_fraction": 0.0,
                "allocate": "none", "annotations_used": cost}
    return {"calibrator": calibrator, "annotators": budget.annotators,
            "human_fraction": budget.fraction, "allocate": budget.allocate,
            "annotations_used": cost}


def _votes_used(votes, rows, labelled=None):
    v = votes[rows] if labelled is None else votes[rows][labelled]
    return float(v.sum())


def fit_one(task, data, cfg):
    """Fit one (regime, source, seed, fold[, budget]) and evaluate it; runs in a worker.

    ``task`` is ``(regime, source, seed, fold, train, test, plan)``; ``plan`` is None in a
    study without the recalibration and budget axes, else the (seed, fold)'s
    :func:`._budget.plan_fold` with the fit's ``budget`` (None for a source that uses no human
    label) and ``cal_annotators`` (the votes per item of the human labels that recalibrators
    fitted to humans use on the calibration rows of such a source). The source and the model
    are seeded with ``seed * 1000 + fold`` (the same in every regime). Fitting and evaluation
    run under the thread budget ``cfg.threads_per_fit`` (torch, BLAS, OpenMP; restored after).
    """
    regime, source_name, seed, fold, train, test = task[:6]
    plan = task[6] if len(task) > 6 else None
    X = data["images"] if cfg.model == "cnn" else data["X"]
    if X is None:
        raise ValueError("the cnn model needs images (n, channels, height, width) in the data.")
    gold, human = data["y_gold"], data["human"]
    K = human.shape[1]
    model_seed = seed * 1000 + fold
    rows = train if plan is None else plan["fit_rows"]
    budget = None if plan is None else plan["budget"]
    H, A = human, data.get("annotations")
    labelled, votes = None, None
    if budget is not None:
        H, A, votes = subsample_human(data, seed, budget.annotators)
        labelled = plan["labelled"][budget]
    H_fit = H[rows]
    A_fit = None if A is None else A[rows]
    if labelled is not None:  # the other training rows keep gold one-hot targets
        H_fit = np.array(H_fit, copy=True)
        H_fit[~labelled] = one_hot(gold[rows][~labelled], K)
        if A_fit is not None:
            A_fit = np.array(A_fit, dtype=np.float64, copy=True)
            A_fit[~labelled] = np.nan
    source = _RecordTargets(make_source(source_name, model_seed, cfg), labelled=labelled)
    watch = None
    if cfg.model != "logreg":
        from ._dynamics import HeldOutCheckpoints  # imports torch: networks only

        max_epochs = regime_settings(cfg, regime)["max_epochs"]
        watch = HeldOutCheckpoints(X[test], checkpoint_epochs(max_epochs))
    model = make_model(cfg, source, model_seed, regime,
                       callbacks=[] if watch is None else [("checkpoints", watch)])
    if watch is not None and isinstance(model, Pipeline):
        watch.preprocess = model[:-1]
    params = {"soft_labels": H_fit}
    if A_fit is not None:
        params["annotations"] = A_fit
    step = model.steps[-1][0] if hasattr(model, "steps") else None
    fit_kw = {f"{step}__{k}" if step else k: v for k, v in params.items()}
    with thread_budget(cfg.threads_per_fit):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X[rows], gold[rows], **fit_kw)
        fit_seconds = time.perf_counter() - t0
        P = model.predict_proba(X[test])
        rows_out = evaluate(P, gold[test], human[test], cfg.difficulty_bins, cfg.n_bins)
        rows_out.append(("all", "fit_seconds", fit_seconds))
        net = _net_of(model)
        dyn = dict(net.callbacks_).get("dynamics") if hasattr(net, "callbacks_") else None
        # the rows the weights were fitted on (networks hold some out for their valid_loss)
        fitted = (np.arange(len(rows)) if dyn is None or dyn.indices_ is None
                  else dyn.indices_)
        rows_out += training_fit(model.predict_proba(X[rows[fitted]]), source.targets_[fitted],
                                 gold[rows[fitted]])
        epochs, converged = _stopping(net)
        rows_out += [("all", "epochs", epochs), ("all", "converged", converged)]
        # the predictions as evaluated (float32 from networks), for the study's intervals
        out = {"task": (regime, source_name, seed, fold), "test": test,
               "proba": P, "rows": rows_out, "curves": None, "dynamics": None,
               "checkpoints": None, "axes": None, "recalibrated": []}
        if plan is not None:
            cost = 0.0 if budget is None else _votes_used(votes, rows, labelled)
            out["axes"] = _axes("none", budget, cost)
            if recalibrates(cfg):
                out["recalibrated"] = _recalibrated(model, X, data, cfg, plan, seed, test, P,
                                                    budget, cost, model_seed)
        if watch is not None:
            out["checkpoints"] = checkpoint_metrics(watch.proba_, watch.churn_, gold[test],
                                                    human[test], cfg.n_bins)
        if hasattr(net, "history_"):
            out["curves"] = [(int(h["epoch"]), float(h["train_loss"]),
                              float(h.get("valid_loss", np.nan))) for h in net.history_]
            if dyn is not None and dyn.logits_:
                items = rows[dyn.indices_]
                dm, carto_rows = cartography_correlations(dyn.logits_, gold[items],
                                                          human[items])
                rows_out += carto_rows
                if seed == 0 and fold == 0:
                    out["dynamics"] = {"items": items, "logits": dyn.logits_, **dm}
    return out


def _recalibrated(model, X, data, cfg, plan, seed, test, P, budget, cost, model_seed):
    """The recalibrated evaluations of one fit (see :func:`._recalibrate.recalibrate`)."""
    gold, human = data["y_gold"], data["human"]
    cal = plan["cal_rows"]
    P_cal = model.predict_proba(X[cal])
    ks = [budget.annotators] if budget is not None else list(plan["cal_annotators"])
    human_cal, cal_votes = {}, {}
    for k in ks:
        H_k, _, votes_k = subsample_human(data, seed, k)
        human_cal[k], cal_votes[k] = H_k[cal], float(votes_k[cal].sum())
    outputs = recalibrate(P_cal, gold[cal], P, cfg.calibrators, cfg.calibrate_to, human_cal,
                          random_state=model_seed)
    evaluations = []
    for o in outputs:
        if o["label"] is None:  # fitted to gold: the fit's own budget and cost
            axes = _axes(o["calibrator"], budget, cost)
        elif budget is not None:  # a human source: its votes per item on the calibration rows
            axes = _axes(o["calibrator"], budget, cost + cal_votes[o["label"]])
        else:  # a source without human labels, recalibrated to k votes per calibration item
            axes = _axes(o["calibrator"], None, cal_votes[o["label"]])
            axes["annotators"] = o["label"]
        rows = evaluate(o["proba"], gold[test], human[test], cfg.difficulty_bins, cfg.n_bins)
        evaluations.append({"axes": axes, "proba": o["proba"], "rows": rows,
                            "chosen": o.get("chosen")})
    return evaluations


def _versions():
    import importlib

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("sksoft", "numpy", "scipy", "sklearn", "torch", "skorch", "pandas", "matplotlib"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001
            out[mod] = None
    return out


def _tasks(cfg, data):
    """Every fit of the run: (regime, source, seed, fold, train, test, plan); ``plan`` is None
    without the recalibration and budget axes. A source that uses human labels gets one fit
    per budget; the others one fit, whatever the budgets."""
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
                        plan = None
                        if axes:
                            plan = {**plans[fold], "budget": budget,
                                    "cal_annotators": cfg.annotators}
                            plan["labelled"] = {budget: plans[fold]["labelled"][budget]} \
                                if budget is not None else {}
                        tasks.append((regime, source, seed, fold, train, test, plan))
    return tasks


def _executor(cfg, data, tasks):
    """Yield results as they complete, with the chosen backend."""
    if cfg.backend == "sequential" or cfg.n_jobs == 1 and cfg.backend == "loky":
        for t in tasks:
            yield fit_one(t, data, cfg)
        return
    from joblib import Parallel, delayed, parallel_config

    if cfg.backend == "dask":
        from ._dask import dask_client

        # the client becomes the default one that joblib's dask backend uses; large arrays go
        # to the workers once (scatter), not with every task
        with dask_client(cfg.scheduler, cfg.n_jobs), \
                parallel_config(backend="dask", scatter=[data]):
            yield from Parallel(n_jobs=-1, return_as="generator_unordered")(
                delayed(fit_one)(t, data, cfg) for t in tasks)
        return
    yield from Parallel(n_jobs=cfg.n_jobs, return_as="generator_unordered")(
        delayed(fit_one)(t, data, cfg) for t in tasks)


def _config_json(cfg, data):
    settings = {f.name: getattr(cfg, f.name) for f in fields(cfg)}
    if not isinstance(settings["data"], str):
        settings["data"] = "arrays given to sksoft.study.run"
    return {"config": settings,
            "regimes": {regime: regime_settings(cfg, regime) for regime in cfg.regimes},
            "execution": {"cores": available_cores(), "parallel_fits": cfg.n_jobs,
                          "threads_per_fit": cfg.threads_per_fit, "backend": cfg.backend},
            "data": {"name": data["name"],
            "n_items": int(data["human"].shape[0])}, "versions": _versions(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "seeds": {"cv_split": "StratifiedKFold(shuffle=True, random_state=seed)",
                      "model": "seed * 1000 + fold",
                      "calibration_split": "train_test_split(train, stratify=gold, "
                                           "random_state=seed * 1000 + fold)",
                      "votes_subsample": "SeedSequence(seed, spawn_key=(11,)), nested in k",
                      "random_allocation": "SeedSequence([seed, fold], spawn_key=(13,))",
                      "calibrator_selection": "KFold(3, shuffle=True, "
                                              "random_state=seed * 1000 + fold)"}}


def run(config=None, **kwargs):
    """Run the human-vs-model uncertainty audit; also the ``sksoft study`` command.

    Parameters
    ----------
    config : StudyConfig, optional
    **kwargs
        Fields of :class:`StudyConfig` (``data``, ``model``, ``sources``, ``regimes``,
        ``seeds``, ``folds``, ``difficulty_bins``, ``epochs``, ``hidden``, ``dropout``,
        ``weight_decay``, ``device``, ``n_jobs``, ``threads_per_fit``, ``backend``,
        ``scheduler``, ``out``, ``quick``, the recalibration axis ``calibrators``,
        ``calibrate_to``, ``calibration_fraction``, the annotation-budget axis
        ``annotators``, ``human_fraction``, ``allocate``, and ``cost_benefit``, ...).

    Returns
    -------
    StudyResults
        Also written to ``out``: results.csv (with the axes: one row set per variant, i.e.
        source x calibrator x budget, with its ``annotations_used``), differences.csv,
        curves.csv, dynamics.csv (network models), summary.md (with the axes: the headline
        "gold + the best calibrator vs human soft labels" and the cost-benefit section),
        config.json, figures/<regime>/*.png (with the axes: cost_benefit.png) and
        cartography/<regime>/<source>/training_dynamics/*.jsonl (network models).
    """
    if config is not None:
        if not isinstance(config, StudyConfig):
            raise TypeError(f"config must be a StudyConfig (or None, with the settings as "
                            f"keyword arguments); got {type(config).__name__}.")
        if kwargs:
            raise ValueError(f"give config or keyword settings, not both; got config and "
                             f"{sorted(kwargs)}.")
    cfg = (config or StudyConfig(**kwargs)).resolved()
    data = load_study_data(cfg)
    check_data_settings(cfg, data)
    if "dawid_skene" in cfg.sources and data.get("annotations") is None:
        raise ValueError(f"the dawid_skene source needs annotator-level votes, which {cfg.data} "
                         "does not provide (only vote counts).")
    if any(k != "all" for k in cfg.annotators) and data.get("annotations") is None \
            and data.get("counts") is None:
        raise ValueError(f"annotators {list(cfg.annotators)}: subsampling votes needs "
                         "annotations or counts, and this data has only label distributions; "
                         "use annotators ('all',).")
    tasks = _tasks(cfg, data)
    writer = StudyWriter(cfg.out)  # everything is checked: only now is out touched
    writer.start()
    try:
        return _run_tasks(cfg, data, tasks, writer)
    finally:
        writer.close()


def _run_tasks(cfg, data, tasks, writer):
    writer.write_config(_config_json(cfg, data))
    results = StudyResults(cfg, data, writer.out,
                           settings={r: regime_settings(cfg, r) for r in cfg.regimes})
    bar = None
    if cfg.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc="sksoft study", unit="fit", file=sys.stderr)
    try:
        for res in _executor(cfg, data, tasks):
            writer.append_results(results.add(res))
            if bar is not None:
                regime, source, seed, fold = res["task"]
                bar.set_postfix_str(f"{regime} {source} seed {seed} fold {fold}")
                bar.update(1)
        results.complete = True
    except KeyboardInterrupt:
        print(f"\ninterrupted: {results.n_fits} of {len(tasks)} fits kept; writing partial "
              f"results to {cfg.out}", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    writer.finish(results)
    return results
