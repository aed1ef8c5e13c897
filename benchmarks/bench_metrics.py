"""Calibration-metric speed: sksoft vs torchmetrics, netcal and numpy, as ratios to the floor.

The *read-once floor* is a compiled pass that only reads the same values (summed as doubles
with independent accumulators, same threads): the floor the speed goals were set against. For
float32 it is bound by the float-to-double conversions rather than by memory, so the *memory
floor* (the same bytes summed as 64-bit integers) is listed beside it, as a ratio to the
read-once floor. Every time is the best of ``--repeat`` runs, all measured in this
one run, and printed as milliseconds and as a ratio to the floor. Results are saved as JSON.

    python benchmarks/bench_metrics.py            # full table (n up to 1e7; a few minutes)
    python benchmarks/bench_metrics.py --quick    # n up to 1e6
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from sksoft import metrics as M
from sksoft.metrics import _kernels


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


def numpy_ece(y, p, n_bins=15):
    conf = p.max(axis=1)
    acc = (p.argmax(axis=1) == y).astype(np.float64)
    b = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1), conf, side="right") - 1, 0, n_bins - 1)
    cnt = np.bincount(b, minlength=n_bins)
    sc = np.bincount(b, weights=conf, minlength=n_bins)
    sa = np.bincount(b, weights=acc, minlength=n_bins)
    ne = cnt > 0
    return float(np.sum(np.abs(sa[ne] - sc[ne]) / len(y)))


def make_data(n, K, dtype, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, K), dtype=np.float32) * 3
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    p = p.astype(dtype)
    y = rng.integers(0, K, n)
    return y, p


def markdown(rows, dtype="float32"):
    """Compact README table: ms and (ratio to the floor) per method, one row per (n, K)."""
    methods = ["read-once floor", "memory floor", "sksoft ECE", "sksoft ECE (1 thread)", "sksoft equal-mass ECE",
               "sksoft full report", "sksoft full report (AVX2)", "torchmetrics ECE", "netcal ECE",
               "numpy ECE"]
    cases = []
    for r in rows:
        if r["dtype"] == dtype and (r["n"], r["K"]) not in cases:
            cases.append((r["n"], r["K"]))
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", default=None, help="print the README table of a saved JSON")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-peers", action="store_true", help="skip torchmetrics and netcal")
    ap.add_argument("--out", default="benchmarks/results/bench_metrics.json")
    args = ap.parse_args()
    if args.markdown:
        for dtype in ("float32", "float64"):
            print(markdown(json.loads(Path(args.markdown).read_text())["rows"], dtype) + "\n")
        return

    threads = _kernels.max_threads()
    cases = [(10**4, 10), (10**5, 10), (10**6, 10), (10**5, 100), (10**5, 1000)]
    if not args.quick:
        cases.append((10**7, 10))
    rows = []
    try:
        import torch
        from torchmetrics.functional.classification import multiclass_calibration_error

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover
        torch = None
    try:
        from netcal.metrics import ECE as NetcalECE
    except ImportError:  # pragma: no cover
        NetcalECE = None

    print(f"sksoft benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, OpenMP={M.openmp_enabled()} threads={threads}, "
          f"vector path={('baseline', 'AVX2+FMA', 'AVX2+FMA and AVX-512')[_kernels.set_vec_level(-1)]}, "
          f"load average {os.getloadavg()[0]:.2f}")
    header = f"{'n':>9} {'K':>5} {'dtype':>7} {'method':<26} {'ms':>10} {'x floor':>8}"
    print(header)
    print("-" * len(header))
    for n, K in cases:
        for dtype in (np.float32, np.float64):
            y, p = make_data(n, K, dtype)
            groups = np.random.default_rng(1).integers(0, 5, n)
            rep = args.repeat if n < 10**7 else max(2, args.repeat // 2)
            fthreads = threads if n * K >= 10**6 else 1
            floor = best_time(lambda: _kernels.read_floor(p, fthreads), rep)
            timings = {
                "read-once floor": floor,
                "memory floor": best_time(lambda: _kernels.read_floor(p, fthreads, True), rep),
                "sksoft ECE": best_time(lambda: M.expected_calibration_error(y, p), rep),
                "sksoft ECE (1 thread)": best_time(
                    lambda: M.expected_calibration_error(y, p, n_threads=1), rep),
                "sksoft equal-mass ECE": best_time(
                    lambda: M.expected_calibration_error(y, p, strategy="quantile"), rep),
                "sksoft full report": best_time(
                    lambda: M.calibration_report(y, p, groups=groups), rep),
            }
            if _kernels.vec_level_available() >= 2:
                # the same report on the AVX2 code path, for CPUs without AVX-512
                _kernels.set_vec_level(1)
                timings["sksoft full report (AVX2)"] = best_time(
                    lambda: M.calibration_report(y, p, groups=groups), rep)
                _kernels.set_vec_level(-1)
            if n <= 10**6:
                timings["numpy ECE"] = best_time(lambda: numpy_ece(y, p), rep)
            if torch is not None and not args.no_peers:
                tp, ty = torch.from_numpy(p), torch.from_numpy(y)
                timings["torchmetrics ECE"] = best_time(
                    lambda: multiclass_calibration_error(tp, ty, num_classes=K, n_bins=15,
                                                         validate_args=False), max(1, rep // 2))
            if NetcalECE is not None and not args.no_peers and n <= 10**6 and K <= 100:
                timings["netcal ECE"] = best_time(
                    lambda: NetcalECE(bins=15).measure(p, y), max(1, rep // 2))
            # the floor again after the methods: the better of the two (noise only slows)
            floor = min(floor, best_time(lambda: _kernels.read_floor(p, fthreads), rep))
            timings["read-once floor"] = floor
            timings["memory floor"] = min(timings["memory floor"], best_time(
                lambda: _kernels.read_floor(p, fthreads, True), rep))
            for name, t in timings.items():
                ratio = t / floor
                print(f"{n:>9.0e} {K:>5} {np.dtype(dtype).name:>7} {name:<26} {t * 1e3:>10.3f} {ratio:>8.1f}")
                rows.append({"n": n, "K": K, "dtype": np.dtype(dtype).name, "method": name,
                             "seconds": t, "ratio_to_floor": ratio})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"load_average": os.getloadavg(), "threads": threads,
                               "vec_level": _kernels.set_vec_level(-1),
                               "openmp": M.openmp_enabled(), "rows": rows}, indent=1))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
