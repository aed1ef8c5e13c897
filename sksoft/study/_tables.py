"""The analysis's summary tables: means and stds over seeds per regime, per difficulty bin,
stability, held-out checkpoints and training fit (pandas; no text, no I/O).

The intervals of the same results are :func:`._differences.study_intervals`; the text of
summary.md is :mod:`._report`'s, from these tables.
"""

import itertools

import numpy as np

from ._vocabulary import TRAINING_METRICS, checkpoint_epochs, present_in

__all__ = ["summarize", "regime_tables", "checkpoint_table", "prediction_churn",
           "curve_spread"]


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


def _summarize_regime(results):
    """Summary tables of a single-regime view (mean and std over seeds)."""
    import pandas as pd

    df = results.results
    if df.empty:
        return {}
    sm = _seed_means(df)
    overall = sm[sm["bin"].astype(str) == "all"]
    agg = overall.groupby(["source", "metric"], sort=False)["value"].agg(["mean", "std"])
    agg = agg.reset_index()
    order = present_in(results.config.sources, agg["source"])
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
    tables = {"mean": mean, "std": std, "by_bin": by_bin.reset_index(), "stability": stability}
    if not results.checkpoints.empty:
        tables["checkpoints"] = checkpoint_table(results)
    return tables


def checkpoint_table(results):
    """Held-out metrics at the checkpoint epochs of a single-regime view, over seeds.

    A fit that stopped before a checkpoint counts there with its final model (its metrics at
    its last epoch, and churn 0: its predictions no longer change), so that every checkpoint
    averages the same fits. Epoch ``"final"`` is each fit's last epoch.

    Returns
    -------
    DataFrame with columns source, epoch, metric, mean, std (over seeds of the fold means),
    n_running (fits that were still training at that epoch).
    """
    import pandas as pd

    c = results.checkpoints
    key = ["source", "seed", "fold"]
    final = c[c["epoch"] == c.groupby(key)["epoch"].transform("max")]
    last = c.groupby(key)["epoch"].max().reset_index()
    settings = next(iter(results.settings.values()), {})
    cap = int(settings.get("max_epochs") or c["epoch"].max())
    frames = []
    for e in checkpoint_epochs(cap):
        at = c[c["epoch"] == e]  # the fits still training at epoch e (each records e)
        ended = final[final["epoch"] < e].copy()
        ended.loc[ended["metric"] == "churn", "value"] = 0.0
        frames.append(pd.concat([at, ended], ignore_index=True).assign(epoch=e))
    frames.append(final.assign(epoch="final"))
    grid = pd.concat(frames, ignore_index=True)
    per_seed = grid.groupby(["source", "epoch", "metric", "seed"], sort=False)["value"].mean()
    out = per_seed.groupby(["source", "epoch", "metric"], sort=False).agg(["mean", "std"])
    out = out.reset_index()
    running = {(src, e): int((g["epoch"] >= e).sum()) for src, g in last.groupby("source")
               for e in checkpoint_epochs(cap)}
    out["n_running"] = [np.nan if e == "final" else running.get((src, e), 0)
                        for src, e in zip(out["source"], out["epoch"])]
    return out


def summarize(results):
    """Summary tables as pandas DataFrames, per regime (mean and std over seeds).

    Returns
    -------
    dict
        ``mean``, ``std``, ``stability`` (index: regime, source), ``by_bin``, ``checkpoints``
        (a ``regime`` column; see :func:`checkpoint_table`) and ``training`` (mean and std over
        seeds of ``TRAINING_METRICS``, index regime, source); empty when no fit finished.
    """
    import pandas as pd

    per = {}
    for regime in results.regimes:
        tables = _summarize_regime(results.regime_view(regime))
        if tables:
            per[regime] = tables
    if not per:
        return {}
    out = {}
    for name in ("mean", "std", "stability"):
        out[name] = pd.concat({r: t[name] for r, t in per.items()}, names=["regime", "source"])
    for name in ("by_bin", "checkpoints"):
        frames = [t[name].assign(regime=r) for r, t in per.items() if name in t]
        if frames:
            df = pd.concat(frames, ignore_index=True)
            out[name] = df[["regime"] + [col for col in df.columns if col != "regime"]]
    present = [m for m in TRAINING_METRICS if m in out["mean"].columns]
    # recalibrated outputs have no training rows of their own (their model's are the raw one's)
    fitted = out["mean"][present].notna().any(axis=1)
    out["training"] = pd.concat({"mean": out["mean"][present][fitted],
                                 "std": out["std"][present][fitted]}, axis=1)
    return out


def regime_tables(tables, regime):
    """The tables of one regime, in the layout of a single-regime run."""
    out = {name: tables[name].loc[regime] for name in ("mean", "std", "stability")}
    for name in ("by_bin", "checkpoints"):
        if name in tables:
            df = tables[name]
            out[name] = df[df["regime"] == regime].drop(columns="regime")
    if tables.get("intervals") is not None:
        out["intervals"] = _regime_intervals(tables["intervals"], regime)
    return out


def _regime_intervals(intervals, regime):
    """The intervals of :func:`._differences.study_intervals` of one regime: the rows of
    every table with that ``regime``, without the column (no longer an extra key)."""
    if "regime" not in intervals["extra_keys"]:
        return intervals
    out = dict(intervals)
    for name, value in intervals.items():
        if hasattr(value, "columns") and "regime" in value.columns:
            out[name] = value[value["regime"] == regime].drop(columns="regime")
    out["extra_keys"] = [k for k in intervals["extra_keys"] if k != "regime"]
    return out
