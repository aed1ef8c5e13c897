"""The core install and its extras: a missing optional package raises an ImportError naming
the extra that installs it; without any extra the core still works.

The tests that hide a package run everywhere (``sys.modules[name] = None`` makes its import
fail); those marked ``core_only`` run where the package really is absent -- the fresh
core-only environment of ``.ci/run`` (``SKSOFT_CORE_ONLY=1``, checked in ``conftest.py``).
"""

import importlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import sklearn.model_selection  # noqa: F401  (imported before a test hides torch: scipy's
import sklearn.utils.validation  # noqa: F401  array-API helpers look torch up in sys.modules)

import sksoft.metrics  # noqa: F401
from sksoft._optional import EXTRAS, check_extra, import_optional

CORE_ONLY = os.environ.get("SKSOFT_CORE_ONLY") == "1"
core_only = pytest.mark.skipif(not CORE_ONLY, reason="only in the core-only environment "
                               "(SKSOFT_CORE_ONLY=1, made by .ci/run)")


def _pyproject_extras():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "pyproject.toml"
    return tomllib.loads(path.read_text())["project"]["optional-dependencies"]


def test_every_extra_of_the_helper_is_in_pyproject():
    extras = _pyproject_extras()

    def modules(extra, seen=()):
        out = set()
        for req in extras[extra]:
            name = req.split(">")[0].split("<")[0].split("=")[0].strip()
            if name.startswith("sksoft["):
                for sub in name[len("sksoft["):-1].split(","):
                    if sub not in seen:
                        out |= modules(sub, seen + (extra,))
            else:
                out.add(name.split("[")[0].replace("-", "_"))
        return out

    for extra, mods in EXTRAS.items():
        got = modules(extra) | ({"distributed"} if "dask" in modules(extra) else set())
        assert set(mods) <= got, (extra, set(mods) - got)
    # the test extra installs everything the suite imports
    assert {"torch", "skorch", "pandas", "matplotlib", "tqdm", "dask"} <= modules("test")


def test_import_optional_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot", raising=False)
    with pytest.raises(ImportError, match=r'pip install "sksoft\[plot\]"'):
        import_optional("matplotlib.pyplot", extra="plot", purpose="a diagram")
    assert import_optional("matplotlib.pyplot", extra="plot", required=False) is None
    with pytest.raises(ValueError, match="extra"):
        import_optional("numpy", extra="everything")


def test_a_broken_dependency_of_an_installed_package_is_not_hidden(monkeypatch, tmp_path):
    (tmp_path / "sksoft_fake_pkg.py").write_text("import sksoft_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="sksoft_missing_dependency"):
        import_optional("sksoft_fake_pkg", extra="plot")


def test_check_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    # (tqdm, or in the core-only environment the first missing module: torch)
    with pytest.raises(ImportError, match=r'sksoft study needs (tqdm|torch).*sksoft\[study\]'):
        check_extra("study", purpose="sksoft study")
    with pytest.raises(ValueError, match="extra"):
        check_extra("gpu")


@pytest.mark.parametrize("module, hidden, extra", [
    ("sksoft.neural_network", "torch", "torch"),
    ("sksoft.neural_network", "skorch", "torch"),
    ("sksoft.nn", "torch", "torch"),
])
def test_the_networks_name_the_torch_extra(monkeypatch, module, hidden, extra):
    if hidden == "skorch":
        pytest.importorskip("torch")
    # the module is imported afresh (and the original put back after the test)
    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setitem(sys.modules, hidden, None)
    with pytest.raises(ImportError, match=rf'{module} needs {hidden}.*sksoft\[{extra}\]'):
        importlib.import_module(module)


def test_lazy_optional_imports_name_their_extra(monkeypatch):
    from sksoft.annotations import long_to_wide, wide_to_long
    from sksoft.metrics import calibration_report
    from sksoft.plotting import plot_reliability_diagram
    from sksoft.metrics import reliability_curve

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=20)
    y = rng.integers(0, 3, size=20)
    curve = reliability_curve(y, p, n_bins=4)
    rep = calibration_report(y, p)
    for name in ("pandas", "matplotlib"):
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("matplotlib.pyplot",):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError, match=r"sksoft\[study\]"):
        wide_to_long(np.array([[0, 1]]))
    with pytest.raises(ImportError, match=r"sksoft\[study\]"):
        rep.to_frame()
    with pytest.raises(ImportError, match=r"sksoft\[plot\]"):
        plot_reliability_diagram(curve)
    # a wide matrix is read without pandas
    assert long_to_wide is not None


def test_the_study_command_names_the_study_extra(monkeypatch, capsys):
    from sksoft.cli import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as info:
        main(["study", "--quick", "--no-progress"])
    assert info.value.code == 2
    assert 'pip install "sksoft[study]"' in capsys.readouterr().err


# --------------------------------------------------------------------------- core only
@core_only
def test_nothing_but_the_core_is_importable():
    import sksoft

    for name in ("torch", "skorch", "pandas", "matplotlib", "tqdm", "dask", "distributed"):
        assert importlib.util.find_spec(name) is None, f"{name} is installed"
    # the installed package (with its compiled kernels), not the source tree
    assert "site-packages" in sksoft.__file__, sksoft.__file__
    # one version source: the wheel's metadata is read from sksoft.__version__
    assert importlib.metadata.version("sksoft") == sksoft.__version__


@core_only
def test_the_core_modules_import_and_work():
    from sklearn.linear_model import LogisticRegression

    from sksoft.calibration import TemperatureScaling
    from sksoft.label_sources import CrowdAggregate, HumanSoftLabels, TeacherDistillation
    from sksoft.linear_model import SoftLogisticRegression
    from sksoft.meta import SoftExpand
    from sksoft.metrics import calibration_report, get_scorer
    import sksoft.annotations  # noqa: F401
    import sksoft.datasets  # noqa: F401
    import sksoft.model_selection  # noqa: F401
    import sksoft.plotting  # noqa: F401  (matplotlib only when drawing)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    soft = rng.dirichlet(np.ones(3), size=60)
    for est in (SoftLogisticRegression(label_source=HumanSoftLabels()),
                SoftExpand(LogisticRegression()),
                SoftLogisticRegression(label_source=TeacherDistillation(cv=2))):
        proba = est.fit(X, soft).predict_proba(X)
        assert np.allclose(proba.sum(axis=1), 1)
    TemperatureScaling(estimator="passthrough").fit(proba, soft.argmax(axis=1))
    assert get_scorer("neg_expected_calibration_error")(est, X, soft) <= 0
    assert "ece" in calibration_report(soft, proba).overall
    assert CrowdAggregate(method="majority") is not None
    for module in ("sksoft.neural_network", "sksoft.nn"):
        with pytest.raises(ImportError, match=r'sksoft\[torch\]'):
            importlib.import_module(module)


@core_only
def test_the_core_commands_run(tmp_path):
    run = [sys.executable, "-m", "sksoft"]
    res = subprocess.run(run + ["report"], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0 and "ece" in res.stdout, res.stderr
    res = subprocess.run(run + ["bench", "--sizes", "1000", "--no-peers", "--repeat", "1",
                                "--metrics", "ece"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = subprocess.run(run + ["study", "--quick"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert res.returncode == 2 and 'pip install "sksoft[study]"' in res.stderr, res.stderr
