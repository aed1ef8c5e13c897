"""Sphinx configuration of sksoft's documentation (``sphinx-build -W docs docs/_build/html``).

The API reference is generated from the code: ``api.rst`` is written here, at build time, from
``sksoft.__all__`` and each public submodule's ``__all__``, so a public name cannot be left out.
Needs the docs extra: ``pip install ".[docs]"``.
"""

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the source tree (built in place) when not installed

import sksoft  # noqa: E402

project = "sksoft"
author = "sksoft developers"
copyright = "2026, sksoft developers"  # noqa: A001 (Sphinx's name)
release = sksoft.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
# the build runs without network on CI machines: intersphinx then only warns about the fetch
intersphinx_disabled_reftypes = ["*"] if os.environ.get("SKSOFT_DOCS_OFFLINE") else []
if os.environ.get("SKSOFT_DOCS_OFFLINE"):
    intersphinx_mapping = {}
exclude_patterns = ["_build", "*_summary.md", "images"]
source_suffix = {".rst": "restructuredtext"}
templates_path = []
html_theme = "pydata_sphinx_theme"
html_title = f"sksoft {release}"

# --------------------------------------------------------------------------- the API reference
_TITLES = {
    "metrics": "Calibration metrics, divergences and scorers",
    "calibration": "Recalibration",
    "linear_model": "Linear models",
    "neural_network": "Networks (the torch extra)",
    "nn": "Default torch modules (the torch extra)",
    "meta": "Meta-estimators",
    "model_selection": "Model selection",
    "label_sources": "Label sources",
    "annotations": "Annotations",
    "datasets": "Datasets",
    "plotting": "Plotting (the plot extra)",
    "study": "The study (the study extra)",
}


def _api_page():
    lines = ["API reference", "=============", "",
             "Every public name of sksoft, generated from each module's ``__all__``.", ""]
    for sub in sorted(sksoft._SUBMODULES):
        mod = importlib.import_module(f"sksoft.{sub}")
        title = f":mod:`sksoft.{sub}`: {_TITLES.get(sub, sub)}"
        lines += [title, "-" * len(title), "", f".. automodule:: sksoft.{sub}",
                  "   :no-members:", "   :no-index:", "", f".. currentmodule:: sksoft.{sub}", "",
                  ".. autosummary::", "   :toctree: generated/", ""]
        lines += [f"   {name}" for name in sorted(mod.__all__)] + [""]
    text = "\n".join(lines)
    path = HERE / "api.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_api_page()
