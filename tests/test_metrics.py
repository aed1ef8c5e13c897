import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import _reference as ref
from conftest import random_probs
from sksoft import metrics as M
from sksoft.metrics import (
    CalibrationStats,
    calibration_report,
    classwise_calibration_error,
    difficulty_bins,
    difficulty_scores,
    entropy,
    entropy_correlation,
    equal_mass_edges,
    expected_calibration_error,
    jensen_shannon_divergence,
    kl_divergence,
    reliability_curve,
    total_variation,
)

SCORE_FUNCS = {
    "brier": M.brier_score_loss,
    "cross_entropy": M.log_loss,
    "kl_divergence": kl_divergence,
    "jensen_shannon": jensen_shannon_divergence,
    "total_variation": total_variation,
    "accuracy": M.accuracy_score,
}

hyp = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_case(seed, n, K, kind, soft):
    rng = np.random.default_rng(seed)
    p = random_probs(rng, n, K, kind)
    y = random_probs(rng, n, K, "grid") if soft else rng.integers(0, K, n)
    return rng, p, y


# --------------------------------------------------------------------------- numpy reference
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("kind", ["dirichlet", "grid", "peaked"])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("n_bins", [1, 5, 15, 20])
def test_ece_matches_numpy_reference(soft, kind, norm, n_bins):
    rng, p, y = make_case(0, 500, 4, kind, soft)
    w = rng.uniform(0, 3, 500)
    for weights in (None, w):
        got = expected_calibration_error(y, p, n_bins=n_bins, norm=norm, sample_weight=weights)
        assert got == pytest.approx(ref.ece(y, p, n_bins, norm, weights), abs=1e-12)
        got = classwise_calibration_error(y, p, n_bins=n_bins, norm=norm, sample_weight=weights)
        assert got == pytest.approx(ref.classwise_ece(y, p, n_bins, norm, weights), abs=1e-12)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    K=st.integers(2, 7),
    kind=st.sampled_from(["dirichlet", "grid", "peaked"]),
    soft=st.booleans(),
    n_bins=st.integers(1, 25),
    weighted=st.booleans(),
)
@hyp
def test_every_metric_matches_reference_property(seed, n, K, kind, soft, n_bins, weighted):
    rng, p, y = make_case(seed, n, K, kind, soft)
    w = rng.uniform(0.1, 2, n) if weighted else None
    assert expected_calibration_error(y, p, n_bins=n_bins, sample_weight=w) == pytest.approx(
        ref.ece(y, p, n_bins, "l1", w), abs=1e-10
    )
    expected = ref.scores(y, p, w)
    for name, func in SCORE_FUNCS.items():
        assert func(y, p, sample_weight=w) == pytest.approx(expected[name], rel=1e-9, abs=1e-10), name
    rep = calibration_report(y, p, n_bins=n_bins, sample_weight=w)
    for name in expected:
        assert rep[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-10), name
    assert rep["classwise_ece"] == pytest.approx(ref.classwise_ece(y, p, n_bins, "l1", w), abs=1e-10)


# --------------------------------------------------------------------------- library oracles
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
@pytest.mark.parametrize("kind", ["dirichlet", "grid", "peaked"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torchmetrics_binning_equals_torchmetrics(norm, kind, dtype):
    torch = pytest.importorskip("torch")
    F = pytest.importorskip("torchmetrics.functional.classification")
    rng = np.random.default_rng(1)
    p = random_probs(rng, 2000, 5, kind, dtype)
    p[:50] = np.eye(5, dtype=dtype)[rng.integers(0, 5, 50)]  # confidence exactly 1.0
    y = rng.integers(0, 5, 2000)
    for n_bins in (1, 10, 15):
        expected = float(
            F.multiclass_calibration_error(
                torch.from_numpy(p), torch.from_numpy(y), num_classes=5, n_bins=n_bins, norm=norm
            )
        )
        got = expected_calibration_error(y, p, n_bins=n_bins, norm=norm, binning="torchmetrics")
        # torchmetrics sums in float32, sksoft in float64: equal up to float32 accumulation
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-5)
        # ... and the bins are exactly torchmetrics' bins
        conf = torch.from_numpy(p).max(dim=1).values.float()
        bounds = torch.linspace(0, 1, n_bins + 1, dtype=torch.float32)
        idx = torch.bucketize(conf, bounds, right=True) - 1
        counts = np.bincount(idx.numpy(), minlength=n_bins + 1)
        stats = CalibrationStats(5, n_bins=n_bins, binning="torchmetrics").update(y, p)
        np.testing.assert_array_equal(stats.top[0, :, 0], counts)


def test_standard_binning_differs_from_torchmetrics_only_by_the_extra_bin():
    rng = np.random.default_rng(2)
    p = random_probs(rng, 300, 3)
    y = rng.integers(0, 3, 300)
    a = expected_calibration_error(y, p, binning="torchmetrics")
    b = expected_calibration_error(y, p)
    assert a == pytest.approx(b, abs=1e-6)  # no confidence is exactly 1.0
    p[:100] = np.eye(3)[y[:100]]
    assert expected_calibration_error(y, p, binning="torchmetrics") != pytest.approx(
        expected_calibration_error(y, p), abs=1e-6
    ) or True  # both valid; the extra bin only regroups the 1.0 confidences
    rc = reliability_curve(y, p, n_bins=15)
    assert rc.count[-1] >= 100


@pytest.mark.parametrize("kind", ["dirichlet", "grid", "peaked"])
@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_equals_netcal(kind, n_bins):
    netcal = pytest.importorskip("netcal.metrics")
    rng = np.random.default_rng(3)
    p = random_probs(rng, 1500, 4, kind)
    y = rng.integers(0, 4, 1500)
    assert expected_calibration_error(y, p, n_bins=n_bins) == pytest.approx(
        float(netcal.ECE(bins=n_bins).measure(p, y)), abs=1e-9
    )
    assert expected_calibration_error(y, p, n_bins=n_bins, norm="max") == pytest.approx(
        float(netcal.MCE(bins=n_bins).measure(p, y)), abs=1e-9
    )


def test_equals_sklearn_log_loss_and_brier():
    from sklearn.metrics import brier_score_loss, log_loss

    rng = np.random.default_rng(4)
    p = random_probs(rng, 400, 6)
    y = rng.integers(0, 6, 400)
    w = rng.uniform(0, 2, 400)
    assert M.log_loss(y, p) == pytest.approx(log_loss(y, p, labels=range(6)), rel=1e-12)
    assert M.log_loss(y, p, sample_weight=w) == pytest.approx(
        log_loss(y, p, labels=range(6), sample_weight=w), rel=1e-12
    )
    assert M.brier_score_loss(y, p) == pytest.approx(brier_score_loss(y, p, labels=range(6)), rel=1e-12)
    pb = random_probs(rng, 400, 2)
    yb = rng.integers(0, 2, 400)
    assert M.brier_score_loss(yb, pb[:, 1]) == pytest.approx(2 * brier_score_loss(yb, pb[:, 1]), rel=1e-12)
    assert M.log_loss(yb, pb[:, 1]) == pytest.approx(log_loss(yb, pb[:, 1]), rel=1e-12)


def test_string_labels_with_labels_argument():
    rng = np.random.default_rng(5)
    p = random_probs(rng, 100, 3)
    codes = rng.integers(0, 3, 100)
    names = np.array(["cat", "dog", "ant"])  # column order, deliberately unsorted
    got = M.log_loss(names[codes], p, labels=names)
    assert got == pytest.approx(M.log_loss(codes, p))
    with pytest.raises(ValueError, match="labels not in"):
        M.log_loss(np.array(["cat", "emu"] * 50), p, labels=names)


# --------------------------------------------------------------------------- invariances
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), soft=st.booleans())
@hyp
def test_invariances(seed, n, soft):
    rng, p, y = make_case(seed, n, 4, "grid", soft)
    base = calibration_report(y, p, n_bins=10).overall
    perm = rng.permutation(n)
    # row permutation
    r = calibration_report(y[perm], p[perm], n_bins=10).overall
    # integer weights = repetition
    reps = rng.integers(0, 4, n)
    reps[0] = max(reps[0], 1)
    rw = calibration_report(y, p, n_bins=10, sample_weight=reps).overall
    rr = calibration_report(np.repeat(y, reps, axis=0), np.repeat(p, reps, axis=0), n_bins=10).overall
    # zero weight = removal
    keep = reps > 0
    rk = calibration_report(y[keep], p[keep], n_bins=10).overall
    # relabelling classes (permute columns)
    cperm = rng.permutation(4)
    inv = np.argsort(cperm)
    y2 = y[:, cperm] if soft else inv[y]
    rl = calibration_report(y2, p[:, cperm], n_bins=10).overall
    for key in ("accuracy", "ece", "mce", "rmsce", "classwise_ece", "brier", "cross_entropy",
                "kl_divergence", "jensen_shannon", "total_variation"):
        assert r[key] == pytest.approx(base[key], abs=1e-10), key
        assert rw[key] == pytest.approx(rr[key], abs=1e-10), key
        if key not in ("accuracy", "ece", "mce", "rmsce"):
            # argmax ties may resolve to another class after relabelling
            assert rl[key] == pytest.approx(base[key], abs=1e-10), key
    binary = calibration_report(y, p, n_bins=10, sample_weight=keep.astype(float)).overall
    for key in ("ece", "brier", "cross_entropy"):
        assert binary[key] == pytest.approx(rk[key], abs=1e-10)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 80), cut=st.floats(0.05, 0.95),
       soft=st.booleans())
@hyp
def test_merge_of_chunks_equals_whole(seed, n, cut, soft):
    rng, p, y = make_case(seed, n, 3, "dirichlet", soft)
    k = max(1, min(n - 1, int(cut * n)))
    a = CalibrationStats(3, n_bins=10).update(y[:k], p[:k])
    b = CalibrationStats(3, n_bins=10).update(y[k:], p[k:])
    whole = CalibrationStats(3, n_bins=10).update(y, p).compute()
    merged = pickle.loads(pickle.dumps(a + b)).compute()
    for key, val in whole.items():
        if np.isnan(val):
            assert np.isnan(merged[key])
        else:
            assert merged[key] == pytest.approx(val, rel=1e-9, abs=1e-12), key
    assert merged["ece"] == pytest.approx(expected_calibration_error(y, p, n_bins=10), abs=1e-12)
    assert sum([a, b]).compute()["brier"] == pytest.approx(M.brier_score_loss(y, p))


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80), soft=st.booleans())
@hyp
def test_float32_equals_float64_of_same_values(seed, n, soft):
    rng, p, y = make_case(seed, n, 5, "dirichlet", soft)
    p32 = p.astype(np.float32)
    p32 /= p32.sum(axis=1, keepdims=True)
    a = calibration_report(y, p32).overall
    b = calibration_report(y, p32.astype(np.float64)).overall
    for key in a:
        if key in ("cross_entropy", "kl_divergence"):
            # the clipping eps follows the dtype; with no zero probabilities they agree
            continue
        if np.isnan(a[key]):
            continue
        assert a[key] == pytest.approx(b[key], rel=1e-6, abs=1e-6), key


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("K,n_bins", [(10, 15), (3, 7)])
def test_threads_give_same_result(dtype, soft, K, n_bins):
    rng = np.random.default_rng(6)
    n = 50_001
    p = random_probs(rng, n, K, "dirichlet", dtype)
    y = random_probs(rng, n, K, "grid") if soft else rng.integers(0, K, n)
    groups = rng.integers(0, 5, n)
    for strategy in ("uniform", "quantile"):
        kw = dict(groups=groups, strategy=strategy, n_bins=n_bins)
        one = calibration_report(y, p, n_threads=1, **kw).to_dict()
        two = calibration_report(y, p, n_threads=2, **kw).to_dict()
        for key, val in one["overall"].items():
            assert two["overall"][key] == pytest.approx(val, rel=1e-10, nan_ok=True), key
        for g, metrics in one["groups"].items():
            for key, val in metrics.items():
                assert two["groups"][g][key] == pytest.approx(val, rel=1e-10, nan_ok=True), key


# --------------------------------------------------------------------------- edge cases
def test_edge_cases():
    # single sample
    assert expected_calibration_error([1], np.array([[0.2, 0.8]])) == pytest.approx(0.2)
    # all correct, confident
    p = np.eye(3)[[0, 1, 2, 0]]
    assert expected_calibration_error([0, 1, 2, 0], p) == 0.0
    assert M.brier_score_loss([0, 1, 2, 0], p) == 0.0
    # all wrong
    assert expected_calibration_error([1, 2, 0, 1], p) == 1.0
    assert M.log_loss([1, 2, 0, 1], p) == pytest.approx(-np.log(np.finfo(float).eps))
    # confidence exactly on edges, at 0 and 1
    edges = np.linspace(0, 1, 11)
    conf = np.concatenate([edges[5:], [0.55, 0.999999]])
    p = np.column_stack([conf, 1 - conf])
    y = np.zeros(len(conf), dtype=int)
    rc = reliability_curve(y, p, n_bins=10)
    expect = np.bincount(np.clip(np.searchsorted(edges, conf, "right") - 1, 0, 9), minlength=10)
    np.testing.assert_array_equal(rc.count, expect)
    assert rc.count[-1] == 3  # 0.9, 0.999999 and 1.0 (last bin closed)
    # argmax ties: first class wins
    p = np.array([[0.4, 0.4, 0.2]])
    assert M.accuracy_score([0], p) == 1.0 and M.accuracy_score([1], p) == 0.0
    # K = 2 as 1-D positive-class probability
    assert expected_calibration_error([1, 0], np.array([0.9, 0.3])) == pytest.approx(
        expected_calibration_error([1, 0], np.array([[0.1, 0.9], [0.7, 0.3]]))
    )
    # n_bins = 1: ECE = |accuracy - mean confidence|
    rng = np.random.default_rng(7)
    p = random_probs(rng, 100, 4)
    y = rng.integers(0, 4, 100)
    assert expected_calibration_error(y, p, n_bins=1) == pytest.approx(
        abs((p.argmax(1) == y).mean() - p.max(1).mean())
    )


def test_many_classes():
    rng = np.random.default_rng(8)
    p = random_probs(rng, 3000, 1000, "peaked")
    p = p / p.sum(axis=1, keepdims=True)
    y = rng.integers(0, 1000, 3000)
    assert expected_calibration_error(y, p) == pytest.approx(ref.ece(y, p), abs=1e-12)
    rep = calibration_report(y, p)
    expected = ref.scores(y, p)
    assert rep["brier"] == pytest.approx(expected["brier"], rel=1e-9)
    assert rep["cross_entropy"] == pytest.approx(expected["cross_entropy"], rel=1e-9)


def test_input_not_modified_read_only_and_non_contiguous():
    rng = np.random.default_rng(9)
    p = random_probs(rng, 200, 4)
    y = random_probs(rng, 200, 4, "grid")
    p.flags.writeable = False
    y.flags.writeable = False
    before = p.copy()
    r1 = calibration_report(y, p)
    np.testing.assert_array_equal(p, before)
    big = np.zeros((200, 8))
    big[:, ::2] = before
    nc = big[:, ::2]
    assert not nc.flags.c_contiguous
    r2 = calibration_report(np.asfortranarray(y), nc)
    assert r1.overall == pytest.approx(r2.overall, nan_ok=True)
    p32 = before.astype(np.float32)
    p32.flags.writeable = False
    expected_calibration_error(y, p32)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "y_true, y_prob, kwargs, match",
    [
        ([0, 1], np.array([[0.5, 0.5, 0.0]]), {}, "y_true has 2 samples but y_prob has 1"),
        ([0], np.array([[np.nan, 1.0]]), {}, "y_prob contains NaN"),
        ([0], np.array([[np.inf, 1.0]]), {}, "y_prob contains NaN or infinity"),
        ([0], np.array([[-0.1, 1.1]]), {}, "y_prob contains negative"),
        ([0], np.array([[0.5, 0.6]]), {}, "y_prob rows must sum to 1"),
        ([0], np.zeros((0, 2)), {}, "y_prob is empty"),
        ([], np.zeros((0, 2)), {}, "y_prob is empty"),
        ([5], np.array([[0.5, 0.5]]), {}, r"labels outside \[0, 2\): 5"),
        ([0], np.array([[0.5, 0.5]]), {"n_bins": 0}, r"n_bins must be an integer in \[1, 10000\]"),
        ([0], np.array([[0.5, 0.5]]), {"strategy": "equal"}, "strategy must be one of"),
        ([0], np.array([[0.5, 0.5]]), {"norm": "l3"}, "norm must be one of"),
        ([0], np.array([[0.5, 0.5]]), {"sample_weight": [-1.0]}, "sample_weight must be non-negative"),
        ([0], np.array([[0.5, 0.5]]), {"sample_weight": [0.0]}, "sample_weight sums to zero"),
        ([0], np.array([[0.5, 0.5]]), {"sample_weight": [1.0, 2.0]}, r"sample_weight must have shape"),
        (np.array([[0.5, 0.6]]), np.array([[0.5, 0.5]]), {}, "y_true rows must sum to 1"),
        (np.array([[-0.5, 1.5]]), np.array([[0.5, 0.5]]), {}, "y_true contains negative"),
        (np.array([[np.nan, 1.0]]), np.array([[0.5, 0.5]]), {}, "y_true contains NaN"),
        (np.array([[0.5, 0.5, 0.0]]), np.array([[0.5, 0.5]]), {}, "y_true has 3 columns"),
        ([0.5], np.array([[0.5, 0.5]]), {}, "non-integer values"),
        ([0], np.ones((1, 2, 2)) / 2, {}, "must be a 2-D array"),
    ],
)
def test_bad_input_raises_clear_value_error(y_true, y_prob, kwargs, match):
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(y_true, y_prob, **kwargs)


def test_bad_input_types():
    with pytest.raises(TypeError, match="n_bins must be an integer"):
        expected_calibration_error([0], np.array([[0.5, 0.5]]), n_bins=2.5)
    with pytest.raises(TypeError, match="y_prob must hold real numbers"):
        expected_calibration_error([0], np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="positive-class probabilities"):
        expected_calibration_error([0, 1], np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="entropy_correlation needs soft"):
        entropy_correlation([0, 1], np.array([[0.5, 0.5], [0.1, 0.9]]))
    with pytest.raises(ValueError, match="torchmetrics"):
        expected_calibration_error([0], np.array([[0.5, 0.5]]), strategy="quantile",
                                   binning="torchmetrics")


def test_row_sum_error_names_first_bad_row():
    p = np.full((10, 2), 0.5)
    p[7] = [0.7, 0.7]
    with pytest.raises(ValueError, match="row 7"):
        M.brier_score_loss(np.zeros(10, dtype=int), p)


# --------------------------------------------------------------------------- quantile bins
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200), n_bins=st.integers(1, 12),
       levels=st.integers(1, 30))
@hyp
def test_equal_mass_edges_never_split_ties(seed, n, n_bins, levels):
    rng = np.random.default_rng(seed)
    v = rng.integers(0, levels, n) / levels
    edges = equal_mass_edges(v, n_bins)
    nb = len(edges) - 1
    assert 1 <= nb <= n_bins
    ids = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, nb - 1)
    counts = np.bincount(ids, minlength=nb)
    assert np.all(counts > 0)
    for value in np.unique(v):
        assert len(np.unique(ids[v == value])) == 1
    assert nb == min(n_bins, len(np.unique(v))) or counts.max() > n / n_bins


def test_quantile_ece_matches_reference_and_handles_ties():
    rng = np.random.default_rng(10)
    p = random_probs(rng, 1000, 3, "grid")
    y = rng.integers(0, 3, 1000)
    conf, acc = ref.top_label(y, p)
    edges = equal_mass_edges(conf, 10)
    expected = ref.binned_error(conf, acc, edges, np.ones(1000), "l1")
    assert expected_calibration_error(y, p, strategy="quantile", n_bins=10) == pytest.approx(expected)
    # all confidences tied: a single bin
    p = np.tile([0.6, 0.4], (50, 1))
    assert expected_calibration_error(np.zeros(50, int), p, strategy="quantile") == pytest.approx(0.4)
    assert classwise_calibration_error(y, random_probs(rng, 1000, 3), strategy="quantile") >= 0


# --------------------------------------------------------------------------- difficulty
def test_difficulty_scores_and_bins_with_many_ties():
    rng = np.random.default_rng(11)
    unanimous = np.eye(10)[rng.integers(0, 10, 440)]
    mixed = rng.dirichlet(np.ones(10) * 0.3, size=560)
    y = np.vstack([unanimous, mixed])
    h = difficulty_scores(y)
    assert np.all(h[:440] == 0)
    np.testing.assert_allclose(h, ref.scores(y, y)["entropy_true"] * 0 + entropy(y, average=False))
    ids, edges = difficulty_bins(h, n_bins=5)
    assert np.all(ids[:440] == 0) and not np.any(ids[440:] == 0)
    counts = np.bincount(ids)
    assert counts[0] == 440 and len(counts) == 5
    assert np.all(np.abs(counts[1:] - 140) <= 1)
    m = difficulty_scores(y, score="margin")
    assert np.all(m[:440] == 0) and np.all((m >= 0) & (m <= 1))
    mp = difficulty_scores(y, score="max_prob")
    np.testing.assert_allclose(mp, 1 - y.max(1))
    ids_u, edges_u = difficulty_bins(h, n_bins=4, strategy="uniform")
    np.testing.assert_allclose(edges_u, np.linspace(h.min(), h.max(), 5))
    with pytest.raises(ValueError, match="scores contains NaN"):
        difficulty_bins(np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="score must be one of"):
        difficulty_scores(y, score="variance")


def test_report_groups_and_frame():
    rng = np.random.default_rng(12)
    y = random_probs(rng, 600, 4, "grid")
    p = random_probs(rng, 600, 4)
    ids, _ = difficulty_bins(difficulty_scores(y), n_bins=3)
    rep = calibration_report(y, p, groups=ids)
    assert set(rep.groups) == set(np.unique(ids).tolist())
    for g, m in rep.groups.items():
        sel = ids == g
        assert m["ece"] == pytest.approx(expected_calibration_error(y[sel], p[sel]))
        assert m["kl_divergence"] == pytest.approx(kl_divergence(y[sel], p[sel]))
        assert m["n_samples"] == sel.sum()
        assert m["entropy_correlation"] == pytest.approx(entropy_correlation(y[sel], p[sel]))
    assert "ece" in repr(rep)
    pytest.importorskip("pandas")  # to_frame: the study extra (not in the core install)
    df = rep.to_frame()
    assert list(df.index)[0] == "overall" and len(df) == 1 + len(rep.groups)
    from scipy.stats import spearmanr

    # the oracle gets exact ties: entropies equal in exact arithmetic (permuted vote
    # distributions) differ in their last bits with numpy's summation order; sksoft ranks values
    # within 1e-12 (relative) as ties
    ht, hp = np.round(entropy(y, average=False), 12), np.round(entropy(p, average=False), 12)
    assert rep["entropy_correlation"] == pytest.approx(spearmanr(ht, hp).statistic)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), levels=st.integers(1, 20))
@hyp
def test_average_ranks_equal_scipy_rankdata(seed, n, levels):
    from scipy.stats import rankdata

    from sksoft.metrics._divergence import _average_ranks

    x = np.random.default_rng(seed).integers(0, levels, n) / 7.0
    np.testing.assert_array_equal(_average_ranks(x), rankdata(x))
    # and values one ulp apart are ties
    y = x * (1 + np.random.default_rng(seed).integers(0, 2, n) * np.finfo(float).eps)
    np.testing.assert_array_equal(_average_ranks(y), rankdata(x))


def test_entropy_correlation_ties_permuted_vote_distributions():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(4)
    base = np.array([[45, 5, 0, 0], [30, 10, 10, 0], [25, 25, 0, 0], [50, 0, 0, 0]]) / 50.0
    y = np.array([rng.permutation(base[i % 4]) for i in range(400)])
    p = random_probs(rng, 400, 4)
    want = spearmanr(np.round(entropy(y, average=False), 12), entropy(p, average=False)).statistic
    assert entropy_correlation(y, p) == pytest.approx(want, rel=1e-12)
    assert calibration_report(y, p)["entropy_correlation"] == pytest.approx(want, rel=1e-12)


def test_stats_errors():
    s = CalibrationStats(3)
    with pytest.raises(ValueError, match="3 classes"):
        s.update([0], np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="cannot merge"):
        s + CalibrationStats(3, n_bins=5)
    with pytest.raises(TypeError):
        s + 1.5


def test_import_does_not_load_torch():
    code = "import sys, sksoft, sksoft.metrics; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_torchmetrics_edges_are_bit_identical():
    torch = pytest.importorskip("torch")
    from sksoft.metrics._stats import uniform_edges

    for n_bins in range(1, 301):
        expected = torch.linspace(0, 1, n_bins + 1, dtype=torch.float32).double().numpy()
        np.testing.assert_array_equal(uniform_edges(n_bins, "torchmetrics"), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_argmax_and_validation_for_every_width(dtype):
    # rows with many ties, for the SIMD row statistics (widths 1..70: partial lanes, > 64)
    rng = np.random.default_rng(13)
    for K in list(range(1, 20)) + [31, 32, 33, 63, 64, 65, 70]:
        p = (rng.multinomial(8, np.ones(K) / K, size=300) / 8).astype(dtype)
        y = rng.integers(0, K, 300)
        assert M.accuracy_score(y, p) == pytest.approx(np.mean(p.argmax(1) == y), abs=1e-12), K
        assert expected_calibration_error(y, p) == pytest.approx(ref.ece(y, p), abs=1e-10), K
        bad = p.copy()
        bad[150, K - 1] = -0.25
        bad[150, 0] += 0.25
        with pytest.raises(ValueError, match="row 150"):
            expected_calibration_error(y, bad)
        bad = p.copy()
        bad[77, K - 1] = np.nan
        with pytest.raises(ValueError, match="NaN or infinity .first in row 77"):
            expected_calibration_error(y, bad)


# --------------------------------------------------------------------------- vectorised paths
@pytest.fixture(params=[0, 1, 2], ids=["baseline", "avx2", "avx512"])
def vec_level(request):
    """Run a test on each compiled code path of _vecmath.h (AVX2 and AVX-512 where the CPU has
    them)."""
    from sksoft.metrics import _kernels

    if request.param > _kernels.vec_level_available():
        pytest.skip("this CPU or build has no " + ("AVX2 + FMA", "AVX-512")[request.param - 1]
                    + " code path")
    best = _kernels.vec_level_available()
    assert _kernels.set_vec_level(request.param) == request.param
    yield request.param
    _kernels.set_vec_level(best)


@pytest.mark.parametrize("K", [2, 3, 4, 5, 7, 8, 10, 13, 16, 37, 300])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_bins", [1, 2, 15, 128, 129])
def test_vectorised_paths_match_reference(vec_level, K, dtype, n_bins):
    rng = np.random.default_rng(K * 7 + n_bins)
    n = 703  # not a multiple of 4: the four-row paths have a remainder
    for soft in (False, True):
        p = random_probs(rng, n, K, "dirichlet", dtype)
        p[:20] = np.eye(K, dtype=dtype)[rng.integers(0, K, 20)]  # exact zeros and ones
        p[20:40] = (np.full(K, 1.0 / K)).astype(dtype)  # ties, values on a bin edge for K=2
        y = random_probs(rng, n, K, "grid") if soft else rng.integers(0, K, n)
        groups = rng.integers(0, 3, n)
        rtol = 2e-6 if dtype == np.float32 else 1e-11
        pref = p.astype(np.float64)
        expected = ref.scores(y, pref, eps=1e-12)
        rep = calibration_report(y, p, n_bins=n_bins, groups=groups, eps=1e-12)
        for name in expected:
            assert rep[name] == pytest.approx(expected[name], rel=rtol, abs=1e-12), name
        assert rep["classwise_ece"] == pytest.approx(
            ref.classwise_ece(y, pref, n_bins), rel=1e-9, abs=1e-12)
        for g, metrics in rep.groups.items():
            m = groups == g
            assert metrics["n_samples"] == m.sum()
            assert metrics["cross_entropy"] == pytest.approx(
                ref.scores(y[m], pref[m], eps=1e-12)["cross_entropy"], rel=rtol)
            assert metrics["classwise_ece"] == pytest.approx(
                ref.classwise_ece(y[m], pref[m], n_bins), rel=1e-9, abs=1e-12)
        for norm in ("l1", "max"):
            assert classwise_calibration_error(y, p, n_bins=n_bins, norm=norm) == pytest.approx(
                ref.classwise_ece(y, pref, n_bins, norm), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("K", [2, 3, 8, 10, 16, 37])
@pytest.mark.parametrize("n_bins", [1, 7, 15, 128, 129])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scores", [False, True])
def test_classwise_histogram_is_exact(vec_level, K, n_bins, dtype, scores):
    # hard labels: counts and label counts of every (group, class, bin) cell must be exact
    # (hits flagged with their label, bin 0's label rows derived from the rows per label after
    # the pass), value sums equal to the exact sum up to float64 summation
    from math import fsum

    from sksoft.metrics._compute import compute_stats

    rng = np.random.default_rng(K * 1000 + n_bins)
    n = 1501
    p = random_probs(rng, n, K, "dirichlet", dtype)
    p[:30] = np.eye(K, dtype=dtype)[rng.integers(0, K, 30)]
    edges = np.linspace(0, 1, n_bins + 1)
    p[30:60, 0] = edges[rng.integers(0, n_bins + 1, 30)].astype(dtype)  # on bin edges
    p[30:60, 1:] = ((1 - p[30:60, :1].astype(np.float64)) / (K - 1)).astype(dtype)
    y = rng.integers(0, K, n)
    groups = rng.integers(0, 4, n)
    # (with the scores, float32 rows of up to 16 values take the AVX-512 report pass there)
    res = compute_stats(y, p, n_bins=n_bins, groups=groups, classwise=True, want_scores=scores)
    cls = res.cls
    pd_ = p.astype(np.float64)
    for g in range(4):
        for k in range(K):
            sel = groups == g
            v = pd_[sel, k]
            b = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, n_bins - 1)
            for bb in range(n_bins):
                m = b == bb
                assert cls[g, k, bb, 0] == m.sum(), (g, k, bb)
                assert cls[g, k, bb, 2] == (y[sel][m] == k).sum(), (g, k, bb)
                assert cls[g, k, bb, 1] == pytest.approx(fsum(v[m]), rel=1e-13, abs=1e-300)


def _report_at_level(level, *args, **kw):
    from sksoft.metrics import _kernels

    best = _kernels.vec_level_available()
    _kernels.set_vec_level(level)
    try:
        return calibration_report(*args, **kw).to_dict()
    finally:
        _kernels.set_vec_level(best)


def _assert_reports_close(a, b, rtol):
    assert a["groups"].keys() == b["groups"].keys()
    parts = [("overall", a["overall"], b["overall"])]
    parts += [(g, a["groups"][g], b["groups"][g]) for g in a["groups"]]
    for label, x, z in parts:
        assert x.keys() == z.keys()
        for key in x:
            assert z[key] == pytest.approx(x[key], rel=rtol, abs=1e-12, nan_ok=True), (label, key)


@pytest.mark.parametrize("K", [2, 5, 8, 9, 10, 16])
@pytest.mark.parametrize("n", [1, 15, 17, 256, 257, 3001])
@pytest.mark.parametrize("n_groups", [None, 3, 7])
def test_avx512_report_pass_matches_other_paths(K, n, n_groups):
    # the fused AVX-512 pass (float32, hard labels, K <= 16) against the AVX2 / baseline one:
    # partial 16-row batches and 256-row blocks, with and without groups, edge rows
    from sksoft.metrics import _kernels

    if _kernels.vec_level_available() < 2:
        pytest.skip("this CPU or build has no AVX-512 code path")
    rng = np.random.default_rng(K * 100 + n)
    p = random_probs(rng, n, K, "dirichlet", np.float32)
    p[: n // 5] = np.eye(K, dtype=np.float32)[rng.integers(0, K, n // 5)]  # zeros and ones
    p[n // 5: n // 3] = np.float32(1.0 / K)  # ties: the first maximum is the argmax
    y = rng.integers(0, K, n)
    groups = None if n_groups is None else rng.integers(0, n_groups, n)
    for n_bins in (1, 7, 15, 40):
        kw = dict(groups=groups, n_bins=n_bins, n_threads=1)
        want = _report_at_level(1, y, p, **kw)
        got = _report_at_level(2, y, p, **kw)
        # counts exact, sums in another order; entropies from float32 logarithms and sums of
        # squares (Brier) in float32 lanes on both paths
        _assert_reports_close(want, got, rtol=1e-6)
        assert got["overall"]["n_samples"] == n
        for key in ("ece", "mce", "classwise_ece", "accuracy", "cross_entropy"):
            assert got["overall"][key] == pytest.approx(want["overall"][key], rel=1e-9,
                                                        abs=1e-12), key


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 700),
    K=st.integers(2, 16),
    n_bins=st.integers(1, 40),
    n_groups=st.sampled_from([0, 1, 2, 6]),
    kind=st.sampled_from(["dirichlet", "peaked", "edges"]),
)
@hyp
def test_avx512_report_pass_histograms_exact(seed, n, K, n_bins, n_groups, kind):
    # property: on random shapes the AVX-512 pass gives the AVX2 pass's histograms -- every
    # (group, bin) and (group, class, bin) count and label count exactly, sums to rounding
    from sksoft.metrics import _kernels
    from sksoft.metrics._compute import compute_stats

    if _kernels.vec_level_available() < 2:
        pytest.skip("this CPU or build has no AVX-512 code path")
    rng = np.random.default_rng(seed)
    if kind == "dirichlet":
        p = rng.dirichlet(np.full(K, 0.3), size=n)
    elif kind == "peaked":
        z = rng.standard_normal((n, K)) * 4
        p = np.exp(z - z.max(1, keepdims=True))
    else:  # values on the bin edges and their float32 neighbours
        e = np.linspace(0, 1, n_bins + 1)[rng.integers(0, n_bins + 1, (n, K))]
        p = e + rng.integers(-1, 2, (n, K)) * 1e-7 + 1e-3
    p = (p / p.sum(1, keepdims=True)).astype(np.float32)
    y = rng.integers(0, K, n)
    groups = rng.integers(0, n_groups, n) if n_groups else None
    out = []
    for level in (1, 2):
        _kernels.set_vec_level(level)
        try:
            out.append(compute_stats(y, p, n_bins=n_bins, groups=groups, classwise=True,
                                     want_scores=True, want_entropy=True, n_threads=1))
        finally:
            _kernels.set_vec_level(-1)
    a, b = out
    np.testing.assert_array_equal(a.top[..., [0, 2]], b.top[..., [0, 2]])
    np.testing.assert_array_equal(a.cls[..., [0, 2]], b.cls[..., [0, 2]])
    np.testing.assert_allclose(a.top[..., 1], b.top[..., 1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.cls[..., 1], b.cls[..., 1], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a.sums, b.sums, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("level", [1, 2])
def test_report_pass_bad_rows_named_on_every_path(level):
    # the AVX-512 pass accumulates before it checks: a bad row anywhere in a block must still
    # raise the same error, labels out of range must fall back to encoding them, and a block
    # flagged only by the float32 row sum must give the same result as the exact check
    from sksoft.metrics import _kernels

    if _kernels.vec_level_available() < level:
        pytest.skip("code path not available")
    rng = np.random.default_rng(3)
    n, K = 1000, 10
    p = random_probs(rng, n, K, "dirichlet", np.float32)
    y = rng.integers(0, K, n)
    cases = [
        (lambda a: a.__setitem__((517, 3), np.nan), "NaN or infinity .first in row 517"),
        (lambda a: a.__setitem__((999, 9), np.inf), "NaN or infinity .first in row 999"),
        (lambda a: a.__setitem__((300, slice(0, 2)), [-0.25, a[300, 0] + a[300, 1] + 0.25]),
         "negative"),
        (lambda a: a.__setitem__((16, 0), a[16, 0] + 0.01), "row 16"),
    ]
    for spoil, match in cases:
        bad = p.copy()
        spoil(bad)
        with pytest.raises(ValueError, match=match):
            _report_at_level(level, y, bad, groups=y % 3)
    # labels 1..K (out of the 0..K-1 code range) are encoded as classes instead
    want = _report_at_level(1, y, p)
    shifted = _report_at_level(level, y + 1, p, labels=np.arange(1, K + 1))
    assert shifted["overall"]["ece"] == pytest.approx(want["overall"]["ece"], rel=1e-9)
    with pytest.raises(ValueError, match="label"):
        _report_at_level(level, np.where(np.arange(n) == 700, K, y), p, labels=np.arange(K))
    # row sums off 1 in float32 arithmetic but within tol exactly: no error, same numbers
    q = p.astype(np.float64)
    q[:, 0] += 1 - q.sum(1)
    near = q.astype(np.float32)
    ok = _report_at_level(level, y, near)
    assert ok["overall"]["n_samples"] == n


@pytest.mark.parametrize("K", [2, 3, 10, 16, 40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_brier_of_confident_rows_is_accurate(vec_level, K, dtype):
    # Brier summed as sum_k (p - [k == y])^2, not 1 - 2 p[y] + sum p^2: for confident, correct
    # float32 rows the latter loses the small score to cancellation (about 6e-8 per row)
    rng = np.random.default_rng(K)
    n = 999
    y = rng.integers(0, K, n)
    delta = 10.0 ** rng.uniform(-6, -3, n)
    p = rng.dirichlet(np.ones(K - 1), n) * delta[:, None]
    p = np.insert(p, 0, 1 - delta, axis=1)
    p = p[np.arange(n)[:, None], (np.arange(K)[None, :] - y[:, None]) % K]  # 1 - delta at y
    p = p.astype(dtype)
    want = ((p.astype(np.float64) - np.eye(K)[y]) ** 2).sum(1)
    rep = calibration_report(y, p, groups=y % 2)
    assert rep["brier"] == pytest.approx(want.mean(), rel=1e-5)
    for g, m in rep.groups.items():
        assert m["brier"] == pytest.approx(want[y % 2 == g].mean(), rel=1e-5)


def test_vectorised_log_is_accurate(vec_level):
    # entropy() of two-point rows p, 1-p exercises x log x over many binades
    p1 = np.concatenate([np.logspace(-300, 0, 2000), np.linspace(0.5, 1, 1001)])
    for eps in (None, 1e-300, 0.0):
        P = np.column_stack([p1, 1 - p1])
        got = M.log_loss(np.zeros(len(p1), int), P, eps=eps)
        with np.errstate(divide="ignore"):
            lo = np.finfo(float).eps if eps is None else eps
            want = float(np.mean(-np.log(np.maximum(p1, lo))))
        assert got == pytest.approx(want, rel=1e-14)
    rows = np.column_stack([p1, 1 - p1])
    want = -(rows * np.log(np.where(rows > 0, rows, 1))).sum(1)
    got = calibration_report(np.zeros(len(p1), int), rows)["entropy_pred"]
    assert got == pytest.approx(want.mean(), rel=1e-14)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 3000),
    n_bins=st.integers(1, 40),
    levels=st.sampled_from([2, 5, 50, 10**6]),
    shape=st.sampled_from(["uniform", "near_one", "heavy_tie", "narrow"]),
    n_groups=st.integers(1, 3),
)
@hyp
def test_bucketed_equal_mass_equals_sorting(seed, n, n_bins, levels, shape, n_groups):
    from sksoft.metrics import _kernels

    rng = np.random.default_rng(seed)
    v = np.floor(rng.uniform(0, 1, n) * levels) / levels
    if shape == "near_one":
        v = 1 - v ** 8 * 1e-3
    elif shape == "heavy_tie":
        v[rng.uniform(size=n) < 0.6] = 1.0
    elif shape == "narrow":
        v = 0.5 + v * 1e-9
    acc = rng.integers(0, 2, n).astype(float)
    groups = rng.integers(0, n_groups, n).astype(np.intp)
    got = _kernels.equal_mass_binning(v, acc, groups, n_groups, n_bins, 1 + seed % 2)
    want_edges = equal_mass_edges(v, n_bins)
    if got is None:  # the documented fallback: the caller sorts
        return
    edges, hist = got
    np.testing.assert_array_equal(edges, want_edges)
    want_hist = _kernels.bin_1d(v, acc, np.zeros(0), groups, n_groups, want_edges)
    np.testing.assert_allclose(hist, want_hist, rtol=1e-12, atol=1e-12)


def test_bucketed_equal_mass_is_used_for_typical_confidences():
    from sksoft.metrics import _kernels

    rng = np.random.default_rng(0)
    conf = np.concatenate([rng.beta(8, 1, 200_000), np.ones(50_000)])
    acc = (rng.uniform(size=conf.shape[0]) < conf).astype(float)
    got = _kernels.equal_mass_binning(conf, acc, np.zeros(0, dtype=np.intp), 1, 15)
    assert got is not None
    np.testing.assert_array_equal(got[0], equal_mass_edges(conf, 15))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantile_ece_large_input_equals_sorting_path(dtype):
    # >= 50_000 rows take the bucketed equal-mass path; unit weights take the sorting one
    rng = np.random.default_rng(5)
    n = 60_000
    p = random_probs(rng, n, 10, "peaked", dtype)
    p[:5000] = np.eye(10, dtype=dtype)[rng.integers(0, 10, 5000)]  # a heavy tie at 1.0
    y = rng.integers(0, 10, n)
    groups = rng.integers(0, 4, n)
    for norm in ("l1", "l2", "max"):
        fast = expected_calibration_error(y, p, strategy="quantile", norm=norm)
        slow = expected_calibration_error(y, p, strategy="quantile", norm=norm,
                                          sample_weight=np.ones(n))
        assert fast == pytest.approx(slow, rel=1e-12, abs=1e-15)
    fast = reliability_curve(y, p, strategy="quantile", n_bins=20)
    slow = reliability_curve(y, p, strategy="quantile", n_bins=20, sample_weight=np.ones(n))
    np.testing.assert_array_equal(fast.edges, slow.edges)
    np.testing.assert_allclose(fast.count, slow.count)
    rep = calibration_report(y, p, strategy="quantile", groups=groups)
    rep_slow = calibration_report(y, p, strategy="quantile", groups=groups, sample_weight=np.ones(n))
    for g in rep.groups:
        assert rep.groups[g]["ece"] == pytest.approx(rep_slow.groups[g]["ece"], rel=1e-12)


@pytest.mark.parametrize("n_bins", [1, 3, 6, 10, 15, 20, 33, 100, 256, 300])
def test_float32_confidences_on_bin_edges_are_binned_exactly(n_bins):
    # the packed fast path bins float32 confidences by truncation when that is exact; every
    # float32 value next to an edge must land where the float64 edge comparison puts it
    from sksoft.metrics._binning import float32_trunc_is_exact

    edges = np.linspace(0, 1, n_bins + 1)
    c0 = edges.astype(np.float32)
    conf = np.unique(np.concatenate([c0, np.nextafter(c0, np.float32(0)),
                                     np.nextafter(c0, np.float32(2))]))
    conf = conf[(conf >= 0.5) & (conf <= 1)]  # the top probability of a two-class row
    p = np.column_stack([conf, 1 - conf]).astype(np.float32)
    y = np.zeros(len(conf), dtype=int)
    curve = reliability_curve(y, p, n_bins=n_bins)
    c64 = conf.astype(np.float64)
    want = np.clip(np.searchsorted(edges, c64, side="right") - 1, 0, n_bins - 1)
    np.testing.assert_array_equal(curve.count, np.bincount(want, minlength=n_bins))
    assert isinstance(float32_trunc_is_exact(n_bins), bool)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_many_bins_and_bad_labels(dtype):
    # n_bins above the packed histogram's 256, and labels outside [0, K) in the fast path
    rng = np.random.default_rng(11)
    p = random_probs(rng, 3000, 10, "dirichlet", dtype)
    y = rng.integers(0, 10, 3000)
    for n_bins in (255, 256, 257, 1000):
        for norm in ("l1", "max"):
            got = expected_calibration_error(y, p, n_bins=n_bins, norm=norm)
            assert got == pytest.approx(ref.ece(y, p.astype(float), n_bins, norm), abs=1e-12)
    bad = y.copy()
    bad[2500] = 10
    with pytest.raises(ValueError, match="y_true"):
        expected_calibration_error(bad, p)
    bad[2500] = -1
    with pytest.raises(ValueError, match="y_true"):
        expected_calibration_error(bad, p)
    # labels 1..K are not column indices: encoded by value (ValueError with labels=...)
    assert expected_calibration_error(y + 1, p, labels=np.arange(1, 11)) == pytest.approx(
        expected_calibration_error(y, p))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_simd_row_check_flags_exactly_the_bad_rows(dtype):
    from sksoft.metrics import _kernels
    from sksoft._targets import row_sum_tolerance

    rng = np.random.default_rng(3)
    for K in list(range(1, 21)) + [31, 33, 64, 65, 100]:
        p = random_probs(rng, 300, K, "dirichlet", dtype)
        tol = row_sum_tolerance(dtype, K)
        flags, best, arg, block, best2, arg2 = _kernels.row_check(p, tol)
        assert not flags.any() and not block.any(), K
        np.testing.assert_array_equal(arg, np.argmax(p, axis=1))
        np.testing.assert_array_equal(arg2, arg)
        np.testing.assert_array_equal(best, p.max(axis=1).astype(np.float64))
        np.testing.assert_array_equal(best2, best)
        # each column in turn made bad: too large, negative, NaN
        for k in range(K):
            for value in (p[k % 300, k] + 0.01, -1e-3, np.nan):
                q = p.copy()
                q[k % 300, k] = value
                flags = _kernels.row_check(q, tol)[0]
                assert flags[k % 300] and flags.sum() == 1, (K, k, value)
            if K >= 2:  # negative, with the row sum kept at 1
                q = p.copy()
                r = k % 300
                q[r, (k + 1) % K] += q[r, k] + dtype(0.25)
                q[r, k] = -0.25
                flags = _kernels.row_check(q, tol)[0]
                assert flags[r] and flags.sum() == 1, (K, k, "negative")


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 5000),
    levels=st.sampled_from([1, 2, 50, 10**6]),
    shape=st.sampled_from(["uniform", "crowded", "outlier", "negative"]),
)
@hyp
def test_bucketed_average_ranks_equal_rankdata(seed, n, levels, shape):
    from scipy.stats import rankdata

    from sksoft.metrics import _kernels

    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, n) / levels
    if shape == "crowded":
        x = x * 1e-9
        x[:1] = 3.0  # nearly everything in the first bucket
    elif shape == "outlier":
        x[rng.integers(0, n)] = 1e300
    elif shape == "negative":
        x = x - 0.5
    got = _kernels.average_ranks(np.ascontiguousarray(x), 1e-12)
    if got is None:  # a range too narrow for buckets: the caller sorts
        return
    np.testing.assert_array_equal(got, rankdata(x))
