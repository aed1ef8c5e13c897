"""The study's metrics of one fit, derived with sksoft's own functions only."""

from .._label_source import human_mode
from ..metrics import (
    calibration_report,
    difficulty_bins,
    difficulty_scores,
    spearman_correlation,
)
from ._cartography import data_map
from ._vocabulary import CARTOGRAPHY_METRICS, METRICS

__all__ = ["evaluate", "cartography_correlations"]


def evaluate(P, gold, human, n_difficulty_bins, n_bins=15):
    """Metrics of test-fold predictions, overall and per difficulty bin.

    ``plurality_accuracy`` compares the predicted class with the human plurality under the
    label sources' tie rule (:func:`sksoft._label_source.human_mode`: the gold class when it is
    tied for the plurality). Returns a list of (bin, metric, value) with bin "all" or an
    integer (0 = easiest).
    """
    ids, _ = difficulty_bins(difficulty_scores(human), n_bins=n_difficulty_bins)
    rep = {
        "gold": calibration_report(gold, P, groups=ids, n_bins=n_bins),
        "human": calibration_report(human, P, groups=ids, n_bins=n_bins),
    }
    agree = (P.argmax(axis=1) == human_mode(human, gold)).astype(float)
    rows = []
    for b in ["all"] + sorted(rep["gold"].groups):
        for metric, (ref, key) in METRICS.items():
            if ref == "plurality":
                val = agree.mean() if b == "all" else agree[ids == b].mean()
            else:
                r = rep[ref]
                val = (r.overall if b == "all" else r.groups[b])[key]
            rows.append((b, metric, float(val)))
    return rows


def cartography_correlations(logits, gold, human):
    """Data map of a network's training items and its correlations with human entropy.

    Parameters
    ----------
    logits : list of ndarray (n, K), one per epoch
    gold, human : the training items' gold codes and human distributions

    Returns
    -------
    data_map : dict of ndarray (n,)
        confidence, variability and correctness (see :func:`._cartography.data_map`).
    rows : list of ("all", metric, value)
        Tie-aware Spearman correlations (:func:`sksoft.metrics.spearman_correlation`); NaN when
        either side is constant, e.g. after a single epoch.
    """
    dm = data_map(logits, gold)
    h_ent = difficulty_scores(human)
    rows = [("all", metric, spearman_correlation(dm[name], h_ent))
            for name, metric in CARTOGRAPHY_METRICS.items()]
    return dm, rows
