"""The README's Python examples run as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks():
    text = README.read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_examples_run(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import sklearn

    monkeypatch.chdir(tmp_path)
    blocks = _blocks()
    assert len(blocks) >= 3
    namespace = {}
    try:
        for code in blocks:
            if "y_true, y_prob" in code:  # the signature overview, not a runnable example
                continue
            exec(compile(code, str(README), "exec"), namespace)
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    assert namespace["gs"].best_index_ >= 0


def _commands(text):
    """Shell command lines, normalised: ``python -m`` and pip's ``-q`` dropped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"\bpython -m ", "", line)
        out.append(re.sub(r"\s+-q\b", "", line))
    return out


def test_ci_runs_the_readme_test_command():
    bash = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    quick_start = [c for block in bash[:2] for c in _commands(block)]
    assert quick_start[0].startswith('pip install ".[study]" && sksoft study'), quick_start
    test_command = quick_start[1]
    assert test_command == 'pip install -e ".[test]" && pytest', test_command
    ci = _commands((README.parent / ".ci" / "run").read_text())
    assert test_command in ci, ci


def test_readme_extras_are_the_packages():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((README.parent / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    table = re.findall(r"^\| `(\w+)` \|", README.read_text(), flags=re.M)
    assert set(table) <= set(extras), set(table) - set(extras)
