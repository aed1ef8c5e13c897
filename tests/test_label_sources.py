import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_validate

from sksoft.label_sources import (
    CrowdAggregate,
    EnsembleDisagreement,
    EntropyMatchedSmoothing,
    GoldLabels,
    HumanMajority,
    HumanSoftLabels,
    LabelSmoothing,
    MixtureOfSources,
    ModeAlignedHumanLabels,
    ShuffledHumanLabels,
    TeacherDistillation,
    make_training_targets,
)
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import entropy, get_scorer
from sksoft.model_selection import SoftStratifiedKFold, cross_val_predict_proba


@pytest.fixture
def routing():
    sklearn.set_config(enable_metadata_routing=True)
    yield
    sklearn.set_config(enable_metadata_routing=False)


def data(n=240, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logits = X[:, :K] * 2
    P = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    human = np.array([rng.multinomial(20, p) for p in P]) / 20.0
    gold = P.argmax(1)
    gold[:10] = (gold[:10] + 1) % K  # a few wrong gold labels
    return X, gold, human


# --------------------------------------------------------------------------- exact targets
def test_hand_made_targets():
    gold = np.array([0, 1, 2, 0])
    human = np.array([
        [0.6, 0.3, 0.1],    # gold is the mode
        [0.5, 0.0, 0.5],    # gold has zero mass; tie between 0 and 2
        [0.2, 0.4, 0.4],    # gold tied for the mode
        [0.0, 0.7, 0.3],    # gold has zero mass
    ])
    K = 3
    ma = ModeAlignedHumanLabels().make_targets(None, gold, human=human, n_classes=K)
    np.testing.assert_allclose(ma, [[0.6, 0.3, 0.1], [0.0, 0.5, 0.5], [0.2, 0.4, 0.4],
                                    [0.7, 0.0, 0.3]])
    assert np.all(ma.argmax(1)[[0, 1, 3]] == gold[[0, 1, 3]])
    np.testing.assert_allclose(entropy(ma, average=False), entropy(human, average=False))
    hm = HumanMajority().make_targets(None, gold, human=human, n_classes=K)
    np.testing.assert_array_equal(hm.argmax(1), [0, 0, 2, 1])
    np.testing.assert_array_equal(hm.sum(1), 1)
    ls = LabelSmoothing(epsilon=0.3).make_targets(None, gold, n_classes=K)
    np.testing.assert_allclose(ls.sum(1), 1)
    np.testing.assert_allclose(ls[0], [0.8, 0.1, 0.1])
    hs = HumanSoftLabels().make_targets(None, gold, human=human, n_classes=K)
    np.testing.assert_allclose(hs, human)
    sharp = HumanSoftLabels(temperature=0.5).make_targets(None, gold, human=human, n_classes=K)
    np.testing.assert_allclose(sharp[0], np.array([0.36, 0.09, 0.01]) / 0.46)
    np.testing.assert_allclose(sharp[3], [0, 0.7**2 / (0.7**2 + 0.3**2), 0.3**2 / (0.7**2 + 0.3**2)])
    smooth = HumanSoftLabels(prior=1.0).make_targets(None, gold, human=human, n_classes=K)
    np.testing.assert_allclose(smooth[3], [0.25, 1.7 / 4, 1.3 / 4])
    mix = MixtureOfSources(sources=[GoldLabels(), HumanSoftLabels()], weights=[3, 1])
    np.testing.assert_allclose(mix.make_targets(None, gold, human=human, n_classes=K),
                               0.75 * np.eye(3)[gold] + 0.25 * human)
    np.testing.assert_array_equal(GoldLabels().make_targets(None, gold, n_classes=K), np.eye(3)[gold])


def test_source_errors_and_soft_y_path():
    X, gold, human = data()
    with pytest.raises(ValueError, match="needs human label distributions"):
        SoftLogisticRegression(label_source=HumanSoftLabels()).fit(X, gold)
    with pytest.raises(ValueError, match="epsilon"):
        SoftLogisticRegression(label_source=LabelSmoothing(epsilon=2.0)).fit(X, gold)
    with pytest.raises(TypeError, match="LabelSource"):
        SoftLogisticRegression(label_source="gold").fit(X, gold)
    with pytest.raises(ValueError, match="soft_labels has 2 columns"):
        SoftLogisticRegression(label_source=HumanSoftLabels()).fit(X, gold, soft_labels=human[:, :2])
    # soft y alone: gold = argmax, human = y
    Y, classes = make_training_targets(ModeAlignedHumanLabels(), X, human)
    np.testing.assert_allclose(Y, human)  # the mode is already the argmax
    Y, _ = make_training_targets(GoldLabels(), X, human)
    np.testing.assert_array_equal(Y.argmax(1), human.argmax(1))


def test_nested_params_and_clone():
    clf = SoftLogisticRegression(label_source=TeacherDistillation(teacher=SoftLogisticRegression(C=1.0)))
    clf.set_params(label_source__temperature=3.0, label_source__teacher__C=0.1)
    assert clf.label_source.temperature == 3.0 and clf.label_source.teacher.C == 0.1
    c = clone(clf)
    assert c.label_source is not clf.label_source and c.label_source.teacher.C == 0.1
    mix = MixtureOfSources(sources=[("gold", GoldLabels()),
                                    ("smooth", LabelSmoothing(epsilon=0.1))])
    est = SoftLogisticRegression(label_source=mix)
    est.set_params(label_source__smooth__epsilon=0.4, label_source__weights=[1, 3])
    assert mix.get_params()["smooth__epsilon"] == 0.4
    assert clone(est).label_source.get_params()["weights"] == [1, 3]


# --------------------------------------------------------------------------- leakage
SPY_LOG = []


class SpyTeacher(ClassifierMixin, BaseEstimator):
    """Records which row ids (column 0 of X) it is fitted on and asked to predict."""

    def fit(self, X, y):
        self.fit_ids_ = set(np.asarray(X)[:, 0].tolist())
        self.pred_ids_ = set()
        self.classes_ = np.unique(y)
        SPY_LOG.append(self)
        return self

    def predict_proba(self, X):
        self.pred_ids_ |= set(np.asarray(X)[:, 0].tolist())
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))


@pytest.mark.parametrize("source", [
    TeacherDistillation(teacher=SpyTeacher(), cv=3, random_state=0),
    EnsembleDisagreement(estimator=SpyTeacher(), n_members=2, cv=3, method="bootstrap",
                         random_state=0),
])
def test_no_teacher_sees_test_rows_or_rows_it_labels(source, routing):
    X, gold, human = data(n=120)
    X = np.column_stack([np.arange(120.0), X])  # column 0: row id
    SPY_LOG.clear()
    est = SoftLogisticRegression(label_source=source)
    res = cross_validate(est, X, gold, cv=KFold(4, shuffle=True, random_state=1),
                         params={"soft_labels": human}, return_indices=True)
    per_split = len(SPY_LOG) // 4
    assert per_split >= 3
    for s, (train, test) in enumerate(zip(res["indices"]["train"], res["indices"]["test"])):
        teachers = SPY_LOG[s * per_split:(s + 1) * per_split]
        seen = set().union(*(t.fit_ids_ for t in teachers))
        predicted = set().union(*(t.pred_ids_ for t in teachers))
        assert not seen & set(test.tolist()), "a teacher saw a test row"
        assert predicted == set(train.tolist())  # every training row got a target
        for t in teachers:
            assert not t.fit_ids_ & t.pred_ids_, "a teacher labelled a row it was fitted on"


# --------------------------------------------------------------------------- grid search
SOURCES = [GoldLabels(), HumanSoftLabels(), HumanMajority(), ModeAlignedHumanLabels(),
           LabelSmoothing(epsilon=0.1), TeacherDistillation(cv=3),
           EnsembleDisagreement(n_members=2, cv=3)]


def test_grid_over_sources_with_routed_soft_labels(routing):
    X, gold, human = data()
    scoring = {name: get_scorer(name) for name in (
        "gold_soft_accuracy", "gold_neg_log_loss", "human_neg_kl_divergence",
        "human_neg_expected_calibration_error", "human_entropy_correlation",
        "gold_neg_expected_calibration_error_hardest_bin")}
    gs = GridSearchCV(SoftLogisticRegression(), {"label_source": SOURCES}, scoring=scoring,
                      refit="human_neg_kl_divergence", cv=StratifiedKFold(3))
    gs.fit(X, gold, soft_labels=human)
    for name in scoring:
        assert np.all(np.isfinite(gs.cv_results_[f"mean_test_{name}"])), name
    kl = gs.cv_results_["mean_test_human_neg_kl_divergence"]
    # human soft labels fit the human distributions better than one-hot gold labels
    assert kl[1] > kl[0]
    assert gs.best_index_ == int(np.argmax(kl))
    # scorers against humans really use the test fold's human labels
    est = gs.best_estimator_
    from sksoft.metrics import kl_divergence

    assert get_scorer("human_neg_kl_divergence")(est, X, gold, soft_labels=human) == pytest.approx(
        -kl_divergence(human, est.predict_proba(X)))


def test_grid_over_sources_with_soft_y_only():
    X, _, human = data()
    gs = GridSearchCV(SoftLogisticRegression(), {"label_source": [GoldLabels(), HumanSoftLabels()]},
                      scoring={"kl": get_scorer("human_neg_kl_divergence"),
                               "acc": get_scorer("gold_soft_accuracy")},
                      refit="kl", cv=SoftStratifiedKFold(3))
    gs.fit(X, human)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_kl"]))
    assert gs.best_index_ == 1


def test_human_scorer_without_routing_explains():
    X, gold, human = data()
    est = SoftLogisticRegression().fit(X, gold)
    with pytest.raises(ValueError, match="enable metadata routing"):
        get_scorer("human_neg_kl_divergence")(est, X, gold)


def test_cross_val_predict_proba_slices_soft_labels():
    X, gold, human = data()
    P = cross_val_predict_proba(SoftLogisticRegression(label_source=HumanSoftLabels()), X, gold,
                                cv=3, params={"soft_labels": human})
    assert P.shape == human.shape


def test_crowd_aggregate_uses_training_rows(routing):
    from sksoft.datasets import make_ambiguous_digits

    d = make_ambiguous_digits(annotators_per_item=7, random_state=0)
    for method in ("dawid_skene", "majority", "soft"):
        est = SoftLogisticRegression(C=0.1, label_source=CrowdAggregate(method=method, prior=0.5))
        res = cross_validate(est, d.X, d.y_gold, cv=3, params={"annotations": d.annotations},
                             scoring=get_scorer("gold_soft_accuracy"))
        assert np.all(res["test_score"] > 0.7)


def test_sources_work_with_the_network():
    pytest.importorskip("torch")
    from sksoft.neural_network import SoftNeuralNetClassifier

    X, gold, human = data(n=150)
    net = SoftNeuralNetClassifier(max_epochs=3, random_state=0, train_split=None)
    gs = GridSearchCV(net, {"label_source": [GoldLabels(), HumanSoftLabels()]},
                      scoring=get_scorer("gold_neg_log_loss"), cv=3)
    gs.fit(X.astype(np.float32), gold, soft_labels=human)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))


def test_example_runs(routing):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "compare_label_sources.py"
    spec = importlib.util.spec_from_file_location("compare_label_sources", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    df, table = mod.run(seeds=1, folds=2, n_jobs=1)
    assert len(table) == 7 and np.all(np.isfinite(df.drop(columns="source").to_numpy()))


# --------------------------------------------------------------------------- sample_weight
class WeightSpy(ClassifierMixin, BaseEstimator):
    """Records the row ids (column 0 of X) and the sample weights it is fitted with."""

    log = []

    def fit(self, X, y, sample_weight=None):
        WeightSpy.log.append((np.asarray(X)[:, 0].astype(int), sample_weight))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))


@pytest.mark.parametrize("source", [
    TeacherDistillation(teacher=WeightSpy(), cv=3, random_state=0),
    EnsembleDisagreement(estimator=WeightSpy(), n_members=2, cv=3, method="bootstrap",
                         random_state=0),
    EnsembleDisagreement(estimator=WeightSpy(), n_members=2, cv=3, method="seeds",
                         random_state=0),
], ids=["teacher", "ensemble-bootstrap", "ensemble-seeds"])
def test_model_sources_pass_sample_weight_to_their_models(source):
    # issue 13: sample_weight reached make_targets and was used by no source
    X, gold, human = data(n=90)
    X = np.column_stack([np.arange(90.0), X])  # column 0: row id
    w = np.random.default_rng(0).uniform(0.1, 3.0, 90)
    WeightSpy.log.clear()
    SoftLogisticRegression(label_source=source).fit(X, gold, sample_weight=w)
    assert len(WeightSpy.log) >= 3
    for ids, weights in WeightSpy.log:
        np.testing.assert_array_equal(weights, w[ids])  # each fitted row with its own weight
    WeightSpy.log.clear()
    SoftLogisticRegression(label_source=source).fit(X, gold)
    assert all(weights is None for _, weights in WeightSpy.log)


def test_model_source_warns_when_its_model_cannot_take_weights():
    X, gold, human = data(n=90)
    X = np.column_stack([np.arange(90.0), X])
    est = SoftLogisticRegression(label_source=TeacherDistillation(teacher=SpyTeacher(), cv=3))
    with pytest.warns(UserWarning, match="cannot pass sample_weight to SpyTeacher.fit"):
        est.fit(X, gold, sample_weight=np.arange(90) % 3 + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est.fit(X, gold, sample_weight=np.ones(90))  # unit weights change nothing: no warning


def test_weighted_teacher_targets_change_with_the_weights():
    X, gold, human = data(n=150)
    source = TeacherDistillation(cv=3, random_state=0)
    w = np.where(gold == 0, 5.0, 1.0)
    plain, _ = make_training_targets(source, X, gold)
    weighted, _ = make_training_targets(source, X, gold, sample_weight=w)
    assert weighted[:, 0].mean() > plain[:, 0].mean()  # class 0 counts five times


def test_crowd_aggregate_weights_its_dawid_skene_fit():
    from sksoft.annotations import dawid_skene
    from sksoft.datasets import make_ambiguous_digits

    d = make_ambiguous_digits(annotators_per_item=5, random_state=0)
    X, gold, A = d.X[:200], d.y_gold[:200], d.annotations[:200]
    w = np.random.default_rng(1).integers(0, 4, 200).astype(float)
    Y, _ = make_training_targets(CrowdAggregate(method="dawid_skene"), X, gold, annotations=A,
                                 sample_weight=w)
    np.testing.assert_allclose(Y, dawid_skene(A, n_classes=10, sample_weight=w).posteriors)
    unweighted, _ = make_training_targets(CrowdAggregate(method="dawid_skene"), X, gold,
                                          annotations=A)
    assert not np.allclose(Y, unweighted)
    # vote fractions and majority votes are per item: the weights do not change them
    for method in ("soft", "majority"):
        a, _ = make_training_targets(CrowdAggregate(method=method), X, gold, annotations=A,
                                     sample_weight=w)
        b, _ = make_training_targets(CrowdAggregate(method=method), X, gold, annotations=A)
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- external labels
from sksoft._base import SoftClassifierMixin  # noqa: E402
from sksoft.label_sources import ExternalSoftLabels  # noqa: E402

FIT_TARGETS = []


class SpyClassifier(SoftClassifierMixin, ClassifierMixin, BaseEstimator):
    """Records the training targets its label source builds in every fit."""

    def __init__(self, label_source=None, classes=None):
        self.label_source = label_source
        self.classes = classes

    def fit(self, X, y, soft_labels=None, item_index=None):
        Y = self._fit_targets(X, y, soft_labels=soft_labels, item_index=item_index)
        FIT_TARGETS.append((np.asarray(X)[:, 0].astype(int), Y))
        self.prior_ = Y.mean(axis=0)
        return self

    def predict_proba(self, X):
        return np.tile(self.prior_, (len(X), 1))


def _external_table(n, K=3):
    """Distributions that name their item: row i puts i / (2 n) on class 0."""
    a = np.arange(n) / (2.0 * n)
    return np.column_stack([a, 1 - a - 0.1, np.full(n, 0.1)])[:, :K]


def test_external_labels_use_only_the_training_rows(routing):
    n = 90
    X, gold, human = data(n=n)
    X = np.column_stack([np.arange(n), X])  # column 0: the item
    table = _external_table(n)
    FIT_TARGETS.clear()
    src = ExternalSoftLabels(name="llm", soft_labels=table)
    res = cross_validate(SpyClassifier(label_source=src), X, gold,
                         cv=KFold(3, shuffle=True, random_state=0),
                         params={"soft_labels": human, "item_index": np.arange(n)},
                         return_indices=True)
    assert len(FIT_TARGETS) == 3
    for (items, Y), train, test in zip(FIT_TARGETS, res["indices"]["train"],
                                       res["indices"]["test"]):
        np.testing.assert_array_equal(items, train)
        np.testing.assert_array_equal(Y, table[train])  # each row gets its own item's labels
        seen = set(np.round(Y[:, 0] * 2 * n).astype(int).tolist())
        assert seen == set(train.tolist()) and not seen & set(test.tolist())


def test_external_labels_in_a_grid_search_against_human_labels(routing, tmp_path):
    X, gold, human = data()
    n = len(gold)
    rng = np.random.default_rng(3)
    llm = 0.5 * human + 0.5 * rng.dirichlet(np.ones(3), size=n)  # a noisier "LLM" crowd
    path = tmp_path / "llm.npy"
    np.save(path, llm)
    shuffled = human[rng.permutation(n)]  # distributions of other items
    sources = [GoldLabels(), HumanSoftLabels(), ExternalSoftLabels(name="llm", soft_labels=path),
               ExternalSoftLabels(name="human-copy", soft_labels=human),
               ExternalSoftLabels(name="shuffled", soft_labels=shuffled)]
    gs = GridSearchCV(SoftLogisticRegression(), {"label_source": sources},
                      scoring=get_scorer("human_neg_kl_divergence"), cv=StratifiedKFold(3))
    gs.fit(X, gold, soft_labels=human, item_index=np.arange(n))
    kl = gs.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(kl))
    assert kl[3] == pytest.approx(kl[1], abs=1e-12)  # the same distributions, the same fits
    assert kl[4] < kl[3] - 0.05  # each row must get its own item's distribution
    assert gs.best_index_ in (1, 3)
    # MixtureOfSources passes item_index on to its external part
    mix = MixtureOfSources(sources=[("h", HumanSoftLabels()), ("x", ExternalSoftLabels(
        soft_labels=llm))], weights=[0.5, 0.5])
    Y, _ = make_training_targets(mix, X[:5], gold[:5], soft_labels=human[:5],
                                 item_index=np.arange(5, 10), classes=np.arange(3))
    np.testing.assert_allclose(Y, 0.5 * human[:5] + 0.5 * llm[5:10])


def test_external_labels_from_files(tmp_path):
    table = np.random.default_rng(0).dirichlet(np.ones(3), size=6)
    gold = np.zeros(6, dtype=int)
    np.savez(tmp_path / "one.npz", anything=table)
    np.savez(tmp_path / "named.npz", soft_labels=table, other=np.ones(2))
    np.savez(tmp_path / "two.npz", a=table, b=table)
    with open(tmp_path / "t.csv", "w") as fh:
        fh.write("p_e,p_n,p_c\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in table) + "\n")
    np.savetxt(tmp_path / "bare.csv", table, delimiter=",", fmt="%.17g")
    for name in ("one.npz", "named.npz", "t.csv", "bare.csv"):
        got = ExternalSoftLabels(soft_labels=str(tmp_path / name)).make_targets(
            None, gold, n_classes=3)
        np.testing.assert_allclose(got, table, rtol=0, atol=1e-15)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}] * 2, dtype=object),
            allow_pickle=True)
    (tmp_path / "bad.csv").write_text("0.5,0.5\n0.2,x\n")
    (tmp_path / "ragged.csv").write_text("0.5,0.5\n1.0\n")
    (tmp_path / "t.txt").write_text("0.5,0.5\n")
    bad = [("two.npz", "name the array"), ("objects.npy", "Python objects"),
           ("bad.csv", "line 2"), ("ragged.csv", "different numbers"), ("t.txt", "not one of"),
           ("missing.npy", "does not exist")]
    for name, match in bad:
        with pytest.raises(ValueError, match=match):
            ExternalSoftLabels(soft_labels=str(tmp_path / name)).make_targets(
                None, gold[:2], n_classes=2)


def test_external_labels_errors():
    table = np.array([[0.5, 0.5], [0.1, 0.9], [1.0, 0.0]])
    gold = np.array([0, 1])
    src = ExternalSoftLabels(name="llm", soft_labels=table)
    with pytest.raises(ValueError, match="item_index"):
        src.make_targets(None, gold, n_classes=2)  # 2 training rows, 3 items, no positions
    with pytest.raises(ValueError, match="position 3"):
        src.make_targets(None, gold, n_classes=2, item_index=np.array([0, 3]))
    with pytest.raises(ValueError, match="3 classes"):
        src.make_targets(None, gold, n_classes=3, item_index=np.array([0, 1]))
    with pytest.raises(ValueError, match="sum to 1"):
        ExternalSoftLabels(soft_labels=table * 2).make_targets(None, gold, n_classes=2,
                                                              item_index=np.array([0, 1]))
    with pytest.raises(TypeError, match="soft_labels"):
        ExternalSoftLabels().make_targets(None, gold, n_classes=2)  # soft_labels is required
    with pytest.raises(TypeError, match="item_index"):
        make_training_targets(src, np.zeros((2, 1)), gold, item_index=[0.0, 1.0])
    with pytest.raises(ValueError, match="item_index"):
        make_training_targets(src, np.zeros((2, 1)), gold, item_index=[0, 1, 2])
    with pytest.raises(TypeError):
        ExternalSoftLabels("llm", table)  # keyword-only
    before = table.copy()
    table.flags.writeable = False
    out = src.make_targets(None, gold, n_classes=2, item_index=np.array([1, 0]))
    out[:] = 0  # a copy: the caller's table is untouched
    np.testing.assert_array_equal(table, before)


# --------------------------------------------------------------------------- null / dose controls
class TargetSpy(ClassifierMixin, BaseEstimator):
    """Records the row ids (column 0 of X) it is fitted on and the targets its source builds."""

    log = []

    def __init__(self, label_source=None, classes=None):
        self.label_source = label_source
        self.classes = classes

    def fit(self, X, y, soft_labels=None):
        ids = np.asarray(X[:, [0]].todense() if hasattr(X, "todense") else X[:, [0]])
        ids = ids.ravel().astype(int)
        Y, self.classes_ = make_training_targets(self.label_source, X, y, soft_labels=soft_labels,
                                                 classes=self.classes)
        TargetSpy.log.append((ids, Y))
        return self

    def predict_proba(self, X):
        return np.full((X.shape[0], len(self.classes_)), 1.0 / len(self.classes_))


def _distinct_human(n, K, seed):
    """Human rows that identify their item: Dirichlet rows, pairwise far apart."""
    return np.random.default_rng(seed).dirichlet(np.ones(K), size=n)


@pytest.mark.parametrize("sparse", [False, True])
def test_shuffled_human_labels_use_training_rows_of_the_same_gold_class(routing, sparse):
    import scipy.sparse as sp

    n, K = 120, 3
    X, gold, _ = data(n=n, K=K)
    human = _distinct_human(n, K, 1)
    gold[0] = 3  # alone in its class: keeps its own row
    K = 4
    human = np.column_stack([human, np.zeros(n)])
    human[0] = [0.1, 0.2, 0.3, 0.4]
    X = np.column_stack([np.arange(n, dtype=float), X])
    if sparse:
        X = sp.csr_matrix(X)
    TargetSpy.log.clear()
    cv = KFold(4, shuffle=True, random_state=2)
    spy = TargetSpy(ShuffledHumanLabels(random_state=0), classes=np.arange(K))
    spy.set_fit_request(soft_labels=True)
    res = cross_validate(spy, X, gold, cv=cv,
                         params={"soft_labels": human}, return_indices=True,
                         scoring=lambda est, X, y: 0.0, error_score="raise")
    assert len(TargetSpy.log) == 4
    moved = 0
    for (ids, Y), train in zip(TargetSpy.log, res["indices"]["train"]):
        np.testing.assert_array_equal(np.sort(ids), np.sort(train))
        # which item's human row each target is (rows are pairwise distinct)
        dist = ((Y[:, None, :] - human[None, :, :]) ** 2).sum(-1)
        src = dist.argmin(axis=1)
        assert np.all(dist[np.arange(len(ids)), src] < 1e-24)  # an exact human row
        assert set(src.tolist()) <= set(train.tolist()), "a held-out distribution was used"
        assert len(set(src.tolist())) == len(ids)  # a permutation: each training row once
        np.testing.assert_array_equal(gold[src], gold[ids])  # within its gold class
        if 0 in ids:
            assert src[ids.tolist().index(0)] == 0
        moved += np.sum(src != ids)
    assert moved > 0.8 * 3 * n  # really shuffled (a few fixed points by chance)


def test_shuffled_human_labels_seeding():
    X, gold, human = data(n=60)
    a = ShuffledHumanLabels(random_state=3).make_targets(None, gold, human=human, n_classes=3)
    b = ShuffledHumanLabels(random_state=3).make_targets(None, gold, human=human, n_classes=3)
    c = ShuffledHumanLabels(random_state=4).make_targets(None, gold, human=human, n_classes=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # per gold class the multiset of distributions is kept
    for k in range(3):
        np.testing.assert_array_equal(np.sort(a[gold == k], axis=0), np.sort(human[gold == k], axis=0))
    with pytest.raises(ValueError, match="needs human label distributions"):
        ShuffledHumanLabels().make_targets(None, gold, n_classes=3)


def _brentq_gold_mass(h, K):
    """The gold mass solved on the entropy with scipy's scalar root finder."""
    from scipy.optimize import brentq

    if h <= 0:
        return 1.0
    if h >= np.log(K):
        return 1.0 / K

    def f(q):
        rest = (1 - q) / (K - 1)
        return -q * np.log(q) - (0.0 if rest == 0 else (K - 1) * rest * np.log(rest)) - h

    return brentq(f, 1.0 / K, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps)


def _mpmath_gold_mass(p):
    """The gold mass for the row ``p`` (as exact binary fractions, renormalised) in 40-digit
    arithmetic: the reference where the float entropy is ill-conditioned (near uniform)."""
    import mpmath

    with mpmath.workdps(40):
        p = [mpmath.mpf(float(v)) for v in p]
        total = mpmath.fsum(p)
        p = [v / total for v in p]
        K = len(p)
        h = -mpmath.fsum(v * mpmath.log(v) for v in p if v > 0)
        if h == 0:
            return 1.0

        def f(q):
            rest = (1 - q) / (K - 1)
            return -q * mpmath.log(q) - (K - 1) * rest * mpmath.log(rest) - h

        lo, hi = mpmath.mpf(1) / K, mpmath.mpf(1)
        if f(lo) <= 0:
            return float(lo)
        for _ in range(48):  # plain bisection: f(lo) > 0 > f(hi), interval below 4e-15
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
        return float((lo + hi) / 2)


def _check_entropy_matched(human, gold, *, exact=False):
    from scipy.stats import entropy as scipy_entropy

    human = np.asarray(human, dtype=float)
    n, K = human.shape
    Y = EntropyMatchedSmoothing().make_targets(None, gold, human=human, n_classes=K)
    assert Y.shape == (n, K) and np.all(Y >= 0)
    np.testing.assert_allclose(Y.sum(1), 1, atol=1e-12)
    h = scipy_entropy(human.T)
    rows = np.arange(n)
    q = Y[rows, gold]
    others = Y.copy()
    others[rows, gold] = np.nan
    np.testing.assert_allclose(np.nanmax(others, 1), (1 - q) / (K - 1), atol=1e-15)
    np.testing.assert_allclose(np.nanmin(others, 1), (1 - q) / (K - 1), atol=1e-15)
    # the targets carry the human entropy (the forward problem is well-conditioned)
    np.testing.assert_allclose(scipy_entropy(Y.T), np.minimum(h, np.log(K)), atol=1e-12)
    for i in range(n):
        ref = _brentq_gold_mass(h[i], K)
        if ref - 1 / K > 1e-3:  # away from uniform, the entropy pins q to ~1e-14
            assert q[i] == pytest.approx(ref, abs=1e-12), i
        if exact:
            assert q[i] == pytest.approx(_mpmath_gold_mass(human[i]), abs=1e-12), i
    return Y


def test_entropy_matched_smoothing_against_brentq_and_mpmath():
    X, gold, human = data(n=100)
    _check_entropy_matched(human, gold, exact=True)
    rng = np.random.default_rng(0)
    for K in (2, 3, 10):
        H = rng.dirichlet(np.full(K, 0.3), size=30)
        _check_entropy_matched(H, rng.integers(0, K, 30), exact=True)
        near_uniform = np.full((4, K), 1.0 / K) + rng.normal(0, [[1e-3], [1e-6], [1e-9], [0]],
                                                           (4, K))
        near_uniform /= near_uniform.sum(1, keepdims=True)
        _check_entropy_matched(near_uniform, rng.integers(0, K, 4), exact=True)
    # edge rows: unanimous (also on a wrong class), uniform, one stray vote, two-way tie
    K = 10
    edge = np.zeros((5, K))
    edge[0, 3] = 1
    edge[1, 7] = 1
    edge[2] = 1 / K
    edge[3, 0], edge[3, 1] = 49 / 50, 1 / 50
    edge[4, :2] = 0.5
    Y = _check_entropy_matched(edge, np.array([3, 2, 0, 0, 5]), exact=True)
    np.testing.assert_array_equal(Y[0], np.eye(K)[3])
    np.testing.assert_array_equal(Y[1], np.eye(K)[2])  # amount only: the mode stays gold
    np.testing.assert_allclose(Y[2], 1 / K, rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12).flatmap(lambda K: st.tuples(
    st.just(K), st.lists(st.lists(st.floats(0, 1), min_size=K, max_size=K)
                         .filter(lambda r: sum(r) > 1e-6), min_size=1, max_size=8))),
       st.integers(0, 2**31 - 1))
def test_entropy_matched_smoothing_hypothesis(K_rows, seed):
    K, rows = K_rows
    human = np.array(rows, dtype=float)
    human /= human.sum(1, keepdims=True)
    gold = np.random.default_rng(seed).integers(0, K, len(rows))
    _check_entropy_matched(human, gold, exact=True)


@pytest.mark.parametrize("bad, match", [
    (np.full((30, 3), np.nan), "NaN"),
    (-np.ones((30, 3)) / 3, "negative"),
    (np.ones((30, 3)), "sum to 1"),
    (np.ones((29, 3)) / 3, "rows but y has"),
    (np.ones((30, 2)) / 2, "columns"),
])
@pytest.mark.parametrize("source", [EntropyMatchedSmoothing(), ShuffledHumanLabels(random_state=0)],
                         ids=lambda s: type(s).__name__)
def test_controls_reject_hostile_human_labels(source, bad, match):
    X, gold, _ = data(n=30)
    with pytest.raises(ValueError, match=match):
        SoftLogisticRegression(label_source=source).fit(X, gold, soft_labels=bad)
    with pytest.raises(ValueError, match="needs human label distributions"):
        SoftLogisticRegression(label_source=source).fit(X, gold)


@pytest.mark.parametrize("source", [EntropyMatchedSmoothing(), ShuffledHumanLabels(random_state=0)],
                         ids=lambda s: type(s).__name__)
def test_controls_take_read_only_strided_human_labels(source):
    X, gold, human = data(n=60)
    stacked = np.repeat(human, 2, axis=0)[::2]
    stacked.flags.writeable = False
    before = stacked.copy()
    Y, _ = make_training_targets(source, X, gold, soft_labels=stacked)
    np.testing.assert_array_equal(stacked, before)
    Y2, _ = make_training_targets(clone(source), X, gold, soft_labels=human.copy())
    np.testing.assert_array_equal(Y, Y2)


def test_grid_over_controls_with_routed_soft_labels(routing):
    X, gold, human = data()
    gs = GridSearchCV(
        SoftLogisticRegression(),
        {"label_source": [GoldLabels(), HumanSoftLabels(), ShuffledHumanLabels(random_state=0),
                          EntropyMatchedSmoothing()]},
        scoring={"kl": get_scorer("human_neg_kl_divergence"),
                 "nll": get_scorer("gold_neg_log_loss")},
        refit="kl", cv=StratifiedKFold(3), error_score="raise")
    gs.fit(X, gold, soft_labels=human)
    kl = gs.cv_results_["mean_test_kl"]
    assert np.all(np.isfinite(kl)) and np.all(np.isfinite(gs.cv_results_["mean_test_nll"]))
    # the item-level human labels fit the humans best; the per-item amount of uncertainty
    # alone already beats one-hot gold (here the shuffled null does not: each item's human
    # distribution depends on where it lies, and shuffling sends mass the wrong way)
    assert kl[1] == kl.max() and kl[3] > kl[0] and kl[2] < kl[3]
