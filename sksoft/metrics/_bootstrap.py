"""Item (and cluster) bootstrap of every metric, from mergeable statistics.

**Rows.** The Poisson bootstrap gives every row ``i`` an independent weight ``W_ri ~ Poisson(1)``
in replicate ``r`` (a pure function of the seed, the row's global index and ``r``: the same
whatever the chunk or thread the row is processed in). Every metric is a function of sums over
cells -- a top-label bin of a group, a classwise bin of a class, or a group's score sums -- of
row vectors ``x_i`` (e.g. ``(w, w c, w a)``), so a replicate needs the replicate sums
``S_r = sum_i W_ri x_i`` of each cell. Rather than drawing ``n x B`` weights:

* the first ``EXACT_ROWS`` rows of every cell (in global row order) are resampled exactly,
  with their Poisson weights;
* the sum over the remaining rows of a cell is a compound-Poisson sum with mean ``sum x_i`` and
  covariance ``sum x_i x_i^T`` (``Var W = 1``): those two moments are accumulated in one
  sequential walk, and each replicate draws the sum from the normal distribution with them.

A cell with at most ``EXACT_ROWS`` rows is therefore resampled exactly, and inputs whose cells
are all that small give exactly the replicates of a plain bootstrap with the same weights
(:func:`bootstrap_weights`); in larger cells the normal draw is accurate by the central limit
theorem. The memory is ``B`` replicates of the statistics, never ``B`` copies of the data, and
every part merges by addition (chunks processed in order give the in-memory result).

Replicates of different cells are independent, as they are in the Poisson bootstrap, except
that the normal part ignores the covariance between the *classwise* cells of one row (a row's
values of different classes); the top-label cells and the score sums are exact in that respect.

**Clusters.** With clusters, every row is resampled exactly with its cluster's weight (one per
cluster and replicate), so all correlations within a cluster are kept; the cost grows as
``n x B``.
"""

import numbers

import numpy as np

from .._validation import Interval, check_scalar
from . import _kernels
from ._pass import FIELD, ROW_SCORES, SUM_FIELDS

__all__ = ["BootstrapStats", "bootstrap_weights", "check_bootstrap", "EXACT_ROWS",
           "SUM_VECTOR_FIELDS", "sum_vectors", "sums_from_vectors"]

#: rows of every cell that are resampled exactly (the rest by their moments)
EXACT_ROWS = 64
#: the fields of the per-group score sums that a replicate draws (all but the row count)
SUM_VECTOR_FIELDS = tuple(f for f in SUM_FIELDS if f != "count")
_TABLE_STREAMS = {"top": 1, "sums": 2, "cls": 3}


_N_BOOTSTRAP = Interval(numbers.Integral, 0, 100_000, closed="both")
_CONFIDENCE = Interval(numbers.Real, 0, 1, closed="neither")


def check_bootstrap(n_bootstrap, confidence, random_state):
    """Check the bootstrap options; returns (n_bootstrap, confidence, keys): the (key,
    entropy) of :func:`_keys`, or None without a bootstrap."""
    if type(n_bootstrap) is int and n_bootstrap == 0 and random_state is None \
            and type(confidence) is float and 0.0 < confidence < 1.0:
        return 0, confidence, None  # (no bootstrap: the common case, checked without overhead)
    n_bootstrap = check_scalar(n_bootstrap, "n_bootstrap", _N_BOOTSTRAP)
    confidence = float(check_scalar(confidence, "confidence", _CONFIDENCE))
    check_scalar(random_state, "random_state", "random_state")
    return n_bootstrap, confidence, _keys(random_state) if n_bootstrap else None


def _keys(random_state):
    """(64-bit key of the Poisson weights, SeedSequence entropy of the normal draws)."""
    if isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(0, 2**31 - 1))
    elif isinstance(random_state, np.random.Generator):
        random_state = int(random_state.integers(0, 2**63 - 1))
    ss = np.random.SeedSequence(random_state)
    key, entropy = ss.generate_state(2, dtype=np.uint64)
    return int(key), int(entropy)


def bootstrap_weights(n_samples, n_bootstrap, random_state=None, *, start=0):
    """The Poisson(1) resampling weights of rows ``start`` to ``start + n_samples - 1``.

    A metric's ``n_bootstrap`` replicates (``n_bootstrap=`` of the metric functions) are the
    metric of the data reweighted by these weights -- exactly so for every bin and group of
    at most 64 rows; larger ones draw the sum of their other rows from its moments. With
    ``clusters``, row ``i`` takes the weight of its cluster code.

    Returns
    -------
    ndarray of uint8, shape (n_bootstrap, n_samples)

    Examples
    --------
    >>> w = bootstrap_weights(5, 3, random_state=0)
    >>> w.shape, bool((bootstrap_weights(5, 3, random_state=0) == w).all())
    ((3, 5), True)
    """
    n_samples = check_scalar(n_samples, "n_samples", Interval(numbers.Integral, 0, None,
                                                              closed="left"))
    start = check_scalar(start, "start", Interval(numbers.Integral, 0, None, closed="left"))
    n_bootstrap, _, _ = check_bootstrap(n_bootstrap, 0.5, random_state)
    key = _keys(random_state)[0]
    index = np.arange(start, start + n_samples, dtype=np.int64)
    return np.ascontiguousarray(_kernels.poisson_weights(index, n_bootstrap, key).T)


class _Table:
    """One kind of cells: first and second moments of the rows beyond the exact ones, and
    the exact rows' replicate sums."""

    def __init__(self, n_cells, n_fields, n_boot):
        self.seen = np.zeros(n_cells, dtype=np.int64)
        self.M1 = np.zeros((n_cells, n_fields))
        self.M2 = np.zeros((n_cells, n_fields, n_fields))
        self.exact = np.zeros((n_boot, n_cells, n_fields))

    def merge(self, other):
        out = _Table.__new__(_Table)
        out.seen = self.seen + other.seen
        out.M1, out.M2 = self.M1 + other.M1, self.M2 + other.M2
        out.exact = self.exact + other.exact
        return out

    def keep(self, idx):
        self.seen, self.M1, self.M2 = self.seen[idx], self.M1[idx], self.M2[idx]
        self.exact = self.exact[:, idx]

    def draw(self, seed):
        """Replicate sums (B, n_cells, n_fields): exact part plus a normal draw of the rest."""
        B = self.exact.shape[0]
        upper = np.triu(self.M2)
        cov = upper + np.swapaxes(np.triu(upper, 1), 1, 2)
        active = np.flatnonzero(np.abs(cov).sum(axis=(1, 2)) > 0)
        out = self.exact + self.M1[None]
        if active.size:
            vals, vecs = np.linalg.eigh(cov[active])
            root = vecs * np.sqrt(np.clip(vals, 0.0, None))[:, None, :]
            z = np.random.default_rng(seed).standard_normal((B, active.size, cov.shape[1]))
            out[:, active] += np.einsum("cij,rcj->rci", root, z)
        return out


class BootstrapStats:
    """Mergeable bootstrap statistics beside a :class:`CalibrationStats`.

    Parameters
    ----------
    n_bootstrap : int
    keys : (int, int)
        From :func:`check_bootstrap`.
    clusters : bool
        Resample clusters: every row is resampled exactly, with its cluster's weight.
    """

    def __init__(self, n_bootstrap, keys, *, clusters=False):
        self.n_bootstrap = n_bootstrap
        self.key, self.entropy = keys
        self.clusters = clusters
        self.exact_rows = 2**62 if clusters else EXACT_ROWS
        self.tables = {}

    def _table(self, name, n_cells, n_fields):
        if name not in self.tables:
            self.tables[name] = _Table(n_cells, n_fields, self.n_bootstrap)
        return self.tables[name]

    def add(self, name, cell, X, index, n_cells):
        """Add rows with cells ``cell`` and vectors ``X``; ``index`` holds the rows' global
        indices (or their clusters' codes), which key their Poisson weights."""
        tab = self._table(name, n_cells, X.shape[1])
        X = np.ascontiguousarray(X, dtype=np.float64)
        cell = np.ascontiguousarray(cell, dtype=np.intp)
        exact = _kernels.split_moments(cell, X, tab.seen, self.exact_rows, tab.M1, tab.M2)
        if exact.size:
            W = _kernels.poisson_weights(np.ascontiguousarray(index[exact], dtype=np.int64),
                                         self.n_bootstrap, self.key)
            _kernels.replicate_sums(np.ascontiguousarray(cell[exact]),
                                    np.ascontiguousarray(X[exact]), W, tab.exact)

    def add_classwise(self, prob, targets, weight, codes, n_groups, edges, uniform, index):
        """Add the classwise cells of rows (one per row and class); ``edges`` (1 or K,
        n_bins + 1), ``index`` the rows' (or clusters') resampling indices."""
        K = prob.shape[1]
        edges = np.ascontiguousarray(np.atleast_2d(edges), dtype=np.float64)
        nb = edges.shape[1] - 1
        tab = self._table("cls", n_groups * K * nb, 3)
        soft = targets.proba if targets.soft else np.zeros((0, 1), dtype=prob.dtype)
        hard = np.zeros(0, dtype=np.intp) if targets.soft else targets.codes
        w = np.zeros(0) if weight is None else weight
        g = np.zeros(0, dtype=np.intp) if codes is None else codes
        pairs = _kernels.class_split_moments(prob, soft, hard, w, g, edges, bool(uniform),
                                             tab.seen, self.exact_rows, tab.M1, tab.M2)
        if not pairs.size:
            return
        i, k = pairs[:, 0], pairs[:, 1]
        v = prob[i, k].astype(np.float64)
        t = targets.proba[i, k].astype(np.float64) if targets.soft else \
            (targets.codes[i] == k).astype(np.float64)
        wi = np.ones(i.shape[0]) if weight is None else weight[i]
        e = edges[k] if edges.shape[0] > 1 else edges[np.zeros_like(k)]
        b = np.clip((e <= v[:, None]).sum(axis=1) - 1, 0, nb - 1)
        gi = 0 if codes is None else codes[i]
        cells = np.ascontiguousarray((gi * K + k) * nb + b, dtype=np.intp)
        X = np.column_stack([wi, wi * v, wi * t])
        W = _kernels.poisson_weights(np.ascontiguousarray(index[i], dtype=np.int64),
                                     self.n_bootstrap, self.key)
        _kernels.replicate_sums(cells, X, W, tab.exact)

    def merge(self, other):
        out = BootstrapStats(self.n_bootstrap, (self.key, self.entropy), clusters=self.clusters)
        for name in set(self.tables) | set(other.tables):
            a, b = self.tables.get(name), other.tables.get(name)
            out.tables[name] = b if a is None else (a if b is None else a.merge(b))
        return out

    def replicates(self, name):
        """Replicate sums of a table: (B, n_cells, n_fields); None if it has no rows."""
        if name not in self.tables:
            return None
        seed = np.random.SeedSequence(self.entropy, spawn_key=(_TABLE_STREAMS[name],))
        return self.tables[name].draw(seed)

    def drop_groups(self, keep, n_groups):
        """Keep only the groups ``keep`` (after empty groups are dropped)."""
        for tab in self.tables.values():
            per = tab.seen.shape[0] // n_groups
            tab.keep((np.asarray(keep)[:, None] * per + np.arange(per)[None]).ravel())

    def weights(self, index, first=0, count=None):
        """Poisson weights (count, len(index)) of rows (or clusters) ``index`` in replicates
        ``first .. first + count - 1`` (default: all)."""
        count = self.n_bootstrap - first if count is None else count
        return _kernels.poisson_weights(np.ascontiguousarray(index, dtype=np.int64),
                                        count, self.key, first).T


def sum_vectors(weight, acc, scores):
    """Row vectors of the per-group score sums, in :data:`SUM_VECTOR_FIELDS` order:
    ``w * (1, acc, brier, ce, ht, hp, js, tv, ht^2, hp^2, ht hp)``."""
    n = acc.shape[0]
    w = np.ones(n) if weight is None else weight
    col = {name: scores[:, j] for j, name in enumerate(ROW_SCORES)}
    col["weight"] = np.ones(n)
    col["accuracy"] = acc
    col["entropy_true_sq"] = col["entropy_true"] ** 2
    col["entropy_pred_sq"] = col["entropy_pred"] ** 2
    col["entropy_cross"] = col["entropy_true"] * col["entropy_pred"]
    return np.column_stack([w * col[f] for f in SUM_VECTOR_FIELDS])


def sums_from_vectors(rep):
    """(..., len(SUM_VECTOR_FIELDS)) replicate vectors -> (..., len(SUM_FIELDS)) sums (the
    row count, which no metric uses, is NaN)."""
    out = np.full(rep.shape[:-1] + (len(SUM_FIELDS),), np.nan)
    for j, f in enumerate(SUM_VECTOR_FIELDS):
        out[..., FIELD[f]] = rep[..., j]
    return out
