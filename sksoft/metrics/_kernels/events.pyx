# Private Cython kernels of the smooth (kernel-smoothed) and isotonic (CORP) calibration
# estimators in sksoft.metrics._smooth and sksoft.metrics._corp.
#
# The kernels never validate their arguments (the Python wrappers do), except the per-row value
# checks of the probability matrices (finite, non-negative, rows summing to 1), which cost
# nothing inside the pass and would otherwise be extra passes over the data; a kernel reports
# the first bad row and the wrapper raises the library's usual message for it. Compiler
# directives (boundscheck, wraparound, cdivision) are set once in setup.py.

import numpy as np


from cython.parallel cimport prange
from libc.math cimport fabs, log, log1p
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from ._common cimport floating, target_t


ctypedef fused key_t:
    uint32_t
    uint64_t

cdef enum:
    BAD_PROB = 1
    BAD_TRUE = 2
    MODE_TOP = 0
    MODE_CLASSES = 1
    DEPOSIT_BLOCK = 256


cdef struct event_t:
    # One binary event of every row and how its rows are checked; the Python side passes it
    # as a dict (sksoft.metrics._events.EventInputs.event), converted by Cython.
    int mode            # MODE_TOP: the top label; MODE_CLASSES: class k one-vs-rest
    Py_ssize_t k        # (smooth_masses: the first of the classes k, k + 1, ...)
    double tol          # row-sum tolerances of P and of soft T (_targets.row_sum_tolerance)
    double tol_t
    bint check          # check the rows' values (only the first pass over the data)
    double lo           # events, event_keys: predictions clipped to [lo, hi]
    double hi


cdef struct _grids_t:
    # one thread's grids of smooth_masses: C rows of M + 1 nodes each (wm, pm NULL when only
    # the residual masses are asked for)
    double* res
    double* wm
    double* pm
    Py_ssize_t C
    Py_ssize_t M


cdef extern from "_rowrule.h" nogil:
    # the row rule (finite, non-negative, sum within tol of 1), see _rowrule.h; the scan also
    # gives the first argmax
    bint sksoft_bad_row_f(const float* row, Py_ssize_t K, double tol)
    bint sksoft_bad_row_d(const double* row, Py_ssize_t K, double tol)
    bint sksoft_scan_row_f(const float* row, Py_ssize_t K, double tol, Py_ssize_t* arg)
    bint sksoft_scan_row_d(const double* row, Py_ssize_t K, double tol, Py_ssize_t* arg)


cdef inline bint _bad_row(const floating* row, Py_ssize_t K, double tol) noexcept nogil:
    # whether a row breaks the row rule (the checks of sksoft._targets.validate_rows)
    if floating is float:
        return sksoft_bad_row_f(row, K, tol)
    else:
        return sksoft_bad_row_d(row, K, tol)


cdef inline bint _scan_row(const floating* row, Py_ssize_t K, double tol,
                           Py_ssize_t* arg) noexcept nogil:
    # _bad_row and the first argmax (as numpy's) in one pass; *arg is only meaningful for a
    # good row
    if floating is float:
        return sksoft_scan_row_f(row, K, tol, arg)
    else:
        return sksoft_scan_row_d(row, K, tol, arg)


cdef inline void _deposit(double* res, double* wm, double* pm, double p, double t, double wi,
                          Py_ssize_t M) noexcept nogil:
    # Linear binning of one row onto the grid j / M, j = 0..M: the point's mass is split
    # between its two neighbouring nodes in proportion to closeness (total mass and first
    # moment preserved). A probability a rounding step above 1 is placed at 1.
    cdef double x = p * M, fr, v
    cdef Py_ssize_t j
    if x > M:
        x = M
    j = <Py_ssize_t>x
    if j > M - 1:
        j = M - 1
    fr = x - j
    v = wi * (t - p)
    res[j] += v - v * fr
    res[j + 1] += v * fr
    if wm != NULL:
        wm[j] += wi - wi * fr
        wm[j + 1] += wi * fr
        v = wi * p
        pm[j] += v - v * fr
        pm[j + 1] += v * fr


# ------------------------------------------------------------------ row passes
#
# Every pass splits the rows into one contiguous range per thread. A thread stops at its first
# row that fails the value checks; the first bad row overall is the smallest of those.


cdef Py_ssize_t _masses_rows(const floating[:, ::1] P, const target_t[:, ::1] T,
                             const Py_ssize_t[::1] Y, const double[::1] w, const event_t* ev,
                             const _grids_t* g, Py_ssize_t start, Py_ssize_t stop,
                             int* what) noexcept nogil:
    # Rows go in blocks: first the checks and the top-label events of the block, kept in the
    # input's types (converting to double inside the row scan costs a third of the pass), then
    # the block's scattered grid updates in a tight loop of independent read-modify-writes.
    # The settings and the grids' addresses are copied to locals first (stores into the grids
    # could otherwise alias them and force reloads in the inner loops).
    cdef int mode = ev.mode
    cdef Py_ssize_t k0 = ev.k, C = g.C, M = g.M
    cdef double tol = ev.tol, tol_t = ev.tol_t
    cdef bint check = ev.check
    cdef double* res = g.res
    cdef double* wm = g.wm
    cdef double* pm = g.pm
    cdef Py_ssize_t K = P.shape[1], i, j, c, k, m, b0, a = 0, stride = M + 1
    cdef bint soft = T.shape[0] > 0, weighted = w.shape[0] > 0
    cdef double t
    cdef double* wrow = NULL
    cdef double* prow = NULL
    cdef floating pbuf[DEPOSIT_BLOCK]
    cdef target_t sbuf[DEPOSIT_BLOCK]
    cdef unsigned char hbuf[DEPOSIT_BLOCK]
    cdef double wbuf[DEPOSIT_BLOCK]
    b0 = start
    while b0 < stop:
        m = min(<Py_ssize_t>DEPOSIT_BLOCK, stop - b0)
        for j in range(m):
            i = b0 + j
            if mode == MODE_TOP:
                # check and argmax in one pass (a bad row stops before its use)
                if _scan_row(&P[i, 0], K, tol, &a) and check:
                    what[0] = BAD_PROB
                    return i
                # + 0 turns a negative zero into a positive one
                pbuf[j] = P[i, a] + <floating>0
                if soft:
                    sbuf[j] = T[i, a]
                else:
                    hbuf[j] = Y[i] == a
            elif check and _bad_row(&P[i, 0], K, tol):
                what[0] = BAD_PROB
                return i
            if check and soft and _bad_row(&T[i, 0], K, tol_t):
                what[0] = BAD_TRUE
                return i
            wbuf[j] = w[i] if weighted else 1.0
        if mode == MODE_TOP:
            for j in range(m):
                t = sbuf[j] if soft else hbuf[j]
                _deposit(res, wm, pm, pbuf[j], t, wbuf[j], M)
        else:
            for c in range(C):
                k = k0 + c
                if wm != NULL:
                    wrow = wm + c * stride
                    prow = pm + c * stride
                for j in range(m):
                    i = b0 + j
                    if soft:
                        t = T[i, k]
                    else:
                        t = Y[i] == k
                    _deposit(res + c * stride, wrow, prow, P[i, k] + <floating>0, t, wbuf[j],
                             M)
        b0 += m
    return -1


def _thread_ranges(Py_ssize_t n, int n_threads):
    """(threads actually used, rows per thread): a thread gets at least 4096 rows."""
    cdef Py_ssize_t nt = max(1, min(<Py_ssize_t>n_threads, n // 4096))
    return nt, (n + nt - 1) // nt


def _first_bad(bads, whats):
    hit = bads >= 0
    if not hit.any():
        return -1, 0
    t = int(np.flatnonzero(hit)[np.argmin(bads[hit])])
    return int(bads[t]), int(whats[t])


def smooth_masses(const floating[:, ::1] P, const target_t[:, ::1] T, const Py_ssize_t[::1] Y,
                  const double[::1] w, event_t ev, double[:, ::1] res, double[:, ::1] wm,
                  double[:, ::1] pm, int n_threads=1):
    """Add the grid masses of the weighted residuals ``w (t - p)`` (and, when ``wm`` has
    columns, of ``w`` and ``w p``) of binary events to ``res`` (``wm``, ``pm``), in one pass
    over the rows.

    ``ev`` (see ``event_t``) mode 0: the top-label event (confidence, soft-aware correctness)
    into row 0 of the outputs; mode 1: the one-vs-rest event of class ``ev.k + c`` into row
    ``c``, for every row ``c`` of ``res``. ``T`` has 0 rows for hard labels ``Y`` (column
    codes), ``w`` 0 entries for unit weights. The grid has ``res.shape[1] - 1`` intervals.
    With several threads each has its own grids, summed at the end. Returns ``(-1, 0)``, or
    the first row that fails the value checks (when ``ev.check``) and 1 (``P``) or 2 (``T``).
    """
    cdef Py_ssize_t n = P.shape[0], M = res.shape[1] - 1, C = res.shape[0], nt, chunk, tid
    cdef bint curve = wm.shape[1] > 0
    cdef int what = 0
    cdef Py_ssize_t bad
    cdef double[:, :, ::1] tres, twm, tpm
    cdef Py_ssize_t[::1] bads_v
    cdef int[::1] whats_v
    cdef _grids_t one
    cdef _grids_t* grids
    nt, chunk = _thread_ranges(n, n_threads)
    if nt == 1:
        one.res = &res[0, 0]
        one.wm = &wm[0, 0] if curve else NULL
        one.pm = &pm[0, 0] if curve else NULL
        one.C = C
        one.M = M
        with nogil:
            bad = _masses_rows(P, T, Y, w, &ev, &one, 0, n, &what)
        return bad, what
    grids_ = np.zeros((nt, C, M + 1))
    tres = grids_
    if curve:
        wgrids, pgrids = np.zeros((nt, C, M + 1)), np.zeros((nt, C, M + 1))
        twm, tpm = wgrids, pgrids
    bads = np.full(nt, -1, dtype=np.intp)
    whats = np.zeros(nt, dtype=np.intc)
    bads_v, whats_v = bads, whats
    grids = <_grids_t*>malloc(nt * sizeof(_grids_t))
    if grids == NULL:
        raise MemoryError()
    try:
        for tid in range(nt):
            grids[tid].res = &tres[tid, 0, 0]
            grids[tid].wm = &twm[tid, 0, 0] if curve else NULL
            grids[tid].pm = &tpm[tid, 0, 0] if curve else NULL
            grids[tid].C = C
            grids[tid].M = M
        for tid in prange(nt, nogil=True, schedule="static", num_threads=nt):
            bads_v[tid] = _masses_rows(P, T, Y, w, &ev, &grids[tid], tid * chunk,
                                       min(n, (tid + 1) * chunk), &whats_v[tid])
    finally:
        free(grids)
    bad, what = _first_bad(bads, whats)
    if bad < 0:
        np.add(res, grids_.sum(axis=0), out=np.asarray(res))
        if curve:
            np.add(wm, wgrids.sum(axis=0), out=np.asarray(wm))
            np.add(pm, pgrids.sum(axis=0), out=np.asarray(pm))
    return bad, what


cdef Py_ssize_t _event_rows(const floating[:, ::1] P, const target_t[:, ::1] T,
                            const Py_ssize_t[::1] Y, const event_t* ev, floating[::1] p_out,
                            double[::1] t_out, Py_ssize_t start, Py_ssize_t stop,
                            int* what) noexcept nogil:
    # in blocks, the targets kept in their own types during the row scans and converted to
    # double afterwards (see _masses_rows)
    cdef int mode = ev.mode
    cdef Py_ssize_t k = ev.k
    cdef double tol = ev.tol, tol_t = ev.tol_t
    cdef bint check = ev.check
    cdef Py_ssize_t K = P.shape[1], i, j, m, b0, a = k
    cdef bint soft = T.shape[0] > 0
    cdef floating v, lo_f = <floating>ev.lo, hi_f = <floating>ev.hi
    cdef target_t sbuf[DEPOSIT_BLOCK]
    cdef unsigned char hbuf[DEPOSIT_BLOCK]
    b0 = start
    while b0 < stop:
        m = min(<Py_ssize_t>DEPOSIT_BLOCK, stop - b0)
        for j in range(m):
            i = b0 + j
            if mode == MODE_TOP:
                if _scan_row(&P[i, 0], K, tol, &a) and check:
                    what[0] = BAD_PROB
                    return i
            elif check and _bad_row(&P[i, 0], K, tol):
                what[0] = BAD_PROB
                return i
            if check and soft and _bad_row(&T[i, 0], K, tol_t):
                what[0] = BAD_TRUE
                return i
            v = P[i, a]
            v = lo_f if v < lo_f else v
            v = hi_f if v > hi_f else v
            p_out[i] = v + <floating>0
            if soft:
                sbuf[j] = T[i, a]
            else:
                hbuf[j] = Y[i] == a
        for j in range(m):
            t_out[b0 + j] = sbuf[j] if soft else hbuf[j]
        b0 += m
    return -1


def events(const floating[:, ::1] P, const target_t[:, ::1] T, const Py_ssize_t[::1] Y,
           event_t ev, floating[::1] p_out, double[::1] t_out, int n_threads=1):
    """The binary event ``ev`` of every row: mode 0 the top label (confidence, soft-aware
    correctness), mode 1 class ``ev.k`` one-vs-rest (probability, target mass). ``p_out``
    keeps the input's dtype (exact sorting), clipped to ``[ev.lo, ev.hi]`` (in that dtype); a
    negative zero becomes a positive one. Returns as :func:`smooth_masses`."""
    cdef Py_ssize_t n = P.shape[0], nt, chunk, tid
    cdef Py_ssize_t[::1] bads_v
    cdef int[::1] whats_v
    nt, chunk = _thread_ranges(n, n_threads)
    bads = np.full(nt, -1, dtype=np.intp)
    whats = np.zeros(nt, dtype=np.intc)
    bads_v, whats_v = bads, whats
    for tid in prange(nt, nogil=True, schedule="static", num_threads=nt):
        bads_v[tid] = _event_rows(P, T, Y, &ev, p_out, t_out, tid * chunk,
                                  min(n, (tid + 1) * chunk), &whats_v[tid])
    return _first_bad(bads, whats)


cdef Py_ssize_t _key_rows(const floating[:, ::1] P, const Py_ssize_t[::1] Y, const event_t* ev,
                          key_t[::1] out, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef int mode = ev.mode
    cdef Py_ssize_t k = ev.k
    cdef double tol = ev.tol
    cdef bint check = ev.check
    cdef Py_ssize_t K = P.shape[1], i, a = k
    cdef floating v, lo_f = <floating>ev.lo, hi_f = <floating>ev.hi
    cdef float vf
    cdef double vd
    cdef uint32_t b32
    cdef uint64_t b64
    for i in range(start, stop):
        if mode == MODE_TOP:
            if _scan_row(&P[i, 0], K, tol, &a) and check:
                return i
        elif check and _bad_row(&P[i, 0], K, tol):
            return i
        v = P[i, a]
        v = lo_f if v < lo_f else v
        v = hi_f if v > hi_f else v
        # + 0 turns a negative zero into a positive one
        if floating is float:
            vf = v + <float>0
            memcpy(&b32, &vf, 4)
            out[i] = (<key_t>b32 << 1) | <key_t>(Y[i] == a)
        else:
            vd = v + 0.0
            memcpy(&b64, &vd, 8)
            out[i] = (<key_t>b64 << 1) | <key_t>(Y[i] == a)
    return -1


def event_keys(const floating[:, ::1] P, const Py_ssize_t[::1] Y, event_t ev, key_t[::1] out,
               int n_threads=1):
    """As :func:`events` for hard labels, writing one sort key per row instead: the bits of the
    (non-negative) probability -- ordered as the values -- shifted left once to hold the 0/1
    outcome. uint32 keys for float32 input (a probability <= 1 uses 30 bits), uint64 for
    float64 (62 bits)."""
    cdef Py_ssize_t n = P.shape[0], nt, chunk, tid
    cdef Py_ssize_t[::1] bads_v
    nt, chunk = _thread_ranges(n, n_threads)
    bads = np.full(nt, -1, dtype=np.intp)
    bads_v = bads
    for tid in prange(nt, nogil=True, schedule="static", num_threads=nt):
        bads_v[tid] = _key_rows(P, Y, &ev, out, tid * chunk, min(n, (tid + 1) * chunk))
    return _first_bad(bads, np.full(nt, BAD_PROB, dtype=np.intc))


cdef inline double _key_value(key_t b) noexcept nogil:
    # the probability whose bits (shifted right once) are b
    cdef float vf
    cdef double v
    cdef uint32_t b32
    cdef uint64_t b64
    if key_t is uint32_t:
        b32 = b
        memcpy(&vf, &b32, 4)
        return vf
    else:
        b64 = b
        memcpy(&v, &b64, 8)
        return v


def groups_from_keys(const key_t[::1] keys, double[::1] pg, double[::1] Wg, double[::1] Tg):
    """Pool the sorted keys of :func:`event_keys` into groups of tied probabilities: value,
    number of rows and number of events of each. Returns the number of groups."""
    cdef Py_ssize_t i, n = keys.shape[0], G = 0
    cdef key_t b, prev = 0
    with nogil:
        for i in range(n):
            b = keys[i] >> 1
            if G == 0 or b != prev:
                pg[G] = _key_value(b)
                Wg[G] = 0.0
                Tg[G] = 0.0
                G += 1
                prev = b
            Wg[G - 1] += 1.0
            Tg[G - 1] += <double>(keys[i] & 1)
    return G


def groups_from_order(const floating[::1] p, const double[::1] t, const double[::1] w,
                      const Py_ssize_t[::1] order, double[::1] pg, double[::1] Wg,
                      double[::1] Tg, Py_ssize_t[::1] gid):
    """Pool rows, visited in ``order`` (ascending ``p``), into groups of tied probabilities:
    value, total weight ``W`` and weighted event mass ``T = sum w t`` of each. Rows of zero
    weight are left out (``gid`` -1); ``gid[j]`` is the group of the j-th visited row. ``w``
    with 0 entries means unit weights. Returns the number of groups."""
    cdef Py_ssize_t j, i, n = order.shape[0], G = 0
    cdef bint weighted = w.shape[0] > 0
    cdef double v, wi = 1.0
    with nogil:
        for j in range(n):
            i = order[j]
            if weighted:
                wi = w[i]
                if wi == 0:
                    gid[j] = -1
                    continue
            v = p[i]
            if G == 0 or v != pg[G - 1]:
                pg[G] = v
                Wg[G] = 0.0
                Tg[G] = 0.0
                G += 1
            Wg[G - 1] += wi
            Tg[G - 1] += wi * t[i]
            gid[j] = G - 1
    return G


# ------------------------------------------------------------------ pool adjacent violators
#
# The blocks of the isotonic fit live on a stack: each new group is pushed and merged into the
# block below while that block's mean is not smaller (compared as cross products, no
# division), so the block means end strictly increasing. A block carries its first group F,
# total weight W, event mass T, squared event mass Q and the summed score A of its groups' own
# predictions.

cdef struct _Stack:
    Py_ssize_t* F
    double* W
    double* T
    double* Q
    double* A
    Py_ssize_t top


cdef inline void _push(_Stack* st, Py_ssize_t g, double W, double T, double Q,
                       double A) noexcept nogil:
    cdef Py_ssize_t top = st.top + 1
    st.F[top] = g
    st.W[top] = W
    st.T[top] = T
    st.Q[top] = Q
    st.A[top] = A
    while top > 0 and st.T[top - 1] * st.W[top] >= st.T[top] * st.W[top - 1]:
        st.W[top - 1] += st.W[top]
        st.T[top - 1] += st.T[top]
        st.Q[top - 1] += st.Q[top]
        st.A[top - 1] += st.A[top]
        top -= 1
    st.top = top


cdef void _release(_Stack* st) noexcept nogil:
    free(st.F)
    free(st.W)
    free(st.T)
    free(st.Q)
    free(st.A)
    st.F = NULL
    st.W = NULL
    st.T = NULL
    st.Q = NULL
    st.A = NULL


cdef int _alloc(_Stack* st, Py_ssize_t n) except -1:
    n = n if n > 0 else 1
    st.top = -1
    st.F = <Py_ssize_t*>malloc(n * sizeof(Py_ssize_t))
    st.W = <double*>malloc(n * sizeof(double))
    st.T = <double*>malloc(n * sizeof(double))
    st.Q = <double*>malloc(n * sizeof(double))
    st.A = <double*>malloc(n * sizeof(double))
    if st.F == NULL or st.W == NULL or st.T == NULL or st.Q == NULL or st.A == NULL:
        _release(st)
        raise MemoryError()
    return 0


def pav(const double[::1] W, const double[::1] T, double[::1] r):
    """Weighted pool-adjacent-violators: the non-decreasing fit ``r`` of the group means
    ``T / W`` (weights ``W > 0``), in the groups' order. Returns the number of blocks."""
    cdef Py_ssize_t G = W.shape[0], g, b, stop
    cdef _Stack st
    cdef double mean
    _alloc(&st, G)
    with nogil:
        for g in range(G):
            _push(&st, g, W[g], T[g], 0.0, 0.0)
        stop = G
        b = st.top
        while b >= 0:
            mean = st.T[b] / st.W[b]
            for g in range(st.F[b], stop):
                r[g] = mean
            stop = st.F[b]
            b -= 1
    b = st.top + 1
    _release(&st)
    return b


# ------------------------------------------------------------------ CORP score decomposition

cdef inline double _xlogy(double x, double y) noexcept nogil:
    # x * log(y) with 0 * log(0) = 0 (the convention of scipy.special.xlogy)
    if x == 0:
        return 0.0
    return x * log(y)


cdef inline double _xlog1my(double x, double y) noexcept nogil:
    # x * log(1 - y), accurate for small y, with 0 * log(0) = 0
    if x == 0:
        return 0.0
    return x * log1p(-y)


cdef inline double _group_score(double p, double W, double T, double Q,
                                bint log_score) noexcept nogil:
    # total score of a group of rows predicted p: weight W, event mass T, squared mass Q. The
    # log score is the binary cross-entropy, linear in the targets.
    if log_score:
        return -_xlogy(T, p) - _xlog1my(W - T, p)
    return (W * p - 2.0 * T) * p + Q


cdef inline void _add(double* acc, double x) noexcept nogil:
    # Neumaier's compensated summation: acc[0] the sum, acc[1] the running compensation. Keeps
    # score = MCB - DSC + UNC to a few roundings however many blocks are summed.
    cdef double s = acc[0], t = s + x
    if t - t != 0:  # an infinite score stays infinite
        acc[0] = t
        return
    if fabs(s) >= fabs(x):
        acc[1] += (s - t) + x
    else:
        acc[1] += (x - t) + s
    acc[0] = t


cdef tuple _finish(_Stack* st, bint log_score):
    """(total weight, score, recalibrated score, climatological score, MCB, DSC) summed over
    the blocks. ``1 - r`` is the exact complement ``(W - T) / W`` (never a rounded ``1 - r``),
    so a block without non-events costs nothing whatever rounding gives ``r``."""
    cdef double acc[14]
    cdef Py_ssize_t b
    cdef double tbar, tbar_c, Wt, Wb, Tb, Qb, sr, smg
    for b in range(14):
        acc[b] = 0.0
    with nogil:
        for b in range(st.top + 1):
            _add(&acc[0], st.W[b])
            _add(&acc[2], st.T[b])
        Wt = acc[0] + acc[1]
        tbar = (acc[2] + acc[3]) / Wt
        tbar_c = (Wt - (acc[2] + acc[3])) / Wt
        for b in range(st.top + 1):
            Wb = st.W[b]
            Tb = st.T[b]
            Qb = st.Q[b]
            if log_score:
                sr = -_xlogy(Tb, Tb / Wb) - _xlogy(Wb - Tb, (Wb - Tb) / Wb)
                smg = -_xlogy(Tb, tbar) - _xlogy(Wb - Tb, tbar_c)
            else:
                sr = Qb - Tb * Tb / Wb
                smg = (Wb * tbar - 2.0 * Tb) * tbar + Qb
            _add(&acc[4], st.A[b])
            _add(&acc[6], sr)
            _add(&acc[8], smg)
            _add(&acc[10], st.A[b] - sr)
            _add(&acc[12], smg - sr)
    return tuple([acc[2 * b] + acc[2 * b + 1] for b in (0, 2, 3, 4, 5, 6)])


def corp_keys(const key_t[::1] keys, bint log_score):
    """CORP sums of one event (see ``_finish``) from the sorted keys of :func:`event_keys`:
    0/1 outcomes, unit weights."""
    cdef Py_ssize_t i, n = keys.shape[0], G = 0
    cdef key_t b, prev = 0
    cdef double p = 0.0, W = 0.0, T = 0.0
    cdef _Stack st
    _alloc(&st, n)
    with nogil:
        for i in range(n):
            b = keys[i] >> 1
            if i == 0 or b != prev:
                if i > 0:
                    _push(&st, G, W, T, T, _group_score(p, W, T, T, log_score))
                    G += 1
                p = _key_value(b)
                prev = b
                W = 0.0
                T = 0.0
            W += 1.0
            T += <double>(keys[i] & 1)
        if n > 0:
            _push(&st, G, W, T, T, _group_score(p, W, T, T, log_score))
    try:
        return _finish(&st, log_score)
    finally:
        _release(&st)


def corp_rows(const floating[::1] p, const double[::1] t, const double[::1] w,
              const Py_ssize_t[::1] order, bint log_score):
    """CORP sums of one event (see ``_finish``) from rows visited in ``order`` (ascending
    ``p``): targets in [0, 1], weights (``w`` with 0 entries: unit weights); rows of zero
    weight are left out."""
    cdef Py_ssize_t j, i, n = order.shape[0], G = 0
    cdef bint weighted = w.shape[0] > 0, started = False
    cdef double v, pv = 0.0, wi = 1.0, ti, W = 0.0, T = 0.0, Q = 0.0
    cdef _Stack st
    _alloc(&st, n)
    with nogil:
        for j in range(n):
            i = order[j]
            if weighted:
                wi = w[i]
                if wi == 0:
                    continue
            v = p[i]
            if not started or v != pv:
                if started:
                    _push(&st, G, W, T, Q, _group_score(pv, W, T, Q, log_score))
                    G += 1
                pv = v
                started = True
                W = 0.0
                T = 0.0
                Q = 0.0
            ti = t[i]
            W += wi
            T += wi * ti
            Q += wi * ti * ti
        if started:
            _push(&st, G, W, T, Q, _group_score(pv, W, T, Q, log_score))
    try:
        return _finish(&st, log_score)
    finally:
        _release(&st)
