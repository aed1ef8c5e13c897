"""One target contract: every public entry point takes the same decision on the same ``y``.

The same ``y`` variants are fed to each estimator's ``fit``, a metric, a scorer, the splitter,
``fit_temperature``, ``cross_val_predict_proba`` and ``sksoft report``. An accepted variant
gives the result of the canonical integer labels (or, for a soft matrix, a valid result); a
rejected one raises ``ValueError`` / ``TypeError`` (the command line exits with status 2 and
the same message).

The one distinction the contract makes (see :mod:`sksoft._targets`): where the classes are
fixed -- ``classes=`` / ``labels=``, a fitted estimator's ``classes_``, the columns of
``y_prob`` -- a label outside them is an error; where they are being defined (``fit`` without
``classes``, the splitter, which has no columns) any label is a class of its own.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression

from sksoft.calibration import TemperatureScaling, fit_temperature
from sksoft.cli import main
from sksoft.linear_model import SoftLogisticRegression
from sksoft.meta import SoftExpand
from sksoft.metrics import log_loss, get_scorer
from sksoft.model_selection import SoftStratifiedKFold, cross_val_predict_proba

N, K = 60, 3
_rng = np.random.default_rng(0)
X = _rng.normal(size=(N, 4))
CODES = np.arange(N) % K
NAMES = np.array(["ant", "bee", "cat"])
P = _rng.dirichlet(np.ones(K), size=N)  # predictions, for the functions that take y_prob
SOFT = _rng.dirichlet(np.ones(K), size=N)

#: name -> (y, classes to pass where the entry point takes them, expected decision)
#: decision: "same" (the result of CODES), "soft" (a valid soft result), "reject" (everywhere),
#: "reject_fixed" (rejected where the classes are fixed, a class of its own elsewhere)
VARIANTS = {
    "int": (CODES, None, "same"),
    "int_float": (CODES.astype(float), None, "same"),
    "strings": (NAMES[CODES], NAMES, "same"),
    "column": (CODES[:, None], None, "same"),
    "one_hot": (np.eye(K, dtype=np.int64)[CODES], None, "same"),
    "soft": (SOFT, None, "soft"),
    "binary_proba_1d": (_rng.uniform(0.05, 0.95, N), None, "reject"),
    # labels 0..3 where only 0..2 exist
    "out_of_range": (np.where((CODES == 2) & (np.arange(N) % 2 == 0), 3, CODES), np.arange(K),
                     "reject_fixed"),
    "nan": (np.where(CODES == 0, np.nan, CODES), None, "reject"),
    "soft_nan": (np.where(np.arange(N)[:, None] == 5, np.nan, SOFT), None, "reject"),
    "soft_bad_rows": (SOFT * 2, None, "reject"),
}
CONTINUOUS = "Unknown label type: continuous"


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        return fn()


def _net():
    pytest.importorskip("torch")
    from sksoft.neural_network import SoftNeuralNetClassifier

    return SoftNeuralNetClassifier(max_epochs=2, random_state=0, train_split=None,
                                   module__hidden_units=(8,))


def _fitted(make):
    """Entry point: ``make(classes).fit(X, y)``; result: its probabilities on X."""
    def run(y, classes):
        return make(classes).fit(X, y).predict_proba(X)
    return run


def _scorer(y, classes):
    # hard labels are decoded with the classes_ of the fitted estimator
    est = SoftLogisticRegression().fit(X, CODES if classes is None else np.asarray(classes)[CODES])
    return get_scorer("neg_log_loss")(est, X, y)


def _split(y, classes):
    return [test.tolist() for _, test in SoftStratifiedKFold(3).split(X, y)]


def _cli(tmp_path):
    def run(y, classes):
        path, csv = tmp_path / "pred.npz", tmp_path / "report.csv"
        arrays = {"y_true": y, "y_prob": P}
        if classes is not None:
            arrays["labels"] = np.asarray(classes)
        np.savez(path, **arrays)
        try:
            main(["report", str(path), "--csv", str(csv)])
        except SystemExit as exc:
            assert exc.code == 2
            raise ValueError("sksoft report exited with status 2") from None
        return pd.read_csv(csv, index_col=0)
    return run


#: entry point -> (callable(y, classes), whether its classes are fixed)
ENTRY_POINTS = {
    "SoftLogisticRegression.fit": (
        _fitted(lambda c: SoftLogisticRegression(classes=c)), True),
    "SoftExpand.fit": (
        _fitted(lambda c: SoftExpand(LogisticRegression(), classes=c)), True),
    "SoftNeuralNetClassifier.fit": (
        _fitted(lambda c: _net().set_params(classes=c)), True),
    # no classes parameter: a fit without classes defines them
    "TemperatureScaling.fit": (_fitted(lambda c: TemperatureScaling(cv=3)), False),
    "metrics.log_loss": (lambda y, c: log_loss(y, P, labels=c), True),
    "scorer neg_log_loss": (_scorer, True),
    "SoftStratifiedKFold.split": (_split, False),  # no columns: no classes to be outside of
    "fit_temperature": (lambda y, c: fit_temperature(y, P, labels=c), True),
    "cross_val_predict_proba": (
        lambda y, c: cross_val_predict_proba(SoftLogisticRegression(), X, y, cv=3, classes=c),
        True),
    "sksoft report": (None, True),  # needs tmp_path, built in the test
}

XFAIL = {}  # (entry, variant) -> reason; empty: every entry point decides alike


def _call(entry, tmp_path):
    fn, fixed = ENTRY_POINTS[entry]
    fn = _cli(tmp_path) if fn is None else fn
    return (lambda y, classes: _quiet(lambda: fn(y, classes))), fixed


def _equal(a, b):
    if isinstance(a, list):  # folds
        assert a == b
    elif isinstance(a, pd.DataFrame):  # the report's table
        pd.testing.assert_frame_equal(a, b, rtol=1e-10)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_same_decision_everywhere(entry, variant, tmp_path, request):
    if (entry, variant) in XFAIL:
        request.applymarker(pytest.mark.xfail(strict=True, reason=XFAIL[entry, variant]))
    fn, fixed = _call(entry, tmp_path)
    y, classes, decision = VARIANTS[variant]
    if decision == "reject_fixed" and not fixed:
        decision = "accept_new_class"
    if decision == "reject":
        with pytest.raises((ValueError, TypeError)) as exc:
            fn(y, classes)
        if variant == "binary_proba_1d" and entry != "sksoft report":
            assert CONTINUOUS in str(exc.value) and "column_stack([1 - p, p])" in str(exc.value)
        if variant in ("nan", "soft_nan") and entry != "sksoft report":
            assert "NaN" in str(exc.value)
        return
    if decision == "reject_fixed":
        with pytest.raises(ValueError):
            fn(y, classes)
        return
    result = fn(y, classes)
    if decision == "same":
        _equal(result, fn(CODES, None))
    elif isinstance(result, list):  # folds: a partition of the rows
        assert sorted(sum(result, [])) == list(range(N))
    elif isinstance(result, pd.DataFrame):  # the report's table
        assert "overall" in result.index and np.isfinite(result.loc["overall", "ece"])
    elif isinstance(result, np.ndarray):  # probabilities; a fourth class for a new label
        width = K if decision == "soft" else K + 1
        assert result.shape == (N, width) and np.allclose(result.sum(axis=1), 1)
    else:
        assert np.isfinite(result)


def test_cli_rejects_binary_probabilities_with_the_contract_message(tmp_path, capsys):
    y = VARIANTS["binary_proba_1d"][0]
    np.savez(tmp_path / "p.npz", y_true=y, y_prob=P[:, :2] / P[:, :2].sum(1, keepdims=True))
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path / "p.npz")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert CONTINUOUS in err and "column_stack([1 - p, p])" in err


def test_column_vector_warns_in_fit_like_scikit_learn():
    with pytest.warns(DataConversionWarning):
        SoftLogisticRegression().fit(X, CODES[:, None])
