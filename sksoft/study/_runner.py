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

from ._config import StudyConfig
from ._data import load_study_data
from ._evaluate import cartography_correlations, evaluate
from ._output import StudyWriter
from ._registry import make_model, make_source
from ._results import StudyResults

__all__ = ["run", "fit_one"]


def _net_of(model):
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def fit_one(task, data, cfg):
    """Fit one (source, seed, fold) and evaluate it; runs in a worker process.

    ``task`` is ``(source, seed, fold, train, test)``; the source and the model are seeded
    with ``seed * 1000 + fold``.
    """
    source_name, seed, fold, train, test = task
    if cfg.n_jobs != 1 and cfg.model != "logreg":
        import torch

        torch.set_num_threads(1)
    X = data["images"] if cfg.model == "cnn" else data["X"]
    if X is None:
        raise ValueError("the cnn model needs images (n, channels, height, width) in the data.")
    gold, human = data["y_gold"], data["human"]
    model_seed = seed * 1000 + fold
    model = make_model(cfg, make_source(source_name, model_seed, cfg), model_seed)
    params = {"soft_labels": human[train]}
    if data.get("annotations") is not None:
        params["annotations"] = data["annotations"][train]
    step = model.steps[-1][0] if hasattr(model, "steps") else None
    fit_kw = {f"{step}__{k}" if step else k: v for k, v in params.items()}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X[train], gold[train], **fit_kw)
    fit_seconds = time.perf_counter() - t0
    P = model.predict_proba(X[test])
    rows = evaluate(P, gold[test], human[test], cfg.difficulty_bins, cfg.n_bins)
    rows.append(("all", "fit_seconds", fit_seconds))
    # the predictions as evaluated (float32 from networks), for the study's intervals
    out = {"task": (source_name, seed, fold), "test": test, "proba": P,
           "rows": rows, "curves": None, "dynamics": None}
    net = _net_of(model)
    if hasattr(net, "history_"):
        out["curves"] = [(int(h["epoch"]), float(h["train_loss"]),
                          float(h.get("valid_loss", np.nan))) for h in net.history_]
        dyn = dict(net.callbacks_).get("dynamics")
        if dyn is not None and dyn.logits_:
            items = train[dyn.indices_]
            dm, carto_rows = cartography_correlations(dyn.logits_, gold[items], human[items])
            rows += carto_rows
            if seed == 0 and fold == 0:
                out["dynamics"] = {"items": items, "logits": dyn.logits_, **dm}
    return out


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
    tasks = []
    for seed in range(cfg.seeds):
        splits = list(StratifiedKFold(cfg.folds, shuffle=True, random_state=seed).split(
            data["y_gold"], data["y_gold"]))
        for source in cfg.sources:
            for fold, (train, test) in enumerate(splits):
                tasks.append((source, seed, fold, train, test))
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
    return {"config": settings, "data": {"name": data["name"],
            "n_items": int(data["human"].shape[0])}, "versions": _versions(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "seeds": {"cv_split": "StratifiedKFold(shuffle=True, random_state=seed)",
                      "model": "seed * 1000 + fold"}}


def run(config=None, **kwargs):
    """Run the human-vs-model uncertainty audit; also the ``sksoft study`` command.

    Parameters
    ----------
    config : StudyConfig, optional
    **kwargs
        Fields of :class:`StudyConfig` (``data``, ``model``, ``sources``, ``seeds``, ``folds``,
        ``difficulty_bins``, ``device``, ``n_jobs``, ``backend``, ``scheduler``, ``out``,
        ``quick``, ...).

    Returns
    -------
    StudyResults
        Also written to ``out``: results.csv, curves.csv, summary.md, config.json, figures/*.png
        and cartography/<source>/training_dynamics/*.jsonl (network models).
    """
    if config is not None:
        if not isinstance(config, StudyConfig):
            raise TypeError(f"config must be a StudyConfig (or None, with the settings as "
                            f"keyword arguments); got {type(config).__name__}.")
        if kwargs:
            raise ValueError(f"give config or keyword settings, not both; got config and "
                             f"{sorted(kwargs)}.")
    cfg = (config or StudyConfig(**kwargs)).resolved()
    writer = StudyWriter(cfg.out)
    writer.start()
    data = load_study_data(cfg)
    if "dawid_skene" in cfg.sources and data.get("annotations") is None:
        raise ValueError(f"the dawid_skene source needs annotator-level votes, which {cfg.data} "
                         "does not provide (only vote counts).")
    tasks = _tasks(cfg, data)
    writer.write_config(_config_json(cfg, data))
    results = StudyResults(cfg, data, writer.out)
    bar = None
    if cfg.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc="sksoft study", unit="fit", file=sys.stderr)
    try:
        for res in _executor(cfg, data, tasks):
            writer.append_results(results.add(res))
            if bar is not None:
                bar.set_postfix_str(f"{res['task'][0]} seed {res['task'][1]} fold {res['task'][2]}")
                bar.update(1)
        results.complete = True
    except KeyboardInterrupt:
        print(f"\ninterrupted: {results.n_fits} of {len(tasks)} fits kept; writing partial "
              f"results to {writer.out}", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    writer.finish(results)
    return results
