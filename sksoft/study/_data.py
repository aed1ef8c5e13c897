"""The study's data: built-in digits, CIFAR-10H, or the user's arrays, as one dict.

Every loader returns ``{"X": (n, d) float32 features, "images": (n, C, H, W) float32 or None,
"y_gold": (n,) class codes, "human": (n, K) label distributions, "annotations": wide votes or
None, "counts": (n, K) vote counts or None, "class_names", "name"}`` (the annotation-budget
axis subsamples the annotations, or else the counts).
"""

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._io import load_npz
from .._targets import reject_non_numeric, check_targets
from .._validation import check_scalar
from ..annotations import counts_to_soft, to_counts
from ..datasets import fetch_cifar10h, image_features, load_cifar10h, make_ambiguous_digits

__all__ = ["own_data", "load_study_data", "CIFAR10_MEAN", "CIFAR10_STD"]

#: per-channel mean and standard deviation of the CIFAR-10 training images (RGB, in [0, 1]),
#: the usual normalisation of CIFAR-10 networks
CIFAR10_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
CIFAR10_STD = np.array([0.247, 0.243, 0.261], dtype=np.float32)


#: the arrays of the user's data that the study reads
_OWN_KEYS = ("X", "images", "y_gold", "soft_labels", "counts", "annotations", "class_names")


def own_data(arrays, name="user data"):
    """Validate a user's arrays for the study.

    ``arrays`` (a dict, or the arrays of an ``.npz``) holds ``X`` (n, d) features and/or
    ``images`` (n, channels, height, width), ``y_gold`` (n,) integer class codes, and the human
    labels as ``soft_labels`` (n, K) distributions or ``counts`` (n, K) votes; optionally
    ``annotations`` (n, n_annotators) wide votes with NaN for missing, ``class_names`` (K,).
    Labels go through sksoft's target contract (:func:`sksoft._targets.check_targets`).
    """
    check_scalar(name, "name", str)
    if not isinstance(arrays, Mapping):
        raise TypeError(f"arrays must be a dict of arrays (or the arrays of an .npz); got "
                        f"{type(arrays).__name__}.")
    keys = set(arrays)
    if "y_gold" not in keys or not ({"soft_labels", "counts"} & keys) \
            or not ({"X", "images"} & keys):
        raise ValueError("study data (arrays) needs y_gold, soft_labels or counts, and X or "
                         f"images; got {sorted(keys)}.")
    if "soft_labels" in keys:
        t = check_targets(arrays["soft_labels"], name="soft_labels")
        if not t.soft:
            raise ValueError("soft_labels must be an (n, K) matrix of label distributions.")
        human = np.asarray(t.proba, dtype=np.float64)
    else:
        human = counts_to_soft(arrays["counts"])
    n, K = human.shape
    try:
        gold = check_targets(arrays["y_gold"], n_classes=K, name="y_gold")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y_gold must be {n} integer class codes in [0, {K}): {exc}") from None
    if gold.soft or gold.n_samples != n:
        raise ValueError(f"y_gold must be {n} integer class codes in [0, {K}).")
    out = {"y_gold": gold.codes, "human": human, "name": str(name),
           "annotations": _wide_votes(arrays["annotations"], n, K)
           if "annotations" in keys else None,
           "counts": _whole_counts(arrays["counts"], n, K) if "counts" in keys else None,
           "class_names": np.asarray(arrays["class_names"]) if "class_names" in keys
           else np.array([str(k) for k in range(K)])}
    for key in ("X", "images"):
        if key in keys:
            # strings, dates or objects are refused before any cast (numpy would read '1.5')
            a = reject_non_numeric(np.asarray(arrays[key]), key).astype(np.float32)
            if a.shape[0] != n:
                raise ValueError(f"{key} has {a.shape[0]} rows but the labels have {n}.")
            out[key] = a
    if "X" not in out:
        out["X"] = out["images"].reshape(n, -1)
    out.setdefault("images", None)
    return out


def _wide_votes(annotations, n, K):
    """The wide votes as float64 (NaN: missing), checked: one row per item, codes in [0, K)
    (the annotation-budget axis and dawid_skene index them like the labels)."""
    to_counts(annotations, n_classes=K)  # 2-D, real, whole non-negative codes below K
    A = np.asarray(annotations, dtype=np.float64)
    if A.shape[0] != n:
        raise ValueError(f"annotations have {A.shape[0]} rows but the labels have {n}.")
    return A


def _whole_counts(counts, n, K):
    C = np.asarray(counts)
    if C.shape != (n, K):
        raise ValueError(f"counts must have shape ({n}, {K}) like the labels; got {C.shape}.")
    if C.dtype.kind not in "iuf" or (C.dtype.kind == "f" and not np.all(np.isfinite(C))) \
            or C.min(initial=0) < 0:
        raise ValueError("counts must be non-negative whole numbers of votes.")
    if C.dtype.kind == "f" and np.any(C != np.round(C)):
        raise ValueError("counts must hold whole numbers of votes.")
    return C.astype(np.int64)


def _digits():
    d = make_ambiguous_digits(random_state=0)
    images = d.images[:, None, :, :].astype(np.float32)
    return {"X": d.X.astype(np.float32), "images": images, "y_gold": d.y_gold,
            "human": d.soft_labels, "annotations": d.annotations, "counts": None,
            "class_names": d.class_names, "name": "ambiguous digits (built-in, simulated "
            "annotators)"}


def _cifar10h(path, n_items=None):
    if path is None:
        d = fetch_cifar10h()
    elif str(path).endswith(".npz"):
        d = load_cifar10h(path)
    else:
        p = Path(path)
        d = load_cifar10h(counts_path=p / "cifar10h-counts.npy",
                          batch_path=next((q for q in (p / "cifar-10-binary.tar.gz",
                                                       p / "test_batch.bin") if q.exists()), None))
    n_items = int(n_items or d.counts.shape[0])
    images = d.images[:n_items]
    X = image_features(images)
    imgs = ((images.astype(np.float32) / 255.0 - CIFAR10_MEAN) / CIFAR10_STD).transpose(0, 3, 1, 2)
    return {"X": X, "images": np.ascontiguousarray(imgs), "y_gold": d.y_gold[:n_items],
            "human": d.soft_labels[:n_items], "annotations": None,
            "counts": d.counts[:n_items],
            "class_names": d.class_names, "name": "CIFAR-10H (human labels, Peterson et al. 2019)"}


def load_study_data(cfg):
    """Features, gold labels, human distributions (and annotations / images when present)."""
    if not isinstance(cfg.data, str):
        return own_data(cfg.data, cfg.extra.get("name", "user data"))
    if cfg.data.endswith(".npz"):
        arrays = load_npz(cfg.data, names=_OWN_KEYS)
        return own_data(arrays, cfg.extra.get("name", cfg.data))
    if cfg.data == "digits":
        return _digits()
    return _cifar10h(cfg.data_path, cfg.extra.get("n_items"))
