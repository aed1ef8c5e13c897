"""The ``sksoft`` command line."""

import argparse
import sys

from ._optional import check_extra
from .study import MODELS, REGIMES, SOURCE_LABELS, SOURCE_NAMES
from .study._vocabulary import ALLOCATIONS, CALIBRATION_TARGETS, CALIBRATORS

__all__ = ["main"]


def _study_parser(sub):
    p = sub.add_parser(
        "study",
        help="run the human-vs-model uncertainty audit",
        description="Train one model per (training regime, label source, seed, fold) and "
        "compare accuracy, calibration, stability and alignment with human uncertainty, with "
        "intervals and the paired differences between sources that hold up. Writes "
        "results.csv, differences.csv, dynamics.csv, summary.md, config.json and figures to "
        "--out.",
    )
    p.add_argument("--data", default="digits",
                   help="digits (built-in ambiguous digits, default), cifar10h, or your own "
                   ".npz with X (or images), y_gold, and soft_labels or counts (optionally "
                   "annotations, class_names)")
    p.add_argument("--data-path", default=None,
                   help="CIFAR-10H: an .npz, or a folder with cifar10h-counts.npy and "
                   "cifar-10-binary.tar.gz (default: download and cache)")
    p.add_argument("--model", choices=list(MODELS), default="mlp")
    p.add_argument("--sources", nargs="+", default=None,
                   choices=sorted(SOURCE_LABELS), metavar="SOURCE",
                   help=f"label sources to compare (default: {' '.join(SOURCE_NAMES)}; also "
                   "dawid_skene on data with annotations)")
    p.add_argument("--regime", nargs="+", choices=list(REGIMES), default=None, dest="regimes",
                   metavar="REGIME",
                   help="training regimes: regularised (a small model with dropout and weight "
                   "decay, fixed epochs) and/or overparameterised (a wider model without "
                   "them, trained until its training loss stops falling); default: both")
    p.add_argument("--seeds", type=int, default=None,
                   help="seeds (default: 5, also under --cost-benefit)")
    p.add_argument("--folds", type=int, default=None,
                   help="cross-validation folds (default: 5; 3 under --cost-benefit)")
    p.add_argument("--difficulty-bins", type=int, default=3)
    p.add_argument("--n-bootstrap", type=int, default=1000,
                   help="replicates of the hierarchical paired bootstrap behind the intervals "
                   "(0: no intervals)")
    p.add_argument("--confidence", type=float, default=0.95, help="level of the intervals")
    p.add_argument("--epochs", type=int, default=None,
                   help="network training epochs, in every regime (default: 30 regularised, "
                   "at most 100 overparameterised)")
    p.add_argument("--hidden", type=int, nargs="+", default=None, metavar="UNITS",
                   help="override the hidden layer widths (mlp) or the first stage's channels "
                   "(cnn) in every regime")
    p.add_argument("--dropout", type=float, default=None,
                   help="override the dropout in every regime (networks)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="override the weight decay in every regime (networks)")
    axes = p.add_argument_group(
        "recalibration and annotation budget",
        "Recalibrators fitted on a calibration split of each training fold, and subsampled "
        "human labels: when do human soft labels beat a gold model plus post-hoc "
        "recalibration, and how many annotations do they need? summary.md gains the headline "
        "comparison and a cost-benefit section; figures/<regime>/cost_benefit.png.")
    axes.add_argument("--calibrators", nargs="+", choices=list(CALIBRATORS), default=None,
                      metavar="CALIBRATOR",
                      help=f"post-hoc recalibrators ({' '.join(CALIBRATORS)}); none, the raw "
                      "model, is always evaluated, and 'selected' (the best on the "
                      "calibration split) is added when there are any (default: none)")
    axes.add_argument("--calibrate-to", nargs="+", choices=list(CALIBRATION_TARGETS),
                      default=None, metavar="TARGET",
                      help="fit the recalibrators to gold and/or human labels (default: gold)")
    axes.add_argument("--calibration-fraction", type=float, default=None,
                      help="fraction of each training fold held out to fit the recalibrators "
                      "(stratified; default 0.1; only when recalibrators are asked)")
    axes.add_argument("--annotators", nargs="+", default=None, metavar="K",
                      help="votes kept per item for the human-label sources: integers and/or "
                      "'all' (default: all)")
    axes.add_argument("--human-fraction", type=float, nargs="+", default=None,
                      metavar="FRACTION",
                      help="fraction(s) of the training items that get human labels, the "
                      "others gold one-hot (default: 1.0)")
    axes.add_argument("--allocate", nargs="+", choices=list(ALLOCATIONS), default=None,
                      metavar="HOW",
                      help="which items get human labels when the fraction is below 1: random "
                      "and/or uncertain (where a cross-fitted gold model is least sure; "
                      "default: random)")
    axes.add_argument("--cost-benefit", action="store_true",
                      help="the default cost-benefit grid: annotators 1 3 10 all x calibrators "
                      "none temperature x sources gold human smoothing, 5 seeds x 3 folds, both regimes "
                      "(options given explicitly take precedence)")
    p.add_argument("--n-items", type=int, default=None, help="use the first N items only")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    p.add_argument("--n-jobs", type=int, default=-1,
                   help="parallel fits (default -1: one per core)")
    p.add_argument("--threads-per-fit", type=int, default=None,
                   help="torch/BLAS/OpenMP threads of each fit (default: cores // n-jobs, at "
                   "least 1)")
    p.add_argument("--backend", choices=["loky", "dask", "sequential"], default="loky")
    p.add_argument("--scheduler", default=None, help="dask scheduler address (default: a "
                   "local process cluster)")
    p.add_argument("--out", default="sksoft_study", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help="2 seeds, 3 folds, shorter training: a quick look (< 2 minutes on "
                   "digits on 2 cores)")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p


def _report_parser(sub):
    p = sub.add_parser(
        "report",
        help="calibration report of saved predictions",
        description="Every calibration metric of predictions saved in an .npz with y_prob "
        "(n, K) and y_true (n,) labels or (n, K) label distributions; optionally labels (K,) "
        "(the class of each column of y_prob, when y_true holds class names rather than the "
        "column codes 0..K-1) and groups (n,). "
        "Without a file, a report on the built-in ambiguous digits (logistic regression, "
        "held-out half).",
    )
    p.add_argument("file", nargs="?", default=None)
    p.add_argument("--n-bins", type=int, default=15)
    p.add_argument("--strategy", choices=["uniform", "quantile"], default="uniform")
    p.add_argument("--difficulty-bins", type=int, default=0,
                   help="group by difficulty bins of a soft y_true (0: no groups)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="B",
                   help="intervals from B bootstrap replicates (0: none)")
    p.add_argument("--confidence", type=float, default=0.95, help="level of the intervals")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument("--extended", action="store_true",
                   help="also the smooth ECE and the Brier / log score decompositions")
    p.add_argument("--csv", default=None, help="also write the table to this CSV file")
    p.add_argument("--tests", action="store_true",
                   help="also the calibration tests (Spiegelhalter's Z, cumulative KS and "
                   "Kuiper, asymptotic SKCE) with their p-values")
    return p


def _calibration_tests_table(y_true, y_prob, labels):
    """The lines of ``report --tests``: every calibration test of the whole data."""
    from .metrics import calibration_test

    lines = ["calibration tests (H0: calibrated; top-label with more than two classes)",
             f"{'method':<15}{'statistic':>12}{'p-value':>12}  null"]
    for method in ("spiegelhalter", "ks", "kuiper", "skce"):
        r = calibration_test(y_true, y_prob, method=method, labels=labels)
        lines.append(f"{method:<15}{r.statistic:>12.4g}{r.pvalue:>12.4g}  {r.null}")
    return lines


def report(args):
    import numpy as np

    from ._io import load_npz
    from ._targets import is_soft_target
    from .metrics import calibration_report, difficulty_bins, difficulty_scores

    if args.file is None:
        from .datasets import make_ambiguous_digits
        from .linear_model import SoftLogisticRegression

        d = make_ambiguous_digits()
        half = np.arange(len(d.X)) % 2 == 0
        model = SoftLogisticRegression(C=0.1).fit(d.X[half], d.soft_labels[half])
        y_true, y_prob, groups = d.soft_labels[~half], model.predict_proba(d.X[~half]), None
        labels = None
        print("built-in ambiguous digits: logistic regression trained on human soft labels of "
              "half the items, evaluated against the human labels of the other half\n")
    else:
        # a truncated or plain .npy file, pickled objects or a decompression bomb: ValueError
        z = load_npz(args.file, names=("y_true", "y_prob", "groups", "labels"),
                     required=("y_prob", "y_true"))
        y_true, y_prob = z["y_true"], z["y_prob"]
        groups, labels = z.get("groups"), z.get("labels")
    if args.difficulty_bins and is_soft_target(y_true):
        groups = difficulty_bins(difficulty_scores(y_true), n_bins=args.difficulty_bins)[0]
    rep = calibration_report(y_true, y_prob, groups=groups, n_bins=args.n_bins,
                             strategy=args.strategy, labels=labels,
                             n_bootstrap=args.bootstrap, confidence=args.confidence,
                             random_state=args.seed, extended=args.extended)
    print(rep)
    if args.tests:
        print()
        print("\n".join(_calibration_tests_table(y_true, y_prob, labels)))
    if args.csv:
        rep.to_frame().to_csv(args.csv)
    return 0


def _bench_parser(sub):
    p = sub.add_parser(
        "bench",
        help="time every calibration metric beside its installed peers",
        description="Time sksoft's metrics and every installed peer (torchmetrics, netcal, "
        "relplot, model-diagnostics, uncertainty-calibration, numpy) on the same arrays, with "
        "the read-once and memory floors; prints ms and ratios to the read-once floor, the CPU "
        "model, the vector code path and the thread count.",
    )
    p.add_argument("--sizes", type=float, nargs="+", default=None, metavar="N",
                   help="rows (default 1e4 1e6; --quick: 1e4 1e5)")
    p.add_argument("--classes", type=int, nargs="+", default=[10], metavar="K")
    p.add_argument("--dtype", nargs="+", choices=["float32", "float64"], default=["float32"])
    p.add_argument("--metrics", nargs="+", default=None, metavar="METRIC",
                   help="any of: ece ece1 adaptive debiased report report-avx2 ece-b1000 "
                   "report-b200 smooth decomposition (default: all)")
    peers = p.add_mutually_exclusive_group()
    peers.add_argument("--peers", nargs="*", default=None, metavar="PEER",
                       help="only these peers (default: every installed one)")
    peers.add_argument("--no-peers", action="store_true")
    p.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    p.add_argument("--json", default=None, help="also save the rows as JSON")
    p.add_argument("--markdown", default=None, metavar="JSON",
                   help="print the Markdown table of a saved JSON and stop")
    p.add_argument("--quick", action="store_true", help="small sizes: under a minute")
    return p


#: the largest case ``sksoft bench`` makes (rows x classes): 2**28 probabilities, 1 GiB in
#: float32 and 2 GiB in float64, held a few times over by the peers
MAX_BENCH_VALUES = 1 << 28


def bench(args):
    import math

    from . import _bench

    if args.markdown:
        return _bench_markdown(args.markdown)
    if args.repeat < 1:
        raise ValueError(f"--repeat must be at least 1; got {args.repeat}.")
    sizes = args.sizes or ([1e4, 1e5] if args.quick else [1e4, 1e6])
    bad = [s for s in sizes if not (math.isfinite(s) and s >= 1 and s == int(s))]
    if bad:
        raise ValueError(f"--sizes must be positive whole numbers of rows; got {bad[0]!r}.")
    bad = [k for k in args.classes if k < 2]
    if bad:
        raise ValueError(f"--classes must be at least 2; got {bad[0]}.")
    n, K = max(int(s) for s in sizes), max(args.classes)
    if n * K > MAX_BENCH_VALUES:
        raise ValueError(f"--sizes {n:g} with --classes {K}: {n * K:.3g} probabilities; at most "
                         f"{MAX_BENCH_VALUES:.3g} (N x K) are benchmarked.")
    peers = False if args.no_peers else (True if args.peers is None else args.peers)
    _bench.run(sizes=[int(s) for s in sizes], classes=args.classes, dtypes=args.dtype,
               metrics=args.metrics, peers=peers, repeat=min(3, args.repeat) if args.quick else args.repeat,
               json_path=args.json)
    return 0


_BENCH_ROW = {"n": int, "K": int, "dtype": str, "method": str, "seconds": (int, float),
              "ratio_to_floor": (int, float)}


def _bench_markdown(path):
    """Print the Markdown tables of a JSON saved by ``sksoft bench --json``."""
    import json
    from pathlib import Path

    from . import _bench

    what = f"--markdown: {path} is not a JSON saved by sksoft bench --json"
    try:
        saved = json.loads(Path(path).read_text())
    except UnicodeDecodeError:
        raise ValueError(f"{what} (not text).") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} ({exc}).") from None
    rows = saved.get("rows") if isinstance(saved, dict) else None
    if not isinstance(rows, list) or not all(
            isinstance(r, dict) and all(isinstance(r.get(k), t) and not isinstance(r.get(k), bool)
                                        for k, t in _BENCH_ROW.items()) for r in rows):
        raise ValueError(f"{what}: it needs \"rows\", a list of objects with "
                         f"{', '.join(_BENCH_ROW)}.")
    for dtype in dict.fromkeys(r["dtype"] for r in rows):
        print(_bench.markdown(rows, dtype) + "\n")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="sksoft", description="Soft-label learning and fast calibration metrics.")
    sub = parser.add_subparsers(dest="command")
    _study_parser(sub)
    _report_parser(sub)
    _bench_parser(sub)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command in ("report", "bench"):
        try:
            return (report if args.command == "report" else bench)(args)
        except _ERRORS as exc:
            parser.error(_message(exc))
    try:
        check_extra("study", purpose="sksoft study")  # torch, skorch, pandas, matplotlib, tqdm
    except ImportError as exc:
        parser.error(str(exc))
    from .study import run

    try:
        results = _run(run, args)
    except _ERRORS as exc:
        parser.error(_message(exc))
    summary = (results.out / "summary.md").read_text()
    print(summary)
    if not results.complete:
        return 130
    return 0


#: what the commands turn into ``sksoft: error: ...`` (exit 2) instead of a traceback
_ERRORS = (ValueError, TypeError, OSError, MemoryError)


def _message(exc):
    if isinstance(exc, MemoryError):
        return f"out of memory ({exc or 'an allocation failed'}); try smaller inputs or options."
    return str(exc)


def _annotators(values):
    out = []
    for v in values:
        if v == "all":
            out.append(v)
        elif v.strip().isdecimal():  # as StudyConfig reads them (not '+3', '1_0')
            out.append(int(v))
        else:
            raise ValueError(f"--annotators takes integers >= 1 and/or 'all'; got {v!r}.")
    return tuple(out)


def _run(run, args):
    axes = {}
    for name in ("calibrators", "calibrate_to", "human_fraction", "allocate"):
        if getattr(args, name) is not None:
            axes[name] = tuple(getattr(args, name))
    if args.annotators is not None:
        axes["annotators"] = _annotators(args.annotators)
    if args.calibration_fraction is not None:
        axes["calibration_fraction"] = args.calibration_fraction
    # options left out are None: the defaults, or the --cost-benefit grid's values
    axes["sources"] = None if args.sources is None else tuple(args.sources)
    axes["seeds"], axes["folds"] = args.seeds, args.folds
    return run(
        data=args.data, data_path=args.data_path, model=args.model,
        regimes=None if args.regimes is None else tuple(args.regimes),
        difficulty_bins=args.difficulty_bins,
        n_bootstrap=args.n_bootstrap, confidence=args.confidence,
        epochs=args.epochs, hidden=None if args.hidden is None else tuple(args.hidden),
        dropout=args.dropout, weight_decay=args.weight_decay, device=args.device,
        n_jobs=args.n_jobs, threads_per_fit=args.threads_per_fit, backend=args.backend,
        scheduler=args.scheduler, out=args.out, quick=args.quick,
        figures=not args.no_figures, progress=not args.no_progress,
        extra={"n_items": args.n_items}, cost_benefit=args.cost_benefit, **axes,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
