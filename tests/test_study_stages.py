"""The study's stages and their records: the plan's tasks, the writers' exact text."""

import json

import numpy as np

from sksoft.study._cartography import write_training_dynamics
from sksoft.study._config import StudyConfig
from sksoft.study._plan import FitTask, plan_tasks


def test_cartography_files_are_json_lines():
    """The fast writer gives json.dumps' text exactly, finite or not (json spells NaN/inf)."""
    rng = np.random.default_rng(0)
    logits = [rng.normal(size=(30, 4)).astype(np.float32) * 10.0 ** e for e in (-8, 0, 7)]
    logits.append(np.array([[np.nan] * 4] + [[1.0, np.inf, -2.5, 0.0]] * 29, np.float32))
    gold, guids = rng.integers(0, 4, 30), rng.permutation(1000)[:30]
    import tempfile
    from pathlib import Path

    folder = write_training_dynamics(Path(tempfile.mkdtemp()), logits, gold, guids)
    for e, L in enumerate(logits):
        want = "".join(json.dumps({"guid": int(i), f"logits_epoch_{e}": [float(v) for v in r],
                                   "gold": int(g)}) + "\n" for i, r, g in zip(guids, L, gold))
        assert (folder / f"dynamics_epoch_{e}.jsonl").read_text() == want


def test_plan_tasks_are_typed_and_seeded():
    n = 60
    data = {"y_gold": np.arange(n) % 3, "human": np.full((n, 3), 1 / 3), "X": np.zeros((n, 2))}
    cfg = StudyConfig(sources=("gold", "human"), seeds=2, folds=3, model="logreg",
                      regimes=("regularised",), progress=False).resolved()
    tasks = plan_tasks(cfg, data)
    assert len(tasks) == 2 * 2 * 3 and all(isinstance(t, FitTask) for t in tasks)
    t = tasks[4]
    assert t.key == ("regularised", t.source, t.seed, t.fold)
    assert t.model_seed == t.seed * 1000 + t.fold and not t.axes
    assert np.array_equal(t.rows, t.train) and not np.intersect1d(t.train, t.test).size
    # with the budget axis: the human source gets one task per budget, with its labelled rows
    cfg = StudyConfig(sources=("gold", "human"), seeds=1, folds=2, model="logreg",
                      regimes=("regularised",), human_fraction=(0.5, 1.0),
                      progress=False).resolved()
    tasks = plan_tasks(cfg, data)
    human = [t for t in tasks if t.source == "human"]
    assert len(human) == 2 * 2 and all(t.axes for t in tasks)
    half = [t for t in human if t.budget.fraction == 0.5]
    assert all(t.labelled.sum() == np.ceil(0.5 * len(t.rows)) for t in half)
    assert all(t.budget is None and t.labelled is None for t in tasks if t.source == "gold")
