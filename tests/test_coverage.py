"""A small, fixed-seed version of benchmarks/coverage_harness.py that can fail.

Simulated models with known population values (item logits ``z``, true probabilities
``softmax(z)``, an over-confident model ``softmax(2 z)``); the intervals of
``calibration_report`` must cover the population NLL and debiased L2 error in at least the
binomial lower bound of replications, and the percentile interval of the debiased error -- the
interval used before ``interval="auto"`` -- must *not* (it is centred on the plug-in error), which
shows that the check discriminates.
"""

import numpy as np
import pytest
from scipy.stats import binom

from sksoft.metrics import calibration_report
from sksoft.metrics._compute import compute_stats
from sksoft.metrics._formulas import calibration_errors, metric_columns
from sksoft.metrics._intervals import (
    bootstrap_interval,
    point_tables,
    replicate_columns,
    resolve_interval,
)

K, N, R, B = 3, 600, 100, 100
#: the fewest hits out of R that a 93%-coverage interval gives with probability 0.999
LOWER = int(binom.ppf(0.001, R, 0.93))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _model(rng, n, beta):
    z = rng.normal(0.0, 1.5, (n, K))
    q = _softmax(z)
    y = (rng.random(n)[:, None] > np.cumsum(q, axis=1)).sum(axis=1).clip(0, K - 1)
    return q, _softmax(beta * z), y


def _model(rng, n):
    """Items, a calibrated model (``q`` itself) and an over-confident one."""
    z = rng.normal(0.0, 1.5, (n, K))
    q = _softmax(z)
    y = (rng.random(n)[:, None] > np.cumsum(q, axis=1)).sum(axis=1).clip(0, K - 1)
    return q, _softmax(2.0 * z), y


@pytest.fixture(scope="module")
def population():
    q, p, _ = _model(np.random.default_rng(123), 200_000)
    cal, over = calibration_report(q, q), calibration_report(q, p)  # noise-free targets
    return {("level", "cross_entropy"): float(over["cross_entropy"]),
            ("level", "rmsce_debiased"): float(over["rmsce"]),
            ("difference", "cross_entropy"): float(over["cross_entropy"] - cal["cross_entropy"]),
            ("difference", "rmsce_debiased"): float(over["rmsce"] - cal["rmsce"])}


def _replicates(y, prob, seed):
    """(point, replicates, plug-in L2 error) of the report's metrics, every row resampled
    with its own weight (``clusters`` = the items): the same weights for both models."""
    st = compute_stats(y, prob, n_bins=15, want_scores=True, variance=True, n_bootstrap=B,
                       random_state=seed, clusters=np.arange(len(y)))
    pt = point_tables(st, overall_only=True)
    point = {k: float(v[0]) for k, v in metric_columns(**pt).items()}
    reps = {k: v[:, 0] for k, v in replicate_columns(st).items()}
    return point, reps, float(calibration_errors(pt["top"], ("l2",))["l2"][0])


@pytest.fixture(scope="module")
def hits(population):
    out = {(m,) + key: 0 for m in ("auto", "percentile") for key in population}
    for r in range(R):
        q, p, y = _model(np.random.default_rng([7, r]), N)
        (a, ra, pa), (b, rb, pb) = _replicates(y, p, r), _replicates(y, q, r)
        for (kind, name), truth in population.items():
            debiased = name == "rmsce_debiased"
            for choice in ("auto", "percentile"):
                method = resolve_interval(choice, name)
                if kind == "level":
                    e = bootstrap_interval(a[name], ra[name], 0.95, method=method,
                                           center=pa if debiased else None)
                else:
                    e = bootstrap_interval(a[name] - b[name], ra[name] - rb[name], 0.95,
                                           method=method, center=pa - pb if debiased else None)
                out[(choice, kind, name)] += bool(e.low <= truth <= e.high)
    return out


def test_the_report_uses_these_intervals():
    q, p, y = _model(np.random.default_rng(0), N)
    point, reps, plug = _replicates(y, p, 3)
    rep = calibration_report(y, p, n_bootstrap=B, random_state=3, clusters=np.arange(N))
    for name in ("cross_entropy", "rmsce_debiased", "ece"):
        e = bootstrap_interval(point[name], reps[name], 0.95,
                               method=resolve_interval("auto", name),
                               center=plug if name == "rmsce_debiased" else None,
                               bounds=(0.0, np.inf))
        assert np.isclose(rep[name].low, e.low) and np.isclose(rep[name].high, e.high), name
    old = calibration_report(y, p, n_bootstrap=B, random_state=3, clusters=np.arange(N),
                             interval="percentile")["rmsce_debiased"]
    assert (old.low, old.high) == tuple(np.percentile(reps["rmsce_debiased"], [2.5, 97.5]))


def test_lower_bound_is_meaningful():
    assert 80 <= LOWER <= 90


@pytest.mark.parametrize("kind", ["level", "difference"])
@pytest.mark.parametrize("name", ["cross_entropy", "rmsce_debiased"])
def test_default_intervals_cover(hits, kind, name):
    assert hits[("auto", kind, name)] >= LOWER, hits


def test_percentile_interval_of_a_debiased_difference_does_not_cover(hits):
    # the replicates of a debiased error estimate the data's plug-in error, whose bias
    # differs between the arms: the percentile interval of the difference misses, so the
    # check above can fail
    assert hits[("percentile", "difference", "rmsce_debiased")] < LOWER, hits


def test_interval_methods_by_hand():
    rng = np.random.default_rng(4)
    reps = rng.gamma(2.0, 0.01, 500) + 0.01
    theta, t0 = 0.03, 0.035
    lo, hi = np.percentile(reps, [2.5, 97.5])
    m = reps.mean()
    e = bootstrap_interval(theta, reps, 0.95, method="basic", center=t0)
    assert np.isclose(e.low, theta - (hi - t0)) and np.isclose(e.high, theta - (lo - t0))
    e = bootstrap_interval(theta, reps, 0.95, method="bias_corrected", center=t0)
    shift = theta - m - (m - t0)
    assert np.isclose(e.low, lo + shift) and np.isclose(e.high, hi + shift)
    e = bootstrap_interval(theta, reps, 0.95, method="percentile")
    assert (e.low, e.high) == (lo, hi)
    # clipped to the range; vectorised along an axis; NaN with fewer than two finite
    e = bootstrap_interval(0.0, reps, 0.95, method="basic", bounds=(0.0, np.inf))
    assert e.low == 0.0
    two = np.stack([reps, np.full(500, np.nan)], axis=1)
    low, high, se = bootstrap_interval(np.array([theta, theta]), two, 0.95, axis=0)
    assert np.isfinite(low[0]) and np.isnan(low[1]) and np.isnan(se[1])
    with pytest.raises(ValueError, match="interval"):
        calibration_report(np.zeros(4, int), np.full((4, 2), 0.5), n_bootstrap=5,
                           interval="bca")


def test_seed_interval_covers_with_three_seeds_that_carry_the_variance():
    # per-item paired differences x[s, i] = a_s + u_i + v_si, seeds carrying 95% of the
    # variance of one seed's mean; truth 0
    from sksoft.metrics import seed_interval

    S, n, reps = 3, 200, 200
    sa = np.sqrt(0.95 / 0.05 / n)
    hit = plain = 0
    for r in range(reps):
        rng = np.random.default_rng([11, r])
        x = rng.normal(0, sa, (S, 1)) + rng.normal(0, np.sqrt(0.6), n) + \
            rng.normal(0, np.sqrt(0.4), (S, n))
        e = seed_interval(x, per_item=True)
        hit += e.low <= 0 <= e.high
        # the normal interval of the seed means (what a seed bootstrap approximates)
        d = x.mean(axis=1)
        half = 1.96 * d.std(ddof=1) / np.sqrt(S)
        plain += abs(d.mean()) <= half
    bound = binom.ppf(0.001, reps, 0.92)
    assert hit >= bound, hit
    assert plain < bound, plain


@pytest.mark.parametrize("method", ["basic", "bias_corrected", "percentile"])
def test_p_value_is_dual_to_the_interval(method):
    from sksoft.metrics._intervals import bootstrap_p_value

    rng = np.random.default_rng(9)
    for shift in (0.0, 0.01, 0.02, 0.03, 0.05):
        reps = rng.normal(0.02 + shift, 0.01, 999)
        theta, t0 = 0.015 + shift, 0.02 + shift
        p = bootstrap_p_value(theta, reps, method=method, center=t0)
        assert 0 < p <= 1
        for level in (0.5, 0.8, 0.9, 0.95, 0.99):
            e = bootstrap_interval(theta, reps, level, method=method, center=t0)
            excludes = not (e.low <= 0 <= e.high)
            # the interval excludes 0 exactly at the levels below 1 - p (up to 2 / B)
            if abs((1 - level) - p) > 4 / 1000:
                assert excludes == ((1 - level) > p), (method, shift, level, p, e)
    vec = bootstrap_p_value(np.array([0.0, 0.05]), np.stack([rng.normal(0, 0.01, 99),
                                                             rng.normal(0.05, 0.01, 99)], 1))
    assert vec[0] > 0.5 and vec[1] <= 2 / 100


def test_the_harness_reaches_the_study_statistics():
    """benchmarks/coverage_harness.py's one adapter to the study's paired bootstrap still
    reproduces the study's intervals (it broke silently when the statistics moved into
    sksoft.metrics)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "coverage_harness.py"
    spec = importlib.util.spec_from_file_location("coverage_harness", path)
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    harness.check_adapter()
