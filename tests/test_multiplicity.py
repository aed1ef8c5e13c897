"""Multiplicity, equivalence, detectable differences, Pitman-Morgan, seed resampling, the ECE
floor and seed-level intervals, against independent references (statsmodels, scipy, plain
numpy)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from sksoft.metrics import (
    benjamini_hochberg,
    equivalence_test,
    expected_calibration_error,
    expected_calibration_error_floor,
    holm_adjust,
    minimum_detectable_difference,
    pitman_morgan_test,
    seed_interval,
    seed_resample_counts,
)

multitest = pytest.importorskip("statsmodels.stats.multitest")

P_VALUES = arrays(np.float64, st.integers(1, 40),
                  elements=st.floats(0, 1, allow_nan=False, allow_subnormal=False))


@settings(max_examples=60, deadline=None)
@given(P_VALUES)
def test_holm_and_bh_equal_statsmodels_and_scipy(p):
    assert np.allclose(holm_adjust(p), multitest.multipletests(p, method="holm")[1])
    assert np.allclose(benjamini_hochberg(p), multitest.multipletests(p, method="fdr_bh")[1])
    assert np.allclose(benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"))


def test_nan_p_values_stay_out_of_the_family():
    p = np.array([0.01, np.nan, 0.04, 0.03])
    ok = np.isfinite(p)
    for fn, method in ((holm_adjust, "holm"), (benjamini_hochberg, "fdr_bh")):
        out = fn(p)
        assert np.isnan(out[1])
        assert np.allclose(out[ok], multitest.multipletests(p[ok], method=method)[1])
    assert holm_adjust(p.reshape(2, 2)).shape == (2, 2)
    assert holm_adjust([]).shape == (0,)


@pytest.mark.parametrize("bad, exc", [([0.5, 1.5], ValueError), ([-0.1], ValueError),
                                      (["a"], TypeError), ([np.inf], ValueError)])
def test_bad_p_values(bad, exc):
    for fn in (holm_adjust, benjamini_hochberg):
        with pytest.raises(exc, match="p_values"):
            fn(bad)


def test_tost_is_the_90_interval_inside_the_margin():
    rng = np.random.default_rng(0)
    est, se = rng.normal(0, 0.01, 200), rng.uniform(0.001, 0.01, 200)
    margin = 0.01
    p = equivalence_test(est, se, margin)
    z = stats.norm.ppf(0.95)
    inside = (est - z * se > -margin) & (est + z * se < margin)
    assert ((p < 0.05) == inside).all()
    # the t version, against the two one-sided tests by scipy
    df = 4.0
    pt = equivalence_test(est, se, margin, df=df)
    ref = np.maximum(stats.t.sf((est + margin) / se, df), stats.t.cdf((est - margin) / se, df))
    assert np.allclose(pt, ref)
    with pytest.raises(ValueError, match="margin"):
        equivalence_test(0.0, 0.1, 0.0)


def test_minimum_detectable_difference_has_its_power():
    se = 0.01
    mdd = minimum_detectable_difference(se, alpha=0.05, power=0.8)
    # a true difference of mdd is detected (|z| > 1.96) with probability 0.8
    power = stats.norm.sf(stats.norm.ppf(0.975) - mdd / se) + \
        stats.norm.cdf(-stats.norm.ppf(0.975) - mdd / se)
    assert np.isclose(power, 0.8, atol=1e-3)
    assert minimum_detectable_difference(se, df=3) > mdd
    with pytest.raises(ValueError, match="power"):
        minimum_detectable_difference(se, power=1.0)


@pytest.mark.parametrize("seed", range(8))
def test_pitman_morgan_is_the_correlation_test_of_sums_and_differences(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 30))
    a = rng.normal(size=n)
    x = a + rng.normal(0, rng.uniform(0.1, 2), n)
    y = rng.uniform(0.3, 3) * a + rng.normal(0, 1, n)
    res = pitman_morgan_test(x, y)
    ref = stats.pearsonr(x + y, x - y)
    assert np.isclose(res.p_value, ref.pvalue)
    assert np.isclose(res.ratio, np.std(x, ddof=1) / np.std(y, ddof=1))
    # the interval is the set of ratios c where x + c y, x - c y are not correlated at 5%
    for c in (res.low, res.high):
        if np.isfinite(c) and c > 0:
            p = stats.pearsonr(x + c * y, x - c * y).pvalue
            assert np.isclose(p, 0.05, atol=1e-6)
    assert res.low <= res.ratio <= res.high
    if res.p_value < 0.05:
        assert not (res.low <= 1 <= res.high)
    else:
        assert res.low <= 1 <= res.high


def test_pitman_morgan_bad_input():
    with pytest.raises(ValueError, match="3 pairs"):
        pitman_morgan_test([1.0, 2.0], [1.0, 3.0])
    with pytest.raises(ValueError, match="vary"):
        pitman_morgan_test([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="x"):
        pitman_morgan_test(["a", "b", "c"], [1.0, 2.0, 3.0])


def test_seed_resample_counts():
    counts, redrawn = seed_resample_counts(3, 5000, random_state=1)
    assert counts.shape == (5000, 3) and (counts.sum(axis=1) == 3).all()
    assert ((counts > 0).sum(axis=1) >= 2).all()
    # a draw has all three seeds equal with probability 3 / 27: redrawn ~ 5000 / 8
    assert abs(redrawn - 5000 * (1 / 9) / (8 / 9)) < 100
    again, _ = seed_resample_counts(3, 5000, random_state=1)
    assert (again == counts).all()
    assert seed_resample_counts(5, 10, min_distinct=1, random_state=0)[1] == 0
    with pytest.raises(ValueError, match="min_distinct"):
        seed_resample_counts(2, 10, min_distinct=3)


def _floor_reference(conf, n_bins, sims, rng):
    """Plain numpy: draw outcomes, bin by the uniform edges, average the ECE."""
    edges = np.linspace(0, 1, n_bins + 1)
    b = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, n_bins - 1)
    out = []
    for _ in range(sims):
        acc = rng.random(conf.shape[0]) < conf
        e = 0.0
        for k in range(n_bins):
            m = b == k
            if m.any():
                e += m.mean() * abs(acc[m].mean() - conf[m].mean())
        out.append(e)
    return np.mean(out)


def test_floor_equals_a_plain_simulation():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4) * 0.5, size=300)
    ref = _floor_reference(p.max(axis=1), 10, 100, np.random.default_rng(5))
    assert np.isclose(expected_calibration_error_floor(p, n_bins=10, n_simulations=100,
                                                       random_state=5), ref)


def test_floor_is_the_mean_ece_of_a_calibrated_model():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(10) * 0.4, size=1000)
    eces = [expected_calibration_error(
        (r.random(1000)[:, None] > p.cumsum(1)).sum(1).clip(0, 9), p, strategy="quantile")
        for r in (np.random.default_rng(s) for s in range(60))]
    floor = expected_calibration_error_floor(p, strategy="quantile", random_state=0)
    assert abs(np.mean(eces) - floor) < 3 * np.std(eces) / np.sqrt(60) + 2e-3
    # weights: integer weights act as repetitions (same bins, same confidences)
    w = rng.integers(1, 3, 1000).astype(float)
    assert 0 < expected_calibration_error_floor(p, sample_weight=w, random_state=0) < 0.1
    with pytest.raises(ValueError, match="n_simulations"):
        expected_calibration_error_floor(p, n_simulations=0)
    with pytest.raises(ValueError, match="y_prob"):
        expected_calibration_error_floor(p * 2)


def test_seed_interval_against_a_plain_computation():
    rng = np.random.default_rng(2)
    x = rng.normal(0.1, 0.6, (4, 300)) + rng.normal(0, 0.3, (4, 1)) + rng.normal(0, 0.8, 300)
    r = seed_interval(x, per_item=True)
    d = x.mean(axis=1)
    seed_var = d.var(ddof=1) / 4
    cov = np.cov(x)
    item_var = max(cov[~np.eye(4, dtype=bool)].mean(), 0.0) / 300
    assert item_var > 0
    se = np.sqrt(seed_var + item_var)
    df = se ** 4 / (seed_var ** 2 / 3)
    q = stats.t.ppf(0.975, df)
    assert np.isclose(r.value, d.mean()) and np.isclose(r.se, se) and np.isclose(r.df, df)
    assert np.isclose(r.low, d.mean() - q * se) and np.isclose(r.high, d.mean() + q * se)
    # per-seed values with an item se; vectorised over trailing axes
    v = seed_interval(np.stack([d, 2 * d], axis=1), item_se=np.array([0.01, 0.02]))
    assert v.low.shape == (2,) and np.isclose(v.value[1], 2 * d.mean())
    # without seed variance: the normal interval of the item se
    flat = seed_interval(np.full(3, 0.5), item_se=0.1)
    assert np.isinf(flat.df) and np.isclose(flat.high - 0.5, stats.norm.ppf(0.975) * 0.1)
    with pytest.raises(ValueError, match="2 seeds"):
        seed_interval(np.ones(1))
    with pytest.raises(ValueError, match="item_se"):
        seed_interval(x, per_item=True, item_se=0.1)


def test_seed_interval_p_value_is_dual_to_its_interval():
    rng = np.random.default_rng(3)
    for _ in range(30):
        d = rng.normal(rng.uniform(-0.02, 0.02), 0.01, 4)
        r = seed_interval(d, item_se=0.004)
        excludes = not (r.low <= 0 <= r.high)
        assert excludes == (r.p_value < 0.05)
