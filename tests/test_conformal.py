"""Conformal prediction sets (sksoft.conformal) and their metrics (coverage, set size).

The many-seed tests check the guarantees where the truth is known: split conformal coverage
on exchangeable data equals ``ceil((n + 1)(1 - alpha)) / (n + 1)`` (continuous scores), and
Monte Carlo conformal prediction covers labels drawn from the true ``P(y | x)`` at ``1 -
alpha``; their tolerances are a few standard errors of the mean over seeds, small enough that
an off-by-one in the conformal quantile fails them.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksoft import _conformal as _cp
from sksoft.conformal import (
    ConformalClassifier,
    apply_conformal_threshold,
    fit_conformal_threshold,
    nonconformity_scores,
)
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import (
    bootstrap_weights,
    coverage_score,
    get_scorer,
    mean_set_size,
    size_stratified_coverage,
)


# --------------------------------------------------------------------------- references
def ref_scores(P, score, u=None, k_reg=1, lam=0.0):
    """Plain per-row loop: THR, APS, RAPS scores (ties by column order)."""
    n, K = P.shape
    out = np.empty((n, K))
    for i in range(n):
        order = sorted(range(K), key=lambda k: (-P[i, k], k))
        for r, k in enumerate(order):
            if score == "thr":
                out[i, k] = 1 - P[i, k]
                continue
            above = sum(P[i, j] for j in order[:r])
            v = above + (1.0 if u is None else u[i]) * P[i, k]
            if score == "raps":
                v += lam * max(0, r + 1 - k_reg)
            out[i, k] = v
    return out


def ref_threshold(cal_scores, alpha):
    n = cal_scores.shape[0]
    k = int(np.ceil((n + 1) * (1 - alpha) - 1e-9))
    return np.inf if k > n else np.sort(cal_scores)[k - 1]


def calibrated(rng, n, K=4, conc=0.7):
    P = rng.dirichlet(np.full(K, conc), size=n)
    return P, _cp.sample_labels(P, 1, rng)[0]


# --------------------------------------------------------------------------- scores
@pytest.mark.parametrize("score", ["thr", "aps", "raps"])
@pytest.mark.parametrize("randomized", [False, True])
def test_scores_match_a_per_row_loop(score, randomized):
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(5) * 0.5, size=40)
    P[0] = [0.4, 0.2, 0.2, 0.2, 0.0]  # ties
    u = rng.uniform(size=40) if randomized else None
    got = _cp.nonconformity(P, score, u, 2, 0.05)
    np.testing.assert_allclose(got, ref_scores(P, score, u, 2, 0.05), atol=1e-12)


def test_public_scores_are_seeded_and_do_not_modify_input():
    P = np.random.default_rng(0).dirichlet(np.ones(3), size=10)
    P.setflags(write=False)
    a = nonconformity_scores(P, conformity_score="aps", randomized=True, random_state=1)
    b = nonconformity_scores(P, conformity_score="aps", randomized=True, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nonconformity_scores(P, conformity_score="aps"))


def test_split_threshold_is_the_conformal_quantile():
    rng = np.random.default_rng(0)
    for n in (1, 5, 9, 19, 100, 333):
        s = rng.uniform(size=n)
        for alpha in (0.01, 0.05, 0.1, 0.2, 0.5, 0.9):
            assert _cp.split_threshold(np.sort(s), alpha) == ref_threshold(s, alpha)


def test_thr_sets_equal_mapie():
    mapie = pytest.importorskip("mapie.classification")

    class Identity(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.arange(np.shape(X)[1])
            self.n_features_in_ = np.shape(X)[1]
            return self

        def predict_proba(self, X):
            return np.asarray(X)

        def predict(self, X):
            return np.argmax(X, axis=1)

    for seed, K, n in ((0, 3, 150), (1, 4, 301), (2, 10, 999)):
        rng = np.random.default_rng(seed)
        Pc, yc = calibrated(rng, n, K)
        Pt = rng.dirichlet(np.full(K, 0.7), size=400)
        est = Identity().fit(Pc, yc)
        for alpha in (0.05, 0.1, 0.25):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = mapie.SplitConformalClassifier(est, confidence_level=1 - alpha,
                                                   conformity_score="lac", prefit=True)
                m.conformalize(Pc, yc)
                theirs = m.predict_set(Pt)[1][:, :, 0]
            ours = apply_conformal_threshold(Pt, fit_conformal_threshold(yc, Pc, alpha=alpha))
            np.testing.assert_array_equal(ours, theirs)


def test_aps_label_scores_equal_mapie():
    aps = pytest.importorskip("mapie.conformity_scores")
    rng = np.random.default_rng(0)
    P, y = calibrated(rng, 200, 5)
    cum, _ = aps.APSConformityScore.get_true_label_cumsum_proba(y, P, np.arange(5))
    ours = _cp.label_scores(nonconformity_scores(P, conformity_score="aps"), y)
    np.testing.assert_allclose(ours, np.ravel(cum), atol=1e-12)


@pytest.mark.parametrize("score", ["thr", "aps", "raps"])
def test_sets_match_a_numpy_reimplementation(score):
    rng = np.random.default_rng(7)
    Pc, yc = calibrated(rng, 250, 6)
    Pt = rng.dirichlet(np.full(6, 0.7), size=100)
    for alpha in (0.05, 0.1, 0.3):
        t = fit_conformal_threshold(yc, Pc, alpha=alpha, conformity_score=score, k_reg=2,
                                    lambda_reg=0.1)
        q = ref_threshold(ref_scores(Pc, score, None, 2, 0.1)[np.arange(250), yc], alpha)
        assert t == pytest.approx(q, abs=1e-12)
        sets = apply_conformal_threshold(Pt, t, conformity_score=score, k_reg=2,
                                         lambda_reg=0.1)
        np.testing.assert_array_equal(sets, ref_scores(Pt, score, None, 2, 0.1) <= q + 1e-12)


# --------------------------------------------------------------------------- guarantees
N_SEEDS = 2000


@pytest.mark.parametrize("score, randomized", [("thr", False), ("aps", True), ("raps", False)])
def test_marginal_coverage_over_seeds(score, randomized):
    """Exchangeable calibrated data: the coverage is exactly k / (n + 1) in expectation.

    Vectorised over seeds: the scores of every seed in one call of the kernel, then the
    threshold of each seed's calibration scores.
    """
    n, n_test, alpha, K = 99, 100, 0.1, 4
    rng = np.random.default_rng(12345)
    P = rng.dirichlet(np.full(K, 0.7), size=N_SEEDS * (n + n_test))
    y = _cp.sample_labels(P, 1, rng)[0]
    u = rng.uniform(size=P.shape[0]) if randomized else None
    S = _cp.label_scores(_cp.nonconformity(P, score, u, 1, 0.01), y).reshape(N_SEEDS, -1)
    cal = np.sort(S[:, :n], axis=1)
    t = np.array([_cp.split_threshold(row, alpha) for row in cal])
    cov = (S[:, n:] <= t[:, None]).mean(axis=1)
    expected = np.ceil((n + 1) * (1 - alpha)) / (n + 1)  # 0.9; an off-by-one moves it 0.01
    se = cov.std(ddof=1) / np.sqrt(N_SEEDS)
    assert abs(cov.mean() - expected) < 4 * se, (cov.mean(), expected, se)
    assert 4 * se < 1 / (n + 1)


def _ambiguous(rng, n, K=4, shape=()):
    """True P(y | x) (ambiguous) and a model that is over-confident about it."""
    lam = rng.dirichlet(np.full(K, 0.8), size=shape + (n,))
    logits = 2.0 * np.log(lam + 1e-3) + 0.3 * rng.normal(size=lam.shape)
    P = np.exp(logits - logits.max(-1, keepdims=True))
    return lam, P / P.sum(-1, keepdims=True)


def test_monte_carlo_covers_labels_drawn_from_the_true_distribution():
    from sksoft.conformal import _calibrate

    n, n_test, alpha, K, seeds = 200, 100, 0.1, 4, 400
    rng = np.random.default_rng(2024)
    lam, P = _ambiguous(rng, n + n_test, K, shape=(seeds,))
    y_test = _cp.sample_labels(lam[:, n:].reshape(-1, K), 1, rng)[0].reshape(seeds, n_test)
    cov = {k: np.empty(seeds) for k in ("ecdf", "m1", "plurality", "mass", "raw")}
    rows = np.arange(n_test)
    for s in range(seeds):
        S_test = 1.0 - P[s, n:]

        def cover(soft="monte_carlo", n_samples=10, correction="ecdf"):
            cal = _calibrate(lam[s, :n], P[s, :n], conformity_score="thr", randomized=False,
                             k_reg=1, lambda_reg=0.0, soft=soft, n_samples=n_samples,
                             correction=correction, ecdf_fraction=0.5,
                             rng=np.random.default_rng(s))
            return S_test <= cal.threshold(alpha)

        sets = cover()
        cov["ecdf"][s] = sets[rows, y_test[s]].mean()
        cov["mass"][s] = (lam[s, n:] * sets).sum(1).mean()
        cov["m1"][s] = cover(n_samples=1, correction=None)[rows, y_test[s]].mean()
        cov["raw"][s] = cover(correction=None)[rows, y_test[s]].mean()
        cov["plurality"][s] = cover(soft="plurality")[rows, y_test[s]].mean()
    se = {k: v.std(ddof=1) / np.sqrt(seeds) for k, v in cov.items()}
    for key in ("ecdf", "mass", "m1"):
        assert cov[key].mean() >= 1 - alpha - 3.5 * se[key], (key, cov[key].mean())
    assert cov["raw"].mean() >= 1 - 2 * alpha - 3.5 * se["raw"]
    # sets calibrated to one plurality label per item do not cover the human labels
    assert cov["plurality"].mean() < 1 - alpha - 5 * se["plurality"], cov["plurality"].mean()
    # and the guarantee is not met by trivially full sets
    assert cov["ecdf"].mean() < 0.97


def test_ecdf_and_plain_monte_carlo_thresholds_match_pvalue_definitions():
    """The count-based thresholds equal the sets of the p-values computed directly."""
    rng = np.random.default_rng(5)
    lam, P = _ambiguous(rng, 120, 3)
    Pt = _ambiguous(rng, 50, 3)[1]
    S_cal, S_test = 1 - P, 1 - Pt
    m, alpha = 7, 0.1
    gen = np.random.default_rng(9)
    codes = _cp.sample_labels(lam, m, gen)
    pool = np.concatenate([S_cal[np.arange(120), c] for c in codes])
    # averaged p-value of every test class
    pbar = np.mean([(1 + (S_cal[np.arange(120), c][None, None, :] >= S_test[:, :, None])
                     .sum(-1)) / 121 for c in codes], axis=0)
    t = _cp.mc_threshold(np.sort(pool), 120, m, alpha)
    np.testing.assert_array_equal(S_test <= t, pbar > alpha)
    # ECDF correction with held-out averaged p-values
    est_scores = rng.uniform(size=60)
    est_p = np.mean([(1 + (S_cal[np.arange(120), c][None, :] >= est_scores[:, None])
                      .sum(-1)) / 121 for c in codes], axis=0)
    corrected = (1 + (est_p[None, None, :] <= pbar[:, :, None]).sum(-1)) / 61
    t = _cp.mc_ecdf_threshold(np.sort(pool), _cp.mc_counts(np.sort(pool), est_scores), alpha)
    np.testing.assert_array_equal(S_test <= t, corrected > alpha)


def test_one_hot_rows_are_hard_labels_and_seeds_reproduce():
    rng = np.random.default_rng(0)
    P, y = calibrated(rng, 300, 3)
    onehot = np.eye(3)[y]
    assert fit_conformal_threshold(onehot, P) == fit_conformal_threshold(y, P)
    lam, P = _ambiguous(rng, 300, 3)
    assert fit_conformal_threshold(lam, P, random_state=3) == \
        fit_conformal_threshold(lam, P, random_state=3)


def test_too_few_items_give_full_sets():
    P, y = calibrated(np.random.default_rng(0), 5, 3)
    t = fit_conformal_threshold(y, P, alpha=0.1)
    assert t == np.inf and apply_conformal_threshold(P, t).all()
    with pytest.raises(ValueError, match="ecdf_fraction"):
        fit_conformal_threshold(P, P, ecdf_fraction=0.01)


# --------------------------------------------------------------------------- the estimator
def _data(n=600, seed=0, K=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logits = X @ rng.normal(size=(4, K))
    H = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = _cp.sample_labels(H, 1, rng)[0]
    return X, y, H


def test_prefit_and_passthrough_equal_the_functions():
    X, y, H = _data()
    clf = SoftLogisticRegression().fit(X[:300], y[:300])
    P = clf.predict_proba(X[300:450])
    for kw in ({}, {"conformity_score": "aps"}, {"conformity_score": "raps", "k_reg": 2}):
        t = fit_conformal_threshold(y[300:450], P, alpha=0.2, **kw)
        expect = apply_conformal_threshold(clf.predict_proba(X[450:]), t, **kw)
        cp = ConformalClassifier(clf, cv="prefit", alpha=0.2, **kw).fit(X[300:450], y[300:450])
        np.testing.assert_array_equal(cp.predict_set(X[450:]), expect)
        assert cp.threshold_ == t
        pt = ConformalClassifier("passthrough", alpha=0.2, **kw).fit(P, y[300:450])
        np.testing.assert_array_equal(pt.predict_set(clf.predict_proba(X[450:])), expect)
    np.testing.assert_allclose(cp.predict_proba(X[:5]), clf.predict_proba(X[:5]))


def test_calibration_targets():
    X, y, H = _data()
    P = SoftLogisticRegression().fit(X[:300], y[:300]).predict_proba(X[300:])
    kw = {"alpha": 0.1, "random_state": 0}
    human = ConformalClassifier("passthrough", calibrate_to="human", **kw).fit(
        P, y[300:], soft_labels=H[300:])
    assert human.threshold_ == fit_conformal_threshold(H[300:], P, **kw)
    soft_y = ConformalClassifier("passthrough", **kw).fit(P, H[300:])
    assert soft_y.threshold_ == human.threshold_
    plural = ConformalClassifier("passthrough", calibrate_to="plurality", **kw).fit(
        P, y[300:], soft_labels=H[300:])
    assert plural.threshold_ == fit_conformal_threshold(H[300:].argmax(1), P, alpha=0.1)
    with pytest.raises(ValueError, match="soft_labels"):
        ConformalClassifier("passthrough", calibrate_to="human").fit(P, y[300:])


def test_split_predict_set_alpha_and_reproducibility():
    X, y, H = _data()
    cp = ConformalClassifier(random_state=0, calibration_size=0.4).fit(X, y, soft_labels=H)
    assert cp.calibration_scores_.shape == (240,)
    again = ConformalClassifier(random_state=0, calibration_size=0.4).fit(X, y)
    np.testing.assert_array_equal(cp.predict_set(X), again.predict_set(X))
    wide, narrow = cp.predict_set(X, alpha=0.05), cp.predict_set(X, alpha=0.3)
    assert np.all(wide >= narrow) and wide.sum() > narrow.sum()
    with pytest.raises(ValueError, match="alpha"):
        cp.predict_set(X, alpha=1.5)
    with pytest.raises(TypeError, match="sample_weight"):
        ConformalClassifier("passthrough").fit(cp.predict_proba(X), y, sample_weight=np.ones(600))
    r = ConformalClassifier(conformity_score="aps", randomized=True, random_state=1).fit(X, y)
    np.testing.assert_array_equal(r.predict_set(X), r.predict_set(X))


@parametrize_with_checks([ConformalClassifier(random_state=0)],
                         expected_failed_checks=lambda est: {
                             "check_sample_weight_equivalence_on_dense_data":
                             "the calibration split of repeated rows differs from the split "
                             "of the weighted rows",
                             "check_sample_weight_equivalence_on_sparse_data":
                             "the calibration split of repeated rows differs from the split "
                             "of the weighted rows"})
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


# --------------------------------------------------------------------------- metrics
def test_coverage_and_size_against_numpy():
    rng = np.random.default_rng(0)
    S = rng.uniform(size=(50, 4)) < 0.5
    y = rng.integers(0, 4, 50)
    H = rng.dirichlet(np.ones(4), size=50)
    w = rng.uniform(size=50)
    assert coverage_score(y, S) == pytest.approx(S[np.arange(50), y].mean())
    assert coverage_score(H, S) == pytest.approx((H * S).sum(1).mean())
    assert coverage_score(H, S, sample_weight=w) == pytest.approx(
        np.average((H * S).sum(1), weights=w))
    assert mean_set_size(S) == pytest.approx(S.sum(1).mean())
    assert coverage_score(np.array(list("abcd"))[y], S, labels=list("abcd")) == \
        coverage_score(y, S)
    g = np.arange(50) % 3
    per = mean_set_size(S, groups=g)
    assert per == {k: pytest.approx(S[g == k].sum(1).mean()) for k in range(3)}
    ssc = size_stratified_coverage(y, S)
    size = S.sum(1)
    for s, c, n in zip(ssc.sizes, ssc.coverage, ssc.counts):
        assert n == np.sum(size == s)
        assert c == pytest.approx(S[size == s][np.arange(n), y[size == s]].mean())
    assert ssc.worst == min(ssc.coverage)
    per_group = size_stratified_coverage(y, S, groups=g)
    for k in range(3):
        sub = size_stratified_coverage(y[g == k], S[g == k])
        assert per_group[k].sizes.tolist() == sub.sizes.tolist()
        assert per_group[k].coverage == pytest.approx(sub.coverage)
        assert per_group[k].counts.tolist() == sub.counts.tolist()


def test_bootstrap_interval_uses_the_poisson_weights():
    rng = np.random.default_rng(1)
    S = rng.uniform(size=(80, 3)) < 0.6
    H = rng.dirichlet(np.ones(3), size=80)
    est = coverage_score(H, S, n_bootstrap=200, random_state=4)
    W = bootstrap_weights(80, 200, random_state=4).astype(float)
    v = (H * S).sum(1)
    rep = W @ v / W.sum(1)
    assert float(est) == pytest.approx(v.mean())
    assert est.low == pytest.approx(np.percentile(rep, 2.5))
    assert est.high == pytest.approx(np.percentile(rep, 97.5))
    assert est.se == pytest.approx(rep.std(ddof=1))
    ssc = size_stratified_coverage(H, S, n_bootstrap=50, random_state=0)
    assert all(c.low <= float(c) <= c.high for c in ssc.coverage if np.isfinite(c.low))
    # per group, every row keeps its weights: the intervals are those of the rows' replicates
    g = np.arange(80) % 2
    per = coverage_score(H, S, groups=g, n_bootstrap=200, random_state=4)
    rep0 = (W[:, g == 0] @ v[g == 0]) / W[:, g == 0].sum(1)
    assert per[0].low == pytest.approx(np.percentile(rep0, 2.5))


def test_bad_sets_are_rejected():
    with pytest.raises(TypeError, match="y_set"):
        mean_set_size(np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="y_set"):
        mean_set_size(np.array([[2, 0]]))
    with pytest.raises(ValueError, match="y_set"):
        mean_set_size(np.array([True, False]))
    with pytest.raises(ValueError, match="samples"):
        coverage_score([0, 1], np.ones((3, 2), dtype=bool))


def test_set_scorers():
    import sklearn
    from sklearn.model_selection import cross_validate

    X, y, H = _data(n=400)
    cp = ConformalClassifier(random_state=0).fit(X[:200], y[:200])
    sets = cp.predict_set(X[200:])
    assert get_scorer("coverage")(cp, X[200:], y[200:]) == coverage_score(y[200:], sets)
    assert get_scorer("neg_mean_set_size")(cp, X[200:], y[200:]) == -mean_set_size(sets)
    assert get_scorer("human_coverage")(cp, X[200:], H[200:]) == coverage_score(H[200:], sets)
    with sklearn.config_context(enable_metadata_routing=True):
        res = cross_validate(ConformalClassifier(random_state=0), X, y, cv=3,
                             scoring={"c": get_scorer("human_coverage")},
                             params={"soft_labels": H})
    assert res["test_c"].shape == (3,) and np.all((res["test_c"] > 0.5) & (res["test_c"] <= 1))


# --------------------------------------------------------------------------- hypothesis
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402


@st.composite
def _prob_rows(draw):
    n = draw(st.integers(1, 12))
    K = draw(st.integers(2, 5))
    raw = draw(arrays(np.float64, (n, K), elements=st.floats(0, 1)))
    raw[:, 0] += 1e-3  # rows with some mass
    # coarse values give ties in the ranking
    raw = np.round(raw * draw(st.sampled_from([4, 1000])), 0) + (raw > 0)
    return raw / raw.sum(1, keepdims=True)


@settings(max_examples=60, deadline=None)
@given(P=_prob_rows(), score=st.sampled_from(["thr", "aps", "raps"]),
       k_reg=st.integers(0, 3), alpha=st.floats(0.01, 0.99))
def test_hypothesis_scores_thresholds_and_sets(P, score, k_reg, alpha):
    S = _cp.nonconformity(P, score, None, k_reg, 0.1)
    np.testing.assert_allclose(S, ref_scores(P, score, None, k_reg, 0.1), atol=1e-12)
    y = np.argmax(P, axis=1)
    t = fit_conformal_threshold(y, P, alpha=alpha, conformity_score=score, k_reg=k_reg,
                                lambda_reg=0.1)
    q = ref_threshold(S[np.arange(len(y)), y], alpha)
    assert t == q
    sets = apply_conformal_threshold(P, t, conformity_score=score, k_reg=k_reg, lambda_reg=0.1)
    np.testing.assert_array_equal(sets, S <= q)
    # on the calibration data itself, at least ceil((n + 1)(1 - alpha)) - 1 labels are covered
    assert sets[np.arange(len(y)), y].sum() >= min(len(y), np.ceil((len(y) + 1) * (1 - alpha)))
    H = P[::-1]
    np.testing.assert_allclose(coverage_score(H, sets), (H * sets).sum(1).mean())


def test_read_only_and_non_contiguous_inputs():
    rng = np.random.default_rng(0)
    P, y = calibrated(rng, 200, 4)
    F = np.asfortranarray(P)
    F.setflags(write=False)
    wide = np.zeros((200, 8))
    wide[:, ::2] = P
    strided = wide[:, ::2]
    H = rng.dirichlet(np.ones(4), size=200)
    for Q in (F, strided):
        assert fit_conformal_threshold(y, Q) == fit_conformal_threshold(y, P)
        assert fit_conformal_threshold(H, Q, random_state=0) == \
            fit_conformal_threshold(H, P, random_state=0)
        np.testing.assert_array_equal(apply_conformal_threshold(Q, 0.5),
                                      apply_conformal_threshold(P, 0.5))
    sets = apply_conformal_threshold(P, 0.5)
    ro = np.asfortranarray(sets)
    ro.setflags(write=False)
    assert coverage_score(H, ro) == coverage_score(H, sets)
    assert np.array_equal(F, P)
