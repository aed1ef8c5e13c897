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
