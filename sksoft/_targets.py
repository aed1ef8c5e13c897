"""The target contract shared by every sksoft metric, estimator, scorer, splitter and the CLI.

A target ``y`` is either

* **hard**: 1-D class labels (ints, strings, any hashable), or an ``(n, 1)`` column of them
  (raveled; estimators warn with a ``DataConversionWarning``, as scikit-learn's do), or
* **soft**: an ``(n, K)`` matrix with ``K >= 2``, non-negative, finite, each row summing to 1
  within :func:`row_sum_tolerance`, whatever its numeric dtype (an integer or boolean one-hot
  matrix is valid). Its classes are the ``classes`` given by the caller (checked against ``K``)
  or ``arange(K)``; they are never inferred from the values.

**The label rule.** Where the columns are already fixed (a metric's ``y_prob``, a fitted
estimator), hard labels are *column codes* ``0..K-1`` unless ``labels=`` (or the estimator's
``classes_``) names the class of each column; any other label is a ``ValueError`` that names the
offending values. Nothing is guessed from the number of distinct labels, so a chunk of rows is
decoded exactly as the whole array is. Where the columns are being defined (``fit``), the
classes are ``classes=`` or, as in scikit-learn, the sorted unique labels.

1-D non-integer floats are rejected everywhere: a binary soft label is an ``(n, 2)`` matrix
(``np.column_stack([1 - p, p])``), never a guess from the values.

:func:`check_targets` is the one place that turns an accepted ``y`` into a :class:`Targets`.
"""

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Targets",
    "check_targets",
    "prepare_targets",
    "is_soft_target",
    "one_hot",
    "encode_labels",
    "check_classes",
    "label_error",
    "check_probability_matrix",
    "validate_rows",
    "row_sum_tolerance",
]


def row_sum_tolerance(dtype, n_classes):
    """Absolute tolerance on ``|sum(row) - 1|`` for a probability row.

    Float32 softmax outputs of K classes carry a rounding error that grows with K; float64 rows
    computed from vote counts are exact to ~1e-15. Anything beyond this is a user error.
    """
    eps = np.finfo(np.float32).eps if np.dtype(dtype) == np.float32 else np.finfo(np.float64).eps
    return 1e-6 + 64 * eps * max(int(n_classes), 1)


def is_soft_target(y):
    """True when ``y`` is 2-D with at least two columns (a soft-label matrix).

    An ``(n, 1)`` column is a column of hard labels.
    """
    shape = np.shape(y)
    return len(shape) == 2 and shape[1] >= 2


def one_hot(codes, n_classes, dtype=np.float64):
    """``(n, n_classes)`` one-hot rows of integer class codes.

    Examples
    --------
    >>> one_hot(np.array([1, 0]), 3).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    """
    codes = np.asarray(codes, dtype=np.intp)
    Y = np.zeros((codes.shape[0], int(n_classes)), dtype=dtype)
    Y[np.arange(codes.shape[0]), codes] = 1
    return Y


def reject_non_numeric(arr, name):
    """TypeError for dtypes that are not real numbers (checked before any cast)."""
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} must hold real numbers; got "
                         f"dtype {arr.dtype}.")
    if kind in "mM":
        raise TypeError(f"{name} must hold real numbers; got dates/times (dtype {arr.dtype}).")
    if kind in "OUSV":
        # an object array of Python floats is fine; strings, complex numbers and junk are not
        if kind == "O" and arr.size and all(
                isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, complex)
                for v in arr.flat):
            return arr.astype(np.float64)
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}.")
    return arr


def _as_float_array(a, name):
    """Convert to a float32/float64 ndarray without copying when possible."""
    if hasattr(a, "toarray") and not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a dense array; got a sparse {type(a).__name__}.")
    arr = reject_non_numeric(np.asarray(a), name)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return arr
    return arr.astype(np.float64)


def check_probability_matrix(y, *, name="y", n_classes=None, allow_1d=False, copy_contiguous=True):
    """Check the shape and dtype of a probability matrix and return it as a float array.

    The values (finite, non-negative, rows summing to 1) are checked by the metrics' compiled
    pass, or by :func:`validate_rows`.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_classes)
    name : str
        Argument name used in error messages.
    n_classes : int, optional
        Expected number of columns.
    allow_1d : bool
        Accept 1-D positive-class probabilities of a binary problem (stacked to two columns).
    copy_contiguous : bool
        Return a C-contiguous array (copying non-contiguous input once).

    Returns
    -------
    ndarray of float32 or float64, shape (n_samples, n_classes)
        The input itself when it already is a C-contiguous float array (never modified).
    """
    arr = _as_float_array(y, name)
    if arr.ndim == 1 and allow_1d:
        if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1):
            raise ValueError(
                f"{name} given as 1-D positive-class probabilities must lie in [0, 1] "
                "and be finite."
            )
        arr = np.column_stack([1.0 - arr, arr]).astype(arr.dtype, copy=False)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_classes); got shape {arr.shape}."
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples.")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 columns (classes).")
    if n_classes is not None and arr.shape[1] != n_classes:
        raise ValueError(
            f"{name} has {arr.shape[1]} columns but {n_classes} classes were expected."
        )
    if copy_contiguous and not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return arr


def validate_rows(arr, name):
    """Check a float probability matrix with numpy (for paths that do not use the kernel)."""
    finite = np.isfinite(arr)
    if not np.all(finite):
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise ValueError(f"{name} contains NaN or infinity (first in row {row}).")
    if np.any(arr < 0):
        row = int(np.flatnonzero((arr < 0).any(axis=1))[0])
        raise ValueError(f"{name} contains negative values (first in row {row}).")
    sums = arr.sum(axis=1, dtype=np.float64)
    tol = row_sum_tolerance(arr.dtype, arr.shape[1])
    bad = np.abs(sums - 1.0) > tol
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} rows must sum to 1 (within {tol:.1e}); row {row} sums to {float(sums[row])!r}."
        )
    return arr


_CVP_HINT = (
    " If these are integer codes produced by sklearn.model_selection.cross_val_predict (which "
    "label-encodes each column of a 2-D y), use sksoft.model_selection.cross_val_predict_proba "
    "instead."
)

_CONTINUOUS = (
    "Unknown label type: continuous. {name} is 1-D with non-integer values, but 1-D targets "
    "are hard class labels; pass binary soft labels as an (n, 2) matrix, e.g. "
    "np.column_stack([1 - p, p])."
)


def _hard_1d(y, name):
    """Ravel an (n, 1) column and check 1-D hard labels (not their range)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D hard labels or an (n, K) soft-label matrix; got shape {y.shape}."
        )
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples.")
    if y.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} must hold class labels; got "
                         f"dtype {y.dtype}.")
    if y.dtype.kind in "mM":
        raise TypeError(f"{name} must hold class labels; got dtype {y.dtype}.")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if not np.all(y == np.round(y)):
            raise ValueError(_CONTINUOUS.format(name=name))
    if y.dtype.kind == "O":
        for v in y:
            if isinstance(v, (float, np.floating)) and not (np.isfinite(v) and v == round(v)):
                if v != v:
                    raise ValueError(f"{name} contains NaN or missing labels.")
                raise ValueError(_CONTINUOUS.format(name=name))
            if v is None:
                raise ValueError(f"{name} contains missing labels (None).")
    return y


def _is_integral(y):
    return y.dtype.kind in "iub" or y.dtype.kind == "f"


def label_error(y, n_classes, name="y_true"):
    """The ``ValueError`` for hard labels that are not column codes ``0..n_classes-1``."""
    y = np.asarray(y)
    if _is_integral(y):
        bad = np.unique(y[(y < 0) | (y >= n_classes)])
        shown = ", ".join(repr(v.item()) for v in bad[:5]) + (", ..." if bad.size > 5 else "")
        what = f"labels outside [0, {n_classes}): {shown}"
    else:
        what = f"labels of dtype {y.dtype} (e.g. {y[0]!r})"
    return ValueError(
        f"{name} has {what}. Hard labels are the column codes 0..{n_classes - 1} of y_prob "
        "unless labels=[...] names the class of each column."
    )


def check_classes(classes, *, name="classes", n_classes=None, columns="columns"):
    """The class of each column: a 1-D array-like of distinct labels (``n_classes`` of them).

    A scalar, a string or a mapping is a ``TypeError``; an empty, multi-dimensional or
    duplicated list, NaN among the labels, or a length other than ``n_classes`` (the number of
    ``columns``) is a ``ValueError``.

    Examples
    --------
    >>> check_classes(["a", "b"]).tolist()
    ['a', 'b']
    >>> check_classes([0, 0, 1])
    Traceback (most recent call last):
    ...
    ValueError: classes must not contain duplicates; got [0, 0, 1].
    """
    if np.ndim(classes) == 0 or isinstance(classes, (str, bytes, dict)):
        raise TypeError(f"{name} must be a 1-D array-like of class labels; got "
                        f"{type(classes).__name__}.")
    cls = np.asarray(classes)
    if cls.ndim != 1 or cls.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of class labels; got shape "
                         f"{cls.shape}.")
    if cls.dtype.kind in "cmMV":
        raise TypeError(f"{name} must hold class labels; got dtype {cls.dtype}.")
    if cls.dtype.kind == "f" and not np.all(np.isfinite(cls)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if n_classes is not None and cls.shape[0] != n_classes:
        raise ValueError(f"{name} has {cls.shape[0]} entries but there are {n_classes} "
                         f"{columns}.")
    try:
        distinct = np.unique(cls).shape[0]
    except TypeError:
        raise TypeError(f"{name} holds labels of mixed, incomparable types.") from None
    if distinct != cls.shape[0]:
        shown = cls[:10].tolist()
        raise ValueError(f"{name} must not contain duplicates; got {shown}"
                         + (" ..." if cls.shape[0] > 10 else "") + ".")
    return cls


def encode_labels(y, *, labels=None, n_classes=None, name="y_true", trust_range=False,
                  labels_name="labels"):
    """Map hard labels to the integer column codes ``0..K-1`` (the label rule above).

    With ``labels``, a label's code is its position in ``labels`` and an unknown label raises.
    Without it, integer labels (or integral floats, or booleans) are the codes themselves and
    must lie in ``[0, n_classes)``; anything else raises, naming the offending values.
    ``trust_range=True`` skips that range check for callers whose compiled pass checks it
    (they call :func:`label_error` when it fails). ``labels_name`` names ``labels`` in
    messages (estimators call it ``classes``).

    Returns
    -------
    codes : ndarray of intp, C-contiguous
    classes : ndarray
        ``labels``, or ``arange(n_classes)``.

    Examples
    --------
    >>> encode_labels([0, 2], n_classes=3)[0].tolist()
    [0, 2]
    >>> encode_labels(["b", "a"], labels=["a", "b"])[0].tolist()
    [1, 0]
    >>> encode_labels([-1, 0], n_classes=2)
    Traceback (most recent call last):
    ...
    ValueError: y_true has labels outside [0, 2): -1. Hard labels are the column codes 0..1 \
of y_prob unless labels=[...] names the class of each column.
    """
    y = _hard_1d(np.asarray(y), name)
    if labels is not None:
        classes = check_classes(labels, name=labels_name, n_classes=n_classes,
                                columns="columns of y_prob")
        order = np.argsort(classes, kind="stable")
        sorted_classes = classes[order]
        try:
            pos = np.searchsorted(sorted_classes, y)
        except TypeError:
            raise TypeError(f"{name} and {labels_name} hold incomparable types.") from None
        pos = np.clip(pos, 0, classes.shape[0] - 1)
        found = sorted_classes[pos] == y
        if not np.all(found):
            unknown = np.unique(y[~found])
            shown = unknown[:5].tolist()
            raise ValueError(f"{name} contains labels not in `{labels_name}`: {shown}"
                             + (" ..." if unknown.size > 5 else "") + ".")
        return np.ascontiguousarray(order[pos], dtype=np.intp), classes
    if n_classes is None:
        raise ValueError("encode_labels needs labels or n_classes.")  # pragma: no cover
    if not _is_integral(y):
        raise label_error(y, n_classes, name)
    codes = np.ascontiguousarray(y, dtype=np.intp)
    if not trust_range and (codes.min() < 0 or codes.max() >= n_classes):
        raise label_error(y, n_classes, name)
    return codes, np.arange(n_classes)


@dataclass(frozen=True)
class Targets:
    """A validated target: exactly one of ``codes`` (hard) and ``proba`` (soft) is set.

    Attributes
    ----------
    codes : ndarray of intp, shape (n,), or None
        Column codes of hard labels.
    proba : ndarray of float32/float64, shape (n, K), or None
        Soft labels (the caller's array when it already was a C-contiguous float array).
    classes : ndarray of shape (K,)
    """

    codes: np.ndarray
    proba: np.ndarray
    classes: np.ndarray

    @property
    def soft(self):
        return self.proba is not None

    @property
    def n_samples(self):
        return (self.proba if self.soft else self.codes).shape[0]

    def dense(self, dtype=np.float64):
        """The targets as an (n, K) matrix (one-hot rows for hard labels)."""
        if self.soft:
            return np.asarray(self.proba, dtype=dtype)
        return one_hot(self.codes, self.classes.shape[0], dtype)


def check_targets(y, *, classes=None, n_classes=None, name="y", infer_classes=False,
                  validate=True, trust_range=False, column_warning=False,
                  classes_name="classes"):
    """Turn any accepted ``y`` into :class:`Targets` -- the one place that decides.

    Parameters
    ----------
    y : array-like of shape (n,), (n, 1) or (n, K)
    classes : array-like, optional
        Hard ``y``: the class of each column (codes are positions in it). Soft ``y``: the
        column names (length K).
    n_classes : int, optional
        The number of columns fixed by the caller (a metric's ``y_prob``).
    name : str
        Argument name used in messages.
    infer_classes : bool
        Hard ``y`` without ``classes``: take the sorted unique labels as the classes (``fit``).
        Otherwise labels must be column codes ``0..n_classes-1``.
    validate : bool
        Check soft rows with numpy (callers whose compiled pass checks them pass False).
    trust_range : bool
        See :func:`encode_labels`.
    column_warning : bool
        Warn (``DataConversionWarning``) when an (n, 1) column is raveled.
    classes_name : str
        Argument name of ``classes`` in messages (the metrics call it ``labels``).

    Examples
    --------
    >>> t = check_targets(np.array([[0.2, 0.8], [1.0, 0.0]]))
    >>> t.soft, t.classes.tolist()
    (True, [0, 1])
    >>> check_targets(["cat", "dog", "cat"], infer_classes=True).codes.tolist()
    [0, 1, 0]
    """
    if y is None:
        raise ValueError(f"{name} is None; targets are required.")
    if hasattr(y, "toarray") and not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be dense; got a sparse {type(y).__name__}.")
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        if column_warning:
            from sklearn.exceptions import DataConversionWarning

            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please change the "
                "shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning, stacklevel=3,
            )
        y_arr = y_arr.ravel()
    if y_arr.ndim == 2:
        if y_arr.dtype.kind not in "iufb":
            if y_arr.dtype.kind in "OUS":
                raise ValueError(
                    f"{name} is 2-D but not numeric (dtype {y_arr.dtype}): a soft-label matrix "
                    "holds probabilities." + _CVP_HINT)
            reject_non_numeric(y_arr, name)
        P = check_probability_matrix(y_arr, name=name, n_classes=n_classes)
        if validate:
            try:
                validate_rows(P, name)
            except ValueError as exc:
                # integer matrices that are not one-hot are typically cross_val_predict's codes
                hint = _CVP_HINT if y_arr.dtype.kind in "iu" else ""
                raise ValueError(f"{exc} A 2-D {name} is read as a soft-label matrix "
                                 "(non-negative rows summing to 1)." + hint) from None
        K = P.shape[1]
        if classes is not None:
            cls = check_classes(classes, name=classes_name, n_classes=K,
                                columns=f"columns of the soft labels {name}")
        else:
            cls = np.arange(K)
        return Targets(codes=None, proba=P, classes=cls)
    y_arr = _hard_1d(y_arr, name)
    if classes is None and infer_classes:
        try:
            cls, codes = np.unique(y_arr, return_inverse=True)
        except TypeError:
            raise TypeError(f"{name} holds labels of mixed, incomparable types.") from None
        if n_classes is not None and cls.shape[0] > n_classes:
            raise ValueError(f"{name} has {cls.shape[0]} classes but {n_classes} were expected.")
        return Targets(codes=np.ascontiguousarray(codes, dtype=np.intp), proba=None, classes=cls)
    if classes is None and n_classes is None:
        raise ValueError(f"{name}: hard labels need the number of classes or classes=[...].")
    codes, cls = encode_labels(y_arr, labels=classes, n_classes=n_classes, name=name,
                               trust_range=trust_range, labels_name=classes_name)
    return Targets(codes=codes, proba=None, classes=cls)


def prepare_targets(y, *, classes=None, name="y"):
    """The target contract of sksoft estimators' ``fit``.

    Hard ``y`` (any hashable labels; an (n, 1) column is raveled with a
    ``DataConversionWarning``) gets ``classes`` -- which fix the label set and its order -- or
    the sorted unique labels; soft ``y`` is validated. At least two classes are required.

    Returns
    -------
    Y : ndarray of float64, shape (n_samples, n_classes)
        One-hot rows for hard labels, the validated matrix for soft ones.
    classes_ : ndarray
    codes : ndarray of intp or None
        Class codes of hard ``y``; None for soft ``y``.
    """
    from sklearn.utils.multiclass import check_classification_targets

    if y is None:
        raise ValueError(
            f"This estimator requires y to be passed, but the target {name} is None."
        )
    t = check_targets(y, classes=classes, name=name, infer_classes=True, column_warning=True)
    if not t.soft:
        y_arr = np.asarray(y)
        check_classification_targets(y_arr.ravel() if y_arr.ndim == 2 else y_arr)
        if t.classes.shape[0] < 2:
            raise ValueError(
                f"{name} has only one class ({t.classes[0]!r}); a classifier needs at least "
                "2 classes.")
    return t.dense(np.float64), t.classes, t.codes
