"""The study's vocabulary: source names and labels, the metric table, which way is better.

One module that the runner, the evaluation, the report and the figures all import (and nothing
here imports them), so that a source or metric is named in one place.
"""

__all__ = ["SOURCE_NAMES", "SOURCE_LABELS", "MODELS", "METRICS", "MAIN_METRICS",
           "CARTOGRAPHY_METRICS", "HIGHER_IS_BETTER"]

#: the label sources compared by default (``dawid_skene`` needs annotator-level votes)
SOURCE_NAMES = ("gold", "human", "majority", "mode_aligned", "smoothing", "teacher", "ensemble")
#: every source the study knows, with the label used in tables and figures
SOURCE_LABELS = {
    "gold": "gold (one-hot)",
    "human": "human soft",
    "majority": "human majority",
    "mode_aligned": "mode-aligned human",
    "smoothing": "label smoothing",
    "teacher": "teacher distillation",
    "ensemble": "ensemble disagreement",
    "dawid_skene": "Dawid-Skene",
}
#: the models a study can train
MODELS = ("logreg", "mlp", "cnn")
#: metric name -> (reference, key in the calibration report); reference "plurality" is the
#: agreement of the predicted class with the human plurality (sksoft's human-mode tie rule)
METRICS = {
    "gold_accuracy": ("gold", "accuracy"),
    "plurality_accuracy": ("plurality", "accuracy"),
    "gold_nll": ("gold", "cross_entropy"),
    "gold_brier": ("gold", "brier"),
    "gold_ece": ("gold", "ece"),
    "gold_classwise_ece": ("gold", "classwise_ece"),
    "human_cross_entropy": ("human", "cross_entropy"),
    "human_kl": ("human", "kl_divergence"),
    "human_js": ("human", "jensen_shannon"),
    "human_ece": ("human", "ece"),
    "human_classwise_ece": ("human", "classwise_ece"),
    "entropy_correlation": ("human", "entropy_correlation"),
}
#: the columns of the summary's main table, in order
MAIN_METRICS = ["gold_accuracy", "plurality_accuracy", "gold_nll", "gold_brier", "gold_ece",
                "gold_classwise_ece", "human_cross_entropy", "human_kl", "human_js", "human_ece",
                "entropy_correlation"]
#: Spearman correlations, over a network's training items, of its confidence in the gold label
#: and of its variability (over epochs) with the items' human entropy
CARTOGRAPHY_METRICS = {"confidence": "carto_confidence_vs_entropy",
                       "variability": "carto_variability_vs_entropy"}
#: lower is better for every other metric; for the carto_* correlations, mirroring human
#: uncertainty means low confidence and high variability on items people disagree on
HIGHER_IS_BETTER = {"gold_accuracy", "plurality_accuracy", "entropy_correlation",
                    "carto_variability_vs_entropy"}

assert set(MAIN_METRICS) <= set(METRICS)
