"""Speed of the study's paired-bootstrap replicates (sksoft.study._differences).

One fit's replicates -- every study metric overall and per difficulty bin, against gold and
human labels -- by the vectorised path (the items' own statistics from one pass, merged with
the replicate weights by sparse products) and by the plain road: two calibration reports with
``sample_weight`` = the replicate's item weights per replicate (plus the plurality accuracy
and the Spearman correlation of the copies). Both measured here, side by side, as time per
replicate; the plain road on fewer replicates (it is linear in them).

    python benchmarks/bench_study_intervals.py          # m = 600 and 2000 items, B = 1000
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from sksoft._bench import cpu_model
from sksoft._label_source import human_mode
from sksoft.metrics import (
    calibration_report,
    difficulty_bins,
    difficulty_scores,
    entropy,
)
from sksoft.metrics._bootstrap import bootstrap_weights
from sksoft.study._differences import copy_rank_correlation, fit_replicates


def make_fit(m, K, seed=0):
    rng = np.random.default_rng(seed)
    human = rng.dirichlet(np.full(K, 0.3), size=m)
    gold = np.array([rng.choice(K, p=h) for h in human])
    logits = 2.0 * np.log(human + 0.05) + rng.normal(0, 1.0, (m, K))
    P = np.exp(logits - logits.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    return gold, human, P


def plain(P, gold, human, W, n_bins=15, n_groups=3):
    """The replicates the plain way: the metric functions with sample_weight, per replicate."""
    ht = difficulty_scores(human)
    ids = difficulty_bins(ht, n_bins=n_groups)[0]
    hp = entropy(P, average=False)
    agree = P.argmax(1) == human_mode(human, gold)
    for w in W.astype(np.float64):
        calibration_report(gold, P, groups=ids, sample_weight=w)
        calibration_report(human, P, groups=ids, sample_weight=w)
        np.average(agree, weights=w)
        for g in range(n_groups):
            sel = ids == g
            copy_rank_correlation(ht[sel], hp[sel], w[None, sel])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, nargs="+", default=[600, 2000])
    ap.add_argument("--n-bootstrap", type=int, default=1000)
    ap.add_argument("--plain-replicates", type=int, default=50)
    args = ap.parse_args()
    K, B = 10, args.n_bootstrap
    print(f"CPU: {cpu_model()}; K = {K}, 3 difficulty bins, B = {B}")
    print(f"{'items':>6} {'vectorised ms/fit':>18} {'us/replicate':>13} "
          f"{'plain us/replicate':>19} {'ratio':>6}")
    with threadpool_limits(1, "blas"):
        for m in args.items:
            gold, human, P = make_fit(m, K)
            WT = np.ascontiguousarray(bootstrap_weights(m, B, random_state=0).T)
            test = np.arange(m)
            fit_replicates(P, test, gold, human, WT, n_difficulty_bins=3, n_bins=15)
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                fit_replicates(P, test, gold, human, WT, n_difficulty_bins=3, n_bins=15)
                best = min(best, time.perf_counter() - t0)
            Wp = WT[:, :args.plain_replicates].T
            t0 = time.perf_counter()
            plain(P, gold, human, Wp)
            tp = (time.perf_counter() - t0) / Wp.shape[0]
            per = best / B
            print(f"{m:>6} {1e3 * best:>18.1f} {1e6 * per:>13.1f} {1e6 * tp:>19.1f} "
                  f"{tp / per:>6.1f}")


if __name__ == "__main__":
    main()
