"""Post-hoc recalibration of one fit: every asked calibrator fitted on the fit's calibration
split, and the ``selected`` one, chosen on that split alone.

A fit's predicted probabilities on its calibration rows (``P_cal``) fit each recalibrator of
:data:`._registry.CALIBRATOR_FACTORIES` in passthrough mode
(``fit(P_cal, y_cal, soft_labels=H_cal)``; ``H_cal`` are the human labels of the calibration
rows at the fit's annotation budget, used only by recalibrators fitted to human labels), which
then maps the test-fold predictions. No test row is ever seen.

``selected``: the candidate -- ``none`` (the raw model) or one of the recalibrators -- with
the lowest cross-entropy to the calibration target (gold one-hot or the human labels), each
recalibrator scored out of fold over ``CALIBRATION_SELECTION["cv"]`` folds of the calibration
split; the chosen recalibrator's full-split fit gives the output. The test fold plays no part
in the choice.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold

from .._targets import one_hot
from ..metrics import log_loss
from ._evaluate import as_proba
from ._registry import CALIBRATION_SELECTION, make_calibrator
from ._vocabulary import calibrator_name

__all__ = ["recalibrate", "SELECTED"]

#: the name of the calibrator chosen on the calibration split
SELECTED = "selected"
#: the probabilities' floor inside the selection's cross-entropy
_EPS = 1e-12


def _fit(cal, P, y, H):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return clone(cal).fit(P, y, soft_labels=H)


def _selection_scores(candidates, P_cal, y_cal, H_cal, T_cal, random_state):
    """Cross-fitted cross-entropy to ``T_cal`` of each candidate (name -> unfitted
    calibrator, None for the raw model) on the calibration split."""
    n = P_cal.shape[0]
    cv = min(CALIBRATION_SELECTION["cv"], n)
    splits = list(KFold(cv, shuffle=True, random_state=random_state).split(P_cal)) \
        if cv >= 2 else []
    scores = {}
    for name, cal in candidates.items():
        if cal is None:
            scores[name] = log_loss(T_cal, P_cal, eps=_EPS)
            continue
        if not splits:
            scores[name] = np.inf
            continue
        oof = np.empty_like(P_cal)
        try:
            for a, b in splits:
                oof[b] = _fit(cal, P_cal[a], y_cal[a], H_cal[a]).predict_proba(P_cal[b])
            scores[name] = log_loss(T_cal, oof, eps=_EPS)
        except ValueError:  # a fold the recalibrator cannot fit (e.g. too few rows)
            scores[name] = np.inf
    return scores


def recalibrate(P_cal, y_cal, P_test, calibrators, targets, human_cal, random_state=0):
    """Every recalibrated output of one fit.

    Parameters
    ----------
    P_cal, P_test : ndarray (m, K), (t, K)
        The fit's predicted probabilities on its calibration rows and on the test fold.
    y_cal : ndarray (m,)
        Gold codes of the calibration rows.
    calibrators : sequence of str
        Recalibrator names (keys of ``CALIBRATOR_FACTORIES``; ``none`` is skipped).
    targets : sequence of str
        ``gold`` and/or ``human``.
    human_cal : dict
        label -> (m, K) human labels of the calibration rows; one output per label for the
        ``human`` target (e.g. one per annotation budget), and the first one is passed (and
        ignored) to the recalibrators fitted to gold.
    random_state : int
        Seed of the selection's folds.

    Returns
    -------
    list of dict
        ``calibrator`` (see :func:`._vocabulary.calibrator_name`), ``label`` (the key of
        ``human_cal`` for the human target, None for gold), ``proba`` (t, K) and, for
        ``selected``, ``chosen`` (the chosen candidate's name).
    """
    P_cal, P_test = as_proba(P_cal), as_proba(P_test)
    y_cal = np.asarray(y_cal)
    K = P_cal.shape[1]
    names = [c for c in calibrators if c != "none"]
    out = []
    first = next(iter(human_cal.values()))
    jobs = [("gold", None, first)] if "gold" in targets else []
    if "human" in targets:
        jobs += [("human", label, H) for label, H in human_cal.items()]
    for target, label, H in jobs:
        T = one_hot(y_cal, K) if target == "gold" else np.asarray(H, dtype=np.float64)
        fitted = {}
        for name in names:
            cal = make_calibrator(name, target)
            fitted[name] = _fit(cal, P_cal, y_cal, H)
            out.append({"calibrator": calibrator_name(name, target), "label": label,
                        "proba": fitted[name].predict_proba(P_test)})
        candidates = {"none": None, **{n: make_calibrator(n, target) for n in names}}
        scores = _selection_scores(candidates, P_cal, y_cal, H, T, random_state)
        chosen = min(candidates, key=lambda c: (scores[c], list(candidates).index(c)))
        out.append({"calibrator": calibrator_name(SELECTED, target), "label": label,
                    "proba": P_test if chosen == "none" else fitted[chosen].predict_proba(P_test),
                    "chosen": chosen})
    return out
