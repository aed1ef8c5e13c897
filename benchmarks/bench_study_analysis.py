"""The study's paired-bootstrap analysis: the release ``daf4d14`` against this tree.

The grid of ``sksoft study --quick`` on the built-in digits -- 2 regimes x 7 sources x 2 seeds
x 3 folds = 84 fits, 1000 replicates -- with random predictions (the analysis's cost does not
depend on them), analysed by ``sksoft.study._differences.paired_differences`` of each tree in
a subprocess (``PYTHONPATH`` set to the tree), interleaved, ``--rounds`` times each. Prints
the wall and CPU seconds of each run (on a shared machine the CPU seconds are the fairer
figure), the best of each tree and their ratio, the CPU model, and whether the two
trees' differences tables are identical (written with full precision, compared byte for
byte).

    python benchmarks/bench_study_analysis.py [--rounds 2] [--release-tree DIR]

Without ``--release-tree`` the release is built in a temporary git worktree (as
``benchmarks/bench_study.py`` does).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_study import build_release  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import sys, time
import numpy as np
from sklearn.model_selection import StratifiedKFold
from sksoft.datasets import make_ambiguous_digits
from sksoft.study._differences import paired_differences

d = make_ambiguous_digits(random_state=0)
gold, human = d.y_gold, d.soft_labels
rng = np.random.default_rng(0)
fits = []
for seed in range(2):
    splits = StratifiedKFold(3, shuffle=True, random_state=seed).split(gold, gold)
    for fold, (_, test) in enumerate(splits):
        for regime in ("regularised", "overparameterised"):
            for source in ("gold", "human", "majority", "mode_aligned", "smoothing",
                           "teacher", "ensemble"):
                P = rng.dirichlet(np.full(10, 0.3), len(test)).astype(np.float32)
                fits.append({"keys": {"regime": regime, "source": source, "seed": seed,
                                      "fold": fold}, "test": test, "proba": P})
t0, c0 = time.perf_counter(), time.process_time()
out = paired_differences(fits, gold, human, n_bootstrap=1000, n_difficulty_bins=3, n_bins=15)
print(time.perf_counter() - t0, time.process_time() - c0)
out["differences"].to_csv(sys.argv[1], index=False, float_format="%.17g")
"""


def run(tree, csv):
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    res = subprocess.run([sys.executable, "-c", WORKER, str(csv)], env=env, check=True,
                         capture_output=True, text=True, cwd=tempfile.gettempdir())
    wall, cpu = res.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--release", default="daf4d14")
    p.add_argument("--release-tree", help="an already built tree of the release")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from sksoft._bench import cpu_model

    tmp = Path(tempfile.mkdtemp(prefix="sksoft_bench_analysis_"))
    release = Path(args.release_tree) if args.release_tree else None
    try:
        if release is None:
            release = build_release(args.release, tmp / "release")
        trees = {"release": release, "current": ROOT}
        times = {name: [] for name in trees}
        cpus = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                wall, cpu = run(tree, tmp / f"{name}.csv")
                times[name].append(wall)
                cpus[name].append(cpu)
                print(f"round {r}: {name:8s} {wall:6.1f} s wall, {cpu:6.1f} s CPU", flush=True)
        a, b = min(times["release"]), min(times["current"])
        ca, cb = min(cpus["release"]), min(cpus["current"])
        same = (tmp / "release.csv").read_bytes() == (tmp / "current.csv").read_bytes()
        print(f"\nCPU: {cpu_model()}; 84 fits x 1000 replicates (the --quick grid on digits)")
        print(f"  best wall: release {a:.1f} s, current {b:.1f} s; ratio current / release "
              f"{b / a:.2f}")
        print(f"  best CPU: release {ca:.1f} s, current {cb:.1f} s; ratio {cb / ca:.2f}")
        print(f"  differences identical to the last bit: {'yes' if same else 'NO'}")
        return 0 if same else 1
    finally:
        if not args.release_tree:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(tmp / "release")], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
