"""Plain-numpy reference implementations, written independently of sksoft: the metrics (of the
kernel), label sources, annotation statistics and the logistic-regression gradient."""

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


# --------------------------------------------------------------------------- beyond the metrics
# (the hypothesis suite compares label sources, annotation functions and the logistic
# regression's optimum with these)
def one_hot(codes, K):
    return np.eye(K)[np.asarray(codes)]


def entropy_rows(p):
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0).sum(1)


def human_soft(h, prior=0.0, temperature=1.0):
    K = h.shape[1]
    H = (h + prior) / (1.0 + K * prior)
    H = H ** (1.0 / temperature)
    return H / H.sum(1, keepdims=True)


def human_mode(h, gold):
    """Plurality with ties (within 1e-12) going to gold when tied, else the first tied class."""
    out = []
    for row, g in zip(h, gold):
        tied = [k for k in range(len(row)) if row[k] >= row.max() - 1e-12]
        out.append(g if g in tied else tied[0])
    return np.array(out, dtype=int)


def mode_aligned(h, gold):
    H = np.array(h, dtype=np.float64)
    for i, (m, g) in enumerate(zip(human_mode(h, gold), gold)):
        H[i, m], H[i, g] = h[i, g], h[i, m]
    return H


def vote_counts(wide, K):
    counts = np.zeros((wide.shape[0], K), dtype=int)
    for i, row in enumerate(wide):
        for v in row:
            if not np.isnan(v):
                counts[i, int(v)] += 1
    return counts


def fleiss_kappa(counts):
    """Fleiss' kappa over the items with at least two votes (Fleiss, 1971)."""
    C = np.asarray(counts, dtype=np.float64)
    C = C[C.sum(1) >= 2]
    if len(C) == 0:
        return np.nan
    n = C.sum(1)
    P_i = ((C * (C - 1)).sum(1)) / (n * (n - 1))
    p_j = C.sum(0) / C.sum()
    P_e = (p_j ** 2).sum()
    return np.nan if P_e >= 1 else (P_i.mean() - P_e) / (1 - P_e)


def logistic_gradient(X, Y, w, C, coef, intercept):
    """Gradient of sum_i w_i CE(Y_i, p_i) + ||coef||^2 / (2 C) at (coef, intercept): softmax
    rows for K > 2 classes, one sigmoid column for two (scikit-learn's parametrisation)."""
    X = np.asarray(X, dtype=np.float64)
    Z = X @ coef.T + intercept
    if coef.shape[0] == 1:
        p1 = 1.0 / (1.0 + np.exp(-Z[:, 0]))
        r = w * (p1 - Y[:, 1])
        return np.concatenate([X.T @ r + coef[0] / C, [r.sum()]])
    Z = Z - Z.max(1, keepdims=True)
    P = np.exp(Z) / np.exp(Z).sum(1, keepdims=True)
    R = w[:, None] * (P - Y)
    return np.concatenate([(R.T @ X + coef / C).ravel(), R.sum(0)])
