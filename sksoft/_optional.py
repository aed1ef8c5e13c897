"""Optional dependencies: one way to import them, and an error that names the extra to install.

The core install (numpy, scipy, scikit-learn, joblib, threadpoolctl) covers the metrics, the
scorers, the linear and meta estimators, the recalibrators, annotations, the label sources
that need no network, ``sksoft report`` and ``sksoft bench``. Everything else comes with an
extra of ``pyproject.toml``; every import of such a package goes through
:func:`import_optional`, so a missing one raises an ``ImportError`` that says which extra
installs it instead of a bare ``No module named 'torch'``.
"""

import importlib
import importlib.util

__all__ = ["EXTRAS", "check_extra", "import_optional"]

#: extra -> the top-level modules it installs (as ``pyproject.toml``'s optional-dependencies)
EXTRAS = {
    "torch": ("torch", "skorch"),
    "study": ("torch", "skorch", "pandas", "matplotlib", "tqdm"),
    "plot": ("matplotlib",),
    "dask": ("dask", "distributed"),
}


def _message(module, extra, purpose):
    what = purpose or module
    return (f"{what} needs {module}, which the core install of sksoft leaves out: "
            f'pip install "sksoft[{extra}]" (or pip install {module}).')


def import_optional(name, *, extra, purpose=None, required=True):
    """Import module ``name`` (e.g. ``"matplotlib.pyplot"``) of an optional dependency.

    Parameters
    ----------
    name : str
        The module to import.
    extra : str
        The extra of sksoft that installs it (a key of :data:`EXTRAS`).
    purpose : str, optional
        What needs it, for the message (default: the module's name).
    required : bool, default=True
        False returns None instead of raising when the package is missing (for a nicety such
        as a progress bar that is simply left out).

    Returns
    -------
    module, or None when it is missing and not ``required``

    Raises
    ------
    ImportError
        When the package is not installed, with a message naming
        ``pip install "sksoft[<extra>]"``. An installed package that fails to import for
        another reason (a broken build) re-raises its own error.

    Examples
    --------
    >>> import_optional("numpy", extra="torch").__name__
    'numpy'
    >>> import_optional("not_a_module_of_anyone", extra="plot")
    Traceback (most recent call last):
    ...
    ImportError: not_a_module_of_anyone needs not_a_module_of_anyone, which the core install \
of sksoft leaves out: pip install "sksoft[plot]" (or pip install not_a_module_of_anyone).
    """
    if extra not in EXTRAS:
        raise ValueError(f"extra must be one of {sorted(EXTRAS)}; got {extra!r}.")
    top = name.split(".")[0]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package is there but one of *its* dependencies is missing
        if not required:
            return None
        raise ImportError(_message(top, extra, purpose), name=top) from exc


def check_extra(extra, *, purpose=None):
    """Raise the ``ImportError`` of :func:`import_optional` if any module of ``extra`` is
    missing; import nothing (a cheap check before a command that needs the whole extra).

    Examples
    --------
    >>> check_extra("gpu")
    Traceback (most recent call last):
    ...
    ValueError: extra must be one of ['dask', 'plot', 'study', 'torch']; got 'gpu'.
    """
    if extra not in EXTRAS:
        raise ValueError(f"extra must be one of {sorted(EXTRAS)}; got {extra!r}.")
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            raise ImportError(_message(module, extra, purpose), name=module)
