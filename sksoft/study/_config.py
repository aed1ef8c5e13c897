"""The settings of a study run."""

import numbers
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .._validation import MAX_BINS, Interval, Options, validate_params
from ._vocabulary import MODELS, SOURCE_LABELS, SOURCE_NAMES

__all__ = ["StudyConfig"]

BACKENDS = ("loky", "dask", "sequential")


@dataclass
class StudyConfig:
    """Every setting of a study run (saved as config.json); checked by :meth:`resolved`.

    ``data``: "digits", "cifar10h", a path to an ``.npz`` or a dict of arrays;
    ``data_path``: an existing file or folder (CIFAR-10H); ``seeds >= 1``, ``folds >= 2``,
    ``difficulty_bins`` and ``n_bins`` in ``[1, 10000]``, ``epochs >= 1``; ``device``: cpu,
    cuda, cuda:N or auto; ``n_jobs``: positive, or negative as in joblib (-1: all cores);
    ``out``: a folder (created); ``extra``: ``n_items`` (use the first N items) and ``name``
    (of the data).
    """

    data: str = "digits"
    data_path: str = None
    model: str = "mlp"
    sources: tuple = SOURCE_NAMES
    seeds: int = 5
    folds: int = 5
    difficulty_bins: int = 3
    n_bins: int = 15
    n_bootstrap: int = 1000
    confidence: float = 0.95
    bootstrap_seed: int = 0
    epochs: int = 30
    device: str = "cpu"
    n_jobs: int = 1
    backend: str = "loky"
    scheduler: str = None
    out: str = "sksoft_study"
    quick: bool = False
    figures: bool = True
    progress: bool = True
    extra: dict = field(default_factory=dict)

    def resolved(self):
        """Check every setting (``TypeError`` / ``ValueError`` naming it), apply --quick."""
        validate_params({f.name: getattr(self, f.name) for f in fields(self)}, _CONSTRAINTS)
        cfg = replace(self)  # shallow: user arrays given as data are not copied
        if isinstance(cfg.data, os.PathLike):
            cfg.data = os.fspath(cfg.data)
        if isinstance(cfg.data, str) and cfg.data not in ("digits", "cifar10h") \
                and not cfg.data.endswith(".npz"):
            raise ValueError(f"data must be digits, cifar10h, a path to an .npz or a dict of "
                             f"arrays; got {cfg.data!r}.")
        if cfg.data_path is not None and not Path(cfg.data_path).expanduser().exists():
            raise ValueError(f"data_path: {cfg.data_path} does not exist.")
        if Path(cfg.out).expanduser().exists() and not Path(cfg.out).expanduser().is_dir():
            raise ValueError(f"out: {cfg.out} exists and is not a folder.")
        if isinstance(cfg.sources, str) or not all(isinstance(x, str) for x in cfg.sources):
            raise TypeError(f"sources must be a list or tuple of source names; got "
                            f"{cfg.sources!r}.")
        unknown = set(cfg.sources) - set(SOURCE_LABELS)
        if unknown or not cfg.sources:
            raise ValueError(f"sources: {'unknown sources ' if unknown else 'none given'}"
                             f"{sorted(unknown) if unknown else ''}; choose from "
                             f"{sorted(SOURCE_LABELS)}.")
        if not _DEVICE.fullmatch(cfg.device):
            raise ValueError(f"device must be cpu, cuda, cuda:N or auto; got {cfg.device!r}.")
        unknown = set(cfg.extra) - set(_EXTRA)
        if unknown:
            raise ValueError(f"extra: unknown settings {sorted(unknown)}; known: "
                             f"{sorted(_EXTRA)}.")
        validate_params(cfg.extra, _EXTRA, caller="StudyConfig.extra")
        if cfg.quick:
            cfg.seeds = min(cfg.seeds, 2)
            cfg.folds = min(cfg.folds, 3)
            cfg.epochs = min(cfg.epochs, 12)
        cfg.sources = tuple(cfg.sources)
        return cfg


_POSITIVE = [Interval(numbers.Integral, 1, None, closed="left")]
_CONSTRAINTS = {
    "data": [str, os.PathLike, dict],
    "data_path": [None, str, os.PathLike],
    "model": [Options(MODELS)],
    "sources": [list, tuple],
    "seeds": _POSITIVE,
    "folds": [Interval(numbers.Integral, 2, None, closed="left")],
    "difficulty_bins": [Interval(numbers.Integral, 1, MAX_BINS, closed="both")],
    "n_bins": [Interval(numbers.Integral, 1, MAX_BINS, closed="both")],
    "epochs": _POSITIVE,
    "device": [str],
    "n_jobs": [Interval(numbers.Integral, 1, None, closed="left"),
               Interval(numbers.Integral, None, -1, closed="right")],
    "backend": [Options(BACKENDS)],
    "scheduler": [None, str],
    "out": [str, os.PathLike],
    "quick": ["boolean"],
    "figures": ["boolean"],
    "progress": ["boolean"],
    "extra": [dict],
    # the study's intervals (see ._differences)
    "n_bootstrap": [Interval(numbers.Integral, 0, 100_000, closed="both")],
    "confidence": [Interval(numbers.Real, 0, 1, closed="neither")],
    "bootstrap_seed": [Interval(numbers.Integral, 0, None, closed="left")],
}
#: the settings ``extra`` may hold: the first N items only (CIFAR-10H), the data's name
_EXTRA = {"n_items": [None, Interval(numbers.Integral, 1, None, closed="left")],
          "name": [None, str]}
_DEVICE = re.compile(r"cpu|auto|cuda(:\d+)?")
