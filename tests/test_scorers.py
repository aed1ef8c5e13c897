"""sksoft's scorers: scikit-learn's scorer protocol on public API, names that mean one thing."""

import numpy as np
import pytest
import sklearn
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import (
    brier_score_loss,
    log_loss,
    expected_calibration_error,
    get_scorer,
    get_scorer_names,
    kl_divergence,
    make_proba_scorer,
)


@pytest.fixture
def routing():
    sklearn.set_config(enable_metadata_routing=True)
    yield
    sklearn.set_config(enable_metadata_routing=False)


def data(n=200, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logits = 2 * X[:, :K] if K <= 3 else rng.normal(size=(n, K))
    P = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    human = np.array([rng.multinomial(10, p) for p in P]) / 10.0
    return X, P.argmax(1), human


def test_no_scorer_shares_a_name_with_a_different_scikit_learn_scorer():
    # issue 13: sksoft's "neg_brier_score" was twice scikit-learn's on binary problems
    names = set(get_scorer_names())
    assert "neg_brier_score" not in names and "gold_neg_brier_score" not in names
    assert {"neg_multiclass_brier_score", "gold_neg_multiclass_brier_score"} <= names
    X, y, _ = data(K=2)
    clf = SoftLogisticRegression().fit(X, y)
    ours = get_scorer("neg_multiclass_brier_score")(clf, X, y)
    theirs = sklearn_get_scorer("neg_brier_score")(clf, X, y)
    assert ours == pytest.approx(2 * theirs, rel=1e-12)
    shared = names & set(sklearn.metrics.get_scorer_names())
    for name in shared:  # a name both libraries use must give the same score
        assert get_scorer(name)(clf, X, y) == pytest.approx(
            sklearn_get_scorer(name)(clf, X, y)), name


def test_binary_problems_score_both_columns_and_string_labels():
    X, y, _ = data(K=2)
    labels = np.array(["no", "yes"])[y]
    clf = SoftLogisticRegression().fit(X, labels)
    P = clf.predict_proba(X)
    assert get_scorer("neg_log_loss")(clf, X, labels) == pytest.approx(
        -log_loss(y, P))
    soft = np.column_stack([1 - P[:, 1] * 0.9, P[:, 1] * 0.9])
    assert get_scorer("neg_kl_divergence")(clf, X, soft) == pytest.approx(-kl_divergence(soft, P))
    # the gold label of a soft row is its argmax
    assert get_scorer("gold_neg_log_loss")(clf, X, soft) == pytest.approx(
        -log_loss(soft.argmax(1), P))


def test_scorer_protocol_and_repr():
    scorer = make_proba_scorer(expected_calibration_error, greater_is_better=False,
                               against="gold", n_bins=10)
    assert repr(scorer) == ("make_proba_scorer(expected_calibration_error, "
                            "greater_is_better=False, against='gold', n_bins=10)")
    X, y, _ = data()
    clf = SoftLogisticRegression().fit(X, y)
    P = clf.predict_proba(X)
    w = np.linspace(0.5, 2, len(y))
    assert scorer(clf, X, y) == pytest.approx(-expected_calibration_error(y, P, n_bins=10))
    assert scorer(clf, X, y, sample_weight=w) == pytest.approx(
        -expected_calibration_error(y, P, n_bins=10, sample_weight=w))
    with pytest.raises(ValueError, match="against"):
        make_proba_scorer(brier_score_loss, against="model")
    with pytest.raises(TypeError, match="callable"):
        make_proba_scorer("brier_score")
    with pytest.raises(RuntimeError, match="metadata routing"):
        get_scorer("neg_log_loss").set_score_request(sample_weight=True)


def test_metadata_routing_of_sample_weight_and_soft_labels(routing):
    X, y, human = data()
    w = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    cv = KFold(3, shuffle=True, random_state=0)
    est = SoftLogisticRegression().set_fit_request(sample_weight=False)
    scoring = {"nll": get_scorer("neg_log_loss").set_score_request(sample_weight=True),
               "kl": get_scorer("human_neg_kl_divergence").set_score_request(sample_weight=False)}
    res = cross_validate(est, X, y, cv=cv, scoring=scoring, return_estimator=True,
                         return_indices=True,
                         params={"sample_weight": w, "soft_labels": human})
    for k, (fitted, test) in enumerate(zip(res["estimator"], res["indices"]["test"])):
        P = fitted.predict_proba(X[test])
        assert res["test_nll"][k] == pytest.approx(
            -log_loss(y[test], P, sample_weight=w[test]))
        assert res["test_kl"][k] == pytest.approx(-kl_divergence(human[test], P))
    # sample_weight passed but not requested by a scorer that knows it: an error, as in sklearn
    with pytest.raises(ValueError, match="sample_weight"):
        cross_validate(est, X, y, cv=cv, scoring=get_scorer("neg_log_loss"),
                       params={"sample_weight": w})
    # GridSearchCV routes the human labels to the scorer's test fold too
    gs = GridSearchCV(SoftLogisticRegression(), {"C": [0.01, 1.0]}, cv=cv,
                      scoring=get_scorer("human_neg_kl_divergence"))
    gs.fit(X, y, soft_labels=human)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
