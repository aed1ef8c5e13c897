"""The glue between the metrics and the compiled pass (:mod:`sksoft.metrics._kernels`).

:class:`PassSpec` says what one pass computes; :func:`run_pass` runs it on checked arrays and
turns the pass's error bits (``_layout.h``, read through ``_kernels.error_codes``) into
``ValueError`` messages that name the argument and the global row.
"""

from dataclasses import dataclass, field

import numpy as np

from .._targets import label_error, row_sum_tolerance
from . import _kernels
from ._binning import float32_trunc_is_exact

__all__ = ["PassSpec", "run_pass", "SUM_FIELDS", "FIELD", "ROW_SCORES"]

#: names of the per-group sums, in the order of the pass's ``sums`` columns
SUM_FIELDS = _kernels.sum_fields()
#: name -> column of ``sums``
FIELD = {name: i for i, name in enumerate(SUM_FIELDS)}
#: names of the per-row score terms (columns of the "score" row output)
ROW_SCORES = _kernels.row_score_fields()
_ERRORS = _kernels.error_codes()

_EMPTY_F = np.zeros(0, dtype=np.float64)
_EMPTY_I = np.zeros(0, dtype=np.intp)


@dataclass
class PassSpec:
    """What one pass computes.

    Attributes
    ----------
    edges : ndarray of float64
        Top-label bin edges.
    uniform : bool
        ``edges`` are ``linspace(0, 1, n_bins + 1)`` (binned by multiply-and-correct).
    extra_bin, round32 : bool
        torchmetrics' binning: a confidence at or above the last edge goes to an extra bin;
        confidences are rounded to float32 first.
    classwise : bool
        Also the per-class histograms, with ``class_edges``: (1, n + 1) edges shared by every
        class, or (K, n + 1) per class; ``class_uniform`` when they are shared and
        ``linspace(0, 1, n + 1)``.
    want_scores, want_entropy : bool
        The per-group score sums; the entropies among them.
    want_rows : tuple of str
        Per-row outputs to fill: "conf" and "acc" (equal-mass rebinning), "entropy" (both
        entropies, for rank correlations), "cell" (top-label cell of every row) and "score"
        (the score terms of every row, :data:`ROW_SCORES`), for intervals.
    eps : float or None
        Clipping inside the cross-entropy's logarithm (None: machine epsilon of y_prob).
    """

    edges: np.ndarray
    uniform: bool = True
    extra_bin: bool = False
    round32: bool = False
    classwise: bool = False
    class_edges: np.ndarray = None
    want_scores: bool = False
    want_entropy: bool = False
    want_rows: tuple = field(default_factory=tuple)
    eps: float = None
    class_uniform: bool = True


@dataclass
class _KernelSpec:
    """The flat configuration the kernel reads (see ``calibration_pass``)."""

    n_groups: int
    edges: np.ndarray
    uniform: bool
    extra_bin: bool
    round32: bool
    trunc_exact: bool
    classwise: bool
    class_edges: np.ndarray
    n_class_bins: int
    class_uniform: bool
    class_trunc_exact: bool
    want_scores: bool
    want_entropy: bool
    eps: float
    tol: float


def run_pass(prob, targets, weight, codes, n_groups, spec, *, n_threads=1, row_offset=0):
    """Run the pass on checked arrays; return (top, cls, sums, rows).

    ``targets`` is a :class:`sksoft._targets.Targets`, ``codes`` None or C-contiguous intp group
    codes in ``[0, n_groups)``. ``rows`` maps the names of ``spec.want_rows`` outputs to
    per-row float64 arrays. A bad row raises ``ValueError`` naming the argument and the row
    (``row_offset`` + its index in this call: chunks report their global row).
    """
    n, K = prob.shape
    float32 = prob.dtype == np.float32
    classwise = bool(spec.classwise)
    if classwise:
        ce = np.ascontiguousarray(spec.class_edges, dtype=np.float64)
        n_class_bins = ce.shape[-1] - 1
    else:
        ce, n_class_bins = _EMPTY_F, 0
    edges = np.ascontiguousarray(spec.edges, dtype=np.float64)
    uniform = bool(spec.uniform)
    ks = _KernelSpec(
        n_groups=int(n_groups), edges=edges, uniform=uniform, extra_bin=bool(spec.extra_bin),
        round32=bool(spec.round32),
        trunc_exact=bool(uniform and not spec.round32 and float32
                         and float32_trunc_is_exact(edges.shape[0] - 1)),
        classwise=classwise, class_edges=ce.ravel(), n_class_bins=n_class_bins,
        class_uniform=bool(spec.class_uniform),
        class_trunc_exact=bool(classwise and spec.class_uniform and float32
                               and float32_trunc_is_exact(n_class_bins)),
        want_scores=bool(spec.want_scores),
        want_entropy=bool(spec.want_entropy or "entropy" in spec.want_rows),
        eps=float(np.finfo(prob.dtype).eps) if spec.eps is None else float(spec.eps),
        tol=row_sum_tolerance(prob.dtype, K),
    )
    rows = {"conf": None, "acc": None, "hpred": None, "htrue": None, "cell": None,
            "score": None}
    if "conf" in spec.want_rows:
        rows["conf"], rows["acc"] = np.empty(n), np.empty(n)
    if "entropy" in spec.want_rows:
        rows["hpred"], rows["htrue"] = np.empty(n), np.empty(n)
    if "cell" in spec.want_rows:
        rows["cell"] = np.empty(n, dtype=np.intp)
    if "score" in spec.want_rows:
        if not spec.want_scores:
            raise ValueError("per-row scores need want_scores")  # pragma: no cover
        rows["score"] = np.empty((n, len(ROW_SCORES)))
    soft = targets.proba if targets.soft else np.zeros((0, 1), dtype=prob.dtype)
    hard = _EMPTY_I if targets.soft else targets.codes
    top, cls, sums, err_row, err_code = _kernels.calibration_pass(
        prob, soft, hard, _EMPTY_F if weight is None else weight,
        _EMPTY_I if codes is None else codes, ks, rows, n_threads)
    if err_row >= 0:
        _raise(err_row, err_code, targets, K, row_offset)
    return top, cls, sums, {k: v for k, v in rows.items() if v is not None}


def _raise(row, code, targets, n_classes, row_offset):
    for bit, key, message in _ERRORS:
        if code & bit:
            if key == "label_range":
                raise label_error(targets.codes, n_classes, "y_true")
            raise ValueError(message.format(row=row + row_offset))
    raise ValueError(f"invalid input in row {row + row_offset} (code {code}).")  # pragma: no cover
