"""LeWiDi 2023: annotator-level labels of four subjective text-classification datasets."""

import numpy as np
from sklearn.utils import Bunch

from .._io import check_path
from .._validation import Options, check_scalar
from ..annotations import counts_to_soft, long_to_wide, majority_vote, to_counts

__all__ = ["load_lewidi2023"]

_DATASETS = ("ArMIS", "ConvAbuse", "HS-Brexit", "MD-Agreement")
_ANN_COLUMNS = {"dataset", "split", "item_id", "annotator", "label", "label_bin"}
_ITEM_COLUMNS = {"dataset", "split", "item_id", "text", "hard_label"}


def _read(path, name, columns):
    import pandas as pd

    path = check_path(path, name)
    try:
        df = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(f"{name}: {path} is not a readable CSV table ({exc}).") from None
    missing = sorted(columns - set(df.columns))
    if missing:
        raise ValueError(f"{name}: {path} lacks the LeWiDi 2023 columns {missing}.")
    return df


def load_lewidi2023(annotations_path, items_path, *, dataset, split=None, label="binary"):
    """Load one LeWiDi 2023 dataset with its annotator-level labels (Leonardelli et al., 2023).

    Parameters
    ----------
    annotations_path : str or Path
        ``lewidi2023_annotations.csv``: one row per (dataset, split, item_id, annotator,
        label, label_bin).
    items_path : str or Path
        ``lewidi2023_items.csv``: one row per item (dataset, split, item_id, text,
        hard_label, ...).
    dataset : {"ArMIS", "ConvAbuse", "HS-Brexit", "MD-Agreement"}
    split : {"train", "dev", "test"}, optional
        One split (default: all, in the order train, dev, test).
    label : {"binary", "raw"}, default="binary"
        ``"binary"``: the task's binary labels (``label_bin``); ``"raw"``: the annotators'
        own scale (ConvAbuse rates abuse ``-3 .. 1``; the other datasets are binary anyway),
        the classes being the sorted values.

    Returns
    -------
    Bunch
        ``text`` (list of str), ``annotations`` (ndarray of float64, shape (n_items,
        n_annotators): the class code each annotator gave each item, NaN where they did not
        label it -- the wide votes of :mod:`sksoft.annotations`, of
        :class:`~sksoft.label_sources.CrowdAggregate` and of the perspectivist metrics),
        ``annotators`` (the column names), ``counts`` and ``soft_labels`` (the vote counts
        and fractions), ``y_gold`` (the published hard label for ``"binary"``; the plurality
        vote, ties to the smallest class, for ``"raw"``), ``item_id``, ``split``,
        ``class_names``, ``dataset``.

    Notes
    -----
    MD-Agreement has 819 annotators (5 per item): its wide matrix is mostly NaN (10,751 x 819
    float64, 70 MB); the other datasets have 3 to 8 columns.

    References
    ----------
    .. [1] Leonardelli, E., Abercrombie, G., Almanea, D., Basile, V., Fornaciari, T., Plank,
       B., Rieser, V., Uma, A. & Poesio, M. (2023). SemEval-2023 Task 11: Learning With
       Disagreements (LeWiDi). SemEval 2023.
    """
    import pandas as pd

    check_scalar(dataset, "dataset", Options(_DATASETS))
    check_scalar(split, "split", [None, Options(("train", "dev", "test"))])
    check_scalar(label, "label", Options(("binary", "raw")))
    ann = _read(annotations_path, "annotations_path", _ANN_COLUMNS)
    items = _read(items_path, "items_path", _ITEM_COLUMNS)
    ann = ann[ann["dataset"] == dataset]
    items = items[items["dataset"] == dataset]
    if split is not None:
        ann, items = ann[ann["split"] == split], items[items["split"] == split]
    order = {"train": 0, "dev": 1, "test": 2}
    items = items.assign(_order=items["split"].map(order)).sort_values(["_order", "item_id"])
    keys = list(zip(items["split"], items["item_id"]))
    if len(set(keys)) != len(keys):
        raise ValueError(f"items_path: {dataset} has duplicate (split, item_id) rows.")
    position = {k: i for i, k in enumerate(keys)}
    task = pd.Series(list(zip(ann["split"], ann["item_id"])), index=ann.index).map(position)
    if task.isna().any():
        k = list(zip(ann["split"], ann["item_id"]))[int(np.flatnonzero(task.isna())[0])]
        raise ValueError(f"annotations_path: {dataset} has annotations of item {k} that "
                         "items_path does not list.")
    values = ann["label_bin" if label == "binary" else "label"].to_numpy()
    classes = np.unique(values)
    if label == "binary":
        classes = np.array([0, 1])
    long = pd.DataFrame({"task": task.to_numpy(dtype=np.int64),
                         "worker": ann["annotator"].astype(str).to_numpy(), "label": values})
    wide, task_ids, annotators, classes = long_to_wide(long, classes=classes)
    n = len(keys)
    if task_ids.shape[0] != n:  # items without any annotation get a row of NaN
        full = np.full((n, wide.shape[1]), np.nan)
        full[task_ids.astype(np.intp)] = wide
        wide = full
    counts = to_counts(wide, n_classes=classes.shape[0])
    if label == "binary":
        y_gold = items["hard_label"].astype(np.int64).to_numpy()
    else:
        y_gold = majority_vote(counts)
    return Bunch(text=items["text"].astype(str).tolist(), annotations=wide,
                 annotators=np.asarray(annotators), counts=counts,
                 soft_labels=counts_to_soft(counts), y_gold=np.asarray(y_gold, dtype=np.int64),
                 item_id=items["item_id"].to_numpy(), split=items["split"].to_numpy(),
                 class_names=np.asarray(classes), dataset=dataset)
