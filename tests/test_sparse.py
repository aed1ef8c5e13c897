"""Sparse X: TF-IDF pipelines into the estimators, label sources and recalibrators.

scikit-learn's own sparse checks (``check_estimator_sparse_array`` / ``_matrix`` /
``_tag``) run in tests/test_estimators.py's ``parametrize_with_checks`` now that the
estimators declare ``input_tags.sparse``; here the results are compared with the dense fit
and used in real pipelines.
"""

import warnings

import numpy as np
import pytest
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags

from sksoft.calibration import TemperatureScaling
from sksoft.label_sources import (
    EnsembleDisagreement,
    GoldLabels,
    HumanSoftLabels,
    LabelSmoothing,
    TeacherDistillation,
)
from sksoft.linear_model import SoftLogisticRegression
from sksoft.meta import SoftExpand
from sksoft.metrics import get_scorer, kl_divergence


@pytest.fixture
def routing():
    sklearn.set_config(enable_metadata_routing=True)
    yield
    sklearn.set_config(enable_metadata_routing=False)


_WORDS = {0: ["good", "great", "fine", "nice"], 1: ["bad", "awful", "poor", "sad"],
          2: ["maybe", "unsure", "perhaps", "odd"]}
_FILLER = ["the", "a", "movie", "film", "plot", "was", "and", "it", "actor", "very"]


def corpus(n=180, seed=0):
    """Short texts of three classes, with human vote distributions that blur them."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 3, n)
    texts, human = [], np.zeros((n, 3))
    for i, g in enumerate(gold):
        mix = rng.dirichlet(np.where(np.arange(3) == g, 6.0, 1.0))
        words = [rng.choice(_WORDS[rng.choice(3, p=mix)]) for _ in range(3)]
        words += list(rng.choice(_FILLER, 4))
        rng.shuffle(words)
        texts.append(" ".join(words))
        human[i] = rng.multinomial(10, mix) / 10.0
    return np.array(texts), gold, human


def sparse_data(n=120, d=30, density=0.15, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = sparse.random(n, d, density=density, format="csr", random_state=seed,
                      data_rvs=lambda k: rng.normal(size=k))
    W = rng.normal(size=(d, K)) * 2
    logits = X @ W
    P = np.exp(logits - logits.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    return X, np.array([rng.multinomial(20, p) for p in P]) / 20.0


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "csr_array"])
def test_soft_logreg_sparse_equals_dense(K, fmt):
    X, Y = sparse_data(K=K)
    Xs = sparse.csr_array(X) if fmt == "csr_array" else X.asformat(fmt)
    sw = np.random.default_rng(1).uniform(0.5, 2, X.shape[0])
    dense = SoftLogisticRegression(C=3.0, tol=1e-10).fit(X.toarray(), Y, sample_weight=sw)
    sp = SoftLogisticRegression(C=3.0, tol=1e-10).fit(Xs, Y, sample_weight=sw)
    np.testing.assert_allclose(sp.coef_, dense.coef_, atol=1e-7)
    np.testing.assert_allclose(sp.intercept_, dense.intercept_, atol=1e-7)
    np.testing.assert_allclose(sp.predict_proba(Xs), dense.predict_proba(X.toarray()),
                               atol=1e-9)
    # predictions for a sparse X of float32 and for its dense copy agree
    X32 = Xs.astype(np.float32)
    np.testing.assert_allclose(sp.predict_proba(X32), sp.predict_proba(X32.toarray()),
                               atol=1e-6)


def test_soft_logreg_sparse_matches_sklearn_on_hard_labels():
    X, Y = sparse_data(K=3)
    y = Y.argmax(1)
    ours = SoftLogisticRegression(C=0.5, tol=1e-10).fit(X, y)
    ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_sparse_input_is_never_densified(monkeypatch):
    # a sparse X whose toarray / todense raise: the fit and the predictions never call them
    X, Y = sparse_data(n=80, d=40)

    class NoDense(sparse.csr_matrix):
        def toarray(self, *a, **k):
            raise AssertionError("densified")

        todense = toarray

        def __array__(self, *a, **k):
            raise AssertionError("densified")

    Xn = NoDense(X)
    clf = SoftLogisticRegression().fit(Xn, Y)
    assert clf.predict_proba(Xn).shape == Y.shape
    SoftExpand(LogisticRegression()).fit(Xn, Y).predict_proba(Xn)


def test_soft_expand_sparse_equals_dense():
    X, Y = sparse_data()
    dense = SoftExpand(LogisticRegression(C=2.0, tol=1e-12, max_iter=5000)).fit(X.toarray(), Y)
    sp = SoftExpand(LogisticRegression(C=2.0, tol=1e-12, max_iter=5000)).fit(X, Y)
    np.testing.assert_allclose(sp.predict_proba(X), dense.predict_proba(X.toarray()), atol=1e-6)


def test_sparse_tags_follow_the_estimator():
    from sklearn.ensemble import HistGradientBoostingClassifier

    assert get_tags(SoftLogisticRegression()).input_tags.sparse
    assert get_tags(SoftExpand(LogisticRegression())).input_tags.sparse
    hgb = SoftExpand(HistGradientBoostingClassifier())
    assert not get_tags(hgb).input_tags.sparse
    X, Y = sparse_data(n=40)
    with pytest.raises(TypeError, match="[Ss]parse"):
        hgb.fit(X, Y)
    assert get_tags(TemperatureScaling()).input_tags.sparse
    assert not get_tags(TemperatureScaling(estimator="passthrough")).input_tags.sparse
    assert not get_tags(TemperatureScaling(hgb)).input_tags.sparse


def test_model_label_sources_take_sparse_X():
    X, Y = sparse_data(n=150)
    gold = Y.argmax(1)
    for source in (TeacherDistillation(cv=3, random_state=0),
                   EnsembleDisagreement(n_members=2, cv=3, random_state=0)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sp = SoftLogisticRegression(label_source=source).fit(X, gold, soft_labels=Y)
            dense = SoftLogisticRegression(label_source=source).fit(X.toarray(), gold,
                                                                     soft_labels=Y)
        np.testing.assert_allclose(sp.predict_proba(X), dense.predict_proba(X.toarray()),
                                   atol=1e-5)


def test_recalibrator_on_a_sparse_pipeline():
    texts, gold, human = corpus()
    pipe = make_pipeline(TfidfVectorizer(), TemperatureScaling(SoftLogisticRegression(C=5.0),
                                                               cv=3))
    pipe.fit(texts, gold)
    P = pipe.predict_proba(texts)
    assert P.shape == (len(texts), 3) and np.allclose(P.sum(1), 1)
    assert pipe[-1].temperature_ > 0


def test_tfidf_pipeline_grid_search_over_label_sources(routing):
    texts, gold, human = corpus()
    pipe = make_pipeline(TfidfVectorizer(), SoftLogisticRegression(C=5.0))
    sources = [GoldLabels(), HumanSoftLabels(), LabelSmoothing(epsilon=0.2), TeacherDistillation(cv=3)]
    scoring = {"kl": get_scorer("human_neg_kl_divergence"),
               "acc": get_scorer("gold_soft_accuracy")}
    gs = GridSearchCV(pipe, {"softlogisticregression__label_source": sources},
                      scoring=scoring, refit="kl", cv=StratifiedKFold(3))
    gs.fit(texts, gold, soft_labels=human)
    kl = gs.cv_results_["mean_test_kl"]
    assert np.all(np.isfinite(kl)) and np.all(np.isfinite(gs.cv_results_["mean_test_acc"]))
    # training on the human distributions fits the human distributions better than gold
    assert kl[1] > kl[0]
    assert gs.best_index_ == int(np.argmax(kl))
    assert np.mean(gs.cv_results_["mean_test_acc"]) > 0.5  # the words carry the class
    best = gs.best_estimator_
    assert sparse.issparse(best[0].transform(texts[:3]))
    assert get_scorer("human_neg_kl_divergence")(best, texts, gold, soft_labels=human) == \
        pytest.approx(-kl_divergence(human, best.predict_proba(texts)))


def test_tfidf_pipeline_soft_expand_and_soft_y():
    texts, gold, human = corpus()
    pipe = make_pipeline(TfidfVectorizer(), SoftExpand(LogisticRegression(C=5.0, tol=1e-10, max_iter=5000)))
    pipe.fit(texts, human)
    P = pipe.predict_proba(texts)
    ref = make_pipeline(TfidfVectorizer(), SoftLogisticRegression(C=5.0, tol=1e-10)).fit(texts, human)
    np.testing.assert_allclose(P, ref.predict_proba(texts), atol=2e-3)
