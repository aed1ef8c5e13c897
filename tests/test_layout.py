"""How the package is put together: public scikit-learn API only, no import circles."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sksoft"
TOOL = ROOT / "tools" / "import_cycles.py"  # vendored: no ../shared needed


def _private_sklearn_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "sklearn":
            private = [p for p in node.module.split(".") if p.startswith("_")]
            private += [a.name for a in node.names if a.name.startswith("_")]
            if private:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} "
                             f"import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "sklearn" and any(p.startswith("_") for p in parts):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} import {a.name}")
    return found


def test_only_public_scikit_learn_api_is_imported():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in
             _private_sklearn_imports(path)]
    assert not found, "private scikit-learn imports:\n" + "\n".join(found)


def test_scikit_learn_has_an_upper_bound():
    text = (ROOT / "pyproject.toml").read_text()
    spec = re.search(r'"scikit-learn([^"]*)"', text).group(1)
    assert ">=" in spec and "<" in spec.replace("<=", ""), spec


def test_one_version_source():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sksoft.__version__"}
    assert re.search(r'^__version__ = "[^"]+"$', (PACKAGE / "__init__.py").read_text(), re.M)


def test_license_file():
    assert "BSD 3-Clause" in (ROOT / "LICENSE").read_text()


def test_no_import_circles():
    res = subprocess.run([sys.executable, str(TOOL), str(PACKAGE)], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def _foreign_private_imports(path, package, text=None):
    """The imports in ``path`` (a module of the subpackage ``package``, e.g. "sksoft.study")
    of a private module or a private name of another subpackage of sksoft (function-level
    imports included; ``text``: the module's source, default the file's). sksoft's own
    top-level helpers (``sksoft._targets``, ...) are the house's shared rooms, not another
    package's."""
    tree = ast.parse(path.read_text(encoding="utf-8") if text is None else text, str(path))
    here = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    base = here.split(".")  # the module's own dotted name
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base[:len(base) - node.level]
                module = ".".join(parent + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [module + "." + a.name for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            if parts[0] != "sksoft" or target.startswith(package + ".") or len(parts) < 3:
                continue  # not sksoft, the package itself, or a top-level sksoft module
            if any(p.startswith("_") for p in parts[2:]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {target}")
    return found


def test_the_study_imports_only_public_names_of_other_packages():
    """No module of sksoft.study imports a private module (or name) of another sksoft
    package: the statistics it needs are the metrics package's public or package-level
    names (e.g. :func:`sksoft.metrics.compare_predictions`)."""
    found = [hit for path in sorted((PACKAGE / "study").rglob("*.py"))
             for hit in _foreign_private_imports(path, "sksoft.study")]
    assert not found, "private imports of another package:\n" + "\n".join(found)


def test_the_private_import_check_finds_one():
    """The check above can fail: a private module of the metrics package is found, in a
    module-level or a function-level import, relative or absolute."""
    text = ("from ..metrics._bootstrap import bootstrap_weights\n"
            "from ..metrics import accuracy\nfrom .._targets import one_hot\n"
            "from ._vocabulary import METRICS\n"
            "def f():\n    import sksoft.metrics._formulas\n")
    hits = _foreign_private_imports(PACKAGE / "study" / "_probe.py", "sksoft.study", text)
    assert len(hits) == 2, hits
    assert "sksoft.metrics._bootstrap" in hits[0] and "sksoft.metrics._formulas" in hits[1]


def test_the_import_circle_tool_finds_a_circle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import g  # function-level counts\n")
    res = subprocess.run([sys.executable, str(TOOL), str(pkg)], capture_output=True,
                         text=True)
    assert res.returncode == 1 and "pkg.a -> pkg.b" in res.stdout, res.stdout + res.stderr
