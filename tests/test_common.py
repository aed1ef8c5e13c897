"""Checks every sksoft estimator and label source passes alike.

Estimators also run scikit-learn's full ``parametrize_with_checks`` (tests/test_estimators.py).
Label sources are not estimators (no fit / predict), so they get the parameter checks of
scikit-learn's suite that apply to any ``BaseEstimator``, plus sksoft's: clone, get/set_params
round trip, no mutation of (read-only, non-contiguous) inputs, identical targets for identical
seeds. Both get the same ``_parameter_constraints`` check through :mod:`sksoft._validation`.
"""

import inspect
import numbers
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from sksoft import label_sources as ls
from sksoft._label_source import make_training_targets
from sksoft._validation import HasMethods, Interval, Options
from sksoft.datasets import make_ambiguous_digits
from sksoft.calibration import (
    DirichletCalibration,
    IsotonicCalibration,
    TemperatureScaling,
    VectorScaling,
)
from sksoft.linear_model import SoftLogisticRegression
from sksoft.meta import SoftExpand

SOURCES = [
    ls.GoldLabels(),
    ls.HumanSoftLabels(temperature=0.5, prior=0.1),
    ls.HumanMajority(),
    ls.ModeAlignedHumanLabels(),
    ls.LabelSmoothing(epsilon=0.2),
    ls.ShuffledHumanLabels(random_state=0),
    ls.EntropyMatchedSmoothing(),
    ls.TeacherDistillation(teacher=SoftLogisticRegression(C=0.3), temperature=2.0, alpha=0.7,
                           cv=3, random_state=0),
    ls.EnsembleDisagreement(n_members=2, cv=3, random_state=0),
    ls.EnsembleDisagreement(estimator=SoftLogisticRegression(C=0.3), n_members=2,
                            method="seeds", output="vote", cv=3, random_state=1),
    ls.MixtureOfSources(sources=[("gold", ls.GoldLabels()),
                                 ("smooth", ls.LabelSmoothing(epsilon=0.3))], weights=[1, 2]),
    ls.CrowdAggregate(method="dawid_skene", max_iter=20),
    ls.CrowdAggregate(method="soft", prior=0.5),
    ls.CrowdAggregate(method="majority"),
    # the distributions of the 150 items of the crowd fixture below
    ls.ExternalSoftLabels(name="llm",
                          soft_labels=np.random.default_rng(5).dirichlet(np.ones(10), size=150)),
]


def _id(obj):
    return type(obj).__name__


@pytest.fixture(scope="module")
def crowd():
    d = make_ambiguous_digits(annotators_per_item=5, random_state=0)
    n = 150
    return d.X[:n], d.y_gold[:n], d.soft_labels[:n], d.annotations[:n]


def _read_only_strided(a):
    """A read-only, non-contiguous view of a copy of ``a`` (every other row of a stacked copy)."""
    doubled = np.repeat(np.asarray(a), 2, axis=0)
    view = doubled[::2]
    view.flags.writeable = False
    return view


# --------------------------------------------------------------------------- label sources
@pytest.mark.parametrize("check", [check_no_attributes_set_in_init, check_get_params_invariance,
                                   check_set_params, check_parameters_default_constructible,
                                   check_estimator_repr, check_estimator_cloneable],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize("source", SOURCES, ids=_id)
def test_source_passes_scikit_learn_parameter_checks(source, check):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. "TypeError during set_params"
        check(_id(source), clone(source))


@pytest.mark.parametrize("source", SOURCES, ids=_id)
def test_source_clone_and_params_round_trip(source):
    c = clone(source)
    assert c is not source and type(c) is type(source)
    params = source.get_params(deep=False)
    assert c.get_params(deep=False).keys() == params.keys()
    for key, value in c.get_params(deep=True).items():
        if isinstance(value, BaseEstimator):
            assert value is not source.get_params(deep=True)[key]  # nested objects are cloned
        else:
            assert repr(value) == repr(source.get_params(deep=True)[key])
    rebuilt = type(source)(**params)
    assert repr(rebuilt) == repr(source)
    c.set_params(**params)
    assert repr(c) == repr(source)


@pytest.mark.parametrize("source", SOURCES, ids=_id)
def test_source_does_not_modify_inputs_and_is_reproducible(source, crowd):
    X, gold, human, annotations = crowd
    w = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    inputs = [_read_only_strided(a) for a in (X, gold, human, annotations, w)]
    before = [a.copy() for a in inputs]
    Xr, goldr, humanr, annr, wr = inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the small teachers
        Y1, classes = make_training_targets(clone(source), Xr, goldr, soft_labels=humanr,
                                            annotations=annr, sample_weight=wr)
        Y2, _ = make_training_targets(clone(source), Xr, goldr, soft_labels=humanr,
                                      annotations=annr, sample_weight=wr)
    for a, b in zip(inputs, before):
        np.testing.assert_array_equal(a, b)
    assert Y1.shape == (X.shape[0], 10) and np.allclose(Y1.sum(axis=1), 1)
    np.testing.assert_array_equal(Y1, Y2)  # identical seeds, identical targets


# --------------------------------------------------------------------------- constraints
class _Clf(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        return None


def _net_factory():
    pytest.importorskip("torch")
    from sksoft.neural_network import SoftNeuralNetClassifier

    return SoftNeuralNetClassifier


ESTIMATORS = {
    "SoftLogisticRegression": lambda **kw: SoftLogisticRegression(**kw),
    "SoftExpand": lambda **kw: SoftExpand(**{"estimator": LogisticRegression(), **kw}),
    "SoftNeuralNetClassifier": lambda **kw: _net_factory()(**{"max_epochs": 1, **kw}),
    "TemperatureScaling": lambda **kw: TemperatureScaling(**{"cv": 3, **kw}),
    "VectorScaling": lambda **kw: VectorScaling(**{"cv": 3, **kw}),
    "DirichletCalibration": lambda **kw: DirichletCalibration(**{"cv": 3, **kw}),
    "IsotonicCalibration": lambda **kw: IsotonicCalibration(**{"cv": 3, **kw}),
}


def _init_params(cls):
    return [p.name for p in inspect.signature(cls.__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def _out_of_range(constraints):
    """A value of an accepted kind that no constraint accepts, or None if there is none."""
    candidates = []
    for c in constraints:
        if isinstance(c, Interval):
            step = 1 if c.kind is numbers.Integral else 0.5
            if c.left is not None:
                candidates.append(c.left - step)
            if c.right is not None:
                candidates.append(c.right + step)
        elif isinstance(c, Options):
            candidates.append("not-an-option" if c.kind is str else -999)
    for v in candidates:
        if not any(v in c for c in constraints if isinstance(c, (Interval, Options))):
            return v
    return None


def _run(obj, crowd):
    X, gold, human, annotations = crowd
    if isinstance(obj, ls.LabelSource):
        return make_training_targets(obj, X, gold, soft_labels=human, annotations=annotations)
    return obj.fit(X.astype(np.float32), gold)


CONSTRAINED = [(name, make) for name, make in ESTIMATORS.items()] + [
    (_id(s), (lambda s=s: lambda **kw: clone(s).set_params(**kw))()) for s in SOURCES]


@pytest.mark.parametrize("name, make", CONSTRAINED, ids=[c[0] for c in CONSTRAINED])
def test_parameter_constraints_are_declared_and_checked(name, make, crowd):
    obj = make()
    constraints = type(obj)._parameter_constraints
    # every parameter of __init__ is declared (skorch's **kwargs excepted), nothing else
    assert set(constraints) == set(_init_params(type(obj)))
    for param, allowed in constraints.items():
        if allowed == "no_validation":
            continue
        allowed = allowed if isinstance(allowed, list) else [allowed]
        bad = object()  # of no accepted kind: a TypeError that names the parameter
        with pytest.raises(TypeError, match=param):
            _run(make(**{param: bad}), crowd)
        value = _out_of_range(allowed)
        if value is not None:  # of an accepted kind, out of range: a ValueError
            with pytest.raises(ValueError, match=param):
                _run(make(**{param: value}), crowd)


def test_has_methods_constraint():
    c = HasMethods(["fit", "predict_proba"])
    assert _Clf() in c and object() not in c
    assert str(c) == "an object with a fit method and a predict_proba method"
