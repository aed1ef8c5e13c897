"""Null and dose controls of the human labels on the built-in digits (a quick measurement).

Does a gain of the human soft labels over one-hot gold come from *item-level* human
uncertainty, or would any soft target of the right shape give it? With
``SoftLogisticRegression`` on standardised features (the study's logistic-regression model, in
its two regimes) and 5-fold out-of-fold predictions on ``make_ambiguous_digits``,
four label sources are compared:

* ``gold`` -- one-hot gold labels;
* ``human`` -- the human vote fractions (:class:`~sksoft.label_sources.HumanSoftLabels`);
* ``shuffled`` -- the human distributions permuted among training items of the same gold
  label (:class:`~sksoft.label_sources.ShuffledHumanLabels`: class-level structure only);
* ``entropy`` -- gold smoothed to each item's human entropy
  (:class:`~sksoft.label_sources.EntropyMatchedSmoothing`: amount without direction);

under ``gold_noise="coupled"`` (the default: gold errors flipped to the class the annotators
hesitate towards) and ``"independent"`` (same number of errors, independent of the votes).

Metrics: NLL, ECE (15 equal-width bins) and the debiased L2 calibration error against the
(noisy) gold labels, KL(human || model), and -- against the generator's truth -- NLL against
the clean labels and KL(true_proba || model). Each source's difference from gold comes with a
95% paired bootstrap interval: the same Poisson(1) row weights
(:func:`sksoft.metrics.bootstrap_weights`) reweight both sources' predictions, and the metric
is recomputed with ``sample_weight``. The folds are the same for every source.

    python benchmarks/null_controls.py                 # both regimes, ~1-2 minutes
    python benchmarks/null_controls.py --n-bootstrap 500   # results/null_controls_epyc_2core.md
    python benchmarks/null_controls.py --regimes regularised --gold-noise none
"""

import argparse
import json
import time
import warnings

import numpy as np
import sklearn
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoft._bench import cpu_model
from sksoft.datasets import make_ambiguous_digits
from sksoft.label_sources import (
    EntropyMatchedSmoothing,
    GoldLabels,
    HumanSoftLabels,
    ShuffledHumanLabels,
)
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import bootstrap_weights, log_loss, expected_calibration_error, \
    kl_divergence
from sksoft.model_selection import cross_val_predict_proba

# the study's two logistic-regression regimes, on standardised features (sksoft/study/)
REGIMES = {"regularised": {"C": 0.05}, "overparameterised": {"C": 1e4, "max_iter": 5000}}
SOURCES = {"gold": GoldLabels(), "human": HumanSoftLabels(),
           "shuffled": ShuffledHumanLabels(random_state=0), "entropy": EntropyMatchedSmoothing()}


def metrics(d):
    """name -> f(P, sample_weight): lower is better for all of them."""
    return {
        "NLL(gold)": lambda P, w: log_loss(d.y_gold, P, sample_weight=w),
        "ECE(gold)": lambda P, w: expected_calibration_error(d.y_gold, P, sample_weight=w),
        "dL2(gold)": lambda P, w: expected_calibration_error(d.y_gold, P, norm="l2",
                                                             debias=True, sample_weight=w),
        "KL(human)": lambda P, w: kl_divergence(d.soft_labels, P, sample_weight=w),
        "NLL(clean)": lambda P, w: log_loss(d.y_clean, P, sample_weight=w),
        "KL(true)": lambda P, w: kl_divergence(d.true_proba, P, sample_weight=w),
    }


def run(regimes, gold_noises, n_bootstrap, seed=0):
    rows = []
    for noise in gold_noises:
        d = make_ambiguous_digits(gold_noise=noise, random_state=seed)
        n = d.X.shape[0]
        W = bootstrap_weights(n, n_bootstrap, random_state=seed).astype(np.float64)
        ms = metrics(d)
        cv = StratifiedKFold(5, shuffle=True, random_state=seed)
        for regime in regimes:
            preds = {}
            for name, source in SOURCES.items():
                est = make_pipeline(StandardScaler(), SoftLogisticRegression(
                    label_source=source, **REGIMES[regime]))
                with warnings.catch_warnings(), sklearn.config_context(
                        enable_metadata_routing=True):
                    warnings.simplefilter("ignore")  # ConvergenceWarning, C=1e4
                    preds[name] = cross_val_predict_proba(
                        est, d.X, d.y_gold, cv=cv, params={"soft_labels": d.soft_labels})
            for mname, f in ms.items():
                base = f(preds["gold"], None)
                base_rep = np.array([f(preds["gold"], w) for w in W])
                for name, P in preds.items():
                    value = f(P, None)
                    row = {"gold_noise": noise, "regime": regime, "metric": mname,
                           "source": name, "value": float(value)}
                    if name != "gold":
                        diff = np.array([f(P, w) for w in W]) - base_rep
                        lo, hi = np.quantile(diff, [0.025, 0.975])
                        row.update(diff=float(value - base), low=float(lo), high=float(hi))
                    rows.append(row)
    return rows


def table(rows):
    lines = []
    for noise in dict.fromkeys(r["gold_noise"] for r in rows):
        for regime in dict.fromkeys(r["regime"] for r in rows):
            sub = [r for r in rows if r["gold_noise"] == noise and r["regime"] == regime]
            names = list(dict.fromkeys(r["metric"] for r in sub))
            lines += [f"\n#### gold_noise={noise!r}, {regime} (difference from gold, 95% "
                      "paired bootstrap interval; `*`: excludes 0)\n",
                      "| source | " + " | ".join(names) + " |",
                      "|---" * (len(names) + 1) + "|"]
            for source in SOURCES:
                cells = []
                for m in names:
                    r = next(x for x in sub if x["metric"] == m and x["source"] == source)
                    if source == "gold":
                        cells.append(f"{r['value']:.4f}")
                    else:
                        star = "*" if r["low"] > 0 or r["high"] < 0 else ""
                        cells.append(f"{r['diff']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}]"
                                     f"{star}")
                lines.append(f"| {source} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regimes", nargs="+", default=list(REGIMES), choices=list(REGIMES))
    ap.add_argument("--gold-noise", nargs="+", default=["coupled", "independent"],
                    choices=["coupled", "independent", "none"])
    ap.add_argument("--n-bootstrap", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = run(args.regimes, args.gold_noise, args.n_bootstrap, args.seed)
    elapsed = time.perf_counter() - t0
    print(f"CPU: {cpu_model()}; {elapsed:.0f} s; {args.n_bootstrap} bootstrap replicates; "
          f"seed {args.seed}; gold row: the value, other rows: the difference from gold")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"cpu": cpu_model(), "seconds": elapsed, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
