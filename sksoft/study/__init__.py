"""The human-vs-model uncertainty audit (the ``sksoft study`` command).

>>> from sksoft.study import run                                      # doctest: +SKIP
>>> results = run(data="digits", model="logreg", seeds=2, folds=3)    # doctest: +SKIP
>>> results.summary["mean"]["human_kl"]                               # doctest: +SKIP
"""

from ._runner import METRICS, SOURCE_NAMES, StudyConfig, StudyResults, run

__all__ = ["METRICS", "SOURCE_NAMES", "StudyConfig", "StudyResults", "run"]
