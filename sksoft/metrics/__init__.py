"""Calibration metrics, divergences to human labels and difficulty binning.

All metrics share one compiled pass over the probability matrix (see :class:`CalibrationStats`)
and accept hard labels or soft-label matrices as ``y_true``. Importing this module does not
import torch.
"""

from ._calibration_tests import CalibrationTestResult, calibration_test
from ._calibration import (
    classwise_calibration_error,
    expected_calibration_error,
    reliability_curve,
)
from ._corp import (
    IsotonicReliabilityCurve,
    ScoreDecomposition,
    isotonic_reliability_curve,
    score_decomposition,
)
from ._conformal import (
    SizeStratifiedCoverage,
    coverage_score,
    mean_set_size,
    size_stratified_coverage,
)
from ._difficulty import difficulty_bins, difficulty_scores
from ._divergence import (
    accuracy,  # deprecated alias of accuracy_score (not in __all__)
    accuracy_score,
    brier_score,  # deprecated alias of brier_score_loss
    brier_score_loss,
    cross_entropy,  # deprecated alias of log_loss
    entropy,
    entropy_correlation,
    jensen_shannon_divergence,
    kl_divergence,
    log_loss,
    spearman_correlation,
    total_variation,
)
from ._lewidi import (
    annotator_absolute_distance,
    annotator_error_rate,
    manhattan_distance,
    multilabel_manhattan_distance,
    wasserstein_ordinal,
)
from ._binning import equal_mass_edges
from ._bootstrap import bootstrap_weights
# package-level (not in __all__): comparisons of prediction sets on the same items, with the
# study's hierarchical paired bootstrap (see _comparison)
from ._comparison import (
    CHURN,
    DIFFERENCE_COLUMNS,
    FIT_COLUMNS,
    LEVEL_COLUMNS,
    arm_name,
    compare_predictions,
    copy_rank_correlation,
    extra_keys,
    prediction_replicates,
    seed_std_intervals,
)
from ._kernels import openmp_enabled
from ._intervals import Estimate
from ._report import CalibrationReport, calibration_report
from ._seeds import SeedInterval, seed_interval
from ._floor import expected_calibration_error_floor
from ._multiplicity import (
    PitmanMorganResult,
    benjamini_hochberg,
    equivalence_test,
    holm_adjust,
    minimum_detectable_difference,
    pitman_morgan_test,
    seed_resample_counts,
)
from ._scorers import (
    SCORERS,
    get_scorer,
    get_scorer_names,
    make_proba_scorer,
    make_set_scorer,
)
from ._smooth import SmoothReliabilityCurve, smooth_calibration_error, smooth_reliability_curve
from ._stats import CalibrationStats, ReliabilityCurve

__all__ = [
    "CalibrationReport",
    "CalibrationTestResult",
    "Estimate",
    "CalibrationStats",
    "IsotonicReliabilityCurve",
    "PitmanMorganResult",
    "ReliabilityCurve",
    "SCORERS",
    "SeedInterval",
    "ScoreDecomposition",
    "SizeStratifiedCoverage",
    "SmoothReliabilityCurve",
    "accuracy_score",
    "annotator_absolute_distance",
    "annotator_error_rate",
    "benjamini_hochberg",
    "bootstrap_weights",
    "brier_score_loss",
    "calibration_report",
    "calibration_test",
    "classwise_calibration_error",
    "coverage_score",
    "difficulty_bins",
    "difficulty_scores",
    "entropy",
    "entropy_correlation",
    "equivalence_test",
    "equal_mass_edges",
    "expected_calibration_error",
    "expected_calibration_error_floor",
    "get_scorer",
    "get_scorer_names",
    "holm_adjust",
    "isotonic_reliability_curve",
    "jensen_shannon_divergence",
    "kl_divergence",
    "log_loss",
    "make_proba_scorer",
    "make_set_scorer",
    "manhattan_distance",
    "mean_set_size",
    "minimum_detectable_difference",
    "multilabel_manhattan_distance",
    "openmp_enabled",
    "pitman_morgan_test",
    "reliability_curve",
    "score_decomposition",
    "seed_interval",
    "seed_resample_counts",
    "size_stratified_coverage",
    "smooth_calibration_error",
    "smooth_reliability_curve",
    "spearman_correlation",
    "total_variation",
    "wasserstein_ordinal",
]
