"""ReliabilityDisplay (scikit-learn's Display API) and plot_reliability_diagram."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sksoft.linear_model import SoftLogisticRegression  # noqa: E402
from sksoft.metrics import (  # noqa: E402
    isotonic_reliability_curve,
    reliability_curve,
    smooth_reliability_curve,
)
from sksoft.plotting import ReliabilityDisplay, plot_reliability_diagram  # noqa: E402

RNG = np.random.default_rng(0)
P = RNG.dirichlet(np.ones(3), size=400)
Y = RNG.integers(0, 3, size=400)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("strategy", ["uniform", "quantile", "isotonic", "smooth"])
def test_from_predictions_draws_the_curve_of_reliability_curve(strategy):
    boot = 0 if strategy == "smooth" else 50
    disp = ReliabilityDisplay.from_predictions(Y, P, strategy=strategy, n_bins=8,
                                               n_bootstrap=boot, random_state=0, name="m")
    if strategy == "smooth":
        expected = smooth_reliability_curve(Y, P)
        np.testing.assert_allclose(disp.line_.get_ydata(), expected.accuracy)
    elif strategy == "isotonic":
        expected = isotonic_reliability_curve(Y, P, n_bootstrap=50, confidence=0.95,
                                              random_state=0)
        np.testing.assert_allclose(disp.curve.lower, expected.lower)
    else:
        expected = reliability_curve(Y, P, n_bins=8, strategy=strategy, n_bootstrap=50,
                                     random_state=0)
        ok = expected.count > 0
        np.testing.assert_allclose(disp.line_.get_ydata(), expected.accuracy[ok])
        np.testing.assert_allclose(disp.curve.accuracy_low, expected.accuracy_low)
    assert disp.figure_ is disp.ax_.figure and disp.hist_ax_ is not None
    assert disp.line_.get_label() == "m"
    assert [t.get_text() for t in disp.ax_.get_legend().get_texts()][0] == "m"


def test_from_estimator_matches_from_predictions_with_string_classes():
    X = RNG.normal(size=(400, 4))
    names = np.array(["cat", "dog", "emu"])
    clf = SoftLogisticRegression().fit(X, names[Y])
    disp = ReliabilityDisplay.from_estimator(clf, X, names[Y], n_bins=6)
    ref = ReliabilityDisplay.from_predictions(Y, clf.predict_proba(X), n_bins=6)
    np.testing.assert_array_equal(disp.curve.count, ref.curve.count)
    assert disp.line_.get_label() == "SoftLogisticRegression"
    with pytest.raises(TypeError, match="estimator"):
        ReliabilityDisplay.from_estimator(object(), X, Y)


def test_plot_on_given_axes_without_counts():
    fig, ax = plt.subplots()
    disp = ReliabilityDisplay(reliability_curve(Y, P, n_bins=5)).plot(ax=ax, counts=False)
    assert disp.ax_ is ax and disp.hist_ax_ is None


def test_bad_arguments():
    with pytest.raises(TypeError, match="curve"):
        ReliabilityDisplay("a curve").plot()
    with pytest.raises(ValueError, match="one curve at a time"):
        ReliabilityDisplay(reliability_curve(Y, P, mode="classwise")).plot()
    with pytest.raises(ValueError, match="strategy"):
        ReliabilityDisplay.from_predictions(Y, P, strategy="median")
    with pytest.raises(ValueError, match="n_bootstrap"):
        ReliabilityDisplay.from_predictions(Y, P, strategy="smooth", n_bootstrap=10)
    with pytest.raises(TypeError, match="name"):
        ReliabilityDisplay(reliability_curve(Y, P)).plot(name=3)


def test_plot_reliability_diagram_is_the_display():
    curve = reliability_curve(Y, P, n_bins=5, n_bootstrap=20)
    ax, hist = plot_reliability_diagram(curve, label="x")
    disp = ReliabilityDisplay(curve, name="x").plot()
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), disp.ax_.lines[1].get_ydata())
    assert hist is not None and len(ax.collections) == len(disp.ax_.collections) == 1
