"""The human-vs-model uncertainty audit (the ``sksoft study`` command).

>>> from sksoft.study import run                                      # doctest: +SKIP
>>> results = run(data="digits", model="logreg", seeds=2, folds=3)    # doctest: +SKIP
>>> results.summary["mean"]["human_kl"]                               # doctest: +SKIP

Layout: ``_vocabulary`` (source names and labels, the metric table, which way is better),
``_config`` (:class:`StudyConfig`), ``_data`` (loading), ``_registry`` (sources and models by
name), ``_evaluate`` (metrics of one fit), ``_runner`` (the run loop), ``_results``
(:class:`StudyResults`, in memory), ``_output`` (the one writer), ``_outdir`` (the output
folder: its lock, the staging folder, the commit), ``_report`` (tables and
summary.md), ``_figures``, ``_cartography`` / ``_dynamics`` (training dynamics), ``_dask``;
the recalibration and annotation-budget axes: ``_budget`` (votes, items, calibration split),
``_recalibrate`` (the recalibrators of one fit, the selected one), ``_cost_benefit`` (the
headline and cost-benefit sections).
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
