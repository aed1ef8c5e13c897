"""The text of summary.md, section by section, from the analysis's tables (:mod:`._tables`)
and intervals; no I/O."""

import numpy as np

from ._cost_benefit import cost_benefit_markdown, recalibration_markdown
from ._differences_report import (
    HOLDS,
    bins_markdown,
    differences_markdown,
    holding_marks,
    stability_markdown,
)
from ._vocabulary import (
    CALIBRATION_METRICS,
    CARTOGRAPHY_METRICS,
    DYNAMICS_METRICS,
    MAIN_METRICS,
    present_in,
    source_label,
)
# the tables live in _tables; re-exported here for the callers of the summary's functions
from ._tables import checkpoint_table, prediction_churn, regime_tables, summarize

__all__ = ["summarize", "summary_markdown", "checkpoint_table", "prediction_churn",
           "regime_tables", "timing_markdown", "NO_FIT_MARKDOWN", "TIMING_HEADING"]

#: summary.md of a run in which no fit finished
NO_FIT_MARKDOWN = "# sksoft study\n\nNo fit finished.\n"


def _fmt_table(mean, std, metrics, marks=None):
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
        lines.append(f"| {source_label(src)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _setting_text(value):
    if isinstance(value, (tuple, list)):
        return " x ".join(str(v) for v in value) if value else "none"
    return "none" if value is None else str(value)


def regimes_markdown(results):
    """The table of every resolved hyper-parameter per regime."""
    settings = results.settings
    regimes = [r for r in results.regimes if r in settings]
    if not regimes:
        return []
    names = list(dict.fromkeys(k for r in regimes for k in settings[r]["params"]))
    lines = ["| hyper-parameter | " + " | ".join(regimes) + " |",
             "|---|" + "---|" * len(regimes)]
    for name in names:
        lines.append(f"| `{name}` | " + " | ".join(
            _setting_text(settings[r]["params"].get(name, "default")) for r in regimes) + " |")
    if "max_epochs" in settings[regimes[0]]:
        lines.append("| epochs | " + " | ".join(
            str(settings[r]["max_epochs"]) if settings[r]["patience"] is None
            else f"at most {settings[r]['max_epochs']}" for r in regimes) + " |")
        lines.append("| stopping rule | " + " | ".join(
            "none (fixed epochs)" if settings[r]["patience"] is None else
            f"training loss not {settings[r]['threshold']:g} below its best for "
            f"{settings[r]['patience']} epochs" for r in regimes) + " |")
    return ["## Training regimes", "",
            f"Every fit of model `{results.config.model}` in each regime, as resolved (the "
            "regime's values with any explicit --hidden, --dropout, --weight-decay, --epochs "
            "override; also in config.json). The stopping rule reads the training loss on the "
            "fit's own targets only; the held-out fold is never used to stop or select a "
            "model.", "", "\n".join(lines), ""]


#: a model interpolates its training targets when, on its training rows, its most probable
#: class agrees with theirs at least this often and its KL from them is at most this (nats)
INTERPOLATION = {"accuracy": 0.99, "kl": 0.05}


def _interpolation_sentence(regime, tr):
    mean = tr["mean"]
    parts = []
    if "train_gold_accuracy" in mean:
        acc = mean["train_gold_accuracy"]
        own = mean.get("train_own_accuracy")
        txt = (f"training accuracy against gold {acc.min():.3f}-{acc.max():.3f} over the "
               f"sources")
        if own is not None:
            txt += (f", against each fit's own targets (their most probable class) "
                    f"{own.min():.3f}-{own.max():.3f}")
        parts.append(txt)
    if "train_own_kl" in mean:
        kl = mean["train_own_kl"]
        parts.append(f"KL from the own targets to the model on the training rows "
                     f"{kl.min():.3f}-{kl.max():.3f} nats")
    verdict = ""
    if "train_own_accuracy" in mean and "train_own_kl" in mean:
        fits = (mean["train_own_accuracy"] >= INTERPOLATION["accuracy"]) \
            & (mean["train_own_kl"] <= INTERPOLATION["kl"])
        n, k = len(fits), int(fits.sum())
        verdict = (" **All sources' models interpolate** their training targets" if k == n else
                   " **No source's models interpolate** their training targets" if k == 0 else
                   f" The models of {k} of {n} sources interpolate their training targets "
                   f"({', '.join(source_label(s) for s in fits.index[fits])})")
        verdict += (f" (criterion: own-target accuracy >= {INTERPOLATION['accuracy']} and KL "
                    f"<= {INTERPOLATION['kl']} nats on the training rows).")
    return f"**{regime}**: " + "; ".join(parts) + "." + verdict


def training_markdown(results, tables):
    """How closely each regime's models fit their training rows, and how training ended."""
    if "training" not in tables or tables["training"].empty:
        return []
    tr_all = tables["training"]
    parts = ["## How closely the models fit their training rows", "",
             "Measured on the rows each fit's weights were trained on (without the validation "
             "split that a regularised network keeps for its validation curve). "
             "`train_own_*`: against the fit's own targets (built by its label source; "
             "accuracy = agreement with their most probable class; `train_own_kl` is 0 when "
             "soft targets are reproduced exactly); `train_gold_*`: against gold. `epochs`: "
             "epochs trained (L-BFGS iterations for logreg); `converged`: fraction of fits "
             "stopped by the regime's rule before the cap (n/a: fixed epochs).", ""]
    for regime in results.regimes:
        if regime not in tr_all.index.get_level_values(0):
            continue
        tr = {k: tr_all[k].loc[regime] for k in ("mean", "std")}
        cap = results.settings.get(regime, {}).get("max_epochs")
        parts += [_interpolation_sentence(regime, tr), ""]
        df = results.regime_view(regime).results
        sel = df["metric"].isin(["epochs", "converged"])
        fits = df[sel].pivot_table(index=["source", "seed", "fold"], columns="metric",
                                   values="value", dropna=False)
        if "converged" in fits and fits["converged"].notna().any():
            conv = fits["converged"].dropna()
            k, n = int(conv.sum()), len(conv)
            if cap is None:
                head, unit = ("L-BFGS converged before its iteration cap in "
                              f"{k} of {n} fits"), "L-BFGS iterations"
            else:
                head, unit = (f"The training-loss rule stopped {k} of {n} fits before the cap "
                              f"of {cap} epochs ({n - k} reached it)"), "epochs trained"
            parts += [f"{head}; {unit}: median {fits['epochs'].median():.0f}, range "
                      f"{fits['epochs'].min():.0f}-{fits['epochs'].max():.0f}.", ""]
        parts += [_fmt_table_generic(tr["mean"], tr["std"]), ""]
    return parts


def dynamics_markdown(view, tables):
    """Held-out metrics at the checkpoint epochs of one regime (mean ± std over seeds)."""
    ck = tables.get("checkpoints")
    if ck is None or ck.empty:
        return []
    parts = ["### Convergence dynamics on the held-out fold", "",
             "The held-out fold evaluated at checkpoint epochs, for reporting only (never to "
             "stop or select a model): mean ± std over seeds (of the fold means), so the "
             "± is the seed-to-seed spread at that epoch. `churn`: fraction of held-out items "
             "whose predicted class changed since the epoch before. A fit that stopped before a "
             "checkpoint counts there with its final model (churn 0); `final`: each fit's last "
             "epoch. Full data: dynamics.csv; figure: figures/<regime>/dynamics.png.", ""]
    epochs = [e for e in ck["epoch"].unique() if e != "final"]
    cols = sorted(epochs) + (["final"] if (ck["epoch"] == "final").any() else [])
    order = present_in(view.config.sources, ck["source"])
    for metric in DYNAMICS_METRICS:
        sub = ck[ck["metric"] == metric]
        if sub.empty:
            continue
        m = sub.pivot(index="source", columns="epoch", values="mean").reindex(
            index=order, columns=cols)
        sd = sub.pivot(index="source", columns="epoch", values="std").reindex(
            index=order, columns=cols)
        m.columns = sd.columns = [f"epoch {c}" if c != "final" else "final" for c in cols]
        parts += [f"**{metric}**", "", _fmt_table_generic(m, sd), ""]
    return parts


def _regime_markdown(view, tables):
    """The sections of one regime (the body of a single-regime summary)."""
    cfg = view.config
    intervals = tables.get("intervals")
    parts = [
        "### Accuracy, calibration and fit to human labels",
        "",
        _fmt_table(tables["mean"], tables["std"], MAIN_METRICS,
                   holding_marks(intervals)),
        "",
    ]
    parts += recalibration_markdown(view, intervals)
    parts += cost_benefit_markdown(intervals, view.variant_table, cfg.difficulty_bins)
    if intervals is not None:
        parts += [differences_markdown(intervals, cfg.sources, heading="###"), ""]
    by_bin = tables["by_bin"]
    if intervals is not None and not by_bin.empty:
        parts += ["### Per difficulty bin (bins of human entropy on the evaluation items; "
                  "0 = easiest)", "", bins_markdown(intervals, cfg.sources), ""]
    elif not by_bin.empty:
        parts += ["### Per difficulty bin (bins of human entropy on the evaluation items; "
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
    parts += calibration_markdown(tables, intervals, cfg.sources)
    st = tables["stability"]
    parts += ["### Convergence stability across seeds", "",
              "`prediction_churn`: mean fraction of items whose predicted class changes between "
              "two seeds (out-of-fold predictions); `valid_loss_curve_spread`: std across seeds "
              "of the per-epoch validation loss, averaged over epochs and folds (networks with "
              "a validation split only); `std_*`: std across seeds of the metric.", "",
              _fmt_table_generic(st, None), ""]
    if intervals is not None:
        parts += [stability_markdown(intervals, cfg.sources), ""]
    parts += dynamics_markdown(view, tables)
    carto = [m for m in CARTOGRAPHY_METRICS.values() if m in tables["mean"].columns]
    if carto:
        parts += ["### Dataset cartography vs human uncertainty", "",
                  "Spearman correlation, over training items, between the network's confidence "
                  "in the gold label (mean over epochs) or its variability (std over epochs) and "
                  "the human entropy of the item. A model that mirrors human uncertainty is less "
                  "confident (negative first column) and more variable (positive second column) "
                  "on the items people disagree on.", "",
                  _fmt_table(tables["mean"], tables["std"], carto), ""]
    return parts


def calibration_markdown(tables, intervals, order):
    """The section "Calibration beyond binned ECE": binned, debiased and smooth ECE and the
    CORP decompositions against gold, overall and in the hardest difficulty bin."""
    mean, std = tables["mean"], tables["std"]
    present = [m for m in CALIBRATION_METRICS if m in mean.columns]
    if len(present) <= 1:
        return []
    parts = ["### Calibration beyond binned ECE", "",
             "Against gold. `gold_debiased_ece`: the debiased L2 calibration error (Kumar, "
             "Liang & Ma 2019; per bin the squared gap less the variance of the bin's mean "
             "accuracy; far less inflated by small bins, so the one to compare, with the "
             "study's intervals -- `*`: the difference against gold holds). "
             "`gold_smooth_ece`: the kernel-smoothed ECE without bins (Błasiok & Nakkiran "
             "2024). `*_mcb` / `*_dsc`: miscalibration and discrimination of the CORP "
             "decomposition of the Brier and log scores (Dimitriadis, Gneiting & Jordan "
             "2021; score = MCB - DSC + UNC; MCB is what an isotonic recalibration would "
             "remove). The smooth ECE and the decompositions refit a bandwidth or an isotonic "
             "map, which does not merge across a bootstrap's resamples: they are mean ± std "
             "over seeds only.", "",
             _fmt_table(mean, std, present, holding_marks(intervals)), ""]
    by_bin = tables.get("by_bin")
    if by_bin is not None and not by_bin.empty:
        hardest = by_bin["bin"].max()
        sub = by_bin[(by_bin["bin"] == hardest) & by_bin["metric"].isin(present)]
        if not sub.empty:
            m = sub.pivot(index="source", columns="metric", values="mean")
            sd = sub.pivot(index="source", columns="metric", values="std")
            idx = [x for x in order if x in m.index] + [x for x in m.index if x not in order]
            cols = [c for c in present if c in m.columns]
            m, sd = m.reindex(idx)[cols], sd.reindex(idx)[cols]
            parts += [f"Hardest difficulty bin ({hardest}):", "", _fmt_table(m, sd, cols), ""]
    return parts


def summary_markdown(results, tables):
    """The text of summary.md from the tables of :func:`summarize`."""
    cfg = results.config
    regimes = [r for r in results.regimes if r in tables["mean"].index.get_level_values(0)]
    n_fits = results.n_model_fits()
    n_outputs = len(results.fits)
    parts = [
        f"# sksoft study: {results.data_info['name']}",
        "",
        f"{results.data_info['n_items']} items, {results.data_info['n_classes']} classes; model "
        f"`{cfg.model}` in {len(regimes)} training regime{'s' if len(regimes) > 1 else ''} "
        f"({', '.join(regimes)}); {cfg.seeds} seeds x {cfg.folds}-fold stratified CV; "
        f"{n_fits} fits" + (f" ({n_outputs} evaluated outputs with the recalibrated ones)"
                            if n_outputs > n_fits else "")
        + ("" if results.complete else " (**interrupted: partial results**)") + ".",
        "Every metric is computed on held-out folds, averaged over folds within a seed, then "
        "reported as mean ± std over seeds, separately for each regime. `gold_*`: against "
        "the gold labels; `plurality_accuracy`: agreement with the human plurality; `human_*`: "
        "against the human label distributions (ECE with soft accuracy); `entropy_correlation`: "
        "Spearman correlation of model and human entropy per item."
        + (f" `{HOLDS}`: the difference against gold holds up (its interval excludes 0, see "
           "each regime's differences)." if tables.get("intervals") is not None else ""),
        "",
    ]
    parts += regimes_markdown(results)
    parts += training_markdown(results, tables)
    for regime in regimes:
        parts += [f"## Regime: {regime}", ""]
        parts += _regime_markdown(results.regime_view(regime), regime_tables(tables, regime))
    if results.has_axes:
        parts[4:4] = ["", _axes_note(results)]
    parts += ["## Files", "",
              ("`results.csv` (tidy: regime, source, calibrator, annotators, human_fraction, "
               "allocate, annotations_used, seed, fold, bin, metric, value), "
               if results.has_axes else
               "`results.csv` (tidy: regime, source, seed, fold, bin, metric, value), ")
              + ("`differences.csv` (the paired differences with their intervals), "
                 if tables.get("intervals") is not None else "")
              + "`dynamics.csv` (held-out metrics at the checkpoint epochs), `curves.csv`, "
              "`config.json`, `figures/<regime>/*.png`, "
              "`cartography/<regime>/<source>/training_dynamics/` (allenai/cartography jsonl).",
              ""]
    return "\n".join(parts)


def _axes_note(results):
    """How to read the variants of a run with the recalibration or budget axes."""
    cfg = results.config
    return (
        "Rows are **variants**: a source, then `+ calibrator` when its predictions were "
        "recalibrated (`(human)`: fitted to human labels; `selected`: the calibrator chosen on "
        "the calibration split, see each regime's recalibration section), then `@ budget` when "
        "it saw fewer human labels than all (`k=3`: 3 votes per item, drawn once per seed and "
        "nested in k; `25% random` / `25% uncertain`: the fraction of training items with "
        "human labels, the others gold one-hot, chosen at random or where a cross-fitted "
        "gold-trained model is least sure). "
        + (f"Recalibrators are fitted on a {100 * cfg.calibration_fraction:g}% calibration "
           "split of each training fold (the model trains on the rest; with them every source's "
           "model sees that much less data than in a study without recalibrators). "
           if len(cfg.calibrators) > 1 else "")
        + "Evaluation always uses every vote of the test items. Every variant of a (seed, "
        "fold) shares its split, so all of them are paired in the differences.")


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
        lines.append(f"| {source_label(src)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: the heading of summary.md's timing footer (machine-dependent: the regression check of
#: benchmarks/check_study_regression.py leaves out everything from it to the end)
TIMING_HEADING = "## Timing"
#: the stages of config.json's ``timing``, in the footer's order
TIMING_STAGES = ("plan", "fits", "analysis", "figures", "writing")


def timing_markdown(timing):
    """The summary's footer: the wall-clock seconds of each stage of the run (``timing``, as
    in config.json) and the share of the whole after the last fit."""
    stages = [s for s in TIMING_STAGES if s in timing]
    total = sum(timing[s] for s in stages)
    after = sum(timing[s] for s in ("analysis", "figures", "writing") if s in timing)
    cells = ", ".join(f"{s} {timing[s]:.1f} s" for s in stages)
    share = f"; after the last fit: {after:.1f} s ({100 * after / total:.0f}% of {total:.1f} s)" \
        if total > 0 else ""
    return (f"\n{TIMING_HEADING}\n\n<!-- machine-dependent wall-clock seconds: not part of the "
            f"study's results -->\nWall-clock seconds of each stage: {cells}{share}.\n")
