import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_validate

from sksoft.label_sources import (
    CrowdAggregate,
    EnsembleDisagreement,
    GoldLabels,
    HumanMajority,
    HumanSoftLabels,
    LabelSmoothing,
    MixtureOfSources,
    ModeAlignedHumanLabels,
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
