"""The human-vs-model uncertainty audit (the ``sksoft study`` command).

>>> from sksoft.study import run                                      # doctest: +SKIP
>>> results = run(data="digits", model="logreg", seeds=2, folds=3)    # doctest: +SKIP
>>> results.summary["mean"]["human_kl"]                               # doctest: +SKIP

Layout, one road of stages with a typed record between them (see :mod:`._runner`):

* plan -- ``_plan``: every fit of the run, a :class:`._plan.FitTask` (regime, source, seed,
  fold, splits, the axis values: calibration rows, annotation budget, labelled rows);
* fit -- ``_fit``: one task in a worker -> a :class:`._fit.FitRecord` (the evaluations with
  their predictions, the training fit, stopping, dynamics, cartography, timings), with
  ``_evaluate`` (the metrics of one fit), ``_recalibrate`` (its recalibrators),
  ``_dynamics`` / ``_cartography`` (training-dynamics callbacks);
* results -- ``_results``: :class:`StudyResults`, one result schema for every axis;
* analysis -- ``_analysis``: an :class:`._analysis.Analysis` (the tables of ``_tables``, the
  intervals of ``_differences`` over :func:`sksoft.metrics.compare_predictions`, and the
  summary's sections: ``_report``, ``_differences_report``, ``_cost_benefit``);
* output -- ``_output``: :class:`._output.StudyWriter` writes every file (``_figures``
  renders the figures from the analysis's tables); it computes nothing. ``_outdir`` holds
  the output folder: its lock, the staging folder, the commit that replaces an earlier run.

Beside the road: ``_vocabulary`` (source names and labels, the metric table, which way is
better), ``_config`` (:class:`StudyConfig`), ``_data`` (loading), ``_registry`` (sources,
models and calibrators by name), ``_budget`` (the axes' rules: votes, items, calibration
split), ``_dask``.
"""

import importlib

from ._config import StudyConfig
from ._vocabulary import (
    EXTENDED_METRICS,
    HIGHER_IS_BETTER,
    METRICS,
    MODELS,
    REGIMES,
    SOURCE_LABELS,
    SOURCE_NAMES,
)

# The vocabulary is imported at once (the command line's choices need it); the runner, which
# imports scikit-learn, the datasets and the estimators, on first use, so that `sksoft --help`
# and `sksoft report` start fast.
_LAZY = {"run": "._runner", "StudyResults": "._results", "own_data": "._data"}

__all__ = ["EXTENDED_METRICS", "HIGHER_IS_BETTER", "METRICS", "MODELS", "REGIMES",
           "SOURCE_LABELS", "SOURCE_NAMES", "StudyConfig", "StudyResults", "own_data", "run"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'sksoft.study' has no attribute {name!r}")


def __dir__():
    return __all__
