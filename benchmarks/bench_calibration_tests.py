"""Level and power of ``sksoft.metrics.calibration_test``, and MAPIE's tests beside them.

Rejection rates at 5% over ``--reps`` simulated data sets per cell:

* **binary over-confidence**: scores ``p ~ U(0.02, 0.98)``, labels ``y ~ Bernoulli(0.5 +
  (1 - d)(p - 0.5))`` -- ``d = 0`` is calibrated (the level), larger ``d`` the model claims
  more than it knows;
* **binary shift**: labels ``y ~ Bernoulli(clip(p - d))`` (uniformly over-predicting);
* **3-class over-confidence** (top-label for the one-dimensional tests, the whole vector for
  SKCE): ``P ~ Dir(0.8)``, labels from ``(1 - d) P + d / 3``.

Soft targets (the human label distribution of each item, ``t ~ Beta(4 m, 4 (1 - m))`` around
the label mean ``m``) are tested too, as the documentation says they are conservative. The
MAPIE columns (binary only, hard labels: MAPIE's tests take 0/1 labels) use
``mapie.metrics.calibration``; MAPIE's Spiegelhalter p-value is one-sided.

    python benchmarks/bench_calibration_tests.py              # n = 500 and 2000, 400 reps
    python benchmarks/bench_calibration_tests.py --quick      # n = 500, 100 reps
    python benchmarks/bench_calibration_tests.py --resampling # + SKCE resampling at n = 500
"""

import argparse
import time

import numpy as np

from sksoft._bench import cpu_model
from sksoft.metrics import calibration_test

METHODS = ("spiegelhalter", "ks", "kuiper", "skce")
ALPHA = 0.05


def _binary(rng, n, d, kind):
    p = rng.uniform(0.02, 0.98, size=n)
    m = 0.5 + (1 - d) * (p - 0.5) if kind == "over" else np.clip(p - d, 0, 1)
    return p, m


def _multi(rng, n, d):
    P = rng.dirichlet(np.full(3, 0.8), size=n)
    return P, (1 - d) * P + d / 3


def _draw(rng, m):
    if m.ndim == 1:
        return (rng.uniform(size=m.shape[0]) < m).astype(int)
    return (rng.uniform(size=(m.shape[0], 1)) > np.cumsum(m, 1)).sum(1)


def _soft(rng, m):
    t = rng.beta(4 * np.clip(m, 1e-3, 1 - 1e-3), 4 * np.clip(1 - m, 1e-3, 1 - 1e-3))
    return np.column_stack([1 - t, t])


def _mapie():
    try:
        from mapie.metrics import calibration as cal
    except ImportError:
        return {}
    return {"ks": cal.kolmogorov_smirnov_p_value, "kuiper": cal.kuiper_p_value,
            "spiegelhalter": cal.spiegelhalter_p_value}


def run(sizes, reps, strengths, resampling=False, seed=0):
    mapie = _mapie()
    rows = []
    for scenario in ("binary over", "binary shift", "3-class over"):
        for n in sizes:
            for d in strengths[scenario]:
                rng = np.random.default_rng(seed)
                rej = {m: 0 for m in METHODS}
                rej.update({f"{m} soft": 0 for m in METHODS if scenario != "3-class over"})
                rej.update({f"mapie {m}": 0 for m in mapie if scenario != "3-class over"})
                if resampling and n <= 500:
                    rej["skce resampling"] = 0
                for r in range(reps):
                    if scenario == "3-class over":
                        prob, m = _multi(rng, n, d)
                    else:
                        prob, m = _binary(rng, n, d, scenario.split()[1])
                    y = _draw(rng, m)
                    for method in METHODS:
                        rej[method] += calibration_test(y, prob, method=method).pvalue <= ALPHA
                    if scenario != "3-class over":
                        t = _soft(rng, m)
                        for method in METHODS:
                            rej[f"{method} soft"] += \
                                calibration_test(t, prob, method=method).pvalue <= ALPHA
                        for method, fn in mapie.items():
                            rej[f"mapie {method}"] += fn(y, prob) <= ALPHA
                    if "skce resampling" in rej:
                        rej["skce resampling"] += calibration_test(
                            y, prob, method="skce", null="resampling", n_resamples=99,
                            random_state=r).pvalue <= ALPHA
                rows.append((scenario, n, d, {k: v / reps for k, v in rej.items()}))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--resampling", action="store_true",
                    help="also SKCE with the consistency-resampling null (99 resamples, "
                    "n <= 500 only; ~0.1 s per data set)")
    args = ap.parse_args(argv)
    sizes = (500,) if args.quick else (500, 2000)
    reps = args.reps or (100 if args.quick else 400)
    strengths = {"binary over": (0.0, 0.1, 0.2, 0.3), "binary shift": (0.0, 0.02, 0.05),
                 "3-class over": (0.0, 0.1, 0.2, 0.3)}
    t0 = time.perf_counter()
    rows = run(sizes, reps, strengths, resampling=args.resampling)
    print(f"calibration tests: rejection rate at {ALPHA:.0%} over {reps} data sets per row "
          f"(d = 0: the level; its binomial standard error is "
          f"{np.sqrt(ALPHA * (1 - ALPHA) / reps):.3f})")
    print(f"CPU: {cpu_model()}; {time.perf_counter() - t0:.0f} s\n")
    for scenario in strengths:
        sub = [r for r in rows if r[0] == scenario]
        cols = list(sub[0][3])
        print(f"## {scenario}")
        print(f"| n | d | {' | '.join(cols)} |")
        print("|---" * (len(cols) + 2) + "|")
        for _, n, d, rates in sub:
            cells = " | ".join(f"{rates[c]:.3f}" if c in rates else "" for c in cols)
            print(f"| {n} | {d:g} | {cells} |")
        print()


if __name__ == "__main__":
    main()
