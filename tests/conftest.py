import ast
import contextlib
import functools
import importlib.util
import inspect
import os
import re
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


#: what nothing in the core-only environment of .ci/run may import
OPTIONAL = ("torch", "skorch", "pandas", "matplotlib", "tqdm", "dask", "distributed")


def pytest_configure(config):
    default = "slow" if config.getoption("--runslow") else "fast"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))
    if os.environ.get("SKSOFT_CORE_ONLY") == "1":
        found = [m for m in OPTIONAL if importlib.util.find_spec(m) is not None]
        if found:
            raise pytest.UsageError(f"SKSOFT_CORE_ONLY=1 but {found} are importable: this is "
                                    "not the core-only environment.")


# --------------------------------------------------------------------------- automatic markers
# `torch`: the test imports torch, skorch or sksoft's networks; `study`: it runs the study (or
# its command). Found from the test's own source, its module's top-level imports, its
# parameters, and for doctests the module they are in, so `pytest -m "not torch and not study"`
# is the fast inner loop without anyone marking tests by hand. `realdata`: it uses the
# shared_data fixture.
_TORCH = re.compile(r"\b(torch|skorch|torchmetrics|SoftNeuralNetClassifier|neural_network|"
                    r"sksoft\.nn|SmallCNN|MLP)\b")
_STUDY = re.compile(r"(sksoft\.study|from sksoft import study|\[\s*[\"']study[\"']|"
                    r"\bstudy_run\b|\bStudyConfig\b)")


@functools.lru_cache(maxsize=None)
def _module_imports(path):
    """The modules a test file imports at its top level (names joined by spaces)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Assign) and "importorskip" in ast.unparse(node.value):
            names.append(ast.unparse(node.value))
    return " ".join(names)


def _source(item):
    fn = getattr(item, "function", None)
    try:
        text = inspect.getsource(fn) if fn is not None else ""
    except (OSError, TypeError):
        text = ""
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        text += " " + callspec.id + " " + " ".join(
            getattr(v, "__name__", type(v).__name__) for v in callspec.params.values())
    return text


def _auto_markers(item):
    path = str(item.path)
    if "/sksoft/" in path.replace(os.sep, "/"):  # a doctest of the package
        rel = path.replace(os.sep, "/").split("/sksoft/", 1)[1]
        torch = rel in ("neural_network.py", "nn.py")
        return torch, rel.startswith("study/")
    top, own = _module_imports(path), _source(item)
    study = bool(_STUDY.search(top) or _STUDY.search(own))
    torch = bool(_TORCH.search(top) or _TORCH.search(own))
    return torch, study


def _file_markers(path):
    """The automatic markers every test of a test file gets (from its top-level imports)."""
    top = _module_imports(str(path))
    return {"torch": bool(_TORCH.search(top)), "study": bool(_STUDY.search(top))}


def _deselects(markexpr, marks):
    """True when ``-m markexpr`` deselects every test carrying ``marks``, whatever other
    markers they have (evaluated with the unknown names all False and all True)."""
    try:
        code = compile(markexpr, "<-m>", "eval")
    except SyntaxError:
        return False
    for other in (False, True):
        names = {n: marks.get(n, other) for n in code.co_names}
        try:
            if eval(code, {"__builtins__": {}}, names):  # noqa: S307 (names are booleans)
                return False
        except Exception:  # noqa: BLE001 - an expression we do not understand: collect
            return False
    return True


def pytest_ignore_collect(collection_path, config):
    """Under ``-m "not torch ..."``, do not even import the test files whose every test is
    deselected (importing torch and the study is most of the collection time)."""
    markexpr = config.getoption("markexpr", "")
    if not markexpr or collection_path.suffix != ".py" or \
            not collection_path.name.startswith("test_"):
        return None
    marks = _file_markers(collection_path)
    if any(marks.values()) and _deselects(markexpr, marks):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        torch, study = _auto_markers(item)
        if torch:
            item.add_marker(pytest.mark.torch)
        if study:
            item.add_marker(pytest.mark.study)
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.realdata)
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
