import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksoft.calibration import TemperatureScaling, apply_temperature, fit_temperature
from sksoft.linear_model import SoftLogisticRegression
from sksoft.meta import SoftExpand
from sksoft.metrics import log_loss, get_scorer
from sksoft.model_selection import SoftStratifiedKFold, cross_val_predict_proba

torch = pytest.importorskip("torch")
from sksoft.neural_network import SoftNeuralNetClassifier  # noqa: E402
from sksoft.nn import SmallCNN  # noqa: E402

SKORCH_REASONS = {
    "check_no_attributes_set_in_init": "skorch's NeuralNet.__init__ sets history_, "
    "initialized_ and virtual_params_",
    "check_do_not_raise_errors_in_init_or_set_params": "skorch's set_params re-initialises "
    "callbacks eagerly, so an invalid `callbacks` value raises at set_params",
    "check_set_params": "skorch exposes its private `_params_to_validate` set through "
    "get_params, and the check overwrites it with a float",
}


def _expected_failures(est):
    return SKORCH_REASONS if isinstance(est, SoftNeuralNetClassifier) else {}


@parametrize_with_checks(
    [
        SoftLogisticRegression(),
        SoftExpand(LogisticRegression()),
        TemperatureScaling(cv=3),
        SoftNeuralNetClassifier(random_state=0, max_epochs=10),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


def soft_data(n=300, d=4, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, K)) * 1.5
    logits = X @ W
    P = np.exp(logits - logits.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    counts = np.array([rng.multinomial(20, p) for p in P])
    return X, counts / 20.0


# --------------------------------------------------------------------------- logistic regression
@pytest.mark.parametrize("K", [2, 3, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_soft_logreg_equals_sklearn_on_one_hot(K, weighted):
    X, Y = soft_data(K=K)
    y = Y.argmax(1)
    sw = np.random.default_rng(1).uniform(0.2, 3, len(y)) if weighted else None
    ours = SoftLogisticRegression(C=0.7, tol=1e-10).fit(X, y, sample_weight=sw)
    ref = LogisticRegression(C=0.7, tol=1e-12, max_iter=10000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    onehot = np.eye(K)[y]
    np.testing.assert_allclose(
        SoftLogisticRegression(C=0.7, tol=1e-10).fit(X, onehot, sample_weight=sw).predict_proba(X),
        ours.predict_proba(X), atol=1e-8,
    )


def test_soft_logreg_equals_expanded_sklearn_on_soft_targets():
    # Same objective, independent optimiser: expanded rows weighted by y_ik
    X, Y = soft_data(K=3)
    ours = SoftLogisticRegression(C=2.0, tol=1e-10).fit(X, Y)
    ref = SoftExpand(LogisticRegression(C=2.0, tol=1e-12, max_iter=10000)).fit(X, Y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    # soft training beats hard training on the soft cross-entropy it optimises
    hard = SoftLogisticRegression(C=2.0).fit(X, Y.argmax(1))
    assert log_loss(Y, ours.predict_proba(X)) < log_loss(Y, hard.predict_proba(X))


def test_string_labels_and_classes_parameter():
    X, Y = soft_data(K=3)
    names = np.array(["bird", "cat", "dog"])
    y = names[Y.argmax(1)]
    clf = SoftLogisticRegression().fit(X, y)
    assert list(clf.classes_) == ["bird", "cat", "dog"]
    assert set(clf.predict(X)) <= set(names)
    soft = SoftLogisticRegression(classes=names).fit(X, Y)
    assert list(soft.predict(X[:5])) == list(names[soft.predict_proba(X[:5]).argmax(1)])
    assert 0.5 < soft.score(X, Y) <= 1.0
    assert soft.score(X, y) == pytest.approx(soft.score(X, Y))


def test_y_contract_errors():
    X, Y = soft_data(K=3)
    codes = np.column_stack([Y.argmax(1), Y.argmin(1)])  # what cross_val_predict would produce
    with pytest.raises(ValueError, match="cross_val_predict_proba"):
        SoftLogisticRegression().fit(X, codes)
    with pytest.raises(ValueError, match="classes has 2 entries"):
        SoftLogisticRegression(classes=["a", "b"]).fit(X, Y)
    with pytest.raises(ValueError, match="only one class"):
        SoftLogisticRegression().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="rows must sum to 1"):
        SoftLogisticRegression().fit(X, Y * 2)
    with pytest.raises(ValueError, match="samples"):
        SoftLogisticRegression().fit(X[:10], Y)
    with pytest.raises(ValueError, match="labels not in"):
        SoftLogisticRegression(classes=[0, 1]).fit(X, Y.argmax(1))
    with pytest.warns(DataConversionWarning):
        SoftLogisticRegression().fit(X, Y.argmax(1)[:, None])
    with pytest.raises(ValueError, match="Unknown label type"):
        SoftLogisticRegression().fit(X, np.linspace(0, 1, len(X)))


def test_sklearn_cross_val_predict_fails_where_ours_works():
    X, Y = soft_data(K=3)
    with pytest.raises(ValueError, match="cross_val_predict_proba"):
        cross_val_predict(SoftLogisticRegression(), X, Y, method="predict_proba")
    P = cross_val_predict_proba(SoftLogisticRegression(), X, Y, cv=4)
    assert P.shape == Y.shape
    np.testing.assert_allclose(P.sum(1), 1)
    # manual reference
    manual = np.zeros_like(Y)
    for train, test in SoftStratifiedKFold(4).split(X, Y):
        manual[test] = SoftLogisticRegression().fit(X[train], Y[train]).predict_proba(X[test])
    np.testing.assert_allclose(P, manual)


def test_cross_val_predict_proba_aligns_missing_classes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = np.array([0] * 14 + [1] * 14 + [2] * 2)
    cv = [(np.arange(28), np.arange(28, 30)), (np.arange(2, 30), np.arange(0, 2))]
    P = cross_val_predict_proba(SoftLogisticRegression(), X, y, cv=cv)
    assert P.shape == (30, 3)
    assert np.all(P[28:, 2] == 0)  # the fold that never saw class 2 predicts 0 for it


def test_soft_stratified_kfold():
    X, Y = soft_data(n=100, K=3)
    arg = Y.argmax(1)
    for train, test in SoftStratifiedKFold(5).split(X, Y):
        frac = np.bincount(arg[test], minlength=3) / len(test)
        np.testing.assert_allclose(frac, np.bincount(arg, minlength=3) / 100, atol=0.06)
    strata = np.arange(100) % 2
    for train, test in SoftStratifiedKFold(5).split(X, Y, strata=strata):
        assert abs(strata[test].mean() - 0.5) < 0.01
    with pytest.raises(ValueError, match="needs y or strata"):
        next(SoftStratifiedKFold(2).split(X))


# --------------------------------------------------------------------------- sklearn tooling
def test_pipeline_gridsearch_cross_validate_with_soft_y():
    X, Y = soft_data(n=240, K=3)
    pipe = make_pipeline(StandardScaler(), SoftLogisticRegression())
    pipe.fit(X, Y)
    assert pipe.predict_proba(X).shape == Y.shape
    scoring = {
        "nll": get_scorer("neg_log_loss"),
        "ece": get_scorer("neg_expected_calibration_error"),
        "kl": get_scorer("neg_kl_divergence"),
        "acc": get_scorer("soft_accuracy"),
    }
    gs = GridSearchCV(pipe, {"softlogisticregression__C": [1e-4, 1e-2, 1.0, 100.0]},
                      scoring=scoring, refit="nll", cv=SoftStratifiedKFold(4))
    gs.fit(X, Y)
    scores = gs.cv_results_["mean_test_nll"]
    assert np.all(np.isfinite(scores))
    assert gs.best_index_ == int(np.argmax(scores)) != 0  # a real choice, not the first one
    res = cross_validate(pipe, X, Y, scoring=scoring, cv=SoftStratifiedKFold(3))
    assert np.all(np.isfinite(res["test_ece"]))
    # scikit-learn's own scorers turn into NaN on soft y -- the failure sksoft avoids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bad = cross_validate(pipe, X, Y, scoring="neg_log_loss", cv=SoftStratifiedKFold(3))
    assert np.all(np.isnan(bad["test_score"]))


def test_scorers_with_string_labels_and_binary():
    X, Y = soft_data(K=2)
    y = np.array(["no", "yes"])[Y.argmax(1)]
    clf = SoftLogisticRegression().fit(X, y)
    s = get_scorer("neg_multiclass_brier_score")(clf, X, y)
    from sksoft.metrics import brier_score_loss

    assert s == pytest.approx(-brier_score_loss(y, clf.predict_proba(X), labels=clf.classes_))
    assert np.isfinite(get_scorer("neg_log_loss")(clf, X, Y))
    with pytest.raises(ValueError, match="not an sksoft scorer"):
        get_scorer("nope")


def test_soft_expand_drops_zero_weights_and_aligns_columns():
    X, Y = soft_data(K=3)
    Y = Y.copy()
    Y[:, 2] = 0
    Y[:, :2] += 0.01
    Y /= Y.sum(1, keepdims=True)
    clf = SoftExpand(LogisticRegression()).fit(X, Y)
    P = clf.predict_proba(X)
    assert P.shape == (len(X), 3) and np.all(P[:, 2] == 0)


# --------------------------------------------------------------------------- temperature
def test_temperature_scaling_soft_and_prefit():
    X, Y = soft_data(n=400, K=3, seed=3)
    base = SoftLogisticRegression(C=100).fit(X[:200], Y[:200].argmax(1))
    ts = TemperatureScaling(base, cv="prefit").fit(X[200:], Y[200:])
    assert ts.temperature_ == pytest.approx(fit_temperature(Y[200:], base.predict_proba(X[200:])))
    before = log_loss(Y[200:], base.predict_proba(X[200:]))
    after = log_loss(Y[200:], ts.predict_proba(X[200:]))
    assert after <= before + 1e-12
    np.testing.assert_allclose(ts.predict_proba(X[:3]),
                               apply_temperature(base.predict_proba(X[:3]), ts.temperature_))
    pipe = make_pipeline(StandardScaler(), TemperatureScaling(SoftLogisticRegression(), cv=3))
    pipe.fit(X, Y)
    assert pipe[-1].temperature_ > 0
    # the fitted temperature is a minimum of the loss
    T = fit_temperature(Y, base.predict_proba(X))
    for t in (T * 0.9, T * 1.1):
        assert log_loss(Y, apply_temperature(base.predict_proba(X), T)) <= log_loss(
            Y, apply_temperature(base.predict_proba(X), t)) + 1e-9


# --------------------------------------------------------------------------- neural network
def test_neural_net_soft_fit_reproducible_pickle_clone():
    X, Y = soft_data(n=200, K=3)
    net = SoftNeuralNetClassifier(max_epochs=5, random_state=0, module__hidden_units=(16,))
    net.fit(X, Y)  # float64 X accepted
    P = net.predict_proba(X)
    np.testing.assert_allclose(P.sum(1), 1)
    hist = net.history_
    assert "valid_ece" in hist[-1] and "valid_nll" in hist[-1]
    assert hist[-1]["valid_nll"] == pytest.approx(hist[-1]["valid_loss"], rel=1e-4)
    again = SoftNeuralNetClassifier(max_epochs=5, random_state=0, module__hidden_units=(16,))
    np.testing.assert_allclose(again.fit(X, Y).predict_proba(X), P, atol=1e-6)
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(restored.predict_proba(X), P, atol=1e-6)
    c = clone(net)
    assert c.get_params()["module__hidden_units"] == (16,)
    assert not hasattr(c, "classes_")
    c.set_params(module__hidden_units=(8, 8), lr=0.05)
    c.fit(X, Y)
    assert c.module_.net[0].out_features == 8


def test_neural_net_gridsearch_and_device_auto():
    X, Y = soft_data(n=150, K=3)
    net = SoftNeuralNetClassifier(max_epochs=3, random_state=0, device="auto", train_split=None)
    gs = GridSearchCV(net, {"module__hidden_units": [(4,), (32,)], "lr": [0.01, 0.05]},
                      scoring=get_scorer("neg_log_loss"), cv=SoftStratifiedKFold(3))
    gs.fit(X.astype(np.float32), Y)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
    assert gs.best_estimator_.device == "auto"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(gs.best_estimator_.module_.parameters()).device.type == expected


def test_neural_net_string_labels_and_cnn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3, 8, 8)).astype(np.float32)
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
    net = SoftNeuralNetClassifier(SmallCNN, module__width=4, max_epochs=2, random_state=0)
    net.fit(X, y)
    assert set(net.predict(X)) <= {"a", "b", "c"}
    assert net.predict_proba(X).shape == (60, 3)


def test_partial_fit_keeps_using_the_label_source():
    # issue 13: after the first call, partial_fit rebuilt one-hot targets from y and ignored
    # the label source
    from sksoft.label_sources import HumanSoftLabels

    calls, trained = [], []

    class Recording(HumanSoftLabels):
        def make_targets(self, X, gold, **kw):
            calls.append(len(gold))
            return super().make_targets(X, gold, **kw)

    class Spy(SoftNeuralNetClassifier):
        def get_loss(self, y_pred, y_true, X=None, training=False):
            if training:
                trained.append(y_true.detach().cpu().numpy().copy())
            return super().get_loss(y_pred, y_true, X=X, training=training)

    X, Y = soft_data(n=120, K=3)
    X, gold = X.astype(np.float32), Y.argmax(1)
    net = Spy(max_epochs=1, random_state=0, train_split=None, label_source=Recording())
    for _ in range(3):
        net.partial_fit(X, gold, soft_labels=Y)
    assert calls == [120, 120, 120]
    # every call trained on the human soft labels, never on one-hot gold rows
    np.testing.assert_allclose(np.sort(np.concatenate(trained), axis=None),
                               np.sort(np.tile(Y, (3, 1)).astype(np.float32), axis=None))
    with pytest.raises(ValueError, match="labels not in"):
        net.partial_fit(X, gold + 5, soft_labels=Y)


def test_partial_fit_classes_argument_fixes_the_classes():
    X, Y = soft_data(n=90, K=3)
    X, gold = X.astype(np.float32), Y.argmax(1)
    net = SoftNeuralNetClassifier(max_epochs=1, random_state=0, train_split=None)
    first = gold < 2
    net.partial_fit(X[first], gold[first], classes=np.array([0, 1, 2]))
    assert net.classes_.tolist() == [0, 1, 2] and net.predict_proba(X[:2]).shape == (2, 3)
    net.partial_fit(X, gold)  # the third class arrives later
    assert net.classes_.tolist() == [0, 1, 2]
