import contextlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


# Hypothesis profiles. tests/test_hypothesis_suite.py gives each test a share of max_examples
# (shares sum to 12): "fast" (the default) runs about 300 examples across that suite, "slow"
# about 12,000. "slow" is selected by --runslow or HYPOTHESIS_PROFILE=slow.
_HYPOTHESIS = dict(deadline=None, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.filter_too_much])
settings.register_profile("fast", max_examples=25, **_HYPOTHESIS)
settings.register_profile("slow", max_examples=1000, **_HYPOTHESIS)


def pytest_configure(config):
    default = "slow" if config.getoption("--runslow") else "fast"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (only developers and CI have it)")
    return SHARED_DATA


def random_probs(rng, n, K, kind="dirichlet", dtype=np.float64):
    """Random probability rows; kind="grid" puts values on multiples of 1/20 (hits bin edges)."""
    if kind == "grid":
        counts = rng.multinomial(20, np.ones(K) / K, size=n)
        p = counts / 20.0
    elif kind == "peaked":
        p = rng.dirichlet(np.full(K, 0.1), size=n)
    else:
        p = rng.dirichlet(np.ones(K), size=n)
    return p.astype(dtype)


@contextlib.contextmanager
def bounded_memory(extra=512 << 20):
    """At most ``extra`` more bytes of address space inside the block (Linux): a regression
    of a bomb or an unbounded allocation fails with MemoryError instead of eating the
    machine."""
    try:
        import resource

        with open("/proc/self/status") as fh:
            size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize"))
    except (ImportError, OSError, StopIteration):  # pragma: no cover - not Linux
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + extra if hard == resource.RLIM_INFINITY else min(size + extra, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
