"""Dask backend for the study (optional extra ``sksoft[dask]``)."""

import contextlib

__all__ = ["dask_client", "require_dask"]


def require_dask():
    try:
        import dask  # noqa: F401  (availability check)
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(
            "the dask backend needs the optional dependencies: pip install \"sksoft[dask]\""
        ) from None


@contextlib.contextmanager
def dask_client(address=None, n_workers=None):
    """A ``distributed.Client`` on ``address``, or on a local process cluster (closed after)."""
    require_dask()
    from distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            yield client
        return
    n = None if n_workers in (None, -1) else max(1, int(n_workers))
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client
