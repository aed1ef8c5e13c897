"""The study's run loop: plan -> fit -> results -> analysis -> output.

It only orchestrates the stages, each a module with one job and a typed record between them:
the data come from :mod:`._data`; :mod:`._plan` lists every fit (:class:`._plan.FitTask`);
:mod:`._fit` runs one (:class:`._fit.FitRecord`), in parallel workers; the in-memory results
are :class:`._results.StudyResults` (results.csv is appended fit by fit); :mod:`._analysis`
builds the summary's tables, intervals and text (:class:`._analysis.Analysis`); and
:class:`._output.StudyWriter` writes every file, computing nothing. The seconds of each stage
are recorded in config.json (``timing``) and in the summary's footer.
"""

import platform
import sys
import time
from dataclasses import fields

from .._threads import available_cores
from ._analysis import analyse
from ._config import StudyConfig, check_data_settings
from ._data import load_study_data
from ._fit import fit_one
from ._output import StudyWriter
from ._plan import plan_tasks
from ._registry import regime_settings
from ._results import StudyResults

__all__ = ["run", "fit_one"]


def _versions():
    import importlib

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("sksoft", "numpy", "scipy", "sklearn", "torch", "skorch", "pandas", "matplotlib"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # noqa: BLE001
            out[mod] = None
    return out


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
    t0 = time.perf_counter()
    tasks = plan_tasks(cfg, data)
    t_plan = time.perf_counter()
    writer = StudyWriter(cfg.out)  # everything is checked: only now is out touched
    writer.start()
    try:
        return _run_tasks(cfg, data, tasks, writer, t0, t_plan)
    finally:
        writer.close()


def _run_tasks(cfg, data, tasks, writer, t0, t_plan):
    config_json = _config_json(cfg, data)
    writer.write_config(config_json)
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
                regime, source, seed, fold = res.key
                bar.set_postfix_str(f"{regime} {source} seed {seed} fold {fold}")
                bar.update(1)
        results.complete = True
    except KeyboardInterrupt:
        print(f"\ninterrupted: {results.n_fits} of {len(tasks)} fits kept; writing partial "
              f"results to {cfg.out}", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    t_fits = time.perf_counter()
    analysis = analyse(results)
    t_analysis = time.perf_counter()
    results.timing = {"plan": t_plan - t0, "fits": t_fits - t_plan,
                      "analysis": t_analysis - t_fits}
    writer.finish(results, analysis, config_json)
    return results
