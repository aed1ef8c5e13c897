"""Property-based tests of the whole public surface with hypothesis.

For the metrics, the estimators' ``fit`` / ``predict_proba``, the label sources and the
annotation functions:

* random **valid** inputs agree with plain-numpy references (``tests/_reference.py``);
* random **invalid** inputs -- NaN, inf, negative values, wrong shapes and lengths, junk
  dtypes, empty arrays, bad scalars -- raise ``ValueError`` or ``TypeError``, never anything
  else and never a crash;
* no input array is modified, and read-only, non-contiguous and float32 inputs work.

Each test takes a share of the hypothesis profile's ``max_examples`` (see tests/conftest.py):
the shares sum to 12, so the default "fast" profile runs about 300 examples across this file
and the "slow" one (``pytest --runslow`` or ``HYPOTHESIS_PROFILE=slow``) about 12,000.
"""

import io
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import _reference as ref
from conftest import bounded_memory, random_probs
from sksoft import annotations as A
from sksoft import metrics as M
from sksoft.label_sources import (
    CrowdAggregate,
    EnsembleDisagreement,
    GoldLabels,
    HumanMajority,
    HumanSoftLabels,
    LabelSmoothing,
    MixtureOfSources,
    ModeAlignedHumanLabels,
    TeacherDistillation,
    make_training_targets,
)
from sksoft.linear_model import SoftLogisticRegression
from sksoft.meta import SoftExpand

BAD = (ValueError, TypeError)
SHARES = {}


def share(fraction):
    """Settings giving a test ``fraction`` of the profile's max_examples (at least 2)."""
    def deco(fn):
        SHARES[fn.__name__] = fraction
        return settings(max_examples=max(2, round(settings.default.max_examples * fraction)))(fn)
    return deco


# --------------------------------------------------------------------------- inputs
def _layout(a, how):
    """The same values as a read-only, non-contiguous or Fortran-ordered array."""
    if how == "readonly":
        a = a.copy()
        a.setflags(write=False)
    elif how == "noncontiguous":
        wide = np.repeat(a, 2, axis=0)
        a = wide[::2]
    elif how == "fortran":
        a = np.asfortranarray(a)
    return a


@st.composite
def metric_cases(draw, soft=None):
    """(y_true, y_prob, sample_weight, dtype): random valid metric input."""
    n = draw(st.integers(1, 40))
    K = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["dirichlet", "grid", "peaked", "onehot"]))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    if kind == "onehot":
        p = np.eye(K, dtype=dtype)[rng.integers(0, K, n)]
    else:
        p = random_probs(rng, n, K, kind, dtype)
    soft = draw(st.booleans()) if soft is None else soft
    y = random_probs(rng, n, K, "grid") if soft else rng.integers(0, K, n)
    weight = draw(st.sampled_from(["none", "array", "scalar", "integers"]))
    w = {"none": None, "scalar": 2.5, "array": rng.uniform(0.1, 2.0, n),
         "integers": rng.integers(1, 4, n)}[weight]
    p = _layout(p, draw(st.sampled_from(["plain", "readonly", "noncontiguous", "fortran"])))
    return y, p, w, dtype


def _weights(w, n):
    if w is None:
        return None
    return np.broadcast_to(np.asarray(w, dtype=np.float64), (n,))


METRICS = {
    "accuracy": M.accuracy_score,
    "brier": M.brier_score_loss,
    "cross_entropy": M.log_loss,
    "kl_divergence": M.kl_divergence,
    "jensen_shannon": M.jensen_shannon_divergence,
    "total_variation": M.total_variation,
}


# --------------------------------------------------------------------------- metrics: valid
@given(case=metric_cases(), n_bins=st.integers(1, 25), norm=st.sampled_from(["l1", "l2", "max"]))
@share(1.5)
def test_metrics_agree_with_numpy_references(case, n_bins, norm):
    y, p, w, dtype = case
    before = [np.array(a, copy=True) for a in (y, p, w) if a is not None]
    n, K = p.shape
    ww = _weights(w, n)
    eps = float(np.finfo(dtype).eps)
    tol = dict(rel=1e-5, abs=1e-6) if dtype == np.float32 else dict(rel=1e-9, abs=1e-10)
    assert M.expected_calibration_error(y, p, n_bins=n_bins, norm=norm, sample_weight=w) == \
        pytest.approx(ref.ece(y, p, n_bins, norm, ww), **tol)
    assert M.classwise_calibration_error(y, p, n_bins=n_bins, norm=norm, sample_weight=w) == \
        pytest.approx(ref.classwise_ece(y, p, n_bins, norm, ww), **tol)
    want = ref.scores(y, p, ww, eps=eps)
    for name, fn in METRICS.items():
        assert fn(y, p, sample_weight=w) == pytest.approx(want[name], **tol), name
    assert M.entropy(p, sample_weight=w) == pytest.approx(want["entropy_pred"], **tol)
    np.testing.assert_allclose(M.entropy(p, average=False), ref.entropy_rows(p),
                               rtol=tol["rel"], atol=tol["abs"])
    rep = M.calibration_report(y, p, n_bins=n_bins, sample_weight=w)
    for name in ("accuracy", "brier", "cross_entropy", "kl_divergence", "jensen_shannon",
                 "total_variation"):
        assert rep[name] == pytest.approx(want[name], **tol), name
    assert rep["ece"] == pytest.approx(ref.ece(y, p, n_bins, "l1", ww), **tol)
    # the same hard labels named by labels= give the same numbers
    if y.ndim == 1:
        names = np.array([f"class {k}" for k in range(K)])
        assert M.accuracy_score(names[y], p, labels=names, sample_weight=w) == pytest.approx(
            want["accuracy"], **tol)
    # no input was modified
    for a, b in zip([a for a in (y, p, w) if a is not None], before):
        np.testing.assert_array_equal(a, b)


@given(case=metric_cases(soft=True))
@share(0.5)
def test_entropy_correlation_is_spearman_of_the_entropies(case):
    from scipy.stats import spearmanr

    y, p, w, dtype = case
    h_true, h_pred = ref.entropy_rows(y), ref.entropy_rows(p)
    for h in (h_true, h_pred):
        d = np.diff(np.sort(h))
        # ties are defined up to 1e-12 (relative): keep inputs whose ties are exact or far
        assume(np.all((d == 0) | (d > 1e-9)))
    got = M.entropy_correlation(y, p)
    want = spearmanr(h_true, h_pred)[0] if len(y) > 1 else np.nan
    if np.isnan(want):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(want, abs=1e-9)


# --------------------------------------------------------------------------- metrics: invalid
def _corrupt_prob(p, how, rng):
    n, K = p.shape
    i, k = rng.integers(0, n), rng.integers(0, K)
    q = np.array(p, dtype=np.float64, copy=True)
    if how == "nan":
        q[i, k] = np.nan
    elif how == "inf":
        q[i, k] = np.inf
    elif how == "negative":
        q[i, k] = -0.25
    elif how == "row sum":
        q[i] = q[i] * 1.1 + 0.01
    elif how == "3-D":
        q = q[:, :, None]
    elif how == "0-D":
        q = np.float64(0.5)
    elif how == "empty":
        q = q[:0]
    elif how == "strings":
        q = q.astype(str)
    elif how == "complex":
        q = q + 1j
    elif how == "objects":
        q = q.astype(object)
        q[i, k] = None
    elif how == "dates":
        q = q.astype("datetime64[s]")
    elif how == "short":
        q = q[:-1] if n > 1 else q[:, :, None]
    return q


def _corrupt_labels(y, K, how, rng):
    n = y.shape[0]
    i = rng.integers(0, n)
    if y.ndim == 2:  # soft labels
        t = np.array(y, copy=True)
        if how == "nan":
            t[i, 0] = np.nan
        elif how == "negative":
            t[i, 0] = -0.5
        elif how == "row sum":
            t[i] = t[i] * 2 + 0.1
        elif how == "columns":
            t = np.column_stack([t, np.zeros(n)])
        elif how == "short":
            t = t[:-1] if n > 1 else t[:, :, None]
        else:
            t = t.astype(str)
        return t
    y = np.array(y, copy=True)
    if how == "nan":
        y = y.astype(float)
        y[i] = np.nan
    elif how == "negative":
        y[i] = -1
    elif how == "row sum":
        y[i] = K  # out of range
    elif how == "columns":
        y = y.astype(float) + 0.5  # not integers
    elif how == "short":
        y = y[:-1] if n > 1 else y[:, None, None]
    else:
        y = y.astype(str)
    return y


BAD_SCALARS = [
    {"n_bins": 0}, {"n_bins": 2.5}, {"n_bins": "15"}, {"n_bins": 10**9}, {"n_bins": None},
    {"strategy": "median"}, {"strategy": 3}, {"norm": "l3"}, {"debias": "yes"},
    {"n_bootstrap": -1}, {"n_bootstrap": 1.5}, {"confidence": 1.0}, {"confidence": np.nan},
    {"random_state": "seed", "n_bootstrap": 3}, {"n_threads": 0}, {"labels": 5},
    {"labels": [0, 0, 1]}, {"sample_weight": np.nan}, {"sample_weight": -1.0},
    {"sample_weight": 0.0}, {"sample_weight": "heavy"}, {"sample_weight": np.ones(50)},
    {"clusters": np.nan, "n_bootstrap": 3}, {"eps": 2.0}, {"eps": -1e-3},
]
_COMMON = {"sample_weight", "labels", "n_bootstrap", "confidence", "random_state", "clusters"}
#: every metric of y_true and y_prob, with the keyword parameters it takes
METRIC_CALLS = [
    (M.expected_calibration_error, _COMMON | {"n_bins", "strategy", "norm", "debias",
                                              "n_threads"}),
    (M.classwise_calibration_error, _COMMON | {"n_bins", "strategy", "norm", "debias",
                                               "n_threads"}),
    (M.calibration_report, _COMMON | {"n_bins", "strategy", "n_threads", "eps"}),
    (M.reliability_curve, {"sample_weight", "labels", "n_bins", "strategy"}),
    (M.log_loss, _COMMON | {"eps"}),
    (M.kl_divergence, _COMMON | {"eps"}),
    *[(fn, _COMMON) for fn in (M.accuracy_score, M.brier_score_loss,
                               M.jensen_shannon_divergence,
                               M.total_variation)],
]


@given(case=metric_cases(), target=st.sampled_from(["y_prob", "y_true", "scalar"]),
       how=st.sampled_from(["nan", "inf", "negative", "row sum", "3-D", "0-D", "empty",
                            "strings", "complex", "objects", "dates", "short", "columns"]),
       scalar=st.sampled_from(BAD_SCALARS), seed=st.integers(0, 2**32 - 1))
@share(1.5)
def test_metrics_refuse_invalid_input_with_value_or_type_errors(case, target, how, scalar, seed):
    y, p, w, _ = case
    rng = np.random.default_rng(seed)
    kw = {"sample_weight": w}
    if target == "y_prob":
        assume(how != "columns")
        p = _corrupt_prob(p, how, rng)
    elif target == "y_true":
        y = _corrupt_labels(y, p.shape[1], how, rng)
    else:
        kw.update(scalar)
    checked = 0
    for fn, takes in METRIC_CALLS:
        if not set(kw) - {"sample_weight"} <= takes:
            continue
        checked += 1
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            with pytest.raises(BAD):
                fn(y, p, **kw)
    assert checked
    if target == "y_prob" and how not in ("short",):
        with pytest.raises(BAD):
            M.entropy(p, sample_weight=w)


# --------------------------------------------------------------------------- estimators
@st.composite
def fit_cases(draw, max_classes=5):
    n = draw(st.integers(4, 40))
    d = draw(st.integers(1, 5))
    K = draw(st.integers(2, max_classes))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(n, d)) * draw(st.sampled_from([0.1, 1.0, 10.0]))
    soft = draw(st.booleans())
    if soft:
        Y = random_probs(rng, n, K, draw(st.sampled_from(["dirichlet", "grid", "peaked"])))
    else:
        Y = np.concatenate([np.arange(K), rng.integers(0, K, n - K)]) if n >= K else \
            rng.integers(0, K, n)
        assume(len(np.unique(Y)) >= 2)
    w = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    X = _layout(X, draw(st.sampled_from(["plain", "readonly", "noncontiguous", "fortran"])))
    return X, Y, w


def _as_targets(Y):
    if Y.ndim == 2:
        return Y
    classes = np.unique(Y)
    return (Y[:, None] == classes[None, :]).astype(float)


@given(case=fit_cases(), C=st.sampled_from([0.1, 1.0, 10.0]), fit_intercept=st.booleans())
@share(0.75)
def test_soft_logistic_regression_reaches_the_reference_optimum(case, C, fit_intercept):
    X, Y, w = case
    before = [np.array(a, copy=True) for a in (X, Y, w) if a is not None]
    clf = SoftLogisticRegression(C=C, fit_intercept=fit_intercept, tol=1e-8, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, Y, sample_weight=w)
    T = _as_targets(Y)
    ww = np.ones(len(X)) if w is None else w
    g = ref.logistic_gradient(X, T, ww, C, clf.coef_, clf.intercept_)
    if not fit_intercept:
        g = g[:clf.coef_.size]
    # a stationary point of the (independently written) objective, relative to its scale
    assert np.max(np.abs(g)) / ww.sum() < 1e-5
    P = clf.predict_proba(X)
    Z = np.asarray(X, dtype=np.float64) @ clf.coef_.T + clf.intercept_
    want = np.column_stack([1 / (1 + np.exp(Z[:, 0])), 1 / (1 + np.exp(-Z[:, 0]))]) \
        if clf.coef_.shape[0] == 1 else np.exp(Z - Z.max(1, keepdims=True))
    want = want / want.sum(1, keepdims=True)
    np.testing.assert_allclose(P, want, rtol=1e-10, atol=1e-12)
    for a, b in zip([a for a in (X, Y, w) if a is not None], before):
        np.testing.assert_array_equal(a, b)


class _Recorder:
    """A classifier that records what SoftExpand fits it on and predicts fixed rows."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def get_params(self, deep=True):
        return {"offset": self.offset}

    def set_params(self, **params):
        self.offset = params.get("offset", self.offset)
        return self

    def fit(self, X, y, sample_weight=None):
        self.X_, self.y_, self.w_ = np.array(X), np.array(y), np.array(sample_weight)
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        s = np.abs(np.asarray(X)).sum(1, keepdims=True) + np.arange(1, len(self.classes_) + 1)
        return s / s.sum(1, keepdims=True)


@given(case=fit_cases())
@share(0.75)
def test_soft_expand_fits_the_reference_expansion(case):
    X, Y, w = case
    T = _as_targets(Y)
    K = T.shape[1]
    est = SoftExpand(_Recorder()).fit(X, Y, sample_weight=w)
    inner = est.estimator_
    # reference: row i repeated for every class k with y_ik * w_i > 0, weight y_ik * w_i
    W = T * (1.0 if w is None else w[:, None])
    rows, cols = np.nonzero(W > 0)
    np.testing.assert_array_equal(inner.X_, np.asarray(X)[rows])
    np.testing.assert_array_equal(inner.y_, cols)
    np.testing.assert_allclose(inner.w_, W[rows, cols], rtol=1e-15)
    P = est.predict_proba(X)
    assert P.shape == (len(X), K)
    want = np.zeros((len(X), K))
    want[:, inner.classes_] = inner.predict_proba(X)
    np.testing.assert_array_equal(P, want)


@given(case=fit_cases(max_classes=3), tensor=st.booleans())
@share(0.25)
def test_soft_neural_net_gives_probabilities_and_tensors_equal_arrays(case, tensor):
    torch = pytest.importorskip("torch")
    from sksoft.neural_network import SoftNeuralNetClassifier

    X, Y, _ = case
    X32 = np.asarray(X, dtype=np.float32)

    def net():
        return SoftNeuralNetClassifier(max_epochs=1, batch_size=16, train_split=None,
                                       module__hidden_units=(4,), random_state=0)

    P = net().fit(X32, Y).predict_proba(X32)
    assert P.shape == (len(X), _as_targets(Y).shape[1])
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-12)
    if tensor:
        Pt = net().fit(torch.from_numpy(X32), Y).predict_proba(torch.from_numpy(X32))
        np.testing.assert_array_equal(Pt, P)


def _estimator(kind):
    if kind == "logreg":
        return SoftLogisticRegression(max_iter=50)
    if kind == "expand":
        from sklearn.linear_model import LogisticRegression

        return SoftExpand(LogisticRegression(max_iter=50))
    from sksoft.neural_network import SoftNeuralNetClassifier

    return SoftNeuralNetClassifier(max_epochs=1, train_split=None, module__hidden_units=(4,))


def _bad_X(X, how, i):
    X = np.array(X, copy=True)
    if how in ("nan", "inf"):
        X[i, 0] = np.nan if how == "nan" else -np.inf
        return X
    return {"strings": lambda: np.where(X > 0, "a", "b"), "1-D": lambda: X[:, 0],
            "empty": lambda: X[:0],
            "short": lambda: X[:-1], "complex": lambda: X + 1j,
            "objects": lambda: _set_object(X, i)}[how]()


def _set_object(X, i):
    X = X.astype(object)
    X[i, 0] = None
    return X


def _bad_y(Y, how, i):
    Y = np.array(Y, copy=True)
    if how == "short":
        return Y[:-1]
    if how == "strings 2-D":
        return np.column_stack([Y.astype(str)] * 2) if Y.ndim == 1 else Y.astype(str)
    if Y.ndim == 2:
        Y[i, 0] = {"nan": np.nan, "negative": -0.5, "one class": 5.0, "floats": 0.7}[how]
        return Y
    if how == "nan":
        Y = Y.astype(float)
        Y[i] = np.nan
        return Y
    if how == "floats":
        return Y + 0.5
    if how == "one class":
        return np.zeros_like(Y)
    return np.full(Y.shape, None, dtype=object)  # "negative": missing labels


@given(case=fit_cases(max_classes=3),
       kind=st.sampled_from(["logreg", "expand", "logreg", "expand", "net"]),
       target=st.sampled_from(["X", "y", "sample_weight"]),
       x_how=st.sampled_from(["nan", "inf", "strings", "1-D", "empty", "short", "complex",
                              "objects"]),
       y_how=st.sampled_from(["nan", "negative", "one class", "floats", "short",
                              "strings 2-D"]),
       w_bad=st.sampled_from([np.nan, np.inf, "heavy", -1.0, 0.0, "empty", "short"]),
       seed=st.integers(0, 2**32 - 1))
@share(0.75)
def test_estimators_refuse_invalid_input(case, kind, target, x_how, y_how, w_bad, seed):
    X, Y, w = case
    assume(not (kind == "net" and target == "sample_weight"))  # the net takes no weights
    i = int(np.random.default_rng(seed).integers(0, len(X)))
    X = np.asarray(X, dtype=np.float32 if kind == "net" else np.float64)
    before = [np.array(a, copy=True) for a in (X, Y)]
    if target == "X":
        X = _bad_X(X, x_how, i)
    elif target == "y":
        Y = _bad_y(Y, y_how, i)
    else:
        w = {"empty": np.ones(0), "short": np.ones(len(X) - 1)}.get(w_bad, w_bad) \
            if isinstance(w_bad, str) else w_bad
    kw = {} if kind == "net" else {"sample_weight": w}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(BAD):
            _estimator(kind).fit(X, Y, **kw)
    if target == "sample_weight":
        for a, b in zip((X, Y), before):
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- label sources
@st.composite
def source_cases(draw):
    n = draw(st.integers(1, 30))
    K = draw(st.integers(2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    gold = rng.integers(0, K, n)
    human = random_probs(rng, n, K, draw(st.sampled_from(["grid", "dirichlet", "peaked"])))
    wide = rng.integers(0, K, (n, draw(st.integers(1, 6)))).astype(float)
    wide[rng.random(wide.shape) < 0.3] = np.nan
    wide[:, 0] = gold  # every item has a vote
    return gold, human, wide, K


def _reference_targets(name, params, gold, human, wide, K):
    if name == "gold":
        return ref.one_hot(gold, K)
    if name == "human":
        return ref.human_soft(human, params["prior"], params["temperature"])
    if name == "majority":
        return ref.one_hot(ref.human_mode(human, gold), K)
    if name == "mode_aligned":
        return ref.mode_aligned(human, gold)
    if name == "smoothing":
        return (1 - params["epsilon"]) * ref.one_hot(gold, K) + params["epsilon"] / K
    if name == "crowd_soft":
        c = ref.vote_counts(wide, K) + params["prior"]
        return c / c.sum(1, keepdims=True)
    if name == "crowd_majority":
        return ref.one_hot(ref.vote_counts(wide, K).argmax(1), K)
    a = params["weight"]
    return a * ref.one_hot(gold, K) + (1 - a) * ref.human_soft(human)


def _source(name, params):
    return {
        "gold": lambda: GoldLabels(),
        "human": lambda: HumanSoftLabels(temperature=params["temperature"],
                                         prior=params["prior"]),
        "majority": lambda: HumanMajority(),
        "mode_aligned": lambda: ModeAlignedHumanLabels(),
        "smoothing": lambda: LabelSmoothing(epsilon=params["epsilon"]),
        "crowd_soft": lambda: CrowdAggregate(method="soft", prior=params["prior"]),
        "crowd_majority": lambda: CrowdAggregate(method="majority"),
        "mixture": lambda: MixtureOfSources(sources=[GoldLabels(), HumanSoftLabels()],
                                            weights=[params["weight"], 1 - params["weight"]]),
    }[name]()


SOURCE_NAMES = ["gold", "human", "majority", "mode_aligned", "smoothing", "crowd_soft",
                "crowd_majority", "mixture"]


@given(case=source_cases(), name=st.sampled_from(SOURCE_NAMES),
       temperature=st.floats(0.25, 4.0), prior=st.sampled_from([0.0, 0.5, 1.0]),
       epsilon=st.floats(0.0, 1.0), weight=st.floats(0.0, 1.0))
@share(1.0)
def test_label_sources_agree_with_references(case, name, temperature, prior, epsilon, weight):
    gold, human, wide, K = case
    params = dict(temperature=temperature, prior=prior, epsilon=epsilon, weight=weight)
    before = [a.copy() for a in (gold, human, wide)]
    Y, classes = make_training_targets(_source(name, params), None, gold, soft_labels=human,
                                       annotations=wide, classes=np.arange(K))
    np.testing.assert_allclose(Y, _reference_targets(name, params, gold, human, wide, K),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(Y.sum(1), 1.0, atol=1e-9)
    assert classes.tolist() == list(range(K))
    for a, b in zip((gold, human, wide), before):
        np.testing.assert_array_equal(a, b)


@given(case=source_cases(), which=st.sampled_from(["teacher", "ensemble", "dawid_skene"]))
@share(0.25)
def test_model_based_sources_give_distributions(case, which):
    gold, human, wide, K = case
    X = np.random.default_rng(0).normal(size=(len(gold), 2)) + gold[:, None]
    counts = np.bincount(gold)
    assume(len(np.unique(gold)) >= 2 and counts[counts > 0].min() >= 2)  # cv=2 stratifies
    source = {"teacher": TeacherDistillation(cv=2, random_state=0),
              "ensemble": EnsembleDisagreement(cv=2, n_members=2, random_state=0),
              "dawid_skene": CrowdAggregate(method="dawid_skene", max_iter=20)}[which]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Y, _ = make_training_targets(source, X, gold, annotations=wide, classes=np.arange(K))
    assert Y.shape == (len(gold), K) and np.all(Y >= 0)
    np.testing.assert_allclose(Y.sum(1), 1.0, atol=1e-9)


BAD_SOURCE_PARAMS = [
    lambda: HumanSoftLabels(temperature=0.0), lambda: HumanSoftLabels(temperature="hot"),
    lambda: HumanSoftLabels(prior=-1.0), lambda: HumanSoftLabels(prior=np.nan),
    lambda: LabelSmoothing(epsilon=1.5), lambda: LabelSmoothing(epsilon=np.inf),
    lambda: LabelSmoothing(epsilon="a"),
    lambda: CrowdAggregate(method="vote"), lambda: CrowdAggregate(prior=-1), lambda: CrowdAggregate(
        max_iter=0), lambda: MixtureOfSources(sources=[]), lambda: MixtureOfSources(sources="gold"),
    lambda: MixtureOfSources(sources=[GoldLabels()], weights=[-1.0]), lambda: TeacherDistillation(cv=1),
    lambda: TeacherDistillation(alpha=2.0), lambda: EnsembleDisagreement(n_members=0),
    lambda: EnsembleDisagreement(method="dropout"),
]


@given(case=source_cases(), target=st.sampled_from(["params", "soft_labels", "y", "weight"]),
       bad=st.integers(0, len(BAD_SOURCE_PARAMS) - 1),
       how=st.sampled_from(["nan", "negative", "row sum", "columns", "short", "strings"]),
       seed=st.integers(0, 2**32 - 1))
@share(0.75)
def test_label_sources_refuse_invalid_input(case, target, bad, how, seed):
    gold, human, wide, K = case
    rng = np.random.default_rng(seed)
    source, w = HumanSoftLabels(), None
    if target == "params":
        source = BAD_SOURCE_PARAMS[bad]()
    elif target == "soft_labels":
        human = _corrupt_labels(human, K, how, rng)
    elif target == "y":
        gold = _corrupt_labels(gold, K, how, rng)
    else:
        w = {"nan": np.nan, "negative": -1.0, "row sum": 0.0, "columns": np.ones((len(gold), 2)),
             "short": np.ones(len(gold) + 1), "strings": "heavy"}[how]
    X = np.zeros((len(gold), 1))
    with pytest.raises(BAD):
        make_training_targets(source, X, gold, soft_labels=human, annotations=wide,
                              classes=np.arange(K), sample_weight=w)


# --------------------------------------------------------------------------- annotations
@given(case=source_cases(), prior=st.sampled_from([0.0, 0.5, 2.0]))
@share(0.75)
def test_annotation_functions_agree_with_references(case, prior):
    _, _, wide, K = case
    before = wide.copy()
    counts = A.to_counts(wide, n_classes=K)
    np.testing.assert_array_equal(counts, ref.vote_counts(wide, K))
    soft = A.counts_to_soft(counts, prior=prior)
    np.testing.assert_allclose(soft, (counts + prior) / (counts + prior).sum(1, keepdims=True),
                               rtol=1e-12)
    np.testing.assert_array_equal(A.majority_vote(counts), counts.argmax(1))
    tie = A.majority_vote(counts, tie_break="random", random_state=0)
    assert np.all(counts[np.arange(len(counts)), tie] == counts.max(1))
    kappa, want = A.fleiss_kappa(counts), ref.fleiss_kappa(counts)
    assert (np.isnan(kappa) and np.isnan(want)) or kappa == pytest.approx(want, abs=1e-12)
    s = A.agreement_summary(counts)
    np.testing.assert_allclose(s["normalized_entropy"],
                               ref.entropy_rows(counts / counts.sum(1, keepdims=True)) / np.log(K),
                               atol=1e-12)
    np.testing.assert_allclose(s["plurality_share"], counts.max(1) / counts.sum(1))
    # wide -> long -> wide is the identity (columns of annotators with no vote are dropped)
    long = A.wide_to_long(wide)
    back, tasks, workers, classes = A.long_to_wide(long, classes=np.arange(K))
    voted = ~np.all(np.isnan(wide), axis=0)
    np.testing.assert_array_equal(back, wide[np.ix_(tasks, workers)])
    assert len(workers) == voted.sum()
    # Dawid-Skene: distributions, and an integer weight is a repetition of the item
    res = A.dawid_skene(wide, n_classes=K, max_iter=10)
    np.testing.assert_allclose(res.posteriors.sum(1), 1.0, atol=1e-9)
    reps = np.random.default_rng(len(wide)).integers(1, 3, len(wide))
    weighted = A.dawid_skene(wide, n_classes=K, max_iter=10, sample_weight=reps)
    repeated = A.dawid_skene(np.repeat(wide, reps, axis=0), n_classes=K, max_iter=10)
    np.testing.assert_allclose(weighted.posteriors, repeated.posteriors[np.cumsum(reps) - 1],
                               atol=1e-8)
    np.testing.assert_array_equal(wide, before)


@given(case=source_cases(),
       fn=st.sampled_from(["to_counts", "dawid_skene", "wide_to_long", "counts_to_soft",
                           "majority_vote", "fleiss_kappa", "agreement_summary"]),
       how=st.sampled_from(["negative", "fraction", "inf", "strings", "1-D", "3-D", "nan",
                            "scalar", "too few classes", "bad scalar", "huge code",
                            "huge count", "infinite prior"]),
       seed=st.integers(0, 2**32 - 1))
@share(0.875)
def test_annotation_functions_refuse_invalid_input(case, fn, how, seed):
    _, _, wide, K = case
    rng = np.random.default_rng(seed)
    counts_input = fn in ("counts_to_soft", "majority_vote", "fleiss_kappa", "agreement_summary")
    a = ref.vote_counts(wide, K).astype(float) if counts_input else wide.copy()
    i, j = rng.integers(0, a.shape[0]), rng.integers(0, a.shape[1])
    kw = {}
    if how == "negative":
        assume(fn != "majority_vote")  # majority_vote takes any real scores
        a[i, j] = -1
    elif how == "fraction":
        assume(not counts_input)
        a[i, j] = 0.5
    elif how == "inf":
        a[i, j] = np.inf
    elif how == "nan":
        assume(counts_input)  # NaN marks a missing vote in wide annotations
        a[i, j] = np.nan
    elif how == "strings":
        a = a.astype(str)
    elif how == "1-D":
        a = a[:, 0]
    elif how == "3-D":
        a = a[:, :, None]
    elif how == "scalar":
        a = 3.0
    elif how == "too few classes":
        assume(fn in ("to_counts", "dawid_skene"))
        a[i, j] = K
        kw = {"n_classes": K}
    elif how == "huge code":  # (it sized an (n_items, code + 1) allocation: 8 TiB)
        assume(fn in ("to_counts", "dawid_skene", "wide_to_long"))
        a[i, j] = float(2**40 + rng.integers(0, 2**20))
        if fn == "wide_to_long":  # codes are only listed there: fine
            assert A.wide_to_long(a)["label"].max() == a[i, j]
            return
        with bounded_memory(), pytest.raises(BAD):
            getattr(A, fn)(a, **kw)
        return
    elif how == "huge count":  # (row sums overflowed to inf: all-zero soft labels)
        assume(counts_input and fn != "majority_vote")
        a[i, j] = 1e308
    elif how == "infinite prior":
        assume(fn == "counts_to_soft")
        kw = {"prior": float(rng.choice([np.inf, 1e308]))}
    else:
        kw = {"to_counts": {"n_classes": 0}, "dawid_skene": {"max_iter": 0},
              "wide_to_long": {"mask": np.ones(3, dtype=bool)},
              "counts_to_soft": {"prior": -1.0}, "majority_vote": {"tie_break": "last"},
              "fleiss_kappa": None, "agreement_summary": None}[fn]
        assume(kw is not None)
    with pytest.raises(BAD):
        getattr(A, fn)(a, **kw)


# --------------------------------------------------------------------------- hostile input
# (issue 28: each class of problem the third hostile-input sweep found)
@given(fn=st.sampled_from(["to_counts", "dawid_skene", "counts_to_soft", "fleiss_kappa",
                           "agreement_summary", "subsample_counts", "prior"]),
       value=st.floats(2.0**54, 1e308), seed=st.integers(0, 2**32 - 1))
@share(0.125)
def test_annotation_functions_refuse_values_that_size_or_overflow_a_result(fn, value, seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 5))
    if fn in ("to_counts", "dawid_skene"):  # a class code: it sized the count matrix
        a = rng.integers(0, K, (5, 3)).astype(float)
        a[rng.integers(0, 5), rng.integers(0, 3)] = np.floor(value)
        args, name = (a,), "annotations"
    else:  # a count: row sums overflowed, or float64 votes are no longer whole
        a = rng.integers(0, 5, (5, K)).astype(float)
        a[rng.integers(0, 5), rng.integers(0, K)] = value
        args, name = (a,), "counts"
        if fn == "subsample_counts":
            args = (a, 2)
        if fn == "prior":
            fn, args, name = "counts_to_soft", (np.abs(a) % 5,), "prior"
    kw = {"prior": value} if name == "prior" else {}
    with bounded_memory(), pytest.raises(ValueError, match=name):
        getattr(A, fn)(*args, **kw)

@given(case=metric_cases(), scale=st.sampled_from([1e307, 1e300, 2.0**600, 1e-300, 2.0**-900]))
@share(0.5)
def test_metrics_are_scale_free_in_the_weights(case, scale):
    y, p, w, dtype = case
    n = p.shape[0]
    w = np.ones(n) if w is None else _weights(w, n)
    big = w / w.max() * scale
    for fn in (lambda wt: M.expected_calibration_error(y, p, sample_weight=wt),
               lambda wt: M.expected_calibration_error(y, p, norm="l2", debias=True,
                                                       sample_weight=wt),
               lambda wt: M.classwise_calibration_error(y, p, sample_weight=wt),
               lambda wt: M.brier_score_loss(y, p, sample_weight=wt),
               lambda wt: M.calibration_report(y, p, sample_weight=wt)["cross_entropy"]):
        want, got = fn(w), fn(big)
        assert np.isfinite(got) and got == pytest.approx(want, rel=1e-9, abs=1e-12)


@given(n=st.integers(1, 4), K=st.integers(2, 4), seed=st.integers(0, 2**32 - 1),
       clusters=st.booleans())
@share(0.5)
def test_bootstrap_intervals_never_score_an_empty_resample(n, K, seed, clusters):
    # identical rows: every non-empty resample has the point's value, so the interval is the
    # point; an empty one (e^-n of them, all clusters at weight 0 alike) is dropped and counted
    rng = np.random.default_rng(seed)
    rows = 3 * n if clusters else n
    p = np.tile(rng.dirichlet(np.ones(K)), (rows, 1))
    y = np.full(rows, rng.integers(0, K))
    kw = dict(n_bootstrap=200, random_state=seed)
    if clusters:
        kw["clusters"] = np.arange(rows) % n
    for fn in (M.expected_calibration_error, M.classwise_calibration_error, M.accuracy_score,
               M.brier_score_loss, M.log_loss):
        e = fn(y, p, **kw)
        assert e.low == pytest.approx(float(e), abs=1e-12), fn.__name__
        assert e.high == pytest.approx(float(e), abs=1e-12), fn.__name__
        assert e.n_replicates <= 200
    rep = M.calibration_report(y, p, **kw)
    assert rep["ece"].low == pytest.approx(float(rep["ece"]), abs=1e-12)


def _zip_of(arrays, method):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, a in arrays.items():
            member = io.BytesIO()
            np.save(member, a)
            z.writestr(f"{name}.npy", member.getvalue())
    return buf.getvalue()


@given(shape=st.tuples(st.integers(0, 30), st.integers(1, 4)),
       method=st.sampled_from(["stored", "deflated", "bzip2", "lzma"]),
       corrupt=st.sampled_from(["none", "flip", "truncate", "size"]),
       seed=st.integers(0, 2**32 - 1))
@share(0.5)
def test_load_npz_reads_what_numpy_writes_and_refuses_anything_else(tmp_path_factory, shape,
                                                                     method, corrupt, seed):
    from sksoft._io import load_npz

    rng = np.random.default_rng(seed)
    arrays = {"y_prob": rng.random(shape), "y_true": rng.integers(0, 3, shape[0])}
    raw = bytearray(_zip_of(arrays, {"stored": zipfile.ZIP_STORED,
                                     "deflated": zipfile.ZIP_DEFLATED,
                                     "bzip2": zipfile.ZIP_BZIP2,
                                     "lzma": zipfile.ZIP_LZMA}[method]))
    if corrupt == "flip":
        i = int(rng.integers(0, len(raw)))
        raw[i] ^= 1 << int(rng.integers(0, 8))
    elif corrupt == "truncate":
        raw = raw[:int(rng.integers(0, len(raw)))]
    elif corrupt == "size":  # the central directory's uncompressed size of the first member
        at = raw.rfind(b"PK\x01\x02")
        raw[at + 24:at + 28] = int(rng.integers(0, 2**32)).to_bytes(4, "little")
    path = tmp_path_factory.mktemp("npz") / "a.npz"
    path.write_bytes(bytes(raw))
    if method in ("bzip2", "lzma") and corrupt == "none":
        with pytest.raises(ValueError, match="stored or deflated"):
            load_npz(path)
        return
    try:
        got = load_npz(path)
    except ValueError:
        return  # refused, with a message naming the file
    if corrupt == "none":
        for name, a in arrays.items():
            np.testing.assert_array_equal(got[name], a)
    assert method in ("stored", "deflated") or set(got) <= {"y_true"} or corrupt != "none"


@given(steps=st.lists(st.sampled_from(["commit", "fail", "refused"]), min_size=1, max_size=6),
       seed=st.integers(0, 2**32 - 1))
@share(0.25)
def test_the_output_folder_always_holds_the_files_of_one_run(tmp_path_factory, steps, seed):
    from sksoft.study._outdir import STUDY_OUTPUTS, OutputFolder

    rng = np.random.default_rng(seed)
    out = tmp_path_factory.mktemp("out") / "study"
    out.mkdir()
    (out / "mine.txt").write_text("the user's")
    last = None  # the files of the last committed run
    for k, step in enumerate(steps):
        run = OutputFolder(out)
        staging = run.open()
        names = [n for n in STUDY_OUTPUTS if rng.random() < 0.6]
        for name in names:
            target = staging / name / "x.png" if name in ("figures", "cartography") \
                else staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f"run {k}")
        if step == "refused":
            with pytest.raises(ValueError, match="in use by another sksoft study"):
                OutputFolder(out).open()
        if step != "fail":
            run.commit()
            last = {n: f"run {k}" for n in names}
        run.close()
        present = {p.name: (p / "x.png" if p.is_dir() else p).read_text()
                   for p in out.iterdir() if p.name in STUDY_OUTPUTS}
        assert present == (last or {})  # one run's files, never two runs' mixed
        assert (out / "mine.txt").read_text() == "the user's"


@given(option=st.sampled_from(["--sizes", "--classes", "--repeat"]),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                       st.integers(-10**12, 10**12)),
       spelled=st.sampled_from(["repr", "exponent"]))
@share(0.25)
def test_bench_options_are_refused_naming_the_option(option, value, spelled):
    import contextlib

    from sksoft.cli import MAX_BENCH_VALUES, main

    text = f"{float(value):e}" if spelled == "exponent" else repr(value)
    # (never a valid value: that would run a benchmark; default sizes go up to 1e6 rows)
    whole = isinstance(value, int) or (np.isfinite(value) and value == int(value))
    if option == "--sizes":
        assume(not (whole and 1 <= value and value * 10 <= MAX_BENCH_VALUES))
    elif option == "--classes":
        assume(not (whole and text.lstrip("-").isdigit() and 2 <= value
                    and value * 10**6 <= MAX_BENCH_VALUES))
    else:
        assume(not (whole and text.lstrip("-").isdigit() and value >= 1))
    err = io.StringIO()
    with bounded_memory(), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exc:
        main(["bench", "--no-peers", option, text])
    assert exc.value.code == 2
    assert option in err.getvalue() and "Traceback" not in err.getvalue()


@given(case=metric_cases())
@share(0.125)
def test_the_extended_report_reads_object_y_prob_like_the_plain_one(case):
    y, p, w, dtype = case
    want = M.calibration_report(y, np.asarray(p, dtype=np.float64), sample_weight=w,
                                extended=True).to_frame()
    got = M.calibration_report(y, np.asarray(p).astype(object), sample_weight=w,
                               extended=True).to_frame()
    np.testing.assert_allclose(got.to_numpy(dtype=float), want.to_numpy(dtype=float),
                               rtol=1e-12, equal_nan=True)


@given(n_items=st.integers(2, 400), folds=st.integers(2, 10), bins=st.integers(1, 10_000))
@share(0.125)
def test_difficulty_bins_are_bounded_by_the_items_of_a_fold(n_items, folds, bins):
    from sksoft.study import StudyConfig
    from sksoft.study._config import check_data_settings

    cfg = StudyConfig(folds=folds, difficulty_bins=bins, progress=False).resolved()
    data = {"human": np.full((n_items, 3), 1 / 3)}
    if bins <= max(1, n_items // folds):
        check_data_settings(cfg, data)
    else:
        with pytest.raises(ValueError, match="difficulty_bins"):
            check_data_settings(cfg, data)


def test_the_shares_add_up_to_twelve():
    """The profiles' totals (about 300 and 12,000 examples) assume shares summing to 12."""
    assert sum(SHARES.values()) == pytest.approx(12.0)
