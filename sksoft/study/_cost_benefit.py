"""The answer of the recalibration and annotation-budget axes, in summary.md: gold + the
selected recalibrator vs human soft labels (the headline), and the cost-benefit section.

The numbers come from the study's paired bootstrap (:func:`._differences.study_intervals`,
the variants as arms): levels and paired differences with intervals; nothing here
resamples.

**Which synthetic alternative is "best"**: the zero-cost variant (no human annotation: gold,
label smoothing, teacher, ..., raw or recalibrated to gold) with the best mean on the test
folds -- a choice made on the test folds. A human-labelled variant is therefore said to beat
it only when it beats **every** zero-cost variant, each by a paired interval that excludes 0
in the better direction: an intersection-union test, valid at the intervals' level without a
correction for the choice (beating the best alternative is the same event).
"""

import numpy as np

from ._differences_report import HOLDS, difference_sentences, fmt_interval
from ._recalibrate import SELECTED
from ._vocabulary import (
    HIGHER_IS_BETTER,
    METRICS,
    calibrator_name,
    present_in,
    source_label,
    variant_name,
)

__all__ = ["COST_METRICS", "HEADLINE_METRICS", "cost_metrics", "cost_benefit_table",
           "cost_benefit_markdown", "recalibration_markdown", "budget_label", "metric_title"]

#: (metric, bin) of the cost-benefit section; "hardest" is the last difficulty bin; metrics
#: absent from the study's METRICS (a debiased ECE) are left out
COST_METRICS = (("gold_nll", "all"), ("gold_ece", "all"), ("gold_debiased_ece", "all"),
                ("gold_ece", "hardest"), ("human_kl", "all"), ("entropy_correlation", "all"))
#: the metrics of the headline comparison, overall and per difficulty bin
HEADLINE_METRICS = ("gold_nll", "gold_ece", "human_kl", "entropy_correlation", "gold_accuracy")


def cost_metrics(n_difficulty_bins):
    """:data:`COST_METRICS` with "hardest" resolved to the last bin, for the metrics the study
    computes."""
    out = []
    for metric, b in COST_METRICS:
        if metric not in METRICS:
            continue
        out.append((metric, n_difficulty_bins - 1 if b == "hardest" else "all"))
    return out


def metric_title(metric, bin_):
    """``gold_ece`` or ``gold_ece (hardest bin, 2)``."""
    return metric if str(bin_) == "all" else f"{metric} (hardest bin, {bin_})"


def budget_label(row):
    """The annotation budget of a variant (a row of the variants table) in words."""
    k = str(row["annotators"])
    parts = ["every vote" if k == "all" else f"k={k}"]
    f = float(row["human_fraction"])
    if 0 < f < 1:
        parts.append(f"{100 * f:g}% of items ({row['allocate']})")
    return ", ".join(parts)


def _family(row):
    """The curve a variant belongs to: its source and calibrator."""
    return variant_name(row["source"], row["calibrator"])


def _annotator_rank(k):
    return float("inf") if str(k) == "all" else float(k)


def _select(df, **eq):
    for k, v in eq.items():
        df = df[df[k].astype(str) == str(v)] if k == "bin" else df[df[k] == v]
    return df


def cost_benefit_table(intervals, variants, metric, bin_):
    """One metric's cost-benefit rows: every variant with its cost and value [interval], and
    for the human-labelled ones (cost > 0) the difference to the best zero-cost variant and
    whether they beat every zero-cost variant (see the module docstring).

    Returns
    -------
    (rows, best) : list of dict, str or None
        ``rows`` in the variants' order (variant, family, cost, synthetic, value, low, high,
        and for costed variants diff, diff_low, diff_high, beats_all); ``best`` the best
        zero-cost variant.
    """
    lv = _select(intervals["levels"], metric=metric, bin=bin_).set_index("source")
    d = _select(intervals["differences"], metric=metric, bin=bin_)
    higher = metric in HIGHER_IS_BETTER
    synthetic = [v for v, r in variants.iterrows()
                 if r["annotations_used"] == 0 and v in lv.index]
    vals = {v: float(lv.loc[v, "value"]) for v in synthetic
            if np.isfinite(float(lv.loc[v, "value"]))}
    best = (max if higher else min)(vals, key=vals.get) if vals else None
    rows = []
    for v, r in variants.iterrows():
        if v not in lv.index:
            continue
        row = {"variant": v, "family": _family(r), "cost": float(r["annotations_used"]),
               "synthetic": v in synthetic, "budget": budget_label(r),
               **{k: float(lv.loc[v, k]) for k in ("value", "low", "high")}}
        if not row["synthetic"] and synthetic:
            mine = d[d["source"] == v].set_index("reference")
            wins = [s in mine.index and bool(mine.loc[s, "holds"])
                    and mine.loc[s, "better"] == "better" for s in synthetic]
            row["beats_all"] = bool(all(wins))
            if best is not None and best in mine.index:
                row.update(diff=float(mine.loc[best, "difference"]),
                           diff_low=float(mine.loc[best, "low"]),
                           diff_high=float(mine.loc[best, "high"]))
        rows.append(row)
    return rows, best


def _cost_text(cost):
    return "n/a" if not np.isfinite(cost) else f"{cost:,.0f}"


def _family_sentence(family, rows, best, metric):
    rows = sorted(rows, key=lambda r: (r["cost"] if np.isfinite(r["cost"]) else np.inf))
    wins = [r for r in rows if r.get("beats_all")]
    label = f"**{source_label(family)}**"
    if wins:
        first = wins[0]
        more = [r["budget"] for r in wins[1:]]
        lost = [r["budget"] for r in rows if not r.get("beats_all")
                and r["cost"] > first["cost"]]
        # "from ... on" only when every larger budget wins too; else the smallest winning
        # budget is named as the first (and the larger losing ones follow)
        where = (f"only at its largest budget, {first['budget']}" if first is rows[-1]
                 else f"first at {first['budget']}" if lost
                 else f"from {first['budget']} on")
        diff = fmt_interval(first.get("diff", np.nan), first.get("diff_low", np.nan),
                            first.get("diff_high", np.nan))
        text = (f"- {label} beats every zero-cost alternative on `{metric}` {where} "
                f"({_cost_text(first['cost'])} annotations per fit): {diff} against the best, "
                f"{source_label(best)}")
        if more:
            text += f"; also at {', '.join(more)}"
        if lost:
            text += f"; but not at {', '.join(lost)}"
        return text + "."
    last = rows[-1]
    return (f"- {label} never beats every zero-cost alternative on `{metric}` within the "
            f"budgets tried; at its largest ({last['budget']}, {_cost_text(last['cost'])} "
            f"annotations per fit) its difference to the best, {source_label(best)}, is "
            f"{fmt_interval(last.get('diff', np.nan), last.get('diff_low', np.nan), last.get('diff_high', np.nan))}.")


def cost_benefit_markdown(intervals, variants, n_difficulty_bins, heading="###"):
    """The "Cost–benefit" section of one regime (empty when no variant used annotations)."""
    if intervals is None or variants is None or variants.empty:
        return []
    costed = variants[variants["annotations_used"] != 0]
    free = variants[variants["annotations_used"] == 0]
    if costed.empty or free.empty:
        return []
    conf = f"{100 * intervals['confidence']:g}%"
    ks = sorted({str(k) for k in costed["annotators"]}, key=lambda k: (k == "all", k.zfill(9)))
    fractions = sorted({float(f) for f in costed["human_fraction"] if float(f) > 0})
    parts = [
        f"{heading} Cost–benefit: when do human labels pay?", "",
        "Cost = the human annotations a fit used (mean per fit): the votes kept for its "
        "human-labelled training rows (k per item, every vote with `all`), plus, for a "
        "recalibrator fitted to human labels, those of its calibration rows. Budgets tried: "
        f"votes per item {', '.join(ks)}; fraction of training items with human labels "
        f"{', '.join(f'{f:g}' for f in fractions)}. Evaluation against humans always uses every "
        "vote of the test items.",
        "",
        "Zero-cost (synthetic) alternatives: " + ", ".join(source_label(v) for v in free.index)
        + f". The best of them is the one with the best mean on the test folds (a choice made "
        "on the test folds), so a human-labelled variant counts as beating it only when it beats "
        f"**every** zero-cost alternative, each by a paired {conf} interval that excludes 0 "
        "(an intersection-union test: valid at that level without a correction for the "
        f"choice). `{HOLDS}`: beats every zero-cost alternative. Figure: "
        "figures/<regime>/cost_benefit.png.",
        ""]
    for metric, b in cost_metrics(n_difficulty_bins):
        rows, best = cost_benefit_table(intervals, variants, metric, b)
        if not rows or best is None:
            continue
        better = "higher" if metric in HIGHER_IS_BETTER else "lower"
        title = metric_title(metric, b)
        parts += [f"**{title}** ({better} is better; best zero-cost alternative: "
                  f"{source_label(best)})", "",
                  "| variant | budget | annotations / fit | value | vs best zero-cost |",
                  "|---|---|---|---|---|"]
        for r in rows:
            diff = "" if r["synthetic"] else fmt_interval(
                r.get("diff", np.nan), r.get("diff_low", np.nan), r.get("diff_high", np.nan)) \
                + (f" {HOLDS}" if r.get("beats_all") else "")
            budget = "none" if r["synthetic"] else r["budget"]
            parts.append(f"| {source_label(r['variant'])} | {budget} | {_cost_text(r['cost'])} | "
                         f"{fmt_interval(r['value'], r['low'], r['high'])} | {diff} |")
        parts.append("")
        families = {}
        for r in rows:
            if not r["synthetic"]:
                families.setdefault(r["family"], []).append(r)
        parts += [_family_sentence(f, rs, best, title) for f, rs in families.items()] + [""]
    return parts


def _selection_text(selections, variants):
    """"gold: temperature 9 of 10, none 1" per selected variant."""
    out = []
    by = {}
    for s in selections:
        by.setdefault(s["variant"], []).append(s["chosen"])
    for v in [v for v in variants.index if v in by]:
        chosen = by[v]
        counts = {c: chosen.count(c) for c in dict.fromkeys(chosen)}
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        out.append(f"{source_label(v)}: " + ", ".join(f"{c} {n} of {len(chosen)}"
                                                     for c, n in ranked))
    return out


def recalibration_markdown(view, intervals, heading="###"):
    """The headline of the recalibration axis in one regime: gold + the selected recalibrator
    against human soft labels raw and recalibrated, overall and per difficulty bin, with the
    paired differences (empty without recalibrators)."""
    variants = view.variant_table
    cfg = view.config
    if intervals is None or variants is None or variants.empty or len(cfg.calibrators) < 2:
        return []
    target = "gold" if "gold" in cfg.calibrate_to else "human"
    ref = variant_name("gold", calibrator_name(SELECTED, target))
    d = intervals["differences"]
    d = d[d["reference"] == ref]
    if ref not in variants.index or d.empty:
        return []
    # the human side at the largest budget tried (most votes per item, largest fraction):
    # human-labelled sources, and recalibrators fitted to human labels, raw and recalibrated
    costed = variants[(variants["annotations_used"] != 0) & (variants.index != ref)]
    if costed.empty:
        return []
    k_max = max(costed["annotators"], key=_annotator_rank)
    top = costed[costed["annotators"].astype(str) == str(k_max)]
    f_max = top["human_fraction"].astype(float).max()
    top = top[top["human_fraction"].astype(float).isin([0.0, f_max])]
    sides = list(top.index)
    if not sides:
        return []
    cals = [c for c in cfg.calibrators if c != "none"]
    conf = f"{100 * intervals['confidence']:g}%"
    frac = f"{100 * cfg.calibration_fraction:g}%"
    parts = [
        f"{heading} Gold + the best calibrator vs human soft labels", "",
        f"Every recalibrator ({', '.join(cals)}; fitted to "
        f"{' and to '.join(cfg.calibrate_to)} labels) is fitted on a calibration split of "
        f"{frac} of each training fold (stratified, seeded per fit; the model trains on the "
        "rest, the test fold is never used) and every output is evaluated like the raw model "
        "(all of them are in the tables of this regime). **Best calibrator** = `selected`: per "
        "fit, the candidate among none and the recalibrators with the lowest cross-entropy to "
        "the calibration target, each recalibrator scored out of fold (3 folds) on the "
        "calibration split alone -- chosen without the test fold. Chosen: "
        + "; ".join(_selection_text(view.selections, variants)) + ".",
        "",
        f"Paired differences (variant − {source_label(ref)}) with {conf} intervals from the "
        f"study's bootstrap, for the human-labelled variants at the largest budget tried "
        f"({budget_label(top.iloc[0])}; the others are in the cost-benefit section); "
        f"`{HOLDS}`: the interval excludes 0.", ""]
    bins = ["all"] + sorted({int(b) for b in d["bin"] if str(b) != "all"})
    for metric in present_in(HEADLINE_METRICS, d["metric"]):
        dm = d[d["metric"] == metric]
        better = "higher" if metric in HIGHER_IS_BETTER else "lower"
        parts += [f"**{metric}** ({better} is better)", "",
                  "| variant | " + " | ".join("overall" if b == "all" else f"bin {b}"
                                              for b in bins) + " |",
                  "|---|" + "---|" * len(bins)]
        for v in sides:
            cells = []
            for b in bins:
                r = _select(dm[dm["source"] == v], bin=b)
                if r.empty:
                    cells.append("n/a")
                    continue
                r = r.iloc[0]
                cells.append(fmt_interval(r["difference"], r["low"], r["high"])
                             + (f" {HOLDS}" if r["holds"] else ""))
            parts.append(f"| {source_label(v)} | " + " | ".join(cells) + " |")
        parts.append("")
    overall = d[d["bin"].astype(str) == "all"]
    parts += ["Overall:", "", *difference_sentences(overall, ref, sides, HEADLINE_METRICS), ""]
    hard = bins[-1]
    if hard != "all":
        parts += [f"Hardest difficulty bin ({hard}):", "",
                  *difference_sentences(d[d["bin"].astype(str) == str(hard)], ref, sides,
                                        HEADLINE_METRICS), ""]
    return parts
