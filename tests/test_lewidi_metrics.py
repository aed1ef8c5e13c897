"""The LeWiDi metrics against the official LeWiDi-2025 scorer's formulas, scipy and POT.

The ``official_*`` functions below are re-implementations, written for these tests from the
definitions of the task's official scoring script (plain Python loops over items, its rounding
with Python's ``round`` to 5 decimals). They are the reference: sksoft's vectorised metrics
must agree with them to 1e-12.
"""

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from sksoft.metrics import (
    Estimate,
    annotator_absolute_distance,
    annotator_error_rate,
    bootstrap_weights,
    calibration_report,
    get_scorer,
    manhattan_distance,
    multilabel_manhattan_distance,
    total_variation,
    wasserstein_ordinal,
)

ot = pytest.importorskip("ot")


# --------------------------------------------------------------------------- the reference
def _r(x, decimals):
    return x if decimals is None else round(x, decimals)


def official_average_md(targets, predictions, decimals=5, final=True):
    distances = []
    for t, p in zip(targets, predictions):
        distances.append(_r(sum(abs(float(pk) - float(tk)) for pk, tk in zip(p, t)), decimals))
    mean = sum(distances) / len(distances)
    return _r(mean, decimals) if final else mean


def official_multilabel_md(targets, predictions, decimals=5, final=True):
    per_item = [official_average_md(targets[i], predictions[i], decimals, final=True)
                if decimals is not None else official_average_md(targets[i], predictions[i],
                                                                 None, final=False)
                for i in range(len(targets))]
    mean = sum(per_item) / len(per_item)
    return _r(mean, decimals) if final else mean


def official_error_rate(targets, predictions, decimals=5):
    scores = []
    for t, p in zip(targets, predictions):
        errors = sum(abs(tk - pk) for tk, pk in zip(t, p))
        scores.append(_r(1 - ((len(t) - errors) / len(t)), decimals))
    return float(np.mean(scores))


def official_multilabel_error_rate(targets, predictions, decimals=5):
    return float(np.mean([official_error_rate(targets[i], predictions[i], decimals)
                          for i in range(len(targets))]))


def official_wasserstein(targets, predictions, final=True):
    total = 0.0
    for t, p in zip(targets, predictions):
        size = len(t)
        cost = np.abs(np.arange(size).reshape(-1, 1) - np.arange(size)).astype(float)
        total += ot.emd2(np.asarray(t, float), np.asarray(p, float), cost)
    mean = total / len(targets)
    return round(mean, 5) if final else mean


def official_anad(targets, predictions, scale):
    out = []
    for t, p in zip(targets, predictions):
        d = 0
        for j in range(len(t)):
            d = d + abs(t[j] - p[j])
        out.append(d / len(t) / scale)
    return float(np.mean(out))


def _ragged(wide):
    """Wide annotations (NaN = absent) as the scorer's per-item lists of present labels."""
    return [[v for v in row if not np.isnan(v)] for row in wide]


# --------------------------------------------------------------------------- data
def dists(rng, n, K, kind="dirichlet"):
    if kind == "votes":  # vote fractions of 10 annotators: values on a grid of 0.1
        return rng.multinomial(10, rng.dirichlet(np.ones(K)), size=n) / 10.0
    return rng.dirichlet(np.full(K, 0.7), size=n)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- Manhattan
@pytest.mark.parametrize("kind", ["dirichlet", "votes"])
@pytest.mark.parametrize("K", [2, 3, 11])
def test_manhattan_matches_the_official_formula(rng, K, kind):
    T, P = dists(rng, 300, K, kind), dists(rng, 300, K, kind)
    ours = manhattan_distance(T, P, round_items=5)
    assert abs(ours - official_average_md(T, P, final=False)) <= 1e-12
    assert round(ours, 5) == official_average_md(T, P)
    plain = manhattan_distance(T, P)
    assert abs(plain - official_average_md(T, P, None, final=False)) <= 1e-12
    assert abs(plain - 2 * total_variation(T, P)) <= 1e-12
    assert abs(plain - np.abs(P - T).sum(1).mean()) <= 1e-12


def test_manhattan_hard_targets_labels_and_weights(rng):
    P = dists(rng, 50, 3)
    y = rng.integers(0, 3, 50)
    w = rng.uniform(0.1, 3, 50)
    onehot = np.eye(3)[y]
    assert manhattan_distance(y, P) == pytest.approx(manhattan_distance(onehot, P), abs=1e-14)
    names = np.array(["c", "e", "n"])
    assert manhattan_distance(names[y], P, labels=names) == pytest.approx(
        manhattan_distance(y, P), abs=1e-14)
    ref = np.sum(w * np.abs(P - onehot).sum(1)) / w.sum()
    assert abs(manhattan_distance(y, P, sample_weight=w) - ref) <= 1e-12
    # integer weights are repetitions
    k = rng.integers(0, 4, 50)
    k[0] = 1
    rep = np.repeat(np.arange(50), k)
    assert abs(manhattan_distance(y, P, sample_weight=k)
               - manhattan_distance(y[rep], P[rep])) <= 1e-12
    # 1-D binary probabilities
    p1 = P[:, 0] / P[:, :2].sum(1)
    assert manhattan_distance(np.array([0, 1, 1]), p1[:3]) == pytest.approx(
        manhattan_distance(np.array([0, 1, 1]), np.column_stack([1 - p1[:3], p1[:3]])))


def test_rounding_is_pythons_round():
    # 0.5 * 1.0000000000000002e-05 style values: numpy's round and Python's can differ; the
    # metric must follow the scorer's Python round on every item
    T = np.array([[1.0, 0.0], [1.0, 0.0]])
    P = np.array([[1 - 0.0000125, 0.0000125], [1 - 0.0000175, 0.0000175]])
    d = np.abs(P - T).sum(1)
    expected = np.mean([round(v, 5) for v in d.tolist()])
    assert manhattan_distance(T, P, round_items=5) == pytest.approx(expected, abs=1e-15)
    assert manhattan_distance(T, P, round_items=0) == 0.0


# --------------------------------------------------------------------------- multilabel
@pytest.mark.parametrize("decimals", [5, None])
def test_multilabel_manhattan_matches_the_official_formula(rng, decimals):
    n, L = 200, 3
    T = np.stack([dists(rng, n, 2, "votes") for _ in range(L)], axis=1)  # (n, L, 2)
    P = np.stack([dists(rng, n, 2) for _ in range(L)], axis=1)
    ours = multilabel_manhattan_distance(T, P, round_items=decimals)
    ref = official_multilabel_md(T, P, decimals, final=False)
    assert abs(ours - ref) <= 1e-12
    if decimals == 5:
        assert round(ours, 5) == official_multilabel_md(T, P)
    # the 2-D form: P(label applies)
    two_d = multilabel_manhattan_distance(T[:, :, 1], P[:, :, 1], round_items=decimals)
    assert abs(two_d - ours) <= 1e-12
    # one label: the single-label metric
    assert abs(multilabel_manhattan_distance(T[:, :1], P[:, :1], round_items=decimals)
               - manhattan_distance(T[:, 0], P[:, 0], round_items=decimals)) <= 1e-12


# --------------------------------------------------------------------------- Wasserstein
@pytest.mark.parametrize("K", [2, 6, 11])
def test_wasserstein_matches_pot_scipy_and_the_official_formula(rng, K):
    T, P = dists(rng, 120, K, "votes"), dists(rng, 120, K)
    ours = wasserstein_ordinal(T, P)
    assert abs(ours - official_wasserstein(T, P, final=False)) <= 1e-12
    assert round(ours, 5) == official_wasserstein(T, P)
    x = np.arange(K)
    ref = np.mean([scipy.stats.wasserstein_distance(x, x, t, p) for t, p in zip(T, P)])
    assert abs(ours - ref) <= 1e-12
    # hard targets: the expected distance of the prediction to the label, in bins
    y = rng.integers(0, K, 120)
    hard = np.mean([np.sum(P[i] * np.abs(x - y[i])) for i in range(120)])
    assert abs(wasserstein_ordinal(y, P) - hard) <= 1e-12


def test_wasserstein_order_matters_and_weights(rng):
    T = np.array([[1.0, 0.0, 0.0]])
    assert wasserstein_ordinal(T, np.array([[0.0, 1.0, 0.0]])) == 1.0
    assert wasserstein_ordinal(T, np.array([[0.0, 0.0, 1.0]])) == 2.0
    assert manhattan_distance(T, np.array([[0.0, 0.0, 1.0]])) == 2.0
    Tn, P = dists(rng, 40, 5), dists(rng, 40, 5)
    w = rng.uniform(0, 2, 40)
    per = np.array([scipy.stats.wasserstein_distance(np.arange(5), np.arange(5), t, p)
                    for t, p in zip(Tn, P)])
    assert abs(wasserstein_ordinal(Tn, P, sample_weight=w) - np.sum(w * per) / w.sum()) <= 1e-12


# --------------------------------------------------------------------------- perspectivist
def _wide(rng, n, J, values, missing=0.3):
    t = rng.choice(values, size=(n, J)).astype(float)
    t[rng.random((n, J)) < missing] = np.nan
    t[:, 0] = rng.choice(values, size=n)  # every item has an annotator
    return t


@pytest.mark.parametrize("decimals", [5, None])
def test_error_rate_matches_the_official_formula(rng, decimals):
    t = _wide(rng, 300, 7, [0, 1])
    p = rng.integers(0, 2, t.shape).astype(float)
    ours = annotator_error_rate(t, p, round_items=decimals)
    ref = official_error_rate(_ragged(t), [[p[i, j] for j in range(7) if not np.isnan(t[i, j])]
                                           for i in range(300)], decimals)
    assert abs(ours - ref) <= 1e-12
    # categorical labels: a mismatch counts 1 (the scorer's |t - p| only for 0/1 labels)
    t3 = _wide(rng, 50, 5, [0, 1, 2])
    p3 = rng.integers(0, 3, t3.shape).astype(float)
    present = ~np.isnan(t3)
    ref3 = np.mean([(t3[i][present[i]] != p3[i][present[i]]).mean() for i in range(50)])
    assert abs(annotator_error_rate(t3, p3) - ref3) <= 1e-12


@pytest.mark.parametrize("decimals", [5, None])
def test_multilabel_error_rate_matches_the_official_formula(rng, decimals):
    n, J, L = 150, 4, 3
    t = rng.integers(0, 2, (n, J, L)).astype(float)
    absent = rng.random((n, J)) < 0.3
    absent[:, 0] = False
    t[absent] = np.nan
    p = rng.integers(0, 2, (n, J, L)).astype(float)
    ours = annotator_error_rate(t, p, round_items=decimals)
    # the scorer's layout: per item, one vector over the present annotators per label
    tr = [[[t[i, j, lab] for j in range(J) if not absent[i, j]] for lab in range(L)]
          for i in range(n)]
    pr = [[[p[i, j, lab] for j in range(J) if not absent[i, j]] for lab in range(L)]
          for i in range(n)]
    assert abs(ours - official_multilabel_error_rate(tr, pr, decimals)) <= 1e-12


@pytest.mark.parametrize("scale, values", [(11, np.arange(-5, 6)), (6, np.arange(1, 7))])
def test_anad_matches_the_official_formula(rng, scale, values):
    t = _wide(rng, 250, 6, values)
    p = rng.choice(values, size=t.shape).astype(float)
    p[np.isnan(t)] = np.nan  # predictions only where annotators are (NaN elsewhere is fine)
    ours = annotator_absolute_distance(t, p, n_scale_points=scale)
    pr = [[p[i, j] for j in range(6) if not np.isnan(t[i, j])] for i in range(250)]
    assert abs(ours - official_anad(_ragged(t), pr, scale)) <= 1e-12
    w = rng.uniform(0.5, 2, 250)
    per = np.array([official_anad([a], [b], scale) for a, b in zip(_ragged(t), pr)])
    assert abs(annotator_absolute_distance(t, p, n_scale_points=scale, sample_weight=w)
               - np.sum(w * per) / w.sum()) <= 1e-12


# --------------------------------------------------------------------------- intervals
def test_intervals_are_the_poisson_bootstrap_of_the_items(rng):
    T, P = dists(rng, 90, 4), dists(rng, 90, 4)
    w = rng.uniform(0.5, 2, 90)
    e = manhattan_distance(T, P, sample_weight=w, n_bootstrap=200, random_state=3,
                           confidence=0.9)
    assert isinstance(e, Estimate) and e.low <= e <= e.high
    assert e.confidence == 0.9
    s = np.abs(P - T).sum(1)
    W = bootstrap_weights(90, 200, random_state=3).astype(float)
    reps = (W @ (w * s)) / (W @ w)
    lo, hi = np.percentile(reps, [5, 95])
    assert e.low == pytest.approx(lo, abs=1e-12) and e.high == pytest.approx(hi, abs=1e-12)
    assert e.se == pytest.approx(np.std(reps, ddof=1), abs=1e-12)
    again = manhattan_distance(T, P, sample_weight=w, n_bootstrap=200, random_state=3,
                               confidence=0.9)
    assert (again.low, again.high) == (e.low, e.high)
    # clusters: every item takes the weight of its cluster
    clusters = np.arange(90) // 3
    ec = wasserstein_ordinal(T, P, n_bootstrap=100, random_state=1, clusters=clusters)
    s = np.abs(np.cumsum(P - T, axis=1)[:, :-1]).sum(1)
    Wc = bootstrap_weights(30, 100, random_state=1).astype(float)[:, clusters]
    reps = (Wc @ s) / Wc.sum(1)
    assert ec.low == pytest.approx(np.percentile(reps, 2.5), abs=1e-12)
    with pytest.raises(ValueError, match="clusters"):
        manhattan_distance(T, P, clusters=clusters)


@pytest.mark.parametrize("metric, args", [
    (annotator_error_rate, {}),
    (annotator_absolute_distance, {"n_scale_points": 2}),
])
def test_perspectivist_intervals(rng, metric, args):
    t = _wide(rng, 60, 5, [0, 1])
    p = rng.integers(0, 2, t.shape).astype(float)
    e = metric(t, p, n_bootstrap=50, random_state=0, **args)
    assert isinstance(e, Estimate) and e.low <= float(e) <= e.high
    assert float(e) == pytest.approx(metric(t, p, **args), abs=0)


# --------------------------------------------------------------------------- report, scorers
def test_report_and_scorers(rng):
    import sklearn

    from sksoft.linear_model import SoftLogisticRegression

    T, P = dists(rng, 80, 3), dists(rng, 80, 3)
    rep = calibration_report(T, P, n_bins=5)
    assert abs(rep["manhattan_distance"] - manhattan_distance(T, P)) <= 1e-12
    boot = calibration_report(T, P, n_bins=5, n_bootstrap=30, random_state=0)
    assert boot["manhattan_distance"].low == pytest.approx(2 * boot["total_variation"].low)

    X = rng.normal(size=(80, 3))
    est = SoftLogisticRegression().fit(X, T)
    Q = est.predict_proba(X)
    assert get_scorer("neg_manhattan_distance")(est, X, T) == pytest.approx(
        -manhattan_distance(T, Q), abs=1e-14)
    assert get_scorer("neg_wasserstein_ordinal")(est, X, T) == pytest.approx(
        -wasserstein_ordinal(T, Q), abs=1e-14)
    y = T.argmax(1)
    sklearn.set_config(enable_metadata_routing=True)
    try:
        assert get_scorer("human_neg_manhattan_distance")(est, X, y, soft_labels=T) == \
            pytest.approx(-manhattan_distance(T, Q), abs=1e-14)
        assert get_scorer("human_neg_wasserstein_ordinal")(est, X, y, soft_labels=T) == \
            pytest.approx(-wasserstein_ordinal(T, Q), abs=1e-14)
    finally:
        sklearn.set_config(enable_metadata_routing=False)


# --------------------------------------------------------------------------- hypothesis
@st.composite
def _pair(draw):
    n = draw(st.integers(1, 12))
    K = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    r = np.random.default_rng(seed)
    grid = draw(st.booleans())
    kind = "votes" if grid else "dirichlet"
    return dists(r, n, K, kind), dists(r, n, K, kind), r.uniform(0.0, 3.0, n) + 1e-3


@settings(max_examples=60)
@given(_pair())
def test_hypothesis_distances_match_the_references(pair):
    T, P, w = pair
    K = T.shape[1]
    assert abs(manhattan_distance(T, P, round_items=5)
               - official_average_md(T, P, final=False)) <= 1e-12
    assert abs(wasserstein_ordinal(T, P) - official_wasserstein(T, P, final=False)) <= 1e-12
    x = np.arange(K)
    per = np.array([scipy.stats.wasserstein_distance(x, x, t, p) for t, p in zip(T, P)])
    assert abs(wasserstein_ordinal(T, P, sample_weight=w) - np.sum(w * per) / w.sum()) <= 1e-12
    md = manhattan_distance(T, P)
    assert 0 <= md <= 2 + 1e-12
    # the earth mover's distance is at least half the L1 distance (mass moves >= 1 bin)
    assert wasserstein_ordinal(T, P) >= 0.5 * md - 1e-12
    assert manhattan_distance(T, T) == 0 and wasserstein_ordinal(P, P) == 0


@settings(max_examples=40)
@given(st.integers(1, 15), st.integers(1, 6), st.integers(2, 11), st.integers(0, 2**32 - 1))
def test_hypothesis_perspectivist_match_the_references(n, J, scale, seed):
    r = np.random.default_rng(seed)
    t = _wide(r, n, J, np.arange(scale))
    p = r.integers(0, scale, t.shape).astype(float)
    pr = [[p[i, j] for j in range(J) if not np.isnan(t[i, j])] for i in range(n)]
    assert abs(annotator_absolute_distance(t, p, n_scale_points=scale)
               - official_anad(_ragged(t), pr, scale)) <= 1e-12
    tb, pb = (t > scale // 2).astype(float), (p > scale // 2).astype(float)
    tb[np.isnan(t)] = np.nan
    prb = [[pb[i, j] for j in range(J) if not np.isnan(t[i, j])] for i in range(n)]
    assert abs(annotator_error_rate(tb, pb, round_items=5)
               - official_error_rate(_ragged(tb), prb)) <= 1e-12


# --------------------------------------------------------------------------- hostile input
DIST_METRICS = [manhattan_distance, wasserstein_ordinal]


@pytest.mark.parametrize("metric", DIST_METRICS, ids=lambda f: f.__name__)
def test_distance_metrics_reject_bad_input(metric):
    T = np.array([[0.5, 0.5], [1.0, 0.0]])
    P = np.array([[0.2, 0.8], [0.6, 0.4]])
    cases = [
        ((T[:1], P), ValueError, "samples"),
        ((T, np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])), ValueError, "columns|classes"),
        ((T, np.array([[np.nan, 1.0], [0.5, 0.5]])), ValueError, "NaN"),
        ((np.array([[0.5, 0.4], [1.0, 0.0]]), P), ValueError, "sum to 1"),
        ((T, np.array([[0.5, 0.6], [0.5, 0.5]])), ValueError, "sum to 1"),
        ((T, np.array([[-0.5, 1.5], [0.5, 0.5]])), ValueError, "negative"),
        ((T, np.zeros((0, 2))), ValueError, "empty"),
        ((np.array([0, 2]), P), ValueError, "label|range|class"),
        ((T, np.array([["a", "b"], ["c", "d"]])), (TypeError, ValueError), "y_prob"),
    ]
    for args, exc, match in cases:
        with pytest.raises(exc, match=match):
            metric(*args)
    with pytest.raises(TypeError, match="round_items"):
        metric(T, P, round_items=2.5)
    with pytest.raises(ValueError, match="round_items"):
        metric(T, P, round_items=-1)
    with pytest.raises(ValueError, match="sample_weight"):
        metric(T, P, sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="n_bootstrap"):
        metric(T, P, n_bootstrap=-1)


def test_inputs_are_not_modified_and_views_work(rng):
    T, P = dists(rng, 20, 3), dists(rng, 20, 3)
    Tv = np.repeat(T, 2, axis=0)[::2]
    Pv = np.asfortranarray(P)
    for a in (Tv, Pv):
        a.flags.writeable = False
    before = (Tv.copy(), Pv.copy())
    for metric in DIST_METRICS:
        assert metric(Tv, Pv, round_items=5) == metric(T, P, round_items=5)
    t = _wide(rng, 20, 4, [0, 1])
    p = rng.integers(0, 2, t.shape).astype(float)
    tv, pv = t.T.copy().T, p.copy()
    tv.flags.writeable = pv.flags.writeable = False
    annotator_error_rate(tv, pv)
    annotator_absolute_distance(tv, pv, n_scale_points=2)
    np.testing.assert_array_equal(Tv, before[0])
    np.testing.assert_array_equal(Pv, before[1])
    np.testing.assert_array_equal(tv, t)


def test_multilabel_rejects_bad_input():
    T = np.array([[[0.5, 0.5], [1.0, 0.0]]])
    with pytest.raises(ValueError, match="same shape"):
        multilabel_manhattan_distance(T, T[:, :1])
    with pytest.raises(ValueError, match="sum to 1"):
        multilabel_manhattan_distance(T, np.array([[[0.5, 0.6], [1.0, 0.0]]]))
    with pytest.raises(ValueError, match="NaN"):
        multilabel_manhattan_distance(T, np.array([[[np.nan, 0.5], [1.0, 0.0]]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        multilabel_manhattan_distance(np.array([[0.5, 1.5]]), np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match="shape"):
        multilabel_manhattan_distance(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        multilabel_manhattan_distance(np.zeros((0, 2, 2)), np.zeros((0, 2, 2)))
    with pytest.raises(TypeError, match="numeric"):
        multilabel_manhattan_distance(np.array([["a"]]), np.array([["b"]]))


def test_perspectivist_metrics_reject_bad_input():
    t = np.array([[1.0, 0.0, np.nan], [0.0, 1.0, 1.0]])
    p = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    for metric, kw in ((annotator_error_rate, {}),
                       (annotator_absolute_distance, {"n_scale_points": 2})):
        with pytest.raises(ValueError, match="same shape"):
            metric(t, p[:, :2], **kw)
        with pytest.raises(ValueError, match="no annotation for item 0"):
            metric(np.array([[np.nan, np.nan]]), np.array([[0.0, 1.0]]), **kw)
        with pytest.raises(ValueError, match="y_pred has NaN"):
            metric(t, np.where(t == 0, np.nan, p), **kw)
        with pytest.raises(ValueError, match="infinity"):
            metric(t, np.where(t == 0, np.inf, p), **kw)
        with pytest.raises(ValueError, match="empty"):
            metric(np.zeros((0, 2)), np.zeros((0, 2)), **kw)
        with pytest.raises(ValueError, match="shape"):
            metric(np.ones(3), np.ones(3), **kw)
        with pytest.raises(TypeError, match="numeric"):
            metric(np.array([["a", "b"]]), np.array([["a", "b"]]), **kw)
    with pytest.raises(ValueError, match="some labels missing"):
        annotator_error_rate(np.array([[[1.0, np.nan]]]), np.array([[[1.0, 0.0]]]))
    with pytest.raises(ValueError, match="n_scale_points"):
        annotator_absolute_distance(t, p, n_scale_points=1)
    with pytest.raises(TypeError, match="n_scale_points"):
        annotator_absolute_distance(t, p, n_scale_points=5.0)
    with pytest.raises(ValueError, match="one scale"):
        annotator_absolute_distance(np.ones((2, 2, 2)), np.ones((2, 2, 2)), n_scale_points=2)
