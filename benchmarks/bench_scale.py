"""Scale-out benchmark: out-of-core calibration report on a memmap, and grid search backends.

1. A ``--rows`` x 10 float32 probability matrix (default 1e8 rows: 4 GB) is written to a file
   and opened as a numpy memmap. Each measurement runs in a fresh subprocess so that its peak
   resident memory (ru_maxrss) is its own: the read-once floor (read the file in chunks and sum
   every value), and sksoft's full calibration report from the memmap (chunked, mergeable
   statistics). Both read the file from the page cache (warm), after one untimed read.
2. A grid search of 24 fits (4 label sources x 2 values of C x 3 folds) on the built-in digits:
   sequential, joblib/loky with 2 processes, and a Dask LocalCluster with 2 worker processes.

    python benchmarks/bench_scale.py --rows 100000000
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

K = 10


def _write(path, rows, chunk=1 << 20):
    rng = np.random.default_rng(0)
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, K))
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        logits = rng.standard_normal((n, K), dtype=np.float32) * 3
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        mm[start:start + n] = p
    mm.flush()
    del mm
    labels = rng.integers(0, K, rows).astype(np.int64)
    np.save(str(path) + ".labels.npy", labels)


def _peak_rss():
    """High-water resident memory of this process image, in bytes.

    VmHWM belongs to the memory map created at exec, unlike ru_maxrss, which Linux carries
    over from the forking parent (whose 4 GB write would then count here)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(mode, path, rows):
    from sksoft.metrics import _chunked, _kernels, calibration_report

    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, K))
    y = np.load(str(path) + ".labels.npy", mmap_mode="r")
    t0 = time.perf_counter()
    if mode == "floor":
        total = 0.0
        for chunk in _chunked.iter_chunks(mm):
            total += _kernels.read_floor(chunk, 2)
        result = total
    else:
        rep = calibration_report(y, mm)
        result = rep["ece"]
    seconds = time.perf_counter() - t0
    peak = _peak_rss()
    print(json.dumps({"seconds": seconds, "peak_rss": peak, "result": float(result)}))


def _measure(mode, path, rows):
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--path", str(path),
                          "--rows", str(rows)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def grid_search_backends(model="logreg"):
    import joblib
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from sksoft.datasets import make_ambiguous_digits
    from sksoft.label_sources import GoldLabels, HumanMajority, HumanSoftLabels, LabelSmoothing
    from sksoft.linear_model import SoftLogisticRegression
    from sksoft.metrics import get_scorer

    d = make_ambiguous_digits(random_state=0)
    grid = {"label_source": [GoldLabels(), HumanSoftLabels(), HumanMajority(), LabelSmoothing()],
            "C": [0.05, 0.5]}

    if model == "mlp":
        from sksoft.neural_network import SoftNeuralNetClassifier

        base = SoftNeuralNetClassifier(max_epochs=8, random_state=0, train_split=None,
                                       module__hidden_units=(128,))
        grid = {"label_source": grid["label_source"], "lr": [0.01, 0.002]}
        X = d.X.astype(np.float32)
    else:
        base = SoftLogisticRegression(max_iter=300)
        X = d.X

    def search(n_jobs):
        gs = GridSearchCV(base, grid, n_jobs=n_jobs,
                          scoring=get_scorer("neg_log_loss"),
                          cv=StratifiedKFold(3, shuffle=True, random_state=0))
        t0 = time.perf_counter()
        gs.fit(X, d.y_gold, soft_labels=d.soft_labels)
        return time.perf_counter() - t0, gs.cv_results_["mean_test_score"]

    from threadpoolctl import threadpool_limits

    times = {}
    times["sequential"], ref = search(None)
    with threadpool_limits(1):
        times["sequential, BLAS 1 thread"], _ = search(None)
    with joblib.parallel_config(backend="loky"):
        times["loky, 2 processes"], a = search(2)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        with joblib.parallel_config(backend="dask"):
            search(-1)  # warm the workers (imports)
            times["dask LocalCluster, 2 workers"], b = search(-1)
    if model == "logreg":  # torch's float reductions may differ in the last bit across threads
        assert np.array_equal(a, ref) and np.array_equal(b, ref), "backends disagree"
    else:
        assert np.allclose(a, ref, rtol=1e-4) and np.allclose(b, ref, rtol=1e-4), "backends disagree"
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--child", default=None)
    ap.add_argument("--path", default=None)
    ap.add_argument("--dir", default=None, help="folder for the data file (default: temp)")
    ap.add_argument("--grid-only", action="store_true", help="skip the memmap part")
    ap.add_argument("--memmap-only", action="store_true", help="skip the grid searches")
    ap.add_argument("--out", default="benchmarks/results/bench_scale.json")
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.path, args.rows)
        return
    result = {}
    if not args.grid_only:
        result = memmap_report(args)
    times = {}
    models = (("logreg", "SoftLogisticRegression, 4 sources x 2 C"),
              ("mlp", "SoftNeuralNetClassifier (8 epochs), 4 sources x 2 lr"))
    for model, what in () if args.memmap_only else models:
        times[model] = grid_search_backends(model)
        print(f"\ngrid search, 24 fits ({what} x 3 folds) on digits:")
        for name, t in times[model].items():
            print(f"  {name:<32}{t:>7.2f} s  ({times[model]['sequential'] / t:.2f}x)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**result, "grid_search_seconds": times}, indent=1))


def memmap_report(args):
    folder = Path(args.dir or tempfile.mkdtemp(prefix="sksoft_scale_"))
    path = folder / "probs.f32"
    t0 = time.perf_counter()
    _write(path, args.rows)
    size = path.stat().st_size
    print(f"wrote {size / 1e9:.2f} GB ({args.rows:.0e} x {K} float32) in "
          f"{time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.2f}")
    try:
        _measure("floor", path, args.rows)  # warm the page cache
        floor = _measure("floor", path, args.rows)
        report = _measure("report", path, args.rows)
    finally:
        path.unlink()
        Path(str(path) + ".labels.npy").unlink()
    print(f"{'':<28}{'seconds':>9}{'GB/s':>7}{'x floor':>9}{'peak RSS':>10}")
    for name, r in (("read-once floor", floor), ("sksoft calibration_report", report)):
        print(f"{name:<28}{r['seconds']:>9.2f}{size / r['seconds'] / 1e9:>7.2f}"
              f"{r['seconds'] / floor['seconds']:>9.2f}{r['peak_rss'] / 2**20:>8.0f} MB")
    return {"rows": args.rows, "bytes": size, "floor": floor, "report": report}


if __name__ == "__main__":
    main()
