"""Calibration-metric speed: a thin wrapper around the ``sksoft bench`` command.

    python benchmarks/bench_metrics.py            # the README's table (n up to 1e7; minutes)
    python benchmarks/bench_metrics.py --quick    # under a minute
    python benchmarks/bench_metrics.py --sizes 1e6 --classes 10 100 --dtype float32 float64

Any option of ``sksoft bench`` is accepted; without ``--sizes`` the README's cases are run
(1e4, 1e5, 1e6, 1e7 rows of 10 classes). Results are saved to
benchmarks/results/bench_metrics.json unless ``--json`` says otherwise.
"""

import sys

from sksoft.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--quick" not in argv and "--sizes" not in argv and "--markdown" not in argv:
        argv += ["--sizes", "1e4", "1e5", "1e6", "1e7"]
    if "--json" not in argv and "--markdown" not in argv:
        argv += ["--json", "benchmarks/results/bench_metrics.json"]
    sys.exit(main(["bench", *argv]))
