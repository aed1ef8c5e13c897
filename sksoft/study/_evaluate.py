"""The study's metrics of one fit, derived with sksoft's own functions only."""

import numpy as np

from .._label_source import human_mode
from ..metrics import (
    accuracy_score,
    calibration_report,
    difficulty_bins,
    difficulty_scores,
    expected_calibration_error,
    kl_divergence,
    log_loss,
    spearman_correlation,
)
from ._cartography import data_map
from ._vocabulary import CARTOGRAPHY_METRICS, EXTENDED_METRICS, METRICS

__all__ = ["as_proba", "evaluate", "cartography_correlations", "training_fit",
           "checkpoint_metrics"]


def as_proba(P):
    """``P`` as float64 rows renormalised to sum to 1: float32 predictions (networks) summed
    in float32 may miss 1 by more than the metrics' tolerance."""
    P = np.asarray(P, dtype=np.float64)
    return P / P.sum(axis=1, keepdims=True)


def evaluate(P, gold, human, n_difficulty_bins, n_bins=15):
    """Metrics of test-fold predictions, overall and per difficulty bin.

    ``plurality_accuracy`` compares the predicted class with the human plurality under the
    label sources' tie rule (:func:`sksoft._label_source.human_mode`: the gold class when it is
    tied for the plurality). Besides ``METRICS``, the ``EXTENDED_METRICS`` (smooth ECE and the
    CORP decompositions against gold). Returns a list of (bin, metric, value) with bin "all"
    or an integer (0 = easiest).
    """
    ids, _ = difficulty_bins(difficulty_scores(human), n_bins=n_difficulty_bins)
    rep = {
        "gold": calibration_report(gold, P, groups=ids, n_bins=n_bins, extended=True),
        "human": calibration_report(human, P, groups=ids, n_bins=n_bins),
    }
    agree = (P.argmax(axis=1) == human_mode(human, gold)).astype(float)
    rows = []
    for b in ["all"] + sorted(rep["gold"].groups):
        for metric, (ref, key) in {**METRICS, **EXTENDED_METRICS}.items():
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


def training_fit(P, targets, gold):
    """How closely a fit reproduces its training rows.

    Parameters
    ----------
    P : ndarray (n, K)
        The fitted model's probabilities on its training rows.
    targets : ndarray (n, K)
        The targets it was trained on (built by its label source).
    gold : ndarray (n,)
        The rows' gold class codes.

    Returns
    -------
    list of ("all", metric, value)
        ``train_own_accuracy`` (agreement with the most probable class of each target, first
        on ties), ``train_own_nll`` (soft cross-entropy against the targets),
        ``train_own_kl`` (KL(targets || model): 0 when the targets are reproduced exactly),
        ``train_gold_accuracy`` and ``train_gold_nll``.
    """
    P = as_proba(P)
    T = np.asarray(targets, dtype=np.float64)
    return [("all", "train_own_accuracy", accuracy_score(T.argmax(axis=1), P)),
            ("all", "train_own_nll", log_loss(T, P)),
            ("all", "train_own_kl", kl_divergence(T, P)),
            ("all", "train_gold_accuracy", accuracy_score(gold, P)),
            ("all", "train_gold_nll", log_loss(gold, P))]


def checkpoint_metrics(proba, churn, gold, human, n_bins=15):
    """Held-out metrics at each checkpoint epoch (see ``DYNAMICS_METRICS``).

    Parameters
    ----------
    proba : dict
        epoch -> held-out probabilities (n, K).
    churn : dict
        epoch -> fraction of held-out items whose predicted class changed since the epoch
        before.
    gold, human : the held-out items' gold codes and human distributions

    Returns
    -------
    list of (epoch, metric, value)
    """
    rows = []
    for epoch in sorted(proba):
        P = as_proba(proba[epoch])
        rows += [(epoch, "gold_nll", log_loss(gold, P)),
                 (epoch, "gold_ece", expected_calibration_error(gold, P, n_bins=n_bins)),
                 (epoch, "human_kl", kl_divergence(human, P)),
                 (epoch, "gold_accuracy", accuracy_score(gold, P)),
                 (epoch, "churn", float(churn.get(epoch, np.nan)))]
    return [(int(e), m, float(v)) for e, m, v in rows]
