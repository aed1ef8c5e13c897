"""Regression check of the study: ``sksoft study --quick --no-figures`` against a fixture.

Runs the quick study of a source tree (default: this one) and compares its ``summary.md``,
``results.csv`` and ``differences.csv`` with the fixture in
``benchmarks/fixtures/study_quick/`` (captured from the release ``daf4d14`` before the
study was cut into typed stages -- identical after the cut -- and recaptured once after the
pairing fix, which stratifies the regularised networks' validation hold-out on gold: only the
regularised rows of human, majority, mode_aligned, teacher and ensemble changed). Exit status 0 when everything compared is identical, 1
otherwise (the first differing lines are printed).

What is compared, and what is left out (machine-dependent, not a result):

* ``summary.md``: byte for byte, except the timing footer -- the section from the line
  ``## Timing`` to the end of the file (see :data:`TIMING_HEADING`), which holds wall-clock
  seconds. The fixture has no such section.
* ``results.csv``: byte for byte per row, except the rows of the metric ``fit_seconds`` (each
  fit's wall-clock training time). The rows are compared as a sorted multiset of lines (plus
  the header line as is): fits run in parallel and are appended to the file in the order
  they finish, which varies from run to run.
* ``differences.csv``: byte for byte (its row order is fixed by the analysis).
* ``config.json`` is not compared (start time, versions, execution and timing).

Usage::

    python benchmarks/check_study_regression.py              # check this tree
    python benchmarks/check_study_regression.py --tree DIR   # check another tree
    python benchmarks/check_study_regression.py --out DIR    # keep the run's files there
    python benchmarks/check_study_regression.py --compare DIR  # compare a finished run only
    python benchmarks/check_study_regression.py --update     # rewrite the fixture (careful)
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "benchmarks" / "fixtures" / "study_quick"
#: the heading of summary.md's timing footer: everything from it to the end is left out
TIMING_HEADING = "## Timing"
#: results.csv rows of these metrics are left out (wall-clock seconds)
TIMING_METRICS = ("fit_seconds",)
FILES = ("summary.md", "results.csv", "differences.csv")
COMMAND = ["study", "--quick", "--no-figures", "--no-progress"]


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_study(tree, out):
    """Run the quick study of the source tree ``tree`` into ``out``; return its wall time and
    the CPU seconds (user + system) of the run and its workers (on a shared machine, where
    the wall time mostly measures the other jobs, the fairer figure)."""
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    t0, c0 = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-m", "sksoft", *COMMAND, "--out", str(out)], env=env,
                   check=True, cwd=tempfile.gettempdir())
    return time.perf_counter() - t0, _children_cpu() - c0


def normalised(name, text):
    """The compared lines of one file (see the module docstring)."""
    lines = text.splitlines(keepends=True)
    if name == "summary.md":
        for i, line in enumerate(lines):
            if line.rstrip("\n") == TIMING_HEADING:
                lines = lines[:i]
                break
        while lines and not lines[-1].strip():  # the blank lines before the footer
            lines.pop()
        return lines
    if name == "results.csv":
        header, rows = lines[:1], lines[1:]
        col = header[0].rstrip("\n").split(",").index("metric") if header else None
        rows = [r for r in rows if r.rstrip("\n").split(",")[col] not in TIMING_METRICS]
        return header + sorted(rows)
    return lines


def compare(folder, fixture=FIXTURE, show=5):
    """Compare the files of a finished run in ``folder`` with the fixture; return the names
    of the files that differ (printing their first differing lines)."""
    bad = []
    for name in FILES:
        want = normalised(name, (fixture / name).read_text(encoding="utf-8"))
        path = Path(folder) / name
        got = normalised(name, path.read_text(encoding="utf-8")) if path.exists() else []
        if got == want:
            print(f"  {name}: identical ({len(want)} lines compared)")
            continue
        bad.append(name)
        diffs = [(i, a, b) for i, (a, b) in enumerate(zip(want, got)) if a != b]
        print(f"  {name}: DIFFERENT ({len(want)} lines expected, {len(got)} got, "
              f"{len(diffs)} differ among the common ones)")
        for i, a, b in diffs[:show]:
            print(f"    line {i}:\n      fixture: {a.rstrip()}\n      run:     {b.rstrip()}")
    return bad


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tree", default=str(ROOT), help="source tree to run (PYTHONPATH)")
    p.add_argument("--out", help="folder for the run's files (default: a temporary one)")
    p.add_argument("--compare", help="only compare the files of a finished run in this folder")
    p.add_argument("--update", action="store_true",
                   help="copy the run's files into the fixture instead of comparing")
    args = p.parse_args(argv)
    if args.compare:
        folder = Path(args.compare)
    else:
        folder = Path(args.out or tempfile.mkdtemp(prefix="sksoft_regression_"))
        wall, cpu = run_study(args.tree, folder)
        print(f"sksoft {' '.join(COMMAND)} of {args.tree}: {wall:.1f} s wall, {cpu:.1f} s "
              "CPU")
    if args.update:
        FIXTURE.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(folder / name, FIXTURE / name)
        print(f"fixture updated from {folder}")
        return 0
    bad = compare(folder)
    print("regression check:", "FAILED (" + ", ".join(bad) + ")" if bad else "passed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
