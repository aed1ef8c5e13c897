"""Deprecations, scikit-learn style: the old spelling keeps working for one release and emits a
``FutureWarning`` that says what to write instead.

Three mechanisms, used everywhere a public name or parameter changes:

* :func:`deprecated_alias` -- an old function name calling the new one;
* :func:`renamed_parameters` -- an old keyword mapped to its new name;
* :func:`deprecate_positional_args` -- parameters that become keyword-only (the idea of
  scikit-learn's ``_deprecate_positional_args``, written here: sklearn's is private).
"""

import functools
import inspect
import warnings

__all__ = ["deprecate_positional_args", "deprecated_alias", "renamed_parameters",
           "warn_deprecated"]

#: the release whose old spellings are removed
REMOVED_IN = "0.3"


def warn_deprecated(message, *, stacklevel=2):
    """Emit the ``FutureWarning`` of a deprecated spelling (``stacklevel`` as in
    ``warnings.warn``, counted from the caller of this function)."""
    warnings.warn(message + f" The old spelling will be removed in sksoft {REMOVED_IN}.",
                  FutureWarning, stacklevel=stacklevel + 1)


def _warn(message):
    # the user's call, through the wrapper that calls this
    warn_deprecated(message, stacklevel=3)


def deprecated_alias(func, old_name, *, since="0.2"):
    """A function called ``old_name`` that warns and calls ``func`` (its new name).

    The alias has ``func``'s signature and a one-line docstring that points to it.

    Examples
    --------
    >>> import warnings
    >>> def new(x):
    ...     return x + 1
    >>> old = deprecated_alias(new, "old")
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     old(1), w[0].category.__name__
    (2, 'FutureWarning')
    """
    @functools.wraps(func)
    def alias(*args, **kwargs):
        _warn(f"{old_name} was renamed {func.__name__} in sksoft {since} (scikit-learn's "
              f"naming: *_score higher is better, *_loss lower is better); use "
              f"{func.__name__}.")
        return func(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = (f"Deprecated alias of :func:`{func.__name__}` (renamed in {since}; "
                     f"removed in {REMOVED_IN}).\n")
    alias.__wrapped__ = func
    return alias


def renamed_parameters(since="0.2", **renames):
    """Decorator: the keyword ``old=`` of a function still works, as ``new=``, with a warning.

    ``renames`` maps old keyword -> new keyword. Passing both is a ``TypeError``.

    Examples
    --------
    >>> import warnings
    >>> @renamed_parameters(n_resamples="n_bootstrap")
    ... def f(*, n_bootstrap=0):
    ...     return n_bootstrap
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     f(n_resamples=5)
    5
    """
    def deco(func):
        params = inspect.signature(func).parameters
        for new in renames.values():
            if new not in params:
                raise TypeError(f"{func.__name__} has no parameter {new!r}")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {old}= (deprecated) and "
                                        f"{new}=; pass {new}= only.")
                    _warn(f"{func.__name__}({old}=...) was renamed {new}= in sksoft {since} "
                          f"(one spelling of the interval options everywhere); pass {new}=.")
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return deco


def deprecate_positional_args(func=None, *, since="0.2"):
    """Decorator for a function (or ``__init__``) whose parameters after ``*`` were positional.

    Extra positional arguments are passed on as the keywords they stand for, with a
    ``FutureWarning``; from ``REMOVED_IN`` on they are a ``TypeError``.

    Examples
    --------
    >>> import warnings
    >>> class Smoothing:
    ...     @deprecate_positional_args
    ...     def __init__(self, *, epsilon=0.1):
    ...         self.epsilon = epsilon
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     Smoothing(0.3).epsilon, str(w[0].message).split(";")[0]
    (0.3, 'Pass epsilon=0.3 as a keyword argument')
    """
    if func is None:
        return functools.partial(deprecate_positional_args, since=since)
    sig = inspect.signature(func)
    positional = [p.name for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    keyword_only = [p.name for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY]

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        extra = len(args) - len(positional)
        if extra <= 0:
            return func(*args, **kwargs)
        if extra > len(keyword_only):
            raise TypeError(f"{func.__qualname__}() takes {len(positional)} positional "
                            f"arguments but {len(args)} were given")
        names = keyword_only[:extra]
        given = ", ".join(f"{name}={value!r}" for name, value in zip(names, args[-extra:]))
        what = "keyword arguments" if extra > 1 else "a keyword argument"
        owner = func.__qualname__.replace(".__init__", "")
        _warn(f"Pass {given} as {what}; positional arguments to {owner} are deprecated "
              f"since sksoft {since} (its parameters are keyword-only, as every estimator's).")
        for name, value in zip(names, args[-extra:]):
            if name in kwargs:
                raise TypeError(f"{func.__qualname__}() got multiple values for argument "
                                f"{name!r}")
            kwargs[name] = value
        return func(*args[:-extra], **kwargs)

    return wrapper
