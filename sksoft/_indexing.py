"""Row counting and row selection for the containers sksoft accepts as ``X`` or metadata.

scikit-learn's own helpers for this (``_safe_indexing``, ``_num_samples``) are private and may
change in any release; these cover what sksoft needs: numpy arrays (and anything with a
``shape`` that numpy-style indexing understands, e.g. torch tensors and memmaps), pandas
DataFrames and Series, scipy sparse matrices and arrays, and lists / tuples.
"""

import numbers

import numpy as np
from scipy import sparse

__all__ = ["num_samples", "take_rows"]


def num_samples(x, name="X"):
    """Number of rows of ``x`` (its first dimension).

    Examples
    --------
    >>> num_samples([[1, 2], [3, 4], [5, 6]])
    3
    >>> num_samples(np.float64(3.0))
    Traceback (most recent call last):
    ...
    TypeError: X must be an array-like with a first dimension; got a 0-d float64.
    """
    if isinstance(x, dict) and not sparse.issparse(x) and x:  # (a dok matrix is a dict)  # inputs of a torch module
        return num_samples(next(iter(x.values())), name)
    shape = getattr(x, "shape", None)
    if shape is not None and not callable(shape):
        if len(shape) == 0:
            raise TypeError(
                f"{name} must be an array-like with a first dimension; got a 0-d "
                f"{getattr(x, 'dtype', type(x).__name__)}.")
        n = shape[0]
        if isinstance(n, numbers.Integral):
            return int(n)
    if hasattr(x, "__len__") and not isinstance(x, (str, bytes, dict)):
        return len(x)
    raise TypeError(f"{name} must be an array-like with a first dimension; got "
                    f"{type(x).__name__}.")


def take_rows(x, rows):
    """The rows ``rows`` (integer positions) of ``x``, in the container type of ``x``.

    Examples
    --------
    >>> take_rows(np.arange(6).reshape(3, 2), [2, 0]).tolist()
    [[4, 5], [0, 1]]
    >>> take_rows(["a", "b", "c"], np.array([1]))
    ['b']
    """
    rows = np.asarray(rows)
    if rows.dtype.kind == "b":
        rows = np.flatnonzero(rows)
    elif rows.dtype.kind not in "iu":
        if rows.size:
            raise TypeError(f"rows must be integer positions; got dtype {rows.dtype}.")
        rows = rows.astype(np.intp)
    if hasattr(x, "iloc"):  # pandas DataFrame / Series: positions, not index labels
        return x.iloc[rows]
    if sparse.issparse(x):
        if x.format not in ("csr", "csc", "lil"):  # coo, dia, bsr, dok: no row indexing
            x = x.tocsr()
        return x[rows]
    if isinstance(x, (list, tuple)):
        return [x[i] for i in rows.tolist()]
    if hasattr(x, "shape") and hasattr(x, "__getitem__"):
        return x[rows]
    raise TypeError(f"cannot select rows of a {type(x).__name__}; pass an array, a DataFrame, "
                    "a sparse matrix or a list.")
