"""`sksoft study --quick` alone and beside one CPU-bound neighbour process, in one run.

For each configuration the study command runs twice: alone ("quiet"), then with a busy Python
loop running beside it (one process, not pinned to a core). Reported per run: wall time and
user CPU time of the study and every process it started (``resource.getrusage`` of the
reaped children), and the ratios busy / quiet. A study whose threads spin while they wait for
each other burns far more CPU when it shares the cores; one that runs one thread per fit and
fits side by side should take about 1.5x the wall time on 2 cores (the neighbour takes its
share) and the same CPU time.

Configurations:

* ``new``: this tree's ``sksoft study --quick`` (both training regimes, one thread per fit,
  one fit per core);
* ``new-regularised``: this tree's ``sksoft study --quick --regime regularised`` -- the same
  fits as the old quick run (regularised MLP, 12 epochs, 7 sources x 2 seeds x 3 folds), so
  its quiet time compares with ``old``'s;
* ``old``: ``sksoft study --quick`` of the code at ``--baseline`` (default: the commit before
  the thread budgets), exported with ``git archive`` into a temporary folder and built there
  (the build is not timed).

    python benchmarks/bench_contention.py                       # all three
    python benchmarks/bench_contention.py --configs new old     # a subset
    python benchmarks/bench_contention.py --json out.json
"""

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sksoft._bench import cpu_model

ROOT = Path(__file__).resolve().parents[1]
#: the last commit before the regimes, held-out dynamics and thread budgets (issue 16)
BASELINE = "67dd0ed"

NEIGHBOUR = "import time\nx = 0\nwhile True:\n    x += 1\n"



def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def export_baseline(ref, folder):
    """The tree at ``ref``, built in place, in ``folder``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"], cwd=folder,
                   check=True, capture_output=True)


def timed(cmd, cwd, busy):
    """Run ``cmd``; return wall seconds, user and system CPU seconds of it and its children,
    and the 1-minute load average before and after."""
    neighbour = None
    if busy:
        neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR])
        time.sleep(1.0)  # let it get going
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # before the neighbour is reaped
    load_after = os.getloadavg()[0]
    if neighbour is not None:
        neighbour.kill()
        neighbour.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return {"wall": wall, "user": after.ru_utime - before.ru_utime,
            "sys": after.ru_stime - before.ru_stime, "load_before": load_before,
            "load_after": load_after}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", default=["new", "new-regularised", "old"],
                        choices=["new", "new-regularised", "old"])
    parser.add_argument("--baseline", default=BASELINE, help="git ref of the old code")
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="sksoft_contention_"))
    runs = {}
    try:
        commands = {}
        for name in args.configs:
            out = str(work / f"out_{name}")
            if name == "old":
                old = work / "old"
                old.mkdir()
                print(f"exporting and building {args.baseline} ...", file=sys.stderr)
                export_baseline(args.baseline, old)
                commands[name] = ([sys.executable, "-m", "sksoft", "study", "--quick",
                                   "--no-progress", "--out", out], old)
            else:
                extra = ["--regime", "regularised"] if name == "new-regularised" else []
                commands[name] = ([sys.executable, "-m", "sksoft", "study", "--quick",
                                   "--no-progress", "--out", out, *extra], ROOT)
        for name, (cmd, cwd) in commands.items():
            for busy in (False, True):
                label = "busy" if busy else "quiet"
                print(f"{name} {label} ...", file=sys.stderr, flush=True)
                runs[(name, label)] = timed(cmd, cwd, busy)
                r = runs[(name, label)]
                print(f"  wall {r['wall']:.1f} s, user {r['user']:.1f} s, load "
                      f"{r['load_before']:.2f} -> {r['load_after']:.2f}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nCPU: {cpu_model()}, {cores()} cores available; Python {platform.python_version()}; "
          f"baseline {args.baseline}\n")
    print("| `sksoft study --quick` | quiet wall | busy wall | busy / quiet wall | quiet user CPU "
          "| busy user CPU | busy / quiet CPU | load avg (quiet, busy) |")
    print("|---|---|---|---|---|---|---|---|")
    labels = {"new": "this version (both regimes)",
              "new-regularised": "this version, `--regime regularised` (the old run's fits)",
              "old": f"before ({args.baseline})"}
    for name in args.configs:
        q, b = runs[(name, "quiet")], runs[(name, "busy")]
        print(f"| {labels[name]} | {q['wall']:.1f} s | {b['wall']:.1f} s | "
              f"{b['wall'] / q['wall']:.2f}x | {q['user']:.1f} s | {b['user']:.1f} s | "
              f"{b['user'] / q['user']:.2f}x | {q['load_before']:.2f}, "
              f"{b['load_before']:.2f} |")
    if "new-regularised" in args.configs and "old" in args.configs:
        q_new, q_old = runs[("new-regularised", "quiet")], runs[("old", "quiet")]
        print(f"\nSame fits, quiet: this version {q_new['wall']:.1f} s vs before "
              f"{q_old['wall']:.1f} s wall ({q_new['wall'] / q_old['wall']:.2f}x), "
              f"user CPU {q_new['user']:.1f} s vs {q_old['user']:.1f} s.")
    print("Load average: the 1-minute load when each run started; it still holds part of the "
          "run before (a busy run's neighbour adds about 1), so only the first figure, "
          f"{runs[(args.configs[0], 'quiet')]['load_before']:.2f}, measures the machine "
          "alone.")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"cpu": cpu_model(), "cores": cores(), "baseline": args.baseline,
             "runs": {f"{n}/{c}": v for (n, c), v in runs.items()}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
