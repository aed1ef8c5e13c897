"""The ``sksoft`` command line."""

import argparse
import sys

from .study._runner import SOURCE_LABELS, SOURCE_NAMES

__all__ = ["main"]


def _study_parser(sub):
    p = sub.add_parser(
        "study",
        help="run the human-vs-model uncertainty audit",
        description="Train one model per (label source, seed, fold) and compare accuracy, "
        "calibration, stability and alignment with human uncertainty. Writes results.csv, "
        "summary.md, config.json and figures to --out.",
    )
    p.add_argument("--data", default="digits",
                   help="digits (built-in ambiguous digits, default), cifar10h, or your own "
                   ".npz with X (or images), y_gold, and soft_labels or counts (optionally "
                   "annotations, class_names)")
    p.add_argument("--data-path", default=None,
                   help="CIFAR-10H: an .npz, or a folder with cifar10h-counts.npy and "
                   "cifar-10-binary.tar.gz (default: download and cache)")
    p.add_argument("--model", choices=["logreg", "mlp", "cnn"], default="mlp")
    p.add_argument("--sources", nargs="+", default=list(SOURCE_NAMES),
                   choices=sorted(SOURCE_LABELS), metavar="SOURCE",
                   help=f"label sources to compare (default: {' '.join(SOURCE_NAMES)}; also "
                   "dawid_skene on data with annotations)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--difficulty-bins", type=int, default=3)
    p.add_argument("--epochs", type=int, default=30, help="network training epochs")
    p.add_argument("--n-items", type=int, default=None, help="use the first N items only")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
    p.add_argument("--n-jobs", type=int, default=1, help="parallel fits (-1: all cores)")
    p.add_argument("--backend", choices=["loky", "dask", "sequential"], default="loky")
    p.add_argument("--scheduler", default=None, help="dask scheduler address (default: a "
                   "local process cluster)")
    p.add_argument("--out", default="sksoft_study", help="output folder")
    p.add_argument("--quick", action="store_true",
                   help="2 seeds, 3 folds, 12 epochs: a quick look (< 2 minutes on digits)")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="sksoft", description="Soft-label learning and fast calibration metrics.")
    sub = parser.add_subparsers(dest="command")
    _study_parser(sub)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from .study import run

    try:
        results = _run(run, args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    summary = (results.out / "summary.md").read_text()
    print(summary)
    if not results.complete:
        return 130
    return 0


def _run(run, args):
    return run(
        data=args.data, data_path=args.data_path, model=args.model, sources=tuple(args.sources),
        seeds=args.seeds, folds=args.folds, difficulty_bins=args.difficulty_bins,
        epochs=args.epochs, device=args.device, n_jobs=args.n_jobs, backend=args.backend,
        scheduler=args.scheduler, out=args.out, quick=args.quick,
        figures=not args.no_figures, progress=not args.no_progress,
        extra={"n_items": args.n_items},
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
