"""``sksoft bench``: the speed of every calibration metric, side by side with its peers.

Times sksoft's metrics and every installed peer (torchmetrics, netcal, relplot,
model-diagnostics, uncertainty-calibration, plain numpy) on the same arrays, in one run, with
two floors: the *read-once floor* (a compiled pass that reads every value once and sums it as a
double, same threads) and the *memory floor* (the same bytes summed as 64-bit integers). Every
time is the best of ``repeat`` runs after a short warm-up, printed in milliseconds and as a
ratio to the read-once floor, with the CPU model, the vector code path in use and the thread
count. Missing peers are skipped with a note.
"""

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

__all__ = ["run", "METHODS", "PEERS", "cpu_model"]


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo where it exists)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def best_time(fn, repeat, warmup=0.05):
    """Best of ``repeat`` timed runs, after running ``fn`` for ``warmup`` seconds (so that a
    core that idled between methods is back at speed: this matters on shared machines)."""
    t_end = time.perf_counter() + warmup
    while True:
        fn()
        if time.perf_counter() >= t_end:
            break
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def make_data(n, K, dtype, seed=0):
    """Softmax probabilities of scaled Gaussian logits, and uniform labels."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, K), dtype=np.float32) * 3
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return rng.integers(0, K, n), p.astype(dtype)


def _numpy_ece(y, p, n_bins=15):
    conf = p.max(axis=1)
    acc = (p.argmax(axis=1) == y).astype(np.float64)
    b = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1), conf, side="right") - 1, 0,
                n_bins - 1)
    sc = np.bincount(b, weights=conf, minlength=n_bins)
    sa = np.bincount(b, weights=acc, minlength=n_bins)
    return float(np.sum(np.abs(sa - sc)) / len(y))


def _sksoft_methods():
    from . import metrics as M

    def report_avx2(y, p, g):
        from .metrics import _kernels

        level = _kernels.vec_level()
        _kernels.set_vec_level(1)
        try:
            return M.calibration_report(y, p, groups=g)
        finally:
            _kernels.set_vec_level(level)

    methods = {
        "ece": ("sksoft ECE", lambda y, p, g: M.expected_calibration_error(y, p)),
        "ece1": ("sksoft ECE (1 thread)",
                 lambda y, p, g: M.expected_calibration_error(y, p, n_threads=1)),
        "adaptive": ("sksoft equal-mass ECE",
                     lambda y, p, g: M.expected_calibration_error(y, p, strategy="quantile")),
        "debiased": ("sksoft debiased ECE", lambda y, p, g: M.expected_calibration_error(
            y, p, norm="l2", debias=True)),
        "report": ("sksoft full report", lambda y, p, g: M.calibration_report(y, p, groups=g)),
        "report-avx2": ("sksoft full report (AVX2)", report_avx2),
        "ece-b1000": ("sksoft ECE, B=1000 intervals", lambda y, p, g: M.expected_calibration_error(
            y, p, n_bootstrap=1000, random_state=0)),
        "report-b200": ("sksoft full report, B=200 intervals",
                        lambda y, p, g: M.calibration_report(y, p, groups=g, n_bootstrap=200,
                                                             random_state=0)),
    }
    if hasattr(M, "smooth_calibration_error"):
        methods["smooth"] = ("sksoft smooth ECE",
                             lambda y, p, g: M.smooth_calibration_error(y, p))
    if hasattr(M, "score_decomposition"):
        methods["decomposition"] = ("sksoft Brier decomposition",
                                    lambda y, p, g: M.score_decomposition(y, p))
    return methods


def _peer_methods():
    """name -> (label, factory): the factory returns a function (y, p, g) or raises ImportError."""

    def torchmetrics():
        import torch
        from torchmetrics.functional.classification import multiclass_calibration_error

        def run(y, p, g):
            return multiclass_calibration_error(torch.from_numpy(p), torch.from_numpy(y),
                                                num_classes=p.shape[1], n_bins=15,
                                                validate_args=False)
        return run

    def netcal():
        from netcal.metrics import ECE

        return lambda y, p, g: ECE(bins=15).measure(p, y)

    def relplot():
        import relplot as rp

        def run(y, p, g):
            conf = p.max(axis=1).astype(np.float64)
            return rp.smECE(conf, (p.argmax(axis=1) == y).astype(np.float64))
        return run

    def model_diagnostics():
        import polars as pl
        from model_diagnostics.scoring import SquaredError, decompose

        def run(y, p, g):
            conf = p.max(axis=1).astype(np.float64)
            correct = (p.argmax(axis=1) == y).astype(np.float64)
            return decompose(y_obs=correct, y_pred=pl.Series(conf), scoring_function=SquaredError())
        return run

    def uncertainty_calibration():
        import calibration as cal

        def run(y, p, g):
            return cal.get_calibration_error(p.astype(np.float64), y, p=2, debias=True)
        return run

    return {
        "numpy": ("numpy ECE", lambda: _numpy_ece_run),
        "torchmetrics": ("torchmetrics ECE", torchmetrics),
        "netcal": ("netcal ECE", netcal),
        "relplot": ("relplot smooth ECE", relplot),
        "model-diagnostics": ("model-diagnostics decomposition", model_diagnostics),
        "uncertainty-calibration": ("uncertainty-calibration debiased ECE",
                                    uncertainty_calibration),
    }


def _numpy_ece_run(y, p, g):
    return _numpy_ece(y, p)


METHODS = tuple(["ece", "ece1", "adaptive", "debiased", "report", "report-avx2", "ece-b1000",
                 "report-b200", "smooth", "decomposition"])
PEERS = ("numpy", "torchmetrics", "netcal", "relplot", "model-diagnostics",
         "uncertainty-calibration")
# peers that are too slow to time beyond this many values (n * K)
_PEER_LIMIT = {"numpy": 10**7, "netcal": 10**7, "relplot": 10**7, "model-diagnostics": 10**7,
               "uncertainty-calibration": 10**6, "torchmetrics": 10**9}


def run(sizes=(10**4, 10**6), classes=(10,), dtypes=("float32",), metrics=None, peers=True,
        repeat=5, json_path=None, out=print):
    """Time every metric and installed peer; print a table and return its rows.

    Parameters
    ----------
    sizes, classes : sequences of int
        Rows and classes of the cases (every combination).
    dtypes : sequence of {"float32", "float64"}
    metrics : sequence of str, optional
        Keys of :data:`METHODS` (default: all that exist in this version).
    peers : bool or sequence of str
        Time the installed peers (:data:`PEERS`), all or the named ones.
    repeat : int
        Best of this many runs per method.
    json_path : str, optional
        Also save the rows as JSON.
    """
    from . import metrics as M
    from .metrics import _kernels

    sk = _sksoft_methods()
    chosen = [m for m in (metrics or METHODS) if m in sk]
    unknown = [m for m in (metrics or ()) if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {list(METHODS)}.")
    if _kernels.vec_level_available() < 2 and "report-avx2" in chosen:
        chosen.remove("report-avx2")  # (the report is already on the AVX2 path)
    peer_names = PEERS if peers is True else (() if not peers else tuple(peers))
    bad = [p for p in peer_names if p not in PEERS]
    if bad:
        raise ValueError(f"unknown peers {bad}; choose from {list(PEERS)}.")
    available, notes = {}, []
    for name, (label, factory) in _peer_methods().items():
        if name not in peer_names:
            continue
        try:
            available[name] = (label, factory())
        except ImportError as exc:
            notes.append(f"{name}: not installed ({exc.name or exc}), skipped")
    threads = _kernels.max_threads()
    level = ("baseline", "AVX2+FMA", "AVX2+FMA and AVX-512")[_kernels.vec_level()]
    out(f"sksoft bench on {cpu_model()} ({os.cpu_count()} CPUs): OpenMP "
        f"{'on' if M.openmp_enabled() else 'off'}, {threads} threads, vector path {level}, "
        f"load average {os.getloadavg()[0]:.2f}")
    for note in notes:
        out(f"  note: {note}")
    header = f"{'n':>9} {'K':>5} {'dtype':>7}  {'method':<40} {'ms':>10} {'x floor':>8}"
    out(header)
    out("-" * len(header))
    rows = []
    for n in sizes:
        for K in classes:
            for dtype in dtypes:
                rows += _case(int(n), int(K), np.dtype(dtype), chosen, sk, available, repeat,
                              threads, out)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(
            {"cpu": cpu_model(), "threads": threads, "vector_path": level,
             "load_average": os.getloadavg(), "rows": rows}, indent=1))
        out(f"saved {json_path}")
    return rows


def _case(n, K, dtype, chosen, sk, peers, repeat, threads, out):
    from .metrics import _kernels

    y, p = make_data(n, K, dtype)
    g = np.random.default_rng(1).integers(0, 5, n)
    rep = repeat if n < 10**7 else max(2, repeat // 2)
    ft = threads if n * K >= 10**6 else 1
    timings = {"read-once floor": best_time(lambda: _kernels.read_floor(p, ft), rep),
               "memory floor": best_time(lambda: _kernels.read_floor(p, ft, True), rep)}
    for key in chosen:
        label, fn = sk[key]
        slow = key in ("ece-b1000", "report-b200", "smooth", "decomposition")
        timings[label] = best_time(lambda: fn(y, p, g), max(1, rep // 2) if slow else rep)
    for name, (label, fn) in peers.items():
        if n * K <= _PEER_LIMIT[name]:
            timings[label] = best_time(lambda: fn(y, p, g), max(1, rep // 2))
    # the floors again after the methods: the better of the two (noise only slows)
    timings["read-once floor"] = min(timings["read-once floor"],
                                     best_time(lambda: _kernels.read_floor(p, ft), rep))
    timings["memory floor"] = min(timings["memory floor"],
                                  best_time(lambda: _kernels.read_floor(p, ft, True), rep))
    floor = timings["read-once floor"]
    rows = []
    for label, t in timings.items():
        out(f"{n:>9.0e} {K:>5} {dtype.name:>7}  {label:<40} {t * 1e3:>10.3f} {t / floor:>8.1f}")
        rows.append({"n": n, "K": K, "dtype": dtype.name, "method": label, "seconds": t,
                     "ratio_to_floor": t / floor})
    return rows


def markdown(rows, dtype="float32", methods=None):
    """A compact table: ms and (ratio to the floor) per method, one row per (n, K)."""
    methods = methods or list(dict.fromkeys(r["method"] for r in rows if r["dtype"] == dtype))
    cases = list(dict.fromkeys((r["n"], r["K"]) for r in rows if r["dtype"] == dtype))
    lines = ["| n × K (" + dtype + ") | " + " | ".join(methods) + " |",
             "|---|" + "---|" * len(methods)]
    for n, K in cases:
        cells = []
        for m in methods:
            hit = [r for r in rows if (r["n"], r["K"], r["dtype"], r["method"]) == (n, K, dtype, m)]
            if not hit:
                cells.append("–")
            elif m == "read-once floor":
                cells.append(f"{hit[0]['seconds'] * 1e3:.3g} ms")
            else:
                cells.append(f"{hit[0]['seconds'] * 1e3:.3g} ms ({hit[0]['ratio_to_floor']:.1f}×)")
        lines.append(f"| {n:.0e} × {K} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
