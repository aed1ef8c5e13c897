"""The settings of a study run."""

import numbers
from dataclasses import dataclass, field, replace

from .._validation import Interval, check_scalar
from ._vocabulary import MODELS, SOURCE_LABELS, SOURCE_NAMES

__all__ = ["StudyConfig"]

BACKENDS = ("loky", "dask", "sequential")


def _check_intervals(cfg):
    """The settings of the study's intervals (see :mod:`._differences`)."""
    cfg.n_bootstrap = check_scalar(cfg.n_bootstrap, "n_bootstrap",
                                   Interval(numbers.Integral, 0, 100_000, closed="both"))
    cfg.confidence = float(check_scalar(cfg.confidence, "confidence",
                                        Interval(numbers.Real, 0, 1, closed="neither")))
    cfg.bootstrap_seed = check_scalar(cfg.bootstrap_seed, "bootstrap_seed",
                                      Interval(numbers.Integral, 0, None, closed="left"))


@dataclass
class StudyConfig:
    """Every setting of a study run (saved as config.json)."""

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
        """Apply --quick and check values."""
        cfg = replace(self)  # shallow: user arrays given as data are not copied
        if cfg.quick:
            cfg.seeds = min(cfg.seeds, 2)
            cfg.folds = min(cfg.folds, 3)
            cfg.epochs = min(cfg.epochs, 12)
        unknown = set(cfg.sources) - set(SOURCE_LABELS)
        if unknown:
            raise ValueError(f"unknown sources {sorted(unknown)}; choose from {sorted(SOURCE_LABELS)}.")
        if cfg.model not in MODELS:
            raise ValueError(f"model must be logreg, mlp or cnn; got {cfg.model!r}.")
        if isinstance(cfg.data, str) and cfg.data not in ("digits", "cifar10h") \
                and not cfg.data.endswith(".npz"):
            raise ValueError(f"data must be digits, cifar10h, a path to an .npz or a dict of "
                             f"arrays; got {cfg.data!r}.")
        if cfg.backend not in BACKENDS:
            raise ValueError(f"backend must be loky, dask or sequential; got {cfg.backend!r}.")
        if cfg.seeds < 1 or cfg.folds < 2 or cfg.difficulty_bins < 1:
            raise ValueError("need seeds >= 1, folds >= 2 and difficulty_bins >= 1.")
        _check_intervals(cfg)
        cfg.sources = tuple(cfg.sources)
        return cfg
