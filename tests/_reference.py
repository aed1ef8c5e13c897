"""Plain-numpy reference implementations of the metrics, written independently of the kernel."""

import numpy as np


def to_soft(y, K):
    y = np.asarray(y)
    if y.ndim == 2:
        return y.astype(np.float64)
    return np.eye(K)[y]


def top_label(y_true, p):
    p = np.asarray(p, dtype=np.float64)
    pred = p.argmax(axis=1)
    conf = p[np.arange(len(p)), pred]
    acc = to_soft(y_true, p.shape[1])[np.arange(len(p)), pred]
    return conf, acc


def binned_error(values, targets, edges, w, norm, extra_bin=False):
    nb = len(edges) - 1
    b = np.searchsorted(edges, values, side="right") - 1
    b = np.clip(b, 0, nb if extra_bin else nb - 1)
    nbo = nb + 1 if extra_bin else nb
    cnt = np.bincount(b, weights=w, minlength=nbo)
    sc = np.bincount(b, weights=w * values, minlength=nbo)
    sa = np.bincount(b, weights=w * targets, minlength=nbo)
    ne = cnt > 0
    gap = np.abs(sa[ne] / cnt[ne] - sc[ne] / cnt[ne])
    share = cnt[ne] / cnt.sum()
    if norm == "l1":
        return float(np.sum(share * gap))
    if norm == "l2":
        return float(np.sqrt(np.sum(share * gap**2)))
    return float(gap.max())


def ece(y_true, p, n_bins=15, norm="l1", w=None):
    conf, acc = top_label(y_true, p)
    w = np.ones(len(conf)) if w is None else np.asarray(w, float)
    return binned_error(conf, acc, np.linspace(0, 1, n_bins + 1), w, norm)


def classwise_ece(y_true, p, n_bins=15, norm="l1", w=None):
    p = np.asarray(p, dtype=np.float64)
    t = to_soft(y_true, p.shape[1])
    w = np.ones(len(p)) if w is None else np.asarray(w, float)
    edges = np.linspace(0, 1, n_bins + 1)
    return float(np.mean([binned_error(p[:, k], t[:, k], edges, w, norm) for k in range(p.shape[1])]))


def scores(y_true, p, w=None, eps=None):
    p = np.asarray(p, dtype=np.float64)
    t = to_soft(y_true, p.shape[1])
    w = np.ones(len(p)) if w is None else np.asarray(w, float)
    eps = np.finfo(np.float64).eps if eps is None else eps
    lp = np.log(np.maximum(p, eps))
    with np.errstate(divide="ignore", invalid="ignore"):
        tlt = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0.0)
        plp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0)
        m = 0.5 * (t + p)
        kl_tm = np.where(t > 0, t * np.log(np.where(t > 0, t, 1) / np.where(m > 0, m, 1)), 0.0)
        kl_pm = np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / np.where(m > 0, m, 1)), 0.0)
    ce = -(t * lp).sum(1)
    out = {
        "brier": ((p - t) ** 2).sum(1),
        "cross_entropy": ce,
        "kl_divergence": ce + tlt.sum(1),
        "jensen_shannon": 0.5 * kl_tm.sum(1) + 0.5 * kl_pm.sum(1),
        "total_variation": 0.5 * np.abs(p - t).sum(1),
        "entropy_true": -tlt.sum(1),
        "entropy_pred": -plp.sum(1),
        "accuracy": top_label(t, p)[1],
    }
    return {k: float(np.average(v, weights=w)) for k, v in out.items()}
