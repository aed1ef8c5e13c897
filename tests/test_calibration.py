"""Recalibrators: oracles, numpy references, properties, routing and the estimator contract."""

import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksoft.calibration import (
    DirichletCalibration,
    IsotonicCalibration,
    TemperatureScaling,
    VectorScaling,
    apply_dirichlet_calibration,
    apply_isotonic_calibration,
    apply_temperature,
    apply_vector_scaling,
    fit_dirichlet_calibration,
    fit_isotonic_calibration,
    fit_temperature,
    fit_vector_scaling,
)
from sksoft.label_sources import HumanSoftLabels
from sksoft.linear_model import SoftLogisticRegression
from sksoft.model_selection import cross_val_predict_proba

hyp = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CALIBRATORS = [TemperatureScaling, VectorScaling, DirichletCalibration, IsotonicCalibration]


# --------------------------------------------------------------------------- data
def miscalibrated(n=2000, K=3, seed=0, conf=2.5, annotators=20):
    """(P, y, H): an over-confident, biased model's probabilities, gold labels drawn from the
    true distribution, and human soft labels (votes of `annotators` people)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, K)) * 1.5
    T = softmax(Z, axis=1)
    y = (T.cumsum(axis=1) > rng.uniform(size=(n, 1))).argmax(axis=1)
    H = np.array([rng.multinomial(annotators, t) for t in T]) / annotators
    P = softmax(conf * Z + rng.normal(size=K) + 0.3 * rng.normal(size=(n, K)), axis=1)
    return P, y, H


def nll(Y, P):
    """Plain numpy soft cross-entropy (the held-out criterion)."""
    return float(-np.mean(np.sum(Y * np.log(np.clip(P, 1e-300, None)), axis=1)))


def one_hot(y, K):
    return np.eye(K)[y]


class FixedProba(ClassifierMixin, BaseEstimator):
    """A 'model' whose predict_proba returns its input: wraps saved probabilities."""

    def fit(self, X, y=None):
        self.classes_ = np.arange(np.shape(X)[1])
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=np.float64)

    def predict(self, X):
        return np.asarray(X).argmax(axis=1)


def _fit_map(name, Y, P, w=None):
    """Fit one named map with the functions and return the function applying it."""
    if name == "temperature":
        t = fit_temperature(Y, P, sample_weight=w)
        return lambda Q: apply_temperature(Q, t)
    if name == "vector":
        s, b = fit_vector_scaling(Y, P, sample_weight=w)
        return lambda Q: apply_vector_scaling(Q, s, b)
    if name == "dirichlet":
        W, b = fit_dirichlet_calibration(Y, P, sample_weight=w)
        return lambda Q: apply_dirichlet_calibration(Q, W, b)
    th = fit_isotonic_calibration(Y, P, sample_weight=w)
    return lambda Q: apply_isotonic_calibration(Q, th)


MAPS = ["temperature", "vector", "dirichlet", "isotonic"]


# --------------------------------------------------------------------------- the routing defect
def test_temperature_scaling_accepts_routed_soft_labels():
    """Failed before: TemperatureScaling requested soft_labels but its fit had no such
    parameter (TypeError under metadata routing)."""
    P, y, H = miscalibrated(n=300, K=3, seed=1)
    X = np.log(P) + np.random.default_rng(0).normal(size=P.shape)
    with sklearn.config_context(enable_metadata_routing=True):
        res = cross_validate(TemperatureScaling(cv=3), X, y, params={"soft_labels": H}, cv=3,
                             error_score="raise")
        assert np.all(np.isfinite(res["test_score"]))
        # and the human labels are used when asked for
        res = cross_validate(TemperatureScaling(cv=3, calibrate_to="human"), X, y,
                             params={"soft_labels": H}, cv=3, error_score="raise")
        assert np.all(np.isfinite(res["test_score"]))


@pytest.mark.parametrize("routing", [False, True])
def test_soft_labels_reach_the_estimator_and_the_map(routing):
    P, y, H = miscalibrated(n=400, K=3, seed=2)
    X = np.log(P)
    src = SoftLogisticRegression(label_source=HumanSoftLabels())
    splits = list(StratifiedKFold(3).split(X, y))
    with sklearn.config_context(enable_metadata_routing=routing):
        ts = TemperatureScaling(src, cv=splits, calibrate_to="human").fit(X, y, soft_labels=H)
        # the estimator was trained by its label source on H ...
        ref = clone(src).fit(X, y, soft_labels=H)
        np.testing.assert_allclose(ts.estimator_.coef_, ref.coef_)
        # ... and the map fitted to H on its out-of-fold probabilities
        oof = cross_val_predict_proba(src, X, y, cv=splits, params={"soft_labels": H})
    assert ts.temperature_ == pytest.approx(fit_temperature(H, oof), rel=1e-9)
    assert ts.temperature_ != pytest.approx(fit_temperature(y, oof), rel=1e-3)


class Spy(ClassifierMixin, BaseEstimator):
    """Records the keyword arguments of every fit (class-level log, survives clone)."""

    log = []

    def __init__(self, accept=True):
        self.accept = accept

    def fit(self, X, y, sample_weight=None, soft_labels=None, annotations=None):
        Spy.log.append({"n": len(X), "sample_weight": sample_weight, "soft_labels": soft_labels,
                        "annotations": annotations})
        self.classes_ = np.unique(y)
        self.lr_ = LogisticRegression().fit(X, y)
        return self

    def predict_proba(self, X):
        return self.lr_.predict_proba(X)


def test_routing_of_weights_soft_labels_and_annotations():
    P, y, H = miscalibrated(n=120, K=3, seed=3)
    X = np.log(P)
    A = np.random.default_rng(0).integers(0, 3, size=(120, 5)).astype(float)
    w = np.linspace(0.5, 2, 120)
    Spy.log.clear()
    VectorScaling(Spy(), cv=3).fit(X, y, sample_weight=w, soft_labels=H, annotations=A)
    assert len(Spy.log) == 4  # refit on all data + 3 folds
    assert Spy.log[0]["n"] == 120 and Spy.log[0]["annotations"] is A
    for rec in Spy.log[1:]:
        assert rec["n"] == 80 and rec["soft_labels"].shape == (80, 3)
        assert rec["sample_weight"].shape == (80,) and rec["annotations"].shape == (80, 5)
    # metadata routing: the estimator's own requests decide
    Spy.log.clear()
    with sklearn.config_context(enable_metadata_routing=True):
        spy = Spy().set_fit_request(sample_weight=True, soft_labels=False, annotations=True)
        VectorScaling(spy, cv=3, calibrate_to="human").fit(X, y, sample_weight=w, soft_labels=H,
                                                           annotations=A)
        assert all(r["soft_labels"] is None and r["sample_weight"] is not None
                   and r["annotations"] is not None for r in Spy.log)
        with pytest.raises(Exception, match="sample_weight"):  # unset request: sklearn's rule
            VectorScaling(Spy(), cv=3).fit(X, y, sample_weight=w)


def test_estimator_without_fit_params():
    P, y, H = miscalibrated(n=200, K=3, seed=4)
    X = np.log(P)
    w = np.ones(200)
    with pytest.warns(UserWarning, match="only fit the calibration map"):
        TemperatureScaling(KNNLike(), cv=3).fit(X, y, sample_weight=w)
    TemperatureScaling(KNNLike(), cv=3, calibrate_to="human").fit(X, y, soft_labels=H)
    with pytest.raises(TypeError, match="annotations"):
        TemperatureScaling(KNNLike(), cv=3).fit(X, y, annotations=np.zeros((200, 2)))
    with pytest.raises(TypeError, match="annotations"):
        TemperatureScaling("passthrough").fit(P, y, annotations=np.zeros((200, 2)))


class KNNLike(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.lr_ = LogisticRegression().fit(X, y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):
        return self.lr_.predict_proba(X)


# --------------------------------------------------------------------------- oracles: hard labels
@pytest.mark.filterwarnings("ignore:Since FrozenEstimator:UserWarning")
def test_temperature_matches_netcal_and_sklearn():
    netcal = pytest.importorskip("netcal.scaling")
    P, y, _ = miscalibrated(n=3000, K=4, seed=5)
    t = fit_temperature(y, P)
    ref = netcal.TemperatureScaling()
    ref.fit(P, y)
    np.testing.assert_allclose(apply_temperature(P, t), ref.transform(P), atol=1e-5)
    # weighted, against scikit-learn's temperature scaling of a frozen model
    w = np.random.default_rng(0).uniform(0.2, 3, len(y))
    cc = CalibratedClassifierCV(FrozenEstimator(FixedProba().fit(P)), method="temperature")
    cc.fit(P, y, sample_weight=w)
    tw = fit_temperature(y, P, sample_weight=w)
    np.testing.assert_allclose(apply_temperature(P, tw), cc.predict_proba(P), atol=1e-3)
    # and ours is the better minimiser of the same objective
    assert nll(one_hot(y, 4) * w[:, None] / w.mean(), apply_temperature(P, tw)) <= nll(
        one_hot(y, 4) * w[:, None] / w.mean(), cc.predict_proba(P)) + 1e-9


def test_temperature_matches_probmetrics():
    pm = pytest.importorskip("probmetrics.calibrators.temperature_scaling")
    P, y, _ = miscalibrated(n=3000, K=4, seed=6)
    ref = pm.TemperatureScalingCalibrator().fit(P, y)
    np.testing.assert_allclose(apply_temperature(P, fit_temperature(y, P)),
                               ref.predict_proba(P), atol=1e-5)


@pytest.mark.parametrize("K", [3, 5])
def test_vector_scaling_matches_netcal_and_probmetrics(K):
    netcal = pytest.importorskip("netcal.scaling")
    P, y, _ = miscalibrated(n=3000, K=K, seed=7)
    s, b = fit_vector_scaling(y, P)
    ours = apply_vector_scaling(P, s, b)
    ref = netcal.LogisticCalibration(temperature_only=False)
    ref.fit(P, y)
    np.testing.assert_allclose(ours, ref.transform(P), atol=1e-4)
    assert nll(one_hot(y, K), ours) <= nll(one_hot(y, K), ref.transform(P)) + 1e-9
    pm = pytest.importorskip("probmetrics.calibrators.logistic")
    ref2 = pm.VectorScalingCalibrator().fit(P, y)  # float32 BFGS: looser
    np.testing.assert_allclose(ours, ref2.predict_proba(P), atol=2e-3)
    assert nll(one_hot(y, K), ours) <= nll(one_hot(y, K), ref2.predict_proba(P)) + 1e-7


@pytest.mark.parametrize("K", [3, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_dirichlet_l2_is_logistic_regression_on_log_probs(K, weighted):
    P, y, _ = miscalibrated(n=1500, K=K, seed=8 + K)
    w = np.random.default_rng(1).uniform(0.2, 3, len(y)) if weighted else np.ones(len(y))
    C = 0.5
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(np.log(P), y, sample_weight=w)
    # sklearn: sum_i w_i CE_i + ||W||^2 / (2C); ours: mean + lambda / K^2 ||W||^2
    lam = K * K / (2 * C * w.sum())
    W, b = fit_dirichlet_calibration(y, P, sample_weight=w, reg_lambda=lam, reg_mu=0.0,
                                     penalty="l2")
    np.testing.assert_allclose(apply_dirichlet_calibration(P, W, b),
                               ref.predict_proba(np.log(P)), atol=1e-5)
    np.testing.assert_allclose(W, ref.coef_, atol=1e-3)


def test_dirichlet_binary_and_tiny_l2_is_logistic_regression():
    P, y, _ = miscalibrated(n=1500, K=2, seed=12)
    # two classes: sklearn fits one vector v = w1 - w0; lambda (|w0|^2 + |w1|^2) = lambda |v|^2 / 2
    ref = LogisticRegression(C=0.5, tol=1e-12, max_iter=10000).fit(np.log(P), y)
    W, b = fit_dirichlet_calibration(y, P, reg_lambda=4 / (0.5 * len(y)), reg_mu=0.0,
                                     penalty="l2")
    np.testing.assert_allclose(apply_dirichlet_calibration(P, W, b),
                               ref.predict_proba(np.log(P)), atol=1e-6)
    # no regularisation at all: the unpenalised multinomial fit
    P, y, _ = miscalibrated(n=1500, K=3, seed=13)
    ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=10000).fit(np.log(P), y)
    W, b = fit_dirichlet_calibration(y, P, reg_lambda=0.0, reg_mu=0.0, penalty="l2")
    np.testing.assert_allclose(apply_dirichlet_calibration(P, W, b),
                               ref.predict_proba(np.log(P)), atol=1e-5)


def odir_reference(Y, P, w, lam, mu, penalty="odir"):
    """The ODIR objective written out with loops, minimised by scipy without our gradient."""
    n, K = P.shape
    L = np.log(P)
    w = w / w.sum()

    def objective(theta):
        W, b = theta[:K * K].reshape(K, K), theta[K * K:]
        loss = -np.sum(w * np.sum(Y * log_softmax(L @ W.T + b, axis=1), axis=1))
        off = sum(W[i, j] ** 2 for i in range(K) for j in range(K) if i != j or penalty == "l2")
        norm = K * (K - 1) if penalty == "odir" else K * K
        return loss + lam / norm * off + mu / K * np.sum(b ** 2)

    res = minimize(objective, np.concatenate([np.eye(K).ravel(), np.zeros(K)]), method="BFGS",
                   options={"gtol": 1e-9, "maxiter": 5000})
    return res.x[:K * K].reshape(K, K), res.x[K * K:], objective


@pytest.mark.parametrize("lam,mu", [(0.05, 0.02), (1.0, 0.0), (0.0, 0.5)])
def test_dirichlet_odir_matches_plain_reference(lam, mu):
    P, y, H = miscalibrated(n=600, K=3, seed=14)
    w = np.random.default_rng(2).uniform(0.2, 3, len(y))
    for Y in (one_hot(y, 3), H):
        W, b = fit_dirichlet_calibration(Y, P, sample_weight=w, reg_lambda=lam, reg_mu=mu)
        Wr, br, objective = odir_reference(Y, P, w, lam, mu)
        np.testing.assert_allclose(apply_dirichlet_calibration(P, W, b),
                                   apply_dirichlet_calibration(P, Wr, br), atol=1e-5)
        theta = np.concatenate([W.ravel(), b])
        assert objective(theta) <= objective(np.concatenate([Wr.ravel(), br])) + 1e-10
        if lam > 0 and mu > 0:  # identified: the parameters agree too
            np.testing.assert_allclose(W, Wr, atol=1e-3)


def test_dirichlet_large_odir_is_vector_scaling():
    P, y, _ = miscalibrated(n=1500, K=4, seed=15)
    W, b = fit_dirichlet_calibration(y, P, reg_lambda=1e6, reg_mu=0.0)
    s, c = fit_vector_scaling(y, P)
    np.testing.assert_allclose(np.diag(W), s, atol=1e-3)
    np.testing.assert_allclose(apply_dirichlet_calibration(P, W, b),
                               apply_vector_scaling(P, s, c), atol=1e-3)


@pytest.mark.filterwarnings("ignore:Since FrozenEstimator:UserWarning")
@pytest.mark.parametrize("K", [2, 3, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_isotonic_matches_sklearn(K, weighted):
    P, y, _ = miscalibrated(n=1500, K=K, seed=16 + K)
    P = np.round(P, 2)  # ties in the predicted probabilities
    P /= P.sum(axis=1, keepdims=True)
    w = np.random.default_rng(3).integers(0, 4, len(y)).astype(float) if weighted else None
    th = fit_isotonic_calibration(y, P, sample_weight=w)
    Pt, _, _ = miscalibrated(n=1000, K=K, seed=99)
    ours = apply_isotonic_calibration(Pt, th)
    # per-class maps against IsotonicRegression
    cols = [1] if K == 2 else range(K)
    for (x, fx), k in zip(th, cols):
        iso = IsotonicRegression(out_of_bounds="clip").fit(P[:, k], y == k, sample_weight=w)
        np.testing.assert_allclose(np.interp(Pt[:, k], x, fx), iso.predict(Pt[:, k]),
                                   atol=1e-12)
    # the whole recalibration against CalibratedClassifierCV on a frozen model
    cc = CalibratedClassifierCV(FrozenEstimator(FixedProba().fit(P)), method="isotonic")
    cc.fit(P, y, sample_weight=w)
    np.testing.assert_allclose(ours, cc.predict_proba(Pt), atol=1e-12)


class ProbaOnly(ClassifierMixin, BaseEstimator):
    """Logistic regression without decision_function (CalibratedClassifierCV would prefer
    it over predict_proba)."""

    def fit(self, X, y):
        self.lr_ = LogisticRegression().fit(X, y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):
        return self.lr_.predict_proba(X)

    def predict(self, X):
        return self.lr_.predict(X)


def test_wrappers_match_calibrated_classifier_cv_end_to_end():
    P, y, _ = miscalibrated(n=900, K=3, seed=20)
    X = np.log(P) + np.random.default_rng(4).normal(size=P.shape)
    Xt = X[:100]
    ours = IsotonicCalibration(ProbaOnly(), cv=3).fit(X, y)
    ref = CalibratedClassifierCV(ProbaOnly(), method="isotonic", cv=3, ensemble=False).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), atol=1e-12)
    ours = TemperatureScaling(ProbaOnly(), cv=3).fit(X, y)
    ref = CalibratedClassifierCV(ProbaOnly(), method="temperature", cv=3,
                                 ensemble=False).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), atol=1e-4)
    # prefit
    lr = ProbaOnly().fit(X[:450], y[:450])
    ours = IsotonicCalibration(lr, cv="prefit").fit(X[450:], y[450:])
    ref = CalibratedClassifierCV(FrozenEstimator(lr), method="isotonic").fit(X[450:], y[450:])
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), atol=1e-12)


# --------------------------------------------------------------------------- soft targets
def soft_reference(name, Y, P, w):
    """Plain numpy soft cross-entropy of each parametric map, minimised by scipy on its own."""
    n, K = P.shape
    L = np.log(P)
    w = w / w.sum()

    def ce(Z):
        return -np.sum(w * np.sum(Y * log_softmax(Z, axis=1), axis=1))

    if name == "temperature":
        res = minimize_scalar(lambda t: ce(L / t), bounds=(0.05, 20), method="bounded",
                              options={"xatol": 1e-10})
        return apply_temperature(P, res.x)
    if name == "vector":
        res = minimize(lambda th: ce(L * th[:K] + th[K:]), np.r_[np.ones(K), np.zeros(K)],
                       method="BFGS", options={"gtol": 1e-10})
        return softmax(L * res.x[:K] + res.x[K:], axis=1)
    Wr, br, _ = odir_reference(Y, P, w, 1e-3, 1e-3)
    return apply_dirichlet_calibration(P, Wr, br)


@pytest.mark.parametrize("name", ["temperature", "vector", "dirichlet"])
def test_soft_targets_match_numpy_reference(name):
    P, y, H = miscalibrated(n=500, K=3, seed=21)
    w = np.random.default_rng(5).uniform(0.2, 3, len(y))
    np.testing.assert_allclose(_fit_map(name, H, P, w)(P), soft_reference(name, H, P, w),
                               atol=1e-5)


@pytest.mark.parametrize("name", MAPS)
def test_one_hot_soft_targets_equal_hard_labels(name):
    P, y, _ = miscalibrated(n=500, K=3, seed=22)
    np.testing.assert_allclose(_fit_map(name, one_hot(y, 3), P)(P), _fit_map(name, y, P)(P),
                               atol=1e-12)


@pytest.mark.parametrize("name", MAPS)
def test_soft_targets_equal_expanded_weighted_hard_labels(name):
    """Soft targets Y = hard labels k on copies of each row weighted by w_i * Y_ik."""
    P, y, H = miscalibrated(n=300, K=3, seed=23)
    w = np.random.default_rng(6).uniform(0.2, 3, len(y))
    rows, cols = np.nonzero(H > 0)
    soft = _fit_map(name, H, P, w)(P)
    hard = _fit_map(name, cols, P[rows], (w[:, None] * H)[rows, cols])(P)
    np.testing.assert_allclose(soft, hard, atol=1e-6)
    if name == "isotonic":  # against IsotonicRegression on the expanded rows as well
        x = P[rows, 1]
        iso = IsotonicRegression(out_of_bounds="clip").fit(
            x, cols == 1, sample_weight=(w[:, None] * H)[rows, cols])
        th = fit_isotonic_calibration(H, P, sample_weight=w)
        np.testing.assert_allclose(np.interp(P[:, 1], *th[1]), iso.predict(P[:, 1]),
                                   atol=1e-12)


# --------------------------------------------------------------------------- properties
@pytest.mark.parametrize("cls", CALIBRATORS)
def test_each_calibrator_lowers_held_out_loss(cls):
    P, y, H = miscalibrated(n=4000, K=4, seed=24)
    cal, test = slice(0, 2000), slice(2000, None)
    Yt = one_hot(y[test], 4)
    gold = cls("passthrough").fit(P[cal], y[cal])
    assert nll(Yt, gold.predict_proba(P[test])) < nll(Yt, P[test]) - 0.05
    human = cls("passthrough", calibrate_to="human").fit(P[cal], y[cal], soft_labels=H[cal])
    assert nll(H[test], human.predict_proba(P[test])) < nll(H[test], P[test]) - 0.05
    # fitted to humans, it is closer to humans than the gold-fitted one (same family)
    assert nll(H[test], human.predict_proba(P[test])) <= nll(
        H[test], gold.predict_proba(P[test])) + 0.01


@pytest.mark.parametrize("name", MAPS)
def test_sample_weight_invariances(name):
    P, y, H = miscalibrated(n=200, K=3, seed=25)
    rng = np.random.default_rng(7)
    reps = rng.integers(0, 4, len(y))
    reps[:3] = (0, 1, 2)
    for Y in (y, H):
        Yr = np.repeat(Y, reps, axis=0)
        weighted = _fit_map(name, Y, P, reps.astype(float))(P)
        repeated = _fit_map(name, Yr, np.repeat(P, reps, axis=0))(P)
        np.testing.assert_allclose(weighted, repeated, atol=1e-6)  # integer = repetition
        keep = reps > 0
        removed = _fit_map(name, Y[keep], P[keep], reps[keep].astype(float))(P)
        np.testing.assert_allclose(weighted, removed, atol=1e-6)  # zero = removal
        scaled = _fit_map(name, Y, P, 3.5 * reps)(P)
        np.testing.assert_allclose(weighted, scaled, atol=1e-6)  # scale-free


@pytest.mark.parametrize("cls", CALIBRATORS)
def test_inputs_never_modified_read_only_and_non_contiguous(cls):
    P, y, H = miscalibrated(n=300, K=3, seed=26)
    Pf, Hf = np.asfortranarray(P), np.asfortranarray(H)  # non-contiguous rows
    w = np.linspace(0.1, 2, 300)
    arrays = [Pf, y.copy(), Hf, w]
    copies = [a.copy() for a in arrays]
    for a in arrays:
        a.setflags(write=False)
    est = cls("passthrough", calibrate_to="human").fit(Pf, arrays[1], sample_weight=w,
                                                       soft_labels=Hf)
    out = est.predict_proba(Pf[::2])
    ref = cls("passthrough", calibrate_to="human").fit(P, y, sample_weight=w, soft_labels=H)
    np.testing.assert_allclose(out, ref.predict_proba(P[::2]), atol=1e-12)
    for a, c in zip(arrays, copies):
        np.testing.assert_array_equal(a, c)
    assert P.dtype == np.float64 and out.flags.writeable


def test_float32_and_zero_probabilities():
    P, y, _ = miscalibrated(n=500, K=3, seed=27)
    P[:20] = np.eye(3)[y[:20]]  # exact zeros
    P[20:40] = np.eye(3)[(y[20:40] + 1) % 3]  # confidently wrong
    for cls in CALIBRATORS:
        out = cls("passthrough").fit(P.astype(np.float32), y).predict_proba(P)
        assert np.all(np.isfinite(out)) and np.allclose(out.sum(axis=1), 1)


@st.composite
def probs_and_params(draw):
    K = draw(st.integers(2, 5))
    n = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.full(K, draw(st.sampled_from([0.05, 1.0, 5.0]))), size=n)
    P[rng.uniform(size=P.shape) < 0.1] = 0.0  # zeros, renormalised below
    P[P.sum(axis=1) == 0, 0] = 1.0
    P /= P.sum(axis=1, keepdims=True)
    return P, rng.normal(size=K) * 3, rng.normal(size=K) * 5, rng.normal(size=(K, K)) * 3


@hyp
@given(probs_and_params())
def test_maps_always_give_probability_rows(args):
    P, s, b, W = args
    K = P.shape[1]
    outs = [apply_temperature(P, abs(s[0]) + 0.01), apply_vector_scaling(P, s, b),
            apply_dirichlet_calibration(P, W, b)]
    th = [(np.sort(np.r_[0.0, np.abs(s[:2]) % 1, 1.0]) + np.arange(4) * 1e-9,
           np.sort(np.abs(b[:2]) % 1).repeat(2)) for _ in range(1 if K == 2 else K)]
    outs.append(apply_isotonic_calibration(P, th))
    for out in outs:
        assert out.shape == P.shape and np.all(np.isfinite(out)) and np.all(out >= 0)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-12)
    # the identity parameters give the identity map
    np.testing.assert_allclose(apply_vector_scaling(P, np.ones(K), np.zeros(K)), P, atol=1e-12)
    np.testing.assert_allclose(apply_dirichlet_calibration(P, np.eye(K), np.zeros(K)), P,
                               atol=1e-12)


def pava_reference(x, t, w):
    """Pool-adjacent-violators written plainly: blocks of (value, weight, count)."""
    order = np.lexsort((t, x))
    x, t, w = x[order], t[order], w[order]
    ux = np.unique(x)
    vals = [np.sum(w[x == u] * t[x == u]) / np.sum(w[x == u]) for u in ux]
    wts = [np.sum(w[x == u]) for u in ux]
    blocks = []  # [value, weight, size]
    for v, wt in zip(vals, wts):
        blocks.append([v, wt, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return ux, np.concatenate([[v] * c for v, _, c in blocks])


@hyp
@given(st.integers(1, 40), st.integers(0, 2**31), st.booleans())
def test_isotonic_map_is_pava(n, seed, soft):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(size=n), 1)  # many ties
    P = np.column_stack([1 - x, x])
    t = rng.uniform(size=n) if soft else (rng.uniform(size=n) < x).astype(float)
    w = rng.integers(1, 4, n).astype(float)
    (ux, fx), = fit_isotonic_calibration(np.column_stack([1 - t, t]), P, sample_weight=w)
    rx, rf = pava_reference(x, t, w)
    np.testing.assert_array_equal(ux, rx)
    np.testing.assert_allclose(fx, rf, atol=1e-12)
    assert np.all(np.diff(fx) >= -1e-15)


@hyp
@given(st.integers(0, 2**31), st.sampled_from(["temperature", "vector", "dirichlet"]))
def test_fitted_parametric_maps_are_minima(seed, name):
    """No small perturbation of the fitted map's output direction lowers the objective."""
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 5))
    P = rng.dirichlet(np.full(K, 0.5), size=60)
    Y = rng.dirichlet(np.ones(K), size=60)
    f = _fit_map(name, Y, P)
    base = nll(Y, f(P))
    # compare against the identity (always in the family) and a tempered version of the fit
    assert base <= nll(Y, P) + 1e-9
    if name == "temperature":
        t = fit_temperature(Y, P)
        for t2 in (t * 0.98, t * 1.02):
            if 0.05 <= t2 <= 20:
                assert base <= nll(Y, apply_temperature(P, t2)) + 1e-9


# --------------------------------------------------------------------------- wrapper mechanics
@pytest.mark.parametrize("cls", CALIBRATORS)
def test_cv_fits_map_on_out_of_fold_probabilities(cls):
    P, y, H = miscalibrated(n=300, K=3, seed=28)
    X = np.log(P) + np.random.default_rng(8).normal(size=P.shape)
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    est = cls(SoftLogisticRegression(), cv=splits).fit(X, y)
    oof = cross_val_predict_proba(SoftLogisticRegression(), X, y, cv=splits)
    post = cls("passthrough").fit(oof, y)
    full = SoftLogisticRegression().fit(X, y)
    np.testing.assert_allclose(est.predict_proba(X), post.predict_proba(full.predict_proba(X)),
                               atol=1e-10)
    # prefit: the map on the data given, the estimator untouched
    pre = cls(full, cv="prefit").fit(X[:150], y[:150])
    assert pre.estimator_ is full
    np.testing.assert_allclose(
        pre.predict_proba(X), cls("passthrough").fit(full.predict_proba(X[:150]), y[:150])
        .predict_proba(full.predict_proba(X)), atol=1e-12)


def test_string_labels_and_estimator_class_order():
    P, y, _ = miscalibrated(n=300, K=3, seed=29)
    X = np.log(P)
    names = np.array(["c", "b", "a"])  # the estimator's own (unsorted) column order
    est = VectorScaling(SoftLogisticRegression(classes=names), cv=3).fit(X, names[y])
    assert list(est.classes_) == ["c", "b", "a"]
    ref = SoftLogisticRegression(classes=names).fit(X, names[y])
    assert np.mean(est.predict(X) == ref.predict(X)) > 0.9
    assert est.score(X, names[y]) > 0.6
    # the out-of-fold columns follow the estimator's classes_ (failed before: T was 5.2, not 1)
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(300, 3))
    yr = names[np.argmax(Xr + rng.normal(size=(300, 3)), axis=1)]
    unsorted = TemperatureScaling(SoftLogisticRegression(classes=names), cv=3).fit(Xr, yr)
    plain = TemperatureScaling(SoftLogisticRegression(), cv=3).fit(Xr, yr)
    assert unsorted.temperature_ == pytest.approx(plain.temperature_, rel=1e-6)
    assert unsorted.temperature_ == pytest.approx(1.047, abs=0.01)
    # passthrough: classes names the columns; without it hard labels are column codes
    pt = VectorScaling("passthrough", classes=names).fit(P, names[y])
    np.testing.assert_allclose(pt.predict_proba(P), VectorScaling("passthrough").fit(P, y)
                               .predict_proba(P))
    with pytest.raises(ValueError, match="classes="):
        VectorScaling("passthrough").fit(P, names[y])


def test_pipeline_and_grid_search():
    P, y, H = miscalibrated(n=400, K=3, seed=30)
    X = np.log(P)
    pipe = make_pipeline(StandardScaler(), DirichletCalibration(SoftLogisticRegression(), cv=3))
    pipe.fit(X, y)
    assert pipe.predict_proba(X).shape == (400, 3)
    gs = GridSearchCV(DirichletCalibration("passthrough"), {"reg_lambda": [1e-3, 1.0]},
                      scoring="neg_log_loss", cv=3).fit(P, y)
    assert gs.best_params_["reg_lambda"] in (1e-3, 1.0)


def test_temperature_scaling_backwards_compatible():
    """The old signature and default still work: estimator=None is a SoftLogisticRegression."""
    P, y, _ = miscalibrated(n=300, K=3, seed=31)
    X = np.log(P)
    ts = TemperatureScaling(cv=3).fit(X, y)
    assert isinstance(ts.estimator_, SoftLogisticRegression)
    base = SoftLogisticRegression().fit(X[:150], y[:150])
    ts = TemperatureScaling(base, cv="prefit", bounds=(0.5, 2.0)).fit(X[150:], y[150:])
    assert ts.temperature_ == pytest.approx(
        fit_temperature(y[150:], base.predict_proba(X[150:]), bounds=(0.5, 2.0)))
    # a column of labels is hard labels, not a probability matrix
    p = base.predict_proba(X)
    assert fit_temperature(y[:, None], p) == pytest.approx(fit_temperature(y, p))


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", CALIBRATORS)
def test_bad_input_names_the_argument(cls):
    P, y, H = miscalibrated(n=60, K=3, seed=32)
    X = np.log(P)
    cases = [
        (dict(estimator=LogisticRegression, cv=3), TypeError, "estimator"),
        (dict(estimator="nope"), ValueError, "estimator"),
        (dict(cv=1), ValueError, "cv"),
        (dict(cv=2.5), TypeError, "cv"),
        (dict(cv="prefitt"), ValueError, "cv"),
        (dict(calibrate_to="humans"), ValueError, "calibrate_to"),
        (dict(classes=["a", "b", "c"]), ValueError, "classes"),
    ]
    for kw, exc, match in cases:
        with pytest.raises(exc, match=match):
            cls(**kw).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        cls(cv=3).fit(X, y, sample_weight=-np.ones(60))
    with pytest.raises(ValueError, match="sample_weight"):
        cls("passthrough").fit(P, y, sample_weight=np.ones(59))
    with pytest.raises(ValueError, match="soft_labels"):
        cls("passthrough", calibrate_to="human").fit(P, y)
    with pytest.raises(ValueError, match="soft_labels"):
        cls("passthrough", calibrate_to="human").fit(P, y, soft_labels=H[:, :2])
    with pytest.raises(ValueError, match="soft_labels"):
        cls("passthrough", calibrate_to="human").fit(P, y, soft_labels=H * 2)
    with pytest.raises(ValueError, match="X rows must sum to 1"):
        cls("passthrough").fit(P * 2, y)
    with pytest.raises(ValueError, match="X"):
        cls("passthrough").fit(P[:, :1], y)
    with pytest.raises(ValueError, match="y"):
        cls("passthrough").fit(P, y + 1)
    with pytest.raises(ValueError, match="y has 59 samples"):
        cls("passthrough").fit(P, y[:59])
    with pytest.raises(ValueError, match="prefit"):
        cls(None, cv="prefit").fit(X, y)
    fitted = cls("passthrough").fit(P, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict_proba(P[:, :2])
    with pytest.raises(ValueError, match="X contains NaN"):
        fitted.predict_proba(np.full((2, 3), np.nan))


def test_bad_input_functions():
    P, y, H = miscalibrated(n=60, K=3, seed=33)
    with pytest.raises(ValueError, match="bounds"):
        fit_temperature(y, P, bounds=(2.0, 1.0))
    with pytest.raises(ValueError, match="reg_lambda"):
        fit_dirichlet_calibration(y, P, reg_lambda=-1.0)
    with pytest.raises(ValueError, match="penalty"):
        fit_dirichlet_calibration(y, P, penalty="l1")
    with pytest.raises(TypeError, match="max_iter"):
        fit_vector_scaling(y, P, max_iter=1.5)
    with pytest.raises(ValueError, match="y_prob rows must sum to 1"):
        fit_vector_scaling(y, P * 2)
    with pytest.raises(ValueError, match="y_true"):
        fit_isotonic_calibration(H[:, :2], P)
    with pytest.raises(ValueError, match="y_true has 59 samples"):
        fit_vector_scaling(y[:59], P)
    with pytest.raises(ValueError, match="scale"):
        apply_vector_scaling(P, np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="coef"):
        apply_dirichlet_calibration(P, np.eye(2), np.zeros(3))
    with pytest.raises(ValueError, match="thresholds"):
        apply_isotonic_calibration(P, [(np.r_[0.0, 1.0], np.r_[0.0, 1.0])])
    with pytest.raises(ValueError, match="proba"):
        apply_vector_scaling(P * 2, np.ones(3), np.zeros(3))


def test_non_convergence_warns():
    P, y, _ = miscalibrated(n=300, K=3, seed=34)
    from sklearn.exceptions import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="max_iter"):
        VectorScaling("passthrough", max_iter=2).fit(P, y)


# --------------------------------------------------------------------------- estimator contract
@parametrize_with_checks([VectorScaling(cv=3), DirichletCalibration(cv=3),
                          IsotonicCalibration(cv=3)])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)
