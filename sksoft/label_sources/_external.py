"""Label distributions from outside the data set: elicited from an LLM, another crowd, a model
ensemble -- precomputed per item and given as an array or a file."""

import os
from pathlib import Path

import numpy as np

from .._io import check_path, load_npy, load_npz
from .._label_source import LabelSource
from .._targets import check_probability_matrix, validate_rows

__all__ = ["ExternalSoftLabels", "load_soft_label_table"]

_SUFFIXES = (".npy", ".npz", ".csv")


def _read_csv(path):
    """A numeric CSV (comma-separated, one row per item, one column per class; a first line
    of column names is skipped), read without pickling or evaluating anything."""
    with open(path, encoding="utf-8") as fh:
        lines = [ln.strip() for ln in fh if ln.strip()]
    if not lines:
        raise ValueError(f"soft_labels: {path} is empty.")

    def parse(line, row):
        try:
            return [float(v) for v in line.split(",")]
        except ValueError:
            raise ValueError(f"soft_labels: {path} line {row + 1} is not a row of numbers: "
                             f"{line[:60]!r}.") from None

    try:
        first = [float(v) for v in lines[0].split(",")]
        rows, start = [first], 1
    except ValueError:  # a header
        rows, start = [], 1
    rows += [parse(line, i) for i, line in enumerate(lines[start:], start)]
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise ValueError(f"soft_labels: the rows of {path} have different numbers of columns "
                         f"({sorted(widths)}).")
    if not rows:
        raise ValueError(f"soft_labels: {path} has a header but no rows.")
    return np.array(rows, dtype=np.float64)


def load_soft_label_table(soft_labels):
    """The (n_items, n_classes) label distributions of an array or a file, checked.

    Parameters
    ----------
    soft_labels : array-like of shape (n_items, n_classes), or str / os.PathLike
        A path to a ``.npy`` array, an ``.npz`` archive (its member ``soft_labels``, or its only
        member) or a ``.csv`` file of numbers (one row per item, a header line allowed). Files
        are read without unpickling anything (:mod:`sksoft._io`).

    Returns
    -------
    ndarray of float64, shape (n_items, n_classes)
        Finite, non-negative rows summing to 1 (a new array: the input is never modified).

    Examples
    --------
    >>> load_soft_label_table([[0.25, 0.75], [1, 0]]).tolist()
    [[0.25, 0.75], [1.0, 0.0]]
    """
    if isinstance(soft_labels, (str, os.PathLike)):
        path = check_path(soft_labels, "soft_labels")
        suffix = Path(path).suffix.lower()
        if suffix == ".npy":
            table = load_npy(path, "soft_labels")
        elif suffix == ".npz":
            arrays = load_npz(path)
            if "soft_labels" in arrays:
                table = arrays["soft_labels"]
            elif len(arrays) == 1:
                table = next(iter(arrays.values()))
            else:
                raise ValueError(f"soft_labels: {path} holds {sorted(arrays)}; name the array "
                                 "of distributions 'soft_labels' (or store only it).")
        elif suffix == ".csv":
            table = _read_csv(path)
        else:
            raise ValueError(f"soft_labels: {path} is not one of {', '.join(_SUFFIXES)} files.")
        where = f"soft_labels ({path})"
    else:
        if hasattr(soft_labels, "toarray") and not isinstance(soft_labels, np.ndarray):
            raise TypeError(f"soft_labels must be dense; got a sparse "
                            f"{type(soft_labels).__name__}.")
        table, where = soft_labels, "soft_labels"
    table = check_probability_matrix(table, name=where)
    table = np.array(table, dtype=np.float64, copy=True)
    return validate_rows(table, where)


class ExternalSoftLabels(LabelSource):
    """Precomputed label distributions of every item: elicited from an LLM, collected from
    another crowd, or predicted by a model ensemble -- put against the human ones under the
    same controls.

    The table holds one distribution per item of the whole data set (row ``i`` for item
    ``i``). Inside ``fit`` the source returns the rows of the training items only: the
    classifier's routed ``item_index`` (the position of every row among the items, sliced per
    fold like ``soft_labels``) picks them, so no test item's distribution is ever read.
    Without ``item_index`` the training rows must be the table's rows, in order (a fit on all
    the items); a table of another length is then an error.

    Parameters
    ----------
    name : str, default="external"
        What the distributions are (``"gpt-4o"``, ``"ensemble"``): names the source in reports.
    soft_labels : array-like of shape (n_items, n_classes), or path, default=None
        The distributions, or a ``.npy`` / ``.npz`` / ``.csv`` file of them (read safely, with
        no unpickling, at every ``fit``; see :func:`load_soft_label_table`). Required.

    Examples
    --------
    >>> import numpy as np
    >>> llm = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    >>> src = ExternalSoftLabels(name="llm", soft_labels=llm)
    >>> src.make_targets(None, np.array([0, 1]), n_classes=2, item_index=np.array([2, 0]))
    array([[0.2, 0.8],
           [0.9, 0.1]])

    In a grid search, route ``item_index`` like the human labels::

        sklearn.set_config(enable_metadata_routing=True)
        grid = GridSearchCV(SoftLogisticRegression(),
                            {"label_source": [HumanSoftLabels(), ExternalSoftLabels(
                                name="llm", soft_labels="llm.npy")]})
        grid.fit(X, y, soft_labels=H, item_index=np.arange(len(y)))
    """

    uses_item_index = True

    _parameter_constraints = {
        "name": [str],
        "soft_labels": ["array-like", str, os.PathLike],
    }

    def __init__(self, *, name="external", soft_labels=None):
        self.name = name
        self.soft_labels = soft_labels

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None, item_index=None):
        self._validate_params()
        table = load_soft_label_table(self.soft_labels)
        n = gold.shape[0]
        if table.shape[1] != n_classes:
            raise ValueError(f"soft_labels of ExternalSoftLabels(name={self.name!r}) has "
                             f"{table.shape[1]} columns but the data has {n_classes} classes.")
        if item_index is None:
            if table.shape[0] != n:
                raise ValueError(
                    f"soft_labels of ExternalSoftLabels(name={self.name!r}) has "
                    f"{table.shape[0]} rows but fit got {n}: route item_index=... (the "
                    "position of every row among the items; metadata routing) to fit.")
            return table
        idx = np.asarray(item_index, dtype=np.intp)
        if idx.shape != (n,):
            raise ValueError(f"item_index must have shape ({n},); got {idx.shape}.")
        if idx.size and idx.max() >= table.shape[0]:
            raise ValueError(f"item_index holds position {int(idx.max())} but soft_labels of "
                             f"ExternalSoftLabels(name={self.name!r}) has {table.shape[0]} "
                             "rows.")
        return table[idx]
