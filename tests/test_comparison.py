"""sksoft.metrics' comparison of prediction sets on the same items (the study's paired
bootstrap, below the study): its own parameters, and the shortcuts it takes (only the tables
and metrics asked for, the human side of the entropy correlation computed once per item set)
give the numbers of the full computation exactly."""

import numpy as np
import pytest

from sksoft.metrics import (
    CHURN,
    CalibrationStats,
    bootstrap_weights,
    compare_predictions,
    copy_rank_correlation,
    prediction_replicates,
)
from sksoft.metrics._formulas import METRIC_NAMES, metric_columns


def _data(n=90, K=3, seed=0):
    rng = np.random.default_rng(seed)
    H = rng.dirichlet(np.ones(K) * 0.7, n)
    gold = np.array([rng.choice(K, p=h) for h in H])
    return gold, H, rng


def _fits(rng, n, K, sources=("a", "b"), seeds=3, folds=2):
    fits = []
    for seed in range(seeds):
        perm = np.random.default_rng(seed).permutation(n)
        for fold in range(folds):
            test = np.sort(perm[fold::folds])
            for s in sources:
                P = rng.dirichlet(np.ones(K), test.shape[0])
                fits.append({"keys": {"source": s, "seed": seed, "fold": fold},
                             "test": test, "proba": P})
    return fits


def test_metric_columns_names_are_the_full_columns():
    gold, H, rng = _data()
    P = rng.dirichlet(np.ones(3), gold.shape[0])
    stats = CalibrationStats(3, n_bins=10, classwise=True, n_groups=4, variance=True)
    stats.update(gold, P, groups=rng.integers(0, 4, gold.shape[0]))
    full = metric_columns(stats.top, stats.cls, stats.sums, top_var=stats.top_var)
    for names in (["ece"], ["rmsce_debiased", "classwise_ece"], ["kl_divergence", "brier"],
                  list(METRIC_NAMES)):
        part = metric_columns(stats.top, stats.cls, stats.sums, top_var=stats.top_var,
                              names=names)
        assert set(part) == set(names) & set(full)
        for name, col in part.items():
            np.testing.assert_array_equal(col, full[name])


def test_replicates_with_and_without_the_cache_are_identical():
    gold, H, rng = _data()
    W = np.ascontiguousarray(bootstrap_weights(gold.shape[0], 40, random_state=1).T)
    metrics = [("gold", "ece"), ("human", "kl_divergence"), ("human", "entropy_correlation"),
               ("plurality", "accuracy")]
    test = np.arange(0, 90, 2)
    plural = H.argmax(1)
    cache = {}
    for _ in range(2):  # the second arm reuses the human side
        P = rng.dirichlet(np.ones(3), test.shape[0])
        a = prediction_replicates(P, test, gold, H, W, metrics=metrics, plurality=plural,
                                  n_difficulty_bins=2, n_bins=10)
        b = prediction_replicates(P, test, gold, H, W, metrics=metrics, plurality=plural,
                                  n_difficulty_bins=2, n_bins=10, _cache=cache)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert cache
    # the entropy correlation of the unit-weight replicate is the copies' Spearman
    hp = -(P * np.log(P)).sum(1)
    ht = -(H[test] * np.log(H[test])).sum(1)
    want = copy_rank_correlation(ht, hp, np.ones((1, test.shape[0])))[0]
    assert a[0][2, 0] == pytest.approx(want, abs=1e-12)


def test_plurality_needs_the_plurality_classes():
    gold, H, rng = _data()
    W = np.ascontiguousarray(bootstrap_weights(gold.shape[0], 5, random_state=0).T)
    with pytest.raises(ValueError, match="plurality"):
        prediction_replicates(H[:10], np.arange(10), gold, H, W,
                              metrics=[("plurality", "accuracy")], n_difficulty_bins=1,
                              n_bins=5)


def test_compare_predictions_direction_and_identity():
    gold, H, rng = _data()
    fits = _fits(rng, gold.shape[0], 3)
    copy = [{**f, "keys": {**f["keys"], "source": "a_copy"}} for f in fits
            if f["keys"]["source"] == "a"]
    metrics = {"acc": ("gold", "accuracy"), "nll": ("gold", "cross_entropy")}
    out = compare_predictions(fits + copy, gold, H, metrics=metrics, higher_is_better={"acc"},
                              n_difficulty_bins=2, n_bins=10, n_bootstrap=100,
                              references=("a",), order=("a", "b", "a_copy"))
    d = out["differences"]
    assert set(d["metric"]) == {"acc", "nll", CHURN}
    same = d[d["source"] == "a_copy"]
    ok = same["difference"].notna()
    assert (same.loc[ok, "difference"] == 0).all() and not same["holds"].any()
    # "better" follows higher_is_better: where a difference holds, its sign decides
    held = d[d["holds"] & (d["metric"] == "acc")]
    assert ((held["difference"] > 0) == (held["better"] == "better")).all()
    held = d[d["holds"] & (d["metric"] == "nll")]
    assert ((held["difference"] < 0) == (held["better"] == "better")).all()
    lv = out["levels"]
    assert list(dict.fromkeys(lv["source"])) == ["a", "b", "a_copy"]
