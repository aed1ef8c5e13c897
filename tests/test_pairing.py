"""Every label source of a (seed, fold) trains and validates on the same rows.

The study compares label sources on paired fits: for one (regime, seed, fold) every source's
network must see the same training rows and hold out the same validation rows, so that the
sources differ by their targets alone. A spy records, for each fit of a small study, the rows
of the network's training and validation datasets (after its internal hold-out split).
"""

from collections import defaultdict

import numpy as np
import pytest

pytest.importorskip("torch")

from sksoft.label_sources import GoldLabels, HumanSoftLabels  # noqa: E402
from sksoft.neural_network import SoftNeuralNetClassifier  # noqa: E402
from sksoft.study import run  # noqa: E402


def _rows(dataset):
    """The X rows of a skorch Dataset or a Subset of one (None for no dataset)."""
    if dataset is None:
        return None
    if isinstance(dataset, __import__("torch").utils.data.Subset):
        return np.asarray(dataset.dataset.X)[np.asarray(dataset.indices)]
    return np.asarray(dataset.X)


@pytest.fixture
def split_spy(monkeypatch):
    """Records {(source, random_state): [(train rows, valid rows), ...]} of every network fit."""
    seen = defaultdict(list)
    original = SoftNeuralNetClassifier.get_split_datasets

    def spy(self, X, y=None, **fit_params):
        train, valid = original(self, X, y, **fit_params)
        source = self.label_source
        name = type(getattr(source, "source", source)).__name__
        seen[(name, self.random_state)].append((_rows(train), _rows(valid)))
        return train, valid

    monkeypatch.setattr(SoftNeuralNetClassifier, "get_split_datasets", spy)
    return seen


def test_sources_of_a_seed_and_fold_train_on_identical_rows(tmp_path, split_spy):
    # built-in digits: their human labels disagree with gold on many items, so a hold-out
    # stratified on each source's own targets would pick other rows for each source
    sources = ("gold", "human", "majority")
    run(model="mlp", sources=sources, regimes=("regularised",), seeds=1, folds=2, epochs=1,
        hidden=(8,), difficulty_bins=2, out=str(tmp_path / "s"), progress=False, figures=False,
        n_jobs=1, threads_per_fit=1)
    names = {name for name, _ in split_spy}
    assert len(names) == len(sources)
    fits = {state for _, state in split_spy}
    assert fits == {0, 1}  # seed * 1000 + fold
    for state in fits:
        (ref_train, ref_valid), = split_spy[("GoldLabels", state)]
        assert ref_valid is not None and 0 < len(ref_valid) < len(ref_train)
        for name in names - {"GoldLabels"}:
            (train, valid), = split_spy[(name, state)]
            np.testing.assert_array_equal(train, ref_train, err_msg=f"{name} {state}")
            np.testing.assert_array_equal(valid, ref_valid, err_msg=f"{name} {state}")


def _disagreeing_data(n=120, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    gold = np.arange(n) % K
    human = rng.dirichlet(np.ones(K), size=n)  # argmax unrelated to gold
    return X, gold, human


def test_label_sources_share_the_holdout_of_the_gold_labels(split_spy):
    X, gold, human = _disagreeing_data()
    assert (human.argmax(axis=1) != gold).mean() > 0.4
    kw = dict(max_epochs=1, batch_size=32, train_split=0.25, random_state=3, n_threads=1)
    for source in (GoldLabels(), HumanSoftLabels()):
        SoftNeuralNetClassifier(label_source=source, **kw).fit(X, gold, soft_labels=human)
    (gold_train, gold_valid), = split_spy[("GoldLabels", 3)]
    (human_train, human_valid), = split_spy[("HumanSoftLabels", 3)]
    np.testing.assert_array_equal(gold_train, human_train)
    np.testing.assert_array_equal(gold_valid, human_valid)
    # stratified on gold: every class has its share of the 30 validation rows
    valid_rows = {r.tobytes() for r in gold_valid}
    valid_gold = gold[[i for i in range(len(X)) if X[i].tobytes() in valid_rows]]
    np.testing.assert_array_equal(np.bincount(valid_gold), [10, 10, 10])


def test_stratify_fit_parameter(split_spy):
    X, gold, human = _disagreeing_data()
    kw = dict(max_epochs=1, batch_size=32, train_split=0.25, random_state=3, n_threads=1)
    # soft targets as y: by default the hold-out is stratified on their argmax ...
    SoftNeuralNetClassifier(**kw).fit(X, human)
    # ... and stratify= makes it that of the gold labels, as a GoldLabels source gets
    SoftNeuralNetClassifier(**kw).fit(X, human, stratify=gold)
    SoftNeuralNetClassifier(label_source=GoldLabels(), **kw).fit(X, gold)
    (own, _), (given, _) = split_spy[("NoneType", 3)]
    (ref, _), = split_spy[("GoldLabels", 3)]
    np.testing.assert_array_equal(given, ref)
    assert not np.array_equal(own, ref)
    # labels of any kind, as a soft matrix too (argmax)
    SoftNeuralNetClassifier(**kw).fit(X, human, stratify=np.array(list("abc"))[gold])
    SoftNeuralNetClassifier(**kw).fit(X, human, stratify=np.eye(3)[gold])
    for train, _ in split_spy[("NoneType", 3)][2:]:
        np.testing.assert_array_equal(train, ref)


@pytest.mark.parametrize("stratify, match", [
    (np.arange(5), "stratify has 5 rows"),
    (np.zeros((120, 2, 2)), "stratify must be"),
    ([0, 1, None] * 40, "stratify contains missing labels"),
    (np.full(120, np.nan), "stratify contains NaN"),
])
def test_bad_stratify(stratify, match):
    X, gold, human = _disagreeing_data()
    net = SoftNeuralNetClassifier(max_epochs=1, train_split=0.2, n_threads=1)
    with pytest.raises(ValueError, match=match):
        net.fit(X, human, stratify=stratify)


def test_stratify_needs_a_float_train_split():
    X, gold, human = _disagreeing_data()
    from skorch.dataset import ValidSplit

    net = SoftNeuralNetClassifier(max_epochs=1, train_split=ValidSplit(5), n_threads=1)
    with pytest.raises(ValueError, match="stratify"):
        net.fit(X, human, stratify=gold)
    # without a hold-out there is nothing to stratify: accepted, and the fit uses every row
    net = SoftNeuralNetClassifier(max_epochs=1, train_split=None, n_threads=1).fit(
        X, human, stratify=gold)
    assert net.history_[-1]["train_batch_count"] == 1
