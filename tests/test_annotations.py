import numpy as np
import pandas as pd
import pytest

from sksoft.annotations import (
    agreement_summary,
    counts_to_soft,
    dawid_skene,
    fleiss_kappa,
    long_to_wide,
    majority_vote,
    to_counts,
    wide_to_long,
)


def synthetic_crowd(n_items=600, n_workers=30, K=3, per_item=8, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, K, n_items)
    conf = np.empty((n_workers, K, K))
    for w in range(n_workers):
        acc = rng.uniform(0.55, 0.95)
        conf[w] = (1 - acc) / (K - 1)
        np.fill_diagonal(conf[w], acc)
    wide = np.full((n_items, n_workers), np.nan)
    for i in range(n_items):
        for w in rng.choice(n_workers, per_item, replace=False):
            wide[i, w] = rng.choice(K, p=conf[w, truth[i]])
    return wide, truth, conf


def test_formats_round_trip_and_counts():
    wide, _, _ = synthetic_crowd(n_items=50, n_workers=7, per_item=3)
    long = wide_to_long(wide)
    assert list(long.columns) == ["task", "worker", "label"] and len(long) == 150
    back, tasks, workers, classes = long_to_wide(long)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(wide))
    np.testing.assert_array_equal(back[~np.isnan(back)], wide[~np.isnan(wide)])
    c1 = to_counts(wide, n_classes=3)
    c2 = to_counts(long, classes=[0, 1, 2])
    np.testing.assert_array_equal(c1, c2)
    assert np.all(c1.sum(1) == 3)
    # masks instead of NaN
    codes = np.nan_to_num(wide, nan=0).astype(int)
    np.testing.assert_array_equal(to_counts(codes, n_classes=3, mask=~np.isnan(wide)), c1)
    with pytest.raises(ValueError, match="integer class codes"):
        to_counts(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="missing"):
        to_counts(pd.DataFrame({"task": [1], "label": [0]}))


def test_counts_to_soft_and_majority():
    C = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 0]])
    with pytest.raises(ValueError, match="item 1 has no votes"):
        counts_to_soft(C)
    S = counts_to_soft(C, prior=1.0)
    np.testing.assert_allclose(S[1], 1 / 3)
    np.testing.assert_allclose(S[0], [4 / 7, 2 / 7, 1 / 7])
    assert majority_vote(C).tolist() == [0, 0, 0]
    r = majority_vote(np.tile([2, 2, 0], (400, 1)), tie_break="random", random_state=0)
    assert set(r.tolist()) == {0, 1} and 150 < (r == 0).sum() < 250
    with pytest.raises(ValueError, match="tie_break"):
        majority_vote(C, tie_break="last")


def test_dawid_skene_recovers_synthetic_confusions():
    wide, truth, conf = synthetic_crowd(n_items=1500, per_item=10)
    res = dawid_skene(wide, n_classes=3)
    assert (res.posteriors.argmax(1) == truth).mean() > (majority_vote(to_counts(wide)) == truth).mean() - 0.005
    assert (res.posteriors.argmax(1) == truth).mean() > 0.97
    np.testing.assert_allclose(res.posteriors.sum(1), 1)
    est_acc = np.einsum("wkk->wk", res.confusions).mean(1)
    true_acc = np.einsum("wkk->wk", conf).mean(1)
    assert np.max(np.abs(est_acc - true_acc)) < 0.08
    np.testing.assert_allclose(res.priors, np.bincount(truth) / len(truth), atol=0.03)
    # a random start is identified only up to a relabelling of the classes
    from itertools import permutations

    again = dawid_skene(wide, n_classes=3, init="random", random_state=1, max_iter=300, tol=1e-9)
    pred = again.posteriors.argmax(1)
    assert max((np.array(perm)[pred] == truth).mean() for perm in permutations(range(3))) > 0.95


def test_dawid_skene_fast_on_100k():
    import time

    wide, _, _ = synthetic_crowd(n_items=10_000, n_workers=200, per_item=10, seed=2)
    t0 = time.perf_counter()
    res = dawid_skene(wide, n_classes=3, max_iter=20)
    assert res.n_iter >= 1
    # not a timing assertion on shared machines: only a generous sanity bound
    assert time.perf_counter() - t0 < 60


def _lewidi(shared_data):
    a = pd.read_csv(shared_data / "lewidi2023_annotations.csv")
    for name, g in a.groupby("dataset"):
        yield name, pd.DataFrame({"task": g["split"] + "/" + g["item_id"].astype(str),
                                  "worker": g["annotator"], "label": g["label"]})


@pytest.mark.realdata
def test_dawid_skene_and_majority_equal_crowdkit_on_lewidi(shared_data):
    ck = pytest.importorskip("crowdkit.aggregation")
    for name, df in _lewidi(shared_data):
        ref = ck.DawidSkene(n_iter=100, tol=1e-5).fit(df)
        ours = dawid_skene(df, max_iter=100, tol=1e-5)
        P = ref.probas_.sort_index()
        P = P[sorted(P.columns)].to_numpy()
        np.testing.assert_allclose(ours.posteriors, P, atol=1e-8, err_msg=name)
        assert ours.n_iter == len(ref.loss_history_)
        np.testing.assert_allclose(ours.elbo, ref.loss_history_, rtol=1e-9)
        # majority vote: identical wherever the plurality is unique; on ties crowd-kit picks
        # whichever tied label comes first in its frequency-ordered columns, sksoft the smallest
        C = to_counts(df)
        classes = np.unique(df["label"])
        mv_ref = ck.MajorityVote().fit(df).labels_.sort_index().to_numpy()
        mv = classes[majority_vote(C)]
        tied = (C == C.max(1, keepdims=True)).sum(1) > 1
        np.testing.assert_array_equal(mv[~tied], mv_ref[~tied])
        for i in np.flatnonzero(tied):
            assert mv_ref[i] in classes[C[i] == C[i].max()]


def test_agreement_summary():
    C = np.array([[10, 0, 0], [5, 5, 0], [4, 3, 3]])
    s = agreement_summary(C)
    assert s["normalized_entropy"][0] == 0
    np.testing.assert_allclose(s["normalized_entropy"][1], np.log(2) / np.log(3))
    assert s["plurality_share"].tolist() == [1.0, 0.5, 0.4]
    assert s["fraction_unanimous"] == pytest.approx(1 / 3)
    # Fleiss' kappa reference: the classic Fleiss (1971) worked example
    table = np.array([
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ])
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=1e-3)


def test_dawid_skene_integer_weights_equal_repetition():
    from sksoft.datasets import make_ambiguous_digits

    d = make_ambiguous_digits(annotators_per_item=5, random_state=0)
    A = d.annotations[:300]
    w = np.random.default_rng(0).integers(0, 4, 300)
    repeated = dawid_skene(np.repeat(A, w, axis=0), n_classes=10)
    weighted = dawid_skene(A, n_classes=10, sample_weight=w)
    last_copy = np.cumsum(w)[w > 0] - 1
    # equal up to the 1e-10 floor of the confusion rows (a worker's label seen only on
    # zero-weight items keeps that floor in the weighted fit and is absent from the repeated)
    np.testing.assert_allclose(weighted.posteriors[w > 0], repeated.posteriors[last_copy],
                               atol=1e-8)
    np.testing.assert_allclose(weighted.priors, repeated.priors, atol=1e-10)
    assert weighted.n_iter == repeated.n_iter
    np.testing.assert_allclose(weighted.elbo, repeated.elbo, rtol=1e-8)
    # unit weights are no weights
    plain = dawid_skene(A, n_classes=10)
    np.testing.assert_array_equal(dawid_skene(A, n_classes=10, sample_weight=np.ones(300))
                                  .posteriors, plain.posteriors)
    with pytest.raises(ValueError, match="sample_weight"):
        dawid_skene(A, n_classes=10, sample_weight=np.ones(5))
    no_votes = np.vstack([A[:2], np.full((1, A.shape[1]), np.nan)])  # item 2 has no votes
    with pytest.raises(ValueError, match="zero on every item that has votes"):
        dawid_skene(no_votes, n_classes=10, sample_weight=[0, 0, 1.0])
