"""The report's extended estimators, the isotonic reliability route, scorers and plots."""

import numpy as np
import pytest

from conftest import random_probs
from sksoft import metrics as M


def _data(seed=0, n=800, K=3):
    rng = np.random.default_rng(seed)
    return rng, random_probs(rng, n, K), rng.integers(0, K, n)


def test_extended_report_equals_the_functions_overall_and_per_group():
    rng, p, y = _data()
    groups = rng.integers(0, 3, p.shape[0])
    w = rng.uniform(0.5, 2, p.shape[0])
    rep = M.calibration_report(y, p, groups=groups, sample_weight=w, extended=True)
    for key, m in [(None, rep.overall)] + list(rep.groups.items()):
        rows = np.ones(p.shape[0], bool) if key is None else groups == key
        kw = dict(sample_weight=w[rows], mode="top-label")
        assert m["smooth_ece"] == pytest.approx(
            M.smooth_calibration_error(y[rows], p[rows], **kw), rel=1e-12)
        for score in ("brier", "log"):
            d = M.score_decomposition(y[rows], p[rows], score=score, **kw)
            assert (m[f"{score}_mcb"], m[f"{score}_dsc"], m[f"{score}_unc"]) == pytest.approx(
                (d.mcb, d.dsc, d.unc), rel=1e-12)
    assert "smooth_ece" not in M.calibration_report(y, p)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extended_log_decomposition_clips_like_the_cross_entropy(dtype):
    # a wrong prediction made with confidence exactly 1 (an over-fitted network's softmax
    # rounds to it): the NLL is large and finite, and so is the log score's MCB
    p = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.3], [0.2, 0.8], [0.4, 0.6]], dtype=dtype)
    y = np.array([1, 1, 0, 1, 0])
    eps = float(np.finfo(dtype).eps)
    rep = M.calibration_report(y, p, extended=True)
    assert np.isfinite(rep["log_mcb"]) and np.isfinite(rep["cross_entropy"])
    d = M.score_decomposition(y, p, score="log", mode="top-label", eps=eps)
    assert (rep["log_mcb"], rep["log_dsc"], rep["log_unc"]) == pytest.approx(
        (d.mcb, d.dsc, d.unc), rel=1e-12)
    # unclipped (the function's default, as model-diagnostics) it is infinite
    assert np.isinf(M.score_decomposition(y, p, score="log", mode="top-label").mcb)
    # a report's own eps is the one used
    rep2 = M.calibration_report(y, p, extended=True, eps=1e-3)
    d2 = M.score_decomposition(y, p, score="log", mode="top-label", eps=1e-3)
    assert rep2["log_mcb"] == pytest.approx(d2.mcb, rel=1e-12)


def test_extended_report_intervals_and_out_of_core_refusal():
    da = pytest.importorskip("dask.array")

    rng, p, y = _data(1, 400)
    rep = M.calibration_report(y, p, extended=True, n_bootstrap=30, random_state=0)
    for key in ("smooth_ece", "brier_mcb", "log_dsc"):
        assert rep[key].low <= rep[key] <= rep[key].high, key
    with pytest.raises(ValueError, match="extended"):
        M.calibration_report(y, da.from_array(p, chunks=(100, 3)), extended=True)


def test_reliability_curve_isotonic_route():
    rng, p, y = _data(2)
    curve = M.reliability_curve(y, p, strategy="isotonic", n_bootstrap=200, confidence=0.9,
                                random_state=0)
    want = M.isotonic_reliability_curve(y, p, mode="top-label", n_bootstrap=200,
                                        confidence=0.9, random_state=0)
    np.testing.assert_array_equal(curve.accuracy, want.accuracy)
    np.testing.assert_array_equal(curve.lower, want.lower)
    assert M.reliability_curve(y, p, strategy="isotonic").lower is None


def test_new_scorers():
    from sklearn.linear_model import LogisticRegression

    rng, p, y = _data(3)
    X = rng.normal(size=(p.shape[0], 4))
    clf = LogisticRegression().fit(X, y)
    P = clf.predict_proba(X)
    cases = {
        "neg_debiased_calibration_error": M.expected_calibration_error(y, P, norm="l2",
                                                                       debias=True),
        "neg_smooth_calibration_error": M.smooth_calibration_error(y, P),
        "neg_miscalibration_brier": M.score_decomposition(y, P, score="brier").mcb,
        "gold_neg_miscalibration_log": M.score_decomposition(y, P, score="log").mcb,
    }
    for name, value in cases.items():
        assert M.get_scorer(name)(clf, X, y) == pytest.approx(-value), name
    soft = random_probs(rng, p.shape[0], 3, "grid")
    assert M.get_scorer("human_neg_smooth_calibration_error")(clf, X, y, soft_labels=soft) \
        == pytest.approx(-M.smooth_calibration_error(soft, P))


def test_plot_reliability_diagram_draws_every_curve():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sksoft.plotting import plot_reliability_diagram

    rng, p, y = _data(4)
    curves = [M.reliability_curve(y, p, n_bins=8, n_bootstrap=200, confidence=0.95),
              M.reliability_curve(y, p, strategy="isotonic", n_bootstrap=200, confidence=0.9,
                                  random_state=0),
              M.smooth_reliability_curve(y, p)]
    for curve in curves:
        ax, hist = plot_reliability_diagram(curve, label="model")
        assert len(ax.lines) >= 2 and hist is not None
        plt.close("all")
    fig, ax = plt.subplots()
    plot_reliability_diagram(curves[0], ax=ax, counts=False)
    assert len(ax.collections) == 1  # the band
    plt.close("all")
    with pytest.raises(TypeError, match="curve"):
        plot_reliability_diagram(np.zeros(3))
