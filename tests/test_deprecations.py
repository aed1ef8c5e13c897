"""Every spelling retired in sksoft 0.2 still works for one release, with a FutureWarning that
names the new spelling, and gives exactly what the new spelling gives."""

import warnings

import numpy as np
import pytest

from sksoft import metrics as M
from sksoft import label_sources as ls
from sksoft._deprecation import deprecate_positional_args, renamed_parameters

RNG = np.random.default_rng(0)
P = RNG.dirichlet(np.ones(3), size=200)
Y = RNG.integers(0, 3, size=200)
SOFT = RNG.dirichlet(np.ones(3), size=200)


@pytest.mark.parametrize("old, new", [("accuracy", "accuracy_score"),
                                      ("brier_score", "brier_score_loss"),
                                      ("cross_entropy", "log_loss")])
@pytest.mark.parametrize("target", ["hard", "soft"])
def test_renamed_metric_warns_and_agrees(old, new, target):
    y = Y if target == "hard" else SOFT
    with pytest.warns(FutureWarning, match=rf"{old} was renamed {new}"):
        got = getattr(M, old)(y, P, sample_weight=np.arange(200.0))
    assert got == getattr(M, new)(y, P, sample_weight=np.arange(200.0))
    assert old not in M.__all__ and new in M.__all__
    from sksoft.metrics import __dict__ as namespace  # importable by the old name
    assert namespace[old].__wrapped__ is getattr(M, new)


def test_the_new_metric_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        M.accuracy_score(Y, P), M.brier_score_loss(Y, P), M.log_loss(Y, P)


def test_the_metric_names_follow_scikit_learn():
    # *_score: higher is better, *_loss / *_error: lower is better
    perfect = np.eye(3)[Y]
    for name in M.__all__:
        if not callable(getattr(M, name)) or not (
                name.endswith(("_score", "_loss", "_error"))) or name in (
                "get_scorer", "difficulty_scores"):
            continue
        fn = getattr(M, name)
        try:
            good, bad = fn(Y, perfect), fn(Y, P)
        except TypeError:
            continue
        if name.endswith("_score"):
            assert good >= bad, name
        else:
            assert good <= bad, name


@pytest.mark.parametrize("old", ["neg_cross_entropy", "gold_neg_cross_entropy",
                                 "human_neg_cross_entropy",
                                 "gold_neg_cross_entropy_hardest_bin"])
def test_renamed_scorer_warns_and_agrees(old):
    from sksoft.linear_model import SoftLogisticRegression

    new = old.replace("neg_cross_entropy", "neg_log_loss")
    X = RNG.normal(size=(200, 4))
    clf = SoftLogisticRegression().fit(X, SOFT)
    with pytest.warns(FutureWarning, match=rf"{old!r} was renamed {new!r}"):
        scorer = M.get_scorer(old)
    with pytest.warns(FutureWarning, match=rf"{old!r} was renamed {new!r}"):
        from_dict = M.SCORERS[old]
    assert scorer(clf, X, SOFT) == from_dict(clf, X, SOFT) == M.get_scorer(new)(clf, X, SOFT)
    assert old not in M.get_scorer_names() and new in M.get_scorer_names()
    with pytest.raises(KeyError):
        M.SCORERS["neg_cross_entropy_of_nothing"]


def test_isotonic_reliability_curve_n_resamples():
    with pytest.warns(FutureWarning, match=r"n_resamples=\.\.\.\) was renamed n_bootstrap="):
        old = M.isotonic_reliability_curve(Y, P, n_resamples=30, random_state=0)
    new = M.isotonic_reliability_curve(Y, P, n_bootstrap=30, random_state=0)
    np.testing.assert_array_equal(old.lower, new.lower)
    np.testing.assert_array_equal(old.upper, new.upper)
    with pytest.raises(TypeError, match="both n_resamples"):
        M.isotonic_reliability_curve(Y, P, n_resamples=3, n_bootstrap=3)


@pytest.mark.parametrize("y", [Y, SOFT], ids=["hard", "soft"])
def test_reliability_curve_confidence_switch(y):
    # before 0.2: confidence=c alone drew the band with n_bootstrap=200
    with pytest.warns(FutureWarning, match="without n_bootstrap"):
        old = M.reliability_curve(y, P, n_bins=5, confidence=0.9, random_state=0)
    new = M.reliability_curve(y, P, n_bins=5, n_bootstrap=200, confidence=0.9,
                              random_state=0)
    np.testing.assert_array_equal(old.accuracy_low, new.accuracy_low)
    np.testing.assert_array_equal(old.accuracy_high, new.accuracy_high)
    # confidence=None meant no band; now that is the default
    with pytest.warns(FutureWarning, match=r"confidence=None\) is deprecated"):
        none = M.reliability_curve(y, P, n_bins=5, confidence=None)
    assert none.accuracy_low is None and M.reliability_curve(y, P).accuracy_low is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        M.reliability_curve(y, P, n_bins=5, n_bootstrap=10, confidence=0.8, random_state=0)


def test_reliability_curve_isotonic_band_follows_n_bootstrap():
    assert M.reliability_curve(Y, P, strategy="isotonic").lower is None
    curve = M.reliability_curve(Y, P, strategy="isotonic", n_bootstrap=20, random_state=0)
    assert curve.lower is not None and curve.lower.shape == curve.band_index.shape


@pytest.mark.parametrize("make, args, expected", [
    (ls.HumanSoftLabels, (2.0, 0.5), {"temperature": 2.0, "prior": 0.5}),
    (ls.LabelSmoothing, (0.3,), {"epsilon": 0.3}),
    (ls.MixtureOfSources, ([ls.GoldLabels(), ls.HumanSoftLabels()], [1, 3]),
     {"weights": [1, 3]}),
    (ls.CrowdAggregate, ("majority",), {"method": "majority"}),
    (ls.TeacherDistillation, (None, 2.0), {"temperature": 2.0}),
    (ls.EnsembleDisagreement, (None, 3), {"n_members": 3}),
])
def test_label_sources_positional_arguments(make, args, expected):
    with pytest.warns(FutureWarning, match=r"Pass .* as (a keyword argument|keyword arguments)"):
        src = make(*args)
    params = src.get_params(deep=False)
    assert {k: params[k] for k in expected} == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kw = dict(zip(_init_params(make)[:len(args)], args))
        assert make(**kw).get_params(deep=False) == params


def _init_params(cls):
    import inspect

    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def test_label_source_parameters_are_keyword_only():
    import inspect

    for name in ls.__all__:
        obj = getattr(ls, name)
        if not isinstance(obj, type) or obj.__init__ is object.__init__:
            continue  # (GoldLabels and the other sources without parameters)
        kinds = {p.kind for n, p in inspect.signature(obj.__init__).parameters.items()
                 if n != "self"}
        assert kinds <= {inspect.Parameter.KEYWORD_ONLY}, name


def test_deprecation_helpers_reject_misuse():
    with pytest.raises(TypeError, match="no parameter"):
        renamed_parameters(old="missing")(lambda *, new=0: new)

    class Two:
        @deprecate_positional_args
        def __init__(self, a, *, b=1):
            self.a, self.b = a, b

    with pytest.raises(TypeError, match="takes 2 positional"):
        Two(1, 2, 3)
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="multiple values"):
        Two(1, 2, b=3)
    assert Two(1, b=2).b == 2
