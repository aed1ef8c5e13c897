"""The study's vocabulary: source names and labels, the metric table, which way is better.

One module that the runner, the evaluation, the report and the figures all import (and nothing
here imports them), so that a source or metric is named in one place.
"""

__all__ = ["SOURCE_NAMES", "SOURCE_LABELS", "MODELS", "REGIMES", "METRICS", "MAIN_METRICS",
           "EXTENDED_METRICS", "CALIBRATION_METRICS",
           "CARTOGRAPHY_METRICS", "TRAINING_METRICS", "DYNAMICS_METRICS", "HIGHER_IS_BETTER",
           "CALIBRATORS", "CALIBRATION_TARGETS", "ALLOCATIONS", "AXIS_COLUMNS", "COST_COLUMN",
           "present_in",
           "checkpoint_epochs", "calibrator_name", "variant_name", "source_label"]

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
#: the training regimes (hyper-parameters in ``_registry.REGIME_PARAMS``): ``regularised`` is
#: a small, regularised model trained a fixed number of epochs; ``overparameterised`` a larger
#: one without dropout or weight decay, trained until its training loss stops falling
REGIMES = ("regularised", "overparameterised")
#: metric name -> (reference, key in the calibration report); reference "plurality" is the
#: agreement of the predicted class with the human plurality (sksoft's human-mode tie rule)
METRICS = {
    "gold_accuracy": ("gold", "accuracy"),
    "plurality_accuracy": ("plurality", "accuracy"),
    "gold_nll": ("gold", "cross_entropy"),
    "gold_brier": ("gold", "brier"),
    "gold_ece": ("gold", "ece"),
    "gold_debiased_ece": ("gold", "rmsce_debiased"),
    "gold_classwise_ece": ("gold", "classwise_ece"),
    "human_cross_entropy": ("human", "cross_entropy"),
    "human_kl": ("human", "kl_divergence"),
    "human_js": ("human", "jensen_shannon"),
    "human_ece": ("human", "ece"),
    "human_classwise_ece": ("human", "classwise_ece"),
    "entropy_correlation": ("human", "entropy_correlation"),
}
#: calibration estimators beyond binned ECE (``calibration_report(extended=True)``) that are
#: not mergeable statistics -- the smooth ECE's bandwidth search and the isotonic fit of the
#: CORP decompositions -- so they are reported per fit (mean and std over seeds), without
#: the study's bootstrap; ``gold_debiased_ece`` (the debiased L2 error, in ``METRICS``) is
#: the one with intervals
EXTENDED_METRICS = {
    "gold_smooth_ece": ("gold", "smooth_ece"),
    "gold_brier_mcb": ("gold", "brier_mcb"),
    "gold_brier_dsc": ("gold", "brier_dsc"),
    "gold_log_mcb": ("gold", "log_mcb"),
    "gold_log_dsc": ("gold", "log_dsc"),
}
#: the columns of the summary's main table, in order
MAIN_METRICS = ["gold_accuracy", "plurality_accuracy", "gold_nll", "gold_brier", "gold_ece",
                "gold_debiased_ece", "gold_classwise_ece", "human_cross_entropy", "human_kl",
                "human_js", "human_ece", "entropy_correlation"]
#: the columns of the summary's "calibration beyond binned ECE" tables
CALIBRATION_METRICS = ["gold_ece", "gold_debiased_ece", *EXTENDED_METRICS]
#: Spearman correlations, over a network's training items, of its confidence in the gold label
#: and of its variability (over epochs) with the items' human entropy
CARTOGRAPHY_METRICS = {"confidence": "carto_confidence_vs_entropy",
                       "variability": "carto_variability_vs_entropy"}
#: how each fit went on its own training rows (the rows its weights were fitted on): accuracy
#: and NLL against the fit's own targets (accuracy: agreement with the targets' most probable
#: class; ``train_own_kl`` is 0 when the model reproduces soft targets exactly) and against gold;
#: ``epochs`` trained (L-BFGS iterations for logreg) and ``converged`` (1: stopped by the
#: regime's convergence rule before the cap; 0: reached the cap; NaN: trained a fixed number of
#: epochs, no rule)
TRAINING_METRICS = ("train_own_accuracy", "train_own_nll", "train_own_kl",
                    "train_gold_accuracy", "train_gold_nll", "epochs", "converged")
#: metrics of the held-out fold at the checkpoint epochs (dynamics.csv); ``churn`` is the
#: fraction of held-out items whose predicted class changed since the epoch before
DYNAMICS_METRICS = ("gold_nll", "gold_ece", "human_kl", "gold_accuracy", "churn")
#: lower is better for every other metric; for the carto_* correlations, mirroring human
#: uncertainty means low confidence and high variability on items people disagree on
HIGHER_IS_BETTER = {"gold_accuracy", "plurality_accuracy", "entropy_correlation",
                    "carto_variability_vs_entropy"}

assert set(MAIN_METRICS) <= set(METRICS)
assert not set(EXTENDED_METRICS) & set(METRICS)


def checkpoint_epochs(max_epochs):
    """The checkpoint epochs up to ``max_epochs``: 1, 2, 5, 10, 20, 50, 100, 200, 500, ...

    >>> checkpoint_epochs(60)
    [1, 2, 5, 10, 20, 50]
    """
    out, scale = [], 1
    while scale <= max_epochs:
        out += [e for e in (scale, 2 * scale, 5 * scale) if e <= max_epochs]
        scale *= 10
    return out


#: the post-hoc recalibrators of the study (``none``: the raw model, always evaluated)
CALIBRATORS = ("none", "temperature", "vector", "dirichlet", "isotonic")
#: what a recalibrator is fitted to on the calibration split
CALIBRATION_TARGETS = ("gold", "human")
#: how the human-labelled fraction of the training items is chosen
ALLOCATIONS = ("random", "uncertain")
#: the key columns of results.csv that the recalibration and annotation-budget axes add
#: (present when either axis is used): ``calibrator`` (see :func:`calibrator_name`),
#: ``annotators`` (votes per item: an int or "all"; 0 when no human label is used),
#: ``human_fraction`` (of the training items with human labels; 0 for synthetic sources) and
#: ``allocate`` (random, uncertain; "all" at fraction 1, "none" for synthetic sources)
AXIS_COLUMNS = ("calibrator", "annotators", "human_fraction", "allocate")
#: the cost column: the human annotations a fit used (not a key: see
#: ``_differences.ATTRIBUTE_COLUMNS``)
COST_COLUMN = "annotations_used"


def calibrator_name(calibrator, target="gold"):
    """The ``calibrator`` value of a recalibrated output: the name, and ``(human)`` when it
    was fitted to human labels.

    >>> calibrator_name("temperature"), calibrator_name("temperature", "human")
    ('temperature', 'temperature (human)')
    """
    return calibrator if calibrator == "none" or target == "gold" else f"{calibrator} (human)"


def variant_name(source, calibrator="none", annotators="all", human_fraction=1.0,
                 allocate="all"):
    """The name of one arm of a study with the recalibration / budget axes: the source, then
    ``+ calibrator`` (unless raw), then ``@ budget`` (unless every vote of every item).

    >>> variant_name("gold", "temperature")
    'gold + temperature'
    >>> variant_name("human", "none", 3, 0.25, "uncertain")
    'human @ k=3, 25% uncertain'
    >>> variant_name("gold", "temperature (human)", 1, 0.0, "none")
    'gold + temperature (human) @ k=1'
    """
    name = str(source)
    if calibrator not in (None, "none"):
        name += f" + {calibrator}"
    budget = []
    if str(annotators) not in ("all", "0", "None", "nan"):
        budget.append(f"k={annotators}")
    fraction = float(human_fraction) if human_fraction is not None else 1.0
    if 0 < fraction < 1:
        budget.append(f"{100 * fraction:g}% {allocate}")
    return name + (" @ " + ", ".join(budget) if budget else "")


def source_label(name):
    """The label of a source or variant in tables and figures (:data:`SOURCE_LABELS` of its
    source, then the variant's suffix).

    >>> source_label("human"), source_label("gold + temperature @ k=3")
    ('human soft', 'gold (one-hot) + temperature @ k=3')
    """
    name = str(name)
    base = name.split(" + ")[0].split(" @ ")[0]
    return SOURCE_LABELS.get(base, base) + name[len(base):]


def present_in(order, values):
    """The items of ``order`` (in its order) that are among ``values`` (a column, an index,
    any iterable; read once)."""
    present = set(values)
    return [x for x in order if x in present]
