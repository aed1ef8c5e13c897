"""Kernels of the recalibration maps behind :mod:`sksoft.calibration`.

Nothing here validates: callers pass checked float64 arrays -- ``P`` (n, K) probabilities,
``Y`` (n, K) targets (one-hot rows for hard labels, label distributions for soft ones) and
``w`` (n,) non-negative weights summing to 1. Every parametric map minimises the same objective,
the weighted mean soft cross-entropy ``sum_i w_i CE(Y_i, softmax(z_i))`` (plus a penalty), of
logits ``z_i`` that are an affine function of the log-probabilities ``log P_i``:

=============  ======================  ==========================
map            logits ``z_i``           parameters
=============  ======================  ==========================
temperature    ``log P_i / T``          ``T``
vector         ``s * log P_i + b``      ``s``, ``b`` (K each)
Dirichlet      ``W log P_i + b``        ``W`` (K, K), ``b`` (K)
=============  ======================  ==========================

so one loss-and-gradient function (:func:`soft_ce`) serves all three; the isotonic map is the
non-parametric exception (pool-adjacent-violators per class, :func:`fit_isotonic`).
"""

import warnings

import numpy as np
from scipy.optimize import isotonic_regression, minimize, minimize_scalar
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

#: Floor of ``log P`` (``log`` of the smallest normal float64): a zero probability stays finite.
LOG_FLOOR = np.log(np.finfo(np.float64).tiny)


def log_probs(P):
    """``log P`` floored at :data:`LOG_FLOOR` (a new float64 array)."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(np.asarray(P, dtype=np.float64)), LOG_FLOOR)


def apply_temperature(proba, temperature):
    """Rescale probabilities: ``softmax(log(proba) / temperature)``, unchecked.

    ``temperature > 1`` flattens the rows, ``< 1`` sharpens them. The kernel of
    :func:`sksoft.calibration.apply_temperature` (which checks its arguments), here below the
    estimators for the label sources that temper a teacher's probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> apply_temperature(np.array([[0.8, 0.2]]), 2.0).round(3).tolist()
    [[0.667, 0.333]]
    """
    return softmax(log_probs(np.asarray(proba, dtype=np.float64)) / float(temperature), axis=1)


def soft_ce(Z, Y, w, ysum, grad=True):
    """Weighted mean soft cross-entropy of logits ``Z`` and its gradient with respect to ``Z``.

    ``sum_i w_i (ysum_i * logsumexp(Z_i) - Y_i . Z_i)``; ``ysum`` (the row sums of ``Y``, 1 up
    to rounding) keeps loss and gradient exactly consistent for rows that sum to 1 - 1e-12.
    One exponential per value serves the loss and the gradient.
    """
    zmax = Z.max(axis=1, keepdims=True)
    E = np.exp(Z - zmax)
    s = E.sum(axis=1)
    lse = zmax[:, 0] + np.log(s)
    loss = float(w @ (ysum * lse - np.einsum("ij,ij->i", Y, Z)))
    if not grad:
        return loss
    E *= (w * ysum / s)[:, None]  # w_i * softmax(Z_i) * ysum_i
    E -= w[:, None] * Y
    return loss, E


def _row_sums(Y):
    return Y.sum(axis=1)


# --------------------------------------------------------------------------- temperature
def fit_temperature(L, Y, w, low, high):
    """Temperature in ``[low, high]`` minimising the loss (bounded search on ``log T``)."""
    ysum = _row_sums(Y)

    def loss(log_t):
        return soft_ce(L * np.exp(-log_t), Y, w, ysum, grad=False)

    res = minimize_scalar(loss, bounds=(np.log(low), np.log(high)), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x))


# --------------------------------------------------------------------------- L-BFGS driver
def _minimise(fun, x0, max_iter, tol, what):
    # (n, K) by (K, K) products: threaded BLAS only adds contention at these sizes
    with threadpool_limits(limits=1, user_api="blas"):
        res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 50})
    if not res.success and res.nit >= max_iter:
        warnings.warn(f"{what}: L-BFGS did not converge in max_iter={max_iter} iterations "
                      f"({res.message}); increase max_iter or regularise.", ConvergenceWarning,
                      stacklevel=3)
    return res.x, max(int(res.nit), 1)


# --------------------------------------------------------------------------- vector scaling
def fit_vector_scaling(L, Y, w, max_iter, tol):
    """Per-class scale ``s``, bias ``b`` (centred to mean 0) and the iterations run, starting
    from the identity; optimised over centred features as :func:`fit_dirichlet` is."""
    n, K = L.shape
    ysum = _row_sums(Y)
    m = w @ L
    Lc = L - m

    def fun(theta):
        s, c = theta[:K], theta[K:]
        loss, R = soft_ce(Lc * s + c, Y, w, ysum)
        return loss, np.concatenate([np.einsum("ij,ij->j", R, Lc), R.sum(axis=0)])

    theta, n_iter = _minimise(fun, np.concatenate([np.ones(K), m]), max_iter, tol,
                              "VectorScaling")
    s = theta[:K].copy()
    b = theta[K:] - s * m
    return s, b - b.mean(), n_iter


def apply_vector_scaling(L, scale, bias):
    return softmax(L * scale + bias, axis=1)


# --------------------------------------------------------------------------- Dirichlet
def dirichlet_penalty(W, b, reg_lambda, reg_mu, penalty):
    """Penalty and its gradients: ODIR (Kull et al. 2019) or plain L2 on ``W``; L2 on ``b``.

    ``odir``: ``lambda / (K (K - 1)) * sum_{i != j} W_ij^2 + mu / K * sum_j b_j^2``.
    ``l2``:   ``lambda / K^2 * sum_ij W_ij^2 + mu / K * sum_j b_j^2``.
    """
    K = W.shape[0]
    if penalty == "odir":
        Wp = W * (1.0 - np.eye(K))
        cw = reg_lambda / (K * (K - 1))
    else:
        Wp = W
        cw = reg_lambda / (K * K)
    cb = reg_mu / K
    value = cw * float(np.sum(Wp * Wp)) + cb * float(b @ b)
    return value, 2.0 * cw * Wp, 2.0 * cb * b


def fit_dirichlet(L, Y, w, reg_lambda, reg_mu, penalty, max_iter, tol):
    """Matrix ``W`` (K, K), intercept ``b`` of ``softmax(W log P + b)`` and the iterations run,
    starting from the identity.

    Optimised over ``(W, c)`` with centred features, ``z = W (log P - m) + c`` and
    ``b = c - W m`` (``m`` the weighted column means): the same objective, far better
    conditioned (several times fewer L-BFGS iterations).
    """
    n, K = L.shape
    ysum = _row_sums(Y)
    m = w @ L
    Lc = L - m

    def fun(theta):
        W, c = theta[:K * K].reshape(K, K), theta[K * K:]
        loss, R = soft_ce(Lc @ W.T + c, Y, w, ysum)
        pen, gW, gb = dirichlet_penalty(W, c - W @ m, reg_lambda, reg_mu, penalty)
        gW -= np.outer(gb, m)  # the intercept penalty through b = c - W m
        return loss + pen, np.concatenate([(R.T @ Lc + gW).ravel(), R.sum(axis=0) + gb])

    theta, n_iter = _minimise(fun, np.concatenate([np.eye(K).ravel(), m]), max_iter, tol,
                              "DirichletCalibration")
    W = theta[:K * K].reshape(K, K).copy()
    return W, theta[K * K:] - W @ m, n_iter


def apply_dirichlet(L, coef, intercept):
    return softmax(L @ coef.T + intercept, axis=1)


# --------------------------------------------------------------------------- isotonic
_TIE_EPS = np.finfo(np.float64).resolution


def _isotonic_1d(x, t, w):
    """Thresholds (unique ``x``, fitted values) of the weighted isotonic (increasing)
    least-squares fit of ``t`` on ``x``; zero-weight points are dropped, exactly as if removed."""
    keep = w > 0
    x, t, w = x[keep], t[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, t, w = x[order], t[order], w[order]
    # values closer than 1e-15 are ties (the rounding noise of renormalised rows), each group
    # represented by its smallest value -- scikit-learn's IsotonicRegression rule
    new = np.empty(x.shape[0], dtype=bool)
    new[:1] = True
    new[1:] = np.diff(x) >= _TIE_EPS
    group = np.cumsum(new) - 1
    ux = x[new]
    wsum = np.bincount(group, weights=w, minlength=ux.shape[0])
    tmean = np.bincount(group, weights=w * t, minlength=ux.shape[0]) / wsum
    fitted = isotonic_regression(tmean, weights=wsum, increasing=True).x
    return ux, np.clip(fitted, 0.0, 1.0)


def fit_isotonic(P, Y, w):
    """One map on the positive class for two classes, one per class otherwise."""
    K = P.shape[1]
    cols = [1] if K == 2 else range(K)
    return [_isotonic_1d(P[:, k], Y[:, k], w) for k in cols]


def apply_isotonic(P, thresholds):
    """Interpolate each class's map (clipped outside its range), renormalise the rows.

    Rows whose mapped values are all 0 become uniform (as scikit-learn's
    ``CalibratedClassifierCV`` does).
    """
    n, K = P.shape
    if K == 2:
        x, y = thresholds[0]
        q = np.interp(P[:, 1], x, y)
        return np.column_stack([1.0 - q, q])
    Q = np.empty((n, K))
    for k, (x, y) in enumerate(thresholds):
        Q[:, k] = np.interp(P[:, k], x, y)
    s = Q.sum(axis=1, keepdims=True)
    out = np.full((n, K), 1.0 / K)
    np.divide(Q, s, out=out, where=s > 0)
    return out
