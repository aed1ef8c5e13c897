"""Compare the metric speed of two builds of sksoft, side by side in one run.

    git worktree add /tmp/sksoft-old <commit> && (cd /tmp/sksoft-old && \\
        python setup.py build_ext --inplace -q)
    python benchmarks/compare_builds.py --old /tmp/sksoft-old [--new .] [--rounds 4]

Each round runs a timing worker in a fresh process for the old and then the new build (their
folders first on PYTHONPATH), alternating so that a change in the machine's load hits both;
every figure is the best over all rounds. Prints new / old per case: a regression shows as a
ratio above 1 in every round, noise as ratios scattered around 1.
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

def best(fn, repeat):
    t_end = time.perf_counter() + 0.05
    while time.perf_counter() < t_end:
        fn()
    out = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); out = min(out, time.perf_counter() - t0)
    return out

rng = np.random.default_rng(0)
res = {}
for n in SIZES:
    logits = rng.standard_normal((n, 10), dtype=np.float32) * 3
    logits -= logits.max(1, keepdims=True)
    p = np.exp(logits); p /= p.sum(1, keepdims=True); p = p.astype(np.float32)
    y = rng.integers(0, 10, n); g = y % 5
    r = 9 if n < 10**7 else 5
    res[f"ECE {n:.0e}"] = best(lambda: expected_calibration_error(y, p), r)
    res[f"ECE 1 thread {n:.0e}"] = best(lambda: expected_calibration_error(y, p, n_threads=1), r)
    if n <= 10**6:
        res[f"report {n:.0e}"] = best(lambda: calibration_report(y, p, groups=g), r)
print(json.dumps(res))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="folder of the old build (its repository root)")
    ap.add_argument("--new", default=".", help="folder of the new build (default: .)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e6, 1e7])
    args = ap.parse_args()
    code = WORKER.replace("SIZES", repr([int(s) for s in args.sizes]))
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
    print(f"load average {os.getloadavg()[0]:.2f}; best of {args.rounds} rounds")
    print(f"{'case':<22} {'old ms':>10} {'new ms':>10} {'new/old':>8}   per round")
    for k in best["old"]:
        o, n = best["old"][k], best["new"][k]
        rounds = " ".join(f"{rr['new'][k] / rr['old'][k]:.2f}" for rr in per_round)
        print(f"{k:<22} {o * 1e3:>10.3f} {n * 1e3:>10.3f} {n / o:>8.2f}   {rounds}")


if __name__ == "__main__":
    main()
