"""Bootstrap intervals of the metrics: exact replicates, coverage, invariance, clusters."""

import importlib.util

import numpy as np
import pytest

import _reference as ref
from conftest import random_probs
from sksoft import metrics as M
from sksoft.metrics import Estimate, bootstrap_weights
from sksoft.metrics._compute import compute_stats
from sksoft.metrics._intervals import replicate_columns, spearman_replicates


def _case(seed, n, K, soft):
    rng = np.random.default_rng(seed)
    p = random_probs(rng, n, K)
    y = random_probs(rng, n, K, "grid") if soft else rng.integers(0, K, n)
    return rng, p, y


# ------------------------------------------------------------------ exact replicates
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_small_inputs_give_the_replicates_of_a_plain_bootstrap(soft, weighted):
    # every bin, class bin and group has at most 64 rows: every replicate is the metric of the
    # data reweighted by bootstrap_weights, exactly
    rng, p, y = _case(1, 60, 3, soft)
    w = rng.uniform(0.5, 2, 60) if weighted else None
    B = 40
    stats = compute_stats(y, p, n_bins=5, sample_weight=w, classwise=True, want_scores=True,
                          want_entropy=True, n_bootstrap=B, random_state=7)
    reps = replicate_columns(stats)
    W = bootstrap_weights(60, B, random_state=7)
    base = np.ones(60) if w is None else w
    for r in range(B):
        wr = base * W[r]
        keep = wr > 0
        yr = y[keep]
        pr, wk = p[keep], wr[keep]
        assert reps["ece"][r, 0] == pytest.approx(ref.ece(yr, pr, 5, "l1", wk), abs=1e-12)
        assert reps["mce"][r, 0] == pytest.approx(ref.ece(yr, pr, 5, "max", wk), abs=1e-12)
        assert reps["classwise_ece"][r, 0] == pytest.approx(
            ref.classwise_ece(yr, pr, 5, "l1", wk), abs=1e-12)
        want = ref.scores(yr, pr, wk)
        for name in ("brier", "cross_entropy", "accuracy", "jensen_shannon", "total_variation"):
            assert reps[name][r, 0] == pytest.approx(want[name], rel=1e-10), (r, name)


def test_group_replicates_are_exact_too():
    rng, p, y = _case(2, 90, 3, False)
    groups = rng.integers(0, 3, 90)
    stats = compute_stats(y, p, n_bins=4, groups=groups, want_scores=True, n_bootstrap=20,
                          random_state=3)
    reps = replicate_columns(stats)
    W = bootstrap_weights(90, 20, random_state=3)
    for r in range(20):
        for g in range(3):
            m = (groups == g) & (W[r] > 0)
            assert reps["brier"][r, g + 1] == pytest.approx(
                ref.scores(y[m], p[m], W[r][m])["brier"], rel=1e-10)
            assert reps["ece"][r, g + 1] == pytest.approx(
                ref.ece(y[m], p[m], 4, "l1", W[r][m]), abs=1e-12)


def test_spearman_replicates_follow_the_reweighted_data():
    rng = np.random.default_rng(4)
    ys = random_probs(rng, 50, 3, "grid")
    p = random_probs(rng, 50, 3)
    stats = compute_stats(ys, p, n_bins=1, want_scores=True, row_entropy=True,
                          n_bootstrap=15, random_state=1)
    reps = spearman_replicates(stats, None)
    W = bootstrap_weights(50, 15, random_state=1)
    for r in range(15):
        idx = np.repeat(np.arange(50), W[r])
        want = M.entropy_correlation(ys[idx], p[idx])
        assert reps[r] == pytest.approx(want, abs=1e-12)


def test_estimate_is_a_float_with_an_interval():
    rng, p, y = _case(5, 500, 4, False)
    e = M.expected_calibration_error(y, p, n_bootstrap=200, random_state=0)
    assert isinstance(e, Estimate) and isinstance(e, float)
    assert float(e) == M.expected_calibration_error(y, p)
    assert e.low <= e <= e.high and e.se > 0 and e.confidence == 0.95
    narrow = M.expected_calibration_error(y, p, n_bootstrap=200, random_state=0,
                                          confidence=0.5)
    assert e.low <= narrow.low <= narrow.high <= e.high
    import pickle

    again = pickle.loads(pickle.dumps(e))
    assert (float(again), again.low, again.high) == (float(e), e.low, e.high)
    rep = M.calibration_report(y, p, n_bootstrap=100, random_state=0)
    if importlib.util.find_spec("pandas") is not None:  # to_frame: the study extra
        frame = rep.to_frame()
        assert {"ece", "ece_low", "ece_high", "ece_se"} <= set(frame.columns)
    assert "[95% bootstrap basic (bias-corrected for the debiased errors) intervals]" in \
        repr(rep)
    # the same seed gives the same ECE interval from the report as from the function
    alone = M.expected_calibration_error(y, p, n_bootstrap=100, random_state=0)
    assert (rep["ece"].low, rep["ece"].high) == pytest.approx((alone.low, alone.high))


@pytest.mark.parametrize("bad, match", [
    ({"n_bootstrap": -1}, "n_bootstrap"), ({"n_bootstrap": 2.5}, "n_bootstrap"),
    ({"n_bootstrap": 10, "confidence": 1.0}, "confidence"),
    ({"n_bootstrap": 10, "confidence": "high"}, "confidence"),
    ({"n_bootstrap": 10, "random_state": "seed"}, "random_state"),
    ({"clusters": np.zeros(4, int)}, "clusters"),
    ({"n_bootstrap": 10, "clusters": np.zeros(3, int)}, "clusters"),
])
def test_bootstrap_options_are_checked(bad, match):
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    with pytest.raises((ValueError, TypeError), match=match):
        M.expected_calibration_error([0, 1, 1, 0], p, **bad)


# ------------------------------------------------------------------ invariance
def test_same_seed_same_interval_in_memory_chunked_threads_and_dask(tmp_path):
    da = pytest.importorskip("dask.array")

    rng, p, y = _case(6, 30_000, 5, False)
    p = p.astype(np.float32)
    groups = rng.integers(0, 3, 30_000)
    kw = dict(n_bootstrap=50, random_state=11, groups=groups, n_bins=10)
    want = M.calibration_report(y, p, n_threads=1, **kw)
    mm = np.memmap(tmp_path / "p.dat", dtype=np.float32, mode="w+", shape=p.shape)
    mm[:] = p
    sources = {"threads": dict(y_prob=p, n_threads=2),
               "dask": dict(y_prob=da.from_array(p, chunks=(7000, 5))),
               "iterator": dict(y_prob=iter([p[i:i + 4000] for i in range(0, 30_000, 4000)])),
               "memmap": dict(y_prob=mm)}
    for name, src in sources.items():
        got = M.calibration_report(y, **src, **kw)
        for key in ("ece", "brier", "accuracy", "classwise_ece", "rmsce_debiased"):
            for a, b in ((got[key], want[key]), (got.groups[2][key], want.groups[2][key])):
                assert (a.low, a.high, a.se) == pytest.approx((b.low, b.high, b.se),
                                                               rel=1e-9), (name, key)


def test_clusters_of_single_rows_and_of_duplicates():
    rng, p, y = _case(8, 50, 3, False)
    kw = dict(n_bins=5, n_bootstrap=30, random_state=2)
    rows = M.calibration_report(y, p, **kw)
    singles = M.calibration_report(y, p, clusters=np.arange(50), **kw)
    # every duplicated row shares its original's cluster: the same replicates as the rows
    dup = M.calibration_report(np.repeat(y, 2), np.repeat(p, 2, axis=0),
                               clusters=np.repeat(np.arange(50), 2), **kw)
    for key in ("ece", "brier", "accuracy", "classwise_ece"):
        assert (singles[key].low, singles[key].high) == pytest.approx(
            (rows[key].low, rows[key].high), rel=1e-10), key
        assert (dup[key].low, dup[key].high) == pytest.approx(
            (rows[key].low, rows[key].high), rel=1e-10), key
    # and resampling clusters is wider than resampling rows when clusters share outcomes
    big_y = np.repeat(y, 20)
    big_p = np.repeat(p, 20, axis=0)
    by_row = M.brier_score_loss(big_y, big_p, n_bootstrap=200, random_state=0)
    by_cluster = M.brier_score_loss(big_y, big_p, n_bootstrap=200, random_state=0,
                               clusters=np.repeat(np.arange(50), 20))
    assert by_cluster.se > 3 * by_row.se


# ------------------------------------------------------------------ coverage
def _population(f, n_bins):
    """Population metrics of binary predictions q ~ U(0, 1) with P(y = 1 | q) = f(q)."""
    q = (np.arange(200_000) + 0.5) / 200_000
    fq = f(q)
    conf = np.maximum(q, 1 - q)
    acc = np.where(q > 0.5, fq, 1 - fq)
    brier = 2 * (fq * (1 - q) ** 2 + (1 - fq) * q ** 2)
    nll = -(fq * np.log(q) + (1 - fq) * np.log(1 - q))
    b = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1), conf, side="right") - 1, 0,
                n_bins - 1)
    gap = np.bincount(b, weights=conf - acc, minlength=n_bins) / q.shape[0]
    return {"accuracy": acc.mean(), "brier": brier.mean(), "cross_entropy": nll.mean(),
            "ece": np.abs(gap).sum()}


def _coverage(n_sets, n, B, soft, seed=0):
    f = lambda q: 0.5 + 0.4 * (q - 0.5)  # noqa: E731  (over-confident predictions)
    pop = _population(f, 10)
    if soft:  # targets: 20 votes each; E[target | q] = f(q), Brier gains the votes' variance
        q = (np.arange(200_000) + 0.5) / 200_000
        pop["brier"] -= (2 * f(q) * (1 - f(q)) * (1 - 1 / 20)).mean()
    rng = np.random.default_rng(seed)
    hits = {k: 0 for k in pop}
    for _ in range(n_sets):
        q = rng.uniform(0, 1, n)
        p = np.column_stack([1 - q, q])
        if soft:
            t = rng.binomial(20, f(q)) / 20
            y = np.column_stack([1 - t, t])
        else:
            y = (rng.uniform(0, 1, n) < f(q)).astype(int)
        rep = M.calibration_report(y, p, n_bins=10, n_bootstrap=B,
                                   random_state=int(rng.integers(2**31)))
        for k, v in pop.items():
            hits[k] += rep[k].low <= v <= rep[k].high
    return {k: h / n_sets for k, h in hits.items()}


@pytest.mark.parametrize("soft", [False, True])
def test_intervals_cover_the_population_value(soft):
    # 100 simulated data sets: 95% intervals must cover in 88-100% of them (the binomial
    # standard error of a 95% coverage is 2.2 points); the slow test asks 90-98% of 300
    cov = _coverage(100, 3000, 200, soft)
    for k, c in cov.items():
        assert 0.88 <= c <= 1.0, (k, c, cov)


@pytest.mark.slow
@pytest.mark.parametrize("soft", [False, True])
def test_intervals_cover_the_population_value_slow(soft):
    cov = _coverage(300, 3000, 400, soft, seed=1)
    for k, c in cov.items():
        assert 0.90 <= c <= 0.98, (k, c, cov)


# ------------------------------------------------------------------ reliability bands
def test_reliability_bands():
    rng, p, y = _case(9, 3000, 3, False)
    curve = M.reliability_curve(y, p, n_bins=8, n_bootstrap=200, confidence=0.9)
    ok = curve.count > 0
    assert np.all(curve.accuracy_low[ok] <= curve.accuracy[ok])
    assert np.all(curve.accuracy[ok] <= curve.accuracy_high[ok])
    assert np.all(np.isnan(curve.accuracy_low[~ok]))
    # Wilson's interval, by hand, for one bin
    from scipy.stats import norm

    z = norm.ppf(0.95)
    b = int(np.flatnonzero(ok)[-1])
    nb, ph = curve.count[b], curve.accuracy[b]
    center = (ph + z * z / (2 * nb)) / (1 + z * z / nb)
    half = z / (1 + z * z / nb) * np.sqrt(ph * (1 - ph) / nb + z * z / (4 * nb * nb))
    assert (curve.accuracy_low[b], curve.accuracy_high[b]) == pytest.approx(
        (center - half, center + half))
    soft = random_probs(rng, 3000, 3, "grid")
    band = M.reliability_curve(soft, p, n_bins=8, n_bootstrap=200, confidence=0.9,
                                random_state=0)
    ok = band.count > 0
    assert np.all(band.accuracy_low[ok] <= band.accuracy_high[ok])
    cls = M.reliability_curve(y, p, n_bins=8, mode="classwise", n_bootstrap=200,
                              confidence=0.9)
    assert cls.accuracy_low.shape == (3, 8)
