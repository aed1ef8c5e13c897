"""sksoft: learn from soft (human) labels and measure calibration fast.

Submodules are imported lazily so that ``import sksoft`` stays fast and never imports torch.
"""

import importlib

__version__ = "0.1.0.dev0"

_SUBMODULES = {
    "metrics",
    "linear_model",
    "neural_network",
    "nn",
    "calibration",
    "conformal",
    "meta",
    "model_selection",
    "label_sources",
    "annotations",
    "datasets",
    "study",
    "plotting",
}

__all__ = sorted(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"sksoft.{name}")
    raise AttributeError(f"module 'sksoft' has no attribute {name!r}")


def __dir__():
    return __all__
