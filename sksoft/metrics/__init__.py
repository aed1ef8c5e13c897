"""Calibration metrics, divergences to human labels and difficulty binning.

All metrics share one compiled pass over the probability matrix (see :class:`CalibrationStats`)
and accept hard labels or soft-label matrices as ``y_true``. Importing this module does not
import torch.
"""

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
from ._binning import equal_mass_edges
from ._bootstrap import bootstrap_weights
from ._kernels import openmp_enabled
from ._intervals import Estimate
from ._report import CalibrationReport, calibration_report
from ._scorers import SCORERS, get_scorer, get_scorer_names, make_proba_scorer
from ._smooth import SmoothReliabilityCurve, smooth_calibration_error, smooth_reliability_curve
from ._stats import CalibrationStats, ReliabilityCurve

__all__ = [
    "CalibrationReport",
    "Estimate",
    "CalibrationStats",
    "IsotonicReliabilityCurve",
    "ReliabilityCurve",
    "SCORERS",
    "ScoreDecomposition",
    "SmoothReliabilityCurve",
    "accuracy_score",
    "bootstrap_weights",
    "brier_score_loss",
    "calibration_report",
    "classwise_calibration_error",
    "difficulty_bins",
    "difficulty_scores",
    "entropy",
    "entropy_correlation",
    "equal_mass_edges",
    "expected_calibration_error",
    "get_scorer",
    "get_scorer_names",
    "isotonic_reliability_curve",
    "jensen_shannon_divergence",
    "kl_divergence",
    "log_loss",
    "make_proba_scorer",
    "openmp_enabled",
    "reliability_curve",
    "score_decomposition",
    "smooth_calibration_error",
    "smooth_reliability_curve",
    "spearman_correlation",
    "total_variation",
]
