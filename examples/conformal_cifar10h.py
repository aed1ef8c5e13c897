"""Conformal prediction sets on CIFAR-10H, calibrated to gold labels or to the human labels.

A small, CPU-only illustration of :mod:`sksoft.conformal`: a logistic regression on 8x8
down-sampled CIFAR-10 test images (a weak model, so that the sets are not trivial), trained on
the gold labels or on the CIFAR-10H human label distributions of 4000 images; its sets at
``alpha = 0.1`` are calibrated on 3000 other images, to the gold labels (split conformal) or
to the human distributions (Monte Carlo conformal prediction with the ECDF correction), and
evaluated on the remaining 3000: coverage of the gold label, coverage of the human labels
(the human probability mass inside the set), mean set size, and the Spearman correlation of
set size with the human entropy, with 95% bootstrap intervals.

    python examples/conformal_cifar10h.py [path/to/cifar10h_aligned.npz]

Needs the aligned CIFAR-10H file of the project's shared data (see shared/README.md).
"""

import sys
from pathlib import Path

import numpy as np

from sksoft.conformal import ConformalClassifier
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import coverage_score, difficulty_scores, mean_set_size, spearman_correlation


def main(path=None):
    path = Path(path or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
                / "cifar10h_aligned.npz")
    z = np.load(path, allow_pickle=False)
    images, counts, gold = z["images"], z["counts"], z["true_labels"]
    X = images.reshape(-1, 8, 4, 8, 4, 3).mean(axis=(2, 4)).reshape(len(images), -1) / 255.0
    X = (X - X.mean(0)) / X.std(0)
    H = counts / counts.sum(1, keepdims=True)
    perm = np.random.default_rng(0).permutation(len(X))
    tr, cal, te = perm[:4000], perm[4000:7000], perm[7000:]
    entropy = difficulty_scores(H[te])
    print(f"CIFAR-10H, 8x8 logistic regression; alpha = 0.1; {len(cal)} calibration and "
          f"{len(te)} test images; 95% bootstrap intervals (500 replicates)\n")
    print("| trained on | calibrated to | gold coverage | human coverage | mean set size | "
          "rho(size, human entropy) |")
    print("|---|---|---|---|---|---|")
    boot = {"n_bootstrap": 500, "random_state": 0}
    for train_name, target in (("gold", gold[tr]), ("human", H[tr])):
        model = SoftLogisticRegression(C=0.05).fit(X[tr], target)
        for cal_name in ("gold", "human"):
            cp = ConformalClassifier(model, cv="prefit", alpha=0.1, random_state=0,
                                     calibrate_to="human" if cal_name == "human" else "y")
            cp.fit(X[cal], gold[cal], soft_labels=H[cal])
            sets = cp.predict_set(X[te])
            g = coverage_score(gold[te], sets, **boot)
            h = coverage_score(H[te], sets, **boot)
            s = mean_set_size(sets, **boot)
            rho = spearman_correlation(sets.sum(1).astype(float), entropy)
            print(f"| {train_name} | {cal_name} | {g:.3f} [{g.low:.3f}, {g.high:.3f}] | "
                  f"{h:.3f} [{h.low:.3f}, {h.high:.3f}] | {s:.2f} [{s.low:.2f}, {s.high:.2f}] "
                  f"| {rho:.3f} |")


if __name__ == "__main__":
    main(*sys.argv[1:])
