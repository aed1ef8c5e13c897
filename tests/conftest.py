import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


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
