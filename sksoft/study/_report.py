"""The summary of a study run: tables (pandas) and the markdown of summary.md; no I/O."""

import itertools

import numpy as np

from ._differences_report import (
    HOLDS,
    bins_markdown,
    differences_markdown,
    holding_marks,
    stability_markdown,
)
from ._vocabulary import CARTOGRAPHY_METRICS, MAIN_METRICS, SOURCE_LABELS

__all__ = ["summarize", "summary_markdown", "NO_FIT_MARKDOWN"]

#: summary.md of a run in which no fit finished
NO_FIT_MARKDOWN = "# sksoft study\n\nNo fit finished.\n"


def _seed_means(df):
    """Mean over folds within each seed: (source, seed, bin, metric) -> value."""
    return df.groupby(["source", "seed", "bin", "metric"], sort=False)["value"].mean().reset_index()


def prediction_churn(results):
    """Mean fraction of items whose predicted class differs between two seeds, per source."""
    out = {}
    for source in results.config.sources:
        preds = [results.oof[(source, s)] for s in range(results.config.seeds)
                 if (source, s) in results.oof]
        vals = []
        for a, b in itertools.combinations(preds, 2):
            ok = ~(np.isnan(a).any(1) | np.isnan(b).any(1))
            if ok.any():
                vals.append(np.mean(a[ok].argmax(1) != b[ok].argmax(1)))
        out[source] = float(np.mean(vals)) if vals else float("nan")
    return out


def curve_spread(curves):
    """Std across seeds of the validation loss at each (fold, epoch), averaged, per source."""
    out = {}
    if curves is None or curves.empty:
        return out
    for source, c in curves.groupby("source", sort=False):
        s = c.groupby(["fold", "epoch"])["valid_loss"].std().dropna()
        out[source] = float(s.mean()) if len(s) else float("nan")
    return out


def summarize(results):
    """Summary tables as pandas DataFrames (mean and std over seeds)."""
    import pandas as pd

    df = results.results
    if df.empty:
        return {}
    sm = _seed_means(df)
    overall = sm[sm["bin"].astype(str) == "all"]
    agg = overall.groupby(["source", "metric"], sort=False)["value"].agg(["mean", "std"])
    agg = agg.reset_index()
    order = [s for s in results.config.sources if s in set(agg["source"])]
    mean = agg.pivot(index="source", columns="metric", values="mean").reindex(order)
    std = agg.pivot(index="source", columns="metric", values="std").reindex(order)
    binned = sm[sm["bin"].astype(str) != "all"].copy()
    binned["bin"] = binned["bin"].astype(int)
    by_bin = binned.groupby(["source", "metric", "bin"], sort=False)["value"].agg(["mean", "std"])
    churn = prediction_churn(results)
    spread = curve_spread(results.curves)
    stability = pd.DataFrame({
        "prediction_churn": pd.Series(churn),
        "valid_loss_curve_spread": pd.Series(spread, dtype=float),
    }).reindex(order)
    for m in ("gold_nll", "gold_ece", "human_kl", "gold_accuracy"):
        if m in std:
            stability[f"std_{m}"] = std[m]
    return {"mean": mean, "std": std, "by_bin": by_bin.reset_index(), "stability": stability}


def _fmt_table(mean, std, metrics, label_map, marks=None):
    """Mean ± std per source and metric; ``marks`` {(source, metric): marker} (e.g. the
    differences against gold that hold up). No cell is marked for being the best mean."""
    present = [m for m in metrics if m in mean.columns]
    if not present:
        return ""
    marks = marks or {}
    lines = ["| source | " + " | ".join(present) + " |",
             "|---|" + "---|" * len(present)]
    for src in mean.index:
        cells = []
        for m in present:
            v, s = mean.loc[src, m], std.loc[src, m] if m in std else np.nan
            txt = "n/a" if np.isnan(v) else (f"{v:.4f}" if np.isnan(s) else f"{v:.4f} ± {s:.4f}")
            cells.append(txt + (f" {marks[(src, m)]}" if (src, m) in marks else ""))
        lines.append(f"| {label_map.get(src, src)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_markdown(results, tables):
    """The text of summary.md from the tables of :func:`summarize`."""
    cfg = results.config
    intervals = tables.get("intervals")
    n_fits = len(results.results[["source", "seed", "fold"]].drop_duplicates())
    parts = [
        f"# sksoft study: {results.data_info['name']}",
        "",
        f"{results.data_info['n_items']} items, {results.data_info['n_classes']} classes; model "
        f"`{cfg.model}`; {cfg.seeds} seeds x {cfg.folds}-fold stratified CV; {n_fits} fits"
        + ("" if results.complete else " (**interrupted: partial results**)") + ".",
        "Every metric is computed on held-out folds, averaged over folds within a seed, then "
        "reported as mean ± std over seeds. `gold_*`: against "
        "the gold labels; `plurality_accuracy`: agreement with the human plurality; `human_*`: "
        "against the human label distributions (ECE with soft accuracy); `entropy_correlation`: "
        "Spearman correlation of model and human entropy per item."
        + (f" `{HOLDS}`: the difference against gold holds up (its interval excludes 0, see "
           "below)." if intervals is not None else ""),
        "",
        "## Accuracy, calibration and fit to human labels",
        "",
        _fmt_table(tables["mean"], tables["std"], MAIN_METRICS, SOURCE_LABELS,
                   holding_marks(intervals)),
        "",
    ]
    if intervals is not None:
        parts += [differences_markdown(intervals, cfg.sources), ""]
    by_bin = tables["by_bin"]
    if intervals is not None and not by_bin.empty:
        parts += ["## Per difficulty bin (bins of human entropy on the evaluation items; "
                  "0 = easiest)", "", bins_markdown(intervals, cfg.sources), ""]
    elif not by_bin.empty:
        parts += ["## Per difficulty bin (bins of human entropy on the evaluation items; "
                  "0 = easiest)", ""]
        for metric in ("gold_ece", "human_kl", "gold_accuracy", "gold_nll"):
            sub = by_bin[by_bin["metric"] == metric]
            if sub.empty:
                continue
            m = sub.pivot(index="source", columns="bin", values="mean")
            s = sub.pivot(index="source", columns="bin", values="std")
            m = m.reindex([x for x in cfg.sources if x in m.index])
            s = s.reindex(m.index)
            m.columns = [f"bin {c}" for c in m.columns]
            s.columns = m.columns
            parts += [f"**{metric}**", "", _fmt_table_generic(m, s), ""]
    st = tables["stability"]
    parts += ["## Convergence stability across seeds", "",
              "`prediction_churn`: mean fraction of items whose predicted class changes between "
              "two seeds (out-of-fold predictions); `valid_loss_curve_spread`: std across seeds "
              "of the per-epoch validation loss, averaged over epochs and folds (networks only); "
              "`std_*`: std across seeds of the metric.", "",
              _fmt_table_generic(st, None), ""]
    if intervals is not None:
        parts += [stability_markdown(intervals, cfg.sources), ""]
    carto = [m for m in CARTOGRAPHY_METRICS.values() if m in tables["mean"].columns]
    if carto:
        parts += ["## Dataset cartography vs human uncertainty", "",
                  "Spearman correlation, over training items, between the network's confidence "
                  "in the gold label (mean over epochs) or its variability (std over epochs) and "
                  "the human entropy of the item. A model that mirrors human uncertainty is less "
                  "confident (negative first column) and more variable (positive second column) "
                  "on the items people disagree on.", "",
                  _fmt_table(tables["mean"], tables["std"], carto, SOURCE_LABELS), ""]
    parts += ["## Files", "",
              "`results.csv` (tidy: source, seed, fold, bin, metric, value), "
              + ("`differences.csv` (the paired differences with their intervals), "
                 if intervals is not None else "") + "`curves.csv`, "
              "`config.json`, `figures/*.png`, `cartography/<source>/training_dynamics/` "
              "(allenai/cartography jsonl).", ""]
    return "\n".join(parts)


def _fmt_table_generic(mean, std):
    if mean is None or mean.empty:
        return ""
    cols = list(mean.columns)
    lines = ["| source | " + " | ".join(str(c) for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for src in mean.index:
        cells = []
        for c in cols:
            v = mean.loc[src, c]
            s = np.nan if std is None else std.loc[src, c]
            cells.append("n/a" if np.isnan(v) else (f"{v:.4f}" if np.isnan(s) else f"{v:.4f} ± {s:.4f}"))
        lines.append(f"| {SOURCE_LABELS.get(src, src)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
