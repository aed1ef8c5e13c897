"""Figures of a study run (matplotlib, written as PNG)."""

import numpy as np

from ..metrics import difficulty_scores, reliability_curve
from ._cost_benefit import cost_benefit_table, cost_metrics, metric_title
from ._evaluate import as_proba
from ._tables import regime_tables
from ._vocabulary import DYNAMICS_METRICS, present_in, source_label

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


def _most_complete_seed(results, source):
    """The seed whose out-of-fold predictions of ``source`` cover the most items (the
    smallest such seed)."""
    seeds = sorted(k[1] for k in results.oof if k[0] == source)
    return max(seeds, key=lambda s: (int((~np.isnan(results.oof[(source, s)]).any(1)).sum()),
                                     -s))


def _ece_title(tables, source):
    """The study's gold ECE of ``source`` for a diagram's title: the analysis's level with its
    interval (the paired bootstrap), else mean ± std over seeds; nothing is recomputed."""
    intervals = tables.get("intervals")
    if intervals is not None:
        lv = intervals["levels"]
        for k in intervals["extra_keys"]:  # the first combination of extra keys
            lv = lv[lv[k] == lv[k].iloc[0]]
        row = lv[(lv["source"] == source) & (lv["metric"] == "gold_ece")
                 & (lv["bin"].astype(str) == "all")]
        if not row.empty:
            r = row.iloc[0]
            return f"ECE {r['value']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"
    mean, std = tables["mean"], tables["std"]
    if "gold_ece" in mean and source in mean.index:
        return f"ECE {mean.loc[source, 'gold_ece']:.3f} ± {std.loc[source, 'gold_ece']:.3f}"
    return ""


def reliability_figure(results, tables, path, n_bins=15, confidence=0.95):
    """Reliability diagrams (:func:`sksoft.plotting.plot_reliability_diagram`) of one seed's
    out-of-fold predictions (every item once) with Wilson bands of the bins' accuracies and
    the bins' counts under each diagram; the titles give the study's ECE (all seeds, with the
    analysis's interval)."""
    from ..plotting import plot_reliability_diagram

    plt = _plt()
    gold = results._data["y_gold"]
    sources = [s for s in results.config.sources if any(k[0] == s for k in results.oof)]
    rows, cols = _grid(len(sources))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 4.4 * rows), squeeze=False)
    fig.subplots_adjust(hspace=0.75, wspace=0.4)
    seed_used = set()
    for ax, source in zip(axes.ravel(), sources):
        seed = _most_complete_seed(results, source)
        seed_used.add(seed)
        P = results.oof[(source, seed)]
        ok = ~np.isnan(P).any(1)
        rc = reliability_curve(gold[ok], as_proba(P[ok]), n_bins=n_bins, n_bootstrap=200,
                               confidence=confidence)
        plot_reliability_diagram(rc, ax=ax, label="accuracy (gold)")
        ax.set_title(f"{source_label(source)}\n{_ece_title(tables, source)}", fontsize=9)
    for ax in axes.ravel()[len(sources):]:
        ax.axis("off")
    seeds = ", ".join(str(s) for s in sorted(seed_used))
    fig.suptitle(f"Reliability diagrams (out-of-fold predictions of seed {seeds}: every item "
                 f"once; bands: {100 * confidence:g}% Wilson intervals; ECE: the study's, over "
                 "every seed, with its interval)", fontsize=9)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def difficulty_figure(results, tables, path):
    """Metrics per difficulty bin; with intervals (``tables["intervals"]``) the bars are the
    intervals of the study's bootstrap, else ± std over seeds."""
    plt = _plt()
    intervals = tables.get("intervals")
    metrics = [("gold_ece", "ECE vs gold"), ("human_kl", "KL(human || model)"),
               ("gold_accuracy", "accuracy vs gold")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4))
    sources = list(results.config.sources)
    for ax, (metric, title) in zip(axes, metrics):
        if intervals is not None:
            lv = intervals["levels"]
            for k in intervals["extra_keys"]:  # the first combination of extra keys
                lv = lv[lv[k] == lv[k].iloc[0]]
            sub = lv[(lv["metric"] == metric) & (lv["bin"].astype(str) != "all")].copy()
            sub["bin"] = sub["bin"].astype(int)
            sub["mean"] = sub["value"]
        else:
            sub = tables["by_bin"][tables["by_bin"]["metric"] == metric]
        for i, source in enumerate(sources):
            s = sub[sub["source"] == source].sort_values("bin")
            if s.empty:
                continue
            if intervals is not None:
                yerr = np.vstack([np.clip(s["mean"] - s["low"], 0, None),
                                  np.clip(s["high"] - s["mean"], 0, None)])
            else:
                yerr = s["std"].fillna(0)
            x = s["bin"] + 0.06 * (i - (len(sources) - 1) / 2)
            ax.errorbar(x, s["mean"], yerr=np.nan_to_num(yerr), marker="o", capsize=2,
                        label=source_label(source))
        ax.set_xticks(sorted(sub["bin"].unique()))
        ax.set_xlabel("difficulty bin (human entropy, 0 = easiest)")
        ax.set_title(title)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
               frameon=False)
    fig.suptitle(f"{100 * intervals['confidence']:g}% intervals (hierarchical bootstrap over "
                 "seeds and items)" if intervals is not None else "mean ± std over seeds",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def differences_figure(results, intervals, path):
    """Forest plot of the paired differences (overall): one panel per metric, a row per
    source, against gold and against human soft labels; filled markers hold up (the interval
    excludes 0)."""
    plt = _plt()
    d = intervals["differences"]
    d = d[d["bin"].astype(str) == "all"]
    extra = intervals["extra_keys"]
    metrics = list(dict.fromkeys(d["metric"]))
    if d.empty or not metrics:
        return
    sources = present_in(results.config.sources, d["source"])
    combos = [()] if not extra else list(dict.fromkeys(
        tuple(r) for r in d[extra].itertuples(index=False)))
    series = [(ref, c) for c in combos for ref in ("gold", "human") if ref in set(d["reference"])]
    cols = min(4, len(metrics))
    rows = int(np.ceil(len(metrics) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 0.35 * len(sources) * rows + 1.2
                                                  * rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    step = 0.7 / max(len(series), 1)
    for ax, metric in zip(axes.ravel(), metrics):
        m = d[d["metric"] == metric]
        for j, (ref, combo) in enumerate(series):
            s = m[m["reference"] == ref]
            for k, v in zip(extra, combo):
                s = s[s[k] == v]
            s = s.set_index("source")
            color = colors[j % len(colors)]
            for i, source in enumerate(sources):
                if source not in s.index:
                    continue
                r = s.loc[source]
                y = i + (j - (len(series) - 1) / 2) * step
                ax.plot([r["low"], r["high"]], [y, y], color=color, lw=1.2)
                ax.plot([r["difference"]], [y], marker="o", ms=4, color=color,
                        markerfacecolor=color if r["holds"] else "white")
        ax.axvline(0, color="k", lw=0.7)
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.set_yticks(range(len(sources)))
        ax.set_yticklabels([source_label(s) for s in sources], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(metric, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes.ravel()[len(metrics):]:
        ax.axis("off")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[j % len(colors)], marker="o", ms=4,
                      label=f"vs {source_label(ref)}"
                      + ("" if not extra else " (" + ", ".join(map(str, combo)) + ")"))
               for j, (ref, combo) in enumerate(series)]
    handles.append(Line2D([], [], color="0.4", marker="o", ms=4, markerfacecolor="white",
                          label="interval contains 0"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
               frameon=False)
    fig.suptitle(f"Paired differences (source - reference) with {100 * intervals['confidence']:g}"
                 "% intervals (hierarchical paired bootstrap); filled: the interval excludes 0",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
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
        ax.set_title(source_label(source), fontsize=9)
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
        ax.set_xticklabels([source_label(s) for s in sources], rotation=45, ha="right",
                           fontsize=7)
        ax.set_title(title + " per seed")
    if has_curves:
        ax = axes[-1]
        c = results.curves
        for source, g in c.groupby("source", sort=False):
            m = g.groupby("epoch")["valid_loss"].agg(["mean", "std"])
            line = ax.plot(m.index, m["mean"], label=source_label(source))[0]
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
    metrics = present_in(DYNAMICS_METRICS, ck["metric"])
    fig, axes = plt.subplots(2, len(metrics), figsize=(3.4 * len(metrics), 5.6), squeeze=False,
                             sharex=True)
    for j, metric in enumerate(metrics):
        sub = ck[ck["metric"] == metric]
        for source in results.config.sources:
            s = sub[sub["source"] == source].sort_values("epoch")
            if s.empty:
                continue
            line = axes[0, j].plot(s["epoch"], s["mean"], marker=".",
                                   label=source_label(source))[0]
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


def cost_benefit_figure(view, intervals, path, regime):
    """Each cost-benefit metric against the annotations used per fit: a line (with interval
    bars) per human-labelled variant family over its budgets, and a flat line (with its
    interval as a band) per zero-cost alternative. Returns False when there is nothing to
    draw."""
    variants = view.variant_table
    if intervals is None or variants is None or variants.empty:
        return False
    metrics = [(m, b) for m, b in cost_metrics(view.config.difficulty_bins)]
    panels = []
    for metric, b in metrics:
        rows, best = cost_benefit_table(intervals, variants, metric, b)
        if rows and best is not None and any(not r["synthetic"] for r in rows):
            panels.append((metric, b, rows, best))
    if not panels:
        return False
    plt = _plt()
    cols = min(3, len(panels))
    nrows = int(np.ceil(len(panels) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4.3 * cols, 3.5 * nrows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 3))]
    handles = {}
    for ax, (metric, b, rows, best) in zip(axes.ravel(), panels):
        costed = [r for r in rows if not r["synthetic"] and np.isfinite(r["cost"])]
        lo_x = min(r["cost"] for r in costed) / 1.5
        hi_x = max(r["cost"] for r in costed) * 1.5
        free = [r for r in rows if r["synthetic"]]
        for i, r in enumerate(free):
            color = "0.25" if r["variant"] == best else colors[(i + 3) % len(colors)]
            line = ax.hlines(r["value"], lo_x, hi_x, colors=color, linestyles=styles[i % 6],
                             lw=1.1)
            if np.isfinite(r["low"]) and np.isfinite(r["high"]):
                ax.fill_between([lo_x, hi_x], r["low"], r["high"], color=color, alpha=0.07)
            handles.setdefault(source_label(r["variant"]) + " (no annotations)", line)
        families = list(dict.fromkeys(r["family"] for r in costed))
        for j, fam in enumerate(families):
            pts = sorted((r for r in costed if r["family"] == fam), key=lambda r: r["cost"])
            x = np.array([r["cost"] for r in pts])
            y = np.array([r["value"] for r in pts])
            err = np.vstack([np.clip(y - [r["low"] for r in pts], 0, None),
                             np.clip(np.array([r["high"] for r in pts]) - y, 0, None)])
            eb = ax.errorbar(x, y, yerr=np.nan_to_num(err), marker="o", ms=4, capsize=2,
                             color=colors[j % len(colors)], lw=1.3)
            for r in pts:
                if r.get("beats_all"):
                    ax.plot([r["cost"]], [r["value"]], marker="*", ms=11, color="gold",
                            markeredgecolor="k", zorder=5)
            handles.setdefault(source_label(fam), eb)
        ax.set_xscale("log")
        ax.set_xlim(lo_x, hi_x)
        ax.set_xlabel("human annotations used per fit", fontsize=8)
        ax.set_title(metric_title(metric, b), fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    from matplotlib.lines import Line2D

    items = list(handles.items()) + [("beats every zero-cost alternative", Line2D(
        [], [], marker="*", ms=10, color="gold", markeredgecolor="k", lw=0))]
    fig.legend([h for _, h in items], [k for k, _ in items], loc="lower center", ncol=3,
               fontsize=7, frameon=False)
    fig.suptitle(f"Cost-benefit ({regime}): human-labelled variants over the annotation budget "
                 f"vs zero-cost alternatives; {100 * intervals['confidence']:g}% intervals "
                 "(paired bootstrap)", fontsize=9)
    n_leg = int(np.ceil(len(items) / 3))
    fig.tight_layout(rect=(0, min(0.45, 0.035 * n_leg + 0.03) / nrows, 1, 0.95))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _regime_figures(view, tables, folder, regime):
    """The figures of one regime (a single-regime view of the results) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    reliability_figure(view, tables, folder / "reliability.png", view.config.n_bins,
                       view.config.confidence)
    difficulty_figure(view, tables, folder / "ece_by_difficulty.png")
    if tables.get("intervals") is not None:
        differences_figure(view, tables["intervals"], folder / "differences.png")
        cost_benefit_figure(view, tables["intervals"], folder / "cost_benefit.png", regime)
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
