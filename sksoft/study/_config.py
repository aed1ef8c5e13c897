"""The settings of a study run."""

import numbers
from dataclasses import dataclass, field, replace

from .._threads import available_cores
from ._vocabulary import MODELS, REGIMES, SOURCE_LABELS, SOURCE_NAMES

__all__ = ["StudyConfig"]

BACKENDS = ("loky", "dask", "sequential")
#: the regimes of a --quick run when none are given (both fit the 2-minute budget on 2 cores)
QUICK_REGIMES = REGIMES


@dataclass
class StudyConfig:
    """Every setting of a study run (saved as config.json).

    ``regimes`` None means both (``REGIMES``). ``hidden``, ``dropout``, ``weight_decay`` and
    ``epochs`` None mean each regime's own value (``_registry.REGIME_PARAMS`` / ``TRAINING``);
    set, they override it in every regime (networks only). ``n_jobs`` parallel fits (-1: one
    per core) each get ``threads_per_fit`` threads for torch, BLAS and OpenMP (None:
    ``floor(cores / n_jobs)``, at least 1).
    """

    data: str = "digits"
    data_path: str = None
    model: str = "mlp"
    sources: tuple = SOURCE_NAMES
    regimes: tuple = None
    seeds: int = 5
    folds: int = 5
    difficulty_bins: int = 3
    n_bins: int = 15
    epochs: int = None
    hidden: tuple = None
    dropout: float = None
    weight_decay: float = None
    device: str = "cpu"
    n_jobs: int = -1
    threads_per_fit: int = None
    backend: str = "loky"
    scheduler: str = None
    out: str = "sksoft_study"
    quick: bool = False
    figures: bool = True
    progress: bool = True
    extra: dict = field(default_factory=dict)

    def resolved(self):
        """Apply --quick, resolve the defaults that depend on the run, and check values."""
        cfg = replace(self)  # shallow: user arrays given as data are not copied
        if cfg.quick:
            cfg.seeds = min(cfg.seeds, 2)
            cfg.folds = min(cfg.folds, 3)
        if cfg.regimes is None:
            cfg.regimes = QUICK_REGIMES if cfg.quick else REGIMES
        if isinstance(cfg.regimes, str):
            cfg.regimes = (cfg.regimes,)
        cfg.regimes = tuple(dict.fromkeys(cfg.regimes))
        bad = [r for r in cfg.regimes if r not in REGIMES]
        if bad or not cfg.regimes:
            raise ValueError(f"regimes must be some of {list(REGIMES)}; got {list(self.regimes)}.")
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
        self._check_overrides(cfg)
        cores = available_cores()
        if not isinstance(cfg.n_jobs, numbers.Integral) or cfg.n_jobs == 0:
            raise ValueError(f"n_jobs must be a non-zero integer (-1: one fit per core); got "
                             f"{cfg.n_jobs!r}.")
        cfg.n_jobs = int(cfg.n_jobs) if cfg.n_jobs > 0 else max(1, cores + 1 + int(cfg.n_jobs))
        if cfg.threads_per_fit is None:
            parallel = 1 if cfg.backend == "sequential" else cfg.n_jobs
            cfg.threads_per_fit = max(1, cores // parallel)
        elif not isinstance(cfg.threads_per_fit, numbers.Integral) or cfg.threads_per_fit < 1:
            raise ValueError(f"threads_per_fit must be an integer >= 1; got "
                             f"{cfg.threads_per_fit!r}.")
        cfg.sources = tuple(cfg.sources)
        return cfg

    @staticmethod
    def _check_overrides(cfg):
        given = [name for name in ("hidden", "dropout", "weight_decay")
                 if getattr(cfg, name) is not None]
        if given and cfg.model == "logreg":
            raise ValueError(f"{', '.join(given)} set the networks' hyper-parameters; model "
                             "logreg has none of them.")
        if cfg.hidden is not None:
            hidden = (cfg.hidden,) if isinstance(cfg.hidden, numbers.Integral) else cfg.hidden
            try:
                hidden = tuple(hidden)
            except TypeError:
                hidden = ()
            if not hidden or not all(isinstance(h, numbers.Integral) and h >= 1
                                     for h in hidden):
                raise ValueError(f"hidden must be one or more integers >= 1 (hidden layer "
                                 f"widths); got {cfg.hidden!r}.")
            if cfg.model == "cnn" and len(hidden) != 1:
                raise ValueError(f"for the cnn, hidden is one integer (the channels of its "
                                 f"first stage); got {cfg.hidden!r}.")
            cfg.hidden = tuple(int(h) for h in hidden)
        if cfg.dropout is not None and not (isinstance(cfg.dropout, numbers.Real)
                                            and 0 <= cfg.dropout < 1):
            raise ValueError(f"dropout must be a number in [0, 1); got {cfg.dropout!r}.")
        if cfg.weight_decay is not None and not (isinstance(cfg.weight_decay, numbers.Real)
                                                 and cfg.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a number >= 0; got {cfg.weight_decay!r}.")
        if cfg.epochs is not None and not (isinstance(cfg.epochs, numbers.Integral)
                                           and cfg.epochs >= 1):
            raise ValueError(f"epochs must be an integer >= 1; got {cfg.epochs!r}.")
