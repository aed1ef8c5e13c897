"""Thread budgets: how many threads torch, BLAS and OpenMP may use while a block runs.

Small networks and small linear-algebra problems gain little from several threads per fit and
lose a great deal when those threads compete with other processes for the cores: OpenMP and
BLAS worker threads spin while they wait for each other, so on a busy machine a fit can burn
twice the CPU time for the same work. The study therefore runs fits side by side with a fixed
number of threads each (:func:`threads_per_fit`), and :class:`SoftNeuralNetClassifier` has an
``n_threads`` parameter; both go through :func:`thread_budget`.

threadpoolctl limits every BLAS and OpenMP library loaded in the process (OpenBLAS, MKL, the
libgomp of scikit-learn, of torch and of sksoft's own kernels); ``torch.set_num_threads`` sets
torch's intra-op pool. Everything is restored when the block ends, also on an exception.
"""

import contextlib
import numbers
import os
import sys
import threading

__all__ = ["available_cores", "threads_per_fit", "thread_budget"]

_state = threading.local()
_controller = {"key": None, "value": None}


def available_cores():
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def threads_per_fit(n_jobs, cores=None):
    """``floor(cores / n_jobs)`` threads for each of ``n_jobs`` parallel fits, at least 1.

    ``n_jobs`` follows joblib: -1 means one fit per core, -2 all cores but one, and so on.
    """
    cores = available_cores() if cores is None else int(cores)
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs must not be 0.")
    if n_jobs < 0:
        n_jobs = max(1, cores + 1 + n_jobs)
    return max(1, cores // n_jobs)


def _thread_controller():
    # Building a ThreadpoolController scans the loaded libraries (milliseconds); reuse it until
    # a module was imported since, as native libraries arrive with imports.
    from threadpoolctl import ThreadpoolController

    key = len(sys.modules)
    if _controller["key"] != key:
        _controller["value"] = ThreadpoolController()
        _controller["key"] = key
    return _controller["value"]


@contextlib.contextmanager
def thread_budget(n_threads):
    """Run the block with at most ``n_threads`` threads in torch, BLAS and OpenMP.

    Parameters
    ----------
    n_threads : int >= 1 or None
        None leaves every thread pool as it is. torch's pool is set only if torch is already
        imported (the context never imports it). A block nested inside another budget of this
        thread changes nothing: the outer budget holds.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoft._threads import thread_budget
    >>> with thread_budget(1):
    ...     float(np.ones((50, 50)).dot(np.ones(50)).sum())
    2500.0
    """
    if n_threads is None or getattr(_state, "depth", 0):
        yield
        return
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be an int >= 1 or None; got {n_threads!r}.")
    n = int(n_threads)
    if n < 1:
        raise ValueError(f"n_threads must be an int >= 1 or None; got {n_threads!r}.")
    torch = sys.modules.get("torch")
    torch_before = torch.get_num_threads() if torch is not None else None
    _state.depth = 1
    try:
        with _thread_controller().limit(limits=n):
            if torch is not None:
                torch.set_num_threads(n)
            try:
                yield
            finally:
                if torch is not None:
                    torch.set_num_threads(torch_before)
    finally:
        _state.depth = 0
