"""Smooth ECE, CORP score decompositions and isotonic reliability curves.

Checked against the oracles (relplot.smECE, model_diagnostics.scoring.decompose) on hard labels,
against plain-numpy references written here (a direct O(n * mesh) smooth ECE, a brute-force
PAV) for soft targets and weights, on edge cases, and with hypothesis properties.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import xlogy

from sksoft.metrics import (
    IsotonicReliabilityCurve,
    ScoreDecomposition,
    SmoothReliabilityCurve,
    isotonic_reliability_curve,
    score_decomposition,
    smooth_calibration_error,
    smooth_reliability_curve,
)

# ------------------------------------------------------------------ references (plain numpy)


def to_soft(y, K):
    y = np.asarray(y)
    return y.astype(np.float64) if y.ndim == 2 else np.eye(K)[y]


def ref_events(y_true, y_prob, mode=None):
    """[(p, t), ...] of the events of ``mode`` (see sksoft.metrics._events)."""
    P = np.asarray(y_prob, dtype=np.float64)
    if P.ndim == 1:
        P = np.column_stack([1 - P, P])
        mode = mode or "binary"
    mode = mode or "top-label"
    T = to_soft(y_true, P.shape[1])
    rows = np.arange(P.shape[0])
    if mode == "top-label":
        a = P.argmax(axis=1)
        return [(P[rows, a], T[rows, a])]
    if mode == "binary":
        return [(P[:, 1], T[:, 1])]
    return [(P[:, k], T[:, k]) for k in range(P.shape[1])]


def ref_smooth_sigma(p, t, w, sigma, mesh=4001):
    """smECE_sigma by direct quadrature: the reflected Gaussian as a sum of images."""
    x = np.linspace(0.0, 1.0, mesh)
    kern = np.zeros((p.shape[0], mesh))
    for k in range(-3, 4):
        for image in (p + 2 * k, -p + 2 * k):
            kern += np.exp(-0.5 * ((x[None, :] - image[:, None]) / sigma) ** 2)
    kern /= np.sqrt(2 * np.pi) * sigma
    return np.trapezoid(np.abs((w * (t - p)) @ kern), x) / w.sum()


def ref_smooth(p, t, w, floor=1e-3):
    """The fixed point sigma = smECE_sigma by root finding on the direct quadrature."""
    def gap(s):
        return ref_smooth_sigma(p, t, w, s) - s

    if gap(floor) <= 0:
        return ref_smooth_sigma(p, t, w, floor)
    if gap(1.0) >= 0:
        return ref_smooth_sigma(p, t, w, 1.0)
    return ref_smooth_sigma(p, t, w, brentq(gap, floor, 1.0, xtol=1e-10))


def ref_pav(p, t, w):
    """Brute-force weighted PAV: pool ties, then merge the first adjacent decreasing pair until
    none is left. Returns the distinct predictions (positive weight), fit and weights."""
    keep = w > 0
    xs = np.unique(p[keep])
    blocks = [[w[keep & (p == x)].sum(), (w * t)[keep & (p == x)].sum(), 1] for x in xs]
    merged = True
    while merged:
        merged = False
        for i in range(len(blocks) - 1):
            a, b = blocks[i], blocks[i + 1]
            if a[1] / a[0] > b[1] / b[0]:
                blocks[i] = [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
                del blocks[i + 1]
                merged = True
                break
    fit = np.concatenate([np.full(n, s / W) for W, s, n in blocks])
    return xs, fit, np.array([w[keep & (p == x)].sum() for x in xs])


def ref_score(z, t, score):
    if score == "brier":
        return (z - t) ** 2
    with np.errstate(divide="ignore"):
        return -(xlogy(t, z) + xlogy(1 - t, 1 - z))


def ref_decomposition(p, t, w, score):
    keep = w > 0
    p, t, w = p[keep], t[keep], w[keep]
    xs, fit, _ = ref_pav(p, t, w)
    r = fit[np.searchsorted(xs, p)]

    def mean(v):
        return np.sum(w * v) / w.sum()

    tbar = mean(t)
    s, s_rc, s_mg = (mean(ref_score(z, t, score)) for z in (p, r, np.full_like(p, tbar)))
    return s, s - s_rc, s_mg - s_rc, s_mg


def random_problem(rng, n, K, soft=False, weighted=False, dtype=np.float64):
    P = rng.dirichlet(np.full(K, 0.5), size=n)
    # mildly over-confident truth
    Q = P ** 0.7
    Q /= Q.sum(axis=1, keepdims=True)
    if soft:
        y = rng.dirichlet(np.full(K, 0.3), size=n) * 0.5 + Q * 0.5
    else:
        y = (Q.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1).clip(0, K - 1)
    w = rng.integers(0, 4, size=n).astype(float) if weighted else None
    if w is not None and not w.any():
        w[0] = 1.0
    return y, P.astype(dtype), w


def binary_problem(rng, n, power=1.5, ties=False, dtype=np.float64):
    p = rng.uniform(size=n)
    if ties:
        p = np.round(p, 1)
    y = (rng.uniform(size=n) < p ** power).astype(np.int64)
    return y, p.astype(dtype)


# ------------------------------------------------------------------ smooth ECE: oracle


def relplot_top_label(y, P):
    relplot = pytest.importorskip("relplot")
    conf, correct = relplot.multiclass_logits_to_confidences(P, y, probs=True)
    return relplot.smECE(conf.astype(np.float64), correct)


@pytest.mark.parametrize("n", [1000, 10_000])
@pytest.mark.parametrize("power", [1.0, 1.5, 0.6])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_smooth_ece_matches_relplot_binary(n, power, dtype):
    relplot = pytest.importorskip("relplot")
    y, p = binary_problem(np.random.default_rng(n + int(10 * power)), n, power, dtype=dtype)
    ours = smooth_calibration_error(y, p)
    theirs = relplot.smECE(p.astype(np.float64), y.astype(np.float64))
    assert abs(ours - theirs) <= 1e-3


@pytest.mark.parametrize("n", [1000, 10_000])
@pytest.mark.parametrize("K", [3, 10])
def test_smooth_ece_matches_relplot_top_label(n, K):
    y, P, _ = random_problem(np.random.default_rng(K * n), n, K)
    assert abs(smooth_calibration_error(y, P) - relplot_top_label(y, P)) <= 1e-3


@pytest.mark.parametrize("case", ["all-correct", "all-wrong", "one-value", "ties"])
def test_smooth_ece_matches_relplot_edge_cases(case):
    relplot = pytest.importorskip("relplot")
    rng = np.random.default_rng(3)
    n = 2000
    p = rng.uniform(size=n)
    y = (rng.uniform(size=n) < p).astype(int)
    if case == "all-correct":
        y = np.ones(n, dtype=int)
    elif case == "all-wrong":
        y = np.zeros(n, dtype=int)
    elif case == "one-value":
        p = np.full(n, 0.7)
    else:
        p = (np.floor(p * 8) + 0.5) / 8
    assert abs(smooth_calibration_error(y, p) - relplot.smECE(p, y.astype(float))) <= 1e-3


def test_smooth_ece_predictions_at_zero_and_one():
    # A prediction of exactly 0 or 1 is its own mirror image: the reflected kernel counts it
    # twice, so that its mass on [0, 1] is 1 as for any other prediction (the smooth ECE is
    # continuous in the predictions). relplot's grid reflection counts the end nodes once and
    # gives such predictions half the weight (4e-3 lower here); the direct quadrature agrees
    # with sksoft.
    rng = np.random.default_rng(3)
    p = np.round(rng.uniform(size=60) * 4) / 4
    y = (rng.uniform(size=60) < p ** 1.5).astype(int)
    w = np.ones(60)
    for sigma in (0.03, 0.2):
        assert smooth_calibration_error(y, p, bandwidth=sigma, n_grid=2**16) == pytest.approx(
            ref_smooth_sigma(p, y.astype(float), w, sigma), abs=2e-7)
    assert smooth_calibration_error(y, p) == pytest.approx(ref_smooth(p, y.astype(float), w),
                                                           abs=1e-5)
    # continuity: moving the end predictions inwards by 1e-9 changes nothing visible
    inner = np.clip(p, 1e-9, 1 - 1e-9)
    assert smooth_calibration_error(y, inner) == pytest.approx(smooth_calibration_error(y, p),
                                                               abs=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("n", [100_000, 1_000_000])
def test_smooth_ece_matches_relplot_large(n):
    relplot = pytest.importorskip("relplot")
    rng = np.random.default_rng(n)
    for power in (1.0, 1.3):
        y, p = binary_problem(rng, n, power)
        assert abs(smooth_calibration_error(y, p)
                   - relplot.smECE(p, y.astype(np.float64))) <= 1e-3
    y, P, _ = random_problem(rng, n, 10, dtype=np.float32)
    assert abs(smooth_calibration_error(y, P) - relplot_top_label(y, P)) <= 1e-3


# ------------------------------------------------------------------ smooth ECE: references


@pytest.mark.parametrize("mode", ["binary", "top-label", "classwise"])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_smooth_ece_matches_direct_quadrature(mode, soft, weighted):
    rng = np.random.default_rng(7)
    y, P, w = random_problem(rng, 40, 2 if mode == "binary" else 3, soft, weighted)
    ww = np.ones(40) if w is None else w
    events = ref_events(y, P, mode)
    for sigma in (0.02, 0.1):
        expected = np.mean([ref_smooth_sigma(p, t, ww, sigma) for p, t in events])
        # the default grid: at least 32 nodes per bandwidth, error below 1e-4 of the value
        got = smooth_calibration_error(y, P, mode=mode, sample_weight=w, bandwidth=sigma)
        assert got == pytest.approx(expected, rel=1e-4)
        # a finer grid converges to the quadrature
        got = smooth_calibration_error(y, P, mode=mode, sample_weight=w, bandwidth=sigma,
                                       n_grid=2**16)
        assert got == pytest.approx(expected, abs=2e-7)
    expected = np.mean([ref_smooth(p, t, ww) for p, t in events])
    assert smooth_calibration_error(y, P, mode=mode, sample_weight=w) == pytest.approx(
        expected, rel=1e-4)


def test_smooth_ece_fixed_point():
    y, p = binary_problem(np.random.default_rng(1), 3000)
    curve = smooth_reliability_curve(y, p)
    value = smooth_calibration_error(y, p)
    assert curve.bandwidth == pytest.approx(value, abs=1e-9)
    assert curve.calibration_error == value
    assert smooth_calibration_error(y, p, bandwidth=curve.bandwidth) == pytest.approx(value)


def test_smooth_ece_decreases_with_bandwidth():
    y, p = binary_problem(np.random.default_rng(2), 2000, power=1.2)
    values = [smooth_calibration_error(y, p, bandwidth=s) for s in (0.005, 0.02, 0.08, 0.3, 1.0)]
    assert np.all(np.diff(values) <= 1e-12)
    # infinite smoothing leaves calibration-in-the-large, |mean(y - p)|
    assert values[-1] >= abs(np.mean(y - p)) - 1e-9


def test_smooth_ece_n_grid_and_dtype():
    y, P, _ = random_problem(np.random.default_rng(3), 500, 4)
    ref = smooth_calibration_error(y, P)
    assert smooth_calibration_error(y, P, n_grid=2**16) == pytest.approx(ref, abs=1e-5)
    assert smooth_calibration_error(y, P.astype(np.float32)) == pytest.approx(ref, abs=1e-5)


# ------------------------------------------------------------------ smooth ECE: edge cases


def test_smooth_ece_single_row():
    assert smooth_calibration_error([1], np.array([0.3])) == pytest.approx(0.7, abs=1e-12)
    assert smooth_calibration_error([0], np.array([0.3])) == pytest.approx(0.3, abs=1e-12)
    # below the bandwidth floor: still |t - p|
    assert smooth_calibration_error([1], np.array([0.9995])) == pytest.approx(5e-4, abs=1e-12)
    soft = np.array([[0.25, 0.75]])
    assert smooth_calibration_error(soft, np.array([[0.5, 0.5]])) == pytest.approx(0.25)


def test_smooth_ece_all_correct_all_wrong_one_value():
    rng = np.random.default_rng(4)
    P = rng.dirichlet(np.ones(4), size=500)
    conf = P.max(axis=1)
    right = P.argmax(axis=1)
    # one-signed residuals: no cancellation at any bandwidth
    assert smooth_calibration_error(right, P) == pytest.approx(np.mean(1 - conf), abs=1e-12)
    assert smooth_calibration_error((right + 1) % 4, P) == pytest.approx(conf.mean(), abs=1e-12)
    y = (rng.uniform(size=500) < 0.6).astype(int)
    assert smooth_calibration_error(y, np.full(500, 0.7)) == pytest.approx(
        abs(0.7 - y.mean()), abs=1e-12)


def test_smooth_ece_perfect_soft_targets_is_zero():
    P = np.random.default_rng(5).dirichlet(np.ones(3), size=100)
    assert smooth_calibration_error(P, P, mode="classwise") == pytest.approx(0, abs=1e-15)


# ------------------------------------------------------------------ CORP: oracle


def md_decompose(y, p, w, score):
    md = pytest.importorskip("model_diagnostics.scoring")
    fn = md.SquaredError() if score == "brier" else md.LogLoss()
    return md.decompose(np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64),
                        weights=w, scoring_function=fn).row(0, named=True)


def assert_matches_md(d, ref, tol):
    assert d.mcb == pytest.approx(ref["miscalibration"], abs=tol)
    assert d.dsc == pytest.approx(ref["discrimination"], abs=tol)
    assert d.unc == pytest.approx(ref["uncertainty"], abs=tol)
    assert d.score == pytest.approx(ref["score"], abs=tol)


@pytest.mark.parametrize("n", [2, 7, 100, 5000])
@pytest.mark.parametrize("score", ["brier", "log"])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_score_decomposition_matches_model_diagnostics(n, score, ties, weighted):
    rng = np.random.default_rng(n)
    y, p = binary_problem(rng, n, 1.4, ties)
    # model-diagnostics turns zero weights into 0 * inf = NaN for the log score; positive here
    w = rng.uniform(0.1, 3.0, size=n) if weighted else None
    d = score_decomposition(y, p, score=score, sample_weight=w)
    assert_matches_md(d, md_decompose(y, p, w, score), 1e-9)
    # float32 predictions are used exactly
    p32 = p.astype(np.float32)
    assert_matches_md(score_decomposition(y, p32, score=score, sample_weight=w),
                      md_decompose(y, p32, w, score), 1e-9)


@pytest.mark.parametrize("score", ["brier", "log"])
def test_score_decomposition_certain_predictions(score):
    # probabilities 0 and 1 on the right side are fine; on the wrong side the log score is
    # infinite, as in model-diagnostics
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.0, 0.2, 0.8, 1.0, 0.5, 0.5])
    assert_matches_md(score_decomposition(y, p, score=score), md_decompose(y, p, None, score),
                      1e-12)
    p_wrong = np.array([0.0, 1.0, 0.8, 1.0, 0.5, 0.5])
    d = score_decomposition(y, p_wrong, score=score)
    ref = md_decompose(y, p_wrong, None, score)
    if score == "log":
        assert np.isinf(d.score) and np.isinf(d.mcb) and np.isinf(ref["score"])
        assert d.dsc == pytest.approx(ref["discrimination"], abs=1e-12)
        clipped = score_decomposition(y, p_wrong, score=score, eps=1e-6)
        assert np.isfinite(clipped.score)
        assert_matches_md(clipped, md_decompose(y, np.clip(p_wrong, 1e-6, 1 - 1e-6), None,
                                                score), 1e-9)
    else:
        assert_matches_md(d, ref, 1e-12)


@pytest.mark.parametrize("score", ["brier", "log"])
def test_score_decomposition_soft_targets_vs_model_diagnostics(score):
    # model-diagnostics' LogLoss of a fractional target is the binary KL divergence: it differs
    # from the cross-entropy by the targets' mean entropy in score and UNC only
    rng = np.random.default_rng(11)
    p = np.round(rng.uniform(size=300), 2)
    t = np.clip(p + rng.normal(0, 0.2, size=300), 0, 1)
    y = np.column_stack([1 - t, t])
    w = rng.uniform(0.5, 2, size=300)
    d = score_decomposition(y, p, score=score, sample_weight=w)
    ref = md_decompose(t, p, w, score)
    assert d.mcb == pytest.approx(ref["miscalibration"], abs=1e-12)
    assert d.dsc == pytest.approx(ref["discrimination"], abs=1e-12)
    shift = 0.0
    if score == "log":
        shift = np.average(-(xlogy(t, t) + xlogy(1 - t, 1 - t)), weights=w)
    assert d.score == pytest.approx(ref["score"] + shift, abs=1e-12)
    assert d.unc == pytest.approx(ref["uncertainty"] + shift, abs=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("score", ["brier", "log"])
def test_score_decomposition_matches_model_diagnostics_large(score):
    rng = np.random.default_rng(6)
    y, p = binary_problem(rng, 1_000_000, 1.2)
    assert_matches_md(score_decomposition(y, p, score=score), md_decompose(y, p, None, score),
                      1e-9)
    y, p = binary_problem(rng, 1_000_000, 0.8, ties=True)
    w = rng.uniform(0.5, 2.0, size=p.shape[0])
    assert_matches_md(score_decomposition(y, p, score=score, sample_weight=w),
                      md_decompose(y, p, w, score), 1e-9)


# ------------------------------------------------------------------ CORP: references


@pytest.mark.parametrize("mode", ["binary", "top-label", "classwise"])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("score", ["brier", "log"])
def test_score_decomposition_matches_reference(mode, soft, weighted, score):
    rng = np.random.default_rng(21)
    y, P, w = random_problem(rng, 60, 2 if mode == "binary" else 3, soft, weighted)
    P = np.round(P, 2)  # ties
    P /= P.sum(axis=1, keepdims=True)
    ww = np.ones(60) if w is None else w
    refs = np.array([ref_decomposition(p, t, ww, score) for p, t in ref_events(y, P, mode)])
    d = score_decomposition(y, P, score=score, mode=mode, sample_weight=w)
    np.testing.assert_allclose([d.score, d.mcb, d.dsc, d.unc], refs.mean(axis=0), atol=1e-12)
    if mode == "classwise":
        assert len(d.per_class) == 3
        np.testing.assert_allclose(
            [[c.score, c.mcb, c.dsc, c.unc] for c in d.per_class], refs, atol=1e-12)
    else:
        assert d.per_class is None


def test_classwise_brier_components_sum_to_multiclass_brier():
    from sksoft.metrics import brier_score_loss

    y, P, _ = random_problem(np.random.default_rng(8), 400, 4)
    d = score_decomposition(y, P, mode="classwise")
    assert 4 * d.score == pytest.approx(brier_score_loss(y, P), abs=1e-12)


def test_score_decomposition_edge_cases():
    # n = 1: the recalibrated prediction is the target itself
    d = score_decomposition([1], np.array([0.3]))
    assert (d.score, d.mcb, d.dsc, d.unc) == pytest.approx((0.49, 0.49, 0.0, 0.0))
    d = score_decomposition(np.array([[0.4, 0.6]]), np.array([0.3]), score="log")
    h = -(0.6 * np.log(0.6) + 0.4 * np.log(0.4))
    assert d.unc == pytest.approx(h) and d.dsc == pytest.approx(0.0, abs=1e-15)
    # all correct / all wrong: nothing to discriminate, everything is miscalibration
    P = np.random.default_rng(9).dirichlet(np.ones(3), size=200)
    for y in (P.argmax(axis=1), (P.argmax(axis=1) + 1) % 3):
        for score in ("brier", "log"):
            d = score_decomposition(y, P, score=score)
            assert d.unc == 0 and d.dsc == pytest.approx(0, abs=1e-15)
            assert d.mcb == pytest.approx(d.score, abs=1e-15)
    # one value: no discrimination, the gap to the mean is all miscalibration
    y = np.array([0, 1, 1, 0, 1])
    d = score_decomposition(y, np.full(5, 0.8))
    assert d.dsc == pytest.approx(0, abs=1e-15)
    assert d.mcb == pytest.approx((0.8 - 0.6) ** 2, abs=1e-15)


def test_score_decomposition_zero_weights_are_removal():
    rng = np.random.default_rng(10)
    y, p = binary_problem(rng, 200, 1.3, ties=True)
    w = rng.integers(0, 3, size=200).astype(float)
    keep = w > 0
    for score in ("brier", "log"):
        a = score_decomposition(y, p, score=score, sample_weight=w)
        b = score_decomposition(y[keep], p[keep], score=score, sample_weight=w[keep])
        assert (a.score, a.mcb, a.dsc, a.unc) == (b.score, b.mcb, b.dsc, b.unc)


# ------------------------------------------------------------------ isotonic curve


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_isotonic_curve_matches_reference_pav(soft, weighted):
    rng = np.random.default_rng(12)
    y, P, w = random_problem(rng, 80, 3, soft, weighted)
    P = np.round(P, 2)
    P /= P.sum(axis=1, keepdims=True)
    ww = np.ones(80) if w is None else w
    curve = isotonic_reliability_curve(y, P, sample_weight=w, n_bootstrap=0)
    assert isinstance(curve, IsotonicReliabilityCurve)
    (p, t), = ref_events(y, P)
    xs, fit, weights = ref_pav(p, t, ww)
    np.testing.assert_array_equal(curve.confidence, xs)
    np.testing.assert_allclose(curve.accuracy, fit, atol=1e-14)
    np.testing.assert_allclose(curve.count, weights, atol=1e-12)
    assert np.all(np.diff(curve.accuracy) >= 0)
    assert curve.lower is None and curve.upper is None
    curves = isotonic_reliability_curve(y, P, mode="classwise", sample_weight=w, n_bootstrap=0)
    assert len(curves) == 3
    for (p, t), c in zip(ref_events(y, P, "classwise"), curves):
        np.testing.assert_allclose(c.accuracy, ref_pav(p, t, ww)[1], atol=1e-14)


def test_isotonic_curve_consistency_band():
    rng = np.random.default_rng(13)
    n = 3000
    p = rng.uniform(size=n)
    calibrated = (rng.uniform(size=n) < p).astype(int)
    curve = isotonic_reliability_curve(calibrated, p, n_bootstrap=200, random_state=0)
    assert 900 <= curve.band_index.shape[0] <= 1000
    lo, hi = curve.lower, curve.upper
    assert np.all((0 <= lo) & (lo <= hi) & (hi <= 1))
    assert np.all(np.diff(curve.confidence[curve.band_index]) > 0)
    inside = (lo <= curve.accuracy[curve.band_index]) & (curve.accuracy[curve.band_index] <= hi)
    assert inside.mean() > 0.8
    # a distorted model leaves the band
    distorted = (rng.uniform(size=n) < p ** 2).astype(int)
    bad = isotonic_reliability_curve(distorted, p, n_bootstrap=200, random_state=0)
    acc = bad.accuracy[bad.band_index]
    assert ((bad.lower <= acc) & (acc <= bad.upper)).mean() < 0.5
    # reproducible; weighted and tied predictions take the per-row path
    again = isotonic_reliability_curve(calibrated, p, n_bootstrap=200, random_state=0)
    np.testing.assert_array_equal(again.lower, lo)
    tied = np.round(p, 1)
    c = isotonic_reliability_curve(calibrated, tied, sample_weight=np.full(n, 2.0),
                                   n_bootstrap=50, random_state=np.random.default_rng(1))
    assert c.band_index.shape == (11,) and np.all(c.lower <= c.upper)
    # the band narrows where there is more data
    few = isotonic_reliability_curve(calibrated[:300], tied[:300], n_bootstrap=200,
                                     random_state=0)
    assert np.mean(few.upper - few.lower) > np.mean(c.upper - c.lower)


# ------------------------------------------------------------------ smooth curve


def test_smooth_reliability_curve():
    rng = np.random.default_rng(14)
    y, p = binary_problem(rng, 5000, 2.0)
    curve = smooth_reliability_curve(y, p, n_points=2001)
    assert isinstance(curve, SmoothReliabilityCurve)
    assert curve.calibration_error == smooth_calibration_error(y, p)
    assert np.trapezoid(curve.density, curve.x) == pytest.approx(1.0, abs=1e-4)
    integrand = np.abs(curve.accuracy - curve.confidence) * curve.density
    assert np.trapezoid(integrand, curve.x) == pytest.approx(curve.calibration_error, abs=1e-4)
    # the truth is p**2; the bandwidth smooths it
    middle = (curve.x > 0.2) & (curve.x < 0.8)
    assert np.max(np.abs(curve.accuracy[middle] - curve.x[middle] ** 2)) < 0.05
    # no data near 1: the curve is undefined there
    far = smooth_reliability_curve(y[p < 0.3], p[p < 0.3], bandwidth=0.01)
    assert np.isnan(far.accuracy[-1]) and np.isfinite(far.accuracy[20])
    curves = smooth_reliability_curve(*random_problem(rng, 300, 3)[:2], mode="classwise")
    assert len(curves) == 3 and all(isinstance(c, SmoothReliabilityCurve) for c in curves)


# ------------------------------------------------------------------ properties (hypothesis)

problems = st.builds(
    lambda seed, n, K, soft, weighted: (seed, n, K, soft, weighted),
    st.integers(0, 2**31 - 1), st.integers(1, 60), st.integers(2, 5), st.booleans(),
    st.booleans())
settings_fast = settings(max_examples=40, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])


def make(problem):
    seed, n, K, soft, weighted = problem
    rng = np.random.default_rng(seed)
    y, P, w = random_problem(rng, n, K, soft, weighted)
    if rng.uniform() < 0.5:  # ties
        P = np.round(P, 1)
        P[:, 0] += 1 - P.sum(axis=1)
        P = np.abs(P)
        P /= P.sum(axis=1, keepdims=True)
    return y, P, w


@settings_fast
@given(problems, st.sampled_from(["top-label", "classwise", "binary"]),
       st.sampled_from(["brier", "log"]))
def test_decomposition_identity_and_signs(problem, mode, score):
    seed, n, K, soft, weighted = problem
    y, P, w = make((seed, n, 2 if mode == "binary" else K, soft, weighted))
    d = score_decomposition(y, P, score=score, mode=mode, sample_weight=w, eps=1e-9)
    assert abs(d.mcb - d.dsc + d.unc - d.score) <= 1e-12
    assert d.mcb >= -1e-13 and d.dsc >= -1e-13 and d.unc >= -1e-13


@settings_fast
@given(problems)
def test_one_hot_soft_targets_equal_hard_labels(problem):
    seed, n, K, _, weighted = problem
    y, P, w = make((seed, n, K, False, weighted))
    onehot = np.eye(K)[y]
    for mode in ("top-label", "classwise"):
        assert smooth_calibration_error(onehot, P, mode=mode, sample_weight=w) == \
            smooth_calibration_error(y, P, mode=mode, sample_weight=w)
        for score in ("brier", "log"):
            a = score_decomposition(onehot, P, score=score, mode=mode, sample_weight=w)
            b = score_decomposition(y, P, score=score, mode=mode, sample_weight=w)
            assert (a.score, a.mcb, a.dsc, a.unc) == (b.score, b.mcb, b.dsc, b.unc)
        ca = isotonic_reliability_curve(onehot, P, mode=mode, sample_weight=w, n_bootstrap=0)
        cb = isotonic_reliability_curve(y, P, mode=mode, sample_weight=w, n_bootstrap=0)
        for u, v in zip(np.atleast_1d(ca), np.atleast_1d(cb)):
            np.testing.assert_array_equal(u.accuracy, v.accuracy)
            np.testing.assert_array_equal(u.confidence, v.confidence)


@settings_fast
@given(problems, st.sampled_from(["top-label", "classwise"]))
def test_sample_weight_invariances(problem, mode):
    seed, n, K, soft, _ = problem
    y, P, _ = make((seed, n, K, soft, False))
    rng = np.random.default_rng(seed + 1)
    reps = rng.integers(0, 4, size=n)
    if not reps.any():
        reps[0] = 2
    rep_y, rep_P = np.repeat(y, reps, axis=0), np.repeat(P, reps, axis=0)
    # integer weights = repetition (zero weights = removal)
    a = smooth_calibration_error(y, P, mode=mode, sample_weight=reps)
    assert a == pytest.approx(smooth_calibration_error(rep_y, rep_P, mode=mode), abs=1e-10)
    for score in ("brier", "log"):
        d1 = score_decomposition(y, P, score=score, mode=mode, sample_weight=reps)
        d2 = score_decomposition(rep_y, rep_P, score=score, mode=mode)
        np.testing.assert_allclose([d1.score, d1.mcb, d1.dsc, d1.unc],
                                   [d2.score, d2.mcb, d2.dsc, d2.unc], atol=1e-10)
    # unit weights change nothing, scaling the weights changes nothing, nor does row order
    order = rng.permutation(n)
    base = smooth_calibration_error(y, P, mode=mode)
    assert smooth_calibration_error(y, P, mode=mode, sample_weight=np.ones(n)) == \
        pytest.approx(base, abs=1e-12)
    assert smooth_calibration_error(y[order], P[order], mode=mode, sample_weight=3.0) == \
        pytest.approx(base, abs=1e-12)
    d1 = score_decomposition(y, P, mode=mode)
    d2 = score_decomposition(y[order], P[order], mode=mode, sample_weight=np.full(n, 0.5))
    np.testing.assert_allclose([d1.score, d1.mcb, d1.dsc, d1.unc],
                               [d2.score, d2.mcb, d2.dsc, d2.unc], atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("distortion", [0.5, 2.0])
def test_recalibration_reduces_smooth_ece_and_mcb(seed, distortion):
    rng = np.random.default_rng(seed)
    n = 2000
    truth = rng.beta(2, 2, size=n)
    y = (rng.uniform(size=n) < truth).astype(int)
    model = truth ** distortion  # a monotone distortion of the true probability
    # recalibrated with the calibration map learnt by PAV on an independent sample
    fit_truth = rng.beta(2, 2, size=n)
    fit_y = (rng.uniform(size=n) < fit_truth).astype(int)
    curve = isotonic_reliability_curve(fit_y, fit_truth ** distortion, n_bootstrap=0)
    recal = np.interp(model, curve.confidence, curve.accuracy)
    assert smooth_calibration_error(y, recal) < smooth_calibration_error(y, model)
    assert score_decomposition(y, recal).mcb < score_decomposition(y, model).mcb
    # the learnt map reaches 0 and 1 at the ends: the log score needs clipping
    assert score_decomposition(y, recal, score="log", eps=1e-3).mcb < \
        score_decomposition(y, model, score="log", eps=1e-3).mcb
    # and PAV-recalibrated in-sample predictions have no CORP miscalibration at all
    in_sample = isotonic_reliability_curve(y, model, n_bootstrap=0)
    r = np.interp(model, in_sample.confidence, in_sample.accuracy)
    assert score_decomposition(y, r).mcb == pytest.approx(0, abs=1e-15)


# ------------------------------------------------------------------ input handling


def test_inputs_are_not_modified_and_layouts_agree():
    rng = np.random.default_rng(15)
    y, P, w = random_problem(rng, 200, 4, soft=True, weighted=True)
    wide = np.zeros((200, 8))
    wide[:, ::2] = P
    strided = wide[:, ::2]  # non-contiguous
    ro = P.copy()
    ro.setflags(write=False)
    copies = [a.copy() for a in (y, P, w)]
    for fn in (smooth_calibration_error, score_decomposition):
        values = [fn(y, X, sample_weight=w) for X in (P, strided, ro)]
        assert values[0] == values[1] == values[2]
    isotonic_reliability_curve(y, ro, sample_weight=w, n_bootstrap=3, random_state=0)
    smooth_reliability_curve(y, ro, sample_weight=w)
    for a, b in zip((y, P, w), copies):
        np.testing.assert_array_equal(a, b)


def test_labels_and_binary_mode():
    rng = np.random.default_rng(16)
    y, p = binary_problem(rng, 300)
    P = np.column_stack([1 - p, p])
    names = np.array(["neg", "pos"])[y]
    for fn in (smooth_calibration_error, lambda *a, **k: score_decomposition(*a, **k).score):
        ref = fn(y, p)
        assert fn(y, P, mode="binary") == ref
        assert fn(names, p, labels=["neg", "pos"]) == ref
    # 1-D predictions are binary by default; asking for top-label uses max(p, 1 - p)
    assert smooth_calibration_error(y, p, mode="top-label") == smooth_calibration_error(y, P)


@pytest.mark.parametrize("fn", [smooth_calibration_error, score_decomposition,
                                isotonic_reliability_curve, smooth_reliability_curve])
def test_bad_inputs(fn):
    P = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    y = np.array([1, 0, 1])
    with pytest.raises(ValueError, match="y_prob contains NaN"):
        fn(y, np.array([[0.2, 0.8], [np.nan, 0.4], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="y_prob contains NaN"):
        fn(y, np.array([[0.2, 0.8], [np.inf, 0.4], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="negative"):
        fn(y, np.array([[1.2, -0.2], [0.6, 0.4], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="row 2 sums to"):
        fn(y, np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.6]]))
    with pytest.raises(ValueError, match="y_true rows must sum to 1"):
        fn(np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.6]]), P)
    with pytest.raises(ValueError, match="outside"):
        fn(np.array([1, 2, 0]), P)
    with pytest.raises(ValueError, match="2 samples but y_prob has 3"):
        fn(np.array([1, 0]), P)
    with pytest.raises(ValueError, match="mode"):
        fn(y, P, mode="per-class")
    with pytest.raises(ValueError, match="binary"):
        fn(np.array([0, 1, 2]), np.full((3, 3), 1 / 3), mode="binary")
    with pytest.raises(ValueError, match="sample_weight"):
        fn(y, P, sample_weight=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="y_prob"):
        fn(y, np.array([0.2, 1.5, 0.5]))


@pytest.mark.parametrize("soft", [False, True])
def test_threads_agree(soft):
    # each thread fills its own grid or range of rows; the results agree to rounding
    rng = np.random.default_rng(17)
    y, P, w = random_problem(rng, 20_000, 4, soft, weighted=True)
    P = P.astype(np.float32)
    for mode in ("top-label", "classwise"):
        one = smooth_calibration_error(y, P, mode=mode, sample_weight=w, n_threads=1)
        for nt in (2, 3, -1):
            assert smooth_calibration_error(y, P, mode=mode, sample_weight=w,
                                            n_threads=nt) == pytest.approx(one, abs=1e-12)
        curve1 = smooth_reliability_curve(y, P, mode=mode, n_threads=1)
        curve3 = smooth_reliability_curve(y, P, mode=mode, n_threads=3)
        for a, b in zip(np.atleast_1d(curve1), np.atleast_1d(curve3)):
            np.testing.assert_allclose(a.density, b.density, atol=1e-12)
        for weights in (w, None):
            d1 = score_decomposition(y, P, mode=mode, sample_weight=weights, n_threads=1)
            d3 = score_decomposition(y, P, mode=mode, sample_weight=weights, n_threads=3)
            assert (d1.score, d1.mcb, d1.dsc, d1.unc) == (d3.score, d3.mcb, d3.dsc, d3.unc)
    # the first bad row is reported whichever thread meets it
    bad = P.copy()
    bad[[15_000, 12_000], 0] = np.nan
    for fn in (smooth_calibration_error, score_decomposition):
        for nt in (1, 3):
            with pytest.raises(ValueError, match="first in row 12000"):
                fn(y, bad, n_threads=nt)


def test_bad_parameters():
    P = np.array([[0.2, 0.8], [0.6, 0.4]])
    y = np.array([1, 0])
    with pytest.raises(ValueError, match="bandwidth"):
        smooth_calibration_error(y, P, bandwidth="scott")
    with pytest.raises(ValueError, match="bandwidth"):
        smooth_calibration_error(y, P, bandwidth=0.0)
    with pytest.raises(TypeError, match="bandwidth"):
        smooth_calibration_error(y, P, bandwidth=True)
    with pytest.raises(ValueError, match="n_grid"):
        smooth_calibration_error(y, P, n_grid=4)
    with pytest.raises(ValueError, match="n_points"):
        smooth_reliability_curve(y, P, n_points=1)
    with pytest.raises(ValueError, match="score"):
        score_decomposition(y, P, score="crps")
    with pytest.raises(ValueError, match="eps"):
        score_decomposition(y, P, eps=0.5)
    with pytest.raises(ValueError, match="n_bootstrap"):
        isotonic_reliability_curve(y, P, n_bootstrap=-1)
    with pytest.raises(ValueError, match="confidence"):
        isotonic_reliability_curve(y, P, confidence=1.0)
    with pytest.raises(ValueError, match="max_band_points"):
        isotonic_reliability_curve(y, P, max_band_points=1)
    with pytest.raises(TypeError, match="random_state"):
        isotonic_reliability_curve(y, P, random_state="seed")
    with pytest.raises(ValueError, match="n_threads"):
        smooth_calibration_error(y, P, n_threads=0)
    with pytest.raises(TypeError, match="n_threads"):
        score_decomposition(y, P, n_threads=1.5)
    assert isinstance(score_decomposition(y, P), ScoreDecomposition)
