"""Which differences between label sources hold up: the study's paired differences.

The statistics -- a hierarchical paired bootstrap over seeds and items, percentile intervals,
prediction churn and the seed-std intervals -- are :func:`sksoft.metrics.compare_predictions`
and its companions (see :mod:`sksoft.metrics._comparison`); this module binds them to the
study: its metrics (:data:`STUDY_METRICS`, the per-item metrics of
:data:`._vocabulary.METRICS`), its references (gold labels, human soft labels and, with the
axes, the zero-cost variants), the human plurality under the label sources' tie rule, and the
arms of a run with the recalibration or budget axes (the variants).

Columns that describe a fit without identifying it (:data:`ATTRIBUTE_COLUMNS`, e.g. its
annotation cost, 0 for gold and thousands for human labels) are never keys, so they cannot
split a pair.
"""

from .._label_source import human_mode
from ..metrics import (
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
from ._vocabulary import AXIS_COLUMNS, HIGHER_IS_BETTER, METRICS, SOURCE_LABELS, variant_name

__all__ = ["ATTRIBUTE_COLUMNS", "CHURN", "DIFFERENCE_COLUMNS", "LEVEL_COLUMNS", "FIT_COLUMNS",
           "REFERENCES", "STUDY_METRICS",
           "arm_name", "copy_rank_correlation", "extra_keys", "fit_keys", "fit_replicates",
           "paired_differences", "seed_std_intervals", "study_intervals", "study_references"]

#: the columns of a tidy result row that vary within a fit
_ROW_COLUMNS = ("bin", "metric", "value")
#: columns that describe a fit but are not keys (a fit's annotation cost differs between the
#: sources of a pair)
ATTRIBUTE_COLUMNS = ("annotations_used",)
#: the sources that other sources are compared with, when present
REFERENCES = ("gold", "human")
#: the metrics that are compared, in order (the per-item metrics of the study)
STUDY_METRICS = tuple(METRICS)


def fit_keys(rows):
    """The keys of one fit from its tidy result rows (a DataFrame).

    ``source``, ``seed``, ``fold`` and every other column that is neither ``bin``, ``metric``,
    ``value`` nor one of :data:`ATTRIBUTE_COLUMNS` and has a single value in all the fit's rows
    (e.g. ``regime``). Returns a dict with plain Python values.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"source": ["gold", "gold"], "seed": [0, 0], "fold": [1, 1],
    ...                      "regime": ["es", "es"], "bin": ["all", 0],
    ...                      "metric": ["gold_ece", "gold_ece"], "value": [0.1, 0.2]})
    >>> fit_keys(rows)
    {'source': 'gold', 'seed': 0, 'fold': 1, 'regime': 'es'}
    """
    keys = {}
    for col in rows.columns:
        if col in _ROW_COLUMNS or col in ATTRIBUTE_COLUMNS:
            continue
        vals = rows[col].unique()
        if col in FIT_COLUMNS or len(vals) == 1:
            v = vals[0]
            keys[col] = v.item() if hasattr(v, "item") else v
    missing = set(FIT_COLUMNS) - set(keys)
    if missing:
        raise ValueError(f"the rows of a fit need the columns {FIT_COLUMNS}; missing "
                         f"{sorted(missing)}.")
    return keys


def _plurality(gold, human):
    """The human plurality class of every item (the label sources' tie rule)."""
    return human_mode(human, gold)


def fit_replicates(proba, test, gold, human, item_weights, *, n_difficulty_bins, n_bins):
    """Every study metric (:data:`STUDY_METRICS`) of one fit, overall and per difficulty bin,
    and its replicates: :func:`sksoft.metrics.prediction_replicates` with the study's
    metrics; ``point`` (len(STUDY_METRICS), 1 + G), ``reps`` (len(STUDY_METRICS), B, 1 + G)."""
    return prediction_replicates(proba, test, gold, human, item_weights,
                                 metrics=[METRICS[m] for m in STUDY_METRICS],
                                 plurality=_plurality(gold, human),
                                 n_difficulty_bins=n_difficulty_bins, n_bins=n_bins)


def paired_differences(fits, gold, human, *, n_difficulty_bins=3, n_bins=15, n_bootstrap=1000,
                       confidence=0.95, random_state=0, references=REFERENCES,
                       order=tuple(SOURCE_LABELS), compare_keys=(), name=None):
    """Paired differences between label sources, and every source's values, with intervals:
    :func:`sksoft.metrics.compare_predictions` with the study's metrics
    (:data:`STUDY_METRICS`), which way is better (``HIGHER_IS_BETTER``) and the human
    plurality; the other parameters are those of :func:`~sksoft.metrics.compare_predictions`.
    """
    return compare_predictions(
        fits, gold, human, metrics={m: METRICS[m] for m in STUDY_METRICS},
        plurality=_plurality(gold, human), higher_is_better=HIGHER_IS_BETTER,
        n_difficulty_bins=n_difficulty_bins, n_bins=n_bins, n_bootstrap=n_bootstrap,
        confidence=confidence, random_state=random_state, references=references, order=order,
        compare_keys=compare_keys, name=name)


def _source_order(sources, order):
    known = [s for s in order if s in sources]
    return known + sorted(s for s in sources if s not in known)


def _variant_of(keys):
    return variant_name(keys["source"], *(keys[c] for c in AXIS_COLUMNS))


def study_references(results):
    """The arms every other arm of a study run is compared with: gold and human soft labels
    (raw, every vote) and, with the recalibration or budget axes, every variant that uses no
    human annotation (the synthetic alternatives, recalibrated or not)."""
    refs = list(REFERENCES)
    if results.has_axes:
        v = results.variants()
        refs += [name for name, r in v.iterrows() if r["annotations_used"] == 0]
    return tuple(dict.fromkeys(refs))


def study_intervals(results):
    """The intervals of a study run (:class:`StudyResults`): :func:`paired_differences` of
    its fits, plus ``std``: a DataFrame of :func:`seed_std_intervals` of the main metrics
    (extra keys, source, metric, std, low, high, ratio, ratio_low, ratio_high, holds).

    With the recalibration or budget axes, the arms are the variants
    (:func:`._vocabulary.variant_name`: a source raw or recalibrated, at a budget), all paired
    within each regime, against :func:`study_references`; ``variants`` then holds
    :meth:`StudyResults.variants`. Returns None when the run has no fits or ``n_bootstrap``
    is 0."""
    import pandas as pd

    cfg = results.config
    if not results.fits or not cfg.n_bootstrap:
        return None
    data = results._data
    axes = dict(compare_keys=AXIS_COLUMNS, name=_variant_of) if results.has_axes else {}
    out = paired_differences(results.fits, data["y_gold"], data["human"],
                             n_difficulty_bins=cfg.difficulty_bins, n_bins=cfg.n_bins,
                             n_bootstrap=cfg.n_bootstrap, confidence=cfg.confidence,
                             random_state=cfg.bootstrap_seed, order=results.variant_order(),
                             references=study_references(results), **axes)
    out["variants"] = results.variants() if results.has_axes else None
    extra = out["extra_keys"]
    df = results.variant_results()
    df = df[df["bin"].astype(str) == "all"]
    keys = extra + ["source", "seed", "metric"]
    per_seed = df.groupby(keys, sort=False, dropna=False)["value"].mean().reset_index()
    rows = []
    groups = per_seed.groupby(extra, sort=False, dropna=False) if extra else [((), per_seed)]
    for combo, sub in groups:
        combo = list(combo) if isinstance(combo, tuple) else [combo]
        for metric in ("gold_nll", "gold_ece", "human_kl", "gold_accuracy"):
            m = sub[sub["metric"] == metric]
            vals = {s: g.sort_values("seed")["value"].to_numpy()
                    for s, g in m.groupby("source", sort=False)}
            if not vals:
                continue
            res = seed_std_intervals(vals, cfg.confidence,
                                     reference="gold" if "gold" in vals else None)
            for source in _source_order(list(vals), results.variant_order()):
                r = res[source]
                rows.append(combo + [source, metric, r["std"], r["low"], r["high"], r["ratio"],
                                     r["ratio_low"], r["ratio_high"], r["holds"]])
    out["std"] = pd.DataFrame(rows, columns=extra + [
        "source", "metric", "std", "low", "high", "ratio", "ratio_low", "ratio_high", "holds"])
    return out
