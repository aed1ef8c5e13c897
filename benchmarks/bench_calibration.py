"""Recalibrators: fit time and agreement against the oracle libraries, side by side.

On an over-confident synthetic model's held-out probabilities (n rows, K classes, gold labels
drawn from the true distribution), each sksoft map is fitted with its function
(``fit_temperature``, ``fit_vector_scaling``, ``fit_dirichlet_calibration``,
``fit_isotonic_calibration``) and as a ``"passthrough"`` estimator, and beside it the oracle:

* temperature: netcal ``TemperatureScaling``, probmetrics ``TemperatureScalingCalibrator``,
  scikit-learn ``CalibratedClassifierCV(FrozenEstimator(...), method="temperature")``;
* vector scaling: netcal ``LogisticCalibration(temperature_only=False)``, probmetrics
  ``VectorScalingCalibrator``;
* Dirichlet (plain L2, same penalty): scikit-learn ``LogisticRegression`` on ``log P``;
* isotonic: scikit-learn ``CalibratedClassifierCV(FrozenEstimator(...), method="isotonic")``.

Printed per row: best-of-``--repeat`` fit time, the ratio oracle / sksoft (> 1: sksoft is
faster), the largest absolute difference of the recalibrated probabilities on held-out rows,
and the held-out NLL (raw model first). Then the cost of fitting all four maps on the same
calibration split, as the study does. Missing oracle packages are skipped.

    python benchmarks/bench_calibration.py                    # n = 1000, 10000, 100000; K = 10
    python benchmarks/bench_calibration.py --n 2000 --K 3 --repeat 3
"""

import argparse
import time
import warnings

import numpy as np
from scipy.special import softmax

from sksoft._bench import cpu_model
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


def make_data(n, K, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(2 * n, K)) * 1.5
    T = softmax(Z, axis=1)
    y = (T.cumsum(axis=1) > rng.uniform(size=(2 * n, 1))).argmax(axis=1)
    P = softmax(2.5 * Z + rng.normal(size=K) + 0.3 * rng.normal(size=(2 * n, K)), axis=1)
    return P[:n], y[:n], P[n:], y[n:]


def nll(y, P):
    return float(-np.mean(np.log(np.clip(P[np.arange(len(y)), y], 1e-15, None))))


def best_time(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


class _Fixed:
    """Minimal fitted 'classifier' whose predict_proba is its input (for FrozenEstimator)."""

    _estimator_type = "classifier"

    def __init__(self, K):
        self.classes_ = np.arange(K)

    def fit(self, X, y=None):
        return self

    def predict_proba(self, X):
        return np.asarray(X)

    def predict(self, X):
        return np.asarray(X).argmax(axis=1)

    def get_params(self, deep=True):
        return {}

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())


def oracles(K):
    """name -> (map, fit(P, y) -> apply(Q)); only those whose package is installed."""
    out = {}
    try:
        from netcal.scaling import LogisticCalibration
        from netcal.scaling import TemperatureScaling as NetcalTS

        def netcal_ts(P, y):
            m = NetcalTS()
            m.fit(P, y)
            return m.transform

        def netcal_vs(P, y):
            m = LogisticCalibration(temperature_only=False)
            m.fit(P, y)
            return m.transform

        out["netcal TemperatureScaling"] = ("temperature", netcal_ts)
        if K > 2:  # netcal scales the binary logit instead (another family)
            out["netcal LogisticCalibration"] = ("vector", netcal_vs)
    except ImportError:
        pass
    try:
        from probmetrics.calibrators.logistic import VectorScalingCalibrator
        from probmetrics.calibrators.temperature_scaling import (
            TemperatureScalingCalibrator,
        )

        out["probmetrics TemperatureScaling"] = (
            "temperature", lambda P, y: TemperatureScalingCalibrator().fit(P, y).predict_proba)
        out["probmetrics VectorScaling"] = (
            "vector", lambda P, y: VectorScalingCalibrator().fit(P, y).predict_proba)
    except ImportError:
        pass
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    def sk(method):
        def fit(P, y):
            cc = CalibratedClassifierCV(FrozenEstimator(_Fixed(K)), method=method).fit(P, y)
            return cc.predict_proba
        return fit

    def sk_lr(P, y):
        lr = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(np.log(P), y)
        return lambda Q: lr.predict_proba(np.log(Q))

    out["sklearn temperature"] = ("temperature", sk("temperature"))
    out["sklearn LogisticRegression(log P)"] = ("dirichlet-l2", sk_lr)
    out["sklearn isotonic"] = ("isotonic", sk("isotonic"))
    return out


def ours(K, n):
    """map -> fit(P, y) -> apply(Q) with sksoft's functions."""
    lam = K * K / (2 * 1.0 * n)  # the LogisticRegression(C=1) penalty in sksoft's scaling

    def temperature(P, y):
        t = fit_temperature(y, P)
        return lambda Q: apply_temperature(Q, t)

    def vector(P, y):
        s, b = fit_vector_scaling(y, P)
        return lambda Q: apply_vector_scaling(Q, s, b)

    def dirichlet_l2(P, y):
        W, b = fit_dirichlet_calibration(y, P, reg_lambda=lam, reg_mu=0.0, penalty="l2")
        return lambda Q: apply_dirichlet_calibration(Q, W, b)

    def dirichlet(P, y):
        W, b = fit_dirichlet_calibration(y, P)
        return lambda Q: apply_dirichlet_calibration(Q, W, b)

    def isotonic(P, y):
        th = fit_isotonic_calibration(y, P)
        return lambda Q: apply_isotonic_calibration(Q, th)

    return {"temperature": temperature, "vector": vector, "dirichlet-l2": dirichlet_l2,
            "dirichlet": dirichlet, "isotonic": isotonic}


def run(n, K, repeat):
    P, y, Pt, yt = make_data(n, K)
    print(f"\nn = {n} calibration rows, K = {K}; held-out NLL of the raw model "
          f"{nll(yt, Pt):.4f}")
    print(f"{'map / implementation':44s} {'fit s':>9s} {'ratio':>7s} {'max|dP|':>9s} "
          f"{'NLL':>7s}")
    mine = ours(K, n)
    times, applied = {}, {}
    for name, fit in mine.items():
        t, apply = best_time(lambda: fit(P, y), repeat)
        times[name], applied[name] = t, apply(Pt)
        print(f"{'sksoft ' + name:44s} {t:9.4f} {'':>7s} {'':>9s} {nll(yt, applied[name]):7.4f}")
    for label, (name, fit) in oracles(K).items():
        if label.startswith("netcal LogisticCalibration") and n > 20000:
            print(f"{label:44s} {'skipped (numerical gradients, n > 20000)':>30s}")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, apply = best_time(lambda: fit(P, y), repeat)
            Q = np.asarray(apply(Pt), dtype=np.float64)
        diff = np.abs(Q - applied[name]).max()
        print(f"{label:44s} {t:9.4f} {t / times[name]:6.1f}x {diff:9.1e} {nll(yt, Q):7.4f}")
    # the study's pattern: every calibrator on the same calibration split
    cals = [TemperatureScaling("passthrough"), VectorScaling("passthrough"),
            DirichletCalibration("passthrough"), IsotonicCalibration("passthrough")]
    t_est, _ = best_time(lambda: [c.fit(P, y).predict_proba(Pt) for c in cals], repeat)
    t_fun = times["temperature"] + times["vector"] + times["dirichlet"] + times["isotonic"]
    print(f"{'all four passthrough estimators, fit+apply':44s} {t_est:9.4f} "
          f"(functions' fits alone: {t_fun:.4f} s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--K", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import threadpoolctl

    blas = threadpoolctl.threadpool_info()
    print(f"CPU: {cpu_model()}; BLAS threads: {[b.get('num_threads') for b in blas]}")
    for n in args.n:
        run(n, args.K, args.repeat)


if __name__ == "__main__":
    main()
