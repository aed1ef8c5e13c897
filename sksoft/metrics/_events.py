"""Inputs of the calibration estimators that work on binary events (smooth ECE, CORP).

A multiclass prediction is turned into binary events -- each a predicted probability ``p`` and
a target mass ``t`` in [0, 1] -- in one of three ways (``mode``):

* ``"top-label"``: ``p`` is the largest probability of the row (ties: the first class attaining
  it) and ``t`` the mass the target puts on that class (1/0 for hard labels: is the prediction
  correct; ``y_true[i, argmax]`` for soft labels);
* ``"classwise"``: one event per class ``k``, ``p = y_prob[:, k]`` against ``t = [y == k]`` or
  ``y_true[:, k]``;
* ``"binary"``: the event of the second class (``y == 1``, or ``labels[1]``), ``p =
  y_prob[:, 1]``; 1-D ``y_prob`` are these positive-class probabilities. It is the default for
  1-D ``y_prob``, ``"top-label"`` the default otherwise.

The value checks of ``y_prob`` and soft ``y_true`` (finite, non-negative, rows summing to 1) run
inside the estimators' compiled passes; a failing row is reported with the messages of
:func:`sksoft._targets.validate_rows` / :func:`sksoft._targets.check_targets`.
"""

from dataclasses import dataclass

import numpy as np

from .._targets import (
    check_probability_matrix,
    check_targets,
    row_sum_tolerance,
    validate_rows,
)
from .._validation import Options, check_sample_weight, check_scalar
from ._validation import resolve_threads

MODES = ("top-label", "classwise", "binary")

_EMPTY_CODES = np.zeros(0, dtype=np.intp)
_NO_WEIGHTS = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class EventInputs:
    """Validated arrays for the kernels of :mod:`._kernels.events`."""

    prob: np.ndarray  # (n, K) float32/float64, C-contiguous
    soft: np.ndarray  # (n, K) soft targets, or (0, K) float64 for hard labels
    codes: np.ndarray  # (n,) column codes of hard labels, or empty
    weight: np.ndarray  # (n,) float64, or empty for unit weights
    mode: str
    classes: np.ndarray
    tol: float
    tol_true: float
    y_true: object  # the caller's y_true and labels, to rebuild exact error messages
    labels: object
    prob_checked: bool  # 1-D y_prob: its values were checked by check_probability_matrix
    n_threads: int

    @property
    def hard(self):
        return self.soft.shape[0] == 0

    @property
    def n_samples(self):
        return self.prob.shape[0]

    @property
    def n_classes(self):
        return self.prob.shape[1]

    @property
    def total_weight(self):
        return float(self.weight.sum()) if self.weight.shape[0] else float(self.n_samples)

    def check(self, first):
        """Whether a kernel pass must check the rows' values: only the first pass over the
        data, and not for rows checked already (stacked 1-D probabilities, hard labels)."""
        return first and (not self.prob_checked or not self.hard)

    def event(self, k, first, bounds=(0.0, 1.0)):
        """The kernels' settings of one event (``event_t`` in ``_kernels/events.pyx``): the
        top label (``k`` None) or class ``k`` one-vs-rest (for ``smooth_masses`` the first of
        a block of classes), the row checks of pass ``first``, predictions clipped to
        ``bounds``."""
        return {"mode": 0 if k is None else 1, "k": 0 if k is None else k, "tol": self.tol,
                "tol_t": self.tol_true, "check": self.check(first), "lo": bounds[0],
                "hi": bounds[1]}

    def event_classes(self):
        """The classes whose one-vs-rest events ``mode`` asks for (None for top-label)."""
        if self.mode == "top-label":
            return None
        if self.mode == "binary":
            return [1]
        return list(range(self.n_classes))

    def raise_bad_row(self, row, what):
        """Raise the library's message for the row a kernel flagged (what 1: y_prob, 2:
        y_true)."""
        if what == 1:
            validate_rows(self.prob, "y_prob")
            raise ValueError(f"y_prob row {row} is not a probability distribution (finite, "
                             "non-negative, summing to 1).")
        check_targets(self.y_true, classes=self.labels, n_classes=self.n_classes,
                      name="y_true", classes_name="labels")
        raise ValueError(f"y_true row {row} is not a probability distribution (finite, "
                         "non-negative, summing to 1).")


def check_event_inputs(y_true, y_prob, *, mode, labels, sample_weight, n_threads=None):
    """Validate the arguments shared by the event-based estimators (see the module docstring)."""
    one_d = np.ndim(y_prob) == 1
    prob = check_probability_matrix(y_prob, name="y_prob", allow_1d=True)
    n, K = prob.shape
    if mode is None:
        mode = "binary" if one_d else "top-label"
    check_scalar(mode, "mode", [Options(MODES)])
    if mode == "binary" and K != 2:
        raise ValueError(
            f"mode='binary' needs the positive-class probabilities of a binary problem (1-D "
            f"y_prob or 2 columns); y_prob has {K} columns. Use mode='top-label' or "
            "'classwise' for multiclass predictions."
        )
    targets = check_targets(y_true, classes=labels, n_classes=K, name="y_true", validate=False,
                            classes_name="labels")
    if targets.n_samples != n:
        raise ValueError(f"y_true has {targets.n_samples} samples but y_prob has {n}.")
    weight = check_sample_weight(sample_weight, n, scale_free=True)
    n_threads = resolve_threads(n_threads, prob.size)
    if targets.soft:
        soft, codes = targets.proba, _EMPTY_CODES
        tol_true = row_sum_tolerance(soft.dtype, K)
    else:
        soft, codes = np.zeros((0, K), dtype=np.float64), targets.codes
        tol_true = 0.0
    return EventInputs(
        prob=prob, soft=soft, codes=codes,
        weight=_NO_WEIGHTS if weight is None else weight, mode=mode,
        classes=targets.classes, tol=row_sum_tolerance(prob.dtype, K), tol_true=tol_true,
        y_true=y_true, labels=labels, prob_checked=one_d, n_threads=n_threads,
    )
