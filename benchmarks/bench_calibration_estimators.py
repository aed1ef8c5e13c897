"""Speed of sksoft's smooth ECE and CORP score decomposition against their reference libraries.

Side by side, in one run, on the same arrays:

* ``sksoft.metrics.smooth_calibration_error`` vs ``relplot.smECE`` (top-label: relplot's own
  ``multiclass_logits_to_confidences`` then ``smECE``, both timed);
* ``sksoft.metrics.score_decomposition`` (Brier and log) vs
  ``model_diagnostics.scoring.decompose`` with ``SquaredError()`` / ``LogLoss()`` (top-label:
  numpy confidences and correctness, then ``decompose``, both timed);
* one ``sksoft.metrics.expected_calibration_error`` call (15 bins) as the yardstick of the
  issue's "smooth ECE within 10x of one ECE call".

Binary problems (1-D positive-class probabilities) and top-label problems with K = 10 classes,
float64 and float32 predictions, 1e4 to 1e6 rows; hard labels drawn from a mildly distorted
version of the predictions. Every time is the best of ``--repeat`` runs (the peers at 1e6 rows:
of ``max(1, repeat // 3)``); ratios are peer time / sksoft time. The value columns show the
absolute difference of the results. sksoft runs with its default threads (one below 1e6
probability values, all cores above: the pass over the rows is split; sorting and the
fixed-point search run on one thread) and, in the "1 thread" column, with ``n_threads=1``;
the peers are single-threaded numpy. model-diagnostics gets float32 input as it is and
computes in float32 then, hence its larger differences there.

    python benchmarks/bench_calibration_estimators.py            # 1e4, 1e5, 1e6 rows
    python benchmarks/bench_calibration_estimators.py --quick    # 1e4, 1e5
    python benchmarks/bench_calibration_estimators.py --json out.json
    python benchmarks/bench_calibration_estimators.py --cpu-time   # busy shared machines

``--cpu-time`` times the calling thread's CPU time instead of wall time (time.thread_time):
on a machine shared with other jobs it leaves out the time the process waits for a core, so
the single-thread columns are steadier; the threaded sksoft column is then meaningless (its
other threads are not counted) and is not printed.
"""

import argparse
import json
import os
import time

import numpy as np

from sksoft._bench import cpu_model
from sksoft.metrics import (
    expected_calibration_error,
    score_decomposition,
    smooth_calibration_error,
)

CLOCK = time.perf_counter


def best_time(fn, repeat, warmup=0.05):
    """Best of ``repeat`` runs after ``warmup`` seconds of running ``fn`` (a core that idled
    between methods is back at speed first: this matters on shared machines)."""
    t_end = time.perf_counter() + warmup
    out = fn()
    while time.perf_counter() < t_end:
        out = fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = CLOCK()
        fn()
        best = min(best, CLOCK() - t0)
    return best, out


def make_problem(n, K, dtype, seed=0):
    """Predictions (softmax of Gaussian logits) and labels drawn from their 1.3-th power:
    mildly over-confident, as trained networks are."""
    rng = np.random.default_rng(seed)
    if K is None:
        p = rng.beta(2, 2, size=n)
        y = (rng.uniform(size=n) < p ** 1.3).astype(np.int64)
        return y, p.astype(dtype)
    logits = rng.standard_normal((n, K)) * 2.0
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Q = P ** 1.3
    Q /= Q.sum(axis=1, keepdims=True)
    y = (Q.cumsum(axis=1) < rng.uniform(size=(n, 1))).sum(axis=1).clip(0, K - 1)
    return y, P.astype(dtype)


def top_label_numpy(y, P):
    a = P.argmax(axis=1)
    return P[np.arange(P.shape[0]), a].astype(np.float64), (a == y).astype(np.float64)


def peers():
    found = {}
    try:
        import relplot

        found["relplot"] = relplot
    except ImportError:
        print("note: relplot is not installed; its columns are skipped")
    try:
        from model_diagnostics import scoring

        found["model_diagnostics"] = scoring
    except ImportError:
        print("note: model-diagnostics is not installed; its columns are skipped")
    return found


def run(sizes, repeat):
    found = peers()
    rows = []
    for n in sizes:
        peer_repeat = max(1, repeat // 3) if n >= 10**6 else repeat
        for K in (None, 10):
            for dtype in (np.float64, np.float32):
                y, p = make_problem(n, K, dtype)
                case = dict(n=n, mode="binary" if K is None else f"top-label K={K}",
                            dtype=np.dtype(dtype).name)
                t_ece, _ = best_time(lambda: expected_calibration_error(
                    y, p, n_threads=1 if CLOCK is time.thread_time else None), repeat)
                t_1, v_sm = best_time(lambda: smooth_calibration_error(y, p, n_threads=1), repeat)
                t_sm = t_1 if CLOCK is time.thread_time else best_time(
                    lambda: smooth_calibration_error(y, p), repeat)[0]
                row = dict(case, metric="smooth ECE", sksoft_ms=1e3 * t_sm,
                           sksoft_1thread_ms=1e3 * t_1, ece_ms=1e3 * t_ece)
                if "relplot" in found:
                    relplot = found["relplot"]
                    if K is None:
                        yf = y.astype(np.float64)

                        def peer():
                            return relplot.smECE(p, yf)
                    else:
                        def peer():
                            conf, correct = relplot.multiclass_logits_to_confidences(
                                p, y, probs=True)
                            return relplot.smECE(conf, correct)
                    t_peer, v_peer = best_time(peer, peer_repeat, warmup=0.0)
                    row.update(peer="relplot.smECE", peer_ms=1e3 * t_peer,
                               ratio=t_peer / t_sm, ratio_1thread=t_peer / t_1,
                               diff=abs(v_sm - v_peer))
                rows.append(row)
                for score in ("brier", "log"):
                    t_1, d = best_time(
                        lambda: score_decomposition(y, p, score=score, n_threads=1), repeat)
                    t_cd = t_1 if CLOCK is time.thread_time else best_time(
                        lambda: score_decomposition(y, p, score=score), repeat)[0]
                    row = dict(case, metric=f"CORP {score}", sksoft_ms=1e3 * t_cd,
                               sksoft_1thread_ms=1e3 * t_1, ece_ms=1e3 * t_ece)
                    if "model_diagnostics" in found:
                        md = found["model_diagnostics"]
                        fn = md.SquaredError() if score == "brier" else md.LogLoss()
                        if K is None:
                            yf = y.astype(np.float64)

                            def peer():
                                return md.decompose(yf, p, scoring_function=fn)
                        else:
                            def peer():
                                conf, correct = top_label_numpy(y, p)
                                return md.decompose(correct, conf, scoring_function=fn)
                        t_peer, ref = best_time(peer, peer_repeat, warmup=0.0)
                        ref = ref.row(0, named=True)
                        diff = max(abs(d.mcb - ref["miscalibration"]),
                                   abs(d.dsc - ref["discrimination"]),
                                   abs(d.unc - ref["uncertainty"]),
                                   abs(d.score - ref["score"]))
                        row.update(peer="model_diagnostics.decompose", peer_ms=1e3 * t_peer,
                                   ratio=t_peer / t_cd, ratio_1thread=t_peer / t_1, diff=diff)
                    rows.append(row)
                for r in rows[-3:]:
                    print_row(r)
    return rows


HEADER = (f"{'n':>9} {'mode':<16} {'dtype':<8} {'metric':<11} {'sksoft ms':>10} "
          f"{'1 thread':>9} {'peer ms':>9} {'peer/sksoft':>12} {'(1 thread)':>11} {'|diff|':>8} "
          f"{'sksoft/ECE':>11}")


def print_row(r):
    peer = (f"{r['peer_ms']:9.1f} {r['ratio']:11.1f}x {r['ratio_1thread']:10.1f}x "
            f"{r['diff']:8.1e}") if "peer_ms" in r else f"{'-':>9} {'-':>12} {'-':>11} {'-':>8}"
    print(f"{r['n']:>9} {r['mode']:<16} {r['dtype']:<8} {r['metric']:<11} "
          f"{r['sksoft_ms']:10.2f} {r['sksoft_1thread_ms']:9.2f} {peer} "
          f"{r['sksoft_ms'] / r['ece_ms']:10.1f}x")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1e4 and 1e5 only")
    ap.add_argument("--sizes", type=float, nargs="+", help="row counts (default 1e4 1e5 1e6)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per method (best kept)")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time the calling thread's CPU time (single-threaded comparison)")
    args = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.thread_time if args.cpu_time else time.perf_counter
    sizes = [int(s) for s in (args.sizes or ([1e4, 1e5] if args.quick else [1e4, 1e5, 1e6]))]
    from sksoft.metrics import _kernels

    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores, OpenMP threads: "
          f"{_kernels.max_threads()}); numpy {np.__version__}; clock: "
          f"{'CPU time of the calling thread, sksoft on 1 thread' if args.cpu_time else 'wall'}")
    print("peer/sksoft: how many times faster sksoft is; sksoft/ECE: its time in calls of "
          "sksoft's 15-bin ECE on the same input")
    print(HEADER)
    rows = run(sizes, args.repeat)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dict(cpu=cpu_model(), rows=rows), fh, indent=1)
    return rows


if __name__ == "__main__":
    main()
