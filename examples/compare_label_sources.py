"""Which training targets give accurate, calibrated models that mirror human uncertainty?

One GridSearchCV per seed compares label sources -- gold, human soft labels, the two decoupled
controls (human majority = correction only, mode-aligned human = uncertainty only) and three
synthetic soft labels -- fold by fold, on the built-in ambiguous digits. Human labels reach the
estimator and the scorers through scikit-learn's metadata routing, training fold only.

    python examples/compare_label_sources.py               # logistic regression, ~20 s
    python examples/compare_label_sources.py --model mlp   # the same code with a torch MLP
"""

import argparse
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoft.datasets import make_ambiguous_digits
from sksoft.label_sources import (
    EnsembleDisagreement,
    GoldLabels,
    HumanMajority,
    HumanSoftLabels,
    LabelSmoothing,
    ModeAlignedHumanLabels,
    TeacherDistillation,
)
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import get_scorer

SCORERS = {
    "acc": "gold_soft_accuracy",
    "nll": "gold_neg_log_loss",
    "ece": "gold_neg_expected_calibration_error",
    "human_kl": "human_neg_kl_divergence",
    "human_ece": "human_neg_expected_calibration_error",
    "ent_corr": "human_entropy_correlation",
    "ece_hardest": "gold_neg_expected_calibration_error_hardest_bin",
}


def sources(seed):
    return {
        "gold": GoldLabels(),
        "human soft": HumanSoftLabels(),
        "human majority": HumanMajority(),
        "mode-aligned human": ModeAlignedHumanLabels(),
        "label smoothing": LabelSmoothing(epsilon=0.1),
        "teacher distillation": TeacherDistillation(temperature=2.0, cv=3, random_state=seed),
        "ensemble": EnsembleDisagreement(n_members=3, cv=3, random_state=seed),
    }


def make_model(name, seed):
    if name == "mlp":
        from sksoft.neural_network import SoftNeuralNetClassifier

        return SoftNeuralNetClassifier(max_epochs=15, lr=0.005, random_state=seed,
                                       train_split=None, module__hidden_units=(64,))
    return SoftLogisticRegression(C=0.05)


def run(model="logreg", seeds=3, folds=5, n_jobs=2):
    sklearn.set_config(enable_metadata_routing=True)
    d = make_ambiguous_digits(random_state=0)
    X = d.X.astype(np.float32)
    rows = []
    for seed in range(seeds):
        named = sources(seed)
        pipe = make_pipeline(StandardScaler(), make_model(model, seed))
        step = pipe.steps[-1][0]
        gs = GridSearchCV(pipe, {f"{step}__label_source": list(named.values())},
                          scoring={k: get_scorer(v) for k, v in SCORERS.items()},
                          refit=False, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                          n_jobs=n_jobs)
        gs.fit(X, d.y_gold, soft_labels=d.soft_labels)
        for i, name in enumerate(named):
            rows.append({"source": name, "seed": seed,
                         **{k: gs.cv_results_[f"mean_test_{k}"][i] for k in SCORERS}})
    df = pd.DataFrame(rows)
    for k in SCORERS:  # report losses as losses
        if SCORERS[k].split("_")[1] == "neg":
            df[k] = -df[k]
    table = df.groupby("source", sort=False)[list(SCORERS)].agg(["mean", "std"])
    return df, table


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["logreg", "mlp"], default="logreg")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    _, table = run(args.model, args.seeds, args.folds)
    pd.set_option("display.width", 200)
    fmt = table.copy()
    out = pd.DataFrame({k: [f"{m:.4f} ± {s:.4f}" for m, s in zip(fmt[(k, "mean")], fmt[(k, "std")])]
                        for k in SCORERS}, index=fmt.index)
    print(out.to_string())
    print(f"\n{args.seeds} seeds x {args.folds} folds x {len(table)} sources in "
          f"{time.perf_counter() - t0:.1f} s (acc: soft accuracy vs gold; nll/ece vs gold; "
          "human_*: vs human labels; ece_hardest: hardest third by human entropy)")


if __name__ == "__main__":
    main()
