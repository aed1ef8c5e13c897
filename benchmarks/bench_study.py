"""``sksoft study --quick``: the release ``daf4d14`` against this tree, interleaved.

Builds the release in a temporary git worktree (``git worktree add``, ``python setup.py
build_ext --inplace``), then runs ``python -m sksoft study --quick --no-figures
--no-progress`` with ``PYTHONPATH`` set to each tree in turn (release, current, release,
current, ...), ``--rounds`` times each, on the same machine. Prints each run's wall-clock
time, the best and median of each tree, their ratio (current / release), the CPU
(:func:`sksoft._bench.cpu_model`) and, from the current tree's config.json, the seconds of
each stage (``timing``: fits, analysis, figures, writing) and the share after the last fit.

It also checks that the two trees give the same numbers: results.csv (without the
``fit_seconds`` rows, order-insensitive) and summary.md (without the timing footer) of the
first run of each tree are compared as in ``benchmarks/check_study_regression.py``; the
seeds and settings are the same, so any difference is reported.

Usage::

    python benchmarks/bench_study.py [--rounds 2] [--release daf4d14] [--keep DIR]
                                     [--release-tree DIR]
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_study_regression import FILES, normalised, run_study  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def build_release(commit, where):
    """A worktree of ``commit`` at ``where`` with its extensions built in place."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace", "-q"], cwd=where,
                   check=True, capture_output=True)
    return where


def same_numbers(a, b):
    """The names of the compared files that differ between the runs in folders a and b."""
    bad = []
    for name in FILES:
        pa, pb = Path(a) / name, Path(b) / name
        if not (pa.exists() and pb.exists()):
            bad.append(name)
            continue
        if normalised(name, pa.read_text()) != normalised(name, pb.read_text()):
            bad.append(name)
    return bad


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--release", default="daf4d14")
    p.add_argument("--keep", help="keep the runs' folders here (default: removed)")
    p.add_argument("--release-tree", help="an already built tree of the release (default: "
                   "build it in a temporary git worktree)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from sksoft._bench import cpu_model

    tmp = Path(tempfile.mkdtemp(prefix="sksoft_bench_study_"))
    out = Path(args.keep) if args.keep else tmp / "runs"
    release = Path(args.release_tree) if args.release_tree else tmp / "release"
    try:
        if not args.release_tree:
            print(f"building {args.release} in {release} ...", flush=True)
            build_release(args.release, release)
        trees = {"release": release, "current": ROOT}
        walls = {name: [] for name in trees}
        cpus = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                folder = out / f"{name}_{r}"
                wall, cpu = run_study(tree, folder)
                walls[name].append(wall)
                cpus[name].append(cpu)
                print(f"round {r}: {name:8s} {wall:7.1f} s wall, {cpu:7.1f} s CPU", flush=True)
        print(f"\nCPU: {cpu_model()}; sksoft study --quick --no-figures, {args.rounds} "
              "rounds interleaved")
        for name, w in walls.items():
            print(f"  {name:8s} best {min(w):7.1f} s, median {statistics.median(w):7.1f} s")
        best = min(walls["current"]) / min(walls["release"])
        median = statistics.median(walls["current"]) / statistics.median(walls["release"])
        print(f"  wall ratio current / release: best {best:.2f}, median {median:.2f}")
        cpu = min(cpus["current"]) / min(cpus["release"])
        print(f"  CPU seconds: release {min(cpus['release']):.1f}, current "
              f"{min(cpus['current']):.1f}; ratio {cpu:.2f}")
        cfg = json.loads((out / "current_0" / "config.json").read_text())
        timing = cfg.get("timing")
        if timing:
            total = sum(timing.values())
            after = sum(timing.get(k, 0.0) for k in ("analysis", "figures", "writing"))
            print("  current stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items())
                  + f"; after the last fit {after:.1f} s = {100 * after / total:.0f}%")
        bad = same_numbers(out / "release_0", out / "current_0")
        print("  same numbers (results.csv, summary.md, differences.csv): "
              + ("yes" if not bad else "NO, differ: " + ", ".join(bad)))
        return 1 if bad else 0
    finally:
        if not args.release_tree:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(release)], capture_output=True)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
