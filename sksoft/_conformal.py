"""Split conformal prediction: nonconformity scores and thresholds (no validation here).

Every score here is a *nonconformity* score, higher meaning less conforming, and every
prediction set is ``{k : s(x, k) <= threshold}``. The conformal p-value of class ``k`` for
calibration scores ``s_1..s_n`` is ``(1 + #{i : s_i >= s(x, k)}) / (n + 1)`` and the set
``{k : p(x, k) > alpha}``; since the p-value decreases in the score, every set here -- with
gold labels, with Monte Carlo sampled labels, with the ECDF correction -- is a threshold on
the score, computed with integer counts so that no rounding decides a boundary.

Checked by the public wrappers in :mod:`sksoft.conformal`.
"""

import numpy as np

__all__ = ["SCORES", "nonconformity", "label_scores", "rng_from", "split_threshold",
           "mc_threshold", "mc_ecdf_threshold", "sample_labels"]

SCORES = ("thr", "aps", "raps")


def rng_from(random_state, stream):
    """A Generator for one use (``stream``) of ``random_state``: ints and None are expanded
    with the stream so that the uses draw independent numbers; a Generator is used as it is;
    a RandomState gives a seed."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(0, 2**31 - 1))
    if random_state is None:
        return np.random.default_rng()
    return np.random.default_rng(np.random.SeedSequence(int(random_state), spawn_key=(stream,)))


def nonconformity(P, score, u=None, k_reg=1, lambda_reg=0.0):
    """(n, K) nonconformity scores of every class.

    ``thr``: ``1 - p_k``. ``aps``: the mass of the classes ranked above ``k`` (by decreasing
    probability, ties by column order) plus ``u * p_k``; ``u = 1`` (None) is the
    non-randomised score, a uniform ``u`` per row the randomised one. ``raps``: ``aps`` plus
    ``lambda_reg * max(0, rank_k - k_reg)``, ``rank_k`` counted from 1.
    """
    if score == "thr":
        return 1.0 - P
    n, K = P.shape
    order = np.argsort(-P, axis=1, kind="stable")
    sorted_p = np.take_along_axis(P, order, axis=1)
    before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass strictly above in the ranking
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(K), (n, K)), axis=1)
    mass_above = np.take_along_axis(before, rank, axis=1)
    w = 1.0 if u is None else u[:, None]
    out = mass_above + w * P
    if score == "raps":
        out = out + lambda_reg * np.maximum(0, rank + 1 - k_reg)
    return out


def label_scores(S, codes):
    """The score of each row's label: ``S[i, codes[i]]``."""
    return S[np.arange(S.shape[0]), codes]


def sample_labels(Y, n_samples, rng):
    """(n_samples, n) labels drawn from the rows of the distribution matrix ``Y``: inverse
    CDF of one uniform per draw (a label of probability 0 is never drawn)."""
    cdf = np.cumsum(Y, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((n_samples, Y.shape[0]))
    codes = (u[:, :, None] >= cdf[None, :, :]).sum(axis=2)
    return np.minimum(codes, Y.shape[1] - 1)


def _kth_largest(sorted_scores, k):
    """The ``k``-th largest of ascending ``sorted_scores``; +inf for k <= 0, -inf beyond."""
    n = sorted_scores.shape[0]
    if k <= 0:
        return np.inf
    if k > n:
        return -np.inf
    return float(sorted_scores[n - k])


def split_threshold(sorted_scores, alpha):
    """Threshold of split conformal prediction on ``n`` exchangeable calibration scores:
    the ``ceil((n + 1)(1 - alpha))``-th smallest, +inf when that exceeds ``n``.

    In counts: the set keeps ``s`` while ``#{s_i >= s} >= floor(alpha (n + 1))``.
    """
    n = sorted_scores.shape[0]
    return _kth_largest(sorted_scores, int(np.floor(alpha * (n + 1) + 1e-12)))


def mc_counts(sorted_pool, s):
    """``#{pooled scores >= s}`` for each ``s`` (ascending ``sorted_pool``)."""
    return sorted_pool.shape[0] - np.searchsorted(sorted_pool, s, side="left")


def mc_threshold(sorted_pool, n_items, n_samples, alpha):
    """Monte Carlo conformal threshold without correction (coverage >= 1 - 2 alpha).

    The p-value averaged over the ``m`` label samples of every calibration item is
    ``(1 + N(s) / m) / (n + 1)`` with ``N(s) = #{pooled scores >= s}``; the set keeps ``s``
    while it exceeds ``alpha``: ``N(s) >= floor(alpha m (n + 1) - m) + 1``. With ``m = 1`` this
    is :func:`split_threshold` of the sampled labels.
    """
    m = n_samples
    need = int(np.floor(alpha * m * (n_items + 1) - m + 1e-9)) + 1
    return _kth_largest(sorted_pool, need)


def mc_ecdf_threshold(sorted_pool, est_counts, alpha):
    """Monte Carlo conformal threshold with the ECDF correction (coverage >= 1 - alpha).

    ``est_counts`` are ``N(s_e)`` of the held-out items' scores at a label drawn from their
    distributions: their averaged p-values are exchangeable with a test item's at its
    label. The corrected p-value ``(1 + #{e : p_e <= p}) / (n_e + 1)`` exceeds ``alpha`` while
    ``#{e : N(s_e) <= N(s)} >= c = floor(alpha (n_e + 1))``, i.e. ``N(s) >= `` the ``c``-th
    smallest count (the averaged p-value is increasing in ``N``).
    """
    n_e = est_counts.shape[0]
    c = int(np.floor(alpha * (n_e + 1) + 1e-12))
    if c <= 0:
        return np.inf
    if c > n_e:
        return -np.inf
    need = int(np.sort(est_counts)[c - 1])
    return _kth_largest(sorted_pool, need)
