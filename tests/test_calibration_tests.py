"""calibration_test: statistics against MAPIE and plain numpy, null laws, level over seeds."""

import numpy as np
import pytest

from sksoft.metrics import CalibrationTestResult, calibration_test
from sksoft.metrics._calibration_tests import brownian_max_abs_sf, brownian_range_sf

ALPHA = 0.05


# --------------------------------------------------------------------------- references
def ref_cumulative(s, t):
    order = np.argsort(s, kind="stable")
    n = len(s)
    C = [0.0]
    for i in order:
        C.append(C[-1] + (t[i] - s[i]) / n)
    sigma = np.sqrt(sum(v * (1 - v) for v in s)) / n
    return np.array(C), sigma


def ref_ks_sf_theta(x):
    """P(sup |B| > x) from the theta series (a different series than the package's)."""
    k = np.arange(200)
    return 1 - 4 / np.pi * np.sum((-1.0) ** k / (2 * k + 1)
                                  * np.exp(-(2 * k + 1) ** 2 * np.pi ** 2 / (8 * x * x)))


def ref_skce_quadratic(P, Y, bandwidth):
    n = len(P)
    total = 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                k = np.exp(-np.linalg.norm(P[i] - P[j]) / bandwidth)
                total += k * np.dot(Y[i] - P[i], Y[j] - P[j])
    return total / (n * (n - 1))


def binary(rng, n, shrink=1.0):
    """Scores and labels; shrink < 1 makes the scores over-confident."""
    p = rng.uniform(0.02, 0.98, size=n)
    y = (rng.uniform(size=n) < 0.5 + shrink * (p - 0.5)).astype(int)
    return p, y


# --------------------------------------------------------------------------- null laws
@pytest.mark.parametrize("x", [0.3, 0.6, 0.9, 1.2, 1.7, 2.5, 3.5])
def test_brownian_sup_law_matches_the_theta_series(x):
    assert brownian_max_abs_sf(x) == pytest.approx(ref_ks_sf_theta(x), abs=1e-12)


@pytest.mark.parametrize("x", [0.3, 0.8, 1.5, 2.2, 3.0, 4.5])
def test_null_laws_match_mapie(x):
    cal = pytest.importorskip("mapie.metrics.calibration")
    assert brownian_max_abs_sf(x) == pytest.approx(1 - cal.kolmogorov_smirnov_cdf(x), abs=1e-12)
    assert brownian_range_sf(x) == pytest.approx(1 - cal.kuiper_cdf(x), abs=1e-12)


def test_null_laws_match_simulated_brownian_motion():
    rng = np.random.default_rng(0)
    n, reps = 1000, 4000
    W = np.concatenate([np.zeros((reps, 1)),
                        np.cumsum(rng.standard_normal((reps, n)), axis=1) / np.sqrt(n)], 1)
    sup, rng_ = np.abs(W).max(1), W.max(1) - W.min(1)
    tol = 4 * np.sqrt(0.25 / reps) + 0.01  # sampling plus the walk's discreteness
    for x in (0.8, 1.3, 2.0):
        assert abs((sup > x).mean() - brownian_max_abs_sf(x)) < tol
    for x in (1.2, 1.8, 2.6):
        assert abs((rng_ > x).mean() - brownian_range_sf(x)) < tol


# --------------------------------------------------------------------------- statistics
def test_statistics_match_numpy():
    rng = np.random.default_rng(1)
    p, y = binary(rng, 300, shrink=0.8)
    C, sigma = ref_cumulative(p, y.astype(float))
    r = calibration_test(y, p, method="ks")
    assert isinstance(r, CalibrationTestResult) and r.n_samples == 300 and r.null == "brownian"
    assert r.statistic == pytest.approx(np.abs(C).max() / sigma)
    assert r.pvalue == pytest.approx(brownian_max_abs_sf(r.statistic))
    r = calibration_test(y, p, method="kuiper")
    assert r.statistic == pytest.approx((C.max() - C.min()) / sigma)
    z = np.sum((y - p) * (1 - 2 * p)) / np.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    r = calibration_test(y, p, method="spiegelhalter")
    assert r.statistic == pytest.approx(z)
    from scipy.stats import norm
    assert r.pvalue == pytest.approx(2 * norm.sf(abs(z)))
    # two columns, 1-D scores and string labels agree
    P2 = np.column_stack([1 - p, p])
    assert calibration_test(y, P2, method="ks") == calibration_test(y, p, method="ks")
    names = np.array(["no", "yes"])[y]
    assert calibration_test(names, P2, labels=["no", "yes"]).statistic == \
        calibration_test(y, P2).statistic


def test_top_label_and_soft_targets_match_numpy():
    rng = np.random.default_rng(2)
    P = rng.dirichlet(np.ones(4), size=200)
    T = rng.dirichlet(np.ones(4), size=200)
    top = P.argmax(1)
    s, t = P[np.arange(200), top], T[np.arange(200), top]
    C, sigma = ref_cumulative(s, t)
    assert calibration_test(T, P, method="ks").statistic == pytest.approx(np.abs(C).max() / sigma)
    y = rng.integers(0, 2, 200)
    P2 = np.column_stack([1 - P[:, 0], P[:, 0]])
    s2 = P2.max(1)
    t2 = (y == P2.argmax(1)).astype(float)
    C, sigma = ref_cumulative(s2, t2)
    assert calibration_test(y, P2, method="kuiper", top_label=True).statistic == \
        pytest.approx((C.max() - C.min()) / sigma)


def test_statistics_match_mapie():
    cal = pytest.importorskip("mapie.metrics.calibration")
    rng = np.random.default_rng(3)
    for shrink in (1.0, 0.7):
        p, y = binary(rng, 400, shrink)
        assert calibration_test(y, p, method="ks").statistic == pytest.approx(
            cal.kolmogorov_smirnov_statistic(y, p), rel=1e-6)
        assert calibration_test(y, p, method="spiegelhalter").statistic == pytest.approx(
            cal.spiegelhalter_statistic(y, p), rel=1e-9)
        one_sided = cal.spiegelhalter_p_value(y, p)  # MAPIE's: P(Z >= z); ours two-sided
        assert calibration_test(y, p, method="spiegelhalter").pvalue == pytest.approx(
            2 * min(one_sided, 1 - one_sided), rel=1e-9)
        C, _ = ref_cumulative(p, y.astype(float))
        if C.max() > 0 > C.min():  # MAPIE's range leaves out C_0 = 0
            assert calibration_test(y, p, method="kuiper").statistic == pytest.approx(
                cal.kuiper_statistic(y, p), rel=1e-6)


def test_skce_matches_numpy():
    rng = np.random.default_rng(4)
    P = rng.dirichlet(np.ones(3), size=40)
    y = rng.integers(0, 3, 40)
    Y = np.eye(3)[y]
    r = calibration_test(y, P, method="skce", null="resampling", n_resamples=50, bandwidth=0.5,
                         random_state=0)
    assert r.statistic == pytest.approx(ref_skce_quadratic(P, Y, 0.5))
    assert 1 / 51 <= r.pvalue <= 1
    lin = calibration_test(y, P, method="skce", bandwidth=0.5)
    h = [np.exp(-np.linalg.norm(P[2 * i] - P[2 * i + 1]) / 0.5)
         * np.dot(Y[2 * i] - P[2 * i], Y[2 * i + 1] - P[2 * i + 1]) for i in range(20)]
    assert lin.statistic == pytest.approx(np.mean(h))
    from scipy.stats import norm
    assert lin.pvalue == pytest.approx(norm.sf(np.mean(h) / (np.std(h, ddof=1) / np.sqrt(20))))


# --------------------------------------------------------------------------- level and power
def _rejection_rate(pvalues):
    pvalues = np.asarray(pvalues)
    assert np.all(np.isfinite(pvalues))
    return np.mean(pvalues <= ALPHA)


def _upper(n_seeds):
    return ALPHA + 3 * np.sqrt(ALPHA * (1 - ALPHA) / n_seeds)


@pytest.mark.parametrize("method", ["spiegelhalter", "ks", "kuiper", "skce"])
def test_level_holds_on_calibrated_models(method):
    """Rejection rate at 5% over many seeds: at most 5% plus three binomial standard errors
    (and not far below 5% for the hard-label tests: they are not trivially conservative)."""
    seeds, n = 600, 300
    rng = np.random.default_rng(99)
    # (a fixed bandwidth: the median heuristic, a function of y_prob alone, is most of the
    # SKCE's cost at this size and does not change its null)
    kw = {"method": method, "bandwidth": 0.3 if method == "skce" else None}
    hard, soft, multi = [], [], []
    for _ in range(seeds):
        p, y = binary(rng, n)
        hard.append(calibration_test(y, p, **kw).pvalue)
        t = rng.beta(4 * p, 4 * (1 - p))  # soft targets with E[t | p] = p
        soft.append(calibration_test(np.column_stack([1 - t, t]), p, **kw).pvalue)
        P = rng.dirichlet(np.full(3, 0.8), size=n)
        y3 = (rng.uniform(size=(n, 1)) > np.cumsum(P, 1)).sum(1)
        multi.append(calibration_test(y3, P, **kw).pvalue)
    for name, pv in (("hard", hard), ("soft", soft), ("multiclass", multi)):
        assert _rejection_rate(pv) <= _upper(seeds), (name, _rejection_rate(pv))
    assert _rejection_rate(hard) >= ALPHA / 2, _rejection_rate(hard)


def test_skce_resampling_level_and_power():
    seeds, n = 200, 80
    rng = np.random.default_rng(7)
    null, alt = [], []
    for s in range(seeds):
        P = rng.dirichlet(np.ones(3), size=n)
        y = (rng.uniform(size=(n, 1)) > np.cumsum(P, 1)).sum(1)
        null.append(calibration_test(y, P, method="skce", null="resampling", n_resamples=99,
                                     random_state=s).pvalue)
    for s in range(20):
        P = rng.dirichlet(np.ones(3) * 0.3, size=n)  # confident
        Q = 0.5 * P + 0.5 / 3  # but the truth is much flatter
        y = (rng.uniform(size=(n, 1)) > np.cumsum(Q, 1)).sum(1)
        alt.append(calibration_test(y, P, method="skce", null="resampling", n_resamples=99,
                                    random_state=s).pvalue)
    assert _rejection_rate(null) <= _upper(seeds)
    assert _rejection_rate(alt) >= 0.8


@pytest.mark.parametrize("method, n", [("spiegelhalter", 2000), ("ks", 2000),
                                       ("kuiper", 2000), ("skce", 40000)])
def test_power_against_over_confidence(method, n):
    # (the linear-time SKCE averages n / 2 pair terms: it needs far more items)
    rng = np.random.default_rng(5)
    rejections = [calibration_test(*binary(rng, n, shrink=0.6)[::-1], method=method).pvalue
                  <= ALPHA for _ in range(20)]
    assert np.mean(rejections) >= 0.9


# --------------------------------------------------------------------------- bad input
def test_bad_input():
    p, y = binary(np.random.default_rng(0), 50)
    with pytest.raises(ValueError, match="method"):
        calibration_test(y, p, method="hosmer")
    with pytest.raises(ValueError, match="null"):
        calibration_test(y, p, method="ks", null="resampling")
    with pytest.raises(ValueError, match="top_label"):
        calibration_test([0, 1, 2], np.full((3, 3), 1 / 3), top_label=False)
    with pytest.raises(ValueError, match="resampling"):
        calibration_test(np.column_stack([1 - p, p]), p, method="skce", null="resampling")
    with pytest.raises(ValueError, match="samples"):
        calibration_test(y[:10], p)
    r = calibration_test([0, 1], np.array([0.5, 0.5]), method="spiegelhalter")
    assert np.isnan(r.statistic) and np.isnan(r.pvalue)
    ro = p.copy()
    ro.setflags(write=False)
    calibration_test(y, ro[::1])
    assert np.array_equal(ro, p)


def test_report_command_prints_the_tests(tmp_path, capsys):
    from sksoft.cli import main

    rng = np.random.default_rng(0)
    p, y = binary(rng, 300, shrink=0.7)
    P = np.column_stack([1 - p, p])
    np.savez(tmp_path / "pred.npz", y_true=y, y_prob=P)
    assert main(["report", str(tmp_path / "pred.npz"), "--tests"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for method in ("spiegelhalter", "ks", "kuiper", "skce"):
        row = next(line.split() for line in lines if line.startswith(method + " "))
        r = calibration_test(y, P, method=method)
        assert float(row[1]) == pytest.approx(r.statistic, rel=1e-3)
        assert float(row[2]) == pytest.approx(r.pvalue, rel=1e-3)
        assert row[3] == r.null


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 30), seed=st.integers(0, 2**31), coarse=st.booleans(),
       soft=st.booleans())
def test_hypothesis_one_dimensional_statistics(n, seed, coarse, soft):
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n)
    if coarse:  # ties, and scores at 0 / 1
        p = np.round(p * 4) / 4
    t = rng.uniform(size=n) if soft else (rng.uniform(size=n) < 0.5).astype(float)
    y = np.column_stack([1 - t, t]) if soft else t.astype(int)
    C, sigma = ref_cumulative(p, t)
    ks = calibration_test(y, p, method="ks")
    ku = calibration_test(y, p, method="kuiper")
    sp = calibration_test(y, p, method="spiegelhalter")
    if sigma > 0:
        assert ks.statistic == pytest.approx(np.abs(C).max() / sigma, rel=1e-9, abs=1e-12)
        assert ku.statistic == pytest.approx((C.max() - C.min()) / sigma, rel=1e-9, abs=1e-12)
        assert ku.statistic >= ks.statistic - 1e-12  # the range holds C_0 = 0
    else:
        assert np.isnan(ks.statistic) and np.isnan(ku.pvalue)
    for r in (ks, ku, sp):
        assert np.isnan(r.pvalue) or 0 <= r.pvalue <= 1
