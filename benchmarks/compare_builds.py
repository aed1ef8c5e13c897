"""Compare the metric speed of two builds of sksoft, side by side in one run.

    git worktree add /tmp/sksoft-old <commit> && (cd /tmp/sksoft-old && \\
        python setup.py build_ext --inplace -q)
    python benchmarks/compare_builds.py --old /tmp/sksoft-old [--new .] [--rounds 4]

Each round runs a timing worker in a fresh process for the old and then the new build (their
folders first on PYTHONPATH), alternating so that a change in the machine's load hits both;
every figure is the best over all rounds. Prints new / old per case: a regression shows as a
ratio above 1 in every round, noise as ratios scattered around 1.

``--suite events`` times the kernels of the binary-event estimators and the row checks instead
(smooth ECE top-label and classwise, CORP score decomposition, calibration_report(extended=True),
classwise ECE; float32 and float64, hard and soft labels), ``--suite all`` both.
``--cpu-time`` times the calling thread's CPU time (time.thread_time) with ``n_threads=1``
everywhere: on a machine shared with other jobs it leaves out the waits for a core.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

WORKER = r"""
import json, sys, time
import numpy as np
from sksoft.metrics import calibration_report, expected_calibration_error

clock = time.thread_time if CPU_TIME else time.perf_counter
T1 = {"n_threads": 1} if CPU_TIME else {}

def best(fn, repeat):
    t_end = time.perf_counter() + 0.05
    while time.perf_counter() < t_end:
        fn()
    out = float("inf")
    for _ in range(repeat):
        t0 = clock(); fn(); out = min(out, clock() - t0)
    return out

rng = np.random.default_rng(0)
res = {}
if "pass" in SUITE:
    PASS_CASES
if "events" in SUITE:
    EVENT_CASES
print(json.dumps(res))
"""

PASS_CASES = r"""
for n in SIZES:
    logits = rng.standard_normal((n, 10), dtype=np.float32) * 3
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits); p /= p.sum(1, keepdims=True); p = p.astype(np.float32)
    y = rng.integers(0, 10, n); g = y % 5
    r = 9 if n < 10**7 else 5
    res[f"ECE {n:.0e}"] = best(lambda: expected_calibration_error(y, p, **T1), r)
    res[f"ECE 1 thread {n:.0e}"] = best(lambda: expected_calibration_error(y, p, n_threads=1), r)
    if n <= 10**6:
        res[f"report {n:.0e}"] = best(lambda: calibration_report(y, p, groups=g, **T1), r)
"""

EVENT_CASES = r"""
from sksoft.metrics import (classwise_calibration_error, score_decomposition,
                            smooth_calibration_error)
for n in SIZES:
    z = rng.standard_normal((n, 10)) * 3
    p64 = np.exp(z - z.max(1, keepdims=True)); p64 /= p64.sum(1, keepdims=True)
    y = rng.integers(0, 10, n)
    soft = rng.dirichlet(np.full(10, 0.5), n)
    r = 7 if n < 10**6 else 3
    for p in (p64.astype(np.float32), p64):
        d = p.dtype.name
        res[f"smooth {d} {n:.0e}"] = best(lambda: smooth_calibration_error(y, p, **T1), r)
        res[f"smooth soft {d} {n:.0e}"] = best(lambda: smooth_calibration_error(soft, p, **T1), r)
        res[f"smooth cw {d} {n:.0e}"] = best(
            lambda: smooth_calibration_error(y, p, mode="classwise", **T1), r)
        res[f"corp {d} {n:.0e}"] = best(lambda: score_decomposition(y, p, **T1), r)
        res[f"corp soft {d} {n:.0e}"] = best(lambda: score_decomposition(soft, p, **T1), r)
        res[f"cw ECE {d} {n:.0e}"] = best(lambda: classwise_calibration_error(y, p, **T1), r)
        res[f"report ext {d} {n:.0e}"] = best(
            lambda: calibration_report(y, p, extended=True, **T1), max(1, r // 2))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="folder of the old build (its repository root)")
    ap.add_argument("--new", default=".", help="folder of the new build (default: .)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e6, 1e7])
    ap.add_argument("--suite", choices=["pass", "events", "all"], default="pass")
    ap.add_argument("--cpu-time", action="store_true",
                    help="thread CPU time and n_threads=1 (for busy shared machines)")
    args = ap.parse_args()
    indent = lambda text: text.strip("\n").replace("\n", "\n    ")  # noqa: E731
    code = (WORKER.replace("PASS_CASES", indent(PASS_CASES))
            .replace("EVENT_CASES", indent(EVENT_CASES))
            .replace("SIZES", repr([int(s) for s in args.sizes]))
            .replace("SUITE", repr(["pass", "events"] if args.suite == "all" else [args.suite]))
            .replace("CPU_TIME", repr(args.cpu_time)))
    best = {"old": {}, "new": {}}
    per_round = []
    for r in range(args.rounds):
        round_res = {}
        for name in ("old", "new"):
            env = dict(os.environ, PYTHONPATH=str(Path(getattr(args, name)).resolve()))
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                 text=True, check=True, cwd="/")
            res = json.loads(out.stdout)
            round_res[name] = res
            for k, v in res.items():
                best[name][k] = min(best[name].get(k, float("inf")), v)
        per_round.append(round_res)
    sys.path.insert(0, str(Path(args.new).resolve()))
    from sksoft._bench import cpu_model

    clock = "thread CPU time, 1 thread" if args.cpu_time else "wall time"
    print(f"{cpu_model()}; load average {os.getloadavg()[0]:.2f}; best of {args.rounds} "
          f"rounds; {clock}")
    print(f"{'case':<26} {'old ms':>10} {'new ms':>10} {'new/old':>8}   per round")
    for k in best["old"]:
        o, n = best["old"][k], best["new"][k]
        rounds = " ".join(f"{rr['new'][k] / rr['old'][k]:.2f}" for rr in per_round)
        print(f"{k:<26} {o * 1e3:>10.3f} {n * 1e3:>10.3f} {n / o:>8.2f}   {rounds}")


if __name__ == "__main__":
    main()
