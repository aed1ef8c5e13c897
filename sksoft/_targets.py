"""The target contract shared by every sksoft metric and estimator.

A target ``y`` is either

* **hard**: 1-D class labels (ints, strings, any hashable), or an ``(n, 1)`` column (raveled with a
  ``DataConversionWarning`` by estimators), or
* **soft**: an ``(n, K)`` matrix with ``K >= 2``, non-negative, finite, each row summing to 1
  within a tolerance, whatever its dtype (an integer one-hot matrix is valid). Its classes are
  the ``classes`` given by the caller (checked against ``K``) or ``arange(K)``; they are never
  inferred from the values.
"""

import numbers

import numpy as np

__all__ = [
    "is_soft_target",
    "check_probability_matrix",
    "encode_labels",
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
    """Return True when ``y`` is 2-D with at least two columns (a soft-label matrix)."""
    shape = np.shape(y)
    return len(shape) == 2 and shape[1] >= 2


def _as_float_array(a, name):
    """Convert to a float32/float64 ndarray without copying when possible."""
    if hasattr(a, "toarray") and not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a dense array; got a sparse {type(a).__name__}.")
    arr = np.asarray(a)
    if arr.dtype.kind in "OUSV" or arr.dtype.kind == "c":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must hold real numbers; got an array of dtype {arr.dtype}."
            ) from None
        if arr.dtype.kind == "c":
            raise TypeError(f"{name} must hold real numbers; got complex values.")
    if arr.dtype == np.float32:
        return arr
    if arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    return arr


def check_probability_matrix(y, *, name="y", n_classes=None, allow_1d=False, copy_contiguous=True):
    """Validate a probability matrix (rows are distributions) and return it as float array.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_classes)
        Non-negative, finite, rows summing to 1 within :func:`row_sum_tolerance`.
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
        if arr.size and (np.any(~np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1):
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
    """Check a float probability matrix with numpy (for paths that do not go through the kernel)."""
    if not np.all(np.isfinite(arr)):
        row = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
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
            f"{name} rows must sum to 1 (within {tol:.1e}); row {row} sums to {sums[row]!r}."
        )
    return arr


def encode_labels(y, *, labels=None, n_classes=None, name="y_true", trust_range=False):
    """Map hard labels to integer codes ``0..K-1``.

    With ``labels`` given, codes are positions in ``labels`` and an unknown label raises. Without
    it, integer labels already in ``[0, n_classes)`` are their own codes (so a subset of classes
    may be present); otherwise the sorted unique values must number exactly ``n_classes``.

    ``trust_range=True`` skips the range check of integer labels (for callers whose compiled
    kernel checks it in its own pass and calls again without it on failure).

    Returns
    -------
    codes : ndarray of intp
    classes : ndarray
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D hard labels or an (n, K) soft-label matrix; got shape {y.shape}.")
    if y.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples.")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if not np.all(y == np.round(y)):
            raise ValueError(
                f"{name} is 1-D with non-integer floats: hard labels must be class labels. "
                "Pass soft labels as an (n, K) matrix."
            )
    if labels is not None:
        classes = np.asarray(labels)
        if classes.ndim != 1 or classes.shape[0] == 0:
            raise ValueError("labels must be a non-empty 1-D array of class labels.")
        if len(np.unique(classes)) != classes.shape[0]:
            raise ValueError("labels must not contain duplicates.")
        if n_classes is not None and classes.shape[0] != n_classes:
            raise ValueError(
                f"labels has {classes.shape[0]} entries but y_prob has {n_classes} columns."
            )
        order = np.argsort(classes, kind="stable")
        try:
            sorted_classes = classes[order]
            pos = np.searchsorted(sorted_classes, y)
        except TypeError:
            raise TypeError(f"{name} and labels hold incomparable types.") from None
        pos = np.clip(pos, 0, classes.shape[0] - 1)
        found = sorted_classes[pos] == y
        if not np.all(found):
            unknown = np.unique(y[~found])[:5]
            raise ValueError(f"{name} contains labels not in `labels`: {unknown.tolist()}.")
        return order[pos].astype(np.intp), classes
    if y.dtype.kind in "iub" or (y.dtype.kind == "f"):
        yi = y.astype(np.intp, copy=False)
        if n_classes is not None and (trust_range or (yi.min() >= 0 and yi.max() < n_classes)):
            return yi, np.arange(n_classes)
    classes, codes = np.unique(y, return_inverse=True)
    if n_classes is not None and classes.shape[0] != n_classes:
        raise ValueError(
            f"{name} has {classes.shape[0]} distinct labels {classes[:10].tolist()} that cannot be "
            f"matched to the {n_classes} columns of y_prob; pass labels=[...] listing the class of "
            "each column."
        )
    return codes.astype(np.intp), classes


def check_sample_weight(sample_weight, n_samples, name="sample_weight"):
    """Validate weights: None or a 1-D non-negative finite float64 array of length n."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        return np.full(n_samples, float(sample_weight))
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "iufb":
        raise TypeError(f"{name} must be numeric; got dtype {w.dtype}.")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n_samples:
        raise ValueError(f"{name} must have shape ({n_samples},); got {w.shape}.")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative.")
    if not np.any(w > 0):
        raise ValueError(f"{name} sums to zero: at least one sample needs a positive weight.")
    return w


_CVP_HINT = (
    " If these are integer codes produced by sklearn.model_selection.cross_val_predict "
    "(which label-encodes each column of a 2-D y), use "
    "sksoft.model_selection.cross_val_predict_proba instead."
)


def prepare_targets(y, *, classes=None, name="y"):
    """Apply the target contract of sksoft estimators.

    Parameters
    ----------
    y : array-like of shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        Hard labels (any hashable), a column of them (raveled with a
        ``DataConversionWarning``), or a soft-label matrix.
    classes : array-like, optional
        Class labels. For hard ``y`` they fix the label set and its order (an unknown label
        raises); for soft ``y`` they name the columns (``len(classes)`` must equal ``K``);
        without them soft columns are ``arange(K)``.

    Returns
    -------
    Y : ndarray of float64, shape (n_samples, n_classes)
        One-hot rows for hard labels, the validated matrix for soft ones.
    classes_ : ndarray
    codes : ndarray of intp or None
        Integer class codes for hard ``y``; None for soft ``y``.
    """
    import warnings

    from sklearn.exceptions import DataConversionWarning
    from sklearn.utils.multiclass import check_classification_targets

    if y is None:
        raise ValueError(
            f"This estimator requires y to be passed, but the target {name} is None."
        )
    if hasattr(y, "toarray") and not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be dense; got a sparse {type(y).__name__}.")
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y_arr = y_arr.ravel()
    if y_arr.ndim == 1:
        if y_arr.shape[0] == 0:
            raise ValueError(f"{name} is empty: it has 0 samples.")
        check_classification_targets(y_arr)
        codes, classes_ = encode_labels(y_arr, labels=classes, name=name) if classes is not None \
            else _unique_codes(y_arr)
        if classes_.shape[0] < 2:
            raise ValueError(
                f"{name} has only one class ({classes_[0]!r}); a classifier needs at least 2 classes."
            )
        Y = np.zeros((codes.shape[0], classes_.shape[0]))
        Y[np.arange(codes.shape[0]), codes] = 1.0
        return Y, classes_, codes
    if y_arr.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D class labels or an (n_samples, n_classes) soft-label matrix; "
            f"got shape {y_arr.shape}."
        )
    if y_arr.dtype.kind not in "iufb":
        raise ValueError(
            f"{name} is 2-D but not numeric (dtype {y_arr.dtype}): a soft-label matrix holds "
            "probabilities." + _CVP_HINT
        )
    Y = np.asarray(y_arr, dtype=np.float64)
    if Y.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples.")
    try:
        validate_rows(Y, name)
    except ValueError as exc:
        raise ValueError(
            f"{exc} A 2-D {name} is read as a soft-label matrix (non-negative rows summing to 1)."
            + _CVP_HINT
        ) from None
    K = Y.shape[1]
    if classes is not None:
        classes_ = np.asarray(classes)
        if classes_.ndim != 1 or classes_.shape[0] != K:
            raise ValueError(
                f"classes has {classes_.shape[0] if classes_.ndim == 1 else classes_.shape} "
                f"entries but the soft labels {name} have {K} columns."
            )
    else:
        classes_ = np.arange(K)
    return Y, classes_, None


def _unique_codes(y):
    try:
        classes_, codes = np.unique(y, return_inverse=True)
    except TypeError:
        raise TypeError("y holds labels of mixed, incomparable types.") from None
    return codes.astype(np.intp), classes_
