"""Debiased (Kumar, Liang & Ma 2019) and signed calibration errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_probs
from sksoft import metrics as M


def _off_edges(rng, n, K, n_bins):
    """Probabilities with no value on a bin edge (the oracle bins edges the other way)."""
    p = random_probs(rng, n, K)
    edges = np.linspace(0, 1, n_bins + 1)
    on_edge = np.isin(np.round(p * n_bins, 12), np.round(edges * n_bins, 12))
    p[on_edge] += 1e-9
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("n_bins", [1, 5, 15])
@pytest.mark.parametrize("n", [3, 40, 2000])
def test_debiased_ece_equals_uncertainty_calibration(n, n_bins):
    cu = pytest.importorskip("calibration.utils")
    rng = np.random.default_rng(n + n_bins)
    p = _off_edges(rng, n, 4, n_bins)
    y = rng.integers(0, 4, n)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    bins = list(np.linspace(0, 1, n_bins + 1)[1:])
    want = cu.unbiased_l2_ce(cu.bin(list(zip(conf, correct)), bins))
    got = M.expected_calibration_error(y, p, n_bins=n_bins, norm="l2", debias=True)
    assert got == pytest.approx(want, abs=1e-12)
    # classwise: one-vs-rest per class, averaged
    want_cls = np.mean([cu.unbiased_l2_ce(cu.bin(list(zip(p[:, k], (y == k).astype(float))),
                                                 bins)) for k in range(4)])
    got_cls = M.classwise_calibration_error(y, p, n_bins=n_bins, norm="l2", debias=True)
    assert got_cls == pytest.approx(want_cls, abs=1e-12)


def _debiased_reference(a, c, w, n_bins):
    """Plain numpy: per bin, gap^2 less n/(n-1) sum w^2 (a - abar)^2 / (sum w)^2."""
    b = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1), c, side="right") - 1, 0,
                n_bins - 1)
    total = w.sum()
    out = 0.0
    for k in range(n_bins):
        m = b == k
        if m.sum() < 2:
            continue
        sw = w[m].sum()
        abar = (w[m] * a[m]).sum() / sw
        cbar = (w[m] * c[m]).sum() / sw
        var = m.sum() / (m.sum() - 1) * (w[m] ** 2 * (a[m] - abar) ** 2).sum() / sw ** 2
        out += sw / total * ((abar - cbar) ** 2 - var)
    return np.sqrt(max(out, 0.0))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 200), n_bins=st.integers(1, 12),
       soft=st.booleans(), weighted=st.booleans(), float32=st.booleans())
def test_debiased_ece_matches_numpy_reference(seed, n, n_bins, soft, weighted, float32):
    rng = np.random.default_rng(seed)
    K = 3
    p = random_probs(rng, n, K, dtype=np.float32 if float32 else np.float64)
    y = random_probs(rng, n, K, "grid") if soft else rng.integers(0, K, n)
    w = rng.uniform(0, 2, n) if weighted else None
    if w is not None and w.sum() == 0:
        w[0] = 1.0
    pd = p.astype(np.float64)
    pred = pd.argmax(axis=1)
    t = y if soft else np.eye(K)[y]
    a = t[np.arange(n), pred]
    ww = np.ones(n) if w is None else w
    want = _debiased_reference(a, pd.max(axis=1), ww, n_bins)
    got = M.expected_calibration_error(y, p, n_bins=n_bins, norm="l2", debias=True,
                                       sample_weight=w)
    assert got == pytest.approx(want, abs=1e-9)
    want_cls = np.mean([_debiased_reference(t[:, k], pd[:, k], ww, n_bins) for k in range(K)])
    got_cls = M.classwise_calibration_error(y, p, n_bins=n_bins, norm="l2", debias=True,
                                            sample_weight=w)
    assert got_cls == pytest.approx(want_cls, abs=1e-9)
    rep = M.calibration_report(y, p, n_bins=n_bins, sample_weight=w)
    assert rep["rmsce_debiased"] == pytest.approx(want, abs=1e-9)
    assert rep["classwise_rmsce_debiased"] == pytest.approx(want_cls, abs=1e-9)


def test_one_hot_soft_targets_equal_hard_labels():
    rng = np.random.default_rng(3)
    p = random_probs(rng, 500, 4)
    y = rng.integers(0, 4, 500)
    hard = M.calibration_report(y, p)
    soft = M.calibration_report(np.eye(4)[y], p)
    for key in ("rmsce_debiased", "classwise_rmsce_debiased", "signed_ece", "ece_over",
                "ece_under"):
        assert soft[key] == pytest.approx(hard[key], abs=1e-12), key


def test_debiased_ece_is_unbiased_where_plain_ece_is_not():
    # perfectly calibrated predictions: the debiased squared error (the weighted sum of the bin
    # terms, before the clipping at 0 and the square root) averages 0 within 2 standard errors
    # over many draws, while the plain squared error is far above 0
    from sksoft.metrics._formulas import _debiased_terms, hard_variance

    rng = np.random.default_rng(1)
    vals, plain = [], []
    for _ in range(600):
        q = rng.uniform(0, 1, 200)
        y = (rng.uniform(0, 1, 200) < q).astype(int)
        p = np.column_stack([1 - q, q])
        stats = M.CalibrationStats(2, n_bins=10).update(y, p)
        hist = stats.top[0]
        count = hist[:, 0]
        gap = np.where(count > 0, (hist[:, 1] - hist[:, 2]) / np.where(count > 0, count, 1), 0)
        terms = _debiased_terms(hist, hard_variance(hist), gap * gap)
        vals.append((count / count.sum() * terms).sum())
        plain.append((count / count.sum() * gap * gap).sum())
    vals, plain = np.asarray(vals), np.asarray(plain)
    assert abs(vals.mean()) < 2 * vals.std(ddof=1) / np.sqrt(vals.size)
    assert plain.mean() > 20 * plain.std(ddof=1) / np.sqrt(plain.size)


def test_signed_ece_and_its_split():
    rng = np.random.default_rng(2)
    p = random_probs(rng, 2000, 3, "peaked")
    y = rng.integers(0, 3, 2000)
    rep = M.calibration_report(y, p, n_bins=10)
    assert rep["ece"] == pytest.approx(rep["ece_over"] + rep["ece_under"], abs=1e-15)
    assert rep["signed_ece"] == pytest.approx(rep["ece_over"] - rep["ece_under"], abs=1e-15)
    assert rep["signed_ece"] > 0  # random labels: over-confident
    # an under-confident model: all probabilities pulled to uniform, labels from the argmax
    flat = 0.5 * p + 0.5 / 3
    rep = M.calibration_report(p.argmax(axis=1), flat, n_bins=10)
    assert rep["signed_ece"] < 0 and rep["ece_over"] == 0
    # against a numpy reference
    conf = flat.max(axis=1)
    b = np.clip(np.searchsorted(np.linspace(0, 1, 11), conf, side="right") - 1, 0, 9)
    signed = sum(np.sum(conf[b == k] - 1.0) for k in range(10)) / 2000
    assert rep["signed_ece"] == pytest.approx(signed, abs=1e-12)


def test_debias_needs_the_l2_norm():
    p = np.array([[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(ValueError, match="norm"):
        M.expected_calibration_error([0, 1], p, debias=True)
    with pytest.raises(TypeError, match="debias"):
        M.expected_calibration_error([0, 1], p, norm="l2", debias="yes")
