"""The settings of a study run."""

import numbers
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .._threads import available_cores
from .._validation import MAX_BINS, Interval, Options, validate_params
from ._vocabulary import (
    ALLOCATIONS,
    CALIBRATION_TARGETS,
    CALIBRATORS,
    MODELS,
    REGIMES,
    SOURCE_LABELS,
    SOURCE_NAMES,
)

__all__ = ["StudyConfig", "COST_BENEFIT", "DEFAULTS", "check_data_settings"]

BACKENDS = ("loky", "dask", "sequential")
#: the regimes of a --quick run when none are given (both fit the 2-minute budget on 2 cores)
QUICK_REGIMES = REGIMES
#: the grid of ``cost_benefit=True`` (``sksoft study --cost-benefit``): the values of the
#: fields left unset (None)
COST_BENEFIT = {"annotators": (1, 3, 10, "all"), "calibrators": ("none", "temperature"),
                "sources": ("gold", "human", "smoothing"), "seeds": 5, "folds": 3}
#: the values of those fields when unset (None) without ``cost_benefit``; a value given
#: explicitly, even one equal to these, is kept under ``cost_benefit``
DEFAULTS = {"annotators": ("all",), "calibrators": ("none",), "sources": SOURCE_NAMES,
            "seeds": 5, "folds": 5}


@dataclass
class StudyConfig:
    """Every setting of a study run (saved as config.json); checked by :meth:`resolved`.

    ``data``: "digits", "cifar10h", a path to an ``.npz`` or a dict of arrays;
    ``data_path``: an existing file or folder (CIFAR-10H); ``seeds >= 1``, ``folds >= 2``,
    ``difficulty_bins`` and ``n_bins`` in ``[1, 10000]``; ``device``: cpu, cuda, cuda:N or
    auto; ``out``: a folder (created); ``extra``: ``n_items`` (use the first N items) and
    ``name`` (of the data).

    ``regimes`` None means both (``REGIMES``). ``hidden``, ``dropout``, ``weight_decay`` and
    ``epochs`` None mean each regime's own value (``_registry.REGIME_PARAMS`` / ``TRAINING``);
    set, they override it in every regime (networks only). ``n_jobs`` parallel fits (-1: one
    per core, negative as in joblib) each get ``threads_per_fit`` threads for torch, BLAS and
    OpenMP (None: ``floor(cores / n_jobs)``, at least 1). ``n_bootstrap``, ``confidence`` and
    ``bootstrap_seed`` set the paired bootstrap of the differences between sources.

    ``sources``, ``seeds``, ``folds``, ``calibrators`` and ``annotators`` None mean their
    defaults (:data:`DEFAULTS`: every source, 5 seeds, 5 folds, no recalibrator, every vote)
    or, with ``cost_benefit=True``, the cost-benefit grid's values (:data:`COST_BENEFIT`);
    values given explicitly are kept either way.
    """

    data: str = "digits"
    data_path: str = None
    model: str = "mlp"
    sources: tuple = None
    regimes: tuple = None
    seeds: int = None
    folds: int = None
    difficulty_bins: int = 3
    n_bins: int = 15
    n_bootstrap: int = 1000
    confidence: float = 0.95
    bootstrap_seed: int = 0
    calibrators: tuple = None
    calibrate_to: tuple = ("gold",)
    calibration_fraction: float = 0.1
    annotators: tuple = None
    human_fraction: tuple = (1.0,)
    allocate: tuple = ("random",)
    cost_benefit: bool = False
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
        """Check every setting (``TypeError`` / ``ValueError`` naming it), apply --quick and
        resolve the defaults that depend on the run."""
        cfg = replace(self)  # shallow: user arrays given as data are not copied
        grid = COST_BENEFIT if cfg.cost_benefit is True else {}
        for name, default in DEFAULTS.items():
            if getattr(cfg, name) is None:
                setattr(cfg, name, grid.get(name, default))
        validate_params({f.name: getattr(cfg, f.name) for f in fields(cfg)}, _CONSTRAINTS)
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
        self._check_axes(cfg)
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
        self._check_overrides(cfg)
        cores = available_cores()
        cfg.n_jobs = int(cfg.n_jobs) if cfg.n_jobs > 0 else max(1, cores + 1 + int(cfg.n_jobs))
        if cfg.threads_per_fit is None:
            parallel = 1 if cfg.backend == "sequential" else cfg.n_jobs
            cfg.threads_per_fit = max(1, cores // parallel)
        cfg.sources = tuple(cfg.sources)
        return cfg

    @staticmethod
    def _check_axes(cfg):
        """The recalibration and annotation-budget axes: known values, in a canonical order."""
        def names(field, known):
            given = getattr(cfg, field)
            if not all(isinstance(x, str) for x in given):
                raise TypeError(f"{field} must be a list or tuple of names; got {given!r}.")
            bad = [x for x in given if x not in known]
            if bad or not given:
                raise ValueError(f"{field} must be some of {list(known)}; got {list(given)}.")
            return tuple(x for x in known if x in given)

        cfg.calibrators = ("none",) + names("calibrators", CALIBRATORS)[
            1 if "none" in cfg.calibrators else 0:]
        cfg.calibrate_to = names("calibrate_to", CALIBRATION_TARGETS)
        cfg.allocate = names("allocate", ALLOCATIONS)
        ks = []
        for k in cfg.annotators:
            if isinstance(k, str) and k.strip().isdecimal():  # ('²'.isdigit() but not int)
                k = int(k)
            if isinstance(k, str) and k == "all":
                ks.append("all")
            elif isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1:
                ks.append(int(k))
            else:
                raise ValueError(f"annotators must be integers >= 1 (votes kept per item) or "
                                 f"'all'; got {list(cfg.annotators)}.")
        if not ks:
            raise ValueError("annotators: none given; use e.g. (1, 3, 'all').")
        cfg.annotators = tuple(sorted(set(k for k in ks if k != "all"))) \
            + (("all",) if "all" in ks else ())
        fr = []
        for f in cfg.human_fraction:
            if not isinstance(f, numbers.Real) or isinstance(f, bool) or not 0 < f <= 1:
                raise ValueError(f"human_fraction must be numbers in (0, 1] (the fraction of "
                                 f"training items with human labels); got "
                                 f"{list(cfg.human_fraction)}.")
            fr.append(float(f))
        if not fr:
            raise ValueError("human_fraction: none given; use e.g. (0.25, 1.0).")
        cfg.human_fraction = tuple(sorted(set(fr)))

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


def check_data_settings(cfg, data):
    """The settings that depend on the data (a resolved ``cfg`` and the loaded data): each
    fold's evaluation items are split into ``difficulty_bins`` bins, so there can be no more
    bins than a fold has items (beyond, the bins are empty and the study's tables grow with
    them: 10,000 bins of 150 items took gigabytes)."""
    n_items = int(data["human"].shape[0])
    smallest_fold = n_items // cfg.folds
    if cfg.difficulty_bins > max(1, smallest_fold):
        raise ValueError(f"difficulty_bins ({cfg.difficulty_bins}) must be at most the number "
                         f"of evaluation items of a fold ({n_items} items / {cfg.folds} folds "
                         f"= {smallest_fold}).")


_POSITIVE = [Interval(numbers.Integral, 1, None, closed="left")]
_CONSTRAINTS = {
    "data": [str, os.PathLike, dict],
    "data_path": [None, str, os.PathLike],
    "model": [Options(MODELS)],
    "sources": [list, tuple],
    "regimes": [None, str, list, tuple],
    "seeds": _POSITIVE,
    "folds": [Interval(numbers.Integral, 2, None, closed="left")],
    "difficulty_bins": [Interval(numbers.Integral, 1, MAX_BINS, closed="both")],
    "n_bins": [Interval(numbers.Integral, 1, MAX_BINS, closed="both")],
    "epochs": [None] + _POSITIVE,
    "hidden": [None, numbers.Integral, list, tuple],
    "dropout": [None, Interval(numbers.Real, 0, 1, closed="left")],
    "weight_decay": [None, Interval(numbers.Real, 0, None, closed="left")],
    "device": [str],
    "n_jobs": [Interval(numbers.Integral, 1, None, closed="left"),
               Interval(numbers.Integral, None, -1, closed="right")],
    "threads_per_fit": [None] + _POSITIVE,
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
    # the recalibration and annotation-budget axes (values checked in _check_axes)
    "calibrators": [list, tuple],
    "calibrate_to": [list, tuple],
    "calibration_fraction": [Interval(numbers.Real, 0, 0.5, closed="right")],
    "annotators": [list, tuple],
    "human_fraction": [list, tuple],
    "allocate": [list, tuple],
    "cost_benefit": ["boolean"],
}
#: the settings ``extra`` may hold: the first N items only (CIFAR-10H), the data's name
_EXTRA = {"n_items": [None, Interval(numbers.Integral, 1, None, closed="left")],
          "name": [None, str]}
_DEVICE = re.compile(r"cpu|auto|cuda(:\d+)?")
