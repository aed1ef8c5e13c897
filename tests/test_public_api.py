"""Every public parameter rejects bad values with a message that names it.

In the spirit of scikit-learn's ``sklearn/tests/test_public_functions.py``: the public API is
enumerated (``sksoft.__all__`` and each submodule's ``__all__``), and for every public function
and class every parameter of its signature must be in :data:`REGISTRY`, either with its bad
values or with an exemption and its reason. A public name or parameter missing from the
registry fails :func:`test_registry_covers_the_public_api`, so new public API cannot skip the
guard.

For each parameter two bad values are tried, with all other arguments valid:

* a value of the **wrong type** must raise ``TypeError``;
* a value of the right type **out of range** must raise ``ValueError``;

and the message must name the parameter. ``NO_RANGE("why")`` stands for the out-of-range
value of a parameter whose every value of the right type is valid (a boolean, a callable).

Adding an entry
---------------
A function::

    "metrics.smooth_calibration_error": fn(HARD, bad={**BINS, **BOOT}, exempt=ARRAYS),

``fn(args, bad, exempt)``: ``args`` are valid keyword arguments (a dict, or a function of a
temporary folder returning one); ``bad`` maps a parameter to ``(wrong_type, out_of_range)``;
``exempt`` maps a parameter to the reason it has no bad values here. A bad value that needs
other arguments changed to be reached is written ``With(value, other=...)``.

An estimator, checked at ``fit``: ``estimator(params, bad, exempt)``; a label source, checked
at ``make_targets``: ``source(params, bad, exempt)``; a recalibrator (``fit(y_prob, y_true)``,
then ``predict_proba``) can be added with ``estimator(params, bad, exempt, fit=RECAL_FIT)``.
"""

import importlib
import inspect
import re

import numpy as np
import pytest

import sksoft

# --------------------------------------------------------------------------- helpers


class NO_RANGE:  # noqa: N801 (reads as a constant in the registry)
    """The out-of-range slot of a parameter whose every well-typed value is valid."""

    def __init__(self, why):
        self.why = why


class Tmp:
    """A path in the test's temporary folder, made when the bad value is used."""

    def __init__(self, what):
        self.what = what

    def make(self, tmp):
        if self.what == "file":
            path = tmp / "a_file"
            path.write_text("a regular file, not a folder")
            return str(path)
        if self.what == "counts":
            path = tmp / "cifar10h-counts.npy"
            np.save(path, RNG.multinomial(50, np.ones(10) / 10, size=4))
            return str(path)
        return str(tmp / "missing" / "nothing.npz")


A_FILE = Tmp("file")  # an existing regular file where a folder is wanted
MISSING = Tmp("missing")  # a path that does not exist
COUNTS_NPY = Tmp("counts")  # a valid CIFAR-10H counts file


class With:
    """A bad value that needs other arguments changed to be reached."""

    def __init__(self, value, **others):
        self.value, self.others = value, others


def fn(args=None, bad=None, exempt=None, *, baseline=True):
    """A function: called as ``f(**args, param=bad_value)``."""
    return {"kind": "function", "args": args or {}, "bad": bad or {}, "exempt": exempt or {},
            "baseline": baseline}


def estimator(params=None, bad=None, exempt=None, *, fit=None, baseline=True):
    """An estimator class: constructed with ``params`` (and the bad value), then ``fit``."""
    return {"kind": "estimator", "args": params or {}, "bad": bad or {},
            "exempt": exempt or {}, "fit": fit or FIT_SOFT, "baseline": baseline}


def source(params=None, bad=None, exempt=None):
    """A label source: constructed with ``params`` (and the bad value), then
    ``make_targets``."""
    return {"kind": "source", "args": params or {}, "bad": bad or {}, "exempt": exempt or {},
            "baseline": True}


def init(args=None, bad=None, exempt=None, *, then=None, baseline=True):
    """A class checked when constructed (a splitter, a torch module, statistics); ``then`` is
    called on the instance."""
    return {"kind": "init", "args": args or {}, "bad": bad or {}, "exempt": exempt or {},
            "then": then, "baseline": baseline}


def unchecked(why):
    """A public name with nothing to check (a constant, a result container)."""
    return {"kind": "unchecked", "why": why}


# --------------------------------------------------------------------------- data
RNG = np.random.default_rng(0)
N, K = 30, 3
P = RNG.dirichlet(np.ones(K), size=N)
Y_HARD = np.arange(N) % K
Y_SOFT = RNG.dirichlet(np.ones(K), size=N)
X = RNG.normal(size=(N, 4))
X32 = X.astype(np.float32)
COUNTS = RNG.multinomial(5, np.ones(K) / K, size=N)
WIDE = np.where(RNG.random((N, 4)) < 0.2, np.nan, RNG.integers(0, K, (N, 4)).astype(float))
WIDE[:, 0] = Y_HARD  # every item has a vote and every class appears

HARD = {"y_true": Y_HARD, "y_prob": P}
SOFT = {"y_true": Y_SOFT, "y_prob": P}

#: common bad values
BOOL = ("yes", NO_RANGE("a boolean: both values are valid"))
SEED = ("seed", -1)
WEIGHT = ("heavy", -1.0)  # a scalar weight is checked like an array (finite, >= 0, not all 0)
ARRAY = "an array of the data: bad arrays are tried by tests/test_hypothesis_suite.py and " \
        "tests/test_hostile_input.py"
ARRAYS = {"y_true": ARRAY, "y_prob": ARRAY}
BINS = {"n_bins": ("15", 0), "strategy": (1, "median")}
BOOT = {"n_bootstrap": (2.5, -1), "confidence": ("high", 1.5), "random_state": SEED,
        "clusters": (With({"a": 1}, n_bootstrap=5), With(np.arange(N - 1), n_bootstrap=5))}
LABELS = {"labels": (5, [0, 0, 1])}
BOOT_ROWS = {k: v for k, v in BOOT.items() if k != "clusters"}
GROUPS = ({"a": 1}, np.arange(N - 1))
SETS = P > 0.2
CONFORMAL = {"conformity_score": (1, "lac"), "randomized": BOOL, "k_reg": (1.5, -1),
             "lambda_reg": ("big", -1.0), "random_state": SEED}
CONFORMAL_MC = {"alpha": ("tenth", 1.5), "n_samples": (2.5, 0),
                "correction": (1, "bonferroni"), "ecdf_fraction": ("half", 1.0)}
THREADS = {"n_threads": ("all", 0)}
INTERVAL = {"interval": (1, "bca")}
CLASSIFIER_ONLY = NO_RANGE("any object with fit and predict_proba is a classifier")
RECAL = {"estimator": (5, "logreg"), "cv": (2.5, 1),
         "calibrate_to": (1, "crowd"), "classes": (5, With([0, 0, 1], estimator="passthrough"))}


def _curve():
    import matplotlib

    matplotlib.use("Agg")
    from sksoft.metrics import reliability_curve

    return reliability_curve(Y_HARD, P, n_bins=4)


def FIT_SOFT(est):  # noqa: N802
    return est.fit(X, Y_SOFT).predict_proba(X)


def RECAL_FIT(est):  # noqa: N802
    return est.fit(P, Y_HARD).predict_proba(P)


def _sources():
    from sksoft.label_sources import GoldLabels, HumanSoftLabels

    return [("gold", GoldLabels()), ("human", HumanSoftLabels())]


def _chaosnli_csv(tmp):
    import pandas as pd

    path = tmp / "chaosnli.csv"
    pd.DataFrame({"subset": ["snli", "mnli_m"], "premise": ["a", "b"], "hypothesis": ["c", "d"],
                  "count_e": [50, 10], "count_n": [30, 10], "count_c": [20, 80],
                  "old_label": ["e", "c"]}).to_csv(path, index=False)
    return {"path": path}


def _lewidi_csvs(tmp):
    import pandas as pd

    ann, items = tmp / "ann.csv", tmp / "items.csv"
    pd.DataFrame({"dataset": ["ArMIS"] * 3, "split": ["dev"] * 3, "item_id": [1, 1, 2],
                  "annotator": ["a", "b", "a"], "label": [1, 0, 1],
                  "label_bin": [1, 0, 1]}).to_csv(ann, index=False)
    pd.DataFrame({"dataset": ["ArMIS"] * 2, "split": ["dev"] * 2, "item_id": [1, 2],
                  "text": ["x", "y"], "hard_label": [1, 1]}).to_csv(items, index=False)
    return {"annotations_path": ann, "items_path": items, "dataset": "ArMIS"}


def _cifar10h_npz(tmp):
    path = tmp / "cifar10h.npz"
    np.savez(path, counts=RNG.multinomial(50, np.ones(10) / 10, size=4),
             true_labels=np.arange(4), images=np.zeros((4, 32, 32, 3), dtype=np.uint8))
    return {"path": path}


def _long_df():
    import pandas as pd

    return pd.DataFrame({"task": [0, 0, 1], "worker": ["a", "b", "a"], "label": [0, 1, 1]})


def _knn():
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(3)


# --------------------------------------------------------------------------- the registry
# Keys are "submodule.name" (or "name" for sksoft itself).
def _registry():
    from sklearn.linear_model import LogisticRegression

    from sksoft.label_sources import GoldLabels

    binning = {"binning": (1, "netcal")}
    norm = {"norm": (1, "l3"), "debias": BOOL}
    return {
        # ---------------------------------------------------------------- sksoft
        "__version__": unchecked("a constant"),
        **{m: unchecked("a submodule: its own __all__ is walked") for m in sksoft._SUBMODULES},
        # ---------------------------------------------------------------- metrics
        "metrics.CalibrationReport": unchecked("a result container that calibration_report "
                                               "builds"),
        "metrics.ReliabilityCurve": unchecked("a result container that reliability_curve "
                                              "builds"),
        "metrics.SCORERS": unchecked("a constant"),
        "metrics.CalibrationStats": init(
            {"n_classes": K},
            {"n_classes": ("3", 0), "n_bins": ("15", 0), "edges": ("edges", [0.5, 0.2]),
             "binning": (1, "netcal"), "classwise": BOOL, "n_groups": ("2", 0),
             "labels": (5, [0, 0, 1]), "eps": ("small", 0.5), "variance": BOOL,
             "n_bootstrap": (2.5, -1), "random_state": SEED, "clusters": BOOL},
            then=lambda s: s.update(Y_HARD, P).compute()),
        "metrics.accuracy_score": fn(HARD, {**LABELS, **BOOT, "sample_weight": WEIGHT}, ARRAYS),
        "metrics.brier_score_loss": fn(HARD, {**LABELS, **BOOT, "sample_weight": WEIGHT},
                                       ARRAYS),
        "metrics.log_loss": fn(HARD, {**LABELS, **BOOT, "sample_weight": WEIGHT,
                                      "eps": ("small", 0.5)}, ARRAYS),
        "metrics.kl_divergence": fn(HARD, {**LABELS, **BOOT, "sample_weight": WEIGHT,
                                           "eps": ("small", 0.5)}, ARRAYS),
        "metrics.jensen_shannon_divergence": fn(HARD, {**LABELS, **BOOT,
                                                       "sample_weight": WEIGHT}, ARRAYS),
        "metrics.total_variation": fn(HARD, {**LABELS, **BOOT, "sample_weight": WEIGHT},
                                      ARRAYS),
        # LeWiDi-2025 metrics (tests/test_lewidi_metrics.py has their hostile arrays)
        "metrics.manhattan_distance": fn(
            HARD, {**LABELS, **BOOT, "sample_weight": WEIGHT, "round_items": (2.5, -1)},
            ARRAYS),
        "metrics.wasserstein_ordinal": fn(
            HARD, {**LABELS, **BOOT, "sample_weight": WEIGHT, "round_items": (2.5, -1)},
            ARRAYS),
        "metrics.multilabel_manhattan_distance": fn(
            {"y_true": Y_SOFT, "y_prob": P},
            {**BOOT, "sample_weight": WEIGHT, "round_items": (2.5, -1)}, ARRAYS),
        "metrics.annotator_error_rate": fn(
            {"y_true": WIDE, "y_pred": np.zeros_like(WIDE)},
            {**BOOT, "sample_weight": WEIGHT, "round_items": (2.5, -1)},
            {"y_true": ARRAY, "y_pred": ARRAY}),
        "metrics.annotator_absolute_distance": fn(
            {"y_true": WIDE, "y_pred": np.zeros_like(WIDE), "n_scale_points": K},
            {**BOOT, "sample_weight": WEIGHT, "round_items": (2.5, -1),
             "n_scale_points": ("3", 1)},
            {"y_true": ARRAY, "y_pred": ARRAY}),
        "metrics.expected_calibration_error": fn(
            HARD, {**BINS, **norm, **binning, **LABELS, **BOOT, **THREADS, **INTERVAL,
                   "sample_weight": WEIGHT}, ARRAYS),
        "metrics.classwise_calibration_error": fn(
            HARD, {**BINS, **norm, **LABELS, **BOOT, **THREADS, **INTERVAL,
                   "sample_weight": WEIGHT}, ARRAYS),
        "metrics.calibration_report": fn(
            HARD, {**BINS, **binning, **LABELS, **BOOT, **THREADS, **INTERVAL,
                   "sample_weight": WEIGHT, "eps": ("small", 0.5),
                   "groups": ({"a": 1}, np.arange(N - 1)), "extended": BOOL}, ARRAYS),
        "metrics.expected_calibration_error_floor": fn(
            {"y_prob": P}, {**BINS, "norm": (1, "l3"), "sample_weight": WEIGHT,
                            "n_simulations": (2.5, 0), "random_state": SEED},
            {"y_prob": ARRAY}),
        "metrics.holm_adjust": fn({"p_values": [0.1, 0.2]}, {"p_values": (["a"], [1.5])}),
        "metrics.benjamini_hochberg": fn({"p_values": [0.1, 0.2]},
                                         {"p_values": (["a"], [1.5])}),
        "metrics.equivalence_test": fn(
            {"estimate": 0.0, "se": 0.1, "margin": 0.2},
            {"estimate": ("a", np.inf), "se": ("a", -1.0), "margin": ("a", 0.0),
             "df": ("a", 0.0)}),
        "metrics.minimum_detectable_difference": fn(
            {"se": 0.1}, {"se": ("a", -1.0), "alpha": ("a", 1.5), "power": ("a", 0.0),
                          "df": ("a", 0.0)}),
        "metrics.pitman_morgan_test": fn(
            {"x": [1.0, 2.0, 4.0, 3.0], "y": [2.0, 1.0, 3.0, 5.0]},
            {"x": (["a"] * 4, [1.0, 2.0]), "y": (["a"] * 4, [1.0, 2.0]),
             "confidence": ("high", 1.5)}),
        "metrics.seed_resample_counts": fn(
            {"n_seeds": 3, "n_bootstrap": 10},
            {"n_seeds": ("3", 0), "n_bootstrap": (2.5, 0), "min_distinct": ("2", 0),
             "random_state": SEED}),
        "metrics.seed_interval": fn(
            {"values": [0.1, 0.2, 0.15]},
            {"values": (["a", "b"], [0.1]), "item_se": ("a", -1.0), "per_item": BOOL,
             "confidence": ("high", 1.5)}),
        "metrics.SeedInterval": unchecked("a result container"),
        "metrics.PitmanMorganResult": unchecked("a result container"),
        "metrics.reliability_curve": fn(
            HARD, {**BINS, **LABELS, "sample_weight": WEIGHT, "mode": (1, "both"),
                   "n_bootstrap": (2.5, -1), "confidence": ("high", 1.5),
                   "random_state": (With("seed", n_bootstrap=5), With(-1, n_bootstrap=5))},
            ARRAYS),
        "metrics.entropy": fn({"y_prob": P}, {"sample_weight": WEIGHT, "average": BOOL},
                              {"y_prob": ARRAY}),
        "metrics.entropy_correlation": fn(
            SOFT, {**BOOT, "sample_weight": WEIGHT,
                   "groups": ({"a": 1}, np.arange(N - 1))}, ARRAYS),
        "metrics.spearman_correlation": fn(
            {"x": np.arange(5.0), "y": np.arange(5.0)[::-1]},
            {"x": (["a"] * 5, [0, 1, np.nan, 3, 4]), "y": (["a"] * 5, [0, 1, np.inf, 3, 4]),
             "sample_weight": WEIGHT}),
        "metrics.difficulty_scores": fn({"y_soft": Y_SOFT},
                                        {"y_soft": ([["a", "b"]], -Y_SOFT),
                                         "score": (1, "variance")}),
        "metrics.difficulty_bins": fn({"scores": np.linspace(0, 1, N)},
                                      {"scores": (["a"] * N, np.full(N, np.nan)),
                                       "n_bins": ("5", 0), "strategy": (1, "median"),
                                       "sample_weight": WEIGHT}),
        "metrics.equal_mass_edges": fn({"values": np.linspace(0, 1, N), "n_bins": 4},
                                       {"values": (["a"] * N, np.full(N, np.nan)),
                                        "n_bins": ("4", 0), "sample_weight": WEIGHT}),
        "metrics.get_scorer": fn({"name": "neg_expected_calibration_error"},
                                 {"name": (3, "neg_accuracy_of_everything")}),
        "metrics.get_scorer_names": fn(),
        "metrics.make_proba_scorer": fn(
            {"score_func": lambda y, p: 0.0},
            {"score_func": ("accuracy", NO_RANGE("any callable is a score function")),
             "greater_is_better": BOOL, "against": (1, "crowd"),
             "difficulty": ("hard", (3, 2)), "name": (3, NO_RANGE("any string names it"))},
            {"kwargs": "passed through to score_func"}),
        "metrics.openmp_enabled": fn(),
        "metrics.coverage_score": fn(
            {"y_true": Y_HARD, "y_set": SETS},
            {**LABELS, **BOOT_ROWS, "sample_weight": WEIGHT, "groups": GROUPS},
            {"y_true": ARRAY, "y_set": ARRAY}),
        "metrics.mean_set_size": fn(
            {"y_set": SETS}, {**BOOT_ROWS, "sample_weight": WEIGHT, "groups": GROUPS},
            {"y_set": ARRAY}),
        "metrics.size_stratified_coverage": fn(
            {"y_true": Y_HARD, "y_set": SETS},
            {**LABELS, **BOOT_ROWS, "sample_weight": WEIGHT, "groups": GROUPS},
            {"y_true": ARRAY, "y_set": ARRAY}),
        "metrics.SizeStratifiedCoverage": unchecked("a result container"),
        "metrics.CalibrationTestResult": unchecked("a result container"),
        "metrics.calibration_test": fn(
            HARD, {"method": (1, "hosmer"), "top_label": ("yes", False), **LABELS,
                   "null": (1, "permutation"), "n_resamples": (2.5, 0),
                   "bandwidth": ("wide", -1.0), "random_state": SEED}, ARRAYS),
        "metrics.make_set_scorer": fn(
            {"score_func": lambda y, s: 0.0},
            {"score_func": ("coverage", NO_RANGE("any callable is a score function")),
             "alpha": ("tenth", 1.5), "greater_is_better": BOOL, "against": (1, "crowd"),
             "difficulty": ("hard", (3, 2)), "name": (3, NO_RANGE("any string names it"))},
            {"kwargs": "passed through to score_func"}),
        # ---------------------------------------------------------------- conformal
        "conformal.ConformalClassifier": estimator(
            {"random_state": 0},
            {"estimator": (5, "logreg"), "cv": (2.5, "kfold"), "calibrate_to": (1, "crowd"),
             "classes": (5, With([0, 0, 1], estimator="passthrough")), **CONFORMAL,
             **CONFORMAL_MC, "calibration_size": ("third", 1.0)}, fit=RECAL_FIT),
        "conformal.nonconformity_scores": fn({"y_prob": P}, CONFORMAL, {"y_prob": ARRAY}),
        "conformal.fit_conformal_threshold": fn(
            HARD, {**CONFORMAL, **CONFORMAL_MC, **LABELS, "soft": (1, "mean")}, ARRAYS),
        "conformal.apply_conformal_threshold": fn(
            {"y_prob": P, "threshold": 0.5},
            {**{k: v for k, v in CONFORMAL.items() if k != "alpha"},
             "threshold": ("half", np.nan)}, {"y_prob": ARRAY}),
        "metrics.Estimate": unchecked("a result type (a float with its interval)"),
        "metrics.IsotonicReliabilityCurve": unchecked("a result container"),
        "metrics.ScoreDecomposition": unchecked("a result container"),
        "metrics.SmoothReliabilityCurve": unchecked("a result container"),
        "metrics.bootstrap_weights": fn(
            {"n_samples": 5, "n_bootstrap": 3},
            {"n_samples": ("5", -1), "n_bootstrap": (2.5, -1), "random_state": SEED,
             "start": ("0", -1)}),
        "metrics.smooth_calibration_error": fn(
            HARD, {"bandwidth": ([0.1], 0.0), "mode": (1, "both"), **LABELS,
                   "sample_weight": WEIGHT, "n_grid": ("big", 3), **THREADS}, ARRAYS),
        "metrics.smooth_reliability_curve": fn(
            HARD, {"bandwidth": ([0.1], 0.0), "mode": (1, "both"), **LABELS,
                   "sample_weight": WEIGHT, "n_grid": ("big", 3), "n_points": (10.5, 1),
                   **THREADS}, ARRAYS),
        "metrics.score_decomposition": fn(
            HARD, {"score": (1, "spherical"), "mode": (1, "both"), **LABELS,
                   "sample_weight": WEIGHT, "eps": ("small", 0.5), **THREADS}, ARRAYS),
        "metrics.isotonic_reliability_curve": fn(
            HARD, {"mode": (1, "both"), **LABELS, "sample_weight": WEIGHT,
                   "n_bootstrap": (2.5, -1), "confidence": ("high", 1.5),
                   "max_band_points": (10.5, 1), "random_state": SEED, **THREADS}, ARRAYS),
        # ---------------------------------------------------------------- calibration
        "calibration.TemperatureScaling": estimator(
            {"cv": 3},
            {**RECAL, "bounds": ("wide", (1.0, 0.5))}, fit=RECAL_FIT),
        "calibration.VectorScaling": estimator(
            {"cv": 3}, {**RECAL, "max_iter": (10.5, 0), "tol": ("small", 0.0)}, fit=RECAL_FIT),
        "calibration.DirichletCalibration": estimator(
            {"cv": 3}, {**RECAL, "reg_lambda": ("big", -1.0), "reg_mu": ("big", -1.0),
                        "penalty": (1, "l1"), "max_iter": (10.5, 0), "tol": ("small", 0.0)},
            fit=RECAL_FIT),
        "calibration.IsotonicCalibration": estimator({"cv": 3}, RECAL, fit=RECAL_FIT),
        "calibration.fit_vector_scaling": fn(
            HARD, {"sample_weight": WEIGHT, **LABELS, "max_iter": (10.5, 0),
                   "tol": ("small", 0.0)}, ARRAYS),
        "calibration.apply_vector_scaling": fn(
            {"proba": P, "scale": np.ones(K), "bias": np.zeros(K)},
            {"proba": ([["a", "b"]], -P), "scale": ("big", np.ones(K + 1)),
             "bias": ("zero", np.full(K, np.nan))}),
        "calibration.fit_dirichlet_calibration": fn(
            HARD, {"sample_weight": WEIGHT, **LABELS, "reg_lambda": ("big", -1.0),
                   "reg_mu": ("big", -1.0), "penalty": (1, "l1"), "max_iter": (10.5, 0),
                   "tol": ("small", 0.0)}, ARRAYS),
        "calibration.apply_dirichlet_calibration": fn(
            {"proba": P, "coef": np.eye(K), "intercept": np.zeros(K)},
            {"proba": ([["a", "b"]], -P), "coef": ("eye", np.eye(K + 1)),
             "intercept": ("zero", np.full(K, np.nan))}),
        "calibration.fit_isotonic_calibration": fn(
            HARD, {"sample_weight": WEIGHT, **LABELS}, ARRAYS),
        "calibration.apply_isotonic_calibration": fn(
            {"proba": P, "thresholds": [(np.array([0.0, 1.0]), np.array([0.0, 1.0]))] * K},
            {"proba": ([["a", "b"]], -P), "thresholds": ("maps", [])}),
        # ---------------------------------------------------------------- plotting
        "plotting.ReliabilityDisplay": init(
            {"curve": _curve()},
            {"curve": ("curve", NO_RANGE("any curve type is drawable")),
             "name": (3, NO_RANGE("any string names it"))},
            then=lambda disp: disp.plot()),
        "plotting.plot_reliability_diagram": fn(
            {"curve": _curve()},
            {"curve": ("curve", NO_RANGE("any curve type is drawable")),
             "counts": BOOL},
            {"ax": "a matplotlib Axes, passed to matplotlib",
             "label": "passed to matplotlib", "color": "passed to matplotlib"}),
        "calibration.fit_temperature": fn(
            HARD, {"sample_weight": WEIGHT, "labels": (5, [0, 0, 1]),
                   "bounds": ("wide", (1.0, 0.5))}, ARRAYS),
        "calibration.apply_temperature": fn(
            {"proba": P, "temperature": 2.0},
            {"proba": ([["a", "b"]], -P), "temperature": ("hot", 0.0)}),
        # ---------------------------------------------------------------- linear_model, meta
        "linear_model.SoftLogisticRegression": estimator(
            {}, {"C": ("1", 0.0), "fit_intercept": BOOL, "max_iter": (10.5, 0),
                 "tol": ("small", -1.0), "classes": (5, [0, 0, 1]),
                 "label_source": ("gold", NO_RANGE("any LabelSource is a label source"))}),
        "meta.SoftExpand": estimator(
            {"estimator": LogisticRegression()},
            {"estimator": ("logreg", With(_knn())), "classes": (5, [0, 0, 1]),
             "label_source": ("gold", NO_RANGE("any LabelSource is a label source"))}),
        # ---------------------------------------------------------------- model_selection
        "model_selection.SoftStratifiedKFold": init(
            {"n_splits": 3}, {"n_splits": ("3", 1), "shuffle": BOOL,
                              "random_state": (With("seed", shuffle=True),
                                               With(-1, shuffle=True))},
            then=lambda cv: list(cv.split(X, Y_SOFT))),
        "model_selection.cross_val_predict_proba": fn(
            lambda tmp: {"estimator": _logreg(), "X": X, "y": Y_SOFT, "cv": 3},
            {"estimator": ("logreg", CLASSIFIER_ONLY), "cv": (2.5, 1),
             "params": ("sample_weight", {"bogus": np.ones(N)}),
             "classes": (5, [0, 0, 1]), "n_jobs": ("2", 0)},
            {"X": "passed to the estimator, which checks it",
             "y": ARRAY}),
        # ---------------------------------------------------------------- label_sources
        "label_sources.LabelSource": unchecked("the abstract base class: no parameters, "
                                               "make_targets is abstract"),
        "label_sources.GoldLabels": source(),
        "label_sources.HumanMajority": source(),
        "label_sources.ModeAlignedHumanLabels": source(),
        "label_sources.HumanSoftLabels": source({}, {"temperature": ("hot", 0.0),
                                                     "prior": ("flat", -1.0)}),
        "label_sources.LabelSmoothing": source({}, {"epsilon": ("small", 1.5)}),
        "label_sources.ShuffledHumanLabels": source({}, {"random_state": SEED}),
        "label_sources.EntropyMatchedSmoothing": source(),
        "label_sources.TeacherDistillation": source(
            {"cv": 2}, {"teacher": ("logreg", CLASSIFIER_ONLY), "temperature": ("hot", 0.0),
                        "alpha": ("half", 1.5), "cv": (2.5, 1), "random_state": SEED}),
        "label_sources.EnsembleDisagreement": source(
            {"cv": 2, "n_members": 2},
            {"estimator": ("logreg", CLASSIFIER_ONLY), "n_members": ("2", 0),
             "method": (1, "dropout"), "output": (1, "median"), "cv": (2.5, 1),
             "random_state": SEED}),
        "label_sources.MixtureOfSources": source(
            {"sources": _sources()},
            {"sources": ("gold", []), "weights": ("equal", [-1.0, 2.0])}),
        "label_sources.CrowdAggregate": source(
            {}, {"method": (1, "vote"), "prior": ("flat", -1.0), "max_iter": ("10", 0)}),
        "label_sources.ExternalSoftLabels": source(
            {"name": "llm", "soft_labels": Y_SOFT},
            {"name": (5, NO_RANGE("any string names the source")),
             "soft_labels": (5, -Y_SOFT)}),
        "label_sources.make_training_targets": fn(
            {"source": GoldLabels(), "X": X, "y": Y_HARD},
            {"source": ("gold", NO_RANGE("any LabelSource is a label source")),
             "soft_labels": ([["a"] * K] * N, -Y_SOFT), "classes": (5, [0, 0, 1]),
             "sample_weight": WEIGHT, "item_index": ("positions", -np.arange(N) - 1)},
            {"X": "passed to the label source, which may ignore it",
             "y": ARRAY, "annotations": "passed to the label source (CrowdAggregate checks "
                                        "them; tests/test_hypothesis_suite.py)"}),
        # ---------------------------------------------------------------- annotations
        "annotations.DawidSkeneResult": unchecked("a result container that dawid_skene "
                                                  "builds"),
        "annotations.wide_to_long": fn(
            {"wide": WIDE},
            {"wide": ([["a", "b"]], -WIDE), "mask": ("all", np.ones((2, 2), dtype=bool)),
             "task_ids": (5, np.arange(3)), "worker_ids": (5, np.arange(2))}),
        "annotations.long_to_wide": fn(
            lambda tmp: {"df": _long_df()},
            {"df": (WIDE, _long_df().drop(columns="worker")), "classes": (5, [0, 2])}),
        "annotations.to_counts": fn(
            {"annotations": WIDE},
            {"annotations": ([["a", "b"]], -WIDE), "n_classes": ("3", 0),
             "classes": (5, [0, 1]), "mask": ("all", np.ones((2, 2), dtype=bool))}),
        "annotations.counts_to_soft": fn({"counts": COUNTS},
                                         {"counts": ([["a", "b"]], -COUNTS),
                                          "prior": ("flat", -1.0)}),
        "annotations.subsample_counts": fn(
            {"counts": COUNTS, "n_votes": 2},
            {"counts": ([["a", "b"]], -COUNTS), "n_votes": ("2", 0), "random_state": SEED}),
        "annotations.subsample_annotations": fn(
            {"annotations": WIDE, "n_votes": 2},
            {"annotations": ([["a", "b"]], -WIDE), "n_votes": ("2", 0),
             "random_state": SEED}),
        "annotations.majority_vote": fn(
            {"counts": COUNTS}, {"counts": ([["a", "b"]], np.full((2, 2), np.nan)),
                                 "tie_break": (1, "last"), "random_state": SEED}),
        "annotations.dawid_skene": fn(
            {"annotations": WIDE, "max_iter": 5},
            {"annotations": ([["a", "b"]], -WIDE), "n_classes": ("3", 0),
             "classes": (5, [0, 1]), "mask": ("all", np.ones((2, 2), dtype=bool)),
             "max_iter": ("5", 0), "tol": ("small", -1.0), "init": (1, "uniform"),
             "random_state": SEED, "sample_weight": WEIGHT}),
        "annotations.agreement_summary": fn({"counts": COUNTS},
                                            {"counts": ([["a", "b"]], -COUNTS)}),
        "annotations.fleiss_kappa": fn({"counts": COUNTS}, {"counts": ([["a", "b"]], -COUNTS)}),
        # ---------------------------------------------------------------- datasets
        "datasets.fetch_cifar10h": fn(
            {"download_if_missing": False},
            {"data_home": (3, A_FILE), "download_if_missing": BOOL,
             "progress": BOOL}, baseline=False),
        "datasets.get_data_home": fn(
            lambda tmp: {"data_home": tmp / "home"},
            {"data_home": (3, A_FILE)}),
        "datasets.image_features": fn(
            {"images": np.zeros((2, 8, 8, 3), dtype=np.uint8)},
            {"images": (np.full((2, 8, 8, 3), "a"), np.zeros((2, 8, 8))),
             "pool": ("4", 0), "hist_bins": ("8", 0), "orientations": ("8", 0)}),
        "datasets.load_chaosnli": fn(_chaosnli_csv, {"path": (3, MISSING),
                                                     "subset": (1, "mnli")}),
        "datasets.load_cifar10h": fn(
            _cifar10h_npz,
            {"path": (3, MISSING),
             "counts_path": (With(3, path=None), With(MISSING, path=None)),
             "batch_path": (With(3, path=None, counts_path=COUNTS_NPY),
                            With(MISSING, path=None, counts_path=COUNTS_NPY))}),
        "datasets.make_ambiguous_digits": fn(
            {}, {"ambiguous_fraction": ("a third", 1.5), "max_ambiguity": ("half", 0.9),
                 "n_annotators": ("50", 0), "annotators_per_item": ("5", 0),
                 "slope": ("steep", (25.0, 10.0)), "threshold_sd": ("wide", -0.1),
                 "lapse": ("rare", (0.0, 1.5)), "mislabel_fraction": ("few", 1.5),
                 "gold_noise": (1, "partner"), "random_state": SEED}),
        "datasets.load_lewidi2023": fn(
            _lewidi_csvs, {"annotations_path": (3, MISSING), "items_path": (3, MISSING),
                           "dataset": (1, "SemEval"), "split": (1, "val"),
                           "label": (1, "ternary")}),
        "datasets.TextPairFeatures": init(
            {}, {"method": (1, "bert"), "max_features": ("100", 0), "ngram_max": ("2", 0),
                 "min_df": ("1", 0), "batch_size": ("64", 0)},
            then=lambda f: f.fit([("ab bc", "bc cd"), ("cd de", "de ef")]).transform([("ab", "bc")])),
        "datasets.read_cifar10_binary": fn({"source": bytes(3073)},
                                           {"source": (3, bytes(100))}),
        # ---------------------------------------------------------------- neural_network, nn
        "neural_network.SoftNeuralNetClassifier": estimator(
            {"max_epochs": 1, "batch_size": 16, "train_split": None},
            {"module": ("mlp", NO_RANGE("any torch module class or instance")),
             "criterion": ("ce", NO_RANGE("any torch loss class or instance")),
             "optimizer": ("adam", NO_RANGE("any optimizer class")),
             "lr": ("fast", 0.0), "max_epochs": (1.5, -1), "batch_size": ("16", 0),
             "train_split": ("20%", 1.5), "classes": (5, [0, 0, 1]),
             "label_source": ("gold", NO_RANGE("any LabelSource is a label source")),
             "random_state": ("seed", -1), "device": (3, "gpu"),
             "callbacks": (3, [("log", "not a callback")]), "verbose": ("loud", -1),
             **THREADS},
            {"kwargs": "skorch's prefixed parameters (module__*, optimizer__*, ...), checked "
                       "by skorch"},
            fit=lambda net: net.fit(X32, Y_SOFT).predict_proba(X32)),
        "neural_network.resolve_device": fn({"device": "auto"}, {"device": (3, "gpu")}),
        "nn.MLP": init(
            {"input_units": 4, "output_units": 3}, {"input_units": ("4", 0), "output_units": ("3", 0),
                        "hidden_units": ("wide", (8, 0)), "dropout": ("some", 1.5)}),
        "nn.SmallCNN": init(
            {"in_channels": 1, "output_units": 3},
            {"in_channels": ("1", 0), "output_units": ("3", 0), "width": ("8", 0),
             "dropout": ("some", 1.5)}),
        # ---------------------------------------------------------------- study
        "study.HIGHER_IS_BETTER": unchecked("a constant"),
        "study.METRICS": unchecked("a constant"),
        "study.MODELS": unchecked("a constant"),
        "study.REGIMES": unchecked("a constant"),
        "study.EXTENDED_METRICS": unchecked("a constant"),
        "study.SOURCE_LABELS": unchecked("a constant"),
        "study.SOURCE_NAMES": unchecked("a constant"),
        "study.StudyResults": unchecked("a result container that run builds"),
        "study.StudyConfig": init(
            {}, {"data": (3, "mnist"), "data_path": (3, MISSING), "model": (3, "resnet"),
                 "sources": (3, ("gold", "oracle")), "seeds": ("5", 0), "folds": ("5", 1),
                 "difficulty_bins": ("3", 0), "n_bins": ("15", 0), "epochs": ("30", 0),
                 "device": (3, "gpu"), "n_jobs": ("2", 0), "backend": (3, "spark"),
                 "scheduler": (3, NO_RANGE("an address, checked when connecting")),
                 "out": (3, A_FILE), "quick": BOOL, "figures": BOOL, "progress": BOOL,
                 "extra": ("x", {"n_items": 0}), "n_bootstrap": (2.5, -1),
                 "confidence": ("high", 1.5), "bootstrap_seed": ("0", -1),
                 "regimes": (3, "huge"), "hidden": ("64", 0), "dropout": ("0.5", 1.0),
                 "weight_decay": ("0", -1e-4), "threads_per_fit": ("2", 0),
                 "calibrators": (3, ("platt",)), "calibrate_to": (3, ("crowd",)),
                 "calibration_fraction": ("0.1", 0.9), "annotators": (3, (0,)),
                 "human_fraction": (0.5, (1.5,)), "allocate": ("random", ("smart",)),
                 "cost_benefit": BOOL},
            then=lambda cfg: cfg.resolved()),
        "study.own_data": fn(
            {"arrays": {"X": X, "y_gold": Y_HARD, "soft_labels": Y_SOFT}},
            {"arrays": ("data.npz", {"X": X}), "name": (3, NO_RANGE("any name"))}),
        "study.run": fn({}, {"config": ("quick", NO_RANGE("any StudyConfig"))},
                        {"kwargs": "the fields of StudyConfig (its entry)"}, baseline=False),
    }


def _logreg():
    from sksoft.linear_model import SoftLogisticRegression

    return SoftLogisticRegression()


REGISTRY = _registry()


# --------------------------------------------------------------------------- the walk
def _public():
    """Every public name: sksoft.__all__ and each submodule's __all__ ("sub.name")."""
    names = {name: getattr(sksoft, name) for name in sksoft.__all__}
    for sub in sorted(sksoft._SUBMODULES):
        mod = importlib.import_module(f"sksoft.{sub}")
        for name in mod.__all__:
            names[f"{sub}.{name}"] = getattr(mod, name)
    return names


def _resolve(name):
    mod, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(f"sksoft.{mod}") if mod else sksoft, attr)


def _parameters(obj):
    return [p for p in inspect.signature(obj).parameters if p != "self"]


def _call(name, overrides, tmp_path):
    entry, obj = REGISTRY[name], _resolve(name)
    args = entry["args"](tmp_path) if callable(entry["args"]) else dict(entry["args"])
    args.update({k: v.make(tmp_path) if isinstance(v, Tmp) else v
                 for k, v in overrides.items()})
    kind = entry["kind"]
    if kind == "function":
        return obj(**args)
    if kind == "init":
        inst = obj(**args)
        return entry["then"](inst) if entry["then"] else inst
    if kind == "estimator":
        return entry["fit"](obj(**args))
    assert kind == "source"
    return obj(**args).make_targets(X, Y_HARD, human=Y_SOFT, annotations=WIDE, n_classes=K)


def test_registry_covers_the_public_api():
    public = _public()
    problems = [f"{n}: public, not in the registry" for n in sorted(set(public) - set(REGISTRY))]
    problems += [f"{n}: in the registry, not public" for n in sorted(set(REGISTRY) - set(public))]
    for name, obj in sorted(public.items()):
        entry = REGISTRY.get(name)
        if entry is None:
            continue
        if entry["kind"] == "unchecked":
            assert entry["why"], name
            if inspect.isfunction(obj) and _parameters(obj):
                problems.append(f"{name}: a function with parameters cannot be unchecked")
            continue
        params = set(_parameters(obj))
        listed = set(entry["bad"]) | set(entry["exempt"])
        problems += [f"{name}({p}): parameter not in the registry" for p in
                     sorted(params - listed)]
        problems += [f"{name}({p}): in the registry, not a parameter" for p in
                     sorted(listed - params)]
        problems += [f"{name}({p}): both bad values and an exemption" for p in
                     sorted(set(entry["bad"]) & set(entry["exempt"]))]
        for p, values in entry["bad"].items():
            if not (isinstance(values, tuple) and len(values) == 2):
                problems.append(f"{name}({p}): bad values must be (wrong_type, out_of_range)")
    assert not problems, "\n".join(problems)


def _cases():
    for name, entry in REGISTRY.items():
        if entry["kind"] == "unchecked":
            continue
        for param, values in entry["bad"].items():
            for which, value in zip(("type", "range"), values):
                if isinstance(value, NO_RANGE):
                    continue
                yield pytest.param(name, param, which, value, id=f"{name}-{param}-{which}")


def _baselines():
    return [pytest.param(n, id=n) for n, e in REGISTRY.items()
            if e["kind"] != "unchecked" and e["baseline"]]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", _baselines())
def test_the_valid_call_of_every_entry_runs(name, tmp_path):
    _call(name, {}, tmp_path)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name, param, which, value", _cases())
def test_bad_values_raise_an_error_naming_the_parameter(name, param, which, value, tmp_path):
    overrides = {param: value}
    if isinstance(value, With):
        overrides = {**value.others, param: value.value}
    exc = TypeError if which == "type" else ValueError
    with pytest.raises(Exception) as info:
        _call(name, overrides, tmp_path)
    assert info.type is exc or issubclass(info.type, exc) and not (
        exc is TypeError and issubclass(info.type, ValueError)), (
        f"{name}({param}={value!r}) raised {info.type.__name__}: {info.value}")
    pattern = rf"(?<![A-Za-z0-9_]){re.escape(param)}(?![A-Za-z0-9_])"
    assert re.search(pattern, str(info.value)), (
        f"{name}({param}=...): the message does not name {param!r}: {info.value}")


# --------------------------------------------------------------------------- hostile values
# (issue 28) Values beyond each parameter's (wrong type, out of range) pair that a hostile-input
# sweep found to slip through: each must raise the error named, naming the parameter.
HOSTILE = [
    ("annotations.counts_to_soft", {"prior": np.inf}, ValueError, "prior"),
    ("annotations.counts_to_soft", {"counts": np.full((N, K), 1e308)}, ValueError, "counts"),
    ("annotations.subsample_counts", {"counts": np.full((N, K), 1e300)}, ValueError, "counts"),
    ("annotations.fleiss_kappa", {"counts": np.full((N, K), 1e308)}, ValueError, "counts"),
    ("annotations.to_counts", {"annotations": np.array([[2.0**40, 1]])}, ValueError,
     "annotations"),
    ("annotations.to_counts", {"n_classes": 2**40}, ValueError, "n_classes"),
    ("annotations.dawid_skene", {"annotations": np.array([[2.0**40, 1]])}, ValueError,
     "annotations"),
    ("annotations.dawid_skene", {"n_classes": 2**40}, ValueError, "n_classes"),
    ("study.own_data", {"arrays": {"X": X.astype(str), "y_gold": Y_HARD,
                                   "soft_labels": Y_SOFT}}, TypeError, "X"),
    ("study.run", {"data": {"X": X, "y_gold": Y_HARD, "soft_labels": Y_SOFT}, "folds": 2,
                   "difficulty_bins": N, "progress": False}, ValueError, "difficulty_bins"),
    ("linear_model.SoftLogisticRegression", {}, ValueError, "sample_weight"),
]


def _hostile_call(name, overrides, tmp_path):
    if name == "study.run":
        return sksoft.study.run(out=str(tmp_path / "never"), **overrides)
    if name == "linear_model.SoftLogisticRegression":  # weights whose total overflows
        return _resolve(name)().fit(X, Y_HARD, sample_weight=np.full(N, 1e307))
    return _call(name, overrides, tmp_path)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name, overrides, exc, param", HOSTILE,
                         ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(HOSTILE)])
def test_hostile_values_raise_an_error_naming_the_parameter(name, overrides, exc, param,
                                                            tmp_path):
    assert name in REGISTRY
    with pytest.raises(Exception) as info:
        _hostile_call(name, overrides, tmp_path)
    assert issubclass(info.type, exc), f"{name}: {info.type.__name__}: {info.value}"
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(param)}(?![A-Za-z0-9_])", str(info.value)), \
        f"{name}: the message does not name {param!r}: {info.value}"
    assert not (tmp_path / "never").exists()  # (the study checks everything before --out)


def _numbers(obj):
    """The numbers of a metric's result, flat, and its bootstrap estimates."""
    metrics = importlib.import_module("sksoft.metrics")
    if isinstance(obj, metrics.CalibrationReport):
        values = [v for block in [obj.overall, *obj.groups.values()] for k, v in block.items()
                  if k != "weight"]
    elif isinstance(obj, dict):
        values = [v for k, v in obj.items() if k != "weight"]
    elif isinstance(obj, float):
        values = [obj]
    elif isinstance(obj, tuple):
        values = [np.asarray(v, dtype=float) for v in obj]
    elif hasattr(obj, "__dict__"):  # curves, decompositions: their arrays of values
        values = [np.asarray(v, dtype=float) for k, v in vars(obj).items()
                  if not k.endswith(("count", "counts", "weight", "weights")) and v is not None
                  and np.asarray(v).dtype.kind in "fiu"]
    else:
        values = [np.asarray(obj, dtype=float)]
    flat = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in values])
    return flat, [v for v in values if isinstance(v, metrics.Estimate)]


def _weighted_metrics():
    return [pytest.param(n, id=n) for n, e in REGISTRY.items()
            if n.startswith("metrics.") and e["kind"] == "function" and "sample_weight" in e["bad"]]


@pytest.mark.parametrize("name", _weighted_metrics())
def test_every_metric_is_scale_free_in_its_weights(name, tmp_path):
    args = REGISTRY[name]["args"]
    args = args(tmp_path) if callable(args) else args
    n = next(np.shape(v)[0] for v in args.values() if np.ndim(v) >= 1)
    w = RNG.uniform(0.5, 1.0, n)
    seeded = {"random_state": 0} if "random_state" in REGISTRY[name]["bad"] else {}
    want = _numbers(_call(name, {"sample_weight": w, **seeded}, tmp_path))[0]
    for scale in (1e307, 1e-300):
        with np.errstate(over="raise", invalid="raise"):
            got = _numbers(_call(name, {"sample_weight": w * scale, **seeded}, tmp_path))[0]
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True,
                                   err_msg=f"{name} with weights x {scale:g}")


#: bootstrapped functions whose result on identical rows says nothing about empty resamples
_NO_ESTIMATE = {"metrics.bootstrap_weights": "returns the weights themselves",
                "metrics.entropy_correlation": "identical rows have no entropy variation (NaN)",
                "metrics.reliability_curve": "hard labels get Wilson intervals, no bootstrap",
                "metrics.isotonic_reliability_curve": "its bands are arrays of a curve, no "
                                                      "Estimate",
                "metrics.seed_resample_counts": "draws the seed resamples themselves (it redraws "
                                                "those whose seeds coincide), scores nothing"}


def _bootstrapped_metrics():
    return [pytest.param(n, id=n) for n, e in REGISTRY.items()
            if n.startswith("metrics.") and e["kind"] == "function" and "n_bootstrap" in e["bad"]
            and n not in _NO_ESTIMATE]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", _bootstrapped_metrics())
def test_no_bootstrap_scores_an_empty_resample(name, tmp_path):
    # two identical rows: a resample is one of them (the point's value) or empty (e^-2 of
    # the replicates), which must be dropped, never scored
    args = REGISTRY[name]["args"]
    args = args(tmp_path) if callable(args) else args
    rows = {"y_true": np.array([1, 1]) if np.ndim(args.get("y_true", 0)) == 1 else
            np.tile(Y_SOFT[:1], (2, 1)), "y_prob": np.tile(P[:1], (2, 1))}
    sized = [k for k, v in args.items() if np.ndim(v) >= 1 and k not in rows]
    # the predictions of the annotator and set metrics: their first row, twice
    rows.update({k: np.repeat(np.asarray(args[k])[:1], 2, axis=0) for k in ("y_pred", "y_set")
                 if k in args})
    if "y_pred" in args:  # annotator metrics: y_true is the annotators' labels of an item
        rows["y_true"] = np.repeat(np.asarray(args["y_true"])[:1], 2, axis=0)
    sized = [k for k in sized if k not in rows]
    overrides = {**{k: rows[k] for k in rows if k in args}, **{k: None for k in sized},
                 "n_bootstrap": 200, "random_state": 0}
    result = _call(name, overrides, tmp_path)
    metrics = importlib.import_module("sksoft.metrics")
    if isinstance(result, metrics.CalibrationReport):
        # (the debiased errors give a resample of one distinct row 0 by their definition:
        # a bin of fewer than two rows carries no estimate of its gap)
        estimates = {k: v for k, v in result.overall.items() if not k.endswith("_debiased")}
    elif hasattr(result, "worst"):  # size-stratified coverage: per size and the worst
        estimates = {"worst": result.worst, **{f"size {k}": v for k, v in
                                                zip(result.sizes, result.coverage)}}
    else:
        estimates = {name: result}
    estimates = {k: v for k, v in estimates.items()
                 if isinstance(v, metrics.Estimate) and np.isfinite(v)}
    assert estimates, name
    for metric, estimate in estimates.items():
        assert estimate.low == pytest.approx(float(estimate), abs=1e-12), metric
        assert estimate.high == pytest.approx(float(estimate), abs=1e-12), metric
