"""Figures of a study run (matplotlib, written as PNG)."""

import numpy as np

from ..metrics import difficulty_scores, expected_calibration_error, reliability_curve
from ._report import regime_tables
from ._vocabulary import DYNAMICS_METRICS, SOURCE_LABELS

__all__ = ["make_figures"]


def _grid(n):
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    return rows, cols


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def reliability_figure(results, path, n_bins=15):
    plt = _plt()
    gold = results._data["y_gold"]
    sources = [s for s in results.config.sources if any(k[0] == s for k in results.oof)]
    rows, cols = _grid(len(sources))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax, source in zip(axes.ravel(), sources):
        P = np.concatenate([v for k, v in results.oof.items() if k[0] == source])
        y = np.concatenate([gold for k in results.oof if k[0] == source])
        ok = ~np.isnan(P).any(1)
        P, y = P[ok].astype(np.float64), y[ok]
        P /= P.sum(1, keepdims=True)
        rc = reliability_curve(y, P, n_bins=n_bins)
        centers = 0.5 * (rc.edges[:-1] + rc.edges[1:])
        width = np.diff(rc.edges)
        ax.bar(centers, np.nan_to_num(rc.accuracy), width=width, edgecolor="k", linewidth=0.4,
               color="#4C72B0", label="accuracy")
        ax.bar(centers, np.nan_to_num(rc.confidence - rc.accuracy), bottom=np.nan_to_num(rc.accuracy),
               width=width, fill=False, edgecolor="#C44E52", hatch="///", linewidth=0.6,
               label="gap to confidence")
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ece = expected_calibration_error(y, P, n_bins=n_bins)
        ax.set_title(f"{SOURCE_LABELS.get(source, source)}\nECE {ece:.3f}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence", fontsize=8)
        ax.set_ylabel("accuracy (gold)", fontsize=8)
    for ax in axes.ravel()[len(sources):]:
        ax.axis("off")
    fig.suptitle("Reliability diagrams (out-of-fold, all seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def difficulty_figure(results, tables, path):
    plt = _plt()
    by_bin = tables["by_bin"]
    metrics = [("gold_ece", "ECE vs gold"), ("human_kl", "KL(human || model)"),
               ("gold_accuracy", "accuracy vs gold")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4))
    for ax, (metric, title) in zip(axes, metrics):
        sub = by_bin[by_bin["metric"] == metric]
        for source in results.config.sources:
            s = sub[sub["source"] == source].sort_values("bin")
            if s.empty:
                continue
            ax.errorbar(s["bin"], s["mean"], yerr=s["std"].fillna(0), marker="o", capsize=2,
                        label=SOURCE_LABELS.get(source, source))
        ax.set_xticks(sorted(sub["bin"].unique()))
        ax.set_xlabel("difficulty bin (human entropy, 0 = easiest)")
        ax.set_title(title)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def data_map_figure(results, path):
    plt = _plt()
    human = results._data["human"]
    sources = [s for s in results.config.sources if s in results.dynamics]
    rows, cols = _grid(len(sources))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.2 * rows), squeeze=False,
                             constrained_layout=True)
    sc = None
    for ax, source in zip(axes.ravel(), sources):
        dyn = results.dynamics[source]
        h = difficulty_scores(human[dyn["items"]])
        order = np.argsort(h)
        sc = ax.scatter(dyn["variability"][order], dyn["confidence"][order], c=h[order], s=3,
                        cmap="viridis", vmin=0, vmax=max(float(h.max()), 1e-6))
        ax.set_title(SOURCE_LABELS.get(source, source), fontsize=9)
        ax.set_xlabel("variability", fontsize=8)
        ax.set_ylabel("confidence (gold)", fontsize=8)
        ax.set_ylim(0, 1)
    for ax in axes.ravel()[len(sources):]:
        ax.axis("off")
    if sc is not None:
        fig.colorbar(sc, ax=axes.ravel().tolist(), label="human entropy (nats)", shrink=0.8)
    fig.suptitle("Data maps (seed 0, fold 0 training items)", fontsize=10)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def seed_spread_figure(results, path):
    plt = _plt()
    df = results.results
    df = df[df["bin"].astype(str) == "all"]
    per_seed = df.groupby(["source", "seed", "metric"])["value"].mean().reset_index()
    metrics = [("gold_nll", "NLL vs gold"), ("human_kl", "KL(human || model)"),
               ("gold_ece", "ECE vs gold")]
    # no validation curve where the networks train on their whole fold (overparameterised)
    has_curves = not results.curves.empty and results.curves["valid_loss"].notna().any()
    n = len(metrics) + int(has_curves)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.6))
    sources = list(results.config.sources)
    for ax, (metric, title) in zip(axes, metrics):
        sub = per_seed[per_seed["metric"] == metric]
        for i, source in enumerate(sources):
            vals = sub[sub["source"] == source]["value"].to_numpy()
            ax.scatter(np.full(len(vals), i) + np.linspace(-0.15, 0.15, max(len(vals), 1))[:len(vals)],
                       vals, s=14)
            if len(vals):
                ax.hlines(vals.mean(), i - 0.3, i + 0.3, color="k", lw=1)
        ax.set_xticks(range(len(sources)))
        ax.set_xticklabels([SOURCE_LABELS.get(s, s) for s in sources], rotation=45, ha="right",
                           fontsize=7)
        ax.set_title(title + " per seed")
    if has_curves:
        ax = axes[-1]
        c = results.curves
        for source, g in c.groupby("source", sort=False):
            m = g.groupby("epoch")["valid_loss"].agg(["mean", "std"])
            line = ax.plot(m.index, m["mean"], label=SOURCE_LABELS.get(source, source))[0]
            ax.fill_between(m.index, m["mean"] - m["std"], m["mean"] + m["std"],
                            color=line.get_color(), alpha=0.15)
        ax.set_xlabel("epoch")
        ax.set_title("validation loss on each source's own targets\n(mean ± std over seeds, folds)")
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


_DYNAMICS_TITLES = {"gold_nll": "NLL vs gold", "gold_ece": "ECE vs gold",
                    "human_kl": "KL(human || model)", "gold_accuracy": "accuracy vs gold",
                    "churn": "churn (class changed since\nthe epoch before)"}


def dynamics_figure(results, checkpoints, path, regime):
    """Held-out metrics vs epoch (one line per source, a band of ± one std over seeds) and,
    below, the std over seeds of each metric vs epoch."""
    plt = _plt()
    ck = checkpoints[checkpoints["epoch"] != "final"].copy()
    ck["epoch"] = ck["epoch"].astype(int)
    metrics = [m for m in DYNAMICS_METRICS if m in set(ck["metric"])]
    fig, axes = plt.subplots(2, len(metrics), figsize=(3.4 * len(metrics), 5.6), squeeze=False,
                             sharex=True)
    for j, metric in enumerate(metrics):
        sub = ck[ck["metric"] == metric]
        for source in results.config.sources:
            s = sub[sub["source"] == source].sort_values("epoch")
            if s.empty:
                continue
            line = axes[0, j].plot(s["epoch"], s["mean"], marker=".",
                                   label=SOURCE_LABELS.get(source, source))[0]
            sd = s["std"].fillna(0).to_numpy()
            axes[0, j].fill_between(s["epoch"], s["mean"] - sd, s["mean"] + sd,
                                    color=line.get_color(), alpha=0.15)
            axes[1, j].plot(s["epoch"], s["std"], marker=".", color=line.get_color())
        axes[0, j].set_title(_DYNAMICS_TITLES.get(metric, metric), fontsize=9)
        axes[1, j].set_title("std over seeds", fontsize=8)
        axes[1, j].set_xlabel("epoch")
        for ax in axes[:, j]:
            ax.set_xscale("log")
    axes[0, 0].legend(fontsize=6)
    fig.suptitle(f"Held-out fold during training ({regime}; mean ± std over seeds; "
                 "reporting only)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _regime_figures(view, tables, folder, regime):
    """The figures of one regime (a single-regime view of the results) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    reliability_figure(view, folder / "reliability.png", view.config.n_bins)
    difficulty_figure(view, tables, folder / "ece_by_difficulty.png")
    seed_spread_figure(view, folder / "seed_spread.png")
    if view.dynamics:
        data_map_figure(view, folder / "data_maps.png")
    if tables.get("checkpoints") is not None and not tables["checkpoints"].empty:
        dynamics_figure(view, tables["checkpoints"], folder / "dynamics.png", regime)


def make_figures(results, tables):
    """Write the study's figures (PNG) to ``results.out / "figures" / <regime>``."""
    for regime in results.regimes:
        if regime not in tables["mean"].index.get_level_values(0):
            continue
        _regime_figures(results.regime_view(regime), regime_tables(tables, regime),
                        results.out / "figures" / regime, regime)
